//! The web pages in a real browser: Debian's Chromium (`/usr/bin/chromium`,
//! installed by `.ci/run`) driven by `playwright-core` (pinned in
//! `tests/js/package.json`, no browser download) through
//! `tests/js/inspector.mjs`, against the real server. The script signs in,
//! browses from a bot to a conversation, sees API writes arrive live, lets
//! the janitor expire a variable (this test moves the server's clock when
//! the script asks), edits in the page, checks a viewer token and an XSS
//! value, drives the admin pages, and runs a query and a subscription in
//! GraphiQL with nothing but 127.0.0.1 reachable. Screenshots go to
//! `target/screenshots/` (CI keeps them).
mod common;

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
};

use botmem::clock::Clock;
use common::*;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs the script; on `ADVANCE_TO <time>` moves `clock` forward to that
/// time (never back) and answers `OK`. Returns the script's exit status and
/// its `ok …` lines.
fn run_script(config: Value, clock: Clock) -> (std::process::ExitStatus, Vec<String>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules/playwright-core")
            .exists(),
        "tests/js is not installed: run `npm ci` there (scripts/test does)"
    );
    let mut child = Command::new("node")
        .current_dir(dir)
        .arg("inspector.mjs")
        .arg(config.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut passed = vec![];
    for line in stdout.lines() {
        let line = line.expect("script output");
        eprintln!("inspector.mjs: {line}");
        if let Some(time) = line.strip_prefix("ADVANCE_TO ") {
            let target = chrono::DateTime::parse_from_rfc3339(time.trim()).expect("a time");
            let by = target.to_utc() - clock.now();
            if by > chrono::TimeDelta::zero() {
                clock.advance(by);
            }
            writeln!(stdin, "OK").expect("answer the script");
        } else if let Some(step) = line.strip_prefix("ok ") {
            passed.push(step.to_owned());
        }
    }
    (child.wait().expect("node exits"), passed)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inspector_and_graphiql_work_in_chromium() {
    // No silent skip: CI installs Chromium, and so must a developer.
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    );
    let s = TestServer::start().await;
    let tenant = "acme";
    let admin = s.admin(tenant);
    let editor = s.token(tenant, "editor");
    let viewer = s.token(tenant, "viewer");

    let bot = s.create_bot(&admin, "support").await;
    let conversation = s.start_conversation(&editor, &bot, "visitor-42").await;
    let conversation_id = conversation["id"].as_str().unwrap().to_owned();
    let user_id = conversation["user"]["id"].as_str().unwrap().to_owned();
    let other = s.start_conversation(&editor, &bot, "visitor-7").await;
    let other_id = other["id"].as_str().unwrap().to_owned();
    let other_user = other["user"]["id"].as_str().unwrap().to_owned();

    let set =
        "mutation($inputs: [SetVariableInput!]!) { setVariables(inputs: $inputs) { version } }";
    let conv = json!({ "scope": "CONVERSATION", "conversationId": conversation_id });
    s.ok(
        &editor,
        set,
        json!({ "inputs": [
            { "ref": conv, "name": "doctor", "value": "Dr. John Burke", "expiresIn": "10m" },
            { "ref": conv, "name": "note", "value": "<img src=x onerror=alert(1)>" },
            { "ref": { "scope": "TEMP", "conversationId": conversation_id }, "name": "step",
              "value": { "flow": "booking", "slot": 3 } },
            { "ref": { "scope": "USER", "userId": user_id }, "name": "email", "value": "ada@example.com" },
            { "ref": { "scope": "USER", "userId": user_id }, "name": "history", "value": {
                "visits": ["2029-11-02", "2029-12-11", "2030-01-08"],
                "preferences": { "language": "en-GB", "contact": "email", "newsletter": true },
                "notes": "Prefers morning appointments; allergic to penicillin." } },
            { "ref": { "scope": "BOT", "botId": bot }, "name": "openingHours", "value": "Mon-Fri 8:00-18:00" },
            { "ref": { "scope": "CONVERSATION", "conversationId": other_id }, "name": "topic", "value": "billing" },
        ] }),
    )
    .await;
    s.ok(
        &editor,
        r#"mutation($c: UUID!) {
             a: appendMessage(conversationId: $c, input: { direction: INCOMING, text: "I need an appointment" }) { id }
             b: appendMessage(conversationId: $c, input: { direction: OUTGOING, text: "Dr. John Burke is available on 11 Feb." }) { id } }"#,
        json!({ "c": conversation_id }),
    )
    .await;

    let shots = concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots");
    std::fs::create_dir_all(shots).unwrap();
    let config = json!({
        "base": s.base,
        "tenant": tenant,
        "tokens": { "admin": admin, "editor": editor, "viewer": viewer },
        "bot": bot,
        "conversation": conversation_id,
        "active_conversation": other_id,
        "user": user_id,
        "active_user": other_user,
        "now": s.clock.now().to_rfc3339(),
        "shots": shots,
    });
    let clock = s.clock.clone();
    let (status, passed) = tokio::task::spawn_blocking(move || run_script(config, clock))
        .await
        .unwrap();
    assert!(
        status.success(),
        "the browser test failed after {passed:#?} (see its output above)"
    );
    for step in [
        "1 ",
        "2 ",
        "3 ",
        "4 ",
        "5 ",
        "6 ",
        "7 ",
        "8 ",
        "9a ",
        "9b ",
        "admin",
        "no dialog",
    ] {
        assert!(
            passed.iter().any(|p| p.starts_with(step)),
            "step {step} did not pass: {passed:#?}"
        );
    }
}

