//! Every multi-row write of a service is one transaction with its audit
//! entry: a failure injected midway (a database trigger that refuses an
//! insert) leaves nothing half-written. Runs on SQLite, and on PostgreSQL
//! when TEST_DATABASE_URL is set.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use sea_orm::{ConnectionTrait, Statement};
use server::domain::{AccessCode, Role};
use server::services::accounts::{self, NewAccount};
use server::services::partnerships::{self, NewSettings};
use server::services::sittings::{self, SittingRequest};
use server::services::{Actor, schools_import};
use server::state::AppState;
use server::store::schools;
use survey_defs::Stage;

async fn count(state: &AppState, table: &str) -> i64 {
    let row = state
        .db
        .query_one_raw(Statement::from_string(
            state.db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// Makes every insert into `table` fail, as a full disk or a lost
/// connection would at that point of a transaction.
async fn fail_inserts_into(state: &AppState, table: &str) {
    let sql = match common::backend() {
        "postgres" => format!(
            "CREATE OR REPLACE FUNCTION injected_failure() RETURNS trigger AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} \
             FOR EACH ROW EXECUTE FUNCTION injected_failure();"
        ),
        _ => format!(
            "CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        ),
    };
    state.db.execute_unprepared(&sql).await.unwrap();
}

async fn allow_inserts_into(state: &AppState, table: &str) {
    let on = if common::backend() == "postgres" {
        format!(" ON {table}")
    } else {
        String::new()
    };
    state
        .db
        .execute_unprepared(&format!("DROP TRIGGER fail_{table}{on}"))
        .await
        .unwrap();
}

async fn request(state: &AppState, school: &server::store::schools::School) -> SittingRequest {
    let today = chrono::Utc::now().date_naive();
    let wave = server::services::waves::ensure(
        &state.db,
        &state.catalogue,
        &ADMIN,
        "Test wave",
        state.catalogue.latest()[0].version_id,
        school.cpp_id,
        (today, today + chrono::Days::new(60)),
    )
    .await
    .unwrap();
    SittingRequest {
        stage: Stage::P6,
        label: "P6 Room 4".into(),
        codes: 30,
        wave_id: wave.id,
        opens: None,
        closes: None,
    }
}

const ADMIN: Actor = Actor::Cli;

/// Imports one primary school into the partnership with this GSS code.
async fn import_one(
    state: &AppState,
    gss_code: &str,
    name: &str,
    seed: &str,
) -> Result<schools_import::Imported, schools_import::ImportError> {
    let csv = format!(
        "school name,seed code,cpp,sector,p5,p6,p7,s1,s2,s3,s4\n\
         {name},{seed},{gss_code},primary,20,20,20,0,0,0,0\n"
    );
    schools_import::import(
        &state.db,
        &ADMIN,
        csv.as_bytes(),
        schools_import::Source::File("schools.csv"),
    )
    .await
}

#[tokio::test]
async fn a_sitting_is_never_stored_without_its_codes_or_its_audit_entry() {
    let (state, _dir) = common::prepared_state().await;
    let school = common::school(&state, "7712345", "Transaction Primary").await;

    // Failing at the codes, after the sitting's own insert.
    fail_inserts_into(&state, "access_code").await;
    let result = sittings::create(
        &state.db,
        &state.secret,
        &ADMIN,
        &school,
        request(&state, &school).await,
    )
    .await;
    assert!(
        result.is_err(),
        "the injected failure must reach the caller"
    );
    allow_inserts_into(&state, "access_code").await;
    assert_eq!(
        count(&state, "sitting").await,
        0,
        "a sitting was left without codes"
    );

    // Failing at the audit entry, after the sitting and its codes.
    fail_inserts_into(&state, "audit_log").await;
    let result = sittings::create(
        &state.db,
        &state.secret,
        &ADMIN,
        &school,
        request(&state, &school).await,
    )
    .await;
    assert!(result.is_err());
    assert_eq!(
        count(&state, "sitting").await,
        0,
        "a sitting was stored unaudited"
    );
    assert_eq!(
        count(&state, "access_code").await,
        0,
        "codes were stored unaudited"
    );
    allow_inserts_into(&state, "audit_log").await;

    // With nothing failing, all three are there.
    let (sitting, codes) = sittings::create(
        &state.db,
        &state.secret,
        &ADMIN,
        &school,
        request(&state, &school).await,
    )
    .await
    .unwrap();
    assert_eq!(count(&state, "access_code").await, 30);

    // Spares, a mop-up, a void and a close each leave nothing behind either.
    fail_inserts_into(&state, "audit_log").await;
    assert!(
        sittings::add_spares(&state.db, &state.secret, &ADMIN, &sitting, 5)
            .await
            .is_err()
    );
    assert!(
        sittings::mop_up(&state.db, &state.secret, &ADMIN, &sitting, 5)
            .await
            .is_err()
    );
    assert!(
        sittings::void_code(&state.db, &state.secret, &ADMIN, &sitting, &codes[0])
            .await
            .is_err()
    );
    assert!(
        sittings::close(state.closer(), &ADMIN, sitting.id)
            .await
            .is_err()
    );
    allow_inserts_into(&state, "audit_log").await;
    assert_eq!(
        count(&state, "sitting").await,
        1,
        "a mop-up was stored unaudited"
    );
    assert_eq!(
        count(&state, "access_code").await,
        30,
        "spares were stored unaudited"
    );
    let still = server::store::sittings::get(&state.db, sitting.id)
        .await
        .unwrap()
        .unwrap();
    assert!(still.closed_at.is_none(), "a close was stored unaudited");
    let hash = sittings::code_hash(&state.secret, &codes[0]);
    let (code, _) = server::store::pupil::find_code(&state.db, &hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        code.state.0,
        server::domain::CodeState::Unused,
        "a void was stored unaudited"
    );
    // The same code still voids once the log accepts the entry.
    let code: &AccessCode = &codes[0];
    assert!(
        sittings::void_code(&state.db, &state.secret, &ADMIN, &sitting, code)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn accounts_settings_and_imports_are_never_stored_unaudited() {
    let (state, _dir) = common::prepared_state().await;
    let school = common::school(&state, "7712345", "Transaction Primary").await;
    let cpp = schools::cpp(&state.db, school.cpp_id)
        .await
        .unwrap()
        .unwrap();
    let staff_before = count(&state, "staff_user").await;
    let schools_before = count(&state, "school").await;
    fail_inserts_into(&state, "audit_log").await;

    let account = NewAccount {
        email: "head@school.scot".into(),
        role: Role::School,
        cpp_id: Some(school.cpp_id),
        school_id: Some(school.id),
        is_demo: false,
    };
    let created = accounts::create(
        &state.db,
        &state.secret,
        &ADMIN,
        account,
        "unused hash".into(),
        true,
    )
    .await;
    assert!(created.is_err());
    assert_eq!(
        count(&state, "staff_user").await,
        staff_before,
        "an account was stored unaudited"
    );

    let settings = NewSettings {
        disabled_modules: vec!["substances".into()],
        signposting: partnerships::default_signposting(),
        notices: Default::default(),
        languages: Vec::new(),
        drafts_confirmed: Vec::new(),
    };
    assert!(
        partnerships::save(&state.db, &ADMIN, &cpp, settings)
            .await
            .is_err()
    );
    assert_eq!(
        count(&state, "cpp_setting").await,
        0,
        "settings were stored unaudited"
    );

    let imported = import_one(&state, &cpp.gss_code, "Second Primary", "7712346").await;
    assert!(
        matches!(imported, Err(schools_import::ImportError::Database(_))),
        "expected the injected failure, saw {imported:?}"
    );
    assert_eq!(
        count(&state, "school").await,
        schools_before,
        "schools were imported unaudited"
    );
}

/// On a SQLite file, a service's transaction that reads before it writes
/// waits for another writer (the pupil journey's writer thread, a second
/// server process) instead of failing at once with "database is locked".
#[tokio::test]
async fn a_service_waits_for_another_writer_instead_of_failing() {
    let (state, dir) = common::prepared_state().await;
    if common::backend() != "sqlite" {
        eprintln!("skipped: PostgreSQL locks rows, not the database");
        return;
    }
    let cpp = schools::cpp_by_code(&state.db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    // Another connection holds the write lock for a moment.
    let file = dir.path().join("survey.sqlite");
    let (locked, holding) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(file).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        conn.execute_batch("COMMIT").unwrap();
    });
    holding.recv().unwrap();
    let imported = import_one(&state, &cpp.gss_code, "Waiting Primary", "7712399").await;
    writer.join().unwrap();
    assert!(
        imported.is_ok(),
        "expected the import to wait for the lock, saw {imported:?}"
    );
}
