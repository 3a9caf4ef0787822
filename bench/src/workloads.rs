//! The data every run starts from and the requests of each workload.
use std::{net::SocketAddr, sync::Arc};

use crate::load::{Body, Rng, call};

pub const USERS: usize = 1000;
pub const NAMES: usize = 10;

pub const WORKLOADS: [&str; 5] = [
    "setVariable",
    "memory",
    "patchMemory",
    "mixed",
    "__typename",
];

/// One bot, [`USERS`] users with [`NAMES`] long-term variables each.
pub struct Seeded {
    pub bot: String,
    pub users: Arc<Vec<String>>,
}

fn user_ref(user: &str) -> String {
    format!(r#"{{"scope":"USER","userId":"{user}"}}"#)
}

/// `{"k0": …, "k1": …}` for `count` names from `first`, wrapping at [`NAMES`].
fn object(first: usize, count: usize, value: usize) -> String {
    let entries: Vec<String> = (0..count)
        .map(|i| {
            format!(
                r#""k{}":{{"n":{value},"text":"hello"}}"#,
                (first + i) % NAMES
            )
        })
        .collect();
    format!("{{{}}}", entries.join(","))
}

pub async fn seed(addr: SocketAddr, token: &str) -> Seeded {
    let token: Arc<str> = token.into();
    let created = call(
        addr,
        &token,
        r#"{"query":"mutation { createBot(input: { name: \"bench\", sessionTimeout: \"30m\" }) { id } }"}"#.into(),
    )
    .await;
    let bot = created["data"]["createBot"]["id"]
        .as_str()
        .expect("bot id")
        .to_owned();
    let mut users = Vec::with_capacity(USERS);
    for chunk in (0..USERS).collect::<Vec<_>>().chunks(50) {
        let calls = chunk.iter().map(|n| {
            let body = format!(
                r#"{{"query":"mutation($b: UUID!, $e: String!) {{ upsertUser(input: {{ botId: $b, channel: \"web\", externalId: $e }}) {{ id }} }}","variables":{{"b":"{bot}","e":"user-{n}"}}}}"#
            );
            let token = token.clone();
            async move { call(addr, &token, body).await }
        });
        for answer in futures_join(calls).await {
            users.push(
                answer["data"]["upsertUser"]["id"]
                    .as_str()
                    .expect("user id")
                    .to_owned(),
            );
        }
    }
    for chunk in users.chunks(50) {
        let calls = chunk.iter().map(|user| {
            let body = format!(
                r#"{{"query":"mutation($r: MemoryRef!, $s: JSON) {{ patchMemory(ref: $r, set: $s) {{ version }} }}","variables":{{"r":{},"s":{}}}}}"#,
                user_ref(user),
                object(0, NAMES, 0)
            );
            let token = token.clone();
            async move { call(addr, &token, body).await }
        });
        futures_join(calls).await;
    }
    Seeded {
        bot,
        users: Arc::new(users),
    }
}

/// Runs `calls` concurrently; their outputs in order.
async fn futures_join<F>(calls: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = calls.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("a seeding call"));
    }
    out
}

fn set_variable(users: &[String], rng: &mut Rng) -> String {
    let user = &users[rng.below(users.len())];
    format!(
        r#"{{"query":"mutation($i: SetVariableInput!) {{ setVariable(input: $i) {{ version }} }}","variables":{{"i":{{"ref":{},"name":"k{}","value":{{"n":{},"text":"hello"}}}}}}}}"#,
        user_ref(user),
        rng.below(NAMES),
        rng.below(1_000_000)
    )
}

fn read_memory(users: &[String], rng: &mut Rng) -> String {
    let user = &users[rng.below(users.len())];
    format!(
        r#"{{"query":"query($r: MemoryRef!) {{ memory(ref: $r) {{ version json }} }}","variables":{{"r":{}}}}}"#,
        user_ref(user)
    )
}

fn patch_memory(users: &[String], rng: &mut Rng) -> String {
    let user = &users[rng.below(users.len())];
    format!(
        r#"{{"query":"mutation($r: MemoryRef!, $s: JSON) {{ patchMemory(ref: $r, set: $s) {{ version }} }}","variables":{{"r":{},"s":{}}}}}"#,
        user_ref(user),
        object(rng.below(NAMES), 5, rng.below(1_000_000))
    )
}

/// The request maker of `workload`.
pub fn body(workload: &str, seeded: &Seeded) -> Body {
    let users = seeded.users.clone();
    match workload {
        "setVariable" => Arc::new(move |rng| set_variable(&users, rng)),
        "memory" => Arc::new(move |rng| read_memory(&users, rng)),
        "patchMemory" => Arc::new(move |rng| patch_memory(&users, rng)),
        "mixed" => Arc::new(move |rng| {
            if rng.below(10) < 8 {
                read_memory(&users, rng)
            } else {
                set_variable(&users, rng)
            }
        }),
        _ => Arc::new(|_| r#"{"query":"{ __typename }"}"#.to_owned()),
    }
}
