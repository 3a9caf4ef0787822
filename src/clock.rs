//! Time comes from here, never from `Utc::now()` elsewhere, so tests can move
//! time (expiry, session timeout, janitor) instead of sleeping.
use std::sync::Arc;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

#[derive(Clone)]
pub struct Clock(Arc<Source>);

enum Source {
    System,
    /// A watch channel, so tasks sleeping on the clock wake when it moves.
    Manual(tokio::sync::watch::Sender<DateTime<Utc>>),
}

impl Clock {
    pub fn system() -> Self {
        Clock(Arc::new(Source::System))
    }

    /// A clock that stands still until [`Clock::advance`] moves it.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Clock(Arc::new(Source::Manual(tokio::sync::watch::Sender::new(
            truncate(start),
        ))))
    }

    /// Now, truncated to microseconds: what PostgreSQL stores, so a value
    /// read back compares equal to the one written on both databases.
    pub fn now(&self) -> DateTime<Utc> {
        match &*self.0 {
            Source::System => truncate(Utc::now()),
            Source::Manual(now) => *now.borrow(),
        }
    }

    /// Moves a manual clock forward. A system clock cannot be moved; calling
    /// this on one is a programming error in a test.
    pub fn advance(&self, by: TimeDelta) {
        match &*self.0 {
            Source::System => panic!("the system clock cannot be advanced"),
            Source::Manual(now) => now.send_modify(|now| *now = truncate(*now + by)),
        }
    }

    /// Resolves the next time [`Clock::advance`] moves a manual clock;
    /// never for the system clock. The janitor ticks on it, so a test that
    /// moves time sees the dispatcher act at once.
    pub async fn advanced(&self) {
        match &*self.0 {
            Source::System => std::future::pending().await,
            Source::Manual(now) => {
                let mut watch = now.subscribe();
                watch.mark_unchanged();
                let _ = watch.changed().await;
            }
        }
    }

    /// Resolves once the clock reads `at` or later: a timer for the system
    /// clock, a wait for [`Clock::advance`] for a manual one.
    pub async fn sleep_until(&self, at: DateTime<Utc>) {
        match &*self.0 {
            Source::System => {
                let left = (at - Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(left).await;
            }
            Source::Manual(now) => {
                let mut watch = now.subscribe();
                // The sender lives as long as `self`: this cannot fail.
                let _ = watch.wait_for(|now| *now >= at).await;
            }
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.0 {
            Source::System => f.write_str("Clock::System"),
            Source::Manual(_) => write!(f, "Clock::Manual({})", self.now()),
        }
    }
}

fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}
