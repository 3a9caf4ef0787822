//! Rule 4's guarantee rests on one mechanism: a writer of a memory holds it
//! until commit, and a second writer of the same memory waits. Tested
//! deterministically at the store, where the interleaving can be forced;
//! `memory.rs` tests the same end to end over HTTP.
mod common;

use std::time::Duration;

use botmem::{
    Config,
    domain::{OwnerKey, Scope},
    model::{BotId, TenantId},
    store::Store,
};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_writer_of_a_memory_waits_for_the_first() {
    let s = TestServer::start().await;
    let config = Config {
        database_url: s.config.database_url.clone(),
        ..Config::default()
    };
    let store = Store::connect(&config).await.unwrap();
    let tenant = TenantId::parse("t1").unwrap();
    let key = OwnerKey {
        scope: Scope::Bot,
        owner_id: uuid::Uuid::now_v7(),
    };
    let bot = BotId(key.owner_id);
    let now = s.clock.now();

    // The memory exists already (a fresh row would make PostgreSQL's
    // insert-or-nothing wait on its own, hiding a missing lock).
    let setup = store.begin(&tenant).await.unwrap();
    setup.lock_memory(key, bot, now).await.unwrap();
    setup.commit().await.unwrap();

    let first = store.begin(&tenant).await.unwrap();
    first.lock_memory(key, bot, now).await.unwrap();

    let second = {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move {
            let tx = store.begin(&tenant).await.unwrap();
            tx.lock_memory(key, bot, now).await.unwrap();
            tx.commit().await.unwrap();
        })
    };
    if using_postgres() {
        // Deterministic: PostgreSQL itself reports the second writer
        // waiting on a lock. Without the row lock it would never wait, and
        // this fails after 10 s.
        let observer = sea_orm::Database::connect(&s.superuser_url())
            .await
            .unwrap();
        let waiting = "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'";
        let mut seen = false;
        for _ in 0..1000 {
            let row = sea_orm::ConnectionTrait::query_one_raw(
                &observer,
                sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, waiting),
            )
            .await
            .unwrap()
            .unwrap();
            if row.try_get::<i64>("", "n").unwrap() >= 1 {
                seen = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(seen, "the second writer never waited for the first's lock");
    } else {
        // SQLite: writers of the process queue for its one write lock; the
        // second cannot even begin while the first holds it.
        for _ in 0..1000 {
            tokio::task::yield_now().await;
        }
    }
    assert!(
        !second.is_finished(),
        "the second writer got the memory while the first held it"
    );
    first.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("the second writer proceeds once the first commits")
        .unwrap();
}
