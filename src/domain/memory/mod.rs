//! Memory in four scopes (rule 1): `BOT` (owner: the bot), `USER` (the end
//! user, long-term), `CONVERSATION` (short-term) and `TEMP` (one flow),
//! both owned by the conversation. Every write goes through
//! [`App::mutate`], which applies the rules in [`state`] inside one
//! transaction and announces the changes after it commits.
mod group;
mod ops;

use crate::model::*;

pub(crate) use group::Groups;
pub(crate) use ops::object_entries;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{App, Bot, Conversation, EndReason, Scope, check_json, validate_name};
use crate::{
    error::{Error, Result},
    model::{Auth, Capability},
    model::{BotId, ConversationId, UserId},
    model::{ConversationEvent, ConversationEventKind, Event, MemoryEvent},
    store::Tx,
};

/// Which memory, as a client names it.
#[derive(Clone, Debug)]
pub struct MemoryRef {
    pub scope: Scope,
    pub bot: Option<BotId>,
    pub user: Option<UserId>,
    pub conversation: Option<ConversationId>,
}

impl MemoryRef {
    pub fn of_conversation(scope: Scope, id: ConversationId) -> MemoryRef {
        MemoryRef {
            scope,
            bot: None,
            user: None,
            conversation: Some(id),
        }
    }
}

/// A memory the caller may use, with what its rules need.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub key: OwnerKey,
    pub bot: Bot,
    pub conversation: Option<Conversation>,
}

#[derive(Clone, Debug)]
pub struct Memory {
    pub key: OwnerKey,
    pub version: i64,
    pub variables: Vec<Variable>,
}

impl Memory {
    /// All live variables as one JSON object, name -> value.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.variables
                .iter()
                .map(|v| (v.name.clone(), v.value.clone()))
                .collect(),
        )
    }
}

/// One `setVariable`, validated by [`App::check_write`].
#[derive(Clone, Debug)]
pub struct VariableWrite {
    pub name: String,
    pub value: Value,
    pub expiry: Expiry,
    pub expected_version: Option<i64>,
}

/// Which rows of a memory an operation needs.
#[derive(Clone, Debug)]
pub(crate) enum Load {
    All,
    Names(Vec<String>),
}

/// What the write does to the conversation it touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Activity {
    /// Rule 6: any write is activity.
    Touch,
    End(EndReason),
    /// The session timed out (the janitor finalizes it).
    Expire,
}

pub(crate) type Memories = BTreeMap<OwnerKey, OwnerMemory>;

impl App {
    /// Rule 1: checks the ref's shape, then that the owner exists in the
    /// caller's tenant and bots.
    pub(crate) async fn resolve(
        &self,
        auth: &Auth,
        capability: Capability,
        r: &MemoryRef,
    ) -> Result<Target> {
        let shape_ok = match r.scope {
            Scope::Bot => r.bot.is_some() && r.user.is_none() && r.conversation.is_none(),
            Scope::User => r.user.is_some() && r.conversation.is_none(),
            Scope::Conversation | Scope::Temp => r.conversation.is_some() && r.user.is_none(),
        };
        if !shape_ok {
            return Err(Error::bad_input(
                "ref",
                "scope BOT takes botId; USER takes userId; CONVERSATION and TEMP take conversationId",
            ));
        }
        auth.require(capability)?;
        let (owner_id, bot_id, conversation) = match r.scope {
            Scope::Bot => {
                let bot = self
                    .bot_for(auth, capability, r.bot.unwrap_or(BotId(uuid::Uuid::nil())))
                    .await?;
                return Ok(Target {
                    key: OwnerKey {
                        scope: Scope::Bot,
                        owner_id: bot.id.0,
                    },
                    bot,
                    conversation: None,
                });
            }
            Scope::User => {
                let user = r.user.unwrap_or(UserId(uuid::Uuid::nil()));
                let bot = self
                    .store
                    .user_bot(&auth.tenant, user)
                    .await?
                    .filter(|bot| auth.may_see_bot(*bot) && r.bot.is_none_or(|b| b == *bot))
                    .ok_or(Error::NotFound("user"))?;
                (user.0, bot, None)
            }
            Scope::Conversation | Scope::Temp => {
                let id = r.conversation.unwrap_or(ConversationId(uuid::Uuid::nil()));
                // Boxed: this read's future is kilobytes, and held inline
                // it made every memory request's future as large (see
                // `store::facts`).
                let conversation = Box::pin(self.store.find_conversation(&auth.tenant, id))
                    .await?
                    .filter(|c| auth.may_see_bot(c.bot_id) && r.bot.is_none_or(|b| b == c.bot_id))
                    .ok_or(Error::NotFound("conversation"))?;
                (conversation.id.0, conversation.bot_id, Some(conversation))
            }
        };
        let bot = self
            .store
            .find_bot(&auth.tenant, bot_id)
            .await?
            .ok_or(Error::NotFound("bot"))?;
        Ok(Target {
            key: OwnerKey {
                scope: r.scope,
                owner_id,
            },
            bot,
            conversation,
        })
    }

