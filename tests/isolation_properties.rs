//! Property-based isolation: generated sequences of operations by three
//! tenants (create bots, start conversations, write, read, list, export,
//! erase, end, sweep, and attempts with another tenant's ids) run against
//! the real server, beside a model of what each tenant should hold. After
//! every step the answer is checked against the model; at the end every
//! tenant's bots, memories and KV entries are read and compared. No tenant
//! may read, list, change, export or erase another's data.
//!
//! `BOTMEM_PROPTEST_CASES` (default 200) and `BOTMEM_PROPTEST_SEED` (hex,
//! 32 bytes; random by default) drive the run; the seed is printed first
//! and in any failure, so a failing run can be replayed exactly.
mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::{
    prelude::*,
    test_runner::{RngAlgorithm, TestRng, TestRunner},
};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug)]
enum Target {
    Bot(usize),
    User(usize),
    Conversation(usize),
}

#[derive(Clone, Debug)]
enum Op {
    CreateBot {
        t: usize,
    },
    Start {
        t: usize,
        bot: usize,
        user: u8,
    },
    Set {
        t: usize,
        target: Target,
        name: u8,
        value: i32,
    },
    Read {
        t: usize,
        target: Target,
    },
    KvSet {
        t: usize,
        bot: Option<usize>,
        key: u8,
        value: i32,
    },
    ListBots {
        t: usize,
    },
    Export {
        t: usize,
        user: usize,
    },
    Erase {
        t: usize,
        user: usize,
    },
    End {
        t: usize,
        conversation: usize,
    },
    Sweep {
        t: usize,
    },
    /// `attacker` aims at one of `victim`'s targets: read (0), write (1),
    /// export (2), erase (3), end (4) or read its bot's KV (5).
    Cross {
        attacker: usize,
        victim: usize,
        target: Target,
        kind: u8,
    },
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        (0..3usize).prop_map(Target::Bot),
        (0..4usize).prop_map(Target::User),
        (0..4usize).prop_map(Target::Conversation),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let t = 0..3usize;
    prop_oneof![
        2 => t.clone().prop_map(|t| Op::CreateBot { t }),
        3 => (t.clone(), 0..3usize, 0..3u8).prop_map(|(t, bot, user)| Op::Start { t, bot, user }),
        6 => (t.clone(), target(), 0..4u8, any::<i32>()).prop_map(|(t, target, name, value)| Op::Set { t, target, name, value }),
        3 => (t.clone(), target()).prop_map(|(t, target)| Op::Read { t, target }),
        2 => (t.clone(), prop::option::of(0..3usize), 0..3u8, any::<i32>()).prop_map(|(t, bot, key, value)| Op::KvSet { t, bot, key, value }),
        1 => t.clone().prop_map(|t| Op::ListBots { t }),
        1 => (t.clone(), 0..4usize).prop_map(|(t, user)| Op::Export { t, user }),
        1 => (t.clone(), 0..4usize).prop_map(|(t, user)| Op::Erase { t, user }),
        1 => (t.clone(), 0..4usize).prop_map(|(t, conversation)| Op::End { t, conversation }),
        1 => t.clone().prop_map(|t| Op::Sweep { t }),
        4 => (t.clone(), 1..3usize, target(), 0..6u8).prop_map(|(attacker, shift, target, kind)| Op::Cross { attacker, victim: (attacker + shift) % 3, target, kind }),
    ]
}

#[derive(Clone, Debug)]
struct User {
    id: String,
    bot: String,
    external: u8,
    erased: bool,
}

#[derive(Clone, Debug)]
struct Conversation {
    id: String,
    user: usize,
    ended: bool,
}

/// What one tenant should hold.
#[derive(Default, Debug)]
struct Tenant {
    name: String,
    bots: Vec<(String, String)>,
    users: Vec<User>,
    conversations: Vec<Conversation>,
    /// Owner id (bot, user or conversation) -> variables.
    memories: BTreeMap<String, BTreeMap<String, i64>>,
    /// (bot id or "" for the tenant-wide store, key) -> value.
    kv: BTreeMap<(String, String), i64>,
}

impl Tenant {
    /// The memory a target names, if it exists and is not gone: its ref
    /// and owner id.
    fn memory(&self, target: Target) -> Option<(Value, String)> {
        match target {
            Target::Bot(i) => self
                .bots
                .get(i)
                .map(|(id, _)| (json!({ "scope": "BOT", "botId": id }), id.clone())),
            Target::User(i) => self
                .users
                .get(i)
                .filter(|u| !u.erased)
                .map(|u| (json!({ "scope": "USER", "userId": u.id }), u.id.clone())),
            Target::Conversation(i) => self
                .conversations
                .get(i)
                .filter(|c| !self.users[c.user].erased)
                .map(|c| {
                    (
                        json!({ "scope": "CONVERSATION", "conversationId": c.id }),
                        c.id.clone(),
                    )
                }),
        }
    }

