//! Memory writes happen inside a [`Tx`]: each memory touched is
//! locked first (its `memories` row, `FOR UPDATE` on PostgreSQL; SQLite's
//! IMMEDIATE transaction already admits one writer), in a fixed order, so
//! compare-and-set never loses an update and two writers never deadlock.
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entity::StoredJson;
use entity::{memory, variable};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, RelationDef, Statement,
    sea_query::{Expr, ExprTrait, OnConflict, SubQueryStatement},
};

use super::{Store, Tx, scoped, scoped_delete, scoped_update};
use crate::{
    error::{Error, Result},
    model::{BotId, TenantId},
    model::{OwnerKey, OwnerMemory, Quota, Scope, Variable},
};

pub(super) fn to_variable(m: variable::Model) -> Variable {
    Variable {
        name: m.name,
        value: m.value.0,
        version: m.version,
        expires_at: m.expires_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// Where a janitor batch stopped in the index of expiring rows.
#[derive(Clone, Debug)]
pub struct ExpiryCursor {
    expires_at: DateTime<Utc>,
    scope: String,
    owner_id: uuid::Uuid,
    name: String,
}

impl ExpiryCursor {
    fn tuple(&self) -> Expr {
        Expr::tuple([
            Expr::value(self.expires_at),
            Expr::value(self.scope.clone()),
            Expr::value(self.owner_id),
            Expr::value(self.name.clone()),
        ])
    }
}

/// A variable a janitor batch removed.
pub struct SweptRow {
    pub key: OwnerKey,
    pub bot: BotId,
    pub name: String,
    /// Its version when it was removed.
    pub last_version: i64,
}

/// What a janitor batch did: the rows it removed, the version of each
/// memory that lost rows, and where it stopped in the index of expiring
/// rows (`None` when it found nothing due: the sweep is done).
pub struct SweptBatch {
    pub removed: Vec<SweptRow>,
    pub versions: BTreeMap<OwnerKey, i64>,
    pub stopped: Option<ExpiryCursor>,
}

/// One batch of expired variables: their memories with their bots (to
/// lock), the rows, and the first and last row's place in the index.
struct ExpiredBatch {
    owners: BTreeMap<OwnerKey, BotId>,
    rows: Vec<(OwnerKey, String)>,
    range: Option<(ExpiryCursor, ExpiryCursor)>,
}

/// The columns of `ix_variables_tenant_expiry_key` after the tenant.
fn expiry_key() -> Expr {
    Expr::tuple([
        Expr::col(variable::Column::ExpiresAt),
        Expr::col(variable::Column::Scope),
        Expr::col(variable::Column::OwnerId),
        Expr::col(variable::Column::Name),
    ])
}

impl Store {
    /// Versions and live variables of several memories in one statement
    /// (memories left-joined with their live variables), so the version and
    /// the variables come from one snapshot on both databases, with no
    /// explicit transaction. One memory on PostgreSQL is read by a function
    /// that names the tenant itself; several, in the short transaction that
    /// names it where row-level security is on. On SQLite the read runs on
    /// the store's own connections ([`super::sqlite_reads`]). Memories of
    /// bots outside `visible` are left out.
    pub async fn read_memories(
        &self,
        tenant: &TenantId,
        keys: &[OwnerKey],
        visible: impl Fn(BotId) -> bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<(OwnerKey, i64, Vec<Variable>)>> {
        let rows = match (self.db.get_database_backend(), &self.sqlite_reads) {
            (DbBackend::Postgres, _) if keys.len() == 1 => {
                self.read_memory_postgres(tenant, keys[0], now).await?
            }
            (_, Some(reads)) => read_memories_sqlite(reads, tenant, keys, now)?,
            _ => {
                let db = self.bound(tenant).await?;
                let owners: Vec<uuid::Uuid> = keys.iter().map(|k| k.owner_id).collect();
                let scopes: BTreeSet<&str> = keys.iter().map(|k| k.scope.as_str()).collect();
                let memories = scoped::<memory::Entity>(tenant)
                    .filter(memory::Column::OwnerId.is_in(owners))
                    .filter(memory::Column::Scope.is_in(scopes.iter().copied()));
                with_variables(memories, live_variables(now))
                    .all(&db)
                    .await?
            }
        };
        let mut found: BTreeMap<OwnerKey, (i64, Vec<Variable>)> =
            keys.iter().map(|k| (*k, (0, vec![]))).collect();
        for row in rows.into_iter().filter(|r| visible(BotId(r.bot_id))) {
            let Some(scope) = Scope::parse(&row.scope) else {
                continue;
            };
            let key = OwnerKey {
                scope,
                owner_id: row.owner_id,
            };
            let Some(entry) = found.get_mut(&key) else {
                continue;
            };
            entry.0 = row.version;
            entry.1.extend(row.variable());
        }
        Ok(found
            .into_iter()
            .map(|(key, (version, variables))| (key, version, variables))
            .collect())
    }
}

impl Store {
    /// One memory's read on PostgreSQL, in one statement on the pool:
    /// `botmem_read_memory` (migration `m20261207_000007`) names the tenant
    /// for row-level security itself, so the read opens no transaction of
    /// its own (three round trips become one). The tenant is named whether
    /// the wall is up or not: it costs nothing, and the function filters by
    /// it anyway.
    async fn read_memory_postgres(
        &self,
        tenant: &TenantId,
        key: OwnerKey,
        now: DateTime<Utc>,
    ) -> Result<Vec<MemoryRow>> {
        let read = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT * FROM botmem_read_memory($1, $2, $3, $4)",
            [
                tenant.as_str().into(),
                key.scope.as_str().into(),
                key.owner_id.into(),
                now.into(),
            ],
        );
        Ok(MemoryRow::find_by_statement(read).all(&self.db).await?)
    }
}

/// The same read on SQLite, on this thread ([`super::sqlite_reads`]).
/// Values are bound as sqlx binds them (ids as 16-byte blobs, times as
/// RFC 3339 text), so the comparisons match the rows it wrote.
fn read_memories_sqlite(
    reads: &super::sqlite_reads::SqliteReads,
    tenant: &TenantId,
    keys: &[OwnerKey],
    now: DateTime<Utc>,
) -> Result<Vec<MemoryRow>> {
    use rusqlite::types::Value as Bound;
    let scopes: BTreeSet<&str> = keys.iter().map(|k| k.scope.as_str()).collect();
    let owners: BTreeSet<uuid::Uuid> = keys.iter().map(|k| k.owner_id).collect();
    let marks = |n: usize| vec!["?"; n].join(",");
    let sql = format!(
        "SELECT m.scope, m.owner_id, m.bot_id, m.version, v.name, v.value, v.version, \
         v.expires_at, v.created_at, v.updated_at \
         FROM memories m LEFT JOIN variables v \
         ON v.tenant_id = m.tenant_id AND v.scope = m.scope AND v.owner_id = m.owner_id \
         AND (v.expires_at IS NULL OR v.expires_at > ?) \
         WHERE m.tenant_id = ? AND m.scope IN ({}) AND m.owner_id IN ({}) ORDER BY v.name",
        marks(scopes.len()),
        marks(owners.len()),
    );
    let mut bound = vec![
        Bound::Text(now.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)),
        Bound::Text(tenant.as_str().to_owned()),
    ];
    bound.extend(scopes.iter().map(|s| Bound::Text((*s).to_owned())));
    bound.extend(owners.iter().map(|o| Bound::Blob(o.as_bytes().to_vec())));
    reads.read(|conn| {
        let mut statement = conn.prepare_cached(&sql)?;
        let rows = statement.query_map(rusqlite::params_from_iter(bound), |row| {
            let json = |i: usize| -> rusqlite::Result<Option<StoredJson>> {
                Ok(row.get_ref(i)?.as_str_or_null()?.map(StoredJson::decode))
            };
            Ok(MemoryRow {
                scope: row.get(0)?,
                owner_id: sqlite_uuid(row, 1)?,
                bot_id: sqlite_uuid(row, 2)?,
                version: row.get(3)?,
                name: row.get(4)?,
                value: json(5)?,
                variable_version: row.get(6)?,
                expires_at: sqlite_time(row, 7)?,
                created_at: sqlite_time(row, 8)?,
                updated_at: sqlite_time(row, 9)?,
            })
        })?;
        rows.collect()
    })
}

/// An id as sqlx stores it on SQLite (a 16-byte blob), or as text.
fn sqlite_uuid(row: &rusqlite::Row, i: usize) -> rusqlite::Result<uuid::Uuid> {
    use rusqlite::types::{FromSqlError, ValueRef};
    let id = match row.get_ref(i)? {
        ValueRef::Blob(bytes) => uuid::Uuid::from_slice(bytes).ok(),
        ValueRef::Text(text) => std::str::from_utf8(text)
            .ok()
            .and_then(|t| uuid::Uuid::parse_str(t).ok()),
        _ => None,
    };
    id.ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            row.get_ref(i)
                .map_or(rusqlite::types::Type::Null, |v| v.data_type()),
            Box::new(FromSqlError::InvalidType),
        )
    })
}

