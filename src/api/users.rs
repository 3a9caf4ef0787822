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

/// An end user to find by bot, channel and external id, or create. Profile fields given replace the
/// stored ones; omitted ones stay.
#[derive(InputObject)]
pub struct UpsertUserInput {
    /// The user's bot.
    bot_id: Uuid,
    /// The channel the user talks on, 1 to 100 characters.
    channel: String,
    /// The channel's id for the user, 1 to 255 characters.
    external_id: String,
    /// Given name, up to 255 characters.
    first_name: Option<String>,
    /// Family name, up to 255 characters.
    last_name: Option<String>,
    /// An http(s) URL of the user's picture.
    avatar_url: Option<String>,
    /// BCP 47 language tag such as en or en-GB.
    locale: Option<String>,
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// A user by id; null if it does not exist, is another tenant's, or belongs to a bot outside
    /// the token's `bots` claim.
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] id: Uuid,
    ) -> Result<Option<User>> {
        Ok(app(ctx).user(auth(ctx)?, UserId(id)).await?.map(User))
    }
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Finds the user by bot, channel and external id, or creates them. Profile fields that are
    /// given replace the stored ones; omitted ones stay (editor). NOT_FOUND for an unknown bot;
    /// BAD_USER_INPUT for invalid fields.
    async fn upsert_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's key and profile fields.")] input: UpsertUserInput,
    ) -> Result<User> {
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

    /// Erases the user, their conversations, messages and all their memory (editor). NOT_FOUND for
    /// an unknown user.
    async fn delete_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user to erase.")] id: Uuid,
    ) -> Result<bool> {
        Ok(app(ctx).delete_user(auth(ctx)?, UserId(id)).await?)
    }

    /// Everything stored about one user, as JSON: profile, long-term memory, and each conversation
    /// with its memory, temp memory and kept messages (viewer). NOT_FOUND for an unknown user.
    #[graphql(complexity = "super::cost::EXPORT + child_complexity")]
    async fn export_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user to export.")] id: Uuid,
    ) -> Result<Json<serde_json::Value>> {
        Ok(Json(app(ctx).export_user(auth(ctx)?, UserId(id)).await?))
    }
}
