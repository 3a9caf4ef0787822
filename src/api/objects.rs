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

/// The caller, as the verified token says: who, which tenant, which roles and which bots.
#[Object]
impl Viewer {
    /// The token's `sub` claim.
    async fn subject(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(auth(ctx)?.subject.clone())
    }

    /// The caller's tenant and its settings.
    async fn tenant(&self, ctx: &Context<'_>) -> Result<Tenant> {
        Ok(Tenant(app(ctx).tenant(auth(ctx)?).await?))
    }

    /// The roles the token grants; each includes the ones below it.
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

/// A company running bots. Everything it stores is isolated from other tenants; its row is created
/// with defaults on its first authenticated request.
#[Object]
impl Tenant {
    /// The token's `tenant` claim.
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
    /// When the tenant's first authenticated request arrived.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

/// How long a variable of one name lives in the given scopes when a write names no expiry of its
/// own; the clock restarts whenever the value changes.
#[derive(SimpleObject)]
pub struct RetentionPolicy {
    /// The variable name it applies to, matched exactly.
    name: String,
    /// How long the variable lives after its value last changed.
    ttl: Duration,
    /// The memory scopes it applies in.
    scopes: Vec<MemoryScope>,
}

/// What ending a conversation (or its session timing out) copies from its short-term memory into
/// the user's long-term memory.
#[derive(SimpleObject)]
pub struct PromotionPolicy {
    /// Which variables are promoted.
    mode: PromotionMode,
    /// The promoted names with mode LISTED; empty otherwise.
    names: Vec<String>,
}

pub struct Bot(pub domain::Bot);

impl Node for Bot {
    fn cursor_id(&self) -> Uuid {
        self.0.id.0
    }
}

/// A chatbot of the tenant and its memory settings. Its users, conversations and their memories all
/// belong to it.
#[Object]
impl Bot {
    /// The bot's id.
    async fn id(&self) -> Uuid {
        self.0.id.0
    }
    /// Unique within the tenant.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// How long a conversation may be idle before it expires.
    async fn session_timeout(&self) -> Duration {
        self.0.session_timeout.into()
    }
    /// Expiry per variable name and scope, for writes that name none.
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
    /// What ending a conversation promotes into the user's long-term memory.
    async fn promotion(&self) -> PromotionPolicy {
        PromotionPolicy {
            mode: self.0.promotion.mode.into(),
            names: self.0.promotion.names.clone(),
        }
    }
    /// How many of the newest messages each conversation keeps; older ones are dropped.
    async fn last_messages_kept(&self) -> i32 {
        self.0.last_messages_kept
    }
    /// When the bot was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// When its settings last changed.
    async fn updated_at(&self) -> DateTime {
        self.0.updated_at.into()
    }
    /// Memory shared by all users of the bot (scope BOT).
    #[graphql(complexity = "super::cost::MEMORY + child_complexity")]
    async fn memory(&self, ctx: &Context<'_>) -> Result<Memory> {
        nested_memory(ctx, Scope::Bot, self.0.id.0).await
    }

    /// The bot's end users, oldest first.
    #[graphql(complexity = "super::cost::page(first, 20, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size, 0 to 100 (BAD_USER_INPUT otherwise).")]
        first: Option<i32>,
        #[graphql(desc = "The previous page's `endCursor`; BAD_USER_INPUT for anything else.")]
        after: Option<String>,
        #[graphql(desc = "Only the users with exactly this external id (on any channel).")]
        external_id: Option<String>,
    ) -> Result<UserConnection> {
        let page = PageRequest::new(first.unwrap_or(20), after.as_deref())?;
        let users = app(ctx)
            .bot_users(auth(ctx)?, self.0.id, external_id.as_deref(), page)
            .await?;
        Ok(UserConnection::from_page(users, User))
    }

    /// The bot's conversations, oldest first.
    #[graphql(complexity = "super::cost::page(first, 20, child_complexity)")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size, 0 to 100 (BAD_USER_INPUT otherwise).")]
        first: Option<i32>,
        #[graphql(desc = "The previous page's `endCursor`; BAD_USER_INPUT for anything else.")]
        after: Option<String>,
        #[graphql(
            desc = "Only conversations with this status now; a timed-out session counts as EXPIRED before the janitor finalizes it."
        )]
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

