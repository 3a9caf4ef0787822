//! All SQL lives here; the store imports the model, never the domain.
//! Tenant tables are reached only through [`scoped`], [`scoped_update`] and
//! [`scoped_delete`], which filter by `tenant_id` before anything else is
//! added: a row of another tenant cannot be read, changed or deleted by
//! any query in this module. Reads take the tenant; every write is a method
//! of [`Tx`], a transaction bound to one tenant at [`Store::begin`], which
//! publishes the events staged on it after it commits ([`EventBus`]).
mod bots;
mod bus;
mod conn;
mod conversations;
mod facts;
mod janitor;
mod kv;
mod memory;
mod messages;
mod notify;
mod page;
mod rls;
mod sqlite_reads;
mod tenants;
mod users;

use std::time::Duration;

use entity::TenantScoped;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, ConnectOptions, Database, DatabaseConnection, DeleteMany, QueryFilter, Select,
    SqliteTransactionMode, TransactionOptions, TransactionTrait, UpdateMany,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use crate::{
    config::{Config, Switch},
    error::Result,
    model::{Event, Quotas, TenantId},
};

/// Prepared statements each SQLite connection keeps (sqlx's default: 100).
const STATEMENTS_KEPT_PER_SQLITE_CONNECTION: usize = 24;

#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    known_tenants: std::sync::Arc<tenants::KnownTenants>,
    facts: std::sync::Arc<facts::Facts>,
    /// Set once `ready` found no pending migration.
    migrated: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// SQLite admits one writer; writers of this process queue here, in
    /// order, instead of sleeping in SQLite's busy handler (which made the
    /// p99 of writes under contention ~180 ms).
    write_gate: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// Writers queued at `write_gate` now (see [`Store::writers_waiting`]).
    waiting_writers: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Where committed events go: straight onto `bus` on SQLite (one
    /// process), through NOTIFY and every replica's relay on PostgreSQL.
    bus: EventBus,
    relayed: bool,
    /// PostgreSQL's row-level security is in force ([`rls`]).
    wall: bool,
    quotas: Quotas,
    /// SQLite's memory reads off sqlx's worker threads ([`sqlite_reads`]);
    /// `None` on PostgreSQL and for in-memory databases.
    sqlite_reads: Option<std::sync::Arc<sqlite_reads::SqliteReads>>,
    /// The relay's connection, opened by `connect`; taken by `start_relay`.
    early_listener: std::sync::Arc<std::sync::Mutex<Option<notify::Listener>>>,
}

/// The one way to write: a transaction opened for one tenant. Every store
/// write is a method of it, scoped by its tenant without naming it again;
/// the events the writes produce are staged on it and published if, and
/// only if, it commits. It holds the process's SQLite write gate (if any)
/// until it commits or is dropped (rolled back).
pub struct Tx {
    tx: conn::Conn<'static>,
    tenant: TenantId,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
    events: Vec<Event>,
    /// How many of `events` a write already sent (PostgreSQL).
    notified: usize,
    bus: EventBus,
    facts: std::sync::Arc<facts::Facts>,
    relayed: bool,
    quotas: Quotas,
}

impl Tx {
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// Events to publish if, and only if, this transaction commits.
    pub fn stage(&mut self, events: impl IntoIterator<Item = Event>) {
        self.events.extend(events);
    }

    /// Commits, then the events reach subscribers in commit order: on
    /// PostgreSQL the notifications are part of the transaction (PostgreSQL
    /// delivers them in commit order, to every replica); on SQLite they are
    /// published before the write gate opens for the next writer. This
    /// process forgets the cached facts the transaction changed at once,
    /// before the caller answers.
    pub async fn commit(self) -> Result<()> {
        if self.relayed && self.events.len() > self.notified {
            notify::send(&self.tx, &self.events[self.notified..]).await?;
        }
        self.tx.commit().await?;
        self.facts.apply(&self.events);
        if !self.relayed {
            self.bus.publish(self.events);
        }
        Ok(())
    }

