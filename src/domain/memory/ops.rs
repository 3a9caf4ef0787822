//! The memory operations of the API, each one transaction (rule 4: atomic,
//! one version step per memory).
use serde_json::Value;

use super::{Activity, Load, Memory, MemoryRef, Target, VariableWrite};
use crate::model::{Expiry, MemoryOp, Variable};
use crate::{
    domain::{App, Conversation, EndReason, Scope, validate_name},
    error::{Error, Result},
    model::ConversationId,
    model::{Auth, Capability},
};

fn policy_ttl(target: &Target, name: &str) -> Option<crate::domain::Duration> {
    target
        .bot
        .retention_for(name, target.key.scope)
        .map(|p| p.ttl)
}

/// Sets each of `entries`, with the bot's retention policy for its name.
fn set_all(
    memory: &mut crate::model::OwnerMemory,
    target: &Target,
    entries: &[(String, Value)],
) -> Result<()> {
    for (name, value) in entries {
        let ttl = policy_ttl(target, name);
        memory.set(
            name,
            value.clone(),
            Expiry::Default,
            ttl,
            None,
            MemoryOp::Set,
        )?;
    }
    Ok(())
}

/// A JSON object of name -> value, every entry checked.
pub(crate) fn object_entries(
    app: &App,
    field: &str,
    value: Value,
    max_bytes: i32,
) -> Result<Vec<(String, Value)>> {
    let Value::Object(map) = value else {
        return Err(Error::bad_input(
            field,
            "must be a JSON object of name -> value",
        ));
    };
    map.into_iter()
        .map(|(name, value)| {
            validate_name(field, &name)?;
            app.check_value(&format!("{field}.{name}"), &value, max_bytes)?;
            Ok((name, value))
        })
        .collect()
}

fn check_memory_version(memory: &crate::model::OwnerMemory, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(expected) if expected != memory.loaded_version => Err(Error::Conflict(format!(
            "memory is at version {}, not {expected}",
            memory.loaded_version
        ))),
        _ => Ok(()),
    }
}

impl App {
    pub async fn memory(&self, auth: &Auth, r: &MemoryRef) -> Result<Memory> {
        let target = self.resolve(auth, Capability::Read, r).await?;
        self.read_memory(auth, target.key).await
    }

    async fn read_memory(&self, auth: &Auth, key: crate::model::OwnerKey) -> Result<Memory> {
        self.memories(auth, &[key])
            .await?
            .pop()
            .ok_or_else(|| Error::internal("a read memory went missing"))
    }

    /// Several memories in one snapshot: the nested `memory` fields of a
    /// page of bots, users or conversations. Their owners were read with
    /// the caller's auth already; the store still keeps to the tenant, and
    /// rows of bots outside the token's `bots` claim are left out.
    pub async fn memories(
        &self,
        auth: &Auth,
        keys: &[crate::model::OwnerKey],
    ) -> Result<Vec<Memory>> {
        auth.require(Capability::Read)?;
        let read = self
            .store
            .read_memories(
                &auth.tenant,
                keys,
                |bot| auth.may_see_bot(bot),
                self.clock.now(),
            )
            .await?;
        Ok(read
            .into_iter()
            .map(|(key, version, variables)| Memory {
                key,
                version,
                variables,
            })
            .collect())
    }

    pub async fn variable(
        &self,
        auth: &Auth,
        r: &MemoryRef,
        name: &str,
    ) -> Result<Option<Variable>> {
        let memory = self.memory(auth, r).await?;
        Ok(memory.variables.into_iter().find(|v| v.name == name))
    }

    pub async fn set_variable(
        &self,
        auth: &Auth,
        r: &MemoryRef,
        write: VariableWrite,
    ) -> Result<Variable> {
        let mut set = self
            .write_variables(auth, vec![(r.clone(), write)], |_| "input".into())
            .await?;
        set.pop()
            .ok_or_else(|| Error::internal("setVariables returned nothing"))
    }

    /// All or nothing; each memory touched takes one version step.
    pub async fn set_variables(
        &self,
        auth: &Auth,
        writes: Vec<(MemoryRef, VariableWrite)>,
    ) -> Result<Vec<Variable>> {
        self.write_variables(auth, writes, |i| format!("inputs[{i}]"))
            .await
    }

