//! PostgreSQL's own limit on this machine, in the same run: `pgbench` on a
//! table keyed like `variables` (tenant, scope, owner, name), 1 000 owners
//! with 10 names each, running the statements botmem's workloads stand for.
use std::{path::Path, process::Stdio, time::Duration};

use sea_orm::{ConnectionTrait, Database};
use tokio::process::Command;

const TABLE: &str = "CREATE TABLE bench_variables (
    tenant_id varchar(64) NOT NULL, scope varchar(16) NOT NULL, owner_id bigint NOT NULL,
    name varchar(128) NOT NULL, bot_id bigint NOT NULL, value jsonb NOT NULL,
    version bigint NOT NULL, expires_at timestamptz, created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, scope, owner_id, name))";

const SEED: &str = "INSERT INTO bench_variables
    SELECT 'bench', 'user', o, 'k' || n, 1, jsonb_build_object('n', n, 'text', 'hello'), 1, NULL, now(), now()
    FROM generate_series(1, 1000) o, generate_series(0, 9) n";

fn upsert_row(name: &str) -> String {
    format!(
        "('bench', 'user', :u::bigint, {name}, 1, jsonb_build_object('n', :v::bigint, 'text', 'hello'), 1, now(), now())"
    )
}

fn upsert(rows: &[String]) -> String {
    format!(
        "INSERT INTO bench_variables (tenant_id, scope, owner_id, name, bot_id, value, version, created_at, updated_at) \
         VALUES {} ON CONFLICT (tenant_id, scope, owner_id, name) DO UPDATE SET value = excluded.value, \
         version = bench_variables.version + 1, updated_at = excluded.updated_at;",
        rows.join(", ")
    )
}

/// The pgbench scripts: `(file name, text)`.
fn scripts() -> Vec<(&'static str, String)> {
    let head = "\\set u random(1, 1000)\n\\set n random(0, 9)\n\\set v random(1, 1000000)\n";
    let one = upsert(&[upsert_row("'k' || :n::int")]);
    let five: Vec<String> = (0..5)
        .map(|i| upsert_row(&format!("'k' || ((:n::int + {i}) % 10)")))
        .collect();
    let read = "SELECT name, value, version, expires_at, created_at, updated_at FROM bench_variables \
                WHERE tenant_id = 'bench' AND scope = 'user' AND owner_id = :u::bigint;";
    vec![
        ("upsert.sql", format!("{head}{one}\n")),
        ("read.sql", format!("{head}{read}\n")),
        ("upsert5.sql", format!("{head}{}\n", upsert(&five))),
    ]
}

/// What stands for each botmem workload: pgbench's `-f` arguments.
pub fn equivalent(workload: &str) -> Option<&'static [&'static str]> {
    Some(match workload {
        "setVariable" => &["upsert.sql"],
        "memory" => &["read.sql"],
        "patchMemory" => &["upsert5.sql"],
        "mixed" => &["read.sql@8", "upsert.sql@2"],
        _ => return None,
    })
}

pub struct Figures {
    pub tps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// A database of its own for pgbench, dropped by [`Pgbench::drop`].
pub struct Pgbench {
    admin_url: String,
    url: String,
    name: String,
    dir: tempfile::TempDir,
}

impl Pgbench {
    pub async fn prepare(server: &str) -> Option<Pgbench> {
        let available = Command::new("pgbench")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success());
        if !available {
            eprintln!("pgbench not found: the ratio column stays empty");
            return None;
        }
        let name = format!("botmem_bench_pgb_{}", uuid::Uuid::new_v4().simple());
        let admin_url = format!("{server}/postgres");
        let admin = Database::connect(&admin_url).await.ok()?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .ok()?;
        admin.close().await.ok();
        let url = format!("{server}/{name}");
        let db = Database::connect(&url).await.ok()?;
        db.execute_unprepared(TABLE).await.ok()?;
        db.execute_unprepared(SEED).await.ok()?;
        db.execute_unprepared("VACUUM ANALYZE bench_variables")
            .await
            .ok()?;
        db.close().await.ok();
        let dir = tempfile::tempdir().ok()?;
        for (file, text) in scripts() {
            std::fs::write(dir.path().join(file), text).ok()?;
        }
        Some(Pgbench {
            admin_url,
            url,
            name,
            dir,
        })
    }

    pub async fn run(&self, workload: &str, clients: usize, duration: Duration) -> Option<Figures> {
        let files = equivalent(workload)?;
        let logs = self.dir.path().join(format!("log-{workload}-{clients}"));
        std::fs::create_dir_all(&logs).ok()?;
        let mut command = Command::new("pgbench");
        command
            .args(["-n", "-M", "prepared", "-j", "2"])
            .arg(format!("-c{clients}"))
            .arg(format!("-T{}", duration.as_secs().max(1)))
            .arg("-l")
            .arg(format!("--log-prefix={}", logs.join("tx").display()))
            .current_dir(self.dir.path());
        for file in files {
            command.arg("-f").arg(file);
        }
        command.arg(&self.url);
        let out = command.output().await.ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            eprintln!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        let tps: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse().ok())?;
        let mut latencies = transaction_latencies_us(&logs);
        latencies.sort_unstable();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .map_or(0.0, |us| *us as f64 / 1000.0)
        };
        Some(Figures {
            tps,
            p50_ms: at(0.5),
            p99_ms: at(0.99),
        })
    }

    pub async fn drop(self) {
        if let Ok(admin) = Database::connect(&self.admin_url).await {
            admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .await
                .ok();
            admin.close().await.ok();
        }
    }
}

/// The third field of each line of pgbench's per-transaction logs.
fn transaction_latencies_us(dir: &Path) -> Vec<u64> {
    let Ok(files) = std::fs::read_dir(dir) else {
        return vec![];
    };
    files
        .filter_map(|f| std::fs::read_to_string(f.ok()?.path()).ok())
        .flat_map(|text| {
            text.lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}
