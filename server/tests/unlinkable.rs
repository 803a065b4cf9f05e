//! The attack on anonymity by the one who holds the database: the database
//! file with its write-ahead log (or the PostgreSQL cluster), a backup taken
//! after the sitting closed, the server secret, and the full printed code
//! list. Each test tries one way of pairing codes with responses and must do
//! no better than guessing.
//!
//! The pupils finish in the order of the code list, the attacker's best
//! case: an attacker who knows the order of finishing knows the order of
//! the codes. Every answer carries a marker unique to its pupil, so the
//! tests know the true pairing.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use server::domain::{AccessCode, Ending};
use server::services::Actor;
use server::services::sittings;
use server::state::AppState;
use server::store::entities::{access_code, response};
use server::store::pupil::{PageSave, Sitting};

/// Pupils who finish; one more is still answering when the sitting closes.
const FINISHING: usize = 41;

/// What happened in one sitting, as only the tests know it.
struct Fieldwork {
    sitting: Sitting,
    codes: Vec<AccessCode>,
    /// Each pupil's marker, in the order of the code list (and of finishing).
    markers: Vec<[u8; 16]>,
    /// The in-progress ids the codes pointed at while pupils answered.
    in_progress_ids: Vec<String>,
}

fn marker() -> [u8; 16] {
    *uuid::Uuid::new_v4().as_bytes()
}

async fn fieldwork(state: &AppState) -> Fieldwork {
    let (sitting, codes) = common::p6_sitting(state, "7718000", FINISHING + 3).await;
    let store = &state.store;
    let mut markers = Vec::new();
    let mut in_progress_ids = Vec::new();
    for (i, code) in codes.iter().take(FINISHING + 1).enumerate() {
        let (row, _) = store
            .find_code(&state.code_hash(code))
            .await
            .unwrap()
            .unwrap();
        let rid = store
            .start(row.id, sitting.id, "en")
            .await
            .unwrap()
            .unwrap();
        let mark = marker();
        store
            .save(PageSave {
                response_id: rid.clone(),
                page_key: "about_you".into(),
                answers: mark.to_vec(),
                seq: i as i64,
            })
            .await
            .unwrap();
        if i < FINISHING {
            let completed = common::completed(&sitting, mark.to_vec());
            assert!(
                store
                    .end(&rid, sitting.id, Ending::Finished, Some(completed))
                    .await
                    .unwrap()
            );
        }
        markers.push(mark);
        in_progress_ids.push(rid);
    }
    Fieldwork {
        sitting,
        codes,
        markers,
        in_progress_ids,
    }
}

/// Closes the sitting: the last pupil's answers become a partial response
/// and everything held is released.
async fn close(state: &AppState, work: &Fieldwork) {
    sittings::close(state.closer(), &Actor::Cli, work.sitting.id)
        .await
        .unwrap();
}

/// Whose marker `answers` holds.
fn owner(work: &Fieldwork, answers: &[u8]) -> Option<usize> {
    work.markers
        .iter()
        .position(|m| answers.windows(16).any(|w| w == m))
}

/// How many responses an attacker pairs correctly by taking the i-th code
/// of the list for the i-th response in `order` (markers' owners).
fn correct_by_order(order: &[usize]) -> usize {
    order
        .iter()
        .enumerate()
        .filter(|(i, owner)| i == *owner)
        .count()
}

/// The most pairs an attacker may get right by an order: guessing inside
/// each batch of five gets about one a batch (nine batches here), and
/// writing rows in finishing order would get all of them right. Half is
/// more than five standard deviations above guessing.
const BY_CHANCE_AT_MOST: usize = FINISHING / 2;

fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

#[tokio::test]
async fn no_code_records_how_its_response_ended() {
    let (state, _dir) = common::prepared_state().await;
    let work = fieldwork(&state).await;
    close(&state, &work).await;
    let mut states = BTreeSet::new();
    for code in &work.codes[..=FINISHING] {
        let hash = state.code_hash(code);
        let row = access_code::Entity::find()
            .all(&state.db)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.code_hash == hash)
            .unwrap();
        assert_eq!(row.response_id, None);
        states.insert(row.state.0.as_str());
    }
    assert_eq!(
        states,
        BTreeSet::from(["used"]),
        "finished and cut-off pupils' codes must look the same"
    );
    let responses = response::Entity::find().all(&state.db).await.unwrap();
    assert_eq!(responses.len(), FINISHING + 1);
    assert_eq!(responses.iter().filter(|r| r.partial).count(), 1);
    let weeks: BTreeSet<_> = responses.iter().map(|r| r.completed_on).collect();
    assert_eq!(weeks.len(), 1, "every response carries the same week");
}