    /// `field` names the i-th write in errors, as the caller's input does.
    async fn write_variables(
        &self,
        auth: &Auth,
        writes: Vec<(MemoryRef, VariableWrite)>,
        field: impl Fn(usize) -> String,
    ) -> Result<Vec<Variable>> {
        auth.require(Capability::Write)?;
        if writes.is_empty() {
            return Ok(vec![]);
        }
        let max = self.max_value_bytes(auth).await?;
        let mut planned = Vec::with_capacity(writes.len());
        for (i, (r, write)) in writes.into_iter().enumerate() {
            self.check_write(&field(i), &write, max)?;
            let target = self.resolve(auth, Capability::Write, &r).await?;
            planned.push((target, write));
        }
        let loads = planned
            .iter()
            .map(|(t, w)| (t.clone(), Load::Names(vec![w.name.clone()])))
            .collect();
        let plan: Vec<(crate::model::OwnerKey, String)> = planned
            .iter()
            .map(|(t, w)| (t.key, w.name.clone()))
            .collect();
        let (_, memories, _) = self
            .mutate(auth, loads, Activity::Touch, |memories| {
                for (target, write) in &planned {
                    let memory = memories
                        .get_mut(&target.key)
                        .ok_or_else(|| Error::internal("memory not loaded"))?;
                    let ttl = policy_ttl(target, &write.name);
                    memory.set(
                        &write.name,
                        write.value.clone(),
                        write.expiry,
                        ttl,
                        write.expected_version,
                        MemoryOp::Set,
                    )?;
                }
                Ok(())
            })
            .await?;
        plan.into_iter()
            .map(|(key, name)| {
                memories
                    .get(&key)
                    .and_then(|m| m.live(&name).cloned())
                    .ok_or_else(|| Error::internal("variable vanished after set"))
            })
            .collect()
    }

    pub async fn unset_variable(
        &self,
        auth: &Auth,
        r: &MemoryRef,
        name: &str,
        expected: Option<i64>,
    ) -> Result<bool> {
        validate_name("name", name)?;
        let target = self.resolve(auth, Capability::Write, r).await?;
        let load = Load::Names(vec![name.to_owned()]);
        self.mutate_one(auth, target, load, |memory| {
            memory.unset(name, expected, MemoryOp::Unset)
        })
        .await
    }

    /// Sets the names of `set` and removes those in `unset`, atomically.
    pub async fn patch_memory(
        &self,
        auth: &Auth,
        r: &MemoryRef,
        set: Option<Value>,
        unset: Vec<String>,
        expected: Option<i64>,
    ) -> Result<Memory> {
        auth.require(Capability::Write)?;
        let max = self.max_value_bytes(auth).await?;
        let set = match set {
            Some(value) => object_entries(self, "set", value, max)?,
            None => vec![],
        };
        for (i, name) in unset.iter().enumerate() {
            validate_name(&format!("unset[{i}]"), name)?;
            if set.iter().any(|(n, _)| n == name) {
                return Err(Error::bad_input(
                    "unset",
                    format!("{name:?} is both set and unset"),
                ));
            }
        }
        let target = self.resolve(auth, Capability::Write, r).await?;
        let key = target.key;
        let names = set
            .iter()
            .map(|(n, _)| n.clone())
            .chain(unset.iter().cloned())
            .collect();
        let policy = target.clone();
        self.mutate_one(auth, target, Load::Names(names), |memory| {
            check_memory_version(memory, expected)?;
            set_all(memory, &policy, &set)?;
            for name in &unset {
                memory.unset(name, None, MemoryOp::Unset)?;
            }
            Ok(())
        })
        .await?;
        self.read_memory(auth, key).await
    }

    /// The memory becomes exactly `memory`: the SAP webhook semantics.
    pub async fn replace_memory(
        &self,
        auth: &Auth,
        r: &MemoryRef,
        memory: Value,
        expected: Option<i64>,
    ) -> Result<Memory> {
        auth.require(Capability::Write)?;
        let max = self.max_value_bytes(auth).await?;
        let entries = object_entries(self, "memory", memory, max)?;
        let target = self.resolve(auth, Capability::Write, r).await?;
        let key = target.key;
        let policy = target.clone();
        self.mutate_one(auth, target, Load::All, |m| {
            check_memory_version(m, expected)?;
            let keep: std::collections::HashSet<&str> =
                entries.iter().map(|(n, _)| n.as_str()).collect();
            let gone: Vec<String> = m
                .live_variables()
                .filter(|v| !keep.contains(v.name.as_str()))
                .map(|v| v.name.clone())
                .collect();
            for name in gone {
                m.unset(&name, None, MemoryOp::Unset)?;
            }
            set_all(m, &policy, &entries)
        })
        .await?;
        self.read_memory(auth, key).await
    }

