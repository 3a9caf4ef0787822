//! GraphQL for end users: upsert, read, list, delete and export.
use async_graphql::{Context, InputObject, Json, Object, Result};
use uuid::Uuid;

use super::{
    context::{app, auth},
    objects::User,
};
use crate::{
    domain::{self, UserProfile},
    model::{BotId, UserId},
};

#[derive(InputObject)]
pub struct UpsertUserInput {
    bot_id: Uuid,
    channel: String,
    external_id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    avatar_url: Option<String>,
    locale: Option<String>,
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    async fn user(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<User>> {
        Ok(app(ctx).user(auth(ctx)?, UserId(id)).await?.map(User))
    }
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Finds the user by bot, channel and external id, or creates them.
    /// Profile fields that are given replace the stored ones; omitted ones stay.
    async fn upsert_user(&self, ctx: &Context<'_>, input: UpsertUserInput) -> Result<User> {
        let input = domain::UpsertUser {
            bot_id: BotId(input.bot_id),
            channel: input.channel,
            external_id: input.external_id,
            profile: UserProfile {
                first_name: input.first_name,
                last_name: input.last_name,
                avatar_url: input.avatar_url,
                locale: input.locale,
            },
        };
        Ok(User(app(ctx).upsert_user(auth(ctx)?, input).await?))
    }

    /// Erases the user, their conversations, messages and all their memory.
    async fn delete_user(&self, ctx: &Context<'_>, id: Uuid) -> Result<bool> {
        Ok(app(ctx).delete_user(auth(ctx)?, UserId(id)).await?)
    }

    /// Everything stored about one user, as JSON.
    #[graphql(complexity = "super::cost::EXPORT + child_complexity")]
    async fn export_user(&self, ctx: &Context<'_>, id: Uuid) -> Result<Json<serde_json::Value>> {
        Ok(Json(app(ctx).export_user(auth(ctx)?, UserId(id)).await?))
    }
}
