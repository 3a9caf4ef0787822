//! The README's examples run exactly as written, so they cannot rot: the
//! `sh` blocks of the sections below are joined into one bash script and
//! run against a real `botmem serve`, and every `# =>` line must match a
//! line the script prints (`…` stands for anything). Two substitutions
//! only: `cargo run --release -q --` becomes the binary under test (no
//! second build), and `http://127.0.0.1:8080` the server's address.
mod common;

use std::process::Command;

use common::{TestServer, process::*};

const RUN: [&str; 2] = ["## A worked example", "## Templates"];

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The `sh` blocks under `heading`, up to the next heading of its level.
fn blocks(readme: &str, heading: &str) -> Vec<String> {
    let start = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no {heading:?}"));
    let level = heading.split(' ').next().unwrap();
    let rest = &readme[start + heading.len() + 2..];
    let end = rest.find(&format!("\n{level} ")).unwrap_or(rest.len());
    let section = &rest[..end];
    section
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("\n```").next().unwrap().to_owned())
        .collect()
}

/// Does `line` match `pattern`, where `…` matches any text? The
/// non-breaking spaces CLDR puts into numbers (U+00A0, U+202F) print as
/// plain spaces in the README.
fn matches(pattern: &str, line: &str) -> bool {
    let line = line.replace(['\u{a0}', '\u{202f}'], " ");
    let line = line.as_str();
    let mut parts = pattern.split('…');
    let first = parts.next().unwrap();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

#[test]
fn the_quick_start_commands_are_the_ones_ci_runs() {
    let readme = readme();
    let quick = blocks(&readme, "## Quick start");
    assert_eq!(quick, ["cargo run --release -- serve", "./scripts/test"]);
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(ci.lines().any(|l| l.trim() == "./scripts/test"), "{ci}");
}

#[test]
fn matching_allows_ellipses() {
    assert!(matches(r#"{"id":"…","n":1}"#, r#"{"id":"abc","n":1}"#));
    assert!(!matches(r#"{"id":"…","n":1}"#, r#"{"id":"abc","n":2}"#));
    assert!(matches("exact", "exact"));
    assert!(!matches("exact", "exactly"));
}

#[tokio::test]
async fn the_worked_example_and_the_templates_run_as_written() {
    let readme = readme();
    let script: Vec<String> = RUN.iter().flat_map(|h| blocks(&readme, h)).collect();
    assert!(script.len() >= 3, "too few blocks: {script:?}");
    let s = TestServer::start().await;
    let port = free_port();
    let _server = spawn_botmem(&s.config.database_url, port, &[]);
    wait_up(port).await;
    let script = format!("set -euo pipefail\n{}", script.join("\n"))
        .replace("cargo run --release -q --", env!("CARGO_BIN_EXE_botmem"))
        .replace("http://127.0.0.1:8080", &format!("http://127.0.0.1:{port}"));
    let output = tokio::task::spawn_blocking(move || {
        let mut bash = Command::new("bash");
        // As a user's shell: none of the test harness's BOTMEM_TEST_* variables.
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("BOTMEM_")) {
            bash.env_remove(key);
        }
        bash.arg("-c")
            .arg(&script)
            .env("BOTMEM_JWT_SECRET", common::SECRET)
            .output()
            .expect("bash runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the script failed:\n{stdout}\n{stderr}"
    );
    let printed: Vec<&str> = stdout.lines().collect();
    let mut next = 0;
    for expected in readme_expectations(&readme) {
        let found = printed[next..].iter().position(|l| matches(&expected, l));
        let Some(at) = found else {
            panic!(
                "README promises\n  {expected}\nbut the script printed\n{}",
                printed[next..].join("\n")
            );
        };
        next += at + 1;
    }
}

fn readme_expectations(readme: &str) -> Vec<String> {
    RUN.iter()
        .flat_map(|h| blocks(readme, h))
        .flat_map(|b| {
            b.lines()
                .filter_map(|l| l.strip_prefix("# => "))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}
