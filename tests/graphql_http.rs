//! The GraphQL-over-HTTP audit of npm `graphql-http` (pinned in
//! `tests/js/package.json`, run by `tests/js/audit.mjs`) against a real
//! server: every MUST, SHOULD and MAY audit must pass. `scripts/test`
//! installs it (`npm ci`) before the suite runs.
mod common;

use common::*;

#[tokio::test]
async fn every_graphql_over_http_audit_passes() {
    let s = TestServer::start().await;
    let output = node("audit.mjs", vec![s.base.clone(), s.admin("t1")]).await;
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