/// A time as sqlx stores it on SQLite (RFC 3339 text), or in SQLite's own
/// `YYYY-MM-DD HH:MM:SS` form, as sqlx reads it.
fn sqlite_time(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let Some(text) = row.get_ref(i)?.as_str_or_null()? else {
        return Ok(None);
    };
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            ["%F %T%.f", "%FT%T%.f"].iter().find_map(|f| {
                chrono::NaiveDateTime::parse_from_str(text, f)
                    .ok()
                    .map(|t| t.and_utc())
            })
        })
        .or_else(|| {
            ["%F %T%.f%:z", "%F %T%.fZ"].iter().find_map(|f| {
                DateTime::parse_from_str(text, f)
                    .ok()
                    .map(|t| t.with_timezone(&Utc))
            })
        });
    parsed.map(Some).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("not a time: {text:?}").into(),
        )
    })
}

/// A variable the janitor removed, as `DELETE … RETURNING` gives it back.
#[derive(sea_orm::FromQueryResult)]
struct Removed {
    scope: String,
    owner_id: uuid::Uuid,
    name: String,
    version: i64,
}

/// A variable SQLite's janitor DELETE removed, with its place in the
/// expiry index.
#[derive(sea_orm::FromQueryResult)]
struct DeletedRow {
    expires_at: DateTime<Utc>,
    scope: String,
    owner_id: uuid::Uuid,
    name: String,
    bot_id: uuid::Uuid,
    version: i64,
}

/// A memory's version after a janitor batch stepped it.
#[derive(sea_orm::FromQueryResult)]
struct Stepped {
    scope: String,
    owner_id: uuid::Uuid,
    version: i64,
}

