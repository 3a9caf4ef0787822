//! Drives the janitor: tokio-cron-scheduler runs a short dispatcher tick on
//! every replica; the database decides which replica sweeps which tenant
//! (see `App::dispatch_janitor`), so 100 000 tenants need one timer, not
//! 100 000. Stops with the process's cancellation token.
use std::{sync::Arc, time::Duration};

use tokio::sync::Mutex;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;

use crate::{
    domain::App,
    error::{Error, Result},
};

/// Starts the dispatcher; the returned task ends once `cancel` fires and
/// the scheduler has shut down.
pub async fn start(
    app: App,
    tick: Duration,
    cancel: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>> {
    let mut scheduler = JobScheduler::new().await.map_err(Error::internal)?;
    let ticker = Ticker {
        app: app.clone(),
        busy: Arc::new(Mutex::new(())),
        stop: cancel.clone(),
    };
    let on_schedule = ticker.clone();
    let job = Job::new_repeated_async(tick, move |_, _| {
        let ticker = on_schedule.clone();
        Box::pin(async move { ticker.tick().await })
    })
    .map_err(Error::internal)?;
    // A manual clock (tests) also ticks whenever it is moved.
    let clock = app.clock().clone();
    let on_advance = ticker.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = on_advance.stop.cancelled() => return,
                () = clock.advanced() => on_advance.tick().await,
            }
        }
    });
    scheduler.add(job).await.map_err(Error::internal)?;
    scheduler.start().await.map_err(Error::internal)?;
    Ok(tokio::spawn(async move {
        cancel.cancelled().await;
        if let Err(e) = scheduler.shutdown().await {
            tracing::warn!(error = %e, "janitor scheduler did not shut down cleanly");
        }
    }))
}

/// One dispatcher tick, shared by the schedule and the manual clock.
#[derive(Clone)]
struct Ticker {
    app: App,
    /// Ticks can overlap (tokio-cron-scheduler starts one per period): a
    /// tick that finds the previous one still sweeping simply skips.
    busy: Arc<Mutex<()>>,
    stop: CancellationToken,
}

impl Ticker {
    async fn tick(&self) {
        let Ok(_running) = self.busy.try_lock() else {
            return;
        };
        tokio::select! {
            // Dropping a sweep mid-batch rolls that batch back; the
            // tenant's lease runs out and the next sweep finishes.
            _ = self.stop.cancelled() => {}
            outcome = self.app.dispatch_janitor() => {
                if let Err(e) = outcome {
                    tracing::error!(error = %e.operator_message(), "janitor dispatch failed");
                }
                crate::telemetry::janitor_tick();
            }
        }
    }
}
