//! Timers: [`sleep`], [`sleep_until`], [`timeout`], [`interval`].
//!
//! Deadlines have nanosecond resolution and are not rounded up (tokio rounds
//! every timer up to the next millisecond). Timers live in per-worker heaps
//! (see `timers.rs`) and are fired by the workers themselves: on every
//! maintenance tick, before parking, and by the worker parked on the driver,
//! which sleeps exactly until the earliest deadline.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use stevedore::time::{interval, sleep, timeout};
//!
//! stevedore::Runtime::new().unwrap().block_on(async {
//!     sleep(Duration::from_millis(1)).await;
//!     // A future that never finishes, given up on after 5 ms.
//!     let never = std::future::pending::<()>();
//!     assert!(timeout(Duration::from_millis(5), never).await.is_err());
//!     // Three ticks on a 1 ms grid; the first is immediate (ticks missed
//!     // by a late consumer are skipped, so the third is at least 2 ms on).
//!     let mut every = interval(Duration::from_millis(1));
//!     let first = every.tick().await;
//!     every.tick().await;
//!     let third = every.tick().await;
//!     assert!(third - first >= Duration::from_millis(2));
//! });
//! ```

mod interval;
mod sleep;
mod timeout;
pub(crate) mod timers;

pub use self::interval::{interval, interval_at, Interval};
pub use self::sleep::{sleep, sleep_until, Sleep};
pub use self::timeout::{timeout, timeout_at, Elapsed, Timeout};