/// A memory with one of its live variables (or none), as
/// [`Store::read_memories`] reads it.
#[derive(sea_orm::FromQueryResult)]
struct MemoryRow {
    scope: String,
    owner_id: uuid::Uuid,
    bot_id: uuid::Uuid,
    version: i64,
    name: Option<String>,
    value: Option<StoredJson>,
    variable_version: Option<i64>,
    expires_at: Option<DateTime<Utc>>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

impl MemoryRow {
    /// The joined variable, if the memory has one here.
    fn variable(self) -> Option<Variable> {
        Some(Variable {
            name: self.name?,
            value: self.value?.0,
            version: self.variable_version?,
            expires_at: self.expires_at,
            created_at: self.created_at?,
            updated_at: self.updated_at?,
        })
    }
}

/// `memories` (filtered by the caller) ⟕ `variables` by `join`: one row per
/// variable, or one with no variable for a memory that has none here.
fn with_variables(
    memories: sea_orm::Select<memory::Entity>,
    join: RelationDef,
) -> sea_orm::Selector<sea_orm::SelectModel<MemoryRow>> {
    memories
        .select_only()
        .columns([
            memory::Column::Scope,
            memory::Column::OwnerId,
            memory::Column::BotId,
            memory::Column::Version,
        ])
        .column_as(variable::Column::Name, "name")
        .column_as(variable::Column::Value, "value")
        .column_as(variable::Column::Version, "variable_version")
        .column_as(variable::Column::ExpiresAt, "expires_at")
        .column_as(variable::Column::CreatedAt, "created_at")
        .column_as(variable::Column::UpdatedAt, "updated_at")
        .join(JoinType::LeftJoin, join)
        .order_by_asc(variable::Column::Name)
        .into_model::<MemoryRow>()
}

/// memories ⟕ variables of the same (tenant, scope, owner).
fn variables_of_memory() -> sea_orm::RelationBuilder<memory::Entity, variable::Entity> {
    memory::Entity::belongs_to(variable::Entity)
        .from((
            memory::Column::TenantId,
            memory::Column::Scope,
            memory::Column::OwnerId,
        ))
        .to((
            variable::Column::TenantId,
            variable::Column::Scope,
            variable::Column::OwnerId,
        ))
}

/// The variables of a memory that are live at `now` (rule 2).
fn live_variables(now: DateTime<Utc>) -> RelationDef {
    variables_of_memory()
        .on_condition(move |_, right| {
            sea_orm::Condition::any()
                .add(Expr::col((right.clone(), variable::Column::ExpiresAt)).is_null())
                .add(Expr::col((right, variable::Column::ExpiresAt)).gt(now))
        })
        .into()
}

/// The variables of a memory, live or not: all, or those of `names`.
fn stored_variables(names: Option<&[String]>) -> RelationDef {
    let names = names.map(<[String]>::to_vec);
    variables_of_memory()
        .on_condition(move |_, right| match &names {
            Some(names) => Expr::col((right, variable::Column::Name))
                .is_in(names.iter().cloned())
                .into(),
            None => sea_orm::Condition::all(),
        })
        .into()
}

/// The names to load for all of `wanted` at once: their union, or `None`
/// (every row) when one of them wants every row.
fn names_of(wanted: &BTreeMap<OwnerKey, (BotId, Option<Vec<String>>)>) -> Option<Vec<String>> {
    let mut names = BTreeSet::new();
    for (_, wants) in wanted.values() {
        names.extend(wants.as_ref()?.iter().cloned());
    }
    Some(names.into_iter().collect())
}

impl Tx {
    /// Locks the memory (creating its row at version 0) and returns its version.
    pub async fn lock_memory(&self, key: OwnerKey, bot: BotId, now: DateTime<Utc>) -> Result<i64> {
        let versions = self
            .lock_memories(&BTreeMap::from([(key, bot)]), now)
            .await?;
        versions
            .get(&key)
            .copied()
            .ok_or_else(|| Error::internal("memory row vanished under lock"))
    }