    fn live_user(&self, i: usize) -> Option<User> {
        self.users.get(i).filter(|u| !u.erased).cloned()
    }

    fn json(&self, owner: &str) -> Value {
        let vars = self.memories.get(owner).cloned().unwrap_or_default();
        Value::Object(vars.into_iter().map(|(k, v)| (k, json!(v))).collect())
    }
}

struct Run<'a> {
    s: &'a TestServer,
    tenants: Vec<Tenant>,
    steps: u64,
}

const SET: &str = "mutation($r: MemoryRef!, $n: String!, $v: JSON!) { setVariable(input: { ref: $r, name: $n, value: $v }) { version } }";
const READ: &str = "query($r: MemoryRef!) { memory(ref: $r) { json } }";

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

impl Run<'_> {
    fn token(&self, t: usize) -> String {
        self.s.admin(&self.tenants[t].name)
    }

    async fn gql(&self, t: usize, query: &str, variables: Value) -> Value {
        self.s.gql(&self.token(t), query, variables).await
    }

    /// Values of every other tenant, which no answer to `t` may contain.
    fn foreign_markers(&self, t: usize) -> Vec<String> {
        self.tenants
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != t)
            .flat_map(|(_, other)| {
                other
                    .bots
                    .iter()
                    .map(|(id, _)| id.clone())
                    .chain(other.users.iter().map(|u| u.id.clone()))
                    .chain(other.conversations.iter().map(|c| c.id.clone()))
            })
            .collect()
    }

    fn check_no_foreign(&self, t: usize, body: &Value, op: &Op) -> Result<(), TestCaseError> {
        let text = body.to_string();
        for marker in self.foreign_markers(t) {
            prop_assert!(
                !text.contains(&marker),
                "{:?}: another tenant's id {} in {}",
                op,
                marker,
                text
            );
        }
        Ok(())
    }

    async fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        self.steps += 1;
        match *op {
            Op::CreateBot { t } => {
                let name = format!("bot{}", self.tenants[t].bots.len());
                let body = self
                    .gql(
                        t,
                        "mutation($n: String!) { createBot(input: { name: $n }) { id } }",
                        json!({ "n": name }),
                    )
                    .await;
                let id = body["data"]["createBot"]["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{body}"));
                self.tenants[t].bots.push((id.to_owned(), name));
            }
            Op::Start { t, bot, user } => {
                let Some((bot_id, _)) = self.tenants[t].bots.get(bot).cloned() else {
                    return Ok(());
                };
                let body = self.gql(t, "mutation($b: UUID!, $x: String!) { startConversation(input: { botId: $b, channel: \"web\", externalId: $x }) { id user { id } } }", json!({ "b": bot_id, "x": format!("u{user}") })).await;
                let c = &body["data"]["startConversation"];
                let (cid, uid) = (
                    c["id"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{body}"))
                        .to_owned(),
                    c["user"]["id"].as_str().unwrap().to_owned(),
                );
                let tenant = &mut self.tenants[t];
                let known = tenant
                    .users
                    .iter()
                    .position(|u| !u.erased && u.bot == bot_id && u.external == user);
                let index = match known {
                    Some(i) => {
                        prop_assert_eq!(&tenant.users[i].id, &uid, "the same user is found again");
                        i
                    }
                    None => {
                        prop_assert!(
                            tenant.users.iter().all(|u| u.id != uid),
                            "a new user reuses an id"
                        );
                        tenant.users.push(User {
                            id: uid,
                            bot: bot_id,
                            external: user,
                            erased: false,
                        });
                        tenant.users.len() - 1
                    }
                };
                tenant.conversations.push(Conversation {
                    id: cid,
                    user: index,
                    ended: false,
                });
            }
            Op::Set {
                t,
                target,
                name,
                value,
            } => {
                let Some((r, owner)) = self.tenants[t].memory(target) else {
                    return Ok(());
                };
                let ended = matches!(target, Target::Conversation(i) if self.tenants[t].conversations[i].ended);
                let body = self
                    .gql(
                        t,
                        SET,
                        json!({ "r": r, "n": format!("n{name}"), "v": value }),
                    )
                    .await;
                if ended {
                    prop_assert_eq!(code(&body), Some("CONVERSATION_ENDED"), "{}", body);
                } else {
                    prop_assert!(body["errors"].is_null(), "{:?}: {}", op, body);
                    self.tenants[t]
                        .memories
                        .entry(owner)
                        .or_default()
                        .insert(format!("n{name}"), value.into());
                }
            }
            Op::Read { t, target } => {
                let Some((r, owner)) = self.tenants[t].memory(target) else {
                    return Ok(());
                };
                let body = self.gql(t, READ, json!({ "r": r })).await;
                prop_assert_eq!(
                    &body["data"]["memory"]["json"],
                    &self.tenants[t].json(&owner),
                    "{:?}",
                    op
                );
            }
            Op::KvSet { t, bot, key, value } => {
                let bot_id = match bot {
                    Some(i) => match self.tenants[t].bots.get(i) {
                        Some((id, _)) => Some(id.clone()),
                        None => return Ok(()),
                    },
                    None => None,
                };
                let body = self.gql(t, "mutation($b: UUID, $k: String!, $v: JSON!) { kvSet(input: { botId: $b, key: $k, value: $v }) { version } }", json!({ "b": bot_id, "k": format!("k{key}"), "v": value })).await;
                prop_assert!(body["errors"].is_null(), "{:?}: {}", op, body);
                self.tenants[t].kv.insert(
                    (bot_id.unwrap_or_default(), format!("k{key}")),
                    value.into(),
                );
            }
            Op::ListBots { t } => {
                let body = self
                    .gql(
                        t,
                        "{ bots(first: 100) { edges { node { id name } } } }",
                        json!({}),
                    )
                    .await;
                let listed: Vec<(String, String)> = body["data"]["bots"]["edges"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        (
                            e["node"]["id"].as_str().unwrap().to_owned(),
                            e["node"]["name"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect();
                prop_assert_eq!(&listed, &self.tenants[t].bots);
            }
            Op::Export { t, user } => {
                let Some(u) = self.tenants[t].live_user(user) else {
                    return Ok(());
                };
                let body = self
                    .gql(
                        t,
                        "mutation($u: UUID!) { exportUser(id: $u) }",
                        json!({ "u": u.id }),
                    )
                    .await;
                prop_assert!(body["errors"].is_null(), "{:?}: {}", op, body);
                self.check_no_foreign(t, &body, op)?;
            }
            Op::Erase { t, user } => {
                let Some(u) = self.tenants[t].live_user(user) else {
                    return Ok(());
                };
                let body = self
                    .gql(
                        t,
                        "mutation($u: UUID!) { deleteUser(id: $u) }",
                        json!({ "u": u.id }),
                    )
                    .await;
                prop_assert_eq!(&body["data"]["deleteUser"], &json!(true), "{}", body);
                let tenant = &mut self.tenants[t];
                tenant.users[user].erased = true;
                tenant.memories.remove(&u.id);
                let gone: Vec<String> = tenant
                    .conversations
                    .iter()
                    .filter(|c| c.user == user)
                    .map(|c| c.id.clone())
                    .collect();
                for id in gone {
                    tenant.memories.remove(&id);
                }
            }
            Op::End { t, conversation } => {
                let Some(c) = self.tenants[t].conversations.get(conversation).cloned() else {
                    return Ok(());
                };
                if self.tenants[t].users[c.user].erased {
                    return Ok(());
                }
                let body = self
                    .gql(
                        t,
                        "mutation($c: UUID!) { endConversation(id: $c) { status } }",
                        json!({ "c": c.id }),
                    )
                    .await;
                if c.ended {
                    prop_assert_eq!(code(&body), Some("CONVERSATION_ENDED"), "{}", body);
                    return Ok(());
                }
                prop_assert_eq!(
                    &body["data"]["endConversation"]["status"],
                    &json!("ENDED"),
                    "{}",
                    body
                );
                // Short-term memory moves into the user's long-term memory.
                let tenant = &mut self.tenants[t];
                tenant.conversations[conversation].ended = true;
                let moved = tenant.memories.remove(&c.id).unwrap_or_default();
                let user = tenant.users[c.user].id.clone();
                tenant.memories.entry(user).or_default().extend(moved);
            }
            Op::Sweep { t } => {
                let body = self
                    .gql(
                        t,
                        "mutation { runJanitor { variablesExpired kvEntriesExpired } }",
                        json!({}),
                    )
                    .await;
                prop_assert_eq!(
                    &body["data"]["runJanitor"]["variablesExpired"],
                    &json!(0),
                    "{}",
                    body
                );
            }
            Op::Cross {
                attacker,
                victim,
                target,
                kind,
            } => {
                let Some((r, _)) = self.tenants[victim].memory(target) else {
                    return Ok(());
                };
                let id = r
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(k, _)| *k != "scope")
                    .map(|(_, v)| v.clone())
                    .unwrap();
                let (query, variables) = match kind {
                    0 => (READ, json!({ "r": r })),
                    1 => (SET, json!({ "r": r, "n": "n0", "v": 666 })),
                    2 => (
                        "mutation($u: UUID!) { exportUser(id: $u) }",
                        json!({ "u": id }),
                    ),
                    3 => (
                        "mutation($u: UUID!) { deleteUser(id: $u) }",
                        json!({ "u": id }),
                    ),
                    4 => (
                        "mutation($c: UUID!) { endConversation(id: $c) { status } }",
                        json!({ "c": id }),
                    ),
                    _ => (
                        "query($b: UUID) { kvEntries(botId: $b) { edges { node { key value } } } }",
                        json!({ "b": id }),
                    ),
                };
                let body = self.gql(attacker, query, variables).await;
                prop_assert_eq!(code(&body), Some("NOT_FOUND"), "{:?}: {}", op, body);
                self.check_no_foreign(attacker, &body, op)?;
            }
        }
        Ok(())
    }

    /// Everything each tenant holds, read back and compared with the model.
    async fn verify_all(&self) -> Result<(), TestCaseError> {
        for (t, tenant) in self.tenants.iter().enumerate() {
            let targets = (0..tenant.bots.len())
                .map(Target::Bot)
                .chain((0..tenant.users.len()).map(Target::User))
                .chain((0..tenant.conversations.len()).map(Target::Conversation));
            for target in targets {
                let Some((r, owner)) = tenant.memory(target) else {
                    continue;
                };
                let body = self.gql(t, READ, json!({ "r": r })).await;
                prop_assert_eq!(
                    &body["data"]["memory"]["json"],
                    &tenant.json(&owner),
                    "{} {:?}",
                    tenant.name,
                    target
                );
            }
            let stores =
                std::iter::once(None).chain(tenant.bots.iter().map(|(id, _)| Some(id.clone())));
            for bot in stores {
                let body = self.gql(t, "query($b: UUID) { kvEntries(botId: $b, first: 100) { edges { node { key value } } } }", json!({ "b": bot })).await;
                let listed: BTreeMap<String, i64> = body["data"]["kvEntries"]["edges"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{body}"))
                    .iter()
                    .map(|e| {
                        (
                            e["node"]["key"].as_str().unwrap().to_owned(),
                            e["node"]["value"].as_i64().unwrap(),
                        )
                    })
                    .collect();
                let bot = bot.unwrap_or_default();
                let expected: BTreeMap<String, i64> = tenant
                    .kv
                    .iter()
                    .filter(|((b, _), _)| *b == bot)
                    .map(|((_, k), v)| (k.clone(), *v))
                    .collect();
                prop_assert_eq!(listed, expected, "{} kv of {:?}", tenant.name, bot);
            }
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_tenant_ever_sees_or_changes_another_tenants_data() {
    let cases = std::env::var("BOTMEM_PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(200);
    let seed: [u8; 32] = match std::env::var("BOTMEM_PROPTEST_SEED") {
        Ok(hex) => (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect::<Vec<_>>()
            .try_into()
            .unwrap(),
        Err(_) => *uuid::Uuid::new_v4()
            .as_bytes()
            .repeat(2)
            .first_chunk::<32>()
            .unwrap(),
    };
    let seed_hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    eprintln!("isolation properties: {cases} cases, BOTMEM_PROPTEST_SEED={seed_hex}");
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let s = TestServer::start().await;
    let case = std::sync::atomic::AtomicU64::new(0);
    let steps = std::sync::atomic::AtomicU64::new(0);
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runner.run(&prop::collection::vec(op(), 1..40), |ops| {
            let n = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            handle.block_on(async {
                let tenants = (0..3)
                    .map(|t| Tenant {
                        name: format!("p{n}-{t}"),
                        ..Tenant::default()
                    })
                    .collect();
                let mut run = Run {
                    s: &s,
                    tenants,
                    steps: 0,
                };
                for t in 0..3 {
                    run.step(&Op::CreateBot { t }).await?;
                    run.step(&Op::Start { t, bot: 0, user: 0 }).await?;
                }
                for op in &ops {
                    run.step(op).await?;
                }
                run.verify_all().await?;
                steps.fetch_add(run.steps, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            })
        })
    });
    if let Err(e) = result {
        panic!("{e}\nreplay with BOTMEM_PROPTEST_SEED={seed_hex}");
    }
    eprintln!(
        "isolation properties: {} cases, {} operations, 0 violations",
        case.into_inner(),
        steps.into_inner()
    );
}
