//! Fuzz targets, run as property tests on the stable toolchain (proptest;
//! cargo-fuzz needs nightly, which these machines cannot fetch). Each target
//! mixes its committed seed corpus (`tests/fuzz/<target>/`), byte-level
//! mutations of those seeds, and arbitrary text, and checks invariants:
//! no panic, no answer but the documented ones, nothing written on a
//! refused input.
//!
//! `BOTMEM_FUZZ_CASES` sets the cases per target: 300 by default (CI); a
//! longer run is `BOTMEM_FUZZ_CASES=200000 BOTMEM_TEST_DATABASE=sqlite
//! cargo nextest run --test fuzz --no-capture`. A failure prints the
//! minimal input proptest found; add it to the target's corpus.
mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use common::*;
use proptest::{prelude::*, test_runner::TestRunner};
use serde_json::{Value, json};

fn config() -> ProptestConfig {
    let cases = std::env::var("BOTMEM_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(300);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn seeds(target: &str) -> Vec<String> {
    let dir = format!("{}/tests/fuzz/{target}", env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {dir}");
    seeds
}

/// A seed with a few bytes inserted, removed or replaced (kept UTF-8), a
/// seed as is, or arbitrary text.
fn inputs(target: &str) -> BoxedStrategy<String> {
    let seeds = seeds(target);
    let edit = (any::<prop::sample::Index>(), any::<u8>(), 0..3u8);
    let mutated = (
        prop::sample::select(seeds.clone()),
        prop::collection::vec(edit, 1..6),
    )
        .prop_map(|(seed, edits)| {
            let mut bytes = seed.into_bytes();
            for (at, byte, kind) in edits {
                let i = at.index(bytes.len() + 1);
                match kind {
                    0 => bytes.insert(i, byte),
                    1 if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ if i < bytes.len() => bytes[i] = byte,
                    _ => bytes.push(byte),
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        });
    prop_oneof![
        2 => prop::sample::select(seeds),
        5 => mutated,
        2 => any::<String>(),
        1 => "[ -~]{0,300}",
    ]
    .boxed()
}

/// Runs `check` on `cases` inputs; returns how many ran.
fn run<T: std::fmt::Debug>(
    strategy: impl Strategy<Value = T>,
    check: impl Fn(T) -> Result<(), TestCaseError>,
) -> u64 {
    let executions = AtomicU64::new(0);
    TestRunner::new(config())
        .run(&strategy, |input| {
            executions.fetch_add(1, Ordering::Relaxed);
            check(input)
        })
        .unwrap();
    executions.into_inner()
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::from),
        Just(Value::from("2026-02-11")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens() {
    let config = botmem::Config {
        jwt_secret: Some(SECRET.into()),
        clock: botmem::clock::Clock::manual(start_time()),
        ..botmem::Config::default()
    };
    let verifier = botmem::auth::Verifier::from_config(&config).await.unwrap();
    let probe = TestServer::start().await;
    let valid: Vec<String> = ["viewer", "editor", "admin"]
        .iter()
        .map(|role| probe.token("t1", role))
        .collect();
    let mut corpus = seeds("tokens");
    corpus.extend(valid.iter().cloned());
    let dir = std::env::temp_dir().join(format!("botmem-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let strategy = {
        let edit = (any::<prop::sample::Index>(), any::<u8>());
        (
            prop::sample::select(corpus),
            prop::collection::vec(edit, 0..4),
            any::<String>(),
            any::<bool>(),
        )
            .prop_map(|(seed, edits, text, arbitrary)| {
                if arbitrary {
                    return text;
                }
                let mut bytes = seed.into_bytes();
                for (at, byte) in edits {
                    let i = at.index(bytes.len().max(1));
                    if i < bytes.len() {
                        bytes[i] = byte;
                    }
                }
                String::from_utf8_lossy(&bytes).into_owned()
            })
    };
    let handle = tokio::runtime::Handle::current();
    let n = tokio::task::block_in_place(|| {
        run(strategy, |token| {
            let verified = handle.block_on(verifier.verify(&token));
            match verified {
                Ok(_) => prop_assert!(
                    valid.contains(&token),
                    "accepted a forged token {:?}",
                    token
                ),
                Err(e) => prop_assert_eq!(e.code(), "UNAUTHENTICATED"),
            }
            Ok(())
        })
    });
    eprintln!("fuzz tokens: {n} executions");
}

/// What a refused request must not change: every memory's version, the
/// bots, the KV entries and the conversation.
async fn digest(w: &World) -> Value {
    let q = "query($b: UUID!, $u: UUID!, $c: UUID!) {
        bots { totalCount edges { node { name } } }
        bot(id: $b) { memory { version } }
        user(id: $u) { memory { version } }
        conversation(id: $c) { status memory { version } temp { version } messages { text } }
        kvEntries { edges { node { key version } } } }";
    w.s.ok(
        &w.token,
        q,
        json!({ "b": w.bot, "u": w.user, "c": w.conversation }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_requests() {
    const DOCUMENTED: &[&str] = &[
        "BAD_USER_INPUT",
        "NOT_FOUND",
        "FORBIDDEN",
        "CONFLICT",
        "CONVERSATION_ENDED",
        "QUOTA_EXCEEDED",
        "LIMIT_EXCEEDED",
        "UNAUTHENTICATED",
    ];
    // Long runs send thousands of requests a second: not the fair share's test.
    let w = World::start_with(|c| {
        c.tenant_requests_per_sec = 1_000_000;
        c.tenant_burst = 1_000_000;
    })
    .await;
    let refs = vec![w.bot_ref(), w.user_ref(), w.conv_ref(), w.temp_ref()];
    let handle = tokio::runtime::Handle::current();
    let strategy = (inputs("graphql"), prop::sample::select(refs), json_value());
    let answered = AtomicU64::new(0);
    let n = tokio::task::block_in_place(|| {
        run(strategy, |(query, r, value)| {
            handle.block_on(async {
                let before = digest(&w).await;
                let body = json!({
                    "query": query,
                    "variables": { "r": r, "v": value, "c": w.conversation },
                });
                let response = w.s.post(&w.token, &body).await;
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                prop_assert!(
                    status == 200 || status == 400,
                    "HTTP {} for {:?}: {}",
                    status,
                    query,
                    text
                );
                let answer: Value = serde_json::from_str(&text).unwrap();
                let errors = answer["errors"].as_array().cloned().unwrap_or_default();
                for e in &errors {
                    let code = e["extensions"]["code"].as_str().unwrap_or("(none)");
                    prop_assert!(
                        DOCUMENTED.contains(&code),
                        "{} for {:?}: {}",
                        code,
                        query,
                        text
                    );
                }
                let refused = !errors.is_empty() && answer["data"].is_null();
                if !refused {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                if refused {
                    prop_assert_eq!(
                        digest(&w).await,
                        before,
                        "a refused request changed data: {:?}",
                        query
                    );
                }
                Ok(())
            })
        })
    });
    eprintln!(
        "fuzz graphql_requests: {n} executions, {} answered with data",
        answered.into_inner()
    );
}

/// Tests that need no database: `scripts/test` runs them once, with
/// `BOTMEM_TEST_DATABASE=none`.
mod no_database {
    use super::*;

    #[test]
    fn durations() {
        use botmem::model::Duration;
        let n = run(inputs("durations"), |text| {
            if let Ok(d) = Duration::parse(&text) {
                prop_assert_eq!(Duration::parse(&d.to_string()), Ok(d), "{} reads back", d);
            }
            Ok(())
        });
        eprintln!("fuzz durations: {n} executions");
    }

    #[test]
    fn schedules() {
        use botmem::model::Schedule;
        let start = start_time();
        let n = run(inputs("schedules"), |text| {
            match Schedule::parse("janitorSchedule", &text) {
                Ok(schedule) => {
                    if let Some(next) = schedule.next_after(start) {
                        prop_assert!(next > start);
                    }
                }
                Err(e) => prop_assert_eq!(e.code(), "BAD_USER_INPUT"),
            }
            Ok(())
        });
        eprintln!("fuzz schedules: {n} executions");
    }

    #[test]
    fn templates() {
        use botmem::model::{Culture, Template, TemplateError, TemplateLimits};
        let limits = TemplateLimits::default();
        let rendered = AtomicU64::new(0);
        let n = run(
            (
                inputs("templates"),
                json_value(),
                prop::sample::select(vec!["en", "de", "ja", "ar", "bg"]),
            ),
            |(source, memory, tag)| {
                let Ok(template) = Template::parse(&source, &limits) else {
                    return Ok(());
                };
                rendered.fetch_add(1, Ordering::Relaxed);
                let culture = Culture::resolve(&[Some(tag)]);
                let data = json!({ "memory": memory, "user": { "x": memory }, "_system": { "culture": tag } });
                for strict in [false, true] {
                    match template.render(&data, &culture, strict, &limits) {
                        Ok(out) => prop_assert!(out.len() <= limits.max_output_bytes),
                        Err(TemplateError::Invalid(_) | TemplateError::OverLimit(_)) => {}
                    }
                }
                Ok(())
            },
        );
        eprintln!(
            "fuzz templates: {n} executions, {} parsed and rendered",
            rendered.into_inner()
        );
    }
}
