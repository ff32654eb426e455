//! The goroutine task pool, stevedore vs tokio vs smol, same group, same
//! parameters, same run. Every runtime has 2 worker threads and runs the
//! pool inside one spawned task (as Go's main goroutine does).
//!
//! * P1: 1,000,000 jobs, 8 workers, no delay, channel capacity 1024.
//! * P2: 100,000 jobs, 1,000 workers, 1 ms delay (ideal: 100 ms).
//! * P3: 100,000 tasks each sleeping 10 ms, joined (stevedore: WaitGroup).
//!
//! `cargo bench --bench taskpool`

#[path = "../examples/taskpool/pool.rs"]
#[allow(dead_code)]
mod pool;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

const THREADS: usize = 2;

struct Shape {
    name: &'static str,
    jobs: u64,
    workers: usize,
    delay: Duration,
    cap: usize,
}

const P1: Shape = Shape {
    name: "P1_1M_jobs_8_workers",
    jobs: 1_000_000,
    workers: 8,
    delay: Duration::ZERO,
    cap: 1024,
};
const P2: Shape = Shape {
    name: "P2_100k_jobs_1000_workers_1ms",
    jobs: 100_000,
    workers: 1000,
    delay: Duration::from_millis(1),
    cap: 1024,
};

fn jobs(s: &Shape) -> impl Iterator<Item = pool::Job> + Send + 'static {
    let delay = s.delay;
    (0..s.jobs).map(move |id| pool::Job {
        id,
        name: Cow::Borrowed("job"),
        delay,
    })
}

/// The same pool for tokio and smol: one producer task per job into a
/// bounded async-channel, `workers` consumers, a results channel closed
/// after the workers finish.
macro_rules! opponent_pool {
    ($name:ident, spawn = $spawn:path, sleep = $sleep:expr, yield_now = $yield_now:expr, join = |$h:ident| $join:expr) => {
        async fn $name(
            jobs: impl Iterator<Item = pool::Job> + Send + 'static,
            workers: usize,
            cap: usize,
        ) -> usize {
            let (jobs_tx, jobs_rx) = async_channel::bounded::<pool::Job>(cap);
            let start = std::time::Instant::now();
            let (res_tx, res_rx) = async_channel::bounded::<pool::JobResult>(cap);
            let mut handles = Vec::with_capacity(workers);
            for worker in 0..workers {
                let (jobs_rx, res_tx) = (jobs_rx.clone(), res_tx.clone());
                handles.push($spawn(async move {
                    while let Ok(job) = jobs_rx.recv().await {
                        if !job.delay.is_zero() {
                            ($sleep)(job.delay).await;
                        }
                        let result = pool::JobResult {
                            id: job.id,
                            name: job.name,
                            worker,
                            finished_at: start.elapsed(),
                        };
                        res_tx.send(result).await.unwrap();
                    }
                }));
            }
            drop(jobs_rx);
            $spawn(async move {
                for $h in handles {
                    $join;
                }
                res_tx.close();
            })
            .detach_compat();
            $spawn(async move {
                for (i, job) in jobs.enumerate() {
                    let jobs_tx = jobs_tx.clone();
                    $spawn(async move {
                        jobs_tx.send(job).await.unwrap();
                    })
                    .detach_compat();
                    if i % 1024 == 1023 {
                        ($yield_now)().await;
                    }
                }
            })
            .detach_compat();
            let mut n = 0;
            while res_rx.recv().await.is_ok() {
                n += 1;
            }
            n
        }
    };
}

/// Dropping a handle detaches in tokio but cancels in smol.
trait DetachCompat {
    fn detach_compat(self);
}
impl<T> DetachCompat for tokio::task::JoinHandle<T> {
    fn detach_compat(self) {}
}
impl<T> DetachCompat for async_executor::Task<T> {
    fn detach_compat(self) {
        self.detach()
    }
}

fn smol_spawn<F: Future + Send + 'static>(f: F) -> async_executor::Task<F::Output>
where
    F::Output: Send + 'static,
{
    SMOL.spawn(f)
}

