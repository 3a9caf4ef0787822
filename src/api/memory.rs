//! GraphQL for memory: reads of the four scopes and every write operation,
//! translated into domain calls (rules live in the domain and the model).
use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject};
use uuid::Uuid;

use super::{
    context::{app, auth},
    enums::MemoryScope,
    scalars::{DateTime, Duration},
};
use crate::{
    domain::{self, Expiry},
    error::Error,
    model::{BotId, ConversationId, UserId},
};

/// Which memory: the bot's (botId), a user's long-term memory (userId), or a conversation's
/// (conversationId) short-term or temp memory. Ids that do not fit the scope are BAD_USER_INPUT.
#[derive(InputObject, Clone)]
pub struct MemoryRef {
    /// Which memory; it decides which id is needed.
    scope: MemoryScope,
    /// Required for BOT. Optional otherwise: if given, the owner must belong to this bot (NOT_FOUND
    /// otherwise).
    bot_id: Option<Uuid>,
    /// The end user, for USER only.
    user_id: Option<Uuid>,
    /// The conversation, for CONVERSATION and TEMP only.
    conversation_id: Option<Uuid>,
}

impl From<MemoryRef> for domain::MemoryRef {
    fn from(r: MemoryRef) -> Self {
        domain::MemoryRef {
            scope: r.scope.into(),
            bot: r.bot_id.map(BotId),
            user: r.user_id.map(UserId),
            conversation: r.conversation_id.map(ConversationId),
        }
    }
}

/// One variable to write. Its expiry comes from expiresIn or expiresAt, else the bot's retention
/// policy for its name and scope, else none.
#[derive(InputObject)]
pub struct SetVariableInput {
    /// The memory to write to.
    #[graphql(name = "ref")]
    memory_ref: MemoryRef,
    /// 1 to 128 characters, no control characters or surrounding whitespace.
    name: String,
    /// Any JSON value except null (unset the variable instead), at most the tenant's maxValueBytes
    /// (QUOTA_EXCEEDED).
    value: Json<serde_json::Value>,
    /// Expires this long after the write; not together with expiresAt.
    expires_in: Option<Duration>,
    /// Expires at this time, which must be in the future; not together with expiresIn.
    expires_at: Option<DateTime>,
    /// 0 = the variable must not exist yet. Otherwise it must be at this version; a mismatch is
    /// CONFLICT and changes nothing.
    expected_version: Option<i32>,
}

impl SetVariableInput {
    fn into_domain(
        self,
        field: &str,
    ) -> crate::error::Result<(domain::MemoryRef, domain::VariableWrite)> {
        let expiry = match (self.expires_in, self.expires_at) {
            (Some(_), Some(_)) => {
                return Err(Error::bad_input(
                    format!("{field}.expiresIn"),
                    "give expiresIn or expiresAt, not both",
                ));
            }
            (Some(d), None) => Expiry::In(d.parse(&format!("{field}.expiresIn"))?),
            (None, Some(at)) => Expiry::At(at.0),
            (None, None) => Expiry::Default,
        };
        let write = domain::VariableWrite {
            name: self.name,
            value: self.value.0,
            expiry,
            expected_version: self.expected_version.map(i64::from),
        };
        Ok((self.memory_ref.into(), write))
    }
}

/// One named value in a memory. An expired variable does not exist: no read returns it.
#[derive(SimpleObject)]
pub struct Variable {
    /// Unique within its memory.
    name: String,
    /// Any JSON value except null.
    value: Json<serde_json::Value>,
    /// 1 when the variable is created, then one more with every change; for `expectedVersion`.
    version: i32,
    /// When it stops existing; null for never.
    expires_at: Option<DateTime>,
    /// When it was last set while absent.
    created_at: DateTime,
    /// When it last changed.
    updated_at: DateTime,
}

/// Versions are 64-bit in the store; GraphQL's Int is 32-bit.
pub(super) fn int(version: i64) -> i32 {
    version.clamp(0, i32::MAX as i64) as i32
}

impl From<domain::Variable> for Variable {
    fn from(v: domain::Variable) -> Self {
        Variable {
            name: v.name,
            value: Json(v.value),
            version: int(v.version),
            expires_at: v.expires_at.map(Into::into),
            created_at: v.created_at.into(),
            updated_at: v.updated_at.into(),
        }
    }
}

pub struct Memory(pub domain::Memory);

/// The live variables of one owner in one scope, read in one snapshot.
#[Object]
impl Memory {
    /// Which memory.
    async fn scope(&self) -> MemoryScope {
        self.0.key.scope.into()
    }
    /// The bot (BOT), the user (USER) or the conversation (CONVERSATION, TEMP).
    async fn owner_id(&self) -> Uuid {
        self.0.key.owner_id
    }
    /// Grows by one with every operation that changes this memory; the `expectedVersion` of
    /// patchMemory and replaceMemory.
    async fn version(&self) -> i32 {
        int(self.0.version)
    }
    /// The live variables; expired ones are left out.
    async fn variables(&self) -> Vec<Variable> {
        self.0.variables.iter().cloned().map(Into::into).collect()
    }
    /// All live variables as one JSON object, name -> value.
    async fn json(&self) -> Json<serde_json::Value> {
        Json(self.0.to_json())
    }
}

/// Reads a memory for the `memory`/`temp` fields of bots, users and conversations.
pub async fn memory_of(ctx: &Context<'_>, r: domain::MemoryRef) -> Result<Memory> {
    Ok(Memory(app(ctx).memory(auth(ctx)?, &r).await?))
}

#[derive(Default)]
pub struct MemoryQuery;

