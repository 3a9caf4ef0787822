//! Conversations: their status and end reasons, how a client names the user
//! of a new one, and how a stored one reads at a given time (rule 6).
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConversationStatus {
    Active,
    Ended,
    Expired,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndReason {
    Completed,
    Abandoned,
    Timeout,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub bot_id: BotId,
    pub user_id: UserId,
    pub status: ConversationStatus,
    pub end_reason: Option<EndReason>,
    pub channel: String,
    pub culture: Option<String>,
    pub debug: bool,
    pub channel_provider: Option<String>,
    pub is_proxy: bool,
    pub started_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl Conversation {
    /// A session whose timeout has passed is expired at once for every
    /// reader, whether or not the janitor has finalized it yet.
    pub fn as_seen_at(mut self, now: DateTime<Utc>) -> Conversation {
        if self.status == ConversationStatus::Active
            && let Some(expires_at) = self.expires_at
            && expires_at <= now
        {
            self.status = ConversationStatus::Expired;
            self.end_reason = Some(EndReason::Timeout);
            self.ended_at = Some(expires_at);
            self.expires_at = None;
        }
        self
    }
}

/// Who the conversation is with.
#[derive(Clone, Debug)]
pub enum UserSelector {
    Id(UserId),
    /// Found, or created, by channel and external id.
    External {
        channel: String,
        external_id: String,
    },
}

#[derive(Clone, Debug)]
pub struct StartConversation {
    pub bot_id: BotId,
    pub user: UserSelector,
    pub culture: Option<String>,
    pub debug: bool,
    pub channel_provider: Option<String>,
    pub is_proxy: bool,
    /// Prefilled short-term memory: a JSON object.
    pub memory: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default)]
pub struct ConversationFilter {
    pub bot: Option<BotId>,
    pub user: Option<UserId>,
    pub status: Option<ConversationStatus>,
}