    /// Locks the memories (creating missing rows at version 0) and loads
    /// their rows, live or not (all, or those of the names given; a memory
    /// may get more rows than it asked for when several are loaded
    /// together): each memory's version and rows. However many memories,
    /// SQLite reads them in one joined read: its IMMEDIATE transaction
    /// already holds the only write lock, so the read sees the latest rows.
    /// PostgreSQL needs the locks first and the rows in a statement after
    /// them: a statement that waited for a lock still reads the rows of the
    /// snapshot it started with.
    pub async fn lock_and_load(
        &self,
        wanted: &BTreeMap<OwnerKey, (BotId, Option<Vec<String>>)>,
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<OwnerKey, (i64, Vec<Variable>)>> {
        let names = names_of(wanted);
        let mut loaded: BTreeMap<OwnerKey, (i64, Vec<Variable>)> = BTreeMap::new();
        if self.db().get_database_backend() == sea_orm::DbBackend::Sqlite {
            let owners: BTreeSet<uuid::Uuid> = wanted.keys().map(|k| k.owner_id).collect();
            let scopes: BTreeSet<&str> = wanted.keys().map(|k| k.scope.as_str()).collect();
            let memories = scoped::<memory::Entity>(self.tenant())
                .filter(memory::Column::OwnerId.is_in(owners))
                .filter(memory::Column::Scope.is_in(scopes));
            let rows = with_variables(memories, stored_variables(names.as_deref()))
                .all(self.db())
                .await?;
            for row in rows {
                let Some(key) = Scope::parse(&row.scope).map(|scope| OwnerKey {
                    scope,
                    owner_id: row.owner_id,
                }) else {
                    continue;
                };
                if !wanted.contains_key(&key) {
                    continue;
                }
                let entry = loaded.entry(key).or_insert((row.version, vec![]));
                entry.1.extend(row.variable());
            }
            if loaded.len() == wanted.len() {
                return Ok(loaded);
            }
        }
        let missing: BTreeMap<OwnerKey, BotId> = wanted
            .iter()
            .filter(|(key, _)| !loaded.contains_key(key))
            .map(|(key, (bot, _))| (*key, *bot))
            .collect();
        let versions = self.lock_memories(&missing, now).await?;
        let mut rows = self.load_memories(&missing, names.as_deref()).await?;
        for key in missing.keys() {
            let version = versions
                .get(key)
                .copied()
                .ok_or_else(|| Error::internal("memory row vanished under lock"))?;
            loaded.insert(*key, (version, rows.remove(key).unwrap_or_default()));
        }
        Ok(loaded)
    }

    /// The rows of these memories (all, or those of `names`).
    async fn load_memories(
        &self,
        owners: &BTreeMap<OwnerKey, BotId>,
        names: Option<&[String]>,
    ) -> Result<BTreeMap<OwnerKey, Vec<Variable>>> {
        let backend = self.db().get_database_backend();
        let keys: Vec<OwnerKey> = owners.keys().copied().collect();
        let mut select = scoped::<variable::Entity>(self.tenant()).filter(of_memories(
            backend,
            &keys,
            variable::Column::Scope,
            variable::Column::OwnerId,
        ));
        if let Some(names) = names {
            select = select.filter(variable::Column::Name.is_in(names.iter().cloned()));
        }
        let mut rows: BTreeMap<OwnerKey, Vec<Variable>> = BTreeMap::new();
        for row in select.all(self.db()).await? {
            let Some(scope) = Scope::parse(&row.scope) else {
                continue;
            };
            let key = OwnerKey {
                scope,
                owner_id: row.owner_id,
            };
            rows.entry(key).or_default().push(to_variable(row));
        }
        Ok(rows)
    }

    /// Writes what the operations changed, whatever the number of memories,
    /// in one round trip ([`in_one_round_trip`]): the deleted rows, the
    /// written rows, the version step of each memory the model says
    /// changed and, on PostgreSQL, the notification of the events staged
    /// so far (stage them first: the commit then has nothing left to send). The model steps a changed memory exactly once per operation
    /// ([`OwnerMemory::new_version`]), and the rows are locked, so one
    /// `version + 1` over all of them writes the model's versions (a CASE
    /// of absolute versions made janitor batches ~25% slower on PostgreSQL).
    pub async fn save_memories<'a>(
        &mut self,
        memories: impl IntoIterator<Item = &'a OwnerMemory>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let backend = self.db().get_database_backend();
        let mut deletes: Vec<Vec<sea_orm::Value>> = vec![];
        let mut writes: Vec<variable::ActiveModel> = vec![];
        let mut stepped: Vec<OwnerKey> = vec![];
        let mut touched: Vec<OwnerKey> = vec![];
        for memory in memories {
            let key = memory.key;
            let (written, deleted) = memory.dirty_rows();
            if !deleted.is_empty() {
                touched.push(key);
            }
            deletes.extend(deleted.into_iter().map(|name| {
                vec![
                    key.scope.as_str().into(),
                    key.owner_id.into(),
                    name.to_owned().into(),
                ]
            }));
            writes.extend(written.into_iter().map(|v| variable::ActiveModel {
                tenant_id: Set(self.tenant().as_str().to_owned()),
                scope: Set(key.scope.as_str().to_owned()),
                owner_id: Set(key.owner_id),
                name: Set(v.name.clone()),
                bot_id: Set(memory.bot_id.0),
                value: Set(StoredJson(v.value.clone())),
                version: Set(v.version),
                expires_at: Set(v.expires_at),
                created_at: Set(v.created_at),
                updated_at: Set(v.updated_at),
            }));
            if memory.changed() {
                debug_assert_eq!(memory.new_version(), memory.loaded_version + 1);
                stepped.push(key);
            }
        }
        let mut statements: Vec<SubQueryStatement> = vec![];
        if !deletes.is_empty() {
            let delete = scoped_delete::<variable::Entity>(self.tenant())
                .filter(any_memory_of(
                    &touched,
                    variable::Column::Scope,
                    variable::Column::OwnerId,
                ))
                .filter(in_values(backend, &["scope", "owner_id", "name"], deletes))
                .into_query();
            statements.push(delete.into());
        }
        if !writes.is_empty() {
            let upsert = variable::Entity::insert_many(writes)
                .on_conflict(
                    OnConflict::columns([
                        variable::Column::TenantId,
                        variable::Column::Scope,
                        variable::Column::OwnerId,
                        variable::Column::Name,
                    ])
                    .update_columns([
                        variable::Column::Value,
                        variable::Column::Version,
                        variable::Column::ExpiresAt,
                        variable::Column::CreatedAt,
                        variable::Column::UpdatedAt,
                    ])
                    .to_owned(),
                )
                .into_query();
            statements.push(upsert.into());
        }
        if !stepped.is_empty() {
            statements.push(self.step_versions(&stepped, now).into());
        }
        if !statements.is_empty()
            && let Some(notification) = self.take_notification()?
        {
            statements.push(notification.into());
        }
        if let Some(statement) = in_one_round_trip(backend, statements) {
            self.db().execute_raw(statement).await?;
        }
        Ok(())
    }