    /// Validates a value of any write path (variables, prefill, KV,
    /// message payloads): not null, storable ([`check_json`]), within the
    /// tenant's `maxValueBytes`.
    pub(crate) fn check_value(&self, field: &str, value: &Value, max_bytes: i32) -> Result<()> {
        if value.is_null() {
            return Err(Error::bad_input(
                field,
                "a value must not be null: unset the variable instead",
            ));
        }
        check_json(field, value)?;
        let size = serde_json::to_vec(value)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > max_bytes.max(0) as usize {
            return Err(Error::QuotaExceeded(format!(
                "{field} is {size} bytes of JSON; this tenant allows {max_bytes}"
            )));
        }
        Ok(())
    }

    pub(crate) fn check_write(
        &self,
        field: &str,
        write: &VariableWrite,
        max_bytes: i32,
    ) -> Result<()> {
        validate_name(&format!("{field}.name"), &write.name)?;
        self.check_value(&format!("{field}.value"), &write.value, max_bytes)?;
        if let Expiry::At(at) = write.expiry
            && at <= self.clock.now()
        {
            return Err(Error::bad_input(
                format!("{field}.expiresAt"),
                "must be in the future",
            ));
        }
        if write.expected_version.is_some_and(|v| v < 0) {
            return Err(Error::bad_input(
                format!("{field}.expectedVersion"),
                "must not be negative",
            ));
        }
        Ok(())
    }

    /// [`App::mutate`] for an operation on one memory.
    pub(crate) async fn mutate_one<T>(
        &self,
        auth: &Auth,
        target: Target,
        load: Load,
        mut op: impl FnMut(&mut OwnerMemory) -> Result<T>,
    ) -> Result<T> {
        let key = target.key;
        let (result, _, _) = self
            .mutate(auth, vec![(target, load)], Activity::Touch, |memories| {
                let memory = memories
                    .get_mut(&key)
                    .ok_or_else(|| Error::internal("memory not loaded"))?;
                op(memory)
            })
            .await?;
        Ok(result)
    }

    pub(crate) async fn max_value_bytes(&self, auth: &Auth) -> Result<i32> {
        Ok(self.tenant(auth).await?.max_value_bytes)
    }

    /// Runs `op` on the memories of `targets` in one transaction: locks
    /// them in key order, loads what `op` needs, marks conversation
    /// activity (or ends the conversation), saves, commits, then announces
    /// every change. A write (`Touch`) shares its transaction with the
    /// tenant's concurrent writes ([`group`]); `op` may then run a second
    /// time, on freshly loaded memories, when the shared transaction could
    /// not commit and the write runs alone after all.
    pub(crate) async fn mutate<T>(
        &self,
        auth: &Auth,
        targets: Vec<(Target, Load)>,
        activity: Activity,
        mut op: impl FnMut(&mut Memories) -> Result<T>,
    ) -> Result<(T, Memories, Vec<Conversation>)> {
        let write = std::sync::Arc::new(Write::of(targets));
        if activity == Activity::Touch
            && let group::Joined::Done(outcome) =
                self.mutate_in_group(&auth.tenant, &write, &mut op).await
        {
            return outcome;
        }
        let now = self.clock.now();
        let mut tx = self.store.begin(&auth.tenant).await?;
        let mut memories = load(&tx, &write.wanted, now).await?;
        let touched = touch(&mut tx, &write.conversations, activity, now).await?;
        let result = op(&mut memories)?;
        save(&mut tx, &[(&memories, touched.as_slice())], activity, now).await?;
        tx.commit().await?;
        Ok((result, memories, touched))
    }
}

/// What one [`App::mutate`] locks and loads.
pub(crate) struct Write {
    /// Each memory with its bot and the names it needs (`None`: all).
    wanted: Wanted,
    /// The conversations it touches, with their bots' session timeouts.
    conversations: BTreeMap<ConversationId, (Conversation, super::Duration)>,
}

pub(crate) type Wanted = BTreeMap<OwnerKey, (BotId, Option<Vec<String>>)>;

impl Write {
    fn of(targets: Vec<(Target, Load)>) -> Write {
        let mut wanted = Wanted::new();
        let mut conversations = BTreeMap::new();
        for (target, load) in targets {
            let entry = wanted
                .entry(target.key)
                .or_insert((target.bot.id, Some(vec![])));
            match (load, &mut entry.1) {
                (Load::All, names) => *names = None,
                (Load::Names(more), Some(names)) => names.extend(more),
                (Load::Names(_), None) => {}
            }
            if let Some(c) = target.conversation {
                conversations.insert(c.id, (c, target.bot.session_timeout));
            }
        }
        Write {
            wanted,
            conversations,
        }
    }
}

/// Locks and loads the memories of `wanted`.
async fn load(tx: &Tx, wanted: &Wanted, now: DateTime<Utc>) -> Result<Memories> {
    let loaded = tx.lock_and_load(wanted, now).await?;
    Ok(loaded
        .into_iter()
        .filter_map(|(key, (version, rows))| {
            let (bot, _) = wanted.get(&key)?;
            Some((key, OwnerMemory::new(key, *bot, version, rows, now)))
        })
        .collect())
}

