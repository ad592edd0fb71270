//! A runtime's worker on the task table: claims due rows, feeds them to the pools, holds their
//! leases, and stores their results.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use super::held::Held;
use super::settle::{Settled, Settler};
use super::submit::{Due, insert};
use super::{Error, Postgres, Wake};
use crate::lease::{AttemptResult, Lease};
use crate::pools::Pools;
use crate::registry::Registry;
use crate::sync::lock;

/// One process's worker. Its id owns the leases it takes.
pub(crate) struct Worker {
    pg: Postgres,
    id: i64,
    registry: &'static Registry,
    /// The task ids this binary runs: a process claims only what it can run.
    tasks: Vec<String>,
    /// The rows claimed and not yet settled in the database: what the heartbeat renews, and
    /// how many the claimer may still take (see [`Held`]).
    held: Arc<Mutex<Held>>,
    /// Told when settled tasks make room for more.
    room: Arc<Notify>,
    stop: watch::Sender<bool>,
    running: Mutex<Running>,
}

#[derive(Default)]
struct Running {
    claimer: Option<JoinHandle<()>>,
    /// The settler, with the heartbeat beside it: leases are renewed until the last result is
    /// stored, which is when the settler ends.
    settler: Option<JoinHandle<()>>,
}

/// A claimed row.
type Claimed = (i64, String, String, i32, Option<i64>, Option<String>);

impl Worker {
    pub(crate) fn new(pg: Postgres, registry: &'static Registry) -> Arc<Self> {
        Arc::new(Self {
            pg,
            // Random, not the pid: pids repeat across machines and restarts.
            id: fastrand::i64(1..i64::MAX),
            registry,
            // Each task once: a task with variants has a function per variant under one id.
            tasks: (0..registry.tasks().len())
                .filter(|&index| registry.task_of(index) == index)
                .map(|index| registry.tasks()[index].id().to_owned())
                .collect(),
            held: Arc::default(),
            room: Arc::default(),
            stop: watch::Sender::new(false),
            running: Mutex::default(),
        })
    }

    /// Starts claiming, once the runtime is warm.
    pub(crate) fn start(self: &Arc<Self>, pools: Weak<Pools>) {
        let (settle, settled) = mpsc::unbounded_channel();
        let settler = Settler {
            pg: self.pg.clone(),
            worker: self.id,
            registry: self.registry,
            room: self.room.clone(),
            held: self.held.clone(),
        };
        let mut running = lock(&self.running);
        if running.claimer.is_some() || *self.stop.borrow() {
            return;
        }
        let (heartbeat, prune) = (self.clone().heartbeat(), self.clone().prune());
        running.settler = Some(tokio::spawn(async move {
            tokio::select! {
                () = settler.run(settled) => {}
                () = heartbeat => {}
                () = prune => {}
            }
        }));
        running.claimer = Some(tokio::spawn(self.clone().claim_loop(pools, settle)));
        tracing::info!(worker = self.id, "claiming tasks from postgres");
    }

    /// Stops claiming; what was claimed still runs and settles. A claimer stuck on the
    /// database is stopped after `patience`: rows it claimed without handing them on are not
    /// held, so their leases run out and they run elsewhere.
    pub(crate) async fn stop_claiming(&self, patience: Duration) {
        self.stop.send_replace(true);
        let claimer = lock(&self.running).claimer.take();
        if let Some(mut claimer) = claimer
            && tokio::time::timeout(patience, &mut claimer).await.is_err()
        {
            claimer.abort();
        }
    }

    /// After the pools stopped: stores every result (their leases have all settled or dropped
    /// by now), stops the heartbeat and gives back anything still leased (results the deadline
    /// cut off; their attempts count, since they may have run).
    pub(crate) async fn finish(&self, deadline: tokio::time::Instant) {
        let settler = lock(&self.running).settler.take();
        if let Some(mut settler) = settler
            && tokio::time::timeout_at(deadline, &mut settler).await.is_err()
        {
            tracing::warn!("postgres: results not all stored by the shutdown deadline; their tasks will run again");
            settler.abort();
        }
        let released = sqlx::query(
            "UPDATE preheat_tasks SET state = 'ready', run_at = now(), lease_owner = NULL
             WHERE lease_owner = $1 AND state = 'running'",
        )
        .bind(self.id)
        .execute(self.pg.worker_pool());
        // Bounded like the rest of the shutdown: without it, the leases simply run out.
        match tokio::time::timeout_at(deadline, released).await {
            Ok(Ok(done)) if done.rows_affected() > 0 => {
                tracing::info!(tasks = done.rows_affected(), "postgres: leases given back at shutdown");
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "postgres: leases not given back; they expire instead"),
            Err(_) => tracing::warn!("postgres: leases not given back by the deadline; they expire instead"),
        }
    }

