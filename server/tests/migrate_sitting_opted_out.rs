//! The migration that adds the number of pupils opted out to a sitting: up,
//! down and up again, keeping every sitting, with the count at 0 (what was
//! assumed before) after going up.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};
use server::store::sittings;

async fn sitting_count(db: &server::store::Db) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(*) AS n FROM sitting",
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get::<i64>("", "n")
    .unwrap()
}

#[tokio::test]
async fn sittings_keep_everything_up_down_and_up() {
    let (state, _dir) = common::prepared_state().await;
    let (sitting, _) = common::p6_sitting(&state, "7719020", 2).await;
    state.store.stop().await;
    let db = &state.db;
    sittings::set_opted_out(db, sitting.id, 3).await.unwrap();
    assert_eq!(
        sittings::get(db, sitting.id)
            .await
            .unwrap()
            .unwrap()
            .opted_out,
        3
    );
    let has = |all: &[String]| all.iter().any(|c| c == "opted_out");
    assert!(has(&common::columns(db, "sitting").await));

    let steps = common::steps_to_undo("m20261202_000020_sitting_opted_out");
    for _ in 0..2 {
        Migrator::down(db, Some(steps)).await.unwrap();
        assert!(
            !has(&common::columns(db, "sitting").await),
            "expected no opted_out after going down"
        );
        assert_eq!(
            sitting_count(db).await,
            1,
            "going down must keep the sitting"
        );
        Migrator::up(db, None).await.unwrap();
        assert!(has(&common::columns(db, "sitting").await));
        let back = sittings::get(db, sitting.id).await.unwrap().unwrap();
        assert_eq!(back.opted_out, 0, "a sitting starts at 0 after going up");
        assert_eq!(back.label, sitting.label);
    }
}
