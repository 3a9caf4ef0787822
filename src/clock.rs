//! Time comes from here, never from `Utc::now()` elsewhere, so tests can move
//! time (expiry, session timeout, janitor) instead of sleeping.
use std::sync::{Arc, Mutex};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

#[derive(Clone)]
pub struct Clock(Arc<Source>);

enum Source {
    System,
    Manual(Mutex<DateTime<Utc>>),
}

impl Clock {
    pub fn system() -> Self {
        Clock(Arc::new(Source::System))
    }

    /// A clock that stands still until [`Clock::advance`] moves it.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Clock(Arc::new(Source::Manual(Mutex::new(truncate(start)))))
    }

    /// Now, truncated to microseconds: what PostgreSQL stores, so a value
    /// read back compares equal to the one written on both databases.
    pub fn now(&self) -> DateTime<Utc> {
        match &*self.0 {
            Source::System => truncate(Utc::now()),
            Source::Manual(now) => *now.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a manual clock forward. A system clock cannot be moved; calling
    /// this on one is a programming error in a test.
    pub fn advance(&self, by: TimeDelta) {
        match &*self.0 {
            Source::System => panic!("the system clock cannot be advanced"),
            Source::Manual(now) => {
                let mut now = now.lock().unwrap_or_else(|e| e.into_inner());
                *now = truncate(*now + by);
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
