//! The seed's goroutine task pool, reproduced on stevedore.
//!
//! ```sh
//! cargo run --release --example taskpool                  # the seed's two jobs
//! cargo run --release --example taskpool -- --tasks 1000000 --workers 8
//! cargo run --release --example taskpool -- --tasks 100000 --workers 1000 --delay-us 1000
//! STEVEDORE_WORKER_THREADS=2 cargo run --release --example taskpool  # 2 worker threads
//! ```

#[path = "pool.rs"]
mod pool;

use clap::Parser;
use pool::Job;
use std::borrow::Cow;
use std::time::{Duration, Instant};

/// Run a pool of green-task workers over a bounded jobs channel.
#[derive(Parser, Debug)]
#[command(name = "taskpool")]
struct Args {
    /// Number of jobs; without it, the seed's two jobs (2 s and 1 s) run.
    #[arg(long)]
    tasks: Option<u64>,
    /// Number of workers.
    #[arg(long, default_value_t = 3)]
    workers: usize,
    /// Per-job delay in microseconds (with --tasks).
    #[arg(long, default_value_t = 0)]
    delay_us: u64,
    /// Capacity of the jobs and results channels.
    #[arg(long, default_value_t = 1024)]
    cap: usize,
    /// Print every result even for large runs.
    #[arg(long)]
    verbose: bool,
}

/// Runs as a task on a runtime with one worker thread per CPU, or
/// `STEVEDORE_WORKER_THREADS` of them.
#[stevedore::main]
async fn main() {
    let args = Args::parse();

    let jobs: Vec<Job> = match args.tasks {
        None => vec![
            Job {
                id: 1,
                name: Cow::Borrowed("Task 1"),
                delay: Duration::from_secs(2),
            },
            Job {
                id: 2,
                name: Cow::Borrowed("Task 2"),
                delay: Duration::from_secs(1),
            },
        ],
        Some(n) => (1..=n)
            .map(|id| Job {
                id,
                name: Cow::Borrowed("job"),
                delay: Duration::from_micros(args.delay_us),
            })
            .collect(),
    };
    let count = jobs.len() as u64;
    let print_each = args.verbose || count <= 20;

    let start = Instant::now();
    // The pool runs in a task, as Go's main goroutine does.
    let pool = stevedore::spawn(pool::run(jobs, args.workers, args.cap, move |r| {
        if print_each {
            println!(
                "worker {} finished {} ({}) at {:.3?}",
                r.worker, r.name, r.id, r.finished_at
            );
        }
    }));
    let done = pool.await.expect("the pool task does not panic");
    let elapsed = start.elapsed();
    assert_eq!(done as u64, count, "every job produced one result");
    println!(
        "tasks={count} workers={} elapsed={elapsed:.3?} ns/task={:.0}",
        args.workers,
        elapsed.as_nanos() as f64 / count.max(1) as f64
    );
}
