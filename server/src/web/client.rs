//! The address a request came from, for failure budgets only (never stored).

use std::net::IpAddr;

use actix_web::HttpRequest;

/// The client's address: the peer's, or with `trust_proxy` the one the
/// proxy reports.
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> IpAddr {
    let from_proxy = trust_proxy
        .then(|| {
            req.connection_info()
                .realip_remote_addr()
                .map(str::to_owned)
        })
        .flatten()
        .and_then(|text| {
            text.parse::<IpAddr>()
                .ok()
                .or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        });
    from_proxy
        .or_else(|| req.peer_addr().map(|a| a.ip()))
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}
