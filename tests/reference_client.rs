//! The reference JavaScript client, npm `graphql-ws` (pinned in
//! `tests/js/package.json`), against a real server: `tests/js/check.mjs`
//! subscribes, reads an event, runs a query over the socket, and expects
//! the close code and error shapes the client understands. `scripts/test`
//! installs the client (`npm ci`) before the suite runs.
mod common;

use common::*;

#[tokio::test]
async fn the_reference_graphql_ws_client_works_against_botmem() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    let output = node("check.mjs", vec![s.base.clone(), admin, bot]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the reference client failed:\n{stdout}"
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("ok ")).count(), 4);
}
