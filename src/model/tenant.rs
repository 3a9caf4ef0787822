//! A tenant's settings and the defaults its row starts with.
use chrono::{DateTime, Utc};

use super::*;

pub const DEFAULT_JANITOR_SCHEDULE: &str = "0 */2 * * * *";
pub const DEFAULT_MAX_VALUE_BYTES: i32 = 64 * 1024;

#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: TenantId,
    pub janitor_schedule: String,
    pub max_value_bytes: i32,
    pub created_at: DateTime<Utc>,
}

/// The largest `maxValueBytes` a tenant may choose: 16 MiB.
pub const MAX_VALUE_BYTES_LIMIT: i32 = 16 << 20;

/// What a tenant starts with on its first authenticated request.
pub struct TenantDefaults {
    pub janitor_schedule: String,
    pub max_value_bytes: i32,
    pub now: DateTime<Utc>,
    /// The first sweep, from the default schedule.
    pub next_janitor_at: Option<DateTime<Utc>>,
}

/// `None` leaves a setting as it is.
#[derive(Clone, Debug, Default)]
pub struct TenantSettings {
    pub janitor_schedule: Option<String>,
    pub max_value_bytes: Option<i32>,
}