    /// Removes every variable; returns how many there were.
    pub async fn clear_memory(&self, auth: &Auth, r: &MemoryRef) -> Result<i64> {
        let target = self.resolve(auth, Capability::Write, r).await?;
        let cleared = self
            .mutate_one(auth, target, Load::All, |m| Ok(m.clear(MemoryOp::Cleared)))
            .await?;
        Ok(cleared as i64)
    }

    /// Ends the current flow: TEMP memory is cleared.
    pub async fn end_flow(&self, auth: &Auth, conversation: ConversationId) -> Result<i64> {
        self.clear_memory(auth, &MemoryRef::of_conversation(Scope::Temp, conversation))
            .await
    }

    /// Rule 6: promotes short-term memory into the user's long-term memory
    /// per the bot's policy, clears CONVERSATION and TEMP, and ends the
    /// conversation, in one transaction.
    pub async fn end_conversation(
        &self,
        auth: &Auth,
        id: ConversationId,
        reason: EndReason,
    ) -> Result<Conversation> {
        if reason == EndReason::Timeout {
            return Err(Error::bad_input(
                "reason",
                "TIMEOUT is set when a session expires; end with COMPLETED or ABANDONED",
            ));
        }
        let short = self
            .resolve(
                auth,
                Capability::Write,
                &MemoryRef::of_conversation(Scope::Conversation, id),
            )
            .await?;
        self.close_conversation(auth, short, Activity::End(reason))
            .await
    }

    /// Rule 6 for a conversation that ends (`End`) or times out (`Expire`):
    /// promotion into the user's memory, then CONVERSATION and TEMP cleared,
    /// and the status changed, in one transaction.
    pub(crate) async fn close_conversation(
        &self,
        auth: &Auth,
        short: Target,
        activity: Activity,
    ) -> Result<Conversation> {
        let conversation = short
            .conversation
            .clone()
            .ok_or(Error::NotFound("conversation"))?;
        let temp = Target {
            key: crate::model::OwnerKey {
                scope: Scope::Temp,
                owner_id: conversation.id.0,
            },
            ..short.clone()
        };
        let long = Target {
            key: crate::model::OwnerKey {
                scope: Scope::User,
                owner_id: conversation.user_id.0,
            },
            bot: short.bot.clone(),
            conversation: None,
        };
        let (short_key, temp_key, long_key) = (short.key, temp.key, long.key);
        let bot = short.bot.clone();
        let targets = vec![
            (short, Load::All),
            (temp, Load::All),
            (long.clone(), Load::All),
        ];
        let (_, _, closed) = self
            .mutate(auth, targets, activity, |memories| {
                promote_and_clear(memories, &bot, &long, short_key, temp_key, long_key)
            })
            .await?;
        closed
            .into_iter()
            .next()
            .ok_or_else(|| Error::internal("conversation not closed"))
    }
}

/// Rule 6, the memory part of ending a conversation.
pub(crate) fn promote_and_clear(
    memories: &mut super::Memories,
    bot: &crate::domain::Bot,
    long: &Target,
    short_key: crate::model::OwnerKey,
    temp_key: crate::model::OwnerKey,
    long_key: crate::model::OwnerKey,
) -> Result<()> {
    let missing = || Error::internal("memory not loaded");
    let promoted: Vec<(String, Value)> = memories
        .get(&short_key)
        .ok_or_else(missing)?
        .live_variables()
        .filter(|v| bot.promotion.promotes(&v.name))
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect();
    let user_memory = memories.get_mut(&long_key).ok_or_else(missing)?;
    for (name, value) in promoted {
        let ttl = policy_ttl(long, &name);
        user_memory.set(&name, value, Expiry::Default, ttl, None, MemoryOp::Promoted)?;
    }
    for key in [short_key, temp_key] {
        memories
            .get_mut(&key)
            .ok_or_else(missing)?
            .clear(MemoryOp::Cleared);
    }
    Ok(())
}
