//! End users: found or created by (bot, channel, external id), profile
//! fields kept current, erased with everything stored about them.
use entity::user;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QuerySelect,
};

use super::{Store, Tx, page, scoped};
use crate::{
    error::{Error, Result},
    model::{BotId, TenantId, UserId},
    model::{Page, PageRequest, Quota, UpsertUser, User, UserProfile},
};

pub(super) fn to_domain(m: user::Model) -> User {
    User {
        id: UserId(m.id),
        bot_id: BotId(m.bot_id),
        channel: m.channel,
        external_id: m.external_id,
        first_name: m.first_name,
        last_name: m.last_name,
        avatar_url: m.avatar_url,
        locale: m.locale,
        created_at: m.created_at,
    }
}

fn by_key(
    tenant: &TenantId,
    bot: BotId,
    channel: &str,
    external_id: &str,
) -> sea_orm::Select<user::Entity> {
    scoped::<user::Entity>(tenant)
        .filter(user::Column::BotId.eq(bot.0))
        .filter(user::Column::Channel.eq(channel))
        .filter(user::Column::ExternalId.eq(external_id))
}

async fn apply_profile<C: ConnectionTrait>(
    db: &C,
    row: user::Model,
    profile: &UserProfile,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<User> {
    let mut changed = false;
    let mut active = row.clone().into_active_model();
    for (given, stored, column) in [
        (
            &profile.first_name,
            &row.first_name,
            user::Column::FirstName,
        ),
        (&profile.last_name, &row.last_name, user::Column::LastName),
        (
            &profile.avatar_url,
            &row.avatar_url,
            user::Column::AvatarUrl,
        ),
        (&profile.locale, &row.locale, user::Column::Locale),
    ] {
        if given.is_some() && given != stored {
            active.set(column, given.clone().into());
            changed = true;
        }
    }
    if !changed {
        return Ok(to_domain(row));
    }
    active.updated_at = Set(now);
    // The primary key is (tenant_id, id): the update cannot leave the tenant.
    let updated = active.update(db).await?;
    Ok(to_domain(updated))
}

impl Store {
    pub async fn find_user(&self, tenant: &TenantId, id: UserId) -> Result<Option<User>> {
        let db = self.bound(tenant).await?;
        Ok(scoped::<user::Entity>(tenant)
            .filter(user::Column::Id.eq(id.0))
            .one(&db)
            .await?
            .map(to_domain))
    }

    /// The bot a user belongs to (it never changes): cached per process.
    pub async fn user_bot(&self, tenant: &TenantId, id: UserId) -> Result<Option<BotId>> {
        let read = || async move {
            let db = self.bound(tenant).await?;
            let bot: Option<uuid::Uuid> = scoped::<user::Entity>(tenant)
                .filter(user::Column::Id.eq(id.0))
                .select_only()
                .column(user::Column::BotId)
                .into_tuple()
                .one(&db)
                .await?;
            Ok(bot.map(BotId))
        };
        self.facts.user_bot(tenant, id, read).await
    }

    pub async fn find_users(&self, tenant: &TenantId, ids: &[UserId]) -> Result<Vec<User>> {
        let db = self.bound(tenant).await?;
        Ok(scoped::<user::Entity>(tenant)
            .filter(user::Column::Id.is_in(ids.iter().map(|id| id.0)))
            .all(&db)
            .await?
            .into_iter()
            .map(to_domain)
            .collect())
    }

    pub async fn list_users(
        &self,
        tenant: &TenantId,
        bot: BotId,
        external_id: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<User>> {
        let db = self.bound(tenant).await?;
        let mut select = scoped::<user::Entity>(tenant).filter(user::Column::BotId.eq(bot.0));
        if let Some(external_id) = external_id {
            select = select.filter(user::Column::ExternalId.eq(external_id));
        }
        page(&db, select, user::Column::Id, request, true)
            .await?
            .try_map(|m| Ok(to_domain(m)))
    }
}

impl Tx {
    /// Finds or creates the user, then applies the profile fields that were
    /// given. Safe against a concurrent creator: the insert does nothing on
    /// conflict and the row is read again.
    pub async fn upsert_user(
        &self,
        input: &UpsertUser,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<User> {
        let tenant = self.tenant();
        let key = || by_key(tenant, input.bot_id, &input.channel, &input.external_id);
        let existing = match key().one(self.db()).await? {
            Some(row) => row,
            None => {
                if self.quotas.users.is_some() {
                    let users = scoped::<user::Entity>(tenant).count(self.db()).await?;
                    self.quotas.admit(Quota::Users, users + 1)?;
                }
                let p = &input.profile;
                let row = user::ActiveModel {
                    tenant_id: Set(tenant.as_str().to_owned()),
                    id: Set(UserId::generate().0),
                    bot_id: Set(input.bot_id.0),
                    channel: Set(input.channel.clone()),
                    external_id: Set(input.external_id.clone()),
                    first_name: Set(p.first_name.clone()),
                    last_name: Set(p.last_name.clone()),
                    avatar_url: Set(p.avatar_url.clone()),
                    locale: Set(p.locale.clone()),
                    created_at: Set(now),
                    updated_at: Set(now),
                };
                user::Entity::insert(row)
                    .on_conflict_do_nothing_on([
                        user::Column::TenantId,
                        user::Column::BotId,
                        user::Column::Channel,
                        user::Column::ExternalId,
                    ])
                    .exec(self.db())
                    .await?;
                key()
                    .one(self.db())
                    .await?
                    .ok_or_else(|| Error::internal("user vanished right after it was created"))?
            }
        };
        apply_profile(self.db(), existing, &input.profile, now).await
    }

    /// Erases the user: their long-term memory, the memory of their
    /// conversations, then the user row (conversations and messages follow
    /// by cascading foreign keys). One transaction.
    pub async fn delete_user(&mut self, id: UserId) -> Result<bool> {
        self.forget(crate::model::Fact::User(self.tenant().clone(), id));
        let tenant = self.tenant();
        use entity::conversation;
        use sea_orm::QuerySelect;

        use crate::model::Scope;
        let conversations: Vec<uuid::Uuid> = scoped::<conversation::Entity>(tenant)
            .filter(conversation::Column::UserId.eq(id.0))
            .select_only()
            .column(conversation::Column::Id)
            .into_tuple()
            .all(self.db())
            .await?;
        super::memory::delete_memories_of_owners(
            self.db(),
            tenant,
            &[Scope::Conversation, Scope::Temp],
            &conversations,
        )
        .await?;
        super::memory::delete_memories_of_owners(self.db(), tenant, &[Scope::User], &[id.0])
            .await?;
        let result = super::scoped_delete::<user::Entity>(tenant)
            .filter(user::Column::Id.eq(id.0))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected > 0)
    }
}
