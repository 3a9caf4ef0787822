//! The keys tokens are checked against. Fixed keys come from the
//! configuration; an identity provider's come from its JWKS URL
//! (`BOTMEM_JWT_JWKS_URL`), so keys it rotates are picked up without a
//! restart:
//! - fetched at start; if the provider is down then, botmem starts anyway
//!   and refuses tokens until a fetch succeeds;
//! - fetched again when a token names a key (`kid`) the set lacks, at most
//!   once per cooldown, since anyone can send such a token;
//! - fetched again in the background when the set is older than the
//!   refresh interval and a token arrives (an idle server fetches nothing);
//! - a failed fetch keeps the last good set, so an outage of the provider
//!   does not log everybody out.
//!
//! Times come from the injected clock, so tests move them.
use std::sync::{Arc, RwLock};

use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::Header;

use super::keys::{Key, parse_jwks};
use crate::{clock::Clock, config::Config, telemetry};

/// A JWKS document larger than this is refused: real ones are a few KiB.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;

#[derive(Clone)]
pub struct KeySet(Arc<Inner>);

struct Inner {
    current: RwLock<Arc<Vec<Key>>>,
    remote: Option<Remote>,
}

struct Remote {
    url: String,
    client: reqwest::Client,
    /// When the last fetch was tried; held while one runs, so concurrent
    /// tokens with an unknown `kid` cause one fetch, not one each.
    last_try: tokio::sync::Mutex<Option<DateTime<Utc>>>,
    refresh_every: TimeDelta,
    cooldown: TimeDelta,
}

impl KeySet {
    pub fn fixed(keys: Vec<Key>) -> KeySet {
        KeySet(Arc::new(Inner {
            current: RwLock::new(Arc::new(keys)),
            remote: None,
        }))
    }

    pub async fn remote(url: &str, config: &Config) -> Result<KeySet, String> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .user_agent(concat!("botmem/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the JWKS client: {e}"))?;
        let secs = |s: u64| TimeDelta::seconds(s.min(i64::MAX as u64 / 1000) as i64);
        let set = KeySet(Arc::new(Inner {
            current: RwLock::new(Arc::new(Vec::new())),
            remote: Some(Remote {
                url: url.to_owned(),
                client,
                last_try: tokio::sync::Mutex::new(None),
                refresh_every: secs(config.jwt_jwks_refresh_secs),
                cooldown: secs(config.jwt_jwks_cooldown_secs),
            }),
        }));
        set.fetch(config.clock.now(), None).await;
        Ok(set)
    }

    fn snapshot(&self) -> Arc<Vec<Key>> {
        self.0
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The keys to try on a token with this header, refreshed first if
    /// none of them fits it (within the cooldown).
    pub async fn for_token(&self, header: &Header, clock: &Clock) -> Arc<Vec<Key>> {
        let keys = self.snapshot();
        let Some(remote) = &self.0.remote else {
            return keys;
        };
        let now = clock.now();
        if keys.iter().any(|k| k.fits(header)) {
            let stale = remote
                .last_try
                .try_lock()
                .is_ok_and(|last| last.is_none_or(|t| now - t >= remote.refresh_every));
            if stale {
                let set = self.clone();
                tokio::spawn(async move { set.fetch(now, None).await });
            }
            return keys;
        }
        self.fetch(now, Some(remote.cooldown)).await;
        self.snapshot()
    }

    /// Fetches the document unless one was tried less than `cooldown` ago.
    async fn fetch(&self, now: DateTime<Utc>, cooldown: Option<TimeDelta>) {
        let Some(remote) = &self.0.remote else {
            return;
        };
        let mut last_try = remote.last_try.lock().await;
        if let (Some(cooldown), Some(last)) = (cooldown, *last_try)
            && now - last < cooldown
        {
            return;
        }
        *last_try = Some(now);
        let fetched = remote.fetch().await;
        telemetry::jwks_fetched(fetched.is_ok());
        match fetched {
            Ok(keys) => {
                tracing::debug!(url = %remote.url, keys = keys.len(), "fetched the JWKS");
                *self
                    .0
                    .current
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(keys);
            }
            Err(e) => tracing::error!(
                url = %remote.url,
                "cannot fetch the JWKS, keeping the last good keys: {e}"
            ),
        }
    }
}

impl Remote {
    async fn fetch(&self) -> Result<Vec<Key>, String> {
        let mut response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("the provider answered {}", response.status()));
        }
        let mut document = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading the answer failed: {e}"))?
        {
            document.extend_from_slice(&chunk);
            if document.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("the document exceeds {MAX_DOCUMENT_BYTES} bytes"));
            }
        }
        parse_jwks(&document, &self.url)
    }
}
