//! `botmem serve` as a child process, and what /proc says about it.
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

pub const SECRET: &str = "bench-secret-bench-secret-bench-secret-01";

/// A running `botmem serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: std::net::SocketAddr,
    /// From spawn to the first `/readyz` 200.
    pub started_in: Duration,
}

fn free_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

impl Server {
    /// Starts the release binary on `database_url` with the per-tenant
    /// fair share and timeouts lifted (the bench is one tenant's load), and
    /// waits until it is ready.
    pub async fn start(binary: &Path, database_url: &str, settings: &[(&str, &str)]) -> Server {
        let addr = free_port();
        let started = Instant::now();
        let child = Command::new(binary)
            .arg("serve")
            .env("BOTMEM_DATABASE_URL", database_url)
            .env("BOTMEM_LISTEN", addr.to_string())
            .env("BOTMEM_JWT_SECRET", SECRET)
            .env("BOTMEM_TENANT_REQUESTS_PER_SEC", "1000000")
            .env("BOTMEM_TENANT_BURST", "1000000")
            .env("BOTMEM_TENANT_MAX_CONCURRENT", "100000")
            .env("BOTMEM_REQUEST_TIMEOUT_SECS", "3600")
            .env("BOTMEM_DB_STATEMENT_TIMEOUT_SECS", "3600")
            .env("BOTMEM_JANITOR", "off")
            .env("RUST_LOG", "warn")
            .envs(settings.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("botmem starts");
        let pid = child.id().expect("a pid");
        let mut server = Server {
            child,
            pid,
            addr,
            started_in: Duration::ZERO,
        };
        server.wait_ready().await;
        server.started_in = started.elapsed();
        server
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("botmem exited before it was ready: {status}");
            }
            if crate::load::get_status(self.addr, "/readyz").await == Some(200) {
                return;
            }
            assert!(Instant::now() < deadline, "botmem not ready after 60 s");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// user + system CPU of the server so far.
    pub fn cpu(&self) -> Duration {
        process_cpu(self.pid)
    }

    /// Resident set size, in bytes.
    pub fn rss(&self) -> u64 {
        self.status_bytes("VmRSS:")
    }

    /// The anonymous part of the RSS (heap, stacks): the RSS less the
    /// binary's code and data pages (~19 MB already at start).
    pub fn rss_anon(&self) -> u64 {
        self.status_bytes("RssAnon:")
    }

    fn status_bytes(&self, field: &str) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// CPU ticks are 1/100 s on Linux (`getconf CLK_TCK`).
fn process_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// CPU of every `postgres` process (the database's share of a request).
pub fn postgres_cpu() -> Duration {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(process_cpu)
        .sum()
}

/// The release binary next to this one.
pub fn botmem_binary() -> PathBuf {
    let me = std::env::current_exe().expect("own path");
    me.with_file_name("botmem")
}

/// A token for tenant `bench` from `botmem token`.
pub async fn token(binary: &Path) -> String {
    let out = Command::new(binary)
        .args([
            "token", "--tenant", "bench", "--role", "admin", "--ttl", "7d",
        ])
        .env("BOTMEM_JWT_SECRET", SECRET)
        .env("RUST_LOG", "error")
        .output()
        .await
        .expect("botmem token");
    assert!(out.status.success(), "botmem token failed");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}
