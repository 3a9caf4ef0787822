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

/// Which memory: the bot's (botId), a user's long-term memory (userId), or a conversation's (conversationId) short-term or temp memory.
#[derive(InputObject, Clone)]
pub struct MemoryRef {
    scope: MemoryScope,
    bot_id: Option<Uuid>,
    user_id: Option<Uuid>,
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

#[derive(InputObject)]
pub struct SetVariableInput {
    #[graphql(name = "ref")]
    memory_ref: MemoryRef,
    name: String,
    value: Json<serde_json::Value>,
    expires_in: Option<Duration>,
    expires_at: Option<DateTime>,
    /// 0 = the variable must not exist yet.
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

#[derive(SimpleObject)]
pub struct Variable {
    name: String,
    value: Json<serde_json::Value>,
    version: i32,
    expires_at: Option<DateTime>,
    created_at: DateTime,
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

#[Object]
impl Memory {
    async fn scope(&self) -> MemoryScope {
        self.0.key.scope.into()
    }
    async fn owner_id(&self) -> Uuid {
        self.0.key.owner_id
    }
    /// Grows by one with every operation that changes this memory.
    async fn version(&self) -> i32 {
        int(self.0.version)
    }
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
    #[graphql(complexity = "super::cost::MEMORY + child_complexity")]
    async fn memory(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref")] memory_ref: MemoryRef,
    ) -> Result<Memory> {
        memory_of(ctx, memory_ref.into()).await
    }

    async fn variable(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref")] memory_ref: MemoryRef,
        name: String,
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
    async fn set_variable(&self, ctx: &Context<'_>, input: SetVariableInput) -> Result<Variable> {
        let (r, write) = input.into_domain("input")?;
        Ok(app(ctx).set_variable(auth(ctx)?, &r, write).await?.into())
    }

    /// All or nothing.
    async fn set_variables(
        &self,
        ctx: &Context<'_>,
        inputs: Vec<SetVariableInput>,
    ) -> Result<Vec<Variable>> {
        let writes = inputs
            .into_iter()
            .enumerate()
            .map(|(i, input)| input.into_domain(&format!("inputs[{i}]")))
            .collect::<crate::error::Result<Vec<_>>>()?;
        let set = app(ctx).set_variables(auth(ctx)?, writes).await?;
        Ok(set.into_iter().map(Into::into).collect())
    }

    async fn unset_variable(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref")] memory_ref: MemoryRef,
        name: String,
        expected_version: Option<i32>,
    ) -> Result<bool> {
        let expected = expected_version.map(i64::from);
        Ok(app(ctx)
            .unset_variable(auth(ctx)?, &memory_ref.into(), &name, expected)
            .await?)
    }

    /// Sets the names in `set` (a JSON object) and removes those in `unset`; all or nothing.
    async fn patch_memory(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref")] memory_ref: MemoryRef,
        set: Option<Json<serde_json::Value>>,
        unset: Option<Vec<String>>,
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

    /// Makes the memory exactly `memory` (a JSON object): the SAP webhook semantics.
    async fn replace_memory(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref")] memory_ref: MemoryRef,
        memory: Json<serde_json::Value>,
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

    /// Removes every variable of the memory; returns how many there were.
    async fn clear_memory(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref")] memory_ref: MemoryRef,
    ) -> Result<i32> {
        Ok(int(app(ctx)
            .clear_memory(auth(ctx)?, &memory_ref.into())
            .await?))
    }
}