    /// Fails with `QUOTA_EXCEEDED` when one of these memories (written in
    /// this transaction) holds more live variables than
    /// `BOTMEM_QUOTA_VARIABLES_PER_MEMORY`; the caller's transaction then
    /// rolls back.
    pub async fn admit_variables(&self, keys: &[OwnerKey], now: DateTime<Utc>) -> Result<()> {
        if self.quotas.variables_per_memory.is_none() || keys.is_empty() {
            return Ok(());
        }
        // One statement for the whole group (it was one per memory).
        let counts: Vec<(String, uuid::Uuid, i64)> = scoped::<variable::Entity>(self.tenant())
            .filter(of_memories(
                self.db().get_database_backend(),
                keys,
                variable::Column::Scope,
                variable::Column::OwnerId,
            ))
            .filter(
                sea_orm::Condition::any()
                    .add(variable::Column::ExpiresAt.is_null())
                    .add(variable::Column::ExpiresAt.gt(now)),
            )
            .select_only()
            .column(variable::Column::Scope)
            .column(variable::Column::OwnerId)
            .column_as(
                Expr::from(sea_orm::sea_query::Func::count(Expr::col(
                    variable::Column::Name,
                ))),
                "live",
            )
            .group_by(variable::Column::Scope)
            .group_by(variable::Column::OwnerId)
            .into_tuple()
            .all(self.db())
            .await?;
        for (_, _, live) in counts {
            self.quotas
                .admit(Quota::VariablesPerMemory, u64::try_from(live).unwrap_or(0))?;
        }
        Ok(())
    }

    /// `version + 1` for each of these memories, locked by the caller.
    fn step_versions(
        &self,
        owners: &[OwnerKey],
        now: DateTime<Utc>,
    ) -> sea_orm::sea_query::UpdateStatement {
        let backend = self.db().get_database_backend();
        scoped_update::<memory::Entity>(self.tenant())
            .col_expr(
                memory::Column::Version,
                Expr::col(memory::Column::Version).add(1),
            )
            .col_expr(memory::Column::UpdatedAt, Expr::value(now))
            .filter(of_memories(
                backend,
                owners,
                memory::Column::Scope,
                memory::Column::OwnerId,
            ))
            .into_query()
    }

    /// One janitor batch of up to `limit` expired variables, removed
    /// set-wise, each memory that lost rows stepping its version once.
    ///
    /// PostgreSQL: the due rows are read (after `after`, where the last
    /// batch stopped), their memories locked in key order as every writer
    /// locks, and one `DELETE … RETURNING` removes those still expired
    /// under the locks (a value a writer just renewed stays).
    ///
    /// SQLite: the transaction already holds the one write lock, so no
    /// writer can renew a row meanwhile, and a deleted row leaves the
    /// index at once. One `DELETE … RETURNING` takes the first due rows of
    /// the expiry index, and one upsert steps the memories' versions and
    /// returns them: two statements a batch, not five, each a round trip
    /// to sqlx's connection thread with every row a message of its own
    /// (a sweep spent ~15% of its time switching threads).
    pub async fn expire_batch(
        &self,
        now: DateTime<Utc>,
        limit: u64,
        after: Option<&ExpiryCursor>,
    ) -> Result<SweptBatch> {
        if self.db().get_database_backend() == DbBackend::Sqlite {
            return self.expire_batch_sqlite(now, limit).await;
        }
        let found = self.expired_batch(now, limit, after).await?;
        let locked = self.lock_memories(&found.owners, now).await?;
        let removed = self.delete_batch_postgres(&found, now).await?;
        let removed: Vec<SweptRow> = removed
            .into_iter()
            .filter_map(|(key, name, last_version)| {
                Some(SweptRow {
                    key,
                    bot: *found.owners.get(&key)?,
                    name,
                    last_version,
                })
            })
            .collect();
        // The DELETE stepped each memory that lost rows once.
        let versions = removed
            .iter()
            .filter_map(|row| Some((row.key, locked.get(&row.key)? + 1)))
            .collect();
        Ok(SweptBatch {
            removed,
            versions,
            stopped: found.range.map(|(_, last)| last),
        })
    }

    async fn expire_batch_sqlite(&self, now: DateTime<Utc>, limit: u64) -> Result<SweptBatch> {
        let delete = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "DELETE FROM \"variables\" WHERE rowid IN (\
               SELECT rowid FROM \"variables\" WHERE \"tenant_id\" = ? AND \"expires_at\" <= ? \
               ORDER BY \"expires_at\", \"scope\", \"owner_id\", \"name\" LIMIT ?) \
             RETURNING \"expires_at\", \"scope\", \"owner_id\", \"name\", \"bot_id\", \"version\"",
            [
                self.tenant().as_str().into(),
                now.into(),
                i64::try_from(limit).unwrap_or(i64::MAX).into(),
            ],
        );
        let rows = DeletedRow::find_by_statement(delete).all(self.db()).await?;
        // The rows come back in no set order: the batch stopped at the
        // greatest in the index.
        let stopped = rows
            .iter()
            .max_by(|a, b| {
                (a.expires_at, &a.scope, a.owner_id, &a.name).cmp(&(
                    b.expires_at,
                    &b.scope,
                    b.owner_id,
                    &b.name,
                ))
            })
            .map(|last| ExpiryCursor {
                expires_at: last.expires_at,
                scope: last.scope.clone(),
                owner_id: last.owner_id,
                name: last.name.clone(),
            });
        let removed: Vec<SweptRow> = rows
            .into_iter()
            .filter_map(|row| {
                Some(SweptRow {
                    key: OwnerKey {
                        scope: Scope::parse(&row.scope)?,
                        owner_id: row.owner_id,
                    },
                    bot: BotId(row.bot_id),
                    name: row.name,
                    last_version: row.version,
                })
            })
            .collect();
        let owners: Vec<(OwnerKey, BotId)> = removed
            .iter()
            .map(|row| (row.key, row.bot))
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect();
        let mut versions = BTreeMap::new();
        // Five values a memory, well inside SQLite's 32 766.
        for chunk in owners.chunks(1000) {
            let statement = step_or_create_sqlite(self.tenant(), chunk, now);
            for row in Stepped::find_by_statement(statement).all(self.db()).await? {
                if let Some(scope) = Scope::parse(&row.scope) {
                    let key = OwnerKey {
                        scope,
                        owner_id: row.owner_id,
                    };
                    versions.insert(key, row.version);
                }
            }
        }
        Ok(SweptBatch {
            removed,
            versions,
            stopped,
        })
    }

