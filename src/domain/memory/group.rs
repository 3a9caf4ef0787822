//! Group commit: concurrent writes of one tenant share one transaction.
//!
//! A write that arrives while its tenant's previous group is committing
//! queues; the next group takes every queued write that touches none of
//! the memories or conversations an earlier write of the group touches
//! (those wait for the group after). The group's memories are locked and
//! loaded in one read; each write's operation runs in its caller's task,
//! on that write's memories only; the group then marks conversation
//! activity, saves every memory in one statement (which, on PostgreSQL,
//! also sends every event), and commits once. A database's cost per
//! transaction (round trips, the commit, SQLite's one write lock) is then
//! paid once per group, not once per write.
//!
//! Each write keeps its own outcome. One whose operation fails (a
//! compare-and-set conflict, bad input) or whose conversation has ended is
//! left out, and the others commit. If the group itself cannot commit (a
//! database error, or the variables quota, which only the saved rows can
//! tell), nothing of it commits, and each of its writes runs alone, as
//! though there were no group: the one at fault fails, the others succeed.
//! Events are staged write by write, so subscribers see them in the order
//! the writes took in the group, and groups commit one after the other.
//!
//! The group runs in a task of its own, so a caller that goes away (a
//! closed connection) fails no other write of the group.
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::{App, Conversation, Memories, Write, load, save, touch};
use crate::{
    error::{Error, Result},
    model::{ConversationId, OwnerKey, TenantId},
};

use super::Activity;

/// At most this many memories per group (the writes that would exceed it
/// wait for the next): it bounds the statements a group sends.
const MAX_GROUP_MEMORIES: usize = 128;

/// Each tenant's queue of writes; a tenant has an entry while a task
/// commits its groups.
#[derive(Default)]
pub(crate) struct Groups {
    lanes: Mutex<Lanes>,
}

#[derive(Default)]
struct Lanes {
    by_tenant: HashMap<TenantId, VecDeque<Queued>>,
    /// Writes in all queues.
    queued: usize,
    /// Groups committing now.
    in_flight: usize,
}

impl Lanes {
    fn report(&self) {
        crate::telemetry::write_groups(self.queued, self.in_flight);
    }
}

/// A write waiting for its group.
struct Queued {
    write: Arc<Write>,
    handout: oneshot::Sender<Handout>,
}

/// What a queued write gets when its group has loaded its memories.
enum Handout {
    Loaded(Loaded),
    /// Run alone: the group could not load.
    Alone,
}

struct Loaded {
    memories: Memories,
    /// Where the caller returns its memories once its operation succeeded
    /// (dropped when it failed).
    done: oneshot::Sender<Memories>,
    verdict: oneshot::Receiver<Verdict>,
}

enum Verdict {
    Committed(Memories, Vec<Conversation>),
    Refused(Error),
    /// The group did not commit: run alone.
    Alone,
}

/// How a write fared in a group.
pub(super) enum Joined<T> {
    Done(Result<(T, Memories, Vec<Conversation>)>),
    Alone,
}

impl App {
    /// Runs `op` as part of the tenant's next group commit.
    pub(super) async fn mutate_in_group<T>(
        &self,
        tenant: &TenantId,
        write: &Arc<Write>,
        op: &mut impl FnMut(&mut Memories) -> Result<T>,
    ) -> Joined<T> {
        let (handout, handed) = oneshot::channel();
        let queued = Queued {
            write: write.clone(),
            handout,
        };
        self.enqueue(tenant, queued);
        let Ok(Handout::Loaded(loaded)) = handed.await else {
            return Joined::Alone;
        };
        let mut memories = loaded.memories;
        let result = match op(&mut memories) {
            Ok(result) => result,
            Err(e) => return Joined::Done(Err(e)),
        };
        if loaded.done.send(memories).is_err() {
            // The group ended before it took the memories: nothing of
            // this write was saved.
            return Joined::Alone;
        }
        match loaded.verdict.await {
            Ok(Verdict::Committed(memories, touched)) => {
                Joined::Done(Ok((result, memories, touched)))
            }
            Ok(Verdict::Refused(e)) => Joined::Done(Err(e)),
            Ok(Verdict::Alone) => Joined::Alone,
            Err(_) => Joined::Done(Err(Error::internal(
                "a group commit ended without a verdict",
            ))),
        }
    }

    fn enqueue(&self, tenant: &TenantId, queued: Queued) {
        let mut lanes = self.groups.lanes.lock().unwrap_or_else(|e| e.into_inner());
        lanes.queued += 1;
        lanes.report();
        if let Some(lane) = lanes.by_tenant.get_mut(tenant) {
            lane.push_back(queued);
            return;
        }
        lanes
            .by_tenant
            .insert(tenant.clone(), VecDeque::from([queued]));
        // Not under the service's cancellation token: a group is request
        // work, and ends (commits or not) on its own within moments.
        let (app, tenant) = (self.clone(), tenant.clone());
        tokio::spawn(async move {
            while let Some(group) = app.next_group(&tenant) {
                app.commit_group(&tenant, group).await;
                let mut lanes = app.groups.lanes.lock().unwrap_or_else(|e| e.into_inner());
                lanes.in_flight -= 1;
                lanes.report();
            }
        });
    }