    /// On PostgreSQL, the statement that sends the events staged so far
    /// and not yet sent, for a write to carry in its own round trip (they
    /// still reach listeners only if the transaction commits); `None` on
    /// SQLite, or when they need more than one notification.
    fn take_notification(&mut self) -> Result<Option<sea_orm::sea_query::SelectStatement>> {
        if !self.relayed || self.events.len() == self.notified {
            return Ok(None);
        }
        let statement = notify::in_one_notification(&self.events[self.notified..])?;
        if statement.is_some() {
            self.notified = self.events.len();
        }
        Ok(statement)
    }

    /// Stages the news that a cached fact changed (see [`facts`]).
    fn forget(&mut self, fact: crate::model::Fact) {
        self.events.push(Event::Forget(fact));
    }

    fn db(&self) -> &conn::Conn<'static> {
        &self.tx
    }
}

impl Store {
    /// The pool alone: the CLI, tools and tests that relay no events.
    pub async fn connect(config: &Config) -> Result<Store> {
        Store::open(config, false).await
    }

    /// The pool and, on PostgreSQL, the relay's listening connection,
    /// opened side by side (for [`Store::start_relay`]): each is a TCP and
    /// TLS handshake, and one after the other they made a third of a cold
    /// start (with sqlx 0.9.0, which set no TCP_NODELAY: ~100 ms each).
    pub async fn connect_for_serving(config: &Config) -> Result<Store> {
        Store::open(config, true).await
    }

