//! GraphQL for conversations: start (with prefilled memory), touch, end, list.
use async_graphql::{Context, InputObject, Json, Object, Result};
use uuid::Uuid;

use super::{
    context::{app, auth},
    enums::{EndReason, MessageDirection},
    objects::{Conversation, Message},
};

/// A message to append: text, a payload, or both.
#[derive(InputObject)]
pub struct MessageInput {
    /// Who sent it.
    direction: MessageDirection,
    /// The text, up to 4096 characters.
    text: Option<String>,
    /// Structured content as JSON (buttons, cards), at most the tenant's maxValueBytes
    /// (QUOTA_EXCEEDED).
    payload: Option<Json<serde_json::Value>>,
}
use crate::{
    domain::{self, UserSelector},
    error::Error,
    model::{BotId, ConversationId, UserId},
};

/// A new conversation: its bot, its user (userId, or channel + externalId), NativeChat's `_system`
/// fields, and prefilled short-term memory.
#[derive(InputObject)]
pub struct StartConversationInput {
    /// The bot the conversation is with.
    bot_id: Uuid,
    /// An existing user, or channel + externalId to find or create one.
    user_id: Option<Uuid>,
    /// With externalId: the user's channel (1 to 100 characters).
    channel: Option<String>,
    /// With channel: the channel's id for the user (1 to 255 characters).
    external_id: Option<String>,
    /// BCP 47 tag such as en-GB (`_system.culture`), for dates and numbers in templates.
    culture: Option<String>,
    /// NativeChat's `_system.debug` flag, stored as given.
    #[graphql(default_with = "Some(false)")]
    debug: Option<bool>,
    /// The channel provider (`_system.channel.providerName`), up to 100 characters.
    channel_provider: Option<String>,
    /// Whether messages arrive through a proxy (`_system.channel.isProxy`).
    #[graphql(default_with = "Some(false)")]
    is_proxy: Option<bool>,
    /// Prefilled short-term memory: name -> value.
    memory: Option<Json<serde_json::Value>>,
}

fn user_selector(input: &StartConversationInput) -> crate::error::Result<UserSelector> {
    match (&input.user_id, &input.channel, &input.external_id) {
        (Some(id), None, None) => Ok(UserSelector::Id(UserId(*id))),
        (None, Some(channel), Some(external_id)) => Ok(UserSelector::External {
            channel: channel.clone(),
            external_id: external_id.clone(),
        }),
        _ => Err(Error::bad_input(
            "userId",
            "give either userId, or channel and externalId",
        )),
    }
}

#[derive(Default)]
pub struct ConversationQuery;

#[Object]
impl ConversationQuery {
    /// A conversation by id; null if it does not exist, is another tenant's, or belongs to a bot
    /// outside the token's `bots` claim.
    async fn conversation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation's id.")] id: Uuid,
    ) -> Result<Option<Conversation>> {
        let found = app(ctx)
            .conversation(auth(ctx)?, ConversationId(id))
            .await?;
        Ok(found.map(Conversation))
    }

    /// Memory put into a reply, in Handlebars as NativeChat writes it:
    /// `{{user.FirstName}}`, `{{memory.x}}`/`{{session.x}}` (short-term),
    /// `{{user.x}}` (long-term), `{{temp.x}}`, `{{bot.x}}`, `{{_system.culture}}`,
    /// a bare `{{x}}` (short-term, then long-term), `#each`/`#if`/`#with`,
    /// and culture-aware helpers (`formatDate`, `formatNumber`,
    /// `formatCurrency`, `formatPercent`, `plural`, `text`, `json`,
    /// `escapeHtml`). Output is chat text, not HTML. An expired variable
    /// never renders. Errors: `BAD_USER_INPUT` for a malformed template
    /// (with line and column) or, in `strict` mode, a name with no value;
    /// `QUOTA_EXCEEDED` past the output or loop limits; `NOT_FOUND` for a
    /// conversation outside the caller's tenant or bots.
    async fn render_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation whose memories, user and culture the template reads.")]
        conversation_id: Uuid,
        #[graphql(desc = "Handlebars source, such as `Hello {{user.firstName}}!`.")]
        template: String,
        #[graphql(
            default = false,
            desc = "Fail on a name that has no value instead of rendering it empty."
        )]
        strict: bool,
    ) -> Result<String> {
        Ok(app(ctx)
            .render_template(
                auth(ctx)?,
                ConversationId(conversation_id),
                &template,
                strict,
            )
            .await?)
    }
}

