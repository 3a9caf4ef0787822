//! Output types. Each wraps a domain value; nested fields call the domain
//! with the caller's auth, exactly like top-level fields.
use async_graphql::{Context, Json, Object, Result, SimpleObject};
use uuid::Uuid;

use super::{
    connection::{ConversationConnection, Node, UserConnection},
    context::{app, auth, loader},
    enums::{ConversationStatus, EndReason, MemoryScope, MessageDirection, PromotionMode, Role},
    loaders::{MessageLog, shared_error},
    memory::Memory,
    scalars::{DateTime, Duration},
};
use crate::{
    domain::{self, ConversationFilter, OwnerKey, PageRequest, Scope},
    error::Error,
};

pub struct Viewer;

#[Object]
impl Viewer {
    async fn subject(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(auth(ctx)?.subject.clone())
    }

    async fn tenant(&self, ctx: &Context<'_>) -> Result<Tenant> {
        Ok(Tenant(app(ctx).tenant(auth(ctx)?).await?))
    }

    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<Role>> {
        Ok(auth(ctx)?.roles.iter().map(|r| (*r).into()).collect())
    }

    /// The bots this token is limited to; null when it may use all.
    async fn bots(&self, ctx: &Context<'_>) -> Result<Option<Vec<Uuid>>> {
        Ok(auth(ctx)?
            .bots
            .as_ref()
            .map(|b| b.iter().map(|id| id.0).collect()))
    }
}

pub struct Tenant(pub domain::Tenant);

#[Object]
impl Tenant {
    async fn id(&self) -> &str {
        self.0.id.as_str()
    }
    /// Cron with seconds: when the janitor sweeps this tenant.
    async fn janitor_schedule(&self) -> &str {
        &self.0.janitor_schedule
    }
    /// Largest value of one variable or KV entry, in bytes of JSON.
    async fn max_value_bytes(&self) -> i32 {
        self.0.max_value_bytes
    }
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

#[derive(SimpleObject)]
pub struct RetentionPolicy {
    name: String,
    ttl: Duration,
    scopes: Vec<MemoryScope>,
}

#[derive(SimpleObject)]
pub struct PromotionPolicy {
    mode: PromotionMode,
    names: Vec<String>,
}

pub struct Bot(pub domain::Bot);

impl Node for Bot {
    fn cursor_id(&self) -> Uuid {
        self.0.id.0
    }
}

#[Object]
impl Bot {
    async fn id(&self) -> Uuid {
        self.0.id.0
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// How long a conversation may be idle before it expires.
    async fn session_timeout(&self) -> Duration {
        self.0.session_timeout.into()
    }
    async fn retention_policies(&self) -> Vec<RetentionPolicy> {
        self.0
            .retention_policies
            .iter()
            .map(|p| RetentionPolicy {
                name: p.name.clone(),
                ttl: p.ttl.into(),
                scopes: p.scopes.iter().map(|s| (*s).into()).collect(),
            })
            .collect()
    }
    async fn promotion(&self) -> PromotionPolicy {
        PromotionPolicy {
            mode: self.0.promotion.mode.into(),
            names: self.0.promotion.names.clone(),
        }
    }
    async fn last_messages_kept(&self) -> i32 {
        self.0.last_messages_kept
    }
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    async fn updated_at(&self) -> DateTime {
        self.0.updated_at.into()
    }
    /// Memory shared by all users of the bot (scope BOT).
    #[graphql(complexity = "super::cost::MEMORY + child_complexity")]
    async fn memory(&self, ctx: &Context<'_>) -> Result<Memory> {
        nested_memory(ctx, Scope::Bot, self.0.id.0).await
    }

    #[graphql(complexity = "super::cost::page(first, 20, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
        external_id: Option<String>,
    ) -> Result<UserConnection> {
        let page = PageRequest::new(first.unwrap_or(20), after.as_deref())?;
        let users = app(ctx)
            .bot_users(auth(ctx)?, self.0.id, external_id.as_deref(), page)
            .await?;
        Ok(UserConnection::from_page(users, User))
    }

    #[graphql(complexity = "super::cost::page(first, 20, child_complexity)")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
        status: Option<ConversationStatus>,
    ) -> Result<ConversationConnection> {
        let filter = ConversationFilter {
            bot: Some(self.0.id),
            user: None,
            status: status.map(Into::into),
        };
        conversations(ctx, filter, first, after).await
    }
}

