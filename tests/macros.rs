//! `#[stevedore::main]` and `#[stevedore::test]` used as users would.

use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[stevedore::test]
async fn plain_test_runs_on_a_runtime() {
    let h = stevedore::spawn(async { 40 + 2 });
    assert_eq!(h.await.unwrap(), 42);
}

#[stevedore::test(worker_threads = 1)]
async fn one_worker() {
    assert_eq!(stevedore::Handle::current().num_workers(), 1);
}

#[stevedore::test(worker_threads = 3)]
async fn three_workers() {
    assert_eq!(stevedore::Handle::current().num_workers(), 3);
}

#[stevedore::test]
async fn returns_result() -> Result<(), Box<dyn Error>> {
    let n: u32 = "7".parse()?; // `?` infers the error type from the signature
    stevedore::spawn(async {}).await?;
    assert_eq!(n, 7);
    Ok(())
}

#[stevedore::test]
#[should_panic(expected = "boom")]
async fn should_panic_is_kept() {
    panic!("boom");
}

#[stevedore::test]
#[ignore = "checks that #[ignore] is kept; never runs"]
async fn ignore_is_kept() {
    unreachable!("an ignored test ran");
}

#[stevedore::test(worker_threads = 2)]
async fn early_return_and_spawned_work() {
    let hits = Arc::new(AtomicUsize::new(0));
    let wg = stevedore::sync::WaitGroup::new();
    for _ in 0..100 {
        let hits = hits.clone();
        wg.spawn(async move {
            hits.fetch_add(1, Ordering::Relaxed);
        });
    }
    wg.wait().await;
    if hits.load(Ordering::Relaxed) == 100 {
        return;
    }
    panic!("not every task ran");
}

mod paths {
    // The `crate = "..."` option, for crates that re-export stevedore.
    use stevedore as reexported;

    #[stevedore::test(crate = "reexported", worker_threads = 1)]
    async fn crate_option() {
        reexported::yield_now().await;
    }
}

#[test]
fn main_attribute_in_a_plain_fn() {
    // `#[stevedore::main]` works on any zero-argument async fn, not only
    // `main`; it becomes a plain fn that builds a runtime.
    #[stevedore::main(worker_threads = 2)]
    async fn run() -> Result<usize, std::io::Error> {
        let h = stevedore::spawn(async { stevedore::Handle::current().num_workers() });
        Ok(h.await?)
    }
    assert_eq!(run().unwrap(), 2);
}
