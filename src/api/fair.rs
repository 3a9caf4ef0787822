//! Fair share between tenants on one replica: a request rate (GCRA, from
//! `governor`) and a cap on requests in flight, both per tenant. Over the
//! rate, a request gets `RATE_LIMITED` at once (HTTP 429, `Retry-After`).
//! Over the in-flight cap it waits in its own tenant's queue, holding no
//! database connection, and gets `RATE_LIMITED` if no slot frees in time:
//! a tenant's flood queues behind itself, never in front of other tenants
//! for the database pool. Keep the cap below the pool size.
use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock as _};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{error::Error, model::TenantId};

pub struct Fairness {
    rate: DefaultKeyedRateLimiter<TenantId>,
    queues: Arc<Mutex<HashMap<TenantId, Arc<Semaphore>>>>,
    max_in_flight: usize,
    max_wait: Duration,
}

impl Fairness {
    pub fn new(per_sec: u32, burst: u32, max_in_flight: usize, max_wait: Duration) -> Fairness {
        let per_sec = NonZeroU32::new(per_sec).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(per_sec);
        Fairness {
            rate: RateLimiter::keyed(Quota::per_second(per_sec).allow_burst(burst)),
            queues: Default::default(),
            max_in_flight,
            max_wait,
        }
    }

    /// Admits one request of `tenant`, waiting behind its other requests
    /// for at most the configured time. The slot frees itself when dropped.
    pub async fn admit(&self, tenant: &TenantId) -> Result<InFlight, Error> {
        self.check_rate(tenant)?;
        let queue = {
            let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
            queues
                .entry(tenant.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.max_in_flight)))
                .clone()
        };
        let permit = tokio::time::timeout(self.max_wait, queue.clone().acquire_owned()).await;
        // Built either way, so a refused waiter also cleans up the queue.
        let mut in_flight = InFlight {
            permit: None,
            queue,
            queues: self.queues.clone(),
            tenant: tenant.clone(),
        };
        match permit {
            Ok(Ok(permit)) => {
                in_flight.permit = Some(permit);
                Ok(in_flight)
            }
            _ => Err(Error::RateLimited {
                message: format!(
                    "this tenant had {} requests in flight on this replica for {} ms; retry shortly",
                    self.max_in_flight,
                    self.max_wait.as_millis()
                ),
                retry_after: Duration::from_secs(1),
            }),
        }
    }

    /// Counts one operation against the rate only (a WebSocket `subscribe`).
    pub fn check_rate(&self, tenant: &TenantId) -> Result<(), Error> {
        self.rate.check_key(tenant).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            Error::RateLimited {
                message: "this tenant is over its request rate; retry later".into(),
                retry_after: wait,
            }
        })
    }

    /// Forgets tenants whose rate state is back to full; called now and
    /// then so the map does not keep every tenant ever seen.
    pub fn forget_idle(&self) {
        self.rate.retain_recent();
        self.rate.shrink_to_fit();
    }
}

/// Every minute until `cancel`, drops rate state of idle tenants.
pub async fn forget_idle_tenants(fair: Arc<Fairness>, cancel: tokio_util::sync::CancellationToken) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = every.tick() => fair.forget_idle(),
        }
    }
}

/// A request's place among its tenant's requests in flight. The last one
/// out removes the tenant's queue, so idle tenants cost nothing.
pub struct InFlight {
    permit: Option<OwnedSemaphorePermit>,
    queue: Arc<Semaphore>,
    queues: Arc<Mutex<HashMap<TenantId, Arc<Semaphore>>>>,
    tenant: TenantId,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.permit.take();
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        // Two holders: this one and the map. No one else waits or runs.
        if Arc::strong_count(&self.queue) == 2 {
            queues.remove(&self.tenant);
        }
    }
}

/// How many of something (requests, WebSocket connections) each tenant
/// has open on this replica.
#[derive(Default)]
pub struct TenantCounts(Mutex<HashMap<TenantId, usize>>);

impl TenantCounts {
    pub fn acquire(self: &Arc<Self>, tenant: &TenantId, limit: usize) -> Option<TenantSlot> {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(tenant.clone()).or_default();
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(TenantSlot {
            counts: self.clone(),
            tenant: tenant.clone(),
        })
    }
}

/// One counted thing; dropping it frees the slot.
pub struct TenantSlot {
    counts: Arc<TenantCounts>,
    tenant: TenantId,
}

impl Drop for TenantSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.tenant) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.tenant);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tenant_over_its_limits_does_not_limit_another() {
        let fair = Fairness::new(1, 3, 2, Duration::from_millis(20));
        let a = TenantId::parse("a").unwrap();
        let b = TenantId::parse("b").unwrap();
        let first = fair.admit(&a).await.unwrap();
        let _second = fair.admit(&a).await.unwrap();
        // The third waits for a slot, and gives up.
        assert_eq!(fair.admit(&a).await.err().unwrap().code(), "RATE_LIMITED");
        assert!(fair.admit(&b).await.is_ok());
        drop(first);
        // A slot is free again, but the burst of 3 is spent.
        match fair.admit(&a).await {
            Err(Error::RateLimited { retry_after, .. }) => assert!(retry_after > Duration::ZERO),
            other => panic!("expected the rate limit, got {:?}", other.err()),
        }
    }

    #[tokio::test]
    async fn a_waiting_request_gets_the_freed_slot_and_idle_tenants_are_forgotten() {
        let fair = Arc::new(Fairness::new(1000, 1000, 1, Duration::from_secs(5)));
        let a = TenantId::parse("a").unwrap();
        let first = fair.admit(&a).await.unwrap();
        let waiter = tokio::spawn({
            let (fair, a) = (fair.clone(), a.clone());
            async move { fair.admit(&a).await.map(drop).is_ok() }
        });
        tokio::task::yield_now().await;
        drop(first);
        assert!(waiter.await.unwrap());
        assert!(fair.queues.lock().unwrap().is_empty());
    }
}
