//! Conversations as rows: started (with the user found or created and the
//! memory prefilled), touched, ended or expired only while still live.
use chrono::{DateTime, Utc};
use entity::{conversation, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, QueryFilter, sea_query::Expr,
};

use super::{Store, Tx, page, scoped, scoped_update, users};
use crate::{
    error::{Error, Result},
    model::{BotId, ConversationId, TenantId, UserId},
    model::{
        Conversation, ConversationFilter, ConversationStatus, EndReason, Page, PageRequest,
        UpsertUser, UserProfile, UserSelector,
    },
};

pub(super) fn status_str(status: ConversationStatus) -> &'static str {
    match status {
        ConversationStatus::Active => "active",
        ConversationStatus::Ended => "ended",
        ConversationStatus::Expired => "expired",
    }
}

pub(super) fn reason_str(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Completed => "completed",
        EndReason::Abandoned => "abandoned",
        EndReason::Timeout => "timeout",
    }
}

pub(super) fn to_domain(m: conversation::Model) -> Result<Conversation> {
    let status = match m.status.as_str() {
        "active" => ConversationStatus::Active,
        "ended" => ConversationStatus::Ended,
        "expired" => ConversationStatus::Expired,
        _ => {
            return Err(Error::internal(format!(
                "conversation {}: bad status",
                m.id
            )));
        }
    };
    let end_reason = match m.end_reason.as_deref() {
        None => None,
        Some("completed") => Some(EndReason::Completed),
        Some("abandoned") => Some(EndReason::Abandoned),
        Some("timeout") => Some(EndReason::Timeout),
        Some(_) => {
            return Err(Error::internal(format!(
                "conversation {}: bad end reason",
                m.id
            )));
        }
    };
    Ok(Conversation {
        id: ConversationId(m.id),
        bot_id: BotId(m.bot_id),
        user_id: UserId(m.user_id),
        status,
        end_reason,
        channel: m.channel,
        culture: m.culture,
        debug: m.debug,
        channel_provider: m.channel_provider,
        is_proxy: m.is_proxy,
        started_at: m.started_at,
        last_activity_at: m.last_activity_at,
        expires_at: m.expires_at,
        ended_at: m.ended_at,
    })
}

fn to_row(tenant: &TenantId, c: &Conversation) -> conversation::ActiveModel {
    conversation::ActiveModel {
        tenant_id: Set(tenant.as_str().to_owned()),
        id: Set(c.id.0),
        bot_id: Set(c.bot_id.0),
        user_id: Set(c.user_id.0),
        status: Set(status_str(c.status).into()),
        end_reason: Set(c.end_reason.map(|r| reason_str(r).into())),
        channel: Set(c.channel.clone()),
        culture: Set(c.culture.clone()),
        debug: Set(c.debug),
        channel_provider: Set(c.channel_provider.clone()),
        is_proxy: Set(c.is_proxy),
        started_at: Set(c.started_at),
        last_activity_at: Set(c.last_activity_at),
        expires_at: Set(c.expires_at),
        ended_at: Set(c.ended_at),
    }
}

/// Rows that are active and not yet past their session timeout.
fn live_at(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(conversation::Column::Status.eq("active"))
        .add(conversation::Column::ExpiresAt.gt(now))
}

