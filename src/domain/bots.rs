use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::{App, Duration, Page, PageRequest, Scope, validate_name, validate_text};
use crate::{
    auth::{Auth, Capability},
    error::{Error, Result},
    ids::BotId,
};

pub const MAX_MESSAGES_KEPT: i32 = 1000;
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs_const(30 * 60);
pub const DEFAULT_MESSAGES_KEPT: i32 = 20;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub name: String,
    pub ttl: Duration,
    pub scopes: Vec<Scope>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromotionMode {
    All,
    None,
    Listed,
}

/// What `endConversation` moves from short-term into long-term memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promotion {
    pub mode: PromotionMode,
    pub names: Vec<String>,
}

impl Promotion {
    pub fn all() -> Promotion {
        Promotion {
            mode: PromotionMode::All,
            names: vec![],
        }
    }

    pub fn promotes(&self, name: &str) -> bool {
        match self.mode {
            PromotionMode::All => true,
            PromotionMode::None => false,
            PromotionMode::Listed => self.names.iter().any(|n| n == name),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Bot {
    pub id: BotId,
    pub name: String,
    pub session_timeout: Duration,
    pub retention_policies: Vec<RetentionPolicy>,
    pub promotion: Promotion,
    pub last_messages_kept: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Bot {
    /// The policy for a variable name in a scope (rule 3).
    pub fn retention_for(&self, name: &str, scope: Scope) -> Option<&RetentionPolicy> {
        self.retention_policies
            .iter()
            .find(|p| p.name == name && p.scopes.contains(&scope))
    }
}

/// The settings of a bot as a client states them; checked by [`BotSettings::validate`].
#[derive(Clone, Debug)]
pub struct BotSettings {
    pub name: String,
    pub session_timeout: Duration,
    pub retention_policies: Vec<RetentionPolicy>,
    pub promotion: Promotion,
    pub last_messages_kept: i32,
}

pub type NewBot = BotSettings;

/// `None` leaves a setting as it is.
#[derive(Clone, Debug, Default)]
pub struct BotChanges {
    pub name: Option<String>,
    pub session_timeout: Option<Duration>,
    pub retention_policies: Option<Vec<RetentionPolicy>>,
    pub promotion: Option<Promotion>,
    pub last_messages_kept: Option<i32>,
}

impl BotSettings {
    fn validate(mut self) -> Result<BotSettings> {
        self.name = validate_text("name", &self.name, 200)?;
        let mut seen = HashSet::new();
        for (i, policy) in self.retention_policies.iter_mut().enumerate() {
            let field = format!("retentionPolicies[{i}]");
            policy.name = validate_name(&format!("{field}.name"), &policy.name)?;
            if policy.scopes.is_empty() {
                return Err(Error::bad_input(
                    format!("{field}.scopes"),
                    "name at least one scope",
                ));
            }
            policy.scopes.sort();
            policy.scopes.dedup();
            for scope in &policy.scopes {
                if !seen.insert((policy.name.clone(), *scope)) {
                    return Err(Error::bad_input(
                        field,
                        format!(
                            "{:?} already has a policy in scope {}",
                            policy.name,
                            scope.as_str()
                        ),
                    ));
                }
            }
        }
        for (i, name) in self.promotion.names.iter().enumerate() {
            validate_name(&format!("promotion.names[{i}]"), name)?;
        }
        match self.promotion.mode {
            PromotionMode::Listed if self.promotion.names.is_empty() => {
                return Err(Error::bad_input(
                    "promotion.names",
                    "mode LISTED needs at least one name",
                ));
            }
            PromotionMode::All | PromotionMode::None if !self.promotion.names.is_empty() => {
                return Err(Error::bad_input(
                    "promotion.names",
                    "names are only used with mode LISTED",
                ));
            }
            _ => {}
        }
        self.promotion.names.sort();
        self.promotion.names.dedup();
        if !(0..=MAX_MESSAGES_KEPT).contains(&self.last_messages_kept) {
            return Err(Error::bad_input(
                "lastMessagesKept",
                format!("must be between 0 and {MAX_MESSAGES_KEPT}"),
            ));
        }
        Ok(self)
    }
}

impl App {
    pub async fn create_bot(&self, auth: &Auth, settings: NewBot) -> Result<Bot> {
        auth.require_unrestricted(Capability::Admin)?;
        let s = settings.validate()?;
        let now = self.clock.now();
        let bot = Bot {
            id: BotId::generate(),
            name: s.name,
            session_timeout: s.session_timeout,
            retention_policies: s.retention_policies,
            promotion: s.promotion,
            last_messages_kept: s.last_messages_kept,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_bot(&auth.tenant, &bot).await?;
        Ok(bot)
    }

    pub async fn update_bot(&self, auth: &Auth, id: BotId, changes: BotChanges) -> Result<Bot> {
        auth.require_bot(Capability::Admin, id)?;
        let now = self.clock.now();
        self.store
            .update_bot(&auth.tenant, id, |bot| {
                let settings = BotSettings {
                    name: changes.name.unwrap_or(bot.name),
                    session_timeout: changes.session_timeout.unwrap_or(bot.session_timeout),
                    retention_policies: changes
                        .retention_policies
                        .unwrap_or(bot.retention_policies),
                    promotion: changes.promotion.unwrap_or(bot.promotion),
                    last_messages_kept: changes
                        .last_messages_kept
                        .unwrap_or(bot.last_messages_kept),
                }
                .validate()?;
                Ok(Bot {
                    id: bot.id,
                    name: settings.name,
                    session_timeout: settings.session_timeout,
                    retention_policies: settings.retention_policies,
                    promotion: settings.promotion,
                    last_messages_kept: settings.last_messages_kept,
                    created_at: bot.created_at,
                    updated_at: now,
                })
            })
            .await
    }

    /// Deletes the bot with its users, conversations and everything stored
    /// about them.
    pub async fn delete_bot(&self, auth: &Auth, id: BotId) -> Result<bool> {
        auth.require_bot(Capability::Admin, id)?;
        if self.store.delete_bot(&auth.tenant, id).await? {
            Ok(true)
        } else {
            Err(Error::NotFound("bot"))
        }
    }

    /// `None` for an unknown bot, one of another tenant, or one outside the
    /// token's `bots` claim.
    pub async fn bot(&self, auth: &Auth, id: BotId) -> Result<Option<Bot>> {
        auth.require(Capability::Read)?;
        if !auth.may_see_bot(id) {
            return Ok(None);
        }
        self.store.find_bot(&auth.tenant, id).await
    }

    /// A bot the caller names to act on: it must exist and be allowed.
    pub(crate) async fn bot_for(
        &self,
        auth: &Auth,
        capability: Capability,
        id: BotId,
    ) -> Result<Bot> {
        auth.require_bot(capability, id)?;
        self.store
            .find_bot(&auth.tenant, id)
            .await?
            .ok_or(Error::NotFound("bot"))
    }

    pub async fn bots(&self, auth: &Auth, page: PageRequest) -> Result<Page<Bot>> {
        auth.require(Capability::Read)?;
        self.store
            .list_bots(&auth.tenant, auth.bots.as_deref(), &page)
            .await
    }
}
