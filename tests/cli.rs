//! The `botmem` binary: help, configuration errors, token minting, schema.
mod common;

use std::process::Command;

use common::*;
use serde_json::json;

/// The binary with none of the harness's `BOTMEM_*` variables, run in the
/// temporary directory: a default `sqlite://botmem.db` never lands in the
/// repository.
fn botmem() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_botmem"));
    cmd.current_dir(std::env::temp_dir());
    for (key, _) in std::env::vars() {
        if key.starts_with("BOTMEM_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Runs `command`, which must succeed; its standard output.
fn stdout_of(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn token_command_mints_tokens_the_server_accepts() {
    let s = TestServer::start().await;
    let token = stdout_of(botmem().env("BOTMEM_JWT_SECRET", SECRET).args([
        "token", "--tenant", "acme", "--role", "editor", "--ttl", "1h",
    ]))
    .trim()
    .to_owned();
    // The CLI signs with the real clock; the test server's clock is in 2030.
    let mut claims: serde_json::Value = {
        use base64::Engine;
        let part = token.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(claims["tenant"], "acme");
    assert_eq!(claims["roles"], json!(["editor"]));
    let lifetime = claims["exp"].as_i64().unwrap() - chrono::Utc::now().timestamp();
    assert!((3500..=3600).contains(&lifetime), "ttl 1h, got {lifetime}s");
    claims["exp"] = json!(s.clock.now().timestamp() + 60);
    let server_time_token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let data = s
        .ok(
            &server_time_token,
            "{ viewer { subject roles tenant { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["viewer"]["roles"], json!(["EDITOR"]));
    assert_eq!(data["viewer"]["tenant"]["id"], "acme");

    let out = botmem().args(["token", "--role", "root"]).output().unwrap();
    assert!(!out.status.success());
}

/// Tests that need no database: `scripts/test` runs them once, with
/// `BOTMEM_TEST_DATABASE=none`.
mod no_database {
    use super::*;

    #[test]
    fn help_explains_the_configuration() {
        let out = botmem().arg("--help").output().unwrap();
        assert!(out.status.success());
        let help = String::from_utf8(out.stdout).unwrap();
        for key in [
            "BOTMEM_DATABASE_URL",
            "BOTMEM_LISTEN",
            "BOTMEM_JWT_SECRET",
            "BOTMEM_JWT_JWKS_FILE",
            "BOTMEM_MIGRATE",
            "serve",
            "migrate",
            "token",
            "schema",
        ] {
            assert!(help.contains(key), "--help lacks {key}");
        }
    }

    #[test]
    fn bad_configuration_stops_with_a_message_naming_the_setting() {
        for (key, value, expect) in [
            ("BOTMEM_LISTEN", "not-an-address", "BOTMEM_LISTEN"),
            ("BOTMEM_DATABASE_URL", "mysql://x", "BOTMEM_DATABASE_URL"),
            ("BOTMEM_JWT_SECRET", "short", "BOTMEM_JWT_SECRET"),
            ("BOTMEM_LOG_FORMAT", "xml", "BOTMEM_LOG_FORMAT"),
            ("BOTMEM_MIGRATE", "perhaps", "BOTMEM_MIGRATE"),
            ("BOTMEM_JANITOR", "sometimes", "BOTMEM_JANITOR"),
            ("BOTMEM_JANITOR_TICK_SECS", "0", "BOTMEM_JANITOR_TICK_SECS"),
        ] {
            let out = botmem().env(key, value).arg("migrate").output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{key}={value}");
            let err = String::from_utf8(out.stderr).unwrap();
            assert!(err.contains(expect), "{key}={value}: {err}");
        }
    }

    #[test]
    fn a_config_file_named_by_botmem_config_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("botmem.toml");
        std::fs::write(
            &file,
            format!("jwt_secret = \"{SECRET}\"\nlisten = \"127.0.0.1:9999\"\n"),
        )
        .unwrap();
        let token = stdout_of(
            botmem()
                .env("BOTMEM_CONFIG", &file)
                .args(["token", "--tenant", "f"]),
        );
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.validate_exp = false;
        let key = jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes());
        assert!(
            jsonwebtoken::decode::<serde_json::Value>(token.trim(), &key, &validation).is_ok(),
            "signed with the file's secret"
        );
        let out = botmem()
            .env("BOTMEM_CONFIG", dir.path().join("missing.toml"))
            .arg("token")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let out = botmem()
            .env("BOTMEM_JWT_SECRT", "typo")
            .arg("token")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "unknown settings are refused, not ignored"
        );
    }

    #[test]
    fn committed_schema_matches_the_code() {
        let committed =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
                .expect("schema.graphql is committed");
        let out = botmem().arg("schema").output().unwrap();
        let printed = String::from_utf8(out.stdout).unwrap();
        assert_eq!(printed, botmem::api::sdl());
        assert!(
            committed == printed,
            "schema.graphql is stale: run `cargo run -q -- schema > schema.graphql` and commit it"
        );
    }

    /// Every setting the configuration accepts (as its own error message lists
    /// them) is explained by `serve --help` and the README's table.
    #[test]
    fn every_setting_is_explained_in_help_and_readme() {
        let out = botmem()
            .env("BOTMEM_NO_SUCH_SETTING", "1")
            .arg("migrate")
            .output()
            .unwrap();
        let refusal = String::from_utf8(out.stderr).unwrap();
        let listed = refusal
            .split("one of ")
            .nth(1)
            .unwrap_or_else(|| panic!("{refusal}"));
        let settings: Vec<String> = listed
            .split('`')
            .filter(|s| s.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !s.is_empty())
            .map(|s| format!("BOTMEM_{}", s.to_ascii_uppercase()))
            .collect();
        assert!(settings.len() > 30, "{refusal}");
        let help = botmem().args(["serve", "--help"]).output().unwrap();
        let help = String::from_utf8(help.stdout).unwrap();
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        for setting in &settings {
            assert!(
                help.contains(setting),
                "serve --help does not explain {setting}"
            );
            assert!(
                readme.contains(&format!("`{setting}`")),
                "README does not explain {setting}"
            );
        }
        let token = botmem().args(["token", "--help"]).output().unwrap();
        let token = String::from_utf8(token.stdout).unwrap();
        for flag in [
            "--tenant",
            "--subject",
            "--role",
            "--bot",
            "--ttl",
            "development secret",
        ] {
            assert!(token.contains(flag), "token --help lacks {flag}");
        }
    }

    #[test]
    fn config_prints_every_effective_setting_with_secrets_masked() {
        let secret = "a-very-secret-value-of-at-least-32-bytes";
        let printed = stdout_of(
            botmem()
                .env("BOTMEM_JWT_SECRET", secret)
                .env(
                    "BOTMEM_DATABASE_URL",
                    "postgres://app:hunter2@db.internal/botmem",
                )
                .env("BOTMEM_JANITOR_BATCH_SIZE", "250")
                .arg("config"),
        );
        assert!(
            !printed.contains(secret) && !printed.contains("hunter2"),
            "{printed}"
        );
        for line in [
            "BOTMEM_JWT_SECRET=********",
            "BOTMEM_DATABASE_URL=postgres://app:********@db.internal/botmem",
            "BOTMEM_JANITOR_BATCH_SIZE=250",
            "BOTMEM_DB_MAX_CONNECTIONS=16",
            "BOTMEM_LISTEN=127.0.0.1:8080",
            "BOTMEM_INTROSPECTION=on",
            "BOTMEM_CORS_ORIGINS=",
        ] {
            assert!(
                printed.lines().any(|l| l == line),
                "no {line} in\n{printed}"
            );
        }
        // The pool's default depends on the database; a set value wins.
        let embedded = stdout_of(botmem().arg("config"));
        assert!(
            embedded.lines().any(|l| l == "BOTMEM_DB_MAX_CONNECTIONS=4"),
            "{embedded}"
        );
        let set = stdout_of(botmem().env("BOTMEM_DB_MAX_CONNECTIONS", "9").arg("config"));
        assert!(
            set.lines().any(|l| l == "BOTMEM_DB_MAX_CONNECTIONS=9"),
            "{set}"
        );
        let help =
            String::from_utf8(botmem().args(["serve", "--help"]).output().unwrap().stdout).unwrap();
        for line in printed.lines() {
            let key = line.split('=').next().unwrap();
            assert!(
                help.contains(key),
                "{key} is printed but not explained by serve --help"
            );
        }
    }
}
