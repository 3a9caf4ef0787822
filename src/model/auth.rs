//! Who is calling, as a typed value: a verified token becomes an [`Auth`]
//! that travels with the request. What a caller may do is decided in one
//! place, [`Auth::require`] and [`Auth::require_bot`]; the domain asks it
//! before every operation.
use chrono::{DateTime, Utc};

use super::{BotId, TenantId};
use crate::error::{Error, Result};

/// `viewer` ⊂ `editor` ⊂ `admin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    /// Claim values are matched without regard to case; unknown ones are ignored.
    pub fn from_claim(value: &str) -> Option<Role> {
        match value.to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_claim(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

/// What an operation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// Read anything of the tenant, subscribe.
    Read,
    /// Write memory, users, conversations, messages, KV.
    Write,
    /// Manage bots, tenant settings, the janitor.
    Admin,
}

impl Capability {
    fn role(self) -> Role {
        match self {
            Capability::Read => Role::Viewer,
            Capability::Write => Role::Editor,
            Capability::Admin => Role::Admin,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Auth {
    pub subject: String,
    pub tenant: TenantId,
    pub roles: Vec<Role>,
    /// `Some`: the token may touch only these bots.
    pub bots: Option<Vec<BotId>>,
    pub expires_at: DateTime<Utc>,
}

impl Auth {
    fn highest_role(&self) -> Option<Role> {
        self.roles.iter().copied().max()
    }

    pub fn require(&self, capability: Capability) -> Result<()> {
        let needed = capability.role();
        match self.highest_role() {
            Some(role) if role >= needed => Ok(()),
            _ => Err(Error::Forbidden(format!(
                "this operation needs the {} role",
                needed.as_claim()
            ))),
        }
    }

    /// For operations that name a bot: the capability, and the `bots` claim.
    pub fn require_bot(&self, capability: Capability, bot: BotId) -> Result<()> {
        self.require(capability)?;
        if self.may_see_bot(bot) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "this token may not use bot {bot}"
            )))
        }
    }

    /// For operations that reach a bot's data through another id (a user, a
    /// conversation): a bot outside the claim reads as "not found", so ids of
    /// other bots leak nothing.
    pub fn may_see_bot(&self, bot: BotId) -> bool {
        self.bots.as_ref().is_none_or(|bots| bots.contains(&bot))
    }

    /// Creating bots and changing tenant-wide settings needs a token that is
    /// not limited to some bots.
    pub fn require_unrestricted(&self, capability: Capability) -> Result<()> {
        self.require(capability)?;
        if self.bots.is_some() {
            return Err(Error::Forbidden(
                "a token limited to some bots cannot do this".into(),
            ));
        }
        Ok(())
    }
}
