use async_graphql::{Context, InputObject, Json, Object, Result};
use uuid::Uuid;

use super::{
    context::{app, auth},
    objects::Conversation,
};
use crate::{
    domain::{self, UserSelector},
    error::Error,
    ids::{BotId, ConversationId, UserId},
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

    /// Records activity: the session timeout starts again.
    async fn touch_conversation(&self, ctx: &Context<'_>, id: Uuid) -> Result<Conversation> {
        let touched = app(ctx)
            .touch_conversation(auth(ctx)?, ConversationId(id))
            .await?;
        Ok(Conversation(touched))
    }
}
