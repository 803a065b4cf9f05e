//! The migration that stops codes recording how their responses ended:
//! existing data keeps its meaning up, down and up again, and nothing is
//! lost either way.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use server::domain::Ending;
use server::store::entities::response;
use server::store::pupil;

async fn states(db: &server::store::Db) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT state FROM access_code ORDER BY id",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "state").unwrap())
        .collect()
}

#[tokio::test]
async fn endings_move_from_codes_to_sitting_counts_and_back() {
    let (state, _dir) = common::prepared_state().await;
    let (sitting, codes) = common::p6_sitting(&state, "7717000", 5).await;
    // Two finish (held: fewer than a batch), one withdraws, one declines.
    let store = &state.store;
    let mut ids = Vec::new();
    for code in &codes {
        let (row, _) = store
            .find_code(&state.code_hash(code))
            .await
            .unwrap()
            .unwrap();
        ids.push(row.id);
    }
    for (i, ending) in [Ending::Finished, Ending::Finished, Ending::Withdrawn]
        .into_iter()
        .enumerate()
    {
        let rid = store
            .start(ids[i], sitting.id, "en")
            .await
            .unwrap()
            .unwrap();
        let completed = ending
            .keeps_answers()
            .then(|| common::completed(&sitting, vec![i as u8]));
        assert!(
            store
                .end(&rid, sitting.id, ending, completed)
                .await
                .unwrap()
        );
    }
    assert!(store.decline(ids[3], sitting.id).await.unwrap());
    store.stop().await;
    let db = &state.db;

    // Down: held responses join the others, every used code reads
    // "finished" (how each ended is not recorded, so cannot come back).
    // Later migrations go down with it.
    Migrator::down(
        db,
        Some(common::steps_to_undo(
            "m20261201_000001_unlinkable_completion",
        )),
    )
    .await
    .unwrap();
    // Counted without the entity: later columns are gone down here.
    let kept = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, answers FROM response",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get_by_index::<String>(0).unwrap(),
                r.try_get_by_index::<Vec<u8>>(1).unwrap(),
            )
        })
        .collect::<Vec<_>>();
    assert_eq!(kept.len(), 2, "held responses must not be lost going down");
    assert_eq!(
        states(db).await,
        ["finished", "finished", "finished", "finished", "unused"]
    );
    // Data as it was before: each code recorded its ending.
    for (id, ending) in [(ids[2], "withdrawn"), (ids[3], "declined")] {
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            match db.get_database_backend() {
                DbBackend::Postgres => "UPDATE access_code SET state = $1 WHERE id = $2",
                _ => "UPDATE access_code SET state = ? WHERE id = ?",
            },
            [ending.into(), id.into()],
        ))
        .await
        .unwrap();
    }

    // Up: the sitting counts the endings; codes say only "used".
    Migrator::up(db, None).await.unwrap();
    assert_eq!(states(db).await, ["used", "used", "used", "used", "unused"]);
    let mut tally = pupil::tally(db, sitting.id).await.unwrap();
    tally.sort_by_key(|(ending, _)| ending.as_str());
    assert_eq!(
        tally,
        [
            (Ending::Declined, 1),
            (Ending::Finished, 2),
            (Ending::Withdrawn, 1)
        ]
    );
    let mut after: Vec<(String, Vec<u8>)> = response::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.answers))
        .collect();
    let mut before = kept;
    after.sort();
    before.sort();
    assert_eq!(after, before, "responses changed going up");
    if db.get_database_backend() == DbBackend::Sqlite {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'response'",
            ))
            .await
            .unwrap()
            .unwrap();
        let sql: String = row.try_get("", "sql").unwrap();
        assert!(sql.ends_with("WITHOUT ROWID"), "{sql}");
        let indexes = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'response' \
                 AND sql IS NOT NULL",
            ))
            .await
            .unwrap();
        assert_eq!(indexes.len(), 1, "the response index must survive");
    }
}
