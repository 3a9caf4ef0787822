//! Bots and their settings (session timeout, retention policies, promotion),
//! with the rules that validate them.
use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::*;
use crate::error::{Error, Result};

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
    pub fn validate(mut self) -> Result<BotSettings> {
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
