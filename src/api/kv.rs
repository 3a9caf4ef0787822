//! GraphQL for the key-value store: `kvSet`, `kv`, `kvEntries`, `kvDelete`.
use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject};
use uuid::Uuid;

use super::{
    connection::PageInfo,
    context::{app, auth},
    scalars::{DateTime, Duration},
};
use crate::{
    domain::{self, KvKey, encode_key_cursor},
    model::BotId,
};

#[derive(SimpleObject)]
pub struct KvEntry {
    /// Null for the tenant-wide store.
    bot_id: Option<Uuid>,
    key: String,
    value: Json<serde_json::Value>,
    version: i32,
    expires_at: Option<DateTime>,
    updated_at: DateTime,
}

impl From<domain::KvEntry> for KvEntry {
    fn from(e: domain::KvEntry) -> Self {
        KvEntry {
            bot_id: e.bot.map(|b| b.0),
            key: e.key,
            value: Json(e.value),
            version: e.version.clamp(0, i32::MAX as i64) as i32,
            expires_at: e.expires_at.map(Into::into),
            updated_at: e.updated_at.into(),
        }
    }
}

#[derive(SimpleObject)]
pub struct KvEntryEdge {
    node: KvEntry,
    cursor: String,
}

#[derive(SimpleObject)]
pub struct KvEntryConnection {
    edges: Vec<KvEntryEdge>,
    page_info: PageInfo,
}

#[derive(InputObject)]
pub struct KvSetInput {
    /// Null for the tenant-wide store.
    bot_id: Option<Uuid>,
    key: String,
    value: Json<serde_json::Value>,
    expires_in: Option<Duration>,
    /// 0 = the key must not exist yet.
    expected_version: Option<i32>,
}

fn key(bot_id: Option<Uuid>, key: String) -> KvKey {
    KvKey {
        bot: bot_id.map(BotId),
        key,
    }
}

#[derive(Default)]
pub struct KvQuery;

#[Object]
impl KvQuery {
    async fn kv(
        &self,
        ctx: &Context<'_>,
        bot_id: Option<Uuid>,
        key: String,
    ) -> Result<Option<KvEntry>> {
        let found = app(ctx).kv_get(auth(ctx)?, self::key(bot_id, key)).await?;
        Ok(found.map(Into::into))
    }

    /// Live entries in key order; `prefix` matches literally (no wildcards).
    #[graphql(complexity = "super::cost::page(first, 50, child_complexity)")]
    async fn kv_entries(
        &self,
        ctx: &Context<'_>,
        bot_id: Option<Uuid>,
        prefix: Option<String>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<KvEntryConnection> {
        let page = app(ctx)
            .kv_entries(
                auth(ctx)?,
                bot_id.map(BotId),
                prefix.as_deref(),
                first.unwrap_or(50),
                after.as_deref(),
            )
            .await?;
        let edges: Vec<KvEntryEdge> = page
            .items
            .into_iter()
            .map(|e| KvEntryEdge {
                cursor: encode_key_cursor(&e.key),
                node: e.into(),
            })
            .collect();
        Ok(KvEntryConnection {
            page_info: PageInfo {
                has_next_page: page.has_next,
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        })
    }
}

#[derive(Default)]
pub struct KvMutation;

#[Object]
impl KvMutation {
    async fn kv_set(&self, ctx: &Context<'_>, input: KvSetInput) -> Result<KvEntry> {
        let write = domain::KvWrite {
            expires_in: input.expires_in.map(|d| d.parse("expiresIn")).transpose()?,
            key: key(input.bot_id, input.key),
            value: input.value.0,
            expected_version: input.expected_version.map(i64::from),
        };
        Ok(app(ctx).kv_set(auth(ctx)?, write).await?.into())
    }

    /// True if a live entry was removed.
    async fn kv_delete(
        &self,
        ctx: &Context<'_>,
        bot_id: Option<Uuid>,
        key: String,
    ) -> Result<bool> {
        Ok(app(ctx)
            .kv_delete(auth(ctx)?, self::key(bot_id, key))
            .await?)
    }
}
