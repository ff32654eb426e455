//! Timers: [`sleep`], [`sleep_until`], [`timeout`], [`interval`].
//!
//! Deadlines have nanosecond resolution and are not rounded up (tokio rounds
//! every timer up to the next millisecond). Timers live in per-worker heaps
//! (see `timers.rs`) and are fired by the workers themselves: on every
//! maintenance tick, before parking, and by the worker parked on the driver,
//! which sleeps exactly until the earliest deadline.

mod interval;
mod sleep;
mod timeout;
pub(crate) mod timers;

pub use self::interval::{interval, interval_at, Interval};
pub use self::sleep::{sleep, sleep_until, Sleep};
pub use self::timeout::{timeout, timeout_at, Elapsed, Timeout};
