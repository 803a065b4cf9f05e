//! One contract for the pupil journey's store, run against every
//! implementation this database offers: on SQLite the file's own (reads on
//! the calling thread, one writer thread) and sea-orm's pool on the same
//! file; on PostgreSQL sea-orm's pool.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use server::domain::{CodeState, Ending};
use server::services::Actor;
use server::services::sittings;
use server::state::AppState;
use server::store::entities::{response, response_held};
use server::store::journey::{Planned, PlannedSave, Read, Store};
use server::store::pupil::{self, Completed, PageSave, Sitting};

/// The stores to hold to the contract: the server's own, and on a SQLite
/// file also sea-orm's pool on the same file.
fn stores(state: &AppState) -> Vec<Store> {
    let mut stores = vec![state.store.clone()];
    if state.store.kind() == "sqlite-file" {
        stores.push(Store::open(state.db.clone(), None, state.store.batch()).unwrap());
    }
    stores
}

fn completed(sitting: &Sitting, marker: u8) -> Completed {
    common::completed(sitting, vec![marker])
}

fn save(response_id: &str, page: &str, answers: u8, seq: i64) -> PageSave {
    PageSave {
        response_id: response_id.to_owned(),
        page_key: page.to_owned(),
        answers: vec![answers],
        seq,
    }
}

async fn held(state: &AppState, sitting_id: i32) -> u64 {
    response_held::Entity::find()
        .filter(response_held::Column::SittingId.eq(sitting_id))
        .count(&state.db)
        .await
        .unwrap()
}

async fn released(state: &AppState, school_id: i32) -> Vec<response::Model> {
    response::Entity::find()
        .filter(response::Column::SchoolId.eq(school_id))
        .all(&state.db)
        .await
        .unwrap()
}

