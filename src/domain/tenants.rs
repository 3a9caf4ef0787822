//! A tenant's own row: created on its first authenticated request, with
//! settings admins change.
use super::App;
use crate::{
    error::{Error, Result},
    model::*,
};

impl App {
    /// Called once per request after the token is verified.
    pub async fn admit(&self, auth: &Auth) -> Result<()> {
        let defaults = || {
            let now = self.clock.now();
            let schedule = Schedule::parse("janitorSchedule", DEFAULT_JANITOR_SCHEDULE)?;
            Ok(TenantDefaults {
                janitor_schedule: DEFAULT_JANITOR_SCHEDULE.into(),
                max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
                now,
                next_janitor_at: schedule.next_after(now),
            })
        };
        self.store.ensure_tenant(&auth.tenant, defaults).await
    }

    /// A new schedule takes effect at once: the next sweep is recomputed
    /// from it, and every replica's dispatcher reads it from the row.
    pub async fn update_tenant_settings(
        &self,
        auth: &Auth,
        settings: TenantSettings,
    ) -> Result<Tenant> {
        auth.require_unrestricted(Capability::Admin)?;
        let schedule = settings
            .janitor_schedule
            .as_deref()
            .map(|text| Schedule::parse("janitorSchedule", text))
            .transpose()?;
        if let Some(bytes) = settings.max_value_bytes
            && !(1..=MAX_VALUE_BYTES_LIMIT).contains(&bytes)
        {
            return Err(Error::bad_input(
                "maxValueBytes",
                format!("must be between 1 and {MAX_VALUE_BYTES_LIMIT}"),
            ));
        }
        let now = self.clock.now();
        let schedule = schedule.map(|s| (s.as_str().to_owned(), s.next_after(now)));
        let mut tx = self.store.begin(&auth.tenant).await?;
        tx.update_tenant_settings(schedule, settings.max_value_bytes)
            .await?;
        tx.commit().await?;
        self.tenant(auth).await
    }

    pub async fn tenant(&self, auth: &Auth) -> Result<Tenant> {
        auth.require(Capability::Read)?;
        self.store
            .tenant(&auth.tenant)
            .await?
            .ok_or(Error::NotFound("tenant"))
    }
}
