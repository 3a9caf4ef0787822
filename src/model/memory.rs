//! The rules of memory applied to one owner's variables, in memory and
//! without I/O: the store loads the rows, operations here change them and
//! record changes, and the store persists what changed. Whatever an
//! operation does, the memory version steps once ([`OwnerMemory::new_version`]);
//! API writes and the janitor alike.
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::*;
use crate::error::{Error, Result};

/// Which memory: (scope, owner). The tenant is the store's business.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OwnerKey {
    pub scope: Scope,
    pub owner_id: Uuid,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    pub name: String,
    pub value: Value,
    pub version: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Variable {
    /// Rule 2: `expires_at <= now` does not exist.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MemoryOp {
    Set,
    Unset,
    Expired,
    Cleared,
    Promoted,
}

/// Where a write's expiry comes from (rule 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// The bot's retention policy for the name and scope, if any.
    Default,
    In(Duration),
    At(DateTime<Utc>),
}

/// An event recorded by an operation, completed with the memory version
/// when the change is saved.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub op: MemoryOp,
    pub name: String,
    pub value: Option<Value>,
    pub version: i64,
}

pub struct OwnerMemory {
    pub key: OwnerKey,
    pub bot_id: BotId,
    /// The memory version as loaded.
    pub loaded_version: i64,
    now: DateTime<Utc>,
    /// Rows as loaded and changed so far; may hold expired rows.
    vars: BTreeMap<String, Variable>,
    /// Names whose row must be written (present in `vars`) or deleted.
    dirty: BTreeSet<String>,
    changes: Vec<Change>,
}

impl OwnerMemory {
    pub fn new(
        key: OwnerKey,
        bot_id: BotId,
        loaded_version: i64,
        rows: Vec<Variable>,
        now: DateTime<Utc>,
    ) -> OwnerMemory {
        OwnerMemory {
            key,
            bot_id,
            loaded_version,
            now,
            vars: rows.into_iter().map(|v| (v.name.clone(), v)).collect(),
            dirty: BTreeSet::new(),
            changes: Vec::new(),
        }
    }

    pub fn live(&self, name: &str) -> Option<&Variable> {
        self.vars.get(name).filter(|v| v.is_live(self.now))
    }

    pub fn live_variables(&self) -> impl Iterator<Item = &Variable> {
        self.vars.values().filter(|v| v.is_live(self.now))
    }

    fn check_expected(&self, name: &str, expected: Option<i64>) -> Result<i64> {
        let current = self.live(name).map_or(0, |v| v.version);
        match expected {
            Some(expected) if expected != current => Err(Error::Conflict(format!(
                "variable {name:?} is at version {current}, not {expected}"
            ))),
            _ => Ok(current),
        }
    }

    /// Sets `name`; `policy_ttl` is the bot's retention for it in this
    /// scope. Returns whether anything changed: a write of the same value
    /// with the same resulting expiry changes nothing (rule 3).
    pub fn set(
        &mut self,
        name: &str,
        value: Value,
        expiry: Expiry,
        policy_ttl: Option<Duration>,
        expected: Option<i64>,
        op: MemoryOp,
    ) -> Result<bool> {
        let current_version = self.check_expected(name, expected)?;
        let current = self.live(name);
        let same_value = current.is_some_and(|c| c.value == value);
        let expires_at = match expiry {
            Expiry::In(d) => Some(self.now + d.as_timedelta()),
            Expiry::At(at) => Some(at),
            Expiry::Default if same_value => current.and_then(|c| c.expires_at),
            Expiry::Default => policy_ttl.map(|ttl| self.now + ttl.as_timedelta()),
        };
        if same_value && current.is_some_and(|c| c.expires_at == expires_at) {
            return Ok(false);
        }
        let created_at = current.map_or(self.now, |c| c.created_at);
        let version = current_version + 1;
        self.changes.push(Change {
            op,
            name: name.to_owned(),
            value: Some(value.clone()),
            version,
        });
        self.vars.insert(
            name.to_owned(),
            Variable {
                name: name.to_owned(),
                value,
                version,
                expires_at,
                created_at,
                updated_at: self.now,
            },
        );
        self.dirty.insert(name.to_owned());
        Ok(true)
    }

    /// Removes `name`. Returns whether a live variable was removed.
    pub fn unset(&mut self, name: &str, expected: Option<i64>, op: MemoryOp) -> Result<bool> {
        let current_version = self.check_expected(name, expected)?;
        let Some(removed) = self.vars.remove(name) else {
            return Ok(false);
        };
        // An expired row goes too, silently: it already did not exist.
        self.dirty.insert(name.to_owned());
        if !removed.is_live(self.now) {
            return Ok(false);
        }
        self.changes.push(Change {
            op,
            name: name.to_owned(),
            value: None,
            version: current_version + 1,
        });
        Ok(true)
    }

    /// Removes every variable; returns how many were live.
    pub fn clear(&mut self, op: MemoryOp) -> usize {
        let names: Vec<String> = self.vars.keys().cloned().collect();
        names
            .iter()
            .filter(|name| self.unset(name, None, op).unwrap_or(false))
            .count()
    }

    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The memory version after this operation: one step if anything changed.
    pub fn new_version(&self) -> i64 {
        self.loaded_version + i64::from(self.changed())
    }

