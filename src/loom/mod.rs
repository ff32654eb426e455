//! The synchronisation facade: the only module that names `std::sync`,
//! `parking_lot` or `crossbeam_deque` directly.
//!
//! Under the crate-named cfg `stevedore_loom` every primitive is swapped for a
//! loom-visible stand-in, so the protocols built on top (task state, channels,
//! WaitGroup, the idle/park protocol) can be model-checked by `loom-tests/`.
//! loom cannot see crossbeam-deque's or parking_lot's atomics, so both are
//! replaced by small `loom::sync::Mutex`-based mocks with the same shape.
//!
//! The API offered is parking_lot's (`lock()` returns a guard, `Condvar::wait`
//! takes `&mut guard`), plus tokio-style `UnsafeCell::{with, with_mut}`.

#[cfg(not(stevedore_loom))]
mod std_impl;
#[cfg(not(stevedore_loom))]
pub(crate) use self::std_impl::*;

#[cfg(stevedore_loom)]
mod mocked;
#[cfg(stevedore_loom)]
pub(crate) use self::mocked::*;