impl Tx {
    /// Resolves the user (by id within the bot, or found-or-created by
    /// channel and external id) and inserts the conversation, with its
    /// prefilled memory.
    pub async fn start_conversation(
        &mut self,
        selector: &UserSelector,
        mut draft: Conversation,
        prefill: Option<&crate::model::OwnerMemory>,
    ) -> Result<Conversation> {
        let tenant = self.tenant();
        let user = match selector {
            UserSelector::Id(id) => scoped::<user::Entity>(tenant)
                .filter(user::Column::Id.eq(id.0))
                .filter(user::Column::BotId.eq(draft.bot_id.0))
                .one(self.db())
                .await?
                .map(users::to_domain)
                .ok_or(Error::NotFound("user"))?,
            UserSelector::External {
                channel,
                external_id,
            } => {
                let input = UpsertUser {
                    bot_id: draft.bot_id,
                    channel: channel.clone(),
                    external_id: external_id.clone(),
                    profile: UserProfile::default(),
                };
                self.upsert_user(&input, draft.started_at).await?
            }
        };
        draft.user_id = user.id;
        draft.channel = user.channel;
        to_row(tenant, &draft).insert(self.db()).await?;
        if let Some(memory) = prefill {
            self.lock_memory(memory.key, draft.bot_id, draft.started_at)
                .await?;
            self.save_memories([memory], draft.started_at).await?;
        }
        Ok(draft)
    }

    /// Records activity if the conversation is still live; `None` if it has
    /// ended or timed out.
    pub async fn touch_conversation(
        &self,
        id: ConversationId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Option<Conversation>> {
        if !self.mark_activity(id, now, expires_at).await? {
            return Ok(None);
        }
        scoped::<conversation::Entity>(self.tenant())
            .filter(conversation::Column::Id.eq(id.0))
            .one(self.db())
            .await?
            .map(to_domain)
            .transpose()
    }

    /// [`Tx::touch_conversation`] for a caller that knows the conversation
    /// already (a memory write): one statement, no read back; false if it
    /// has ended or timed out.
    pub async fn mark_activity(
        &self,
        id: ConversationId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool> {
        let result = scoped_update::<conversation::Entity>(self.tenant())
            .col_expr(conversation::Column::LastActivityAt, Expr::value(now))
            .col_expr(conversation::Column::ExpiresAt, Expr::value(expires_at))
            .filter(conversation::Column::Id.eq(id.0))
            .filter(live_at(now))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Ends a live conversation; false if it had already ended or timed out.
    pub async fn end_conversation(
        &self,
        id: ConversationId,
        reason: EndReason,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let result = scoped_update::<conversation::Entity>(self.tenant())
            .col_expr(conversation::Column::Status, Expr::value("ended"))
            .col_expr(
                conversation::Column::EndReason,
                Expr::value(reason_str(reason)),
            )
            .col_expr(conversation::Column::EndedAt, Expr::value(now))
            .col_expr(
                conversation::Column::ExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(conversation::Column::Id.eq(id.0))
            .filter(live_at(now))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected > 0)
    }
}

impl Store {
    pub async fn find_conversation(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Option<Conversation>> {
        let db = self.bound(tenant).await?;
        scoped::<conversation::Entity>(tenant)
            .filter(conversation::Column::Id.eq(id.0))
            .one(&db)
            .await?
            .map(to_domain)
            .transpose()
    }

    pub async fn list_conversations(
        &self,
        tenant: &TenantId,
        filter: &ConversationFilter,
        now: DateTime<Utc>,
        request: &PageRequest,
    ) -> Result<Page<Conversation>> {
        let db = self.bound(tenant).await?;
        let mut select = scoped::<conversation::Entity>(tenant);
        if let Some(bot) = filter.bot {
            select = select.filter(conversation::Column::BotId.eq(bot.0));
        }
        if let Some(user) = filter.user {
            select = select.filter(conversation::Column::UserId.eq(user.0));
        }
        select = match filter.status {
            None => select,
            Some(ConversationStatus::Active) => select.filter(live_at(now)),
            Some(ConversationStatus::Ended) => {
                select.filter(conversation::Column::Status.eq("ended"))
            }
            Some(ConversationStatus::Expired) => select.filter(
                Condition::any()
                    .add(conversation::Column::Status.eq("expired"))
                    .add(
                        Condition::all()
                            .add(conversation::Column::Status.eq("active"))
                            .add(conversation::Column::ExpiresAt.lte(now)),
                    ),
            ),
        };
        page(&db, select, conversation::Column::Id, request, true)
            .await?
            .try_map(to_domain)
    }
}
