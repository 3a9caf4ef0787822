//! End users of a bot: profile fields (the NativeChat user entity) and the
//! rules that validate them.
use chrono::{DateTime, Utc};

use super::*;
use crate::error::{Error, Result};

/// An end user of a bot, known by channel and the channel's id for them.
#[derive(Clone, Debug)]
pub struct User {
    pub id: UserId,
    pub bot_id: BotId,
    pub channel: String,
    pub external_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar_url: Option<String>,
    pub locale: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Profile fields; `None` leaves the stored value as it is, so a bot engine
/// can upsert by external id without knowing the whole profile.
#[derive(Clone, Debug, Default)]
pub struct UserProfile {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar_url: Option<String>,
    pub locale: Option<String>,
}

#[derive(Clone, Debug)]
pub struct UpsertUser {
    pub bot_id: BotId,
    pub channel: String,
    pub external_id: String,
    pub profile: UserProfile,
}

impl UpsertUser {
    pub(crate) fn validate(self) -> Result<UpsertUser> {
        Ok(UpsertUser {
            bot_id: self.bot_id,
            channel: validate_text("channel", &self.channel, 100)?,
            external_id: validate_text("externalId", &self.external_id, 255)?,
            profile: self.profile.validate()?,
        })
    }
}

impl UserProfile {
    fn validate(self) -> Result<UserProfile> {
        let avatar_url = validate_optional_text("avatarUrl", self.avatar_url.as_deref(), 2048)?;
        if let Some(url) = &avatar_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(Error::bad_input("avatarUrl", "must be an http(s) URL"));
        }
        Ok(UserProfile {
            first_name: validate_optional_text("firstName", self.first_name.as_deref(), 255)?,
            last_name: validate_optional_text("lastName", self.last_name.as_deref(), 255)?,
            avatar_url,
            locale: validate_locale("locale", self.locale.as_deref())?,
        })
    }
}

/// A BCP 47 tag such as `en`, `en-US`, `zh-Hant-TW`: letters, digits, `-`/`_`.
pub(crate) fn validate_locale(field: &str, value: Option<&str>) -> Result<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let ok = (2..=35).contains(&value.len())
        && value.split(['-', '_']).all(|part| {
            !part.is_empty() && part.len() <= 8 && part.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    if ok {
        Ok(Some(value.to_owned()))
    } else {
        Err(Error::bad_input(
            field,
            "must be a language tag such as en or en-US",
        ))
    }
}