/// An end user of one bot, known by channel and the channel's id for them (NativeChat's user
/// entity). Owns the long-term (USER) memory.
#[Object]
impl User {
    /// The user's id.
    async fn id(&self) -> Uuid {
        self.0.id.0
    }
    /// The bot the user belongs to.
    async fn bot_id(&self) -> Uuid {
        self.0.bot_id.0
    }
    /// The channel the user talks on.
    async fn channel(&self) -> &str {
        &self.0.channel
    }
    /// The channel's id for the user; unique per bot and channel.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    /// Given name, as templates render `{{user.firstName}}`.
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    /// Family name, as templates render `{{user.lastName}}`.
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }
    /// An http(s) URL of the user's picture.
    async fn avatar_url(&self) -> Option<&str> {
        self.0.avatar_url.as_deref()
    }
    /// BCP 47 language tag such as en-GB; templates use it when the conversation has no culture.
    async fn locale(&self) -> Option<&str> {
        self.0.locale.as_deref()
    }
    /// When the user was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// Long-term memory (scope USER).
    #[graphql(complexity = "super::cost::MEMORY + child_complexity")]
    async fn memory(&self, ctx: &Context<'_>) -> Result<Memory> {
        nested_memory(ctx, Scope::User, self.0.id.0).await
    }

    /// The user's conversations, oldest first.
    #[graphql(complexity = "super::cost::page(first, 20, child_complexity)")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size, 0 to 100 (BAD_USER_INPUT otherwise).")]
        first: Option<i32>,
        #[graphql(desc = "The previous page's `endCursor`; BAD_USER_INPUT for anything else.")]
        after: Option<String>,
        #[graphql(
            desc = "Only conversations with this status now; a timed-out session counts as EXPIRED before the janitor finalizes it."
        )]
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

/// One session between a bot and an end user. Owns the short-term (CONVERSATION) and TEMP memories
/// and a message log; any write to them is activity that restarts the session timeout.
#[Object]
impl Conversation {
    /// The conversation's id.
    async fn id(&self) -> Uuid {
        self.0.id.0
    }
    /// The bot the conversation is with.
    async fn bot_id(&self) -> Uuid {
        self.0.bot_id.0
    }
    /// The end user the conversation is with.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        let user = loader(ctx)?
            .load_one(self.0.user_id)
            .await
            .map_err(shared_error)?
            .ok_or(Error::NotFound("user"))?;
        Ok(User(user))
    }
    /// ACTIVE until ended; EXPIRED as soon as its session timed out, whether or not the janitor has
    /// run.
    async fn status(&self) -> ConversationStatus {
        self.0.status.into()
    }
    /// Why it ended; null while active.
    async fn end_reason(&self) -> Option<EndReason> {
        self.0.end_reason.map(Into::into)
    }
    /// The user's channel.
    async fn channel(&self) -> &str {
        &self.0.channel
    }
    /// BCP 47 tag (`_system.culture`) for dates and numbers in templates; when null, the user's
    /// locale is used.
    async fn culture(&self) -> Option<&str> {
        self.0.culture.as_deref()
    }
    /// NativeChat's `_system.debug` flag, as given at start.
    async fn debug(&self) -> bool {
        self.0.debug
    }
    /// The channel provider (`_system.channel.providerName`), as given at start.
    async fn channel_provider(&self) -> Option<&str> {
        self.0.channel_provider.as_deref()
    }
    /// Whether messages arrive through a proxy (`_system.channel.isProxy`), as given at start.
    async fn is_proxy(&self) -> bool {
        self.0.is_proxy
    }
    /// When it started.
    async fn started_at(&self) -> DateTime {
        self.0.started_at.into()
    }
    /// The last write to its memory or messages, or touch; the session timeout counts from here.
    async fn last_activity_at(&self) -> DateTime {
        self.0.last_activity_at.into()
    }
    /// When the session times out if nothing happens; null once ended.
    async fn expires_at(&self) -> Option<DateTime> {
        self.0.expires_at.map(Into::into)
    }
    /// When it ended or its session timed out; null while active.
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
        #[graphql(
            default = 20,
            desc = "How many of the newest messages, 0 to 1000 (BAD_USER_INPUT otherwise); the log holds at most the bot's lastMessagesKept."
        )]
        last: Option<i32>,
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

/// One message of a conversation's log.
#[Object]
impl Message {
    /// The message's id; ids grow with time.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Who sent it.
    async fn direction(&self) -> MessageDirection {
        self.0.direction.into()
    }
    /// The text, if any.
    async fn text(&self) -> Option<&str> {
        self.0.text.as_deref()
    }
    /// Structured content as JSON, if any.
    async fn payload(&self) -> Option<Json<serde_json::Value>> {
        self.0.payload.clone().map(Json)
    }
    /// When it was appended.
    async fn at(&self) -> DateTime {
        self.0.at.into()
    }
}