    /// Rows to write and names to delete, for the store.
    pub fn dirty_rows(&self) -> (Vec<&Variable>, Vec<&str>) {
        let mut writes = Vec::new();
        let mut deletes = Vec::new();
        for name in &self.dirty {
            match self.vars.get(name) {
                Some(row) => writes.push(row),
                None => deletes.push(name.as_str()),
            }
        }
        (writes, deletes)
    }

    pub fn changes(&self) -> &[Change] {
        &self.changes
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use serde_json::json;

    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000, 0).unwrap()
    }

    fn memory(rows: Vec<Variable>, now: DateTime<Utc>) -> OwnerMemory {
        let key = OwnerKey {
            scope: Scope::User,
            owner_id: Uuid::nil(),
        };
        OwnerMemory::new(key, BotId(Uuid::nil()), 3, rows, now)
    }

    fn row(name: &str, value: Value, version: i64, expires_at: Option<DateTime<Utc>>) -> Variable {
        Variable {
            name: name.into(),
            value,
            version,
            expires_at,
            created_at: t0(),
            updated_at: t0(),
        }
    }

    fn day() -> Duration {
        Duration::from_secs(86_400).unwrap()
    }

    #[test]
    fn rule3_explicit_expiry_beats_policy_and_same_value_keeps_expiry() {
        let now = t0() + TimeDelta::hours(1);
        let old_expiry = Some(t0() + TimeDelta::hours(5));
        let mut m = memory(vec![row("mood", json!("happy"), 2, old_expiry)], now);
        // Same value, no expiry named: nothing changes, not even the clock.
        assert!(
            !m.set(
                "mood",
                json!("happy"),
                Expiry::Default,
                Some(day()),
                None,
                MemoryOp::Set
            )
            .unwrap()
        );
        assert_eq!(m.live("mood").unwrap().expires_at, old_expiry);
        assert_eq!(m.new_version(), 3);
        // A new value restarts the policy clock.
        assert!(
            m.set(
                "mood",
                json!("sad"),
                Expiry::Default,
                Some(day()),
                None,
                MemoryOp::Set
            )
            .unwrap()
        );
        assert_eq!(
            m.live("mood").unwrap().expires_at,
            Some(now + TimeDelta::days(1))
        );
        assert_eq!(m.live("mood").unwrap().version, 3);
        // The write's own expiry wins over the policy, even for the same value.
        let at = now + TimeDelta::minutes(5);
        assert!(
            m.set(
                "mood",
                json!("sad"),
                Expiry::At(at),
                Some(day()),
                None,
                MemoryOp::Set
            )
            .unwrap()
        );
        assert_eq!(m.live("mood").unwrap().expires_at, Some(at));
        // No policy, new value: no expiry.
        assert!(
            m.set(
                "mood",
                json!("ok"),
                Expiry::Default,
                None,
                None,
                MemoryOp::Set
            )
            .unwrap()
        );
        assert_eq!(m.live("mood").unwrap().expires_at, None);
        assert_eq!(m.new_version(), 4, "one memory step per operation");
        assert_eq!(m.changes().len(), 3);
    }

    #[test]
    fn rule2_expired_rows_do_not_exist() {
        let now = t0() + TimeDelta::hours(1);
        let mut m = memory(vec![row("otp", json!(1234), 7, Some(now))], now);
        assert!(m.live("otp").is_none(), "expires_at == now is expired");
        assert!(
            m.set(
                "otp",
                json!(1),
                Expiry::Default,
                None,
                Some(1),
                MemoryOp::Set
            )
            .is_err()
        );
        assert!(
            m.set(
                "otp",
                json!(1),
                Expiry::Default,
                None,
                Some(0),
                MemoryOp::Set
            )
            .unwrap()
        );
        assert_eq!(m.live("otp").unwrap().version, 1, "a new variable");
        assert_eq!(m.live("otp").unwrap().created_at, now);
    }

    #[test]
    fn rule4_expected_version_mismatch_is_conflict_and_changes_nothing() {
        let mut m = memory(vec![row("a", json!(1), 2, None)], t0());
        assert!(matches!(
            m.set("a", json!(5), Expiry::Default, None, Some(1), MemoryOp::Set),
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            m.unset("a", Some(0), MemoryOp::Unset),
            Err(Error::Conflict(_))
        ));
        assert!(!m.changed());
        assert_eq!(m.live("a").unwrap().value, json!(1));
        assert!(m.unset("a", Some(2), MemoryOp::Unset).unwrap());
        assert_eq!(m.changes()[0].version, 3);
    }

    #[test]
    fn clear_counts_live_variables_and_drops_expired_rows_silently() {
        let now = t0();
        let mut m = memory(
            vec![
                row("a", json!(1), 1, None),
                row("b", json!(2), 1, Some(now - TimeDelta::seconds(1))),
                row("c", json!(3), 4, Some(now + TimeDelta::seconds(1))),
            ],
            now,
        );
        assert_eq!(m.clear(MemoryOp::Cleared), 2);
        let (writes, deletes) = m.dirty_rows();
        assert!(writes.is_empty());
        assert_eq!(deletes, vec!["a", "b", "c"]);
        assert_eq!(
            m.changes()
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            vec!["a", "c"]
        );
    }
}
