//! The janitor's rules: garbage-collect what has expired (rule 2 already
//! hides it from readers), finalize timed-out sessions exactly as
//! `endConversation` would (rule 6), trim message logs. Each step works in
//! bounded batches, one transaction per batch, so a sweep never holds long
//! locks and a crash loses at most one uncommitted batch; running the
//! sweep again finishes the work.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

use super::{
    App, Bot, Page, PageRequest, Schedule,
    memory::{Activity, Target, change_events},
};
use crate::{
    error::{Error, Result},
    model::{
        Auth, BotId, Capability, JanitorRun, JanitorTrigger, OwnerKey, OwnerMemory, Role, Scope,
        SweepCounts, TenantId, Variable,
    },
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
}

impl Default for JanitorSettings {
    fn default() -> Self {
        JanitorSettings {
            batch_size: 1000,
            lease: TimeDelta::minutes(5),
            claim_limit: 16,
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
            for claim in claimed {
                if let Err(e) = self.sweep(&claim.tenant, JanitorTrigger::Schedule).await {
                    tracing::error!(tenant = %claim.tenant, error = %e.operator_message(), "janitor sweep failed");
                }
                let next = Schedule::parse("janitorSchedule", &claim.schedule)
                    .ok()
                    .and_then(|s| s.next_after(self.clock.now()));
                self.store.release_tenant(&claim.tenant, Some(next)).await?;
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
        let mut run = self.store.start_run(tenant, trigger, now).await?;
        let outcome = self.sweep_steps(tenant, now, &mut run.counts).await;
        run.finished_at = Some(self.clock.now());
        if let Err(e) = &outcome {
            tracing::error!(%tenant, error = %e.operator_message(), "janitor sweep stopped");
            run.error = Some(e.public_message());
        }
        self.store.finish_run(tenant, &run).await?;
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
        // for any write, so a concurrent writer is never lost.
        loop {
            let expired = self.expire_variables(tenant, now, batch).await?;
            counts.variables_expired += expired as i64;
            if expired == 0 {
                break;
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

    /// One batch of expired variables, removed by the memory rules every
    /// write uses ([`OwnerMemory::expire_due`], saved and announced as
    /// [`App::mutate`] does): their memories are locked first, all at once
    /// in key order, and expiry is re-checked under the locks, so a
    /// concurrent writer's fresh value is never lost. Returns how many
    /// were removed.
    async fn expire_variables(
        &self,
        tenant: &TenantId,
        now: DateTime<Utc>,
        batch: u64,
    ) -> Result<usize> {
        let mut tx = self.store.begin(tenant).await?;
        let due = tx.expired_variables(now, batch).await?;
        let owners: BTreeMap<OwnerKey, BotId> = due.iter().map(|(k, b, _)| (*k, *b)).collect();
        let versions = tx.lock_memories(&owners, now).await?;
        let names: Vec<(OwnerKey, String)> = due.into_iter().map(|(k, _, n)| (k, n)).collect();
        let mut rows: BTreeMap<OwnerKey, Vec<Variable>> = BTreeMap::new();
        for (key, variable) in tx.load_variables(&names).await? {
            rows.entry(key).or_default().push(variable);
        }
        let mut memories: Vec<OwnerMemory> = rows
            .into_iter()
            .filter_map(|(key, rows)| {
                let version = *versions.get(&key)?;
                Some(OwnerMemory::new(key, owners[&key], version, rows, now))
            })
            .collect();
        let expired: usize = memories.iter_mut().map(OwnerMemory::expire_due).sum();
        tx.save_memories(&memories, now).await?;
        let at = self.clock.now();
        tx.stage(
            memories
                .iter()
                .flat_map(|m| change_events(tenant, m, at))
                .collect::<Vec<_>>(),
        );
        tx.commit().await?;
        Ok(expired)
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
