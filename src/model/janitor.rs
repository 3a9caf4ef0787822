//! The janitor's records: runs, their counts and claimed tenants.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TenantId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JanitorTrigger {
    Schedule,
    Manual,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepCounts {
    pub variables_expired: i64,
    pub kv_entries_expired: i64,
    pub conversations_expired: i64,
    pub messages_trimmed: i64,
}

#[derive(Clone, Debug)]
pub struct JanitorRun {
    pub id: Uuid,
    pub trigger: JanitorTrigger,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub counts: SweepCounts,
    pub error: Option<String>,
}

/// A tenant claimed for a sweep, with its schedule text.
pub struct Claimed {
    pub tenant: TenantId,
    pub schedule: String,
}