    /// PostgreSQL's batch DELETE: removes those of the batch's rows (of
    /// memories the caller locked) that are still expired at `now`, and
    /// steps the version of each memory that lost one in the same
    /// statement; returns the removed rows as (memory, name, last
    /// version). Only the batch's rows go, however many more a memory
    /// holds: a batch stays as small as configured. The batch's range in
    /// the expiry index bounds the DELETE, so it reads that range, not
    /// every dead entry before it.
    async fn delete_batch_postgres(
        &self,
        batch: &ExpiredBatch,
        now: DateTime<Utc>,
    ) -> Result<Vec<(OwnerKey, String, i64)>> {
        let (rows, Some((first, last))) = (&batch.rows, &batch.range) else {
            return Ok(vec![]);
        };
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let statement = delete_expired_postgres(self.tenant(), rows, (first, last), now);
        Ok(Removed::find_by_statement(statement)
            .all(self.db())
            .await?
            .into_iter()
            .filter_map(|r| {
                let key = OwnerKey {
                    scope: Scope::parse(&r.scope)?,
                    owner_id: r.owner_id,
                };
                Some((key, r.name, r.version))
            })
            .collect())
    }

    /// Up to `limit` expired rows, in the janitor's index order (expiry,
    /// then key), after `after` (where the previous batch stopped): each
    /// batch starts at its own place in the index instead of stepping over
    /// the rows earlier batches deleted and PostgreSQL has not vacuumed yet.
    async fn expired_batch(
        &self,
        now: DateTime<Utc>,
        limit: u64,
        after: Option<&ExpiryCursor>,
    ) -> Result<ExpiredBatch> {
        let mut select =
            scoped::<variable::Entity>(self.tenant()).filter(variable::Column::ExpiresAt.lte(now));
        if let Some(after) = after {
            select = select.filter(expiry_key().gt(after.tuple()));
        }
        // (expires_at, scope, owner_id, name, bot_id)
        type Found = (DateTime<Utc>, String, uuid::Uuid, String, uuid::Uuid);
        let found: Vec<Found> = select
            .order_by_asc(variable::Column::ExpiresAt)
            .order_by_asc(variable::Column::Scope)
            .order_by_asc(variable::Column::OwnerId)
            .order_by_asc(variable::Column::Name)
            .select_only()
            .columns([
                variable::Column::ExpiresAt,
                variable::Column::Scope,
                variable::Column::OwnerId,
                variable::Column::Name,
                variable::Column::BotId,
            ])
            .limit(limit)
            .into_tuple()
            .all(self.db())
            .await?;
        let cursor = |(expires_at, scope, owner_id, name, _): &Found| ExpiryCursor {
            expires_at: *expires_at,
            scope: scope.clone(),
            owner_id: *owner_id,
            name: name.clone(),
        };
        let range = found.first().map(cursor).zip(found.last().map(cursor));
        let mut owners = BTreeMap::new();
        let mut rows = Vec::with_capacity(found.len());
        for (_, scope, owner_id, name, bot) in found {
            let Some(scope) = Scope::parse(&scope) else {
                continue;
            };
            let key = OwnerKey { scope, owner_id };
            owners.insert(key, BotId(bot));
            rows.push((key, name));
        }
        Ok(ExpiredBatch {
            owners,
            rows,
            range,
        })
    }