/// Everything the pupil journey asks of a store, in the order a sitting
/// lives it.
async fn contract(state: &AppState, store: &Store, seed: &str) {
    let kind = store.kind();
    let (sitting, codes) = common::p6_sitting(state, seed, 9).await;
    let hashes: Vec<String> = codes.iter().map(|c| state.code_hash(c)).collect();

    // Reads: a code with its sitting, by hash and by id; nothing for
    // what does not exist.
    let (first, found) = store.find_code(&hashes[0]).await.unwrap().unwrap();
    assert_eq!(found.id, sitting.id, "{kind}");
    assert_eq!(first.state.0, CodeState::Unused, "{kind}");
    assert_eq!(
        store.code_by_id(first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.code_with_sitting(first.id).await.unwrap(),
        Some((first.clone(), found.clone())),
        "{kind}"
    );
    assert_eq!(store.sitting(sitting.id).await.unwrap(), Some(found));
    assert_eq!(store.code_with_sitting(-1).await.unwrap(), None);
    assert_eq!(store.find_code(&"0".repeat(64)).await.unwrap(), None);
    assert_eq!(store.code_by_id(-1).await.unwrap(), None);
    assert_eq!(store.sitting(-1).await.unwrap(), None);

    // Starting twice (a double click) gives the same response.
    let rid = store
        .start(first.id, sitting.id, "en")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.start(first.id, sitting.id, "en").await.unwrap(),
        Some(rid.clone()),
        "{kind}"
    );
    let started = store.code_by_id(first.id).await.unwrap().unwrap();
    assert_eq!(
        (started.state.0, started.response_id.as_deref()),
        (CodeState::Started, Some(rid.as_str()))
    );

    // Saves: a page saved again replaces its earlier save; pages come back
    // oldest first.
    store.save(save(&rid, "one", 1, 1)).await.unwrap();
    store.save(save(&rid, "two", 2, 2)).await.unwrap();
    store.save(save(&rid, "one", 3, 3)).await.unwrap();
    let (in_progress, saves) = store.progress(&rid).await.unwrap().unwrap();
    assert_eq!(
        (in_progress.sitting_id, in_progress.locale.as_str()),
        (sitting.id, "en")
    );
    let pages: Vec<(&str, &[u8])> = saves
        .iter()
        .map(|s| (s.page_key.as_str(), s.answers.as_slice()))
        .collect();
    assert_eq!(pages, [("two", &[2u8][..]), ("one", &[3u8][..])], "{kind}");
    assert_eq!(
        store.in_progress(&rid).await.unwrap(),
        Some(in_progress),
        "{kind}"
    );
    assert_eq!(store.in_progress("nope").await.unwrap(), None);

    // Finishing holds the answers; the batch's last finish releases them
    // all, dated to the week.
    let batch = store.batch();
    assert_eq!(batch, 5);
    for (i, hash) in hashes.iter().enumerate().take(batch) {
        let (code, _) = store.find_code(hash).await.unwrap().unwrap();
        let rid = store
            .start(code.id, sitting.id, "en")
            .await
            .unwrap()
            .unwrap();
        let ending = completed(&sitting, i as u8);
        assert!(
            store
                .end(&rid, sitting.id, Ending::Finished, Some(ending.clone()))
                .await
                .unwrap(),
            "{kind}"
        );
        assert!(
            !store
                .end(&rid, sitting.id, Ending::Finished, Some(ending))
                .await
                .unwrap(),
            "{kind}: a response ended twice"
        );
        assert_eq!(store.progress(&rid).await.unwrap(), None);
        let used = store.code_by_id(code.id).await.unwrap().unwrap();
        assert_eq!((used.state.0, used.response_id), (CodeState::Used, None));
        if i + 1 < batch {
            assert_eq!(held(state, sitting.id).await, i as u64 + 1, "{kind}");
            assert!(released(state, sitting.school_id).await.is_empty());
        }
    }
    assert_eq!(held(state, sitting.id).await, 0, "{kind}");
    let rows = released(state, sitting.school_id).await;
    assert_eq!(rows.len(), batch, "{kind}");
    let today = chrono::Utc::now().date_naive();
    assert!(rows.iter().all(|r| r.completed_on == pupil::week_of(today)));
    let mut markers: Vec<u8> = rows.iter().map(|r| r.answers[0]).collect();
    markers.sort_unstable();
    assert_eq!(
        markers,
        [0, 1, 2, 3, 4],
        "{kind}: answers changed in release"
    );

    // Withdrawing keeps nothing; declining keeps nothing and happens once.
    let (code, _) = store.find_code(&hashes[5]).await.unwrap().unwrap();
    let rid = store
        .start(code.id, sitting.id, "en")
        .await
        .unwrap()
        .unwrap();
    store.save(save(&rid, "one", 9, 1)).await.unwrap();
    assert!(
        store
            .end(&rid, sitting.id, Ending::Withdrawn, None)
            .await
            .unwrap()
    );
    assert_eq!(held(state, sitting.id).await, 0, "{kind}");
    let (code, _) = store.find_code(&hashes[6]).await.unwrap().unwrap();
    assert!(store.decline(code.id, sitting.id).await.unwrap(), "{kind}");
    assert!(!store.decline(code.id, sitting.id).await.unwrap(), "{kind}");
    assert_eq!(
        store.code_by_id(code.id).await.unwrap().unwrap().state.0,
        CodeState::Used
    );

    // Fewer than a batch wait until released however few (as at close).
    let (code, _) = store.find_code(&hashes[7]).await.unwrap().unwrap();
    let rid = store
        .start(code.id, sitting.id, "en")
        .await
        .unwrap()
        .unwrap();
    store
        .end(
            &rid,
            sitting.id,
            Ending::Finished,
            Some(completed(&sitting, 7)),
        )
        .await
        .unwrap();
    assert!(store.held_sittings().await.unwrap().contains(&sitting.id));
    assert_eq!(store.release(sitting.id, batch).await.unwrap(), 0, "{kind}");
    assert_eq!(store.release(sitting.id, 1).await.unwrap(), 1, "{kind}");
    assert!(!store.held_sittings().await.unwrap().contains(&sitting.id));
    assert_eq!(released(state, sitting.school_id).await.len(), batch + 1);

    // How responses ended is counted for the sitting, not kept per code.
    let mut tally = pupil::tally(&state.db, sitting.id).await.unwrap();
    tally.sort_by_key(|(ending, _)| ending.as_str());
    assert_eq!(
        tally,
        [
            (Ending::Declined, 1),
            (Ending::Finished, batch as i64 + 1),
            (Ending::Withdrawn, 1)
        ],
        "{kind}"
    );
    let (untouched, _) = store.find_code(&hashes[8]).await.unwrap().unwrap();
    assert_eq!(untouched.state.0, CodeState::Unused);
}

#[tokio::test]
async fn every_store_keeps_the_contract() {
    let (state, _dir) = common::prepared_state().await;
    let stores = stores(&state);
    if common::backend() == "sqlite" {
        assert_eq!(stores.len(), 2, "expected the file's store and the pool's");
    }
    for (i, store) in stores.iter().enumerate() {
        contract(&state, store, &format!("77100{i:02}")).await;
    }
}