    /// Submits a schedule's tick under a key every process computes alike, so one run happens
    /// per tick however many processes tick.
    pub(crate) fn submit_tick(self: &Arc<Self>, task: usize, tick: u64) {
        let this = self.clone();
        // Each tick is the root of a trace of its own, as with a local schedule.
        #[cfg(feature = "otel")]
        let traceparent = crate::trace::scoped(crate::trace::Parent::Root, || {
            super::submit::traceparent(self.registry.tasks()[task].id())
        });
        #[cfg(not(feature = "otel"))]
        let traceparent: Option<String> = None;
        tokio::spawn(async move {
            let id = this.registry.tasks()[task].id();
            let key = format!("schedule:{id}@{tick}");
            let starts_flow = !this.registry.downstream(task).is_empty();
            let submitted = async {
                let mut conn = this.pg.worker_pool().acquire().await?;
                insert(
                    &mut conn,
                    id,
                    "null",
                    Due::After(Duration::ZERO),
                    Some(&key),
                    None,
                    starts_flow,
                    traceparent.as_deref(),
                )
                .await
            };
            if let Err(error) = submitted.await {
                tracing::warn!(task = id, tick, %error, "schedule tick not submitted");
            }
        });
    }

    async fn claim_loop(self: Arc<Self>, pools: Weak<Pools>, settle: mpsc::UnboundedSender<Settled>) {
        let settings = &self.pg.settings;
        let poll = settings.wake.poll_interval();
        let mut stop = self.stop.subscribe();
        let mut listener = None;
        loop {
            // A runtime dropped without a shutdown: stop taking work nobody can run.
            if *stop.borrow() || pools.strong_count() == 0 {
                return;
            }
            if listener.is_none() && matches!(settings.wake, Wake::Listen { .. }) {
                listener = self.listen().await;
            }
            let room = settings.max_in_flight.saturating_sub(lock(&self.held).claims());
            if room == 0 {
                tokio::select! {
                    _ = self.room.notified() => continue,
                    _ = stop.changed() => return,
                }
            }
            let want = room.min(settings.claim_batch as usize);
            let wait = match self.claim(want).await {
                Ok(rows) if rows.len() == want => {
                    self.dispatch(rows, &pools, &settle);
                    continue;
                }
                Ok(rows) => {
                    self.dispatch(rows, &pools, &settle);
                    self.next_due().await.unwrap_or(poll).min(poll)
                }
                Err(error) => {
                    tracing::warn!(%error, "postgres: claim failed; trying again");
                    poll
                }
            };
            tokio::select! {
                _ = stop.changed() => return,
                _ = tokio::time::sleep(wait) => {}
                lost = notified(&mut listener) => if lost {
                    tracing::warn!("postgres: LISTEN connection lost; polling until it is back");
                    listener = None;
                    tokio::time::sleep(poll.min(Duration::from_millis(100))).await;
                },
            }
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let listener = async {
            // The channel of this table (see migration 0002): the schema's, not every schema's.
            let channel: String = sqlx::query_scalar("SELECT 'preheat_tasks_' || 'preheat_tasks'::regclass::oid::text")
                .fetch_one(self.pg.worker_pool())
                .await?;
            let mut listener = PgListener::connect_with(self.pg.worker_pool()).await?;
            listener.listen(&channel).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match listener.await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(%error, "postgres: LISTEN failed; polling");
                None
            }
        }
    }