/// The pages and every asset they name are served under the strict CSP;
/// `BOTMEM_INSPECTOR=off` serves none of them, and a browser opening
/// `/graphql` then gets the API's answer, not GraphiQL.
#[tokio::test]
async fn the_pages_are_served_under_a_strict_csp_and_can_be_turned_off() {
    let s = TestServer::start().await;
    let get = |path: &str, accept: &str| s.http().get(s.url(path)).header("accept", accept).send();
    for (page, title) in [
        ("/inspector", "botmem inspector"),
        ("/graphiql", "botmem GraphiQL"),
        ("/graphql", "botmem GraphiQL"),
    ] {
        let response = get(page, "text/html,application/xhtml+xml").await.unwrap();
        assert_eq!(response.status(), 200, "{page}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        for directive in [
            "script-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{page}: {csp}");
        }
        assert!(!csp.contains("unsafe-eval"), "{page}: {csp}");
        let html = response.text().await.unwrap();
        assert!(html.contains(&format!("<title>{title}</title>")), "{html}");
        assert!(!html.contains("<script>"), "no inline script: {html}");
        // Every asset the page names is there, with its type.
        for asset in html.split('"').filter(|part| part.starts_with("/ui/")) {
            let response = get(asset, "*/*").await.unwrap();
            assert_eq!(response.status(), 200, "{asset}");
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            let expected = if asset.ends_with(".js") {
                "text/javascript"
            } else {
                "text/css"
            };
            assert!(kind.starts_with(expected), "{asset}: {kind}");
            assert!(
                response.bytes().await.unwrap().len() > 1000,
                "{asset} is built"
            );
        }
    }
    assert_eq!(get("/ui/nothing.js", "*/*").await.unwrap().status(), 404);

    let off = TestServer::start_with(|c| c.inspector = botmem::config::Switch::Off).await;
    for path in [
        "/inspector",
        "/graphiql",
        "/ui/inspector.js",
        "/ui/graphiql.js",
    ] {
        let response = off
            .http()
            .get(off.url(path))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path} with BOTMEM_INSPECTOR=off");
    }
    let response = off
        .http()
        .get(off.url("/graphql"))
        .header("accept", "text/html,application/json")
        .send()
        .await
        .unwrap();
    assert!(!response.text().await.unwrap().contains("GraphiQL"));
}