/// The two SQLite stores read the same rows the same way, times to the
/// nanosecond included, before and after the sitting closes.
#[tokio::test]
async fn both_sqlite_stores_read_the_same_codes_and_sittings() {
    let (state, _dir) = common::prepared_state().await;
    let stores = stores(&state);
    let [file, pool] = &stores[..] else {
        eprintln!("skipped: PostgreSQL has one store");
        return;
    };
    let (sitting, codes) = common::p6_sitting(&state, "7719100", 3).await;
    let (code, _) = file
        .find_code(&state.code_hash(&codes[1]))
        .await
        .unwrap()
        .unwrap();
    file.start(code.id, sitting.id, "en").await.unwrap();
    for stage in ["open", "closed"] {
        for code in &codes {
            let hash = state.code_hash(code);
            let through_pool = pool.find_code(&hash).await.unwrap();
            assert!(through_pool.is_some());
            assert_eq!(
                file.find_code(&hash).await.unwrap(),
                through_pool,
                "{stage}"
            );
            let (found, _) = through_pool.unwrap();
            assert_eq!(
                file.code_by_id(found.id).await.unwrap(),
                pool.code_by_id(found.id).await.unwrap(),
                "{stage}"
            );
        }
        let through_pool = pool.sitting(sitting.id).await.unwrap();
        assert_eq!(
            through_pool.as_ref().map(|s| s.closed_at.is_some()),
            Some(stage == "closed")
        );
        assert_eq!(file.sitting(sitting.id).await.unwrap(), through_pool);
        sittings::close(state.closer(), &Actor::Cli, sitting.id)
            .await
            .unwrap();
    }
}

/// Two servers on one PostgreSQL database: a page save planned from the
/// progress one server remembers is refused once the other has saved a
/// page of the same response, and the first then reads the other's save.
#[tokio::test]
async fn a_save_planned_from_progress_another_server_changed_is_refused() {
    let (state, _dir) = common::prepared_state().await;
    if common::backend() != "postgres" {
        eprintln!("skipped: only PostgreSQL is shared by servers");
        return;
    }
    let this = state.store.clone();
    let other = Store::open(state.db.clone(), None, state.store.batch()).unwrap();
    let (sitting, codes) = common::p6_sitting(&state, "7719200", 1).await;
    let (code, _) = this
        .find_code(&state.code_hash(&codes[0]))
        .await
        .unwrap()
        .unwrap();
    let rid = this
        .start(code.id, sitting.id, "en")
        .await
        .unwrap()
        .unwrap();
    this.save(save(&rid, "one", 1, 1)).await.unwrap();

    // Read from the database, then remembered: only the remembered one
    // asks to find the response unchanged.
    let (_, _, read) = this
        .progress_as(&rid, Read::Checked)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, Planned::default());
    let (_, saves, remembered) = this.progress_as(&rid, Read::ToSave).await.unwrap().unwrap();
    assert_eq!(saves.len(), 1);
    assert_ne!(remembered, Planned::default());

    // Unchanged: stored, and remembered with the new page.
    assert_eq!(
        this.save_planned(save(&rid, "two", 2, 2), remembered)
            .await
            .unwrap(),
        PlannedSave::Stored
    );
    let (_, saves, remembered) = this.progress_as(&rid, Read::ToSave).await.unwrap().unwrap();
    assert_eq!(saves.len(), 2);

    // The other server saves a page; the save this one planned before is
    // refused, and nothing of it is stored.
    other.save(save(&rid, "three", 3, 3)).await.unwrap();
    assert_eq!(
        this.save_planned(save(&rid, "two", 9, 4), remembered)
            .await
            .unwrap(),
        PlannedSave::Changed
    );
    let (_, saves) = this.progress(&rid).await.unwrap().unwrap();
    let pages: Vec<(&str, &[u8])> = saves
        .iter()
        .map(|s| (s.page_key.as_str(), s.answers.as_slice()))
        .collect();
    assert_eq!(
        pages,
        [
            ("one", &[1u8][..]),
            ("two", &[2u8][..]),
            ("three", &[3u8][..])
        ]
    );

    // Ended on the other server: this one's remembered progress is not
    // used to save, and a checked read finds the response gone.
    let (_, _, remembered) = this.progress_as(&rid, Read::ToSave).await.unwrap().unwrap();
    assert!(
        other
            .end(&rid, sitting.id, Ending::Withdrawn, None)
            .await
            .unwrap()
    );
    assert_eq!(
        this.save_planned(save(&rid, "four", 4, 5), remembered)
            .await
            .unwrap(),
        PlannedSave::Changed
    );
    assert!(this.save(save(&rid, "four", 4, 6)).await.is_err());
    assert_eq!(this.progress(&rid).await.unwrap(), None);
}
