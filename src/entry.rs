//! What `#[stevedore::main]` and `#[stevedore::test]` expand to call.

use crate::runtime::Runtime;
use std::future::Future;

/// Builds a runtime (`worker_threads` workers, or the [`Builder`] default)
/// and blocks this thread on `future`, then shuts the runtime down.
///
/// [`Builder`]: crate::Builder
///
/// # Panics
///
/// If the runtime cannot start (thread or epoll creation failed), with the
/// OS error; and on a worker thread, like [`Runtime::block_on`].
#[doc(hidden)]
#[track_caller]
pub fn block_on_entry<T, F>(worker_threads: Option<usize>, future: F) -> T
where
    F: Future<Output = T>,
{
    let mut builder = Runtime::builder();
    if let Some(n) = worker_threads {
        builder.worker_threads(n);
    }
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => panic!("failed to start the stevedore runtime: {e}"),
    };
    rt.block_on(future)
}
