//! GraphQL for bots: queries and admin mutations, translated to the domain.
use async_graphql::{Context, InputObject, Object, Result};
use uuid::Uuid;

use super::{
    connection::BotConnection,
    context::{app, auth},
    enums::{MemoryScope, PromotionMode},
    objects::{Bot, Viewer},
    scalars::Duration,
};
use crate::{
    domain::{self, BotChanges, PageRequest},
    error::Result as DomainResult,
    model::BotId,
};

/// How long a variable of one name lives in the given scopes when a write names no expiry of its
/// own; the clock restarts whenever the value changes.
#[derive(InputObject)]
pub struct RetentionPolicyInput {
    /// The variable name, matched exactly: 1 to 128 characters, no control characters or
    /// surrounding whitespace.
    name: String,
    /// How long the variable lives after its value last changed.
    ttl: Duration,
    /// Null means the default, `[USER]`. At least one; a name may have one policy per scope
    /// (BAD_USER_INPUT otherwise).
    #[graphql(default_with = "Some(vec![MemoryScope::User])")]
    scopes: Option<Vec<MemoryScope>>,
}

/// What ending a conversation (or its session timing out) copies from its short-term memory into
/// the user's long-term memory.
#[derive(InputObject)]
pub struct PromotionPolicyInput {
    /// Which variables are promoted.
    mode: PromotionMode,
    /// The names to promote: required with LISTED, refused with ALL and NONE (BAD_USER_INPUT).
    #[graphql(default_with = "Some(vec![])")]
    names: Option<Vec<String>>,
}

/// A new bot's name and settings; omitted settings take their defaults.
#[derive(InputObject)]
pub struct CreateBotInput {
    /// Unique within the tenant (CONFLICT otherwise); 1 to 200 characters.
    name: String,
    /// How long a conversation may be idle before it expires.
    #[graphql(default_with = "Some(domain::DEFAULT_SESSION_TIMEOUT.into())")]
    session_timeout: Option<Duration>,
    /// Expiry per variable name and scope, for writes that name none.
    #[graphql(default_with = "Some(vec![])")]
    retention_policies: Option<Vec<RetentionPolicyInput>>,
    /// What ending a conversation promotes into the user's long-term memory.
    #[graphql(
        default_with = "Some(PromotionPolicyInput { mode: PromotionMode::All, names: Some(vec![]) })"
    )]
    promotion: Option<PromotionPolicyInput>,
    /// How many of the newest messages each conversation keeps, 0 to 1000.
    #[graphql(default_with = "Some(domain::DEFAULT_MESSAGES_KEPT)")]
    last_messages_kept: Option<i32>,
}

/// Changes to a bot's settings; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateBotInput {
    /// A new name, unique within the tenant (CONFLICT otherwise).
    name: Option<String>,
    /// A new idle timeout; each conversation's session restarts with it at its next activity.
    session_timeout: Option<Duration>,
    /// Replaces every policy; applies to writes from now on, existing expiries stay.
    retention_policies: Option<Vec<RetentionPolicyInput>>,
    /// Replaces the promotion policy.
    promotion: Option<PromotionPolicyInput>,
    /// 0 to 1000; lowering it trims existing logs at the janitor's next sweep.
    last_messages_kept: Option<i32>,
}

fn policies(input: Vec<RetentionPolicyInput>) -> DomainResult<Vec<domain::RetentionPolicy>> {
    input
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(domain::RetentionPolicy {
                ttl: p.ttl.parse(&format!("retentionPolicies[{i}].ttl"))?,
                name: p.name,
                scopes: p
                    .scopes
                    .unwrap_or_else(|| vec![MemoryScope::User])
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            })
        })
        .collect()
}

fn promotion(input: PromotionPolicyInput) -> domain::Promotion {
    domain::Promotion {
        mode: input.mode.into(),
        names: input.names.unwrap_or_default(),
    }
}

#[derive(Default)]
pub struct BotQuery;

#[Object]
impl BotQuery {
    /// Who the token says the caller is.
    async fn viewer(&self) -> Viewer {
        Viewer
    }

    /// The tenant's bots the token may use, oldest first.
    #[graphql(complexity = "super::cost::page(first, 20, child_complexity)")]
    async fn bots(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size, 0 to 100 (BAD_USER_INPUT otherwise).")]
        first: Option<i32>,
        #[graphql(desc = "The previous page's `endCursor`; BAD_USER_INPUT for anything else.")]
        after: Option<String>,
    ) -> Result<BotConnection> {
        let page = PageRequest::new(first.unwrap_or(20), after.as_deref())?;
        let bots = app(ctx).bots(auth(ctx)?, page).await?;
        Ok(BotConnection::from_page(bots, Bot))
    }

    /// A bot by id; null if it does not exist, is another tenant's, or is outside the token's
    /// `bots` claim.
    async fn bot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bot's id.")] id: Uuid,
    ) -> Result<Option<Bot>> {
        Ok(app(ctx).bot(auth(ctx)?, BotId(id)).await?.map(Bot))
    }
}

#[derive(Default)]
pub struct BotMutation;

#[Object]
impl BotMutation {
    /// Creates a bot (admin, with a token not limited to some bots). BAD_USER_INPUT for invalid
    /// settings; CONFLICT if the name is taken.
    async fn create_bot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bot's name and settings.")] input: CreateBotInput,
    ) -> Result<Bot> {
        let settings = domain::NewBot {
            name: input.name,
            session_timeout: match input.session_timeout {
                Some(text) => text.parse("sessionTimeout")?,
                None => domain::DEFAULT_SESSION_TIMEOUT,
            },
            retention_policies: policies(input.retention_policies.unwrap_or_default())?,
            promotion: input
                .promotion
                .map(promotion)
                .unwrap_or_else(domain::Promotion::all),
            last_messages_kept: input
                .last_messages_kept
                .unwrap_or(domain::DEFAULT_MESSAGES_KEPT),
        };
        Ok(Bot(app(ctx).create_bot(auth(ctx)?, settings).await?))
    }

    /// Changes a bot's settings (admin). NOT_FOUND for an unknown bot, BAD_USER_INPUT for invalid
    /// settings, CONFLICT if the new name is taken.
    async fn update_bot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bot to change.")] id: Uuid,
        #[graphql(desc = "The settings to change; the others stay.")] input: UpdateBotInput,
    ) -> Result<Bot> {
        let changes = BotChanges {
            name: input.name,
            session_timeout: input
                .session_timeout
                .map(|text| text.parse("sessionTimeout"))
                .transpose()?,
            retention_policies: input.retention_policies.map(policies).transpose()?,
            promotion: input.promotion.map(promotion),
            last_messages_kept: input.last_messages_kept,
        };
        Ok(Bot(app(ctx)
            .update_bot(auth(ctx)?, BotId(id), changes)
            .await?))
    }

    /// Deletes the bot and everything stored about its users and conversations (admin). NOT_FOUND
    /// for an unknown bot.
    async fn delete_bot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bot to delete.")] id: Uuid,
    ) -> Result<bool> {
        Ok(app(ctx).delete_bot(auth(ctx)?, BotId(id)).await?)
    }
}
