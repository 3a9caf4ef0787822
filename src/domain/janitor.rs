//! The janitor's rules: garbage-collect what has expired (rule 2 already
//! hides it from readers), finalize timed-out sessions exactly as
//! `endConversation` would (rule 6), trim message logs. Each step works in
//! bounded batches, one transaction per batch, so a sweep never holds long
//! locks and a crash loses at most one uncommitted batch; running the
//! sweep again finishes the work.
use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::{
    App, Bot, Page, PageRequest, Schedule,
    memory::{Activity, Target},
};
use crate::{
    error::{Error, Result},
    model::{
        Auth, BotId, Capability, Event, JanitorRun, JanitorTrigger, MemoryEvent, OwnerKey, Role,
        Scope, SweepCounts, TenantId,
    },
    store::ExpiryCursor,
};

#[derive(Clone, Debug)]
pub struct JanitorSettings {
    /// Rows per batch (and per transaction).
    pub batch_size: u64,
    /// How long a claim on a tenant lasts; a replica that dies mid-sweep
    /// frees its tenants when their leases run out.
    pub lease: TimeDelta,
    /// Tenants claimed per dispatcher round.
    pub claim_limit: u64,
    /// Claimed tenants swept at once: one tenant whose sweep is stuck (rows
    /// locked, a slow statement) must not hold up the others it was
    /// claimed with, whose leases are running.
    pub concurrent_sweeps: usize,
}

impl Default for JanitorSettings {
    fn default() -> Self {
        JanitorSettings {
            batch_size: 1000,
            lease: TimeDelta::minutes(5),
            claim_limit: 16,
            concurrent_sweeps: 4,
        }
    }
}

/// The janitor acts for the tenant, as its administrator.
fn system_auth(tenant: &TenantId) -> Auth {
    Auth {
        subject: "botmem-janitor".into(),
        tenant: tenant.clone(),
        roles: vec![Role::Admin],
        bots: None,
        expires_at: DateTime::<Utc>::MAX_UTC,
    }
}

impl App {
    /// One dispatcher round: claims due tenants, sweeps each, schedules its
    /// next sweep. Returns how many tenants were swept.
    pub async fn dispatch_janitor(&self) -> Result<usize> {
        use futures_util::StreamExt;
        let mut swept = 0;
        loop {
            let now = self.clock.now();
            let claimed = self
                .store
                .claim_due_tenants(now, now + self.janitor.lease, self.janitor.claim_limit)
                .await?;
            if claimed.is_empty() {
                return Ok(swept);
            }
            let released: Vec<Result<()>> = futures_util::stream::iter(claimed)
                .map(|claim| async move {
                    if let Err(e) = self.sweep(&claim.tenant, JanitorTrigger::Schedule).await {
                        tracing::error!(tenant = %claim.tenant, error = %e.operator_message(), "janitor sweep failed");
                    }
                    let next = Schedule::parse("janitorSchedule", &claim.schedule)
                        .ok()
                        .and_then(|s| s.next_after(self.clock.now()));
                    self.store.release_tenant(&claim.tenant, Some(next)).await
                })
                .buffer_unordered(self.janitor.concurrent_sweeps.max(1))
                .collect()
                .await;
            for result in released {
                result?;
                swept += 1;
            }
        }
    }

    /// `runJanitor`: sweeps the caller's tenant now, unless a sweep of it
    /// is running (`CONFLICT`). The schedule is left as it is.
    pub async fn run_janitor(&self, auth: &Auth) -> Result<JanitorRun> {
        auth.require_unrestricted(Capability::Admin)?;
        let now = self.clock.now();
        if !self
            .store
            .claim_tenant(&auth.tenant, now, now + self.janitor.lease)
            .await?
        {
            return Err(Error::Conflict(
                "a janitor sweep of this tenant is running".into(),
            ));
        }
        let run = self.sweep(&auth.tenant, JanitorTrigger::Manual).await;
        self.store.release_tenant(&auth.tenant, None).await?;
        run
    }

    /// Runs span all the tenant's bots: a token limited to some bots may
    /// not read them.
    pub async fn janitor_runs(&self, auth: &Auth, page: PageRequest) -> Result<Page<JanitorRun>> {
        auth.require_unrestricted(Capability::Read)?;
        self.store.janitor_runs(&auth.tenant, &page).await
    }

