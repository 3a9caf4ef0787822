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

#[derive(InputObject)]
pub struct TenantSettingsInput {
    /// Cron with seconds, e.g. "0 */2 * * * *"; takes effect at once.
    janitor_schedule: Option<String>,
    /// Largest value of one variable, KV entry or message payload, in bytes of JSON.
    max_value_bytes: Option<i32>,
}

#[derive(SimpleObject)]
pub struct JanitorRun {
    id: Uuid,
    trigger: JanitorTrigger,
    started_at: DateTime,
    finished_at: Option<DateTime>,
    variables_expired: i32,
    kv_entries_expired: i32,
    conversations_expired: i32,
    /// Messages removed from logs after a bot's lastMessagesKept was lowered.
    messages_trimmed: i32,
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

#[derive(SimpleObject)]
pub struct JanitorRunEdge {
    node: JanitorRun,
    cursor: String,
}

#[derive(SimpleObject)]
pub struct JanitorRunConnection {
    edges: Vec<JanitorRunEdge>,
    page_info: PageInfo,
}

#[derive(Default)]
pub struct TenantQuery;

#[Object]
impl TenantQuery {
    /// Janitor runs of the caller's tenant, newest first.
    #[graphql(complexity = "super::cost::page(first, 20, child_complexity)")]
    async fn janitor_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
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
            page_info: PageInfo {
                has_next_page: runs.has_next,
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        })
    }
}

#[derive(Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    async fn update_tenant_settings(
        &self,
        ctx: &Context<'_>,
        input: TenantSettingsInput,
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

    /// Sweeps this tenant now.
    async fn run_janitor(&self, ctx: &Context<'_>) -> Result<JanitorRun> {
        Ok(app(ctx).run_janitor(auth(ctx)?).await?.into())
    }
}
