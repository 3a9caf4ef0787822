//! What the store's statements run on: the pool, a sea-orm transaction
//! (SQLite), or a PostgreSQL transaction that named its tenant in the same
//! round trip as its `BEGIN` ([`PgTx`]). sea-orm opens a transaction with a
//! bare `BEGIN` and has no way to add to it, so naming the tenant for
//! row-level security cost a round trip of its own: a third of a read.
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement,
    sqlx::{self, Postgres},
};
use sea_query_sqlx::SqlxValues;

use crate::error::Result;

/// Where a statement of the store runs.
pub(super) enum Conn<'a> {
    /// The pool: reads without row-level security.
    Pool(&'a DatabaseConnection),
    /// A sea-orm transaction (SQLite's, which starts `IMMEDIATE`).
    Sea(DatabaseTransaction),
    /// A PostgreSQL transaction, bound to a tenant where the wall is up.
    Pg(PgTx),
}

impl Conn<'_> {
    /// Commits a transaction; the pool has nothing to commit.
    pub async fn commit(self) -> Result<()> {
        match self {
            Conn::Pool(_) => {}
            Conn::Sea(tx) => tx.commit().await?,
            Conn::Pg(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// A PostgreSQL transaction opened by `BEGIN; SELECT set_config(…)` in one
/// simple-protocol message. Dropped without a commit, it rolls back (sqlx
/// sends the `ROLLBACK` with the connection's next use).
pub(super) struct PgTx(tokio::sync::Mutex<sqlx::Transaction<'static, Postgres>>);

impl PgTx {
    /// Begins on a connection of `db`'s pool; with `tenant`, names it as
    /// `botmem.tenant` for the rest of the transaction (`SET LOCAL`).
    pub async fn begin(db: &DatabaseConnection, tenant: Option<&str>) -> Result<PgTx> {
        let sql = match tenant {
            Some(tenant) => format!(
                "BEGIN; SELECT set_config('botmem.tenant', {}, true)",
                literal(tenant)
            ),
            None => "BEGIN".to_owned(),
        };
        let tx = db
            .get_postgres_connection_pool()
            .begin_with(sqlx::AssertSqlSafe(sql))
            .await
            .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))?;
        Ok(PgTx(tokio::sync::Mutex::new(tx)))
    }

    async fn commit(self) -> std::result::Result<(), DbErr> {
        self.0.into_inner().commit().await.map_err(exec_err)
    }
}

/// `text` as an SQL string literal. Tenant ids are letters, digits, `-`,
/// `_` and `.` (and `*` for housekeeping), so nothing needs escaping; the
/// quotes are doubled anyway, and PostgreSQL reads backslashes literally
/// (`standard_conforming_strings`, on since 9.1).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(e.into()))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(e.into()))
}

fn query(stmt: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(sea_orm::Values(vec![]));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

#[async_trait::async_trait]
impl ConnectionTrait for PgTx {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
        let mut tx = self.0.lock().await;
        let done = query(&stmt).execute(&mut **tx).await.map_err(exec_err)?;
        Ok(done.into())
    }

    async fn execute_unprepared(&self, sql: &str) -> std::result::Result<ExecResult, DbErr> {
        use sqlx::Executor;
        let mut tx = self.0.lock().await;
        let done = (&mut **tx)
            .execute(sqlx::AssertSqlSafe(sql.to_owned()))
            .await
            .map_err(exec_err)?;
        Ok(done.into())
    }

    async fn query_one_raw(
        &self,
        stmt: Statement,
    ) -> std::result::Result<Option<QueryResult>, DbErr> {
        let mut tx = self.0.lock().await;
        let row = query(&stmt)
            .fetch_optional(&mut **tx)
            .await
            .map_err(query_err)?;
        Ok(row.map(Into::into))
    }

    async fn query_all_raw(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        let mut tx = self.0.lock().await;
        let rows = query(&stmt).fetch_all(&mut **tx).await.map_err(query_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Conn<'_> {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Conn::Pool(db) => db.get_database_backend(),
            Conn::Sea(tx) => tx.get_database_backend(),
            Conn::Pg(_) => DbBackend::Postgres,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
        match self {
            Conn::Pool(db) => db.execute_raw(stmt).await,
            Conn::Sea(tx) => tx.execute_raw(stmt).await,
            Conn::Pg(tx) => tx.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> std::result::Result<ExecResult, DbErr> {
        match self {
            Conn::Pool(db) => db.execute_unprepared(sql).await,
            Conn::Sea(tx) => tx.execute_unprepared(sql).await,
            Conn::Pg(tx) => tx.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(
        &self,
        stmt: Statement,
    ) -> std::result::Result<Option<QueryResult>, DbErr> {
        match self {
            Conn::Pool(db) => db.query_one_raw(stmt).await,
            Conn::Sea(tx) => tx.query_one_raw(stmt).await,
            Conn::Pg(tx) => tx.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        match self {
            Conn::Pool(db) => db.query_all_raw(stmt).await,
            Conn::Sea(tx) => tx.query_all_raw(stmt).await,
            Conn::Pg(tx) => tx.query_all_raw(stmt).await,
        }
    }
}