#[derive(Default)]
pub struct ConversationMutation;

#[Object]
impl ConversationMutation {
    /// Starts an ACTIVE conversation (editor), with the user found or created by channel +
    /// externalId, or given by userId. NOT_FOUND for an unknown bot or a user of another bot;
    /// BAD_USER_INPUT for invalid input; QUOTA_EXCEEDED for a prefilled value over maxValueBytes.
    async fn start_conversation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bot, the user, the `_system` fields and prefilled memory.")]
        input: StartConversationInput,
    ) -> Result<Conversation> {
        let user = user_selector(&input)?;
        let start = domain::StartConversation {
            bot_id: BotId(input.bot_id),
            user,
            culture: input.culture,
            debug: input.debug.unwrap_or(false),
            channel_provider: input.channel_provider,
            is_proxy: input.is_proxy.unwrap_or(false),
            memory: input.memory.map(|m| m.0),
        };
        Ok(Conversation(
            app(ctx).start_conversation(auth(ctx)?, start).await?,
        ))
    }

    /// Ends the conversation: short-term memory is promoted into the user's long-term memory per
    /// the bot's policy, then CONVERSATION and TEMP are cleared, in one transaction (editor).
    /// CONVERSATION_ENDED if it already ended or timed out; NOT_FOUND for an unknown conversation.
    async fn end_conversation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation to end.")] id: Uuid,
        #[graphql(
            default_with = "Some(EndReason::Completed)",
            desc = "COMPLETED or ABANDONED; TIMEOUT is the server's own (BAD_USER_INPUT)."
        )]
        reason: Option<EndReason>,
    ) -> Result<Conversation> {
        let reason = reason.unwrap_or(EndReason::Completed).into();
        let ended = app(ctx)
            .end_conversation(auth(ctx)?, ConversationId(id), reason)
            .await?;
        Ok(Conversation(ended))
    }

    /// Ends the current flow: clears TEMP memory; returns how many variables went. Editor; counts
    /// as activity; CONVERSATION_ENDED once the conversation ended.
    async fn end_flow(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation whose flow ended.")] conversation_id: Uuid,
    ) -> Result<i32> {
        let cleared = app(ctx)
            .end_flow(auth(ctx)?, ConversationId(conversation_id))
            .await?;
        Ok(cleared.clamp(0, i32::MAX as i64) as i32)
    }

    /// Appends a message to the log (editor), which keeps the bot's lastMessagesKept newest; counts
    /// as activity. BAD_USER_INPUT without text or payload, QUOTA_EXCEEDED for a payload over
    /// maxValueBytes, CONVERSATION_ENDED once the conversation ended.
    async fn append_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation to append to.")] conversation_id: Uuid,
        #[graphql(desc = "The message.")] input: MessageInput,
    ) -> Result<Message> {
        let message = domain::NewMessage {
            direction: input.direction.into(),
            text: input.text,
            payload: input.payload.map(|p| p.0),
        };
        let appended = app(ctx)
            .append_message(auth(ctx)?, ConversationId(conversation_id), message)
            .await?;
        Ok(Message(appended))
    }

    /// Records activity: the session timeout starts again (editor). CONVERSATION_ENDED if it
    /// already ended or timed out.
    async fn touch_conversation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation that is active.")] id: Uuid,
    ) -> Result<Conversation> {
        let touched = app(ctx)
            .touch_conversation(auth(ctx)?, ConversationId(id))
            .await?;
        Ok(Conversation(touched))
    }
}