#[tokio::test]
async fn the_order_of_rows_says_nothing_about_codes() {
    let (state, _dir) = common::prepared_state().await;
    let work = fieldwork(&state).await;
    close(&state, &work).await;
    let order_by = match state.db.get_database_backend() {
        // The order the table is stored in (a WITHOUT ROWID table has no
        // rowid to sort by).
        DbBackend::Sqlite => "",
        // The heap's physical order.
        _ => " ORDER BY ctid",
    };
    let rows = state
        .db
        .query_all_raw(Statement::from_string(
            state.db.get_database_backend(),
            format!("SELECT answers FROM response{order_by}"),
        ))
        .await
        .unwrap();
    // The partial response's answers were re-encoded from its saves: it has
    // no marker, and is left out.
    let order: Vec<usize> = rows
        .iter()
        .filter_map(|row| owner(&work, &row.try_get::<Vec<u8>>("", "answers").unwrap()))
        .collect();
    assert_eq!(order.len(), FINISHING);
    let correct = correct_by_order(&order);
    assert!(
        correct <= BY_CHANCE_AT_MOST,
        "the stored order pairs {correct} of {} codes with their answers",
        order.len()
    );
    if state.db.get_database_backend() == DbBackend::Sqlite {
        let rowid = state
            .db
            .execute_unprepared("SELECT rowid FROM response")
            .await;
        assert!(rowid.is_err(), "response must have no rowid");
    }
}

#[tokio::test]
async fn no_transaction_id_pairs_a_code_with_a_response() {
    let (state, _dir) = common::prepared_state().await;
    if state.db.get_database_backend() != DbBackend::Postgres {
        eprintln!("skipped: transaction ids on rows are PostgreSQL's");
        return;
    }
    let work = fieldwork(&state).await;
    close(&state, &work).await;
    let count = |sql: &str| {
        let db = state.db.clone();
        let sql = sql.to_owned();
        async move {
            db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .unwrap()
                .unwrap()
                .try_get::<i64>("", "n")
                .unwrap()
        }
    };
    assert_eq!(
        count(
            "SELECT count(*) AS n FROM access_code c JOIN response r \
             ON r.xmin::text = c.xmin::text"
        )
        .await,
        0,
        "a response was written in the transaction that used a code"
    );
    // Responses share their transaction with their batch, never alone.
    assert_eq!(
        count(
            "SELECT count(*) AS n FROM (SELECT xmin::text FROM response \
             GROUP BY xmin::text HAVING count(*) < 2) alone"
        )
        .await,
        0
    );
    assert_eq!(
        count("SELECT count(*) AS n FROM response_held").await,
        0,
        "a closed sitting holds nothing"
    );
}

/// On SQLite: deleted page saves, held responses and in-progress ids leave
/// no bytes behind, in the database file, its write-ahead log, or a backup
/// taken after the sitting closed; each pupil's answers are in the file once
/// (their response). The byte order of rows in the file is no better a
/// guide than the table's order.
#[tokio::test]
async fn the_files_keep_no_residue_and_no_order() {
    let (state, dir) = common::prepared_state().await;
    if state.db.get_database_backend() != DbBackend::Sqlite {
        eprintln!("skipped: PostgreSQL's files are the operator's (see docs/security.md)");
        return;
    }
    let work = fieldwork(&state).await;
    let database = dir.path().join("survey.sqlite");
    let log = dir.path().join("survey.sqlite-wal");

    // During fieldwork, once the releases' log has been emptied, the
    // released pupils' saves are gone from both files.
    let released = (FINISHING / 5) * 5;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let bytes = [file_bytes(&database), file_bytes(&log)].concat();
        let leftovers = work.markers[..released]
            .iter()
            .filter(|m| occurrences(&bytes, &m[..]) != 1)
            .count();
        if leftovers == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{leftovers} released pupils' answers are still in the files more than once"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    close(&state, &work).await;
    let backup = dir.path().join("after-close.sqlite");
    server::store::retention::sqlite_backup(&state.db, backup.to_str().unwrap())
        .await
        .unwrap();
    state.close().await.unwrap();

    let live = [file_bytes(&database), file_bytes(&log)].concat();
    assert!(
        file_bytes(&log).is_empty(),
        "the write-ahead log was not emptied"
    );
    for (name, bytes) in [("database", live), ("backup", file_bytes(&backup))] {
        for (i, mark) in work.markers.iter().enumerate() {
            // The last pupil's save held the marker; the partial response
            // made from it does not (the save was not a page's encoding).
            let expected = usize::from(i < FINISHING);
            assert_eq!(
                occurrences(&bytes, &mark[..]),
                expected,
                "{name}: pupil {i}'s answers are not in exactly {expected} places"
            );
        }
        for id in &work.in_progress_ids {
            assert_eq!(
                occurrences(&bytes, id.as_bytes()),
                0,
                "{name}: an in-progress id is still in the file"
            );
        }
        let mut at: Vec<(usize, usize)> = work.markers[..FINISHING]
            .iter()
            .enumerate()
            .map(|(pupil, mark)| {
                let offset = bytes.windows(16).position(|w| w == mark).unwrap();
                (offset, pupil)
            })
            .collect();
        at.sort_unstable();
        let order: Vec<usize> = at.into_iter().map(|(_, pupil)| pupil).collect();
        let correct = correct_by_order(&order);
        assert!(
            correct <= BY_CHANCE_AT_MOST,
            "{name}: the byte order pairs {correct} codes with their answers"
        );
    }
}
