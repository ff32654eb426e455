//! The goroutine task pool on stevedore (shared by `examples/taskpool` and
//! `benches/taskpool.rs`).
//!
//! One producer task per job sends it into a bounded `jobs` channel; a fixed
//! set of workers receive jobs, sleep for the job's delay (a timer, not a
//! thread sleep) and send a result. The seed closed `results` when the
//! *producers* were done, so a worker still holding a result could send on a
//! closed channel. Here a WaitGroup over the *workers* closes it instead.
//!
//! A feeder task spawns the producers, so the caller starts draining results
//! at once instead of after the last spawn (with 100,000 producers and a
//! 1024-slot results channel, the workers would otherwise stall on a full
//! results channel while the spawn loop runs).

use std::borrow::Cow;
use std::time::{Duration, Instant};
use stevedore::{chan, spawn, sync::WaitGroup, time};

/// One unit of work.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: u64,
    pub(crate) name: Cow<'static, str>,
    pub(crate) delay: Duration,
}

/// What a worker reports for a job.
#[derive(Debug)]
pub(crate) struct JobResult {
    pub(crate) id: u64,
    pub(crate) name: Cow<'static, str>,
    pub(crate) worker: usize,
    /// Time from the start of the run until the job finished.
    pub(crate) finished_at: Duration,
}

/// Runs `jobs` through `workers` workers over a `cap`-sized jobs channel and
/// calls `on_result` for every result, in completion order. Returns the
/// number of results.
pub(crate) async fn run(
    jobs: impl IntoIterator<Item = Job, IntoIter: Send + 'static>,
    workers: usize,
    cap: usize,
    mut on_result: impl FnMut(JobResult),
) -> usize {
    let start = Instant::now();
    let (jobs_tx, jobs_rx) = chan::bounded::<Job>(cap);
    let (results_tx, results_rx) = chan::bounded::<JobResult>(cap);

    let workers_done = WaitGroup::new();
    for worker in 0..workers {
        let (jobs_rx, results_tx) = (jobs_rx.clone(), results_tx.clone());
        workers_done.spawn(async move {
            while let Some(job) = jobs_rx.recv().await {
                if !job.delay.is_zero() {
                    time::sleep(job.delay).await;
                }
                let result = JobResult {
                    id: job.id,
                    name: job.name,
                    worker,
                    finished_at: start.elapsed(),
                };
                // Cannot fail: results closes only after every worker is done.
                results_tx.send(result).await.expect("results closed early");
            }
        });
    }
    drop(jobs_rx);

    // The fix: close `results` once the workers (not the producers) finish.
    spawn(async move {
        workers_done.wait().await;
        results_tx.close();
    });

    // One producer per job, spawned by a feeder. The jobs channel closes
    // when the last producer drops its sender, which ends the workers'
    // receive loops.
    // The feeder yields every 1024 spawns so a long spawn loop does not
    // monopolise its worker.
    let jobs = jobs.into_iter();
    spawn(async move {
        for (i, job) in jobs.enumerate() {
            let jobs_tx = jobs_tx.clone();
            spawn(async move {
                jobs_tx.send(job).await.expect("jobs closed early");
            });
            if i % 1024 == 1023 {
                stevedore::yield_now().await;
            }
        }
    });

    let mut n = 0;
    while let Some(result) = results_rx.recv().await {
        n += 1;
        on_result(result);
    }
    n
}
