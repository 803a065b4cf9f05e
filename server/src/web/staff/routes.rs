//! The staff pages' route table. Every staff handler is registered through
//! [`Routes`], and nothing else under `/staff` is: the feature modules get a
//! `Routes`, never actix-web's `ServiceConfig`. The same table lists what it
//! registers ([`table`]), so the authorisation matrix in
//! `tests/tests/staff.rs` takes its routes from the application and fails
//! on any route it does not try with every role.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::middleware::Compress;
use actix_web::{FromRequest, Handler, Responder, guard, web};

/// Where the staff pages are mounted (`startup`).
pub const SCOPE: &str = "/staff";

/// One route under `/staff`: its method and its full pattern, such as
/// `GET /staff/cpps/{id}/releases`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRoute {
    pub method: Method,
    pub pattern: String,
}

impl StaffRoute {
    /// Whether this route serves `path` (a query string is ignored), matched
    /// as actix-web matches it.
    pub fn matches(&self, path: &str) -> bool {
        let path = path.split_once('?').map_or(path, |(path, _)| path);
        ResourceDef::new(self.pattern.as_str()).is_match(path)
    }
}

impl std::fmt::Display for StaffRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.pattern)
    }
}

/// Registers staff routes and lists them. Each route is one resource with a
/// method guard, as actix-web's `#[get]` and `#[post]` make them.
pub struct Routes<'a> {
    cfg: Option<&'a mut web::ServiceConfig>,
    listed: Vec<StaffRoute>,
}

impl<'a> Routes<'a> {
    /// Registers on `cfg`, which is mounted at [`SCOPE`].
    pub(super) fn registering(cfg: &'a mut web::ServiceConfig) -> Self {
        Self {
            cfg: Some(cfg),
            listed: Vec::new(),
        }
    }

    /// Only lists.
    fn listing() -> Self {
        Self {
            cfg: None,
            listed: Vec::new(),
        }
    }

    pub fn get<F, Args>(&mut self, pattern: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::GET, pattern, handler)
    }

    pub fn post<F, Args>(&mut self, pattern: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::POST, pattern, handler)
    }

    /// Lists a route and, when registering, serves it for `method` only.
    fn add<F, Args>(&mut self, method: Method, pattern: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.listed.push(route(method.clone(), pattern));
        if let Some(cfg) = self.cfg.as_deref_mut() {
            cfg.service(
                web::resource(pattern)
                    .guard(guard::Method(method))
                    .to(handler),
            );
        }
        self
    }

    /// A download that carries no secret, compressed for clients that accept
    /// it (see `startup` on why pages are not).
    pub fn get_compressed<F, Args>(&mut self, pattern: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.listed.push(route(Method::GET, pattern));
        if let Some(cfg) = self.cfg.as_deref_mut() {
            cfg.service(
                web::resource(pattern)
                    .guard(guard::Get())
                    .wrap(Compress::default())
                    .to(handler),
            );
        }
        self
    }
}

fn route(method: Method, pattern: &str) -> StaffRoute {
    StaffRoute {
        method,
        pattern: format!("{SCOPE}{pattern}"),
    }
}

/// Every route under `/staff`, as [`super::config`] registers them.
pub fn table() -> Vec<StaffRoute> {
    let mut routes = Routes::listing();
    super::routes(&mut routes);
    routes.listed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_each_route_once_under_staff() {
        let routes = table();
        assert!(routes.len() > 20, "only {} routes listed", routes.len());
        for (i, route) in routes.iter().enumerate() {
            assert!(route.pattern.starts_with("/staff"), "{route}");
            assert!(!routes[..i].contains(route), "{route} is registered twice");
        }
    }

    #[test]
    fn a_pattern_matches_concrete_paths_without_their_query() {
        let download = route(Method::GET, "/releases/{id}/{file}");
        assert!(download.matches("/staff/releases/4/frequencies.csv"));
        assert!(!download.matches("/staff/releases"));
        let home = route(Method::GET, "");
        assert!(home.matches("/staff"));
        assert!(!home.matches("/staff/login"));
        let reset = route(Method::GET, "/reset");
        assert!(reset.matches("/staff/reset?token=abc"));
    }
}