    /// Locks several memories at once, in key order (the order every
    /// writer uses), creating missing rows at version 0; their versions.
    /// A single memory that exists (a write's usual case) takes one
    /// statement; otherwise the missing rows are inserted first and all are
    /// locked together, so locks are always taken in key order.
    pub async fn lock_memories(
        &self,
        owners: &BTreeMap<OwnerKey, BotId>,
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<OwnerKey, i64>> {
        if owners.is_empty() {
            return Ok(BTreeMap::new());
        }
        if owners.len() == 1 {
            let locked = self.select_for_update(owners).await?;
            if locked.len() == 1 {
                return Ok(locked);
            }
        }
        let rows = owners.iter().map(|(key, bot)| memory::ActiveModel {
            tenant_id: Set(self.tenant().as_str().to_owned()),
            scope: Set(key.scope.as_str().to_owned()),
            owner_id: Set(key.owner_id),
            bot_id: Set(bot.0),
            version: Set(0),
            updated_at: Set(now),
        });
        memory::Entity::insert_many(rows)
            .on_conflict_do_nothing()
            .exec(self.db())
            .await?;
        self.select_for_update(owners).await
    }

    async fn select_for_update(
        &self,
        owners: &BTreeMap<OwnerKey, BotId>,
    ) -> Result<BTreeMap<OwnerKey, i64>> {
        let backend = self.db().get_database_backend();
        let keys: Vec<OwnerKey> = owners.keys().copied().collect();
        let locked = scoped::<memory::Entity>(self.tenant())
            .filter(of_memories(
                backend,
                &keys,
                memory::Column::Scope,
                memory::Column::OwnerId,
            ))
            .order_by_asc(memory::Column::Scope)
            .order_by_asc(memory::Column::OwnerId)
            .lock_exclusive()
            .all(self.db())
            .await?;
        Ok(locked
            .into_iter()
            .filter_map(|m| {
                let scope = Scope::parse(&m.scope)?;
                Some((
                    OwnerKey {
                        scope,
                        owner_id: m.owner_id,
                    },
                    m.version,
                ))
            })
            .collect())
    }
}

/// Data-changing statements sent as one: on PostgreSQL the last is the
/// main statement and the others its `WITH` clauses (PostgreSQL runs every
/// data-changing `WITH` clause, on one snapshot: the statements must touch
/// different rows, as a save's deletes, upserts and version steps do); on
/// SQLite, which has no such clauses, one string of statements (sqlx binds
/// the `?` of each in turn, and runs them all in one call to its worker
/// thread). Each statement saved is a round trip fewer per write.
fn in_one_round_trip(
    backend: sea_orm::DbBackend,
    mut statements: Vec<SubQueryStatement>,
) -> Option<sea_orm::Statement> {
    if backend == sea_orm::DbBackend::Sqlite && !statements.is_empty() {
        let built: Vec<sea_orm::Statement> = statements
            .into_iter()
            .map(|s| build_sub_query(backend, s))
            .collect();
        let sql = built
            .iter()
            .map(|b| b.sql.as_str())
            .collect::<Vec<_>>()
            .join(";\n");
        let values: Vec<sea_orm::Value> = built
            .into_iter()
            .flat_map(|b| b.values.map(|v| v.0).unwrap_or_default())
            .collect();
        return Some(sea_orm::Statement::from_sql_and_values(
            backend, sql, values,
        ));
    }
    let last = statements.pop()?;
    let mut with = sea_orm::sea_query::WithClause::new();
    for (i, statement) in statements.into_iter().enumerate() {
        with.cte(
            sea_orm::sea_query::CommonTableExpression::new()
                .query(statement)
                .table_name(format!("step{i}"))
                .to_owned(),
        );
    }
    let query = with.query(last);
    Some(backend.build(&query))
}

fn build_sub_query(
    backend: sea_orm::DbBackend,
    statement: SubQueryStatement,
) -> sea_orm::Statement {
    match statement {
        SubQueryStatement::SelectStatement(s) => backend.build(&s),
        SubQueryStatement::InsertStatement(s) => backend.build(&s),
        SubQueryStatement::UpdateStatement(s) => backend.build(&s),
        SubQueryStatement::DeleteStatement(s) => backend.build(&s),
        SubQueryStatement::WithStatement(s) => backend.build(&s),
    }
}

/// Rows of exactly these memories: `scope IN (…) AND owner_id IN (…)`, a
/// superset the tenant's key index seeks directly, narrowed to the pairs
/// by [`in_values`] (on its own, PostgreSQL would plan that as a hashed
/// semi-join over every row of the tenant: a group commit of a few
/// memories cost ~3 ms of PostgreSQL CPU).
fn of_memories<C: ColumnTrait>(
    backend: sea_orm::DbBackend,
    keys: &[OwnerKey],
    scope: C,
    owner: C,
) -> sea_orm::Condition {
    any_memory_of(keys, scope, owner).add(in_values(
        backend,
        &["scope", "owner_id"],
        keys.iter()
            .map(|k| vec![k.scope.as_str().into(), k.owner_id.into()])
            .collect(),
    ))
}

/// `scope IN (…) AND owner_id IN (…)` of these memories: a superset of
/// their rows that an index on (tenant, scope, owner) seeks.
fn any_memory_of<C: ColumnTrait>(keys: &[OwnerKey], scope: C, owner: C) -> sea_orm::Condition {
    let scopes: BTreeSet<&str> = keys.iter().map(|k| k.scope.as_str()).collect();
    let owners: BTreeSet<uuid::Uuid> = keys.iter().map(|k| k.owner_id).collect();
    sea_orm::Condition::all()
        .add(scope.is_in(scopes))
        .add(owner.is_in(owners))
}

/// `(a, b, …) IN (VALUES (…), …)` over bound values. PostgreSQL plans it
/// as a hashed semi-join; the row-value list form `IN ((…), (…))` becomes
/// one OR per tuple, checked against every row (a batch of 1000 took ~1 s).
fn in_values(
    backend: sea_orm::DbBackend,
    columns: &[&str],
    rows: Vec<Vec<sea_orm::Value>>,
) -> Expr {
    let mark = placeholder(backend);
    let tuple = format!("({})", vec![mark; columns.len()].join(", "));
    let list = vec![tuple; rows.len()].join(", ");
    let columns = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Expr::cust_with_values(
        format!("({columns}) IN (VALUES {list})"),
        rows.into_iter().flatten(),
    )
}

/// sea-query's placeholder for custom SQL: `$` on PostgreSQL, `?` elsewhere.
fn placeholder(backend: sea_orm::DbBackend) -> &'static str {
    if backend == sea_orm::DbBackend::Postgres {
        "$"
    } else {
        "?"
    }
}

/// Deletes every memory row and variable of a bot (bot deletion), of one
/// owner, or of several owners.
pub(super) async fn delete_memories_of_bot<C: sea_orm::ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    bot: BotId,
) -> Result<()> {
    scoped_delete::<variable::Entity>(tenant)
        .filter(variable::Column::BotId.eq(bot.0))
        .exec(db)
        .await?;
    scoped_delete::<memory::Entity>(tenant)
        .filter(memory::Column::BotId.eq(bot.0))
        .exec(db)
        .await?;
    Ok(())
}

