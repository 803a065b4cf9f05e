//! Sittings: create one with fresh codes, add spare codes, void a lost code,
//! open a mop-up sitting, close one. The staff pages and the command line
//! call these same functions, so both apply the same limits and windows.
//!
//! Each action is one transaction that includes its audit entry: a sitting
//! is never stored without its codes, nor codes without the entry that says
//! who made them.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use survey_defs::Stage;

use super::Actor;
use super::partnerships;
use super::questionnaires::Catalogue;
use super::survey::{self, SurveyError};
use super::waves::{self, Wave};
use crate::domain::AccessCode;
use crate::secret::ServerSecret;
use crate::store::journey::Store;
use crate::store::pupil::Window;
use crate::store::schools::School;
use crate::store::sittings::{self, NewSitting, Sitting};
use crate::store::{self, Db, Json, Text};

/// Most codes made at once (a year group in one go).
pub const MAX_CODES: usize = 400;
/// Longest class label, in characters.
pub const MAX_LABEL: usize = 80;

/// Why a sitting action was refused. Each reads as a sentence for a person.
#[derive(Debug, thiserror::Error)]
pub enum SittingError {
    #[error("{0}")]
    Invalid(#[from] Problems),
    #[error("This sitting is closed: open a mop-up sitting instead.")]
    Closed,
    #[error(transparent)]
    Database(#[from] store::Error),
    #[error(transparent)]
    Survey(#[from] SurveyError),
}

/// A field of a sitting request and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub message: String,
}

/// Every problem found in a request, for the form's error summary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
pub struct Problems(pub Vec<Problem>);

/// A number of codes from 1 to [`MAX_CODES`], or the problem with it.
pub fn code_count(count: Option<usize>) -> Result<usize, Problem> {
    count
        .filter(|n| (1..=MAX_CODES).contains(n))
        .ok_or_else(|| Problem {
            field: "codes",
            message: format!("Enter a number of codes from 1 to {MAX_CODES}"),
        })
}

/// A request for a new sitting that passed every check.
#[derive(Debug, Clone)]
pub struct SittingRequest {
    pub stage: Stage,
    pub label: String,
    pub codes: usize,
    pub wave_id: i32,
    pub opens: Option<NaiveDate>,
    pub closes: Option<NaiveDate>,
}

/// What a person typed or passed for a new sitting, before checking.
#[derive(Debug, Clone)]
pub struct SittingInput {
    pub stage: Option<Stage>,
    pub label: String,
    pub codes: Option<usize>,
    pub wave_id: Option<i32>,
    pub opens: Result<Option<NaiveDate>, ()>,
    pub closes: Result<Option<NaiveDate>, ()>,
}

impl SittingRequest {
    /// Checks a request, reporting every problem at once.
    pub fn parse(input: SittingInput) -> Result<Self, Problems> {
        let mut problems = Vec::new();
        let mut problem = |field, message: &str| {
            problems.push(Problem {
                field,
                message: message.to_owned(),
            })
        };
        if input.stage.is_none() {
            problem("stage", "Select the stage of the class");
        }
        let label = input.label.trim().to_owned();
        if label.is_empty() {
            problem("label", "Enter a label for the class, such as P6 Room 4");
        } else if label.chars().count() > MAX_LABEL {
            problem("label", "The label must be 80 characters or fewer");
        }
        if input.wave_id.is_none() {
            problem("wave", "Select the survey wave");
        }
        if input.opens.is_err() {
            problem("opens", "The opening date must be a real date");
        }
        if input.closes.is_err() {
            problem("closes", "The closing date must be a real date");
        }
        let (opens, closes) = (input.opens.unwrap_or(None), input.closes.unwrap_or(None));
        if let (Some(o), Some(c)) = (opens, closes)
            && c < o
        {
            problem(
                "closes",
                "The closing date must be on or after the opening date",
            );
        }
        let codes = code_count(input.codes).map_err(|p| problems.push(p)).ok();
        match (input.stage, codes, input.wave_id) {
            (Some(stage), Some(codes), Some(wave_id)) if problems.is_empty() => {
                Ok(SittingRequest {
                    stage,
                    label,
                    codes,
                    wave_id,
                    opens,
                    closes,
                })
            }
            _ => Err(Problems(problems)),
        }
    }
}

/// The first moment of a day, in UTC.
pub fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

/// The first moment after a day, in UTC: a window closing on `date` includes it.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    start_of_day(date) + chrono::Duration::days(1)
}

/// The keyed hash under which a code is stored: HMAC-SHA256 with the server
/// secret, so the database alone cannot be searched for a code.
pub fn code_hash(secret: &ServerSecret, code: &AccessCode) -> String {
    hex::encode(secret.mac("access-code", code.canonical().as_bytes()))
}

/// Stores `count` fresh codes for a sitting and returns them, once, for
/// printing; only their keyed hashes are stored.
async fn add_codes(
    db: &impl store::ConnectionTrait,
    secret: &ServerSecret,
    sitting_id: i32,
    count: usize,
) -> Result<Vec<AccessCode>, store::Error> {
    let codes: Vec<AccessCode> = (0..count).map(|_| AccessCode::generate()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| code_hash(secret, c)).collect();
    sittings::add_codes(db, sitting_id, &hashes).await?;
    Ok(codes)
}

/// A problem with one field of a sitting request.
fn refused(field: &'static str, message: String) -> SittingError {
    SittingError::Invalid(Problems(vec![Problem { field, message }]))
}

/// The window a sitting of `wave` at `cpp_id` must keep to, if fieldwork
/// there has not ended by `today`.
async fn open_window(
    db: &Db,
    wave: &Wave,
    cpp_id: i32,
    today: NaiveDate,
) -> Result<waves::Window, SittingError> {
    let window = waves::window(db, wave.id, cpp_id).await?.ok_or_else(|| {
        refused(
            "wave",
            format!(
                "The wave {} has no fieldwork window for this partnership: an administrator sets one",
                wave.name
            ),
        )
    })?;
    if window.ended(today) {
        return Err(refused(
            "wave",
            format!(
                "Fieldwork for {} ended on {}: no new sittings can be made in it",
                wave.name, window.closes
            ),
        ));
    }
    Ok(window)
}

/// Creates a sitting at `school` with its codes (see [`create_with_codes`]),
/// in the wave the request names, inside that wave's fieldwork window for
/// the school's partnership: it opens when asked (not before the window
/// opens) and closes on the day asked, or at the window's end, never later.
/// It copies the partnership's module switches and signposting as they are
/// now.
pub async fn create(
    db: &Db,
    secret: &ServerSecret,
    actor: &Actor,
    school: &School,
    request: SittingRequest,
) -> Result<(Sitting, Vec<AccessCode>), SittingError> {
    let defaults = partnerships::settings(db, school.cpp_id).await?;
    let wave = waves::get(db, request.wave_id)
        .await?
        .ok_or_else(|| refused("wave", "Select the survey wave".into()))?;
    let today = Utc::now().date_naive();
    let window = open_window(db, &wave, school.cpp_id, today).await?;
    if let Some(opens) = request.opens
        && opens < window.opens
    {
        return Err(refused(
            "opens",
            format!(
                "The sitting cannot open before fieldwork opens on {}",
                window.opens
            ),
        ));
    }
    if let Some(closes) = request.closes
        && closes > window.closes
    {
        return Err(refused(
            "closes",
            format!(
                "The sitting must close by the end of fieldwork on {}",
                window.closes
            ),
        ));
    }
    let opens = request
        .opens
        .or((window.opens > today).then_some(window.opens));
    let closes = request.closes.unwrap_or(window.closes);
    let new = NewSitting {
        school_id: school.id,
        cpp_id: school.cpp_id,
        stage: Text(request.stage),
        label: request.label,
        questionnaire_version_id: wave.questionnaire_version_id,
        wave_id: wave.id,
        disabled_modules: Json(defaults.disabled_modules),
        signposting: Json(defaults.signposting),
        opens_at: opens.map(start_of_day),
        closes_at: Some(end_of_day(closes)),
        mop_up_of: None,
        created_by: actor.id(),
        is_demo: school.is_demo,
    };
    create_with_codes(db, secret, actor, new, request.codes).await
}

/// Stores a sitting exactly as given, with `count` fresh codes and the audit
/// entry, in one transaction. [`create`] and [`mop_up`] fill it in from a
/// request; the demo and test fixtures call it directly.
pub async fn create_with_codes(
    db: &Db,
    secret: &ServerSecret,
    actor: &Actor,
    new: NewSitting,
    count: usize,
) -> Result<(Sitting, Vec<AccessCode>), SittingError> {
    let tx = store::begin(db).await?;
    let sitting = sittings::create(&tx, new).await?;
    let codes = add_codes(&tx, secret, sitting.id, count).await?;
    let mop_up = sitting
        .mop_up_of
        .map_or(String::new(), |id| format!(", mop-up of sitting {id}"));
    actor
        .record(
            &tx,
            "sitting-created",
            &format!(
                "sitting {} at school {}, stage {}, {} codes{mop_up}",
                sitting.id,
                sitting.school_id,
                sitting.stage.0,
                codes.len()
            ),
        )
        .await?;
    tx.commit().await?;
    Ok((sitting, codes))
}

/// Adds spare codes to an open sitting.
pub async fn add_spares(
    db: &Db,
    secret: &ServerSecret,
    actor: &Actor,
    sitting: &Sitting,
    count: usize,
) -> Result<Vec<AccessCode>, SittingError> {
    if sitting.closed_at.is_some() {
        return Err(SittingError::Closed);
    }
    let count = code_count(Some(count)).map_err(|p| Problems(vec![p]))?;
    let tx = store::begin(db).await?;
    let codes = add_codes(&tx, secret, sitting.id, count).await?;
    actor
        .record(
            &tx,
            "codes-added",
            &format!("sitting {}, {} spare codes", sitting.id, codes.len()),
        )
        .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Opens a mop-up sitting for pupils who were absent: a new sitting with its
/// own codes, linked to `original`, in the same wave, with the same stage,
/// questionnaire, module switches, signposting and closing time (or, when
/// that has passed, the end of the wave's fieldwork window). Refused once
/// that window has ended.
pub async fn mop_up(
    db: &Db,
    secret: &ServerSecret,
    actor: &Actor,
    original: &Sitting,
    count: usize,
) -> Result<(Sitting, Vec<AccessCode>), SittingError> {
    let count = code_count(Some(count)).map_err(|p| Problems(vec![p]))?;
    let wave = waves::get(db, original.wave_id)
        .await?
        .ok_or_else(|| refused("wave", "This sitting's wave is missing".into()))?;
    let window = open_window(db, &wave, original.cpp_id, Utc::now().date_naive()).await?;
    let label: String = format!("{} (mop-up)", original.label)
        .chars()
        .take(100)
        .collect();
    let new = NewSitting {
        school_id: original.school_id,
        cpp_id: original.cpp_id,
        stage: original.stage,
        label,
        questionnaire_version_id: original.questionnaire_version_id,
        wave_id: original.wave_id,
        disabled_modules: original.disabled_modules.clone(),
        signposting: original.signposting.clone(),
        opens_at: None,
        closes_at: Some(
            original
                .closes_at
                .filter(|c| *c > Utc::now())
                .unwrap_or_else(|| end_of_day(window.closes))
                .min(end_of_day(window.closes)),
        ),
        mop_up_of: Some(original.id),
        created_by: actor.id(),
        is_demo: original.is_demo,
    };
    create_with_codes(db, secret, actor, new, count).await
}

/// Voids a lost code, if it is an unused code of this sitting. The audit log
/// records that a code was voided, never which. Returns whether it was.
pub async fn void_code(
    db: &Db,
    secret: &ServerSecret,
    actor: &Actor,
    sitting: &Sitting,
    code: &AccessCode,
) -> Result<bool, SittingError> {
    let tx = store::begin(db).await?;
    let voided = sittings::void_code(&tx, sitting.id, &code_hash(secret, code)).await?;
    if voided {
        actor
            .record(&tx, "code-voided", &format!("sitting {}", sitting.id))
            .await?;
    }
    tx.commit().await?;
    Ok(voided)
}

/// The most pupils a sitting may record as opted out: the school's roll
/// for the stage less those already recorded on its other sittings of that
/// stage in the wave, so the pupils opted out never outnumber the roll and
/// a rate's base never goes below nothing. A school with no roll for the
/// stage has no rate to correct, so the bound is the largest class a
/// sitting can have.
pub fn opted_out_limit(roll: i32, elsewhere: i64) -> i64 {
    if roll > 0 {
        (i64::from(roll) - elsewhere).max(0)
    } else {
        MAX_CODES as i64
    }
}

/// A count of opted-out pupils as typed: a whole number from 0 to `limit`,
/// or the problem with it, worded for the person who typed it.
pub fn opted_out_count(text: &str, limit: i64, stage: Stage, roll: i32) -> Result<i32, Problem> {
    let problem = |message: String| Problem {
        field: "opted_out",
        message,
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(problem(
            "Enter how many pupils were opted out, as a number such as 0 or 3".into(),
        ));
    }
    let Ok(count) = text.parse::<i64>() else {
        return Err(problem(format!(
            "Enter the number of pupils opted out as a whole number from 0 to {limit}, such as 0 or 3; \"{text}\" is not one"
        )));
    };
    if count < 0 {
        return Err(problem(
            "The number of pupils opted out cannot be less than 0".into(),
        ));
    }
    if count > limit {
        let why = if roll > 0 {
            format!(
                "the {stage} roll of {roll} less the pupils already recorded as opted out on the school's other {stage} sittings in this wave"
            )
        } else {
            "the most pupils a sitting can have".to_owned()
        };
        return Err(problem(format!(
            "The number of pupils opted out must be {limit} or fewer: {why}"
        )));
    }
    i32::try_from(count).map_err(|_| problem(format!("The number must be {limit} or fewer")))
}

/// Records how many pupils of a sitting's class their parents opted out
/// (a count, never names), with the audit entry. Checked against the
/// school's roll for the stage (see [`opted_out_limit`]). A mop-up sitting
/// is for the same class, so its count stays on the first sitting and is
/// never counted twice.
pub async fn set_opted_out(
    db: &Db,
    actor: &Actor,
    sitting: &Sitting,
    school: &School,
    typed: &str,
) -> Result<i32, SittingError> {
    if sitting.mop_up_of.is_some() {
        return Err(refused(
            "opted_out",
            "Record pupils opted out on the class's first sitting: a mop-up sitting is for the same class".into(),
        ));
    }
    let stage = sitting.stage.0;
    let roll = crate::store::schools::roll_of(school, stage);
    let tx = store::begin(db).await?;
    let elsewhere = sittings::opted_out_elsewhere(&tx, sitting).await?;
    let count = opted_out_count(typed, opted_out_limit(roll, elsewhere), stage, roll)
        .map_err(|p| Problems(vec![p]))?;
    sittings::set_opted_out(&tx, sitting.id, count).await?;
    actor
        .record(
            &tx,
            "opted-out-recorded",
            &format!(
                "sitting {}, {count} pupils opted out (was {})",
                sitting.id, sitting.opted_out
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(count)
}

/// What closing a sitting needs: ending a response may go through the
/// SQLite file's writer.
#[derive(Clone, Copy)]
pub struct Closer<'a> {
    pub db: &'a Db,
    pub store: &'a Store,
    pub catalogue: &'a Catalogue,
}

/// Closes a sitting: no code works any more, and every in-progress response
/// becomes a partial response with its link to its code cut. The sitting is
/// marked closed, with its audit entry, in one transaction; the responses
/// are ended after it, each in its own, since ending one is idempotent and a
/// retried close (or the sweep below) finishes what a failure left.
pub async fn close(
    closer: Closer<'_>,
    actor: &Actor,
    sitting_id: i32,
) -> Result<usize, SittingError> {
    let tx = store::begin(closer.db).await?;
    sittings::mark_closed(&tx, sitting_id).await?;
    actor
        .record(&tx, "sitting-closed", &format!("sitting {sitting_id}"))
        .await?;
    tx.commit().await?;
    Ok(survey::close_in_progress(closer.db, closer.store, closer.catalogue, sitting_id).await?)
}

/// Writes a batch of codes as CSV: one row per code, with its sitting, stage,
/// class and school, and no names. Every cell is safe to open in a
/// spreadsheet (a school or class named like a formula stays text).
pub fn write_codes_csv<W: std::io::Write>(
    out: W,
    sitting: &Sitting,
    school: &School,
    codes: &[AccessCode],
) -> csv::Result<W> {
    use exporter::spreadsheet::write_row;
    let mut writer = csv::Writer::from_writer(out);
    write_row(&mut writer, ["code", "sitting", "stage", "label", "school"])?;
    let id = sitting.id.to_string();
    let stage = sitting.stage.0.to_string();
    for code in codes {
        write_row(
            &mut writer,
            [
                code.grouped().as_str(),
                id.as_str(),
                stage.as_str(),
                sitting.label.as_str(),
                school.name.as_str(),
            ],
        )?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// Closes sittings whose close time has passed, once a minute, so answers in
/// progress when a window ends become partial responses and are unlinked
/// without anyone pressing Close. Safe to run on every server at once:
/// ending a response is idempotent.
pub fn spawn_closer(db: Db, store: Store, catalogue: std::sync::Arc<Catalogue>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let closer = Closer {
                db: &db,
                store: &store,
                catalogue: &catalogue,
            };
            if let Err(error) = close_due(closer).await {
                tracing::warn!(%error, "closing sittings whose window has ended failed; will retry");
            }
        }
    });
}

/// Closes every sitting whose close time has passed, then releases what
/// sittings still hold: everything a closed sitting holds, and a full batch
/// of an open one (left by a restart between a finish and its release).
/// Returns how many sittings it closed.
pub async fn close_due(closer: Closer<'_>) -> Result<usize, SittingError> {
    let now = Utc::now();
    let due = sittings::due_to_close(closer.db, now).await?;
    for id in &due {
        close(closer, &Actor::Server, *id).await?;
    }
    for sitting_id in closer.store.held_sittings().await? {
        let closed = match closer.store.sitting(sitting_id).await? {
            Some(sitting) => store::pupil::sitting_window(&sitting, now) == Window::Closed,
            None => false,
        };
        let min = if closed { 1 } else { closer.store.batch() };
        closer.store.release(sitting_id, min).await?;
    }
    Ok(due.len())
}

#[cfg(test)]
mod opted_out_tests {
    use super::*;

    #[test]
    fn the_limit_is_the_roll_less_what_other_sittings_recorded() {
        assert_eq!(opted_out_limit(30, 0), 30);
        assert_eq!(opted_out_limit(30, 28), 2);
        assert_eq!(opted_out_limit(30, 31), 0);
        assert_eq!(opted_out_limit(0, 5), MAX_CODES as i64);
    }

    #[test]
    fn a_whole_number_within_the_limit_is_taken() {
        assert_eq!(opted_out_count(" 3 ", 30, Stage::S2, 30), Ok(3));
        assert_eq!(opted_out_count("0", 0, Stage::S2, 30), Ok(0));
        assert_eq!(opted_out_count("30", 30, Stage::S2, 30), Ok(30));
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for (typed, says) in [
            ("", "Enter how many pupils"),
            ("two", "whole number from 0 to 30"),
            ("2.5", "whole number from 0 to 30"),
            ("-1", "cannot be less than 0"),
            ("31", "must be 30 or fewer: the S2 roll of 30"),
            ("99999999999999999999", "whole number"),
        ] {
            let problem = opted_out_count(typed, 30, Stage::S2, 30).unwrap_err();
            assert_eq!(problem.field, "opted_out");
            assert!(
                problem.message.contains(says),
                "{typed:?}: expected {says:?} in {:?}",
                problem.message
            );
        }
    }
}
