//! The SQLite writer: one task owns the only writing connection and commits queued write jobs in
//! groups — one transaction, a savepoint per job — answering each job only after its commit.

use crate::tx::{db_error, Tx};
use bx_wire::ApiError;
use futures::future::BoxFuture;
use futures::FutureExt;
use sqlx::{Connection, SqliteConnection};
use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Jobs per transaction: bounds the latency a job waits for the others of its group and the
/// work lost when a group has to be rolled back as a whole.
const MAX_GROUP: usize = 64;
/// Queued jobs before `write` waits for room (backpressure instead of unbounded memory).
const QUEUE: usize = 1024;

pub(crate) type AnyBox = Box<dyn Any + Send>;
type RunFn = Box<dyn for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, Result<AnyBox, ApiError>> + Send>;
type Reply = oneshot::Sender<Result<AnyBox, ApiError>>;

struct Job {
    run: RunFn,
    reply: Reply,
}

/// The handle `Store` keeps: the queue into the writer task and the task itself.
pub(crate) struct Writer {
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    /// Transactions committed or rolled back so far (tests check that jobs were grouped).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) groups: Arc<AtomicU64>,
}

fn erase<T, F>(f: F) -> RunFn
where
    F: for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, Result<T, ApiError>> + Send + 'static,
    T: Send + 'static,
{
    Box::new(move |tx: &mut Tx| {
        let fut = f(tx);
        async move { fut.await.map(|v| Box::new(v) as AnyBox) }.boxed()
    })
}

impl Writer {
    pub(crate) fn start(conn: SqliteConnection) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let groups = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(run(rx, Tx::sqlite_writer(conn), groups.clone()));
        Writer {
            queue: Mutex::new(Some(tx)),
            task: Mutex::new(Some(task)),
            groups,
        }
    }

    /// Queues `f` and waits until its group has committed (or it was rolled back).
    pub(crate) async fn submit<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, Result<T, ApiError>> + Send + 'static,
        T: Send + 'static,
    {
        let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(queue) = queue else {
            tracing::error!("write after the store was closed");
            return Err(ApiError::Internal);
        };
        let (reply, answer) = oneshot::channel();
        if queue
            .send(Job {
                run: erase(f),
                reply,
            })
            .await
            .is_err()
        {
            tracing::error!("the SQLite writer has stopped");
            return Err(ApiError::Internal);
        }
        match answer.await {
            Ok(Ok(v)) => Ok(*v.downcast::<T>().expect("a job answers with its own type")),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                tracing::error!("the SQLite writer dropped a job");
                Err(ApiError::Internal)
            }
        }
    }

    /// Stops taking jobs, lets the writer finish the queued ones, and waits for it.
    pub(crate) async fn close(&self) {
        drop(self.queue.lock().unwrap_or_else(|p| p.into_inner()).take());
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "the SQLite writer task failed");
            }
        }
    }
}

async fn run(mut rx: mpsc::Receiver<Job>, mut tx: Tx, groups: Arc<AtomicU64>) {
    let mut jobs = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.recv().await {
        jobs.push(first);
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        run_group(&mut tx, &mut jobs, &groups).await;
    }
    if let Err(e) = tx.into_writer_conn().close().await {
        db_error(e, "close");
    }
}

/// Runs `jobs` (draining it) in as few transactions as possible. Normally that is one; if the
/// transaction itself breaks (a savepoint cannot be rolled back, the commit fails), the jobs run
/// so far are answered with an error and the rest start over in a new transaction.
async fn run_group(tx: &mut Tx, jobs: &mut Vec<Job>, groups: &AtomicU64) {
    let mut pending = std::mem::take(jobs).into_iter().peekable();
    while pending.peek().is_some() {
        groups.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = tx.writer_control("BEGIN IMMEDIATE").await {
            // Another process holds the write lock past busy_timeout: fail this group only. The
            // ROLLBACK clears a transaction left open by a bug, so the next group can begin.
            db_error(e, "BEGIN IMMEDIATE");
            let _ = tx.writer_control("ROLLBACK").await;
            for job in pending {
                let _ = job.reply.send(Err(ApiError::Internal));
            }
            return;
        }
        let mut done: Vec<(Reply, Result<AnyBox, ApiError>)> = Vec::new();
        let mut broken = false;
        for job in pending.by_ref() {
            let (outcome, ok) = run_job(tx, job.run).await;
            done.push((job.reply, outcome));
            if !ok {
                broken = true;
                break;
            }
        }
        let committed = !broken
            && match tx.writer_control("COMMIT").await {
                Ok(()) => true,
                Err(e) => {
                    db_error(e, "COMMIT");
                    false
                }
            };
        if !committed {
            if let Err(e) = tx.writer_control("ROLLBACK").await {
                // Expected when SQLite already rolled the transaction back itself.
                tracing::debug!(error = %e, "ROLLBACK after a broken group");
            }
        }
        for (reply, outcome) in done {
            let outcome = if committed {
                outcome
            } else {
                Err(ApiError::Internal)
            };
            // The caller may have gone away (request cancelled); the work is committed anyway.
            let _ = reply.send(outcome);
        }
    }
}

/// Runs one job inside its savepoint. Returns its outcome, and false when the savepoint could not
/// be released or rolled back, which leaves the whole transaction in doubt.
async fn run_job(tx: &mut Tx, run: RunFn) -> (Result<AnyBox, ApiError>, bool) {
    if let Err(e) = tx.writer_control("SAVEPOINT job").await {
        return (Err(db_error(e, "SAVEPOINT")), false);
    }
    tx.clear_poison();
    let outcome = match AssertUnwindSafe(run(tx)).catch_unwind().await {
        Ok(Ok(v)) if !tx.poisoned() => Ok(v),
        // The job swallowed a database error: its changes are not to be trusted.
        Ok(Ok(_)) => Err(ApiError::Internal),
        Ok(Err(e)) => Err(e),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %msg, "a write job panicked; its changes are rolled back");
            Err(ApiError::Internal)
        }
    };
    tx.clear_poison();
    let mut end = Ok(());
    if outcome.is_err() {
        end = tx.writer_control("ROLLBACK TO job").await;
    }
    if end.is_ok() {
        end = tx.writer_control("RELEASE job").await;
    }
    match end {
        Ok(()) => (outcome, true),
        Err(e) => {
            db_error(e, "ROLLBACK TO / RELEASE job");
            (outcome.and(Err(ApiError::Internal)), false)
        }
    }
}
