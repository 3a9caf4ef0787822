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

#[derive(InputObject)]
pub struct RetentionPolicyInput {
    name: String,
    ttl: Duration,
    /// Null means the default, `[USER]`.
    #[graphql(default_with = "Some(vec![MemoryScope::User])")]
    scopes: Option<Vec<MemoryScope>>,
}

#[derive(InputObject)]
pub struct PromotionPolicyInput {
    mode: PromotionMode,
    #[graphql(default_with = "Some(vec![])")]
    names: Option<Vec<String>>,
}

#[derive(InputObject)]
pub struct CreateBotInput {
    name: String,
    #[graphql(default_with = "Some(domain::DEFAULT_SESSION_TIMEOUT.into())")]
    session_timeout: Option<Duration>,
    #[graphql(default_with = "Some(vec![])")]
    retention_policies: Option<Vec<RetentionPolicyInput>>,
    #[graphql(
        default_with = "Some(PromotionPolicyInput { mode: PromotionMode::All, names: Some(vec![]) })"
    )]
    promotion: Option<PromotionPolicyInput>,
    #[graphql(default_with = "Some(domain::DEFAULT_MESSAGES_KEPT)")]
    last_messages_kept: Option<i32>,
}

#[derive(InputObject)]
pub struct UpdateBotInput {
    name: Option<String>,
    session_timeout: Option<Duration>,
    retention_policies: Option<Vec<RetentionPolicyInput>>,
    promotion: Option<PromotionPolicyInput>,
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

    #[graphql(complexity = "super::cost::page(first, 20, child_complexity)")]
    async fn bots(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<BotConnection> {
        let page = PageRequest::new(first.unwrap_or(20), after.as_deref())?;
        let bots = app(ctx).bots(auth(ctx)?, page).await?;
        Ok(BotConnection::from_page(bots, Bot))
    }

    async fn bot(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<Bot>> {
        Ok(app(ctx).bot(auth(ctx)?, BotId(id)).await?.map(Bot))
    }
}

#[derive(Default)]
pub struct BotMutation;

#[Object]
impl BotMutation {
    async fn create_bot(&self, ctx: &Context<'_>, input: CreateBotInput) -> Result<Bot> {
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

    async fn update_bot(&self, ctx: &Context<'_>, id: Uuid, input: UpdateBotInput) -> Result<Bot> {
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

    /// Deletes the bot and everything stored about its users and conversations.
    async fn delete_bot(&self, ctx: &Context<'_>, id: Uuid) -> Result<bool> {
        Ok(app(ctx).delete_bot(auth(ctx)?, BotId(id)).await?)
    }
}