async fn smol_sleep(d: Duration) {
    async_io::Timer::after(d).await;
}

opponent_pool!(
    tokio_pool,
    spawn = tokio::spawn,
    sleep = tokio::time::sleep,
    yield_now = tokio::task::yield_now,
    join = |h| h.await.unwrap()
);
opponent_pool!(
    smol_pool,
    spawn = smol_spawn,
    sleep = smol_sleep,
    yield_now = futures_lite::future::yield_now,
    join = |h| h.await
);

static SMOL: async_executor::Executor<'static> = async_executor::Executor::new();

fn smol_threads() -> &'static async_channel::Sender<()> {
    use std::sync::OnceLock;
    static STOP: OnceLock<async_channel::Sender<()>> = OnceLock::new();
    STOP.get_or_init(|| {
        let (tx, rx) = async_channel::unbounded::<()>();
        for _ in 0..THREADS {
            let rx = rx.clone();
            std::thread::spawn(move || futures_lite::future::block_on(SMOL.run(rx.recv())));
        }
        tx
    })
}

fn stevedore_rt() -> stevedore::Runtime {
    stevedore::Runtime::builder()
        .worker_threads(THREADS)
        .build()
        .unwrap()
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .enable_all()
        .build()
        .unwrap()
}

fn bench_pool(c: &mut Criterion, s: &Shape) {
    let mut g = c.benchmark_group(format!("taskpool/{}", s.name));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(1));
    let expect = s.jobs as usize;

    let rt = stevedore_rt();
    g.bench_function(BenchmarkId::new("stevedore", s.name), |b| {
        b.iter(|| {
            let jobs = jobs(s);
            let (w, cap) = (s.workers, s.cap);
            let n = rt
                .block_on(rt.spawn(pool::run(jobs, w, cap, |_| {})))
                .unwrap();
            assert_eq!(n, expect);
        })
    });
    drop(rt);

    let rt = tokio_rt();
    g.bench_function(BenchmarkId::new("tokio", s.name), |b| {
        b.iter(|| {
            let n = rt
                .block_on(rt.spawn(tokio_pool(jobs(s), s.workers, s.cap)))
                .unwrap();
            assert_eq!(n, expect);
        })
    });
    drop(rt);

    smol_threads();
    g.bench_function(BenchmarkId::new("smol", s.name), |b| {
        b.iter(|| {
            let n =
                futures_lite::future::block_on(SMOL.spawn(smol_pool(jobs(s), s.workers, s.cap)));
            assert_eq!(n, expect);
        })
    });
    g.finish();
}

fn p1(c: &mut Criterion) {
    bench_pool(c, &P1);
}

fn p2(c: &mut Criterion) {
    bench_pool(c, &P2);
}

/// P3: 100,000 tasks each sleeping 10 ms, all joined.
fn p3(c: &mut Criterion) {
    const N: usize = 100_000;
    const D: Duration = Duration::from_millis(10);
    let mut g = c.benchmark_group("taskpool/P3_100k_sleeps_10ms");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(1));

    let rt = stevedore_rt();
    g.bench_function("stevedore", |b| {
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                let wg = stevedore::sync::WaitGroup::new();
                for _ in 0..N {
                    wg.spawn(stevedore::time::sleep(D));
                }
                wg.wait().await;
            }))
            .unwrap()
        })
    });
    drop(rt);

    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                let hs: Vec<_> = (0..N)
                    .map(|_| tokio::spawn(tokio::time::sleep(D)))
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
            }))
            .unwrap()
        })
    });
    drop(rt);

    smol_threads();
    g.bench_function("smol", |b| {
        b.iter(|| {
            futures_lite::future::block_on(SMOL.spawn(async {
                let hs: Vec<_> = (0..N).map(|_| SMOL.spawn(smol_sleep(D))).collect();
                for h in hs {
                    h.await;
                }
            }))
        })
    });
    g.finish();
    let _ = Arc::new(());
}

criterion_group!(benches, p1, p2, p3);
criterion_main!(benches);