pub(super) async fn delete_memories_of_owners<C: sea_orm::ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    scopes: &[Scope],
    owners: &[uuid::Uuid],
) -> Result<()> {
    if owners.is_empty() {
        return Ok(());
    }
    let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    scoped_delete::<variable::Entity>(tenant)
        .filter(variable::Column::Scope.is_in(scopes.clone()))
        .filter(variable::Column::OwnerId.is_in(owners.iter().copied()))
        .exec(db)
        .await?;
    scoped_delete::<memory::Entity>(tenant)
        .filter(memory::Column::Scope.is_in(scopes))
        .filter(memory::Column::OwnerId.is_in(owners.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// The janitor's DELETE on PostgreSQL. The batch's rows are found again
/// by walking the expiry index from the batch's first row for as many rows
/// as the batch has (`LIMIT`), kept only if they are the batch's keys
/// (joined, not a semi-join: PostgreSQL ran `IN (VALUES …)` as a nested
/// loop comparing every row with every key, ~200 ms per 1 000 rows), and
/// deleted by their row ids. The `LIMIT` is what ends the walk: a range's
/// upper bound alone did not stop the index scan when many rows share one
/// `expires_at`, and it read on through every remaining expired row (~5
/// 000 rows/s over 1M such rows). A row that entered the range after the
/// batch was read (a write can add none already expired, but if one did)
/// would only push the batch's last rows to the next sweep; expired rows
/// are absent from every read meanwhile.
fn delete_expired_postgres(
    tenant: &TenantId,
    rows: &[(OwnerKey, String)],
    (first, last): (&ExpiryCursor, &ExpiryCursor),
    now: DateTime<Utc>,
) -> sea_orm::Statement {
    // Placeholders numbered in the order the values are pushed below.
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    let keys: Vec<String> = rows
        .iter()
        .map(|_| format!("({}, {}, {})", next(), next(), next()))
        .collect();
    let (tenant_mark, now_mark) = (next(), next());
    let bound = |next: &mut dyn FnMut() -> String| {
        format!("({}, {}, {}, {})", next(), next(), next(), next())
    };
    let (from, to) = (bound(&mut next), bound(&mut next));
    let key = "(\"expires_at\", \"scope\", \"owner_id\", \"name\")";
    // `stepped` is `Tx::step_versions` for the memories the DELETE
    // returns, which no statement built beforehand can name: keep the two
    // alike.
    let sql = format!(
        "WITH removed AS (DELETE FROM \"variables\" AS v \
         USING (SELECT ctid AS row_id, \"scope\", \"owner_id\", \"name\" FROM \"variables\" \
                WHERE \"tenant_id\" = {tenant_mark} AND \"expires_at\" <= {now_mark} \
                  AND {key} >= {from} AND {key} <= {to} \
                ORDER BY \"tenant_id\", \"expires_at\", \"scope\", \"owner_id\", \"name\" \
                LIMIT {limit}) AS ranged, \
              (VALUES {keys}) AS batch (scope, owner_id, name) \
         WHERE v.ctid = ranged.row_id AND ranged.\"scope\" = batch.scope \
           AND ranged.\"owner_id\" = batch.owner_id AND ranged.\"name\" = batch.name \
           AND v.\"tenant_id\" = {tenant_mark} AND v.\"expires_at\" <= {now_mark} \
         RETURNING v.\"scope\", v.\"owner_id\", v.\"name\", v.\"version\"), \
         stepped AS (UPDATE \"memories\" AS m SET \"version\" = m.\"version\" + 1, \"updated_at\" = {now_mark} \
                     FROM (SELECT DISTINCT \"scope\", \"owner_id\" FROM removed) AS lost \
                     WHERE m.\"tenant_id\" = {tenant_mark} AND m.\"scope\" = lost.\"scope\" \
                       AND m.\"owner_id\" = lost.\"owner_id\") \
         SELECT * FROM removed",
        limit = rows.len(),
        keys = keys.join(", "),
    );
    let mut values = batch_values(rows, tenant, now);
    for cursor in [first, last] {
        values.push(cursor.expires_at.into());
        values.push(cursor.scope.as_str().into());
        values.push(cursor.owner_id.into());
        values.push(cursor.name.as_str().into());
    }
    sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, values)
}

/// `version + 1` for each of these memories, created at version 1 where
/// missing (as [`Tx::lock_memories`] creates them at 0, then steps), with
/// the versions they now have.
fn step_or_create_sqlite(
    tenant: &TenantId,
    owners: &[(OwnerKey, BotId)],
    now: DateTime<Utc>,
) -> Statement {
    let rows = vec!["(?, ?, ?, ?, 1, ?)"; owners.len()].join(", ");
    let sql = format!(
        "INSERT INTO \"memories\" (\"tenant_id\", \"scope\", \"owner_id\", \"bot_id\", \"version\", \"updated_at\") \
         VALUES {rows} \
         ON CONFLICT (\"tenant_id\", \"scope\", \"owner_id\") DO UPDATE \
           SET \"version\" = \"memories\".\"version\" + 1, \"updated_at\" = excluded.\"updated_at\" \
         RETURNING \"scope\", \"owner_id\", \"version\""
    );
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(owners.len() * 5);
    for (key, bot) in owners {
        values.push(tenant.as_str().into());
        values.push(key.scope.as_str().into());
        values.push(key.owner_id.into());
        values.push(bot.0.into());
        values.push(now.into());
    }
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}

/// The values a janitor DELETE binds first: each row's key (scope, owner,
/// name), then the tenant and `now`.
fn batch_values(
    rows: &[(OwnerKey, String)],
    tenant: &TenantId,
    now: DateTime<Utc>,
) -> Vec<sea_orm::Value> {
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows.len() * 3 + 10);
    for (key, name) in rows {
        values.push(key.scope.as_str().into());
        values.push(key.owner_id.into());
        values.push(name.as_str().into());
    }
    values.push(tenant.as_str().into());
    values.push(now.into());
    values
}
