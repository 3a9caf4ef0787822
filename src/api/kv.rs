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

/// A value in the key-value store, a bot's or the tenant-wide one. An expired entry does not exist.
#[derive(SimpleObject)]
pub struct KvEntry {
    /// Null for the tenant-wide store.
    bot_id: Option<Uuid>,
    /// The key, taken literally.
    key: String,
    /// Any JSON value except null.
    value: Json<serde_json::Value>,
    /// Starts at 1 when the entry is created and grows by one with every change; for
    /// `expectedVersion`.
    version: i32,
    /// When the entry stops existing; null for never.
    expires_at: Option<DateTime>,
    /// When it last changed.
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

/// One of a page of KV entries, with its cursor.
#[derive(SimpleObject)]
pub struct KvEntryEdge {
    /// The entry itself.
    node: KvEntry,
    /// Opaque: pass it as `after` to read the entries that follow this one.
    cursor: String,
}

/// A page of KV entries in key order; pass `pageInfo.endCursor` as `after` for the next page.
/// It has no `totalCount`: counting the keys under a prefix would read every key of the store.
#[derive(SimpleObject)]
pub struct KvEntryConnection {
    /// The entries of this page, each with its cursor.
    edges: Vec<KvEntryEdge>,
    /// Whether another page follows, and where this one ends.
    page_info: PageInfo,
}

/// One KV write: a value, an optional expiry, and an optional compare-and-set.
#[derive(InputObject)]
pub struct KvSetInput {
    /// The bot's store; null for the tenant-wide store, which needs a token without a `bots` claim.
    bot_id: Option<Uuid>,
    /// 1 to 512 characters, taken literally.
    key: String,
    /// Any JSON value except null, at most the tenant's maxValueBytes (QUOTA_EXCEEDED).
    value: Json<serde_json::Value>,
    /// Expires this long after the write; omitted, the entry never expires (each write sets expiry
    /// anew).
    expires_in: Option<Duration>,
    /// 0 = the key must not exist yet. Otherwise the entry must be at this version; a mismatch is
    /// CONFLICT and changes nothing.
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
    /// A live entry, or null if it is absent or expired (viewer). NOT_FOUND for an unknown bot.
    async fn kv(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The bot's store; null for the tenant-wide store, which needs a token without a `bots` claim."
        )]
        bot_id: Option<Uuid>,
        #[graphql(desc = "The key, exactly.")] key: String,
    ) -> Result<Option<KvEntry>> {
        let found = app(ctx).kv_get(auth(ctx)?, self::key(bot_id, key)).await?;
        Ok(found.map(Into::into))
    }

    /// Live entries in key order; `prefix` matches literally (no wildcards). Viewer; NOT_FOUND for
    /// an unknown bot.
    #[graphql(complexity = "super::cost::page(first, 50, child_complexity)")]
    async fn kv_entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The bot's store; null for the tenant-wide store, which needs a token without a `bots` claim."
        )]
        bot_id: Option<Uuid>,
        #[graphql(desc = "Only keys that start with exactly this text; null or empty for all.")]
        prefix: Option<String>,
        #[graphql(default = 50, desc = "Page size, 0 to 100 (BAD_USER_INPUT otherwise).")]
        first: Option<i32>,
        #[graphql(desc = "The previous page's `endCursor`; BAD_USER_INPUT for anything else.")]
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
            page_info: PageInfo::of(
                page.has_next,
                page.has_previous,
                edges.iter().map(|e| &e.cursor),
            ),
            edges,
        })
    }
}

#[derive(Default)]
pub struct KvMutation;

#[Object]
impl KvMutation {
    /// Sets an entry (editor); the same value and expiry changes nothing. BAD_USER_INPUT for an
    /// invalid key or value, QUOTA_EXCEEDED over maxValueBytes, CONFLICT on an expectedVersion
    /// mismatch, NOT_FOUND for an unknown bot.
    async fn kv_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key, value, expiry and expected version.")] input: KvSetInput,
    ) -> Result<KvEntry> {
        let write = domain::KvWrite {
            expires_in: input.expires_in.map(|d| d.parse("expiresIn")).transpose()?,
            key: key(input.bot_id, input.key),
            value: input.value.0,
            expected_version: input.expected_version.map(i64::from),
        };
        Ok(app(ctx).kv_set(auth(ctx)?, write).await?.into())
    }

    /// True if a live entry was removed (editor). NOT_FOUND for an unknown bot.
    async fn kv_delete(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The bot's store; null for the tenant-wide store, which needs a token without a `bots` claim."
        )]
        bot_id: Option<Uuid>,
        #[graphql(desc = "The key, exactly.")] key: String,
    ) -> Result<bool> {
        Ok(app(ctx)
            .kv_delete(auth(ctx)?, self::key(bot_id, key))
            .await?)
    }
}