    /// Claims up to `rows` due rows: ready ones, and running ones whose lease ran out.
    async fn claim(&self, rows: usize) -> Result<Vec<Claimed>, Error> {
        let lease_ms = self.pg.settings.lease.as_millis() as i64;
        Ok(sqlx::query_as(
            "WITH due AS (
                 SELECT id FROM preheat_tasks
                 WHERE state IN ('ready', 'running') AND run_at <= now() AND task = ANY($1)
                 ORDER BY run_at
                 LIMIT $2
                 FOR UPDATE SKIP LOCKED)
             UPDATE preheat_tasks t
             SET state = 'running', attempt = t.attempt + 1, lease_owner = $3,
                 run_at = now() + $4 * interval '1 millisecond', started_at = now()
             FROM due WHERE t.id = due.id
             RETURNING t.id, t.task, t.input::text, t.attempt, t.flow_id, t.traceparent",
        )
        .bind(&self.tasks)
        .bind(rows as i64)
        .bind(self.id)
        .bind(lease_ms)
        .fetch_all(self.pg.worker_pool())
        .await?)
    }

    /// How long until the next row is due (a delayed task, a retry, a lease running out).
    async fn next_due(&self) -> Result<Duration, Error> {
        let seconds: Option<f64> = sqlx::query_scalar(
            "SELECT extract(epoch FROM min(run_at) - now())::float8 FROM preheat_tasks
             WHERE state IN ('ready', 'running') AND task = ANY($1)",
        )
        .bind(&self.tasks)
        .fetch_one(self.pg.worker_pool())
        .await?;
        // Due already but locked by another worker's claim: look again soon, without spinning.
        Ok(seconds.map_or(Duration::MAX, |seconds| Duration::from_secs_f64(seconds.max(0.005))))
    }

    /// Hands each claimed row to its task's pool, with a lease that reports to the settler.
    fn dispatch(&self, rows: Vec<Claimed>, pools: &Weak<Pools>, settle: &mpsc::UnboundedSender<Settled>) {
        lock(&self.held).take(rows.iter().map(|row| row.0));
        let pools = pools.upgrade();
        for (id, task, input, attempt, flow, traceparent) in rows {
            let attempt = u32::try_from(attempt).unwrap_or(u32::MAX);
            let Some(index) = self.registry.index_of_id(&task) else {
                unreachable!("only this binary's tasks are claimed")
            };
            let settle = settle.clone();
            let kept = traceparent.clone();
            let report = move |result| {
                // The settler outlives every lease (it stops when all are dropped).
                let _ = settle.send(Settled { id, task: index, attempt, flow, traceparent: kept, result });
            };
            let max_attempts = self.registry.tasks()[index].meta().retry.max_attempts;
            if attempt > max_attempts {
                report(AttemptResult::Failed {
                    error: format!(
                        "attempt {} did not finish: its worker died or was stopped (lease expired or given back)",
                        attempt - 1
                    ),
                    retryable: false,
                });
                continue;
            }
            let mut lease = Lease::new(attempt, flow, !self.registry.downstream(index).is_empty(), report);
            lease.traceparent = traceparent;
            // A row routes by its flow, else by itself: every process picks the same variant.
            let route = || crate::route::Route::new().or_key(Some(crate::route::stable_hash(&flow.unwrap_or(id))));
            match pools.as_ref().and_then(|pools| pools.pool_for(index, route)) {
                Some(pool) => pool.push_leased(&input, lease),
                // Shutting down: the row goes back, never started.
                None => lease.settle(AttemptResult::NotRun),
            }
        }
    }

    /// Renews the leases of the rows this worker holds, every third of the lease. Never
    /// returns: it stops with the settler it runs beside.
    async fn heartbeat(self: Arc<Self>) {
        let settings = &self.pg.settings;
        let mut beat = tokio::time::interval(settings.lease / 3);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            beat.tick().await;
            // Only rows it holds: one it lost track of (a claim whose reply never came) must run
            // out and be taken again. SKIP LOCKED: a row being settled needs no renewal, and a
            // heartbeat that never waits cannot deadlock with the settler.
            let held = lock(&self.held).ids();
            let renewed = sqlx::query(
                "UPDATE preheat_tasks SET run_at = now() + $3 * interval '1 millisecond'
                 WHERE id IN (SELECT id FROM preheat_tasks
                              WHERE id = ANY($1) AND lease_owner = $2 AND state = 'running'
                              FOR UPDATE SKIP LOCKED)",
            )
            .bind(&held)
            .bind(self.id)
            .bind(settings.lease.as_millis() as i64)
            .execute(self.pg.worker_pool())
            .await;
            if let Err(error) = renewed {
                tracing::warn!(%error, "postgres: heartbeat failed; leases run out if this lasts");
            }
        }
    }

    /// Deletes completed rows older than `keep_completed`, once a minute, beside the heartbeat
    /// rather than in its loop, so a slow delete never delays a renewal. Never returns.
    async fn prune(self: Arc<Self>) {
        let mut prune = tokio::time::interval(Duration::from_secs(60));
        loop {
            prune.tick().await;
            let pruned = sqlx::query(
                "DELETE FROM preheat_tasks WHERE id IN (
                     SELECT id FROM preheat_tasks
                     WHERE state = 'completed' AND finished_at < now() - $1 * interval '1 millisecond'
                     LIMIT 10000)",
            )
            .bind(self.pg.settings.keep_completed.as_millis() as i64)
            .execute(self.pg.worker_pool())
            .await;
            if let Err(error) = pruned {
                tracing::warn!(%error, "postgres: completed rows not pruned");
            }
        }
    }
}

/// Waits for a notification; `true` if the connection was lost. Never returns without one.
async fn notified(listener: &mut Option<PgListener>) -> bool {
    match listener {
        Some(listener) => {
            let lost = listener.recv().await.is_err();
            // One claim answers every insert so far: drop the notifications already read.
            while listener.next_buffered().is_some() {}
            lost
        }
        None => std::future::pending().await,
    }
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("id", &self.id).finish_non_exhaustive()
    }
}
