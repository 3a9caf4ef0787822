use chrono::{DateTime, Utc};

use super::App;
use crate::{
    auth::{Auth, Capability},
    error::{Error, Result},
    ids::TenantId,
};

pub const DEFAULT_JANITOR_SCHEDULE: &str = "0 */2 * * * *";
pub const DEFAULT_MAX_VALUE_BYTES: i32 = 64 * 1024;

#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: TenantId,
    pub janitor_schedule: String,
    pub max_value_bytes: i32,
    pub created_at: DateTime<Utc>,
}

/// What a tenant starts with on its first authenticated request.
pub struct TenantDefaults {
    pub janitor_schedule: String,
    pub max_value_bytes: i32,
    pub now: DateTime<Utc>,
}

impl App {
    /// Called once per request after the token is verified.
    pub async fn admit(&self, auth: &Auth) -> Result<()> {
        let defaults = TenantDefaults {
            janitor_schedule: DEFAULT_JANITOR_SCHEDULE.into(),
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            now: self.clock.now(),
        };
        self.store.ensure_tenant(&auth.tenant, &defaults).await
    }

    pub async fn tenant(&self, auth: &Auth) -> Result<Tenant> {
        auth.require(Capability::Read)?;
        self.store
            .tenant(&auth.tenant)
            .await?
            .ok_or(Error::NotFound("tenant"))
    }
}