    /// Sweeps one tenant whose lease the caller holds, and records the run.
    pub(crate) async fn sweep(
        &self,
        tenant: &TenantId,
        trigger: JanitorTrigger,
    ) -> Result<JanitorRun> {
        let now = self.clock.now();
        let started = std::time::Instant::now();
        let mut run = self.store.start_run(tenant, trigger, now).await?;
        let outcome = self.sweep_steps(tenant, now, &mut run.counts).await;
        run.finished_at = Some(self.clock.now());
        if let Err(e) = &outcome {
            tracing::error!(%tenant, error = %e.operator_message(), "janitor sweep stopped");
            run.error = Some(e.public_message());
        }
        self.store.finish_run(tenant, &run).await?;
        let c = &run.counts;
        crate::telemetry::janitor_run(
            outcome.is_err(),
            started.elapsed(),
            &[
                ("variable", c.variables_expired),
                ("kv_entry", c.kv_entries_expired),
                ("conversation", c.conversations_expired),
                ("message", c.messages_trimmed),
            ],
        );
        Ok(run)
    }

    async fn sweep_steps(
        &self,
        tenant: &TenantId,
        now: DateTime<Utc>,
        counts: &mut SweepCounts,
    ) -> Result<()> {
        let auth = system_auth(tenant);
        let bots = self.all_bots(tenant).await?;
        let batch = self.janitor.batch_size.max(1);

        // Expired variables: one transaction per batch, memories locked as
        // for any write, so a concurrent writer is never lost; each batch
        // starts where the last stopped in the index of expiring rows.
        let mut after = None;
        loop {
            // On SQLite a batch holds the one write lock. While API writes
            // wait for it, batches are a quarter the size, so those writes
            // wait a quarter as long (bench/RESULTS.md: foreground p99
            // during a sweep 3-4× quiet with 1 000-row batches, ~2× with
            // 250); a sweep alone keeps the full size.
            let size = if self.store.writers_waiting() {
                (batch / 4).max(1)
            } else {
                batch
            };
            let (expired, stopped) = self
                .expire_variables(tenant, now, size, after.as_ref())
                .await?;
            counts.variables_expired += expired as i64;
            match stopped {
                Some(at) => after = Some(at),
                None => break,
            }
        }

        loop {
            let deleted = self.store.delete_expired_kv(tenant, now, batch).await?;
            counts.kv_entries_expired += deleted as i64;
            if deleted == 0 {
                break;
            }
        }

        // Timed-out sessions, finalized exactly as endConversation does.
        loop {
            let due = self
                .store
                .timed_out_conversations(tenant, now, batch)
                .await?;
            if due.is_empty() {
                break;
            }
            let mut expired = 0;
            for conversation in due {
                let Some(bot) = bots.get(&conversation.bot_id).cloned() else {
                    continue;
                };
                let target = Target {
                    key: OwnerKey {
                        scope: Scope::Conversation,
                        owner_id: conversation.id.0,
                    },
                    bot,
                    conversation: Some(conversation),
                };
                match self
                    .close_conversation(&auth, target, Activity::Expire)
                    .await
                {
                    Ok(_) => expired += 1,
                    // Touched meanwhile, or finalized by someone else: not due.
                    Err(Error::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            counts.conversations_expired += expired;
            if expired == 0 {
                break;
            }
        }

        for (bot, keep) in self.store.bots_pending_trim(tenant).await? {
            counts.messages_trimmed +=
                self.store.trim_message_logs(tenant, bot, keep).await? as i64;
        }
        Ok(())
    }

    /// One batch of expired variables, removed set-wise as any write
    /// would remove them (locks and versions: [`crate::store::Tx::expire_batch`]),
    /// with the events built from the removed rows. Returns how many were
    /// removed, and where the batch stopped (`None` when it found nothing:
    /// the sweep is done).
    async fn expire_variables(
        &self,
        tenant: &TenantId,
        now: DateTime<Utc>,
        batch: u64,
        after: Option<&ExpiryCursor>,
    ) -> Result<(usize, Option<ExpiryCursor>)> {
        let mut tx = self.store.begin(tenant).await?;
        let swept = tx.expire_batch(now, batch, after).await?;
        let at = self.clock.now();
        let events: Vec<Event> = swept
            .removed
            .iter()
            .filter_map(|row| {
                Some(Event::Memory(MemoryEvent::expired(
                    tenant,
                    row.bot,
                    row.key,
                    &row.name,
                    row.last_version,
                    *swept.versions.get(&row.key)?,
                    at,
                )))
            })
            .collect();
        tx.stage(events);
        tx.commit().await?;
        Ok((swept.removed.len(), swept.stopped))
    }

    async fn all_bots(&self, tenant: &TenantId) -> Result<HashMap<BotId, Bot>> {
        let mut bots = HashMap::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .list_bots(tenant, None, &PageRequest { first: 500, after })
                .await?;
            after = page.items.last().map(|b| b.id.0);
            bots.extend(page.items.into_iter().map(|b| (b.id, b)));
            if !page.has_next {
                return Ok(bots);
            }
        }
    }
}
