//! GraphQL enums, each mirrored one-to-one by a domain enum.
use async_graphql::Enum;

use crate::{auth, domain};

/// Declares a GraphQL enum and its conversions to and from the domain enum.
/// Doc comments on the enum and on each variant become the schema's
/// descriptions.
macro_rules! mirror_enum {
    (
        $(#[$attr:meta])*
        $name:ident <=> $domain:path {
            $($(#[$variant_attr:meta])* $variant:ident),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$variant_attr])* $variant),* }

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

mirror_enum!(
    /// What a token may do; each role includes the ones before it
    /// (viewer ⊂ editor ⊂ admin).
    Role <=> auth::Role {
        /// Reads everything of the tenant (within the token's bots) and subscribes to changes.
        Viewer,
        /// Also writes memory, users, conversations, messages and KV entries.
        Editor,
        /// Also manages bots, tenant settings and the janitor.
        Admin,
    }
);
mirror_enum!(
    /// What happened to one variable, as `memoryChanged` reports it.
    MemoryOp <=> domain::MemoryOp {
        /// Written: a new value, or a new expiry for the same value.
        Set,
        /// Removed by `unsetVariable` or `patchMemory`'s `unset`, or left out of `replaceMemory`.
        Unset,
        /// Removed by the janitor after it expired; reads had treated it as absent since its expiry.
        Expired,
        /// Removed by `clearMemory`, `endFlow` or the end of its conversation.
        Cleared,
        /// Copied from a conversation's short-term memory into the user's long-term memory when the conversation ended.
        Promoted,
    }
);
mirror_enum!(
    /// Which of the four memories: each has its own owner and lifetime.
    MemoryScope <=> domain::Scope {
        /// Shared by all users of a bot; owned by the bot, kept until removed.
        Bot,
        /// Long-term memory of one end user, owned by the user and kept across conversations.
        User,
        /// Short-term memory of one conversation; promoted into USER per the bot's policy, then cleared, when the conversation ends.
        Conversation,
        /// Memory of the conversation's current flow; cleared by `endFlow` and when the conversation ends.
        Temp,
    }
);
mirror_enum!(
    /// Where a conversation is in its life.
    ConversationStatus <=> domain::ConversationStatus {
        /// Open: its memory and messages may be written.
        Active,
        /// Ended by `endConversation`; writes to it fail with CONVERSATION_ENDED.
        Ended,
        /// Idle past the bot's `sessionTimeout`: shown at once, finalized (promotion, clearing) by the janitor's next sweep. Writes fail with CONVERSATION_ENDED.
        Expired,
    }
);
mirror_enum!(
    /// What happened to a conversation, as `conversationChanged` reports it.
    ConversationEventKind <=> domain::ConversationEventKind {
        /// Started by `startConversation`.
        Started,
        /// Touched, a message appended, or its memory written.
        Activity,
        /// Ended by `endConversation`.
        Ended,
        /// Finalized by the janitor after its session timed out.
        Expired,
    }
);
mirror_enum!(
    /// Why a conversation ended.
    EndReason <=> domain::EndReason {
        /// Finished normally (the default of `endConversation`).
        Completed,
        /// Given up before it finished.
        Abandoned,
        /// The session timed out; set by the server only, refused by `endConversation`.
        Timeout,
    }
);
mirror_enum!(
    /// Which short-term variables `endConversation` copies into the user's long-term memory.
    PromotionMode <=> domain::PromotionMode {
        /// Every live CONVERSATION variable.
        All,
        /// None: short-term memory is only cleared.
        None,
        /// Only the variables named in the policy's `names`.
        Listed,
    }
);
mirror_enum!(
    /// Who sent a message.
    MessageDirection <=> domain::Direction {
        /// From the end user to the bot.
        Incoming,
        /// From the bot to the end user.
        Outgoing,
    }
);
mirror_enum!(
    /// What started a janitor run.
    JanitorTrigger <=> crate::model::JanitorTrigger {
        /// The tenant's `janitorSchedule`.
        Schedule,
        /// A `runJanitor` mutation.
        Manual,
    }
);
