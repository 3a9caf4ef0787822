//! Validation of free text fields: bounded length, no control characters.
use crate::error::{Error, Result};

/// Memory scopes (rule 1: the owner is the bot, the user, or the conversation).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Scope {
    Bot,
    User,
    Conversation,
    Temp,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Bot => "bot",
            Scope::User => "user",
            Scope::Conversation => "conversation",
            Scope::Temp => "temp",
        }
    }

    pub fn parse(raw: &str) -> Option<Scope> {
        Some(match raw {
            "bot" => Scope::Bot,
            "user" => Scope::User,
            "conversation" => Scope::Conversation,
            "temp" => Scope::Temp,
            _ => return None,
        })
    }
}

/// Trims, then requires 1..=max characters without control characters.
pub fn validate_text(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    check_literal(field, value, max)?;
    Ok(value.to_owned())
}

pub fn validate_optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>> {
    value.map(|v| validate_text(field, v, max)).transpose()
}

/// Literal strings used as keys (variable names, KV keys): 1..=max
/// characters, no control characters, taken exactly as given.
pub fn check_literal(field: &str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() {
        return Err(Error::bad_input(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(Error::bad_input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::bad_input(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Names of memory variables (also used in retention and promotion
/// policies): 1..=128 characters, no control characters, no surrounding
/// whitespace. Taken as given, never trimmed, so a name means one thing.
pub fn validate_name(field: &str, value: &str) -> Result<String> {
    check_literal(field, value, 128)?;
    if value.trim() != value {
        return Err(Error::bad_input(
            field,
            "a name must not start or end with whitespace",
        ));
    }
    Ok(value.to_owned())
}