    async fn open(config: &Config, relay: bool) -> Result<Store> {
        let url = &config.database_url;
        let mut options = ConnectOptions::new(url.clone());
        options
            .max_connections(config.db_pool_size())
            // sqlx pings every connection it hands out by default: one more
            // round trip per statement. Only connections idle long enough to
            // have been dropped by a server or proxy are pinged.
            .test_before_acquire_if_idle_for(Duration::from_secs(30))
            .sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(10));
        let wall = !config.is_sqlite() && config.row_level_security == Switch::On;
        if !config.is_sqlite() && config.db_statement_timeout_secs > 0 {
            let timeout = format!("{}s", config.db_statement_timeout_secs);
            options.map_sqlx_postgres_opts(move |o| {
                o.options([("statement_timeout", timeout.as_str())])
            });
        }
        if config.is_sqlite() {
            // One writer at a time is SQLite's rule; WAL lets readers go on
            // meanwhile, and the busy timeout makes writers queue, not fail.
            options.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    // 256 KiB of page cache per connection, not SQLite's
                    // 2 MB: each pooled connection fills its own, which
                    // made ~30 MB of an idle server's RSS; the OS caches
                    // the file for all of them anyway.
                    .pragma("cache_size", "-256")
                    // Group commits send statements of as many shapes as
                    // group sizes, each prepared and kept by every pooled
                    // connection: with sqlx's 100 per connection an idle
                    // server kept ~140 MB after load.
                    .statement_cache_capacity(STATEMENTS_KEPT_PER_SQLITE_CONNECTION)
            });
            if url.contains(":memory:") || url.contains("mode=memory") {
                // Every pooled connection would open its own empty database.
                options
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None::<Duration>);
            }
        }
        let listener = (relay && !config.is_sqlite())
            .then(|| tokio::spawn(notify::connect_listener(url.clone())));
        let db = match Database::connect(options).await {
            Ok(db) => db,
            Err(e) => {
                listener.inspect(|l| l.abort());
                return Err(e.into());
            }
        };
        let listener = match listener {
            Some(listener) => listener.await.ok().flatten(),
            None => None,
        };
        Ok(Store {
            early_listener: std::sync::Arc::new(std::sync::Mutex::new(listener)),
            db,
            known_tenants: Default::default(),
            facts: std::sync::Arc::new(facts::Facts::new()),
            migrated: Default::default(),
            write_gate: config.is_sqlite().then(Default::default),
            waiting_writers: Default::default(),
            bus: EventBus::new(config.event_buffer),
            relayed: !config.is_sqlite(),
            wall,
            quotas: quotas(config),
            sqlite_reads: config
                .is_sqlite()
                .then(|| sqlite_reads::SqliteReads::for_url(url))
                .flatten()
                .map(std::sync::Arc::new),
        })
    }

    /// Whether writers of this process are queued for SQLite's one write
    /// lock (never on PostgreSQL): the janitor then takes smaller batches,
    /// so live writes wait less behind it.
    pub fn writers_waiting(&self) -> bool {
        self.waiting_writers
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    }

    /// The bus subscribers listen to.
    pub fn events(&self) -> &EventBus {
        &self.bus
    }

    /// On PostgreSQL, starts the relay that puts every replica's committed
    /// events (this one's included) on this replica's bus, and returns once
    /// it listens; `None` on SQLite, where commits publish directly.
    pub async fn start_relay(
        &self,
        cancel: tokio_util::sync::CancellationToken,
    ) -> Result<Option<tokio::task::JoinHandle<()>>> {
        if !self.relayed {
            return Ok(None);
        }
        let early = self
            .early_listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        notify::start(
            early,
            self.db.clone(),
            self.wall,
            self.bus.clone(),
            self.facts.clone(),
            cancel,
        )
        .await
        .map(Some)
    }

    /// Applies pending migrations. On an up-to-date database (every
    /// start but the first after an upgrade) one `SELECT` shows there is
    /// nothing to do: the migrator's own check creates its table "if not
    /// exists" and takes a second connection, which cost a cold start on
    /// PostgreSQL ~100 ms.
    pub async fn migrate(&self) -> Result<()> {
        if !all_migrations_applied(&self.db).await {
            Migrator::up(&self.db, None).await?;
        }
        self.migrated
            .store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// What `serve` does to the schema before it serves: migrations (when
    /// `migrate`), then, on PostgreSQL, the tables held to row-level
    /// security as `BOTMEM_ROW_LEVEL_SECURITY` says ([`rls::apply`]). Both
    /// checks share one connection: the pool's first is still on its way
    /// back when a second statement asks, and a new one cost a cold start
    /// another TLS handshake (~90 ms).
    pub async fn prepare_schema(&self, migrate: bool) -> Result<()> {
        let mut tx = self.db.begin().await?;
        if migrate {
            if !all_migrations_applied(&tx).await {
                // The failed check (no table yet) aborted the transaction.
                tx.rollback().await?;
                Migrator::up(&self.db, None).await?;
                tx = self.db.begin().await?;
            }
            self.migrated
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        if self.relayed {
            rls::apply(&tx, self.wall).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Connections of the pool: (in use, idle).
    pub fn pool_stats(&self) -> (u32, u32) {
        let (size, idle) = match self.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = self.db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        (size.saturating_sub(idle), idle)
    }

    /// The database answers and no migration is pending (checked until it
    /// is true once: a running binary's migrations do not come undone).
    pub async fn ready(&self) -> Result<bool> {
        use std::sync::atomic::Ordering;
        self.db.ping().await?;
        if self.migrated.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let migrated = Migrator::get_pending_migrations(&self.db).await?.is_empty();
        self.migrated.store(migrated, Ordering::Relaxed);
        Ok(migrated)
    }

    pub async fn close(self) {
        let _ = self.db.close().await;
    }

    /// A write transaction for `tenant`. On SQLite it takes the write lock
    /// at `BEGIN` (IMMEDIATE): a deferred one would fail with SQLITE_BUSY
    /// when it tries to upgrade while another writer holds it.
    pub async fn begin(&self, tenant: &TenantId) -> Result<Tx> {
        let asked = std::time::Instant::now();
        let (tx, gate) = self.open_write(tenant.as_str()).await?;
        crate::telemetry::db_acquired(asked.elapsed());
        Ok(Tx {
            tx,
            tenant: tenant.clone(),
            _gate: gate,
            events: vec![],
            notified: 0,
            bus: self.bus.clone(),
            facts: self.facts.clone(),
            relayed: self.relayed,
            quotas: self.quotas,
        })
    }

    /// A connection for `tenant`'s reads (and the few writes made outside a
    /// [`Tx`], which end with [`rls::finish`]): behind the wall when it is up.
    async fn bound(&self, tenant: &TenantId) -> Result<conn::Conn<'_>> {
        rls::bind(&self.db, self.wall, tenant.as_str()).await
    }

    /// A write transaction that sees every tenant's due janitor schedule:
    /// the janitor's claim of due tenants, one of the two paths across
    /// tenants by design (the other, the outbox cleanup, is in `notify`).
    /// Only the `tenants` and `event_outbox` policies let it through.
    async fn housekeeping(
        &self,
    ) -> Result<(
        conn::Conn<'static>,
        Option<tokio::sync::OwnedMutexGuard<()>>,
    )> {
        self.open_write(rls::ALL_TENANTS).await
    }

    /// A write transaction whose statements see `tenant`'s rows (where
    /// row-level security is up): on PostgreSQL its `BEGIN` names the
    /// tenant in the same round trip; on SQLite it holds the write gate.
    async fn open_write(
        &self,
        tenant: &str,
    ) -> Result<(
        conn::Conn<'static>,
        Option<tokio::sync::OwnedMutexGuard<()>>,
    )> {
        let Some(gate) = &self.write_gate else {
            let tx = conn::PgTx::begin(&self.db, self.wall.then_some(tenant)).await?;
            return Ok((conn::Conn::Pg(tx), None));
        };
        let gate = {
            let _queued = Queued::join(&self.waiting_writers);
            gate.clone().lock_owned().await
        };
        let tx = self
            .db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Ok((conn::Conn::Sea(tx), Some(gate)))
    }
}

/// One writer counted in a queue for as long as it waits, however that
/// ends (a dropped request stops waiting too).
struct Queued<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Queued<'a> {
    fn join(queue: &'a std::sync::atomic::AtomicUsize) -> Queued<'a> {
        queue.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Queued(queue)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Whether `seaql_migrations` lists every migration of this build.
/// `false` when it cannot tell (no table yet): then the migrator runs.
async fn all_migrations_applied(db: &impl sea_orm::ConnectionTrait) -> bool {
    let sql = "SELECT version FROM seaql_migrations";
    let statement = sea_orm::Statement::from_string(db.get_database_backend(), sql);
    let Ok(rows) = db.query_all_raw(statement).await else {
        return false;
    };
    let applied: std::collections::HashSet<String> = rows
        .iter()
        .filter_map(|row| row.try_get::<String>("", "version").ok())
        .collect();
    Migrator::migrations()
        .iter()
        .all(|m| applied.contains(m.name()))
}

/// `BOTMEM_QUOTA_*`; 0 means no limit.
fn quotas(config: &Config) -> Quotas {
    let limit = |n: u64| (n > 0).then_some(n);
    Quotas {
        bots: limit(config.quota_bots),
        users: limit(config.quota_users),
        kv_keys: limit(config.quota_kv_keys),
        variables_per_memory: limit(config.quota_variables_per_memory),
    }
}

/// Every read of a tenant table starts here.
pub(crate) fn scoped<E: TenantScoped>(tenant: &TenantId) -> Select<E> {
    E::find().filter(E::tenant_column().eq(tenant.as_str()))
}

pub(crate) fn scoped_update<E: TenantScoped>(tenant: &TenantId) -> UpdateMany<E> {
    E::update_many().filter(E::tenant_column().eq(tenant.as_str()))
}

pub(crate) fn scoped_delete<E: TenantScoped>(tenant: &TenantId) -> DeleteMany<E> {
    E::delete_many().filter(E::tenant_column().eq(tenant.as_str()))
}

/// Unique-key violations become `CONFLICT`; everything else is internal.
pub(crate) fn conflict_or_internal(err: sea_orm::DbErr, message: &str) -> crate::error::Error {
    use sea_orm::{SqlErr, error::DbErr};
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            crate::error::Error::Conflict(message.to_owned())
        }
        _ => crate::error::Error::from(err as DbErr),
    }
}

pub use bus::{BusReceiver, EventBus};
pub use memory::{ExpiryCursor, SweptBatch, SweptRow};
pub(crate) use page::page;
