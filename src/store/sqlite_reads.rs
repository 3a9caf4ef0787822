//! Memory reads on SQLite through rusqlite, on the asking task's thread.
//!
//! sqlx runs each SQLite connection on a thread of its own: a statement is
//! a message to that thread, and every row a message back, each a wakeup
//! and a context switch. `perf` on the bench's memory read showed more of
//! its CPU in those (futex, scheduling) than in SQLite itself, which reads
//! a memory by key in tens of microseconds. So the hottest read runs where
//! it is asked, on connections of its own that only read (`query_only`).
//!
//! Writes stay on sqlx, behind the store's write gate. A read here sees
//! what was committed when it started, as a read on sqlx's pool does (WAL).
//! In-memory databases keep sqlx's path: a second connection would open a
//! second, empty database.
use std::{path::PathBuf, str::FromStr, sync::Mutex, time::Duration};

use rusqlite::{Connection, OpenFlags};
use sea_orm::sqlx::sqlite::SqliteConnectOptions;

use crate::error::{Error, Result};

/// Idle connections kept: a read never waits on anything, so a few cover
/// the tasks that can run at once; a burst opens more and closes them.
const IDLE_KEPT: usize = 4;

pub(super) struct SqliteReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteReads {
    /// `None` for an in-memory database, or a URL sqlx would not open.
    pub fn for_url(url: &str) -> Option<SqliteReads> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return None;
        }
        let options = SqliteConnectOptions::from_str(url).ok()?;
        Some(SqliteReads {
            path: options.get_filename().to_owned(),
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Runs `read` on an idle connection (or a new one) and keeps it.
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open().map_err(failed)?,
        };
        let result = read(&conn).map_err(failed);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_KEPT {
            idle.push(conn);
        }
        result
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", -256)?;
        conn.set_prepared_statement_cache_capacity(8);
        Ok(conn)
    }
}

fn failed(e: rusqlite::Error) -> Error {
    Error::internal(format!("SQLite read: {e}"))
}
