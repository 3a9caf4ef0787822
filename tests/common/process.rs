//! The real `botmem` binary as a child process, for what an in-process
//! server cannot show: a killed process, the process's own memory.
#![allow(dead_code)]
use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use super::SECRET;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `botmem serve` on `database_url` and `port`, with the janitor off and
/// `settings` (pairs of `BOTMEM_*` variables) on top.
pub fn spawn_botmem(database_url: &str, port: u16, settings: &[(&str, &str)]) -> Botmem {
    spawn_botmem_logging(database_url, port, settings, Stdio::null())
}

/// Like [`spawn_botmem`], with the process's log (stderr) going to `log`.
pub fn spawn_botmem_logging(
    database_url: &str,
    port: u16,
    settings: &[(&str, &str)],
    log: impl Into<Stdio>,
) -> Botmem {
    let mut command = Command::new(env!("CARGO_BIN_EXE_botmem"));
    // Only the settings below: not the test harness's BOTMEM_TEST_* variables.
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("BOTMEM_")) {
        command.env_remove(key);
    }
    command
        .arg("serve")
        .env("BOTMEM_DATABASE_URL", database_url)
        .env("BOTMEM_JWT_SECRET", SECRET)
        .env("BOTMEM_LISTEN", format!("127.0.0.1:{port}"))
        .env("BOTMEM_JANITOR", "off")
        .envs(settings.iter().copied())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map(Botmem)
        .expect("botmem binary starts")
}

/// A `botmem` child process, killed when dropped: a failing test must not
/// leave a server running on its database.
pub struct Botmem(Child);

impl std::ops::Deref for Botmem {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Botmem {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Botmem {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn wait_up(port: u16) {
    for _ in 0..200 {
        if reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("botmem did not start");
}

/// Resident memory of a process, in bytes (Linux).
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/PID/status");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib * 1024
}
