//! GraphQL for the caller's tenant: settings, janitor runs, manual sweeps.
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use uuid::Uuid;

use super::{
    connection::PageInfo,
    context::{app, auth},
    enums::JanitorTrigger,
    objects::Tenant,
    scalars::DateTime,
};
use crate::domain::{self, PageRequest, encode_cursor};

/// Tenant settings to change; omitted ones stay.
#[derive(InputObject)]
pub struct TenantSettingsInput {
    /// Cron with seconds, e.g. "0 */2 * * * *"; takes effect at once.
    janitor_schedule: Option<String>,
    /// Largest value of one variable, KV entry or message payload, in bytes of JSON: 1 to 16 MiB.
    /// Applies to writes from now on.
    max_value_bytes: Option<i32>,
}

/// One janitor sweep of the tenant, and what it removed.
#[derive(SimpleObject)]
pub struct JanitorRun {
    /// The run's id.
    id: Uuid,
    /// What started it.
    trigger: JanitorTrigger,
    /// When it started.
    started_at: DateTime,
    /// When it finished; null until then.
    finished_at: Option<DateTime>,
    /// Expired variables deleted, each announced as EXPIRED.
    variables_expired: i32,
    /// Expired KV entries deleted.
    kv_entries_expired: i32,
    /// Idle conversations finalized as EXPIRED, with promotion as on endConversation.
    conversations_expired: i32,
    /// Messages removed from logs after a bot's lastMessagesKept was lowered.
    messages_trimmed: i32,
    /// Why the sweep stopped early, if it did; the next sweep finishes the work.
    error: Option<String>,
}

fn int(n: i64) -> i32 {
    n.clamp(0, i32::MAX as i64) as i32
}

impl From<crate::model::JanitorRun> for JanitorRun {
    fn from(r: crate::model::JanitorRun) -> Self {
        JanitorRun {
            id: r.id,
            trigger: r.trigger.into(),
            started_at: r.started_at.into(),
            finished_at: r.finished_at.map(Into::into),
            variables_expired: int(r.counts.variables_expired),
            kv_entries_expired: int(r.counts.kv_entries_expired),
            conversations_expired: int(r.counts.conversations_expired),
            messages_trimmed: int(r.counts.messages_trimmed),
            error: r.error,
        }
    }
}

/// One of a page of janitor runs, with its cursor.
#[derive(SimpleObject)]
pub struct JanitorRunEdge {
    /// The run itself.
    node: JanitorRun,
    /// Opaque: pass it as `after` to read the older runs.
    cursor: String,
}

/// A page of janitor runs, newest first; pass `pageInfo.endCursor` as `after` for the next page.
#[derive(SimpleObject)]
pub struct JanitorRunConnection {
    /// The runs of this page, each with its cursor.
    edges: Vec<JanitorRunEdge>,
    /// Whether another page follows, and where this one ends.
    page_info: PageInfo,
    /// Every run of the tenant, not only this page.
    total_count: i32,
}

#[derive(Default)]
pub struct TenantQuery;

#[Object]
impl TenantQuery {
    /// Janitor runs of the caller's tenant, newest first (viewer, with a token not limited to some
    /// bots).
    #[graphql(complexity = "super::cost::page(first, 20, child_complexity)")]
    async fn janitor_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size, 0 to 100 (BAD_USER_INPUT otherwise).")]
        first: Option<i32>,
        #[graphql(desc = "The previous page's `endCursor`; BAD_USER_INPUT for anything else.")]
        after: Option<String>,
    ) -> Result<JanitorRunConnection> {
        let page = PageRequest::new(first.unwrap_or(20), after.as_deref())?;
        let runs = app(ctx).janitor_runs(auth(ctx)?, page).await?;
        let edges: Vec<JanitorRunEdge> = runs
            .items
            .into_iter()
            .map(|r| JanitorRunEdge {
                cursor: encode_cursor(r.id),
                node: r.into(),
            })
            .collect();
        Ok(JanitorRunConnection {
            page_info: PageInfo::of(
                runs.has_next,
                runs.has_previous,
                edges.iter().map(|e| &e.cursor),
            ),
            total_count: runs.total.unwrap_or(0).min(i32::MAX as u64) as i32,
            edges,
        })
    }
}

#[derive(Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    /// Changes the tenant's settings (admin, with a token not limited to some bots); a new janitor
    /// schedule takes effect at once. BAD_USER_INPUT for an invalid cron or size.
    async fn update_tenant_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The settings to change; the others stay.")] input: TenantSettingsInput,
    ) -> Result<Tenant> {
        let settings = domain::TenantSettings {
            janitor_schedule: input.janitor_schedule,
            max_value_bytes: input.max_value_bytes,
        };
        Ok(Tenant(
            app(ctx)
                .update_tenant_settings(auth(ctx)?, settings)
                .await?,
        ))
    }

    /// Sweeps this tenant now (admin, with a token not limited to some bots); the schedule stays as
    /// it is. CONFLICT if a sweep of the tenant is running.
    async fn run_janitor(&self, ctx: &Context<'_>) -> Result<JanitorRun> {
        Ok(app(ctx).run_janitor(auth(ctx)?).await?.into())
    }
}
