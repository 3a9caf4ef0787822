//! Gives freed heap back to the operating system once the server is quiet.
//!
//! glibc's malloc keeps an arena for each thread that allocates (sqlx gives
//! every SQLite connection a thread) and returns little of what is freed,
//! so an idle server's RSS stayed near its peak: 40–70 MB after the bench's
//! load, against 21 MB after start. `malloc_trim` hands free pages back. It
//! runs once after each quiet spell, so a busy server never pays for it and
//! an idle one pays once. (mimalloc, which returns memory by itself, was
//! tried instead: its RSS was higher still; bench/RESULTS.md.)
use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use tokio_util::sync::CancellationToken;

/// Requests seen so far (only ever compared with an earlier reading).
static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// How long the server goes without a request before its heap is trimmed.
const QUIET: Duration = Duration::from_millis(500);

/// Counts a request: a trim waits for a spell with none.
pub fn note_request() {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
}

/// Trims the heap after every spell of [`QUIET`] that follows requests,
/// until `cancel`.
pub async fn trim_when_quiet(cancel: CancellationToken) {
    let mut seen = REQUESTS.load(Ordering::Relaxed);
    let mut trimmed = true;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(QUIET) => {}
        }
        let now = REQUESTS.load(Ordering::Relaxed);
        if now != seen {
            (seen, trimmed) = (now, false);
        } else if !trimmed {
            // It walks every arena under its lock: not on a runtime thread.
            let _ = tokio::task::spawn_blocking(trim).await;
            trimmed = true;
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only releases free memory of the allocator's own
    // arenas; it takes no pointers and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
