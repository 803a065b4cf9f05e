//! Each partnership's public accessibility statement and privacy notice,
//! from what it filled in on its settings page, and a page for each that
//! lists the partnerships, for a reader whose partnership is not known yet.

use actix_session::Session;
use actix_web::{HttpResponse, get, web};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::views::{Chrome, render};
use super::{PupilSession, Result, looks_like_gss};
use crate::services::partnerships;
use crate::state::AppState;
use crate::web::error::AppError;

/// The two notices every partnership publishes.
#[derive(Clone, Copy)]
enum Notice {
    Accessibility,
    Privacy,
}

impl Notice {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "accessibility" => Some(Notice::Accessibility),
            "privacy" => Some(Notice::Privacy),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Notice::Accessibility => "accessibility",
            Notice::Privacy => "privacy",
        }
    }
}

#[derive(Serialize)]
struct PartnershipLink {
    gss_code: String,
    name: String,
}

/// Which partnership's notice to read: every partnership's is listed, since
/// the reader's is known only once a code is typed.
async fn choose(state: &AppState, session: Session, notice: Notice) -> Result<HttpResponse> {
    let session = PupilSession(session);
    let partnerships: Vec<PartnershipLink> = partnerships::all(&state.db)
        .await?
        .into_iter()
        .filter(|cpp| !cpp.is_demo)
        .map(|cpp| PartnershipLink {
            gss_code: cpp.gss_code,
            name: cpp.name,
        })
        .collect();
    let here = format!("/{}", notice.as_str());
    let chrome = Chrome::new(state, &session, None, &here)?;
    render(
        "pupil/notice_choose.html",
        chrome.with(context! {
            notice => notice.as_str(),
            partnerships => Serde(partnerships),
        }),
    )
}

#[get("/accessibility")]
async fn accessibility_choose(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse> {
    choose(&state, session, Notice::Accessibility).await
}

#[get("/privacy")]
async fn privacy_choose(state: web::Data<AppState>, session: Session) -> Result<HttpResponse> {
    choose(&state, session, Notice::Privacy).await
}

/// A partnership's accessibility statement or privacy notice.
#[get("/partnerships/{gss}/{notice}")]
async fn partnership_notice(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (gss, notice) = path.into_inner();
    let notice = Notice::parse(&notice).ok_or(AppError::NotFound)?;
    if !looks_like_gss(&gss) {
        return Err(AppError::NotFound);
    }
    let cpp = partnerships::partnership_by_code(&state.db, &gss)
        .await?
        .ok_or(AppError::NotFound)?;
    let notices = partnerships::notices(&state.db, cpp.id).await?;
    let session = PupilSession(session);
    let here = format!("/partnerships/{}/{}", cpp.gss_code, notice.as_str());
    let chrome = Chrome::new(&state, &session, None, &here)?;
    render(
        &format!("pupil/{}.html", notice.as_str()),
        chrome.with(context! {
            partnership => context! { name => cpp.name, gss_code => cpp.gss_code },
            notices => Serde(&notices),
            compliance => notices.accessibility_status.map(|c| c.as_str()),
            prepared => notices.statement_prepared.map(|d| d.format("%-d %B %Y").to_string()),
        }),
    )
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(accessibility_choose)
        .service(privacy_choose)
        .service(partnership_notice);
}
