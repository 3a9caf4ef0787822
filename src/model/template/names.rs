//! The names a template sees, built from one snapshot of a conversation's
//! memory (NativeChat's and SAP CAI's spellings side by side).
use serde_json::{Map, Value, json};

use super::Culture;
use crate::model::{Conversation, User, Variable};

/// Everything one render reads: the conversation, its user, and the live
/// variables of its four memories, all read together.
pub struct TemplateData<'a> {
    pub culture: &'a Culture,
    pub conversation: &'a Conversation,
    pub user: &'a User,
    /// Long-term memory (scope USER).
    pub user_memory: &'a [Variable],
    /// Short-term memory (scope CONVERSATION).
    pub conversation_memory: &'a [Variable],
    pub temp_memory: &'a [Variable],
    pub bot_memory: &'a [Variable],
}

impl TemplateData<'_> {
    /// - `user.x`: the profile (`firstName`, NativeChat's `FirstName`, …),
    ///   else long-term memory; a set profile field wins over a variable of
    ///   the same name.
    /// - `memory.x` and `session.x`: short-term memory; `temp.x`, `bot.x`.
    /// - `_system`: culture, debug, channel provider and proxy flag.
    /// - a bare `x`: short-term memory first, then long-term; the six
    ///   names above always mean the scope, never a variable.
    pub fn to_json(&self) -> Value {
        let short_term = variables(self.conversation_memory);
        let mut user = variables(self.user_memory);
        let profile = [
            (["firstName", "FirstName"], self.user.first_name.clone()),
            (["lastName", "LastName"], self.user.last_name.clone()),
            (
                ["externalId", "ExternalId"],
                Some(self.user.external_id.clone()),
            ),
            (["channel", "Channel"], Some(self.user.channel.clone())),
            (["avatarUrl", "Avatar"], self.user.avatar_url.clone()),
            (["locale", "Locale"], self.user.locale.clone()),
        ];
        for (names, value) in profile {
            if let Some(value) = value {
                for name in names {
                    user.insert(name.into(), Value::String(value.clone()));
                }
            }
        }
        let provider = self.conversation.channel_provider.clone();
        let system = json!({
            "culture": self.culture.tag(),
            "debug": self.conversation.debug,
            "channel": {
                "providerName": provider,
                "ProviderName": provider,
                "isProxy": self.conversation.is_proxy,
                "IsProxy": self.conversation.is_proxy,
            },
        });
        let mut root = variables(self.user_memory);
        root.extend(short_term.clone());
        for (name, value) in [
            ("user", Value::Object(user)),
            ("memory", Value::Object(short_term.clone())),
            ("session", Value::Object(short_term)),
            ("temp", Value::Object(variables(self.temp_memory))),
            ("bot", Value::Object(variables(self.bot_memory))),
            ("_system", system),
        ] {
            root.insert(name.into(), value);
        }
        Value::Object(root)
    }
}

fn variables(list: &[Variable]) -> Map<String, Value> {
    list.iter()
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect()
}
