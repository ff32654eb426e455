//! # stevedore
//!
//! Goroutines plus `docker run`, as a Rust library: a work-stealing green-task
//! runtime with Go-style channels, `select!` and `WaitGroup`, sub-millisecond
//! timers, a mio socket reactor, and a Docker Engine API client that drives
//! container lifecycles concurrently over it.
//!
//! ```
//! use stevedore::{chan, sync::WaitGroup, Runtime};
//!
//! let rt = Runtime::new().unwrap();
//! let total = rt.block_on(async {
//!     let (tx, rx) = chan::bounded::<u64>(16);
//!     let wg = WaitGroup::new();
//!     for i in 0..4 {
//!         let tx = tx.clone();
//!         wg.spawn(async move { tx.send(i).await.unwrap() });
//!     }
//!     drop(tx);
//!     wg.wait().await;
//!     let mut total = 0;
//!     while let Some(v) = rx.recv().await {
//!         total += v;
//!     }
//!     total
//! });
//! assert_eq!(total, 6);
//! ```
//!
//! See `ARCHITECTURE.md` for how the pieces fit together.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

#[macro_use]
mod macros;
mod entry;
mod loom;
mod util;

pub mod chan;
#[cfg(all(feature = "docker", not(stevedore_loom)))]
#[cfg_attr(docsrs, doc(cfg(feature = "docker")))]
pub mod docker;
#[cfg(not(stevedore_loom))]
pub mod net;
#[cfg(all(feature = "docker", not(stevedore_loom)))]
mod process;
#[cfg(not(stevedore_loom))]
mod reactor;
pub mod runtime;
#[cfg(all(unix, not(stevedore_loom)))]
pub mod signal;
pub mod sync;
pub mod task;
pub mod time;

pub use crate::runtime::{spawn, spawn_blocking, yield_now, Builder, Handle, Runtime};
pub use crate::task::{AbortHandle, JoinError, JoinHandle};
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[doc(inline)]
pub use stevedore_macros::{main, test};

/// The reactor's readiness cell, alone: the reactor itself needs mio and is
/// not built under loom.
#[cfg(stevedore_loom)]
#[path = "reactor/scheduled_io.rs"]
#[allow(dead_code)]
mod loom_scheduled_io;

/// Internals opened up to the loom models in `loom-tests/`; only present
/// under `cfg(stevedore_loom)`.
#[cfg(stevedore_loom)]
#[doc(hidden)]
pub mod __loom {
    pub use crate::task::loom_support::TaskQueue;

    use crate::loom_scheduled_io as scheduled_io;

    /// A readiness cell driven by hand: the driver side sets readiness, the
    /// task side waits for it and clears it after `WouldBlock`.
    #[derive(Debug)]
    pub struct Readiness(scheduled_io::ScheduledIo);

    /// What the task side saw when it was ready.
    #[derive(Debug, Clone, Copy)]
    pub struct Seen(scheduled_io::ReadyEvent);

    impl Default for Readiness {
        fn default() -> Self {
            Readiness(scheduled_io::ScheduledIo::new())
        }
    }

    impl Readiness {
        /// Driver side: the source became readable.
        pub fn set_readable(&self) {
            self.0.set_readiness_and_wake(scheduled_io::READABLE);
        }

        /// Task side: ready to read, or the waker is registered.
        pub fn poll_readable(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Seen> {
            self.0
                .poll_ready(cx, scheduled_io::Direction::Read)
                .map(Seen)
        }

        /// Task side: the read returned `WouldBlock`.
        pub fn clear(&self, seen: Seen) {
            self.0.clear_readiness(seen.0);
        }
    }
}

/// Items used by macro expansions. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::entry::block_on_entry;
    pub use std::future::poll_fn;
    pub use std::task::Poll;

    pub mod select {
        pub use crate::chan::select::*;
    }
}
