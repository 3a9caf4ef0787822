//! The message log of a conversation, trimmed to the bot's
//! `lastMessagesKept` newest on every append. Appending is activity.
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

pub const MAX_TEXT_CHARS: usize = 4096;
pub const MAX_MESSAGES_READ: i32 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Incoming,
    Outgoing,
}

#[derive(Clone, Debug)]
pub struct Message {
    pub id: Uuid,
    pub direction: Direction,
    pub text: Option<String>,
    pub payload: Option<Value>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct NewMessage {
    pub direction: Direction,
    pub text: Option<String>,
    pub payload: Option<Value>,
}
