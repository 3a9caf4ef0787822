//! GraphQL enums, each mirrored one-to-one by a domain enum.
use async_graphql::Enum;

use crate::{auth, domain};

/// Declares a GraphQL enum and its conversions to and from the domain enum.
macro_rules! mirror_enum {
    ($name:ident <=> $domain:path { $($variant:ident),* $(,)? }) => {
        #[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($variant),* }

        impl From<$name> for $domain {
            fn from(v: $name) -> Self {
                use $domain as D;
                match v { $($name::$variant => D::$variant),* }
            }
        }

        impl From<$domain> for $name {
            fn from(v: $domain) -> Self {
                use $domain as D;
                match v { $(D::$variant => $name::$variant),* }
            }
        }
    };
}

mirror_enum!(Role <=> auth::Role { Viewer, Editor, Admin });
mirror_enum!(MemoryOp <=> domain::MemoryOp { Set, Unset, Expired, Cleared, Promoted });
mirror_enum!(MemoryScope <=> domain::Scope { Bot, User, Conversation, Temp });
mirror_enum!(ConversationStatus <=> domain::ConversationStatus { Active, Ended, Expired });
mirror_enum!(EndReason <=> domain::EndReason { Completed, Abandoned, Timeout });
mirror_enum!(PromotionMode <=> domain::PromotionMode { All, None, Listed });
mirror_enum!(MessageDirection <=> domain::Direction { Incoming, Outgoing });
mirror_enum!(JanitorTrigger <=> crate::model::JanitorTrigger { Schedule, Manual });
