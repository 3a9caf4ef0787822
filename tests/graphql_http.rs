//! The GraphQL-over-HTTP audit of npm `graphql-http` (pinned in
//! `tests/js/package.json`, run by `tests/js/audit.mjs`) against a real
//! server: every MUST, SHOULD and MAY audit must pass. `scripts/test`
//! installs it (`npm ci`) before the suite runs.
mod common;

use std::process::Command;

use common::*;

#[tokio::test]
async fn every_graphql_over_http_audit_passes() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules/graphql-http")
            .exists(),
        "graphql-http is not installed: run `npm ci` in tests/js (scripts/test does)"
    );
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let base = s.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .current_dir(dir)
            .args(["audit.mjs", &base, &admin])
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let failed: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("ok ")).collect();
    assert!(
        failed.is_empty() && output.status.success(),
        "audits failed:\n{}",
        failed.join("\n")
    );
    assert!(stdout.lines().count() > 40, "too few audits ran:\n{stdout}");
}
