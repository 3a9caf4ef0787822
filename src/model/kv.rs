//! The general key-value store under the memory (Botpress KVS): per bot or
//! tenant-wide, with expiry and compare-and-set. Keys are literal strings:
//! a prefix matches characters exactly, with no wildcards.
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::*;
use crate::error::{Error, Result};

pub const MAX_KEY_CHARS: usize = 512;
pub const MAX_KV_PAGE: i32 = 100;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KvKey {
    /// `None`: the tenant-wide store.
    pub bot: Option<BotId>,
    pub key: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct KvEntry {
    pub bot: Option<BotId>,
    pub key: String,
    pub value: Value,
    pub version: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl KvEntry {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

#[derive(Clone, Debug)]
pub struct KvWrite {
    pub key: KvKey,
    pub value: Value,
    pub expires_in: Option<Duration>,
    pub expected_version: Option<i64>,
}

/// Keys are literal; an empty prefix means every key.
pub(crate) fn check_key(field: &str, key: &str, allow_empty: bool) -> Result<()> {
    if key.is_empty() && allow_empty {
        return Ok(());
    }
    super::text::check_literal(field, key, MAX_KEY_CHARS)
}

/// The next state of an entry after a write, or `None` when nothing
/// changes (same value, same expiry). Checks `expectedVersion` (0: must
/// not exist) against the live entry.
pub fn plan_kv_write(
    current: Option<&KvEntry>,
    write: &KvWrite,
    now: DateTime<Utc>,
) -> Result<Option<KvEntry>> {
    let live = current.filter(|e| e.is_live(now));
    let version = live.map_or(0, |e| e.version);
    if let Some(expected) = write.expected_version
        && expected != version
    {
        return Err(Error::Conflict(format!(
            "key is at version {version}, not {expected}"
        )));
    }
    let expires_at = write.expires_in.map(|d| now + d.as_timedelta());
    if live.is_some_and(|e| e.value == write.value && e.expires_at == expires_at) {
        return Ok(None);
    }
    Ok(Some(KvEntry {
        bot: write.key.bot,
        key: write.key.key.clone(),
        value: write.value.clone(),
        version: version + 1,
        expires_at,
        created_at: live.map_or(now, |e| e.created_at),
        updated_at: now,
    }))
}