async fn conversations(
    ctx: &Context<'_>,
    filter: ConversationFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<ConversationConnection> {
    let page = PageRequest::new(first.unwrap_or(20), after.as_deref())?;
    let found = app(ctx).conversations(auth(ctx)?, filter, page).await?;
    Ok(ConversationConnection::from_page(found, Conversation))
}

pub struct User(pub domain::User);

impl Node for User {
    fn cursor_id(&self) -> Uuid {
        self.0.id.0
    }
}

#[Object]
impl User {
    async fn id(&self) -> Uuid {
        self.0.id.0
    }
    async fn bot_id(&self) -> Uuid {
        self.0.bot_id.0
    }
    async fn channel(&self) -> &str {
        &self.0.channel
    }
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }
    async fn avatar_url(&self) -> Option<&str> {
        self.0.avatar_url.as_deref()
    }
    async fn locale(&self) -> Option<&str> {
        self.0.locale.as_deref()
    }
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// Long-term memory (scope USER).
    #[graphql(complexity = "super::cost::MEMORY + child_complexity")]
    async fn memory(&self, ctx: &Context<'_>) -> Result<Memory> {
        nested_memory(ctx, Scope::User, self.0.id.0).await
    }

    #[graphql(complexity = "super::cost::page(first, 20, child_complexity)")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
        status: Option<ConversationStatus>,
    ) -> Result<ConversationConnection> {
        let filter = ConversationFilter {
            bot: None,
            user: Some(self.0.id),
            status: status.map(Into::into),
        };
        conversations(ctx, filter, first, after).await
    }
}

pub struct Conversation(pub domain::Conversation);

impl Node for Conversation {
    fn cursor_id(&self) -> Uuid {
        self.0.id.0
    }
}

#[Object]
impl Conversation {
    async fn id(&self) -> Uuid {
        self.0.id.0
    }
    async fn bot_id(&self) -> Uuid {
        self.0.bot_id.0
    }
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        let user = loader(ctx)?
            .load_one(self.0.user_id)
            .await
            .map_err(shared_error)?
            .ok_or(Error::NotFound("user"))?;
        Ok(User(user))
    }
    async fn status(&self) -> ConversationStatus {
        self.0.status.into()
    }
    async fn end_reason(&self) -> Option<EndReason> {
        self.0.end_reason.map(Into::into)
    }
    async fn channel(&self) -> &str {
        &self.0.channel
    }
    async fn culture(&self) -> Option<&str> {
        self.0.culture.as_deref()
    }
    async fn debug(&self) -> bool {
        self.0.debug
    }
    async fn channel_provider(&self) -> Option<&str> {
        self.0.channel_provider.as_deref()
    }
    async fn is_proxy(&self) -> bool {
        self.0.is_proxy
    }
    async fn started_at(&self) -> DateTime {
        self.0.started_at.into()
    }
    async fn last_activity_at(&self) -> DateTime {
        self.0.last_activity_at.into()
    }
    /// When the session times out if nothing happens; null once ended.
    async fn expires_at(&self) -> Option<DateTime> {
        self.0.expires_at.map(Into::into)
    }
    async fn ended_at(&self) -> Option<DateTime> {
        self.0.ended_at.map(Into::into)
    }
    /// Short-term memory (scope CONVERSATION).
    #[graphql(complexity = "super::cost::MEMORY + child_complexity")]
    async fn memory(&self, ctx: &Context<'_>) -> Result<Memory> {
        nested_memory(ctx, Scope::Conversation, self.0.id.0).await
    }
    /// Memory of the current flow (scope TEMP).
    #[graphql(complexity = "super::cost::MEMORY + child_complexity")]
    async fn temp(&self, ctx: &Context<'_>) -> Result<Memory> {
        nested_memory(ctx, Scope::Temp, self.0.id.0).await
    }
    /// The newest `last` messages, oldest first.
    #[graphql(complexity = "super::cost::page(last, 20, child_complexity)")]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] last: Option<i32>,
    ) -> Result<Vec<Message>> {
        let log = MessageLog {
            conversation: self.0.id,
            last: last.unwrap_or(20),
        };
        let found = loader(ctx)?.load_one(log).await.map_err(shared_error)?;
        Ok(found.unwrap_or_default().into_iter().map(Message).collect())
    }
}

/// The `memory`/`temp` of an object the caller has read: batched.
async fn nested_memory(ctx: &Context<'_>, scope: Scope, owner_id: Uuid) -> Result<Memory> {
    let key = OwnerKey { scope, owner_id };
    let memory = loader(ctx)?
        .load_one(key)
        .await
        .map_err(shared_error)?
        .ok_or(Error::NotFound("memory"))?;
    Ok(Memory(memory))
}

pub struct Message(pub domain::Message);

#[Object]
impl Message {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn direction(&self) -> MessageDirection {
        self.0.direction.into()
    }
    async fn text(&self) -> Option<&str> {
        self.0.text.as_deref()
    }
    async fn payload(&self) -> Option<Json<serde_json::Value>> {
        self.0.payload.clone().map(Json)
    }
    async fn at(&self) -> DateTime {
        self.0.at.into()
    }
}