    /// The queued writes that go together next, in queue order; `None`
    /// (and the lane closed) when none is queued.
    fn next_group(&self, tenant: &TenantId) -> Option<Vec<Queued>> {
        let mut lanes = self.groups.lanes.lock().unwrap_or_else(|e| e.into_inner());
        let lane = lanes.by_tenant.get_mut(tenant)?;
        if lane.is_empty() {
            lanes.by_tenant.remove(tenant);
            return None;
        }
        let mut memories: BTreeSet<OwnerKey> = BTreeSet::new();
        let mut conversations: BTreeSet<ConversationId> = BTreeSet::new();
        let mut group = Vec::new();
        let mut later = VecDeque::new();
        while let Some(queued) = lane.pop_front() {
            let write = &queued.write;
            let fits = group.is_empty()
                || (memories.len() + write.wanted.len() <= MAX_GROUP_MEMORIES
                    && write.wanted.keys().all(|k| !memories.contains(k))
                    && write
                        .conversations
                        .keys()
                        .all(|c| !conversations.contains(c)));
            if fits {
                memories.extend(write.wanted.keys().copied());
                conversations.extend(write.conversations.keys().copied());
                group.push(queued);
            } else {
                later.push_back(queued);
            }
        }
        *lane = later;
        lanes.queued -= group.len();
        lanes.in_flight += 1;
        lanes.report();
        Some(group)
    }

    /// One transaction for `group`; every write of it gets its verdict.
    async fn commit_group(&self, tenant: &TenantId, group: Vec<Queued>) {
        let now = self.clock.now();
        let mut wanted = super::Wanted::new();
        for queued in &group {
            wanted.extend(queued.write.wanted.iter().map(|(k, v)| (*k, v.clone())));
        }
        let loaded = match self.store.begin(tenant).await {
            Ok(tx) => match load(&tx, &wanted, now).await {
                Ok(memories) => Some((tx, memories)),
                Err(e) => {
                    tracing::warn!(error = ?e, "a group commit could not load; its writes run alone");
                    None
                }
            },
            Err(e) => {
                tracing::warn!(error = ?e, "a group commit could not begin; its writes run alone");
                None
            }
        };
        let Some((mut tx, mut memories)) = loaded else {
            let writes = group.len();
            for queued in group {
                let _ = queued.handout.send(Handout::Alone);
            }
            crate::telemetry::write_group_ended(
                "alone",
                [("committed", 0), ("refused", 0), ("alone", writes)],
            );
            return;
        };
        let writes = group.len();
        // Hand each write its memories; they run their operations at once.
        let mut handed = Vec::with_capacity(group.len());
        for queued in group {
            let own: Memories = queued
                .write
                .wanted
                .keys()
                .filter_map(|k| memories.remove_entry(k))
                .collect();
            let (done, returned) = oneshot::channel();
            let (decide, verdict) = oneshot::channel();
            let loaded = Loaded {
                memories: own,
                done,
                verdict,
            };
            if queued.handout.send(Handout::Loaded(loaded)).is_ok() {
                handed.push((queued.write, returned, decide));
            }
        }
        let mut written = Vec::with_capacity(handed.len());
        for (write, returned, decide) in handed {
            // A write whose operation failed (or whose caller left) drops
            // its memories: nothing of it is saved.
            if let Ok(memories) = returned.await {
                written.push((write, memories, decide));
            }
        }
        let mut saved = Vec::with_capacity(written.len());
        let mut failed = None;
        for (write, memories, decide) in written {
            if failed.is_some() {
                saved.push((memories, vec![], decide));
                continue;
            }
            match touch(&mut tx, &write.conversations, Activity::Touch, now).await {
                Ok(touched) => saved.push((memories, touched, decide)),
                Err(Error::ConversationEnded) => {
                    let _ = decide.send(Verdict::Refused(Error::ConversationEnded));
                }
                Err(e) => {
                    failed = Some(e);
                    saved.push((memories, vec![], decide));
                }
            }
        }
        // The group's transaction ends here, before any write runs alone.
        let failed = match failed {
            Some(e) => {
                drop(tx);
                Some(e)
            }
            None => {
                let writes: Vec<(&Memories, &[Conversation])> =
                    saved.iter().map(|(m, t, _)| (m, t.as_slice())).collect();
                match save(&mut tx, &writes, Activity::Touch, now).await {
                    Ok(()) => tx.commit().await.err(),
                    Err(e) => {
                        drop(tx);
                        Some(e)
                    }
                }
            }
        };
        let (outcome, counts) = match &failed {
            None => (
                "committed",
                [
                    ("committed", saved.len()),
                    ("refused", writes - saved.len()),
                    ("alone", 0),
                ],
            ),
            Some(e) => {
                tracing::debug!(error = ?e, writes = saved.len(), "a group did not commit; its writes run alone");
                (
                    "alone",
                    [
                        ("committed", 0),
                        ("refused", writes - saved.len()),
                        ("alone", saved.len()),
                    ],
                )
            }
        };
        crate::telemetry::write_group_ended(outcome, counts);
        for (memories, touched, decide) in saved {
            let verdict = match failed {
                None => Verdict::Committed(memories, touched),
                Some(_) => Verdict::Alone,
            };
            let _ = decide.send(verdict);
        }
    }
}
