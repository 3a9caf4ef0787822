//! GraphQL for conversations: start (with prefilled memory), touch, end, list.
use async_graphql::{Context, InputObject, Json, Object, Result};
use uuid::Uuid;

use super::{
    context::{app, auth},
    enums::{EndReason, MessageDirection},
    objects::{Conversation, Message},
};

#[derive(InputObject)]
pub struct MessageInput {
    direction: MessageDirection,
    text: Option<String>,
    payload: Option<Json<serde_json::Value>>,
}
use crate::{
    domain::{self, UserSelector},
    error::Error,
    model::{BotId, ConversationId, UserId},
};

#[derive(InputObject)]
pub struct StartConversationInput {
    bot_id: Uuid,
    /// An existing user, or channel + externalId to find or create one.
    user_id: Option<Uuid>,
    channel: Option<String>,
    external_id: Option<String>,
    culture: Option<String>,
    #[graphql(default_with = "Some(false)")]
    debug: Option<bool>,
    channel_provider: Option<String>,
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
    async fn conversation(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<Conversation>> {
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
        conversation_id: Uuid,
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
    async fn start_conversation(
        &self,
        ctx: &Context<'_>,
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

    /// Ends the conversation: short-term memory is promoted into the user's
    /// long-term memory per the bot's policy, then CONVERSATION and TEMP are
    /// cleared, in one transaction.
    async fn end_conversation(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        #[graphql(default_with = "Some(EndReason::Completed)")] reason: Option<EndReason>,
    ) -> Result<Conversation> {
        let reason = reason.unwrap_or(EndReason::Completed).into();
        let ended = app(ctx)
            .end_conversation(auth(ctx)?, ConversationId(id), reason)
            .await?;
        Ok(Conversation(ended))
    }

    /// Ends the current flow: clears TEMP memory; returns how many variables went.
    async fn end_flow(&self, ctx: &Context<'_>, conversation_id: Uuid) -> Result<i32> {
        let cleared = app(ctx)
            .end_flow(auth(ctx)?, ConversationId(conversation_id))
            .await?;
        Ok(cleared.clamp(0, i32::MAX as i64) as i32)
    }

    async fn append_message(
        &self,
        ctx: &Context<'_>,
        conversation_id: Uuid,
        input: MessageInput,
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

    /// Records activity: the session timeout starts again.
    async fn touch_conversation(&self, ctx: &Context<'_>, id: Uuid) -> Result<Conversation> {
        let touched = app(ctx)
            .touch_conversation(auth(ctx)?, ConversationId(id))
            .await?;
        Ok(Conversation(touched))
    }
}