/// Marks the conversations' activity, or ends them; the conversations as
/// they now are. `CONVERSATION_ENDED` if one is no longer live.
async fn touch(
    tx: &mut Tx,
    conversations: &BTreeMap<ConversationId, (Conversation, super::Duration)>,
    activity: Activity,
    now: DateTime<Utc>,
) -> Result<Vec<Conversation>> {
    let mut touched = Vec::new();
    for (id, (conversation, timeout)) in conversations {
        let (id, mut conversation) = (*id, conversation.clone());
        let live = match activity {
            Activity::Touch => {
                let expires_at = now + timeout.as_timedelta();
                conversation.last_activity_at = now;
                conversation.expires_at = Some(expires_at);
                tx.mark_activity(id, now, expires_at).await?
            }
            Activity::Expire => {
                let ended_at = conversation.expires_at.unwrap_or(now);
                conversation.status = super::ConversationStatus::Expired;
                conversation.end_reason = Some(EndReason::Timeout);
                conversation.ended_at = Some(ended_at);
                conversation.expires_at = None;
                let due = tx.expire_conversation(id, now, ended_at).await?;
                if !due {
                    return Err(Error::Conflict(
                        "the conversation is not due to expire".into(),
                    ));
                }
                true
            }
            Activity::End(reason) => {
                conversation.status = super::ConversationStatus::Ended;
                conversation.end_reason = Some(reason);
                conversation.ended_at = Some(now);
                conversation.expires_at = None;
                tx.end_conversation(id, reason, now).await?
            }
        };
        if !live {
            return Err(Error::ConversationEnded);
        }
        touched.push(conversation);
    }
    Ok(touched)
}

/// Stages the announcements of each write (memories, then conversations),
/// saves every memory, and checks the variables quota.
async fn save(
    tx: &mut Tx,
    writes: &[(&Memories, &[Conversation])],
    activity: Activity,
    now: DateTime<Utc>,
) -> Result<()> {
    for (memories, touched) in writes {
        let events = change_announcements(tx.tenant(), memories, touched, activity, now);
        // Staged before the save, which then carries their notification.
        tx.stage(events);
    }
    let all = || writes.iter().flat_map(|(memories, _)| memories.values());
    tx.save_memories(all(), now).await?;
    // Checked last, with the events already staged: a transaction that
    // fails this late must announce nothing (rule 5, tests/events.rs).
    if matches!(activity, Activity::Touch) {
        // Only writes that add variables can cross the quota; moving
        // memory at the end of a conversation never fails on it.
        let grown: Vec<OwnerKey> = all()
            .filter(|m| m.dirty_rows().0.iter().any(|v| v.created_at == now))
            .map(|m| m.key)
            .collect();
        tx.admit_variables(&grown, now).await?;
    }
    Ok(())
}

/// What a committed [`App::mutate`] announces: every variable change, then
/// the conversations it touched or ended.
fn change_announcements(
    tenant: &crate::model::TenantId,
    memories: &Memories,
    conversations: &[Conversation],
    activity: Activity,
    now: DateTime<Utc>,
) -> Vec<Event> {
    let memory_events = memories
        .values()
        .flat_map(|m| change_events(tenant, m, now));
    let kind = match activity {
        Activity::Touch => ConversationEventKind::Activity,
        Activity::End(_) => ConversationEventKind::Ended,
        Activity::Expire => ConversationEventKind::Expired,
    };
    let conversation_events = conversations.iter().map(|c| {
        Event::Conversation(ConversationEvent {
            tenant: tenant.clone(),
            conversation: c.clone(),
            kind,
            at: now,
        })
    });
    memory_events
        .chain(conversation_events)
        .collect::<Vec<Event>>()
}

/// One event per change of `memory`, with its new memory version.
pub(crate) fn change_events<'a>(
    tenant: &'a crate::model::TenantId,
    memory: &'a OwnerMemory,
    at: DateTime<Utc>,
) -> impl Iterator<Item = Event> + 'a {
    memory.changes().iter().map(move |c| {
        Event::Memory(MemoryEvent {
            tenant: tenant.clone(),
            op: c.op,
            bot_id: memory.bot_id,
            scope: memory.key.scope,
            owner_id: memory.key.owner_id,
            name: c.name.clone(),
            value: c.value.clone(),
            version: c.version,
            memory_version: memory.new_version(),
            at,
        })
    })
}

/// The short-term memory a new conversation starts with (rule 3 applies:
/// the bot's retention policies for the CONVERSATION scope).
pub(crate) fn prefilled(
    bot: &Bot,
    conversation: ConversationId,
    entries: Vec<(String, Value)>,
    now: DateTime<Utc>,
) -> Result<OwnerMemory> {
    let key = OwnerKey {
        scope: Scope::Conversation,
        owner_id: conversation.0,
    };
    let mut memory = OwnerMemory::new(key, bot.id, 0, vec![], now);
    for (name, value) in entries {
        let ttl = bot.retention_for(&name, Scope::Conversation).map(|p| p.ttl);
        memory.set(&name, value, Expiry::Default, ttl, None, MemoryOp::Set)?;
    }
    Ok(memory)
}