#[Object]
impl MemoryQuery {
    /// One memory (viewer). BAD_USER_INPUT for a ref that does not fit its scope; NOT_FOUND for an
    /// unknown owner.
    #[graphql(complexity = "super::cost::MEMORY + child_complexity")]
    async fn memory(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref", desc = "The memory to read.")] memory_ref: MemoryRef,
    ) -> Result<Memory> {
        memory_of(ctx, memory_ref.into()).await
    }

    /// One live variable, or null if it is not set or has expired (viewer). BAD_USER_INPUT for a
    /// ref that does not fit its scope; NOT_FOUND for an unknown owner.
    async fn variable(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref", desc = "The memory to read from.")] memory_ref: MemoryRef,
        #[graphql(desc = "The variable's name.")] name: String,
    ) -> Result<Option<Variable>> {
        let found = app(ctx)
            .variable(auth(ctx)?, &memory_ref.into(), &name)
            .await?;
        Ok(found.map(Into::into))
    }
}

#[derive(Default)]
pub struct MemoryMutation;

#[Object]
impl MemoryMutation {
    /// Sets one variable (editor); the same value and expiry changes nothing (no version step, no
    /// event). BAD_USER_INPUT for invalid input, QUOTA_EXCEEDED over maxValueBytes, CONFLICT on an
    /// expectedVersion mismatch, CONVERSATION_ENDED for the memory of an ended conversation,
    /// NOT_FOUND for an unknown owner.
    async fn set_variable(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The memory, name, value, expiry and expected version.")]
        input: SetVariableInput,
    ) -> Result<Variable> {
        let (r, write) = input.into_domain("input")?;
        Ok(app(ctx).set_variable(auth(ctx)?, &r, write).await?.into())
    }

    /// All or nothing. Sets several variables, in one or more memories, with one version step per
    /// memory touched (editor); errors as for setVariable.
    async fn set_variables(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The writes; errors name `inputs[i]`.")] inputs: Vec<SetVariableInput>,
    ) -> Result<Vec<Variable>> {
        let writes = inputs
            .into_iter()
            .enumerate()
            .map(|(i, input)| input.into_domain(&format!("inputs[{i}]")))
            .collect::<crate::error::Result<Vec<_>>>()?;
        let set = app(ctx).set_variables(auth(ctx)?, writes).await?;
        Ok(set.into_iter().map(Into::into).collect())
    }

    /// Removes one variable; true if a live one was removed (editor). CONFLICT on an
    /// expectedVersion mismatch, CONVERSATION_ENDED for the memory of an ended conversation,
    /// NOT_FOUND for an unknown owner.
    async fn unset_variable(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref", desc = "The memory to remove it from.")] memory_ref: MemoryRef,
        #[graphql(desc = "The variable's name.")] name: String,
        #[graphql(
            desc = "Remove only if the variable is at this version (0 = it must not exist); a mismatch is CONFLICT."
        )]
        expected_version: Option<i32>,
    ) -> Result<bool> {
        let expected = expected_version.map(i64::from);
        Ok(app(ctx)
            .unset_variable(auth(ctx)?, &memory_ref.into(), &name, expected)
            .await?)
    }

    /// Sets the names in `set` (a JSON object) and removes those in `unset`; all or nothing, one
    /// version step (editor). Set values take expiry from the bot's retention policies. CONFLICT on
    /// an expectedVersion mismatch, CONVERSATION_ENDED for the memory of an ended conversation,
    /// NOT_FOUND for an unknown owner.
    async fn patch_memory(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref", desc = "The memory to change.")] memory_ref: MemoryRef,
        #[graphql(desc = "A JSON object of name -> value to set; values must not be null.")]
        set: Option<Json<serde_json::Value>>,
        #[graphql(
            desc = "Names to remove; a name may not be both set and unset (BAD_USER_INPUT)."
        )]
        unset: Option<Vec<String>>,
        #[graphql(
            desc = "Apply only if the memory is at this version (`Memory.version`); a mismatch is CONFLICT and changes nothing."
        )]
        expected_version: Option<i32>,
    ) -> Result<Memory> {
        let patched = app(ctx)
            .patch_memory(
                auth(ctx)?,
                &memory_ref.into(),
                set.map(|s| s.0),
                unset.unwrap_or_default(),
                expected_version.map(i64::from),
            )
            .await?;
        Ok(Memory(patched))
    }

    /// Makes the memory exactly `memory` (a JSON object): the SAP webhook semantics. Names left out
    /// are unset; one version step (editor). Values take expiry from the bot's retention policies.
    /// CONFLICT on an expectedVersion mismatch, CONVERSATION_ENDED for the memory of an ended
    /// conversation, NOT_FOUND for an unknown owner.
    async fn replace_memory(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref", desc = "The memory to replace.")] memory_ref: MemoryRef,
        #[graphql(desc = "The whole new memory: a JSON object of name -> value, values not null.")]
        memory: Json<serde_json::Value>,
        #[graphql(
            desc = "Apply only if the memory is at this version (`Memory.version`); a mismatch is CONFLICT and changes nothing."
        )]
        expected_version: Option<i32>,
    ) -> Result<Memory> {
        let replaced = app(ctx)
            .replace_memory(
                auth(ctx)?,
                &memory_ref.into(),
                memory.0,
                expected_version.map(i64::from),
            )
            .await?;
        Ok(Memory(replaced))
    }

    /// Removes every variable of the memory, each announced as CLEARED; returns how many there were
    /// (editor). CONVERSATION_ENDED for the memory of an ended conversation, NOT_FOUND for an
    /// unknown owner.
    async fn clear_memory(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref", desc = "The memory to clear.")] memory_ref: MemoryRef,
    ) -> Result<i32> {
        Ok(int(app(ctx)
            .clear_memory(auth(ctx)?, &memory_ref.into())
            .await?))
    }
}
