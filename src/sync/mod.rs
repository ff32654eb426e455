//! Synchronisation for green tasks: [`WaitGroup`], the async locks
//! ([`Mutex`], [`RwLock`]), [`Semaphore`], [`Notify`], [`oneshot`]
//! channels and [`CancellationToken`].
//!
//! The locks and the semaphore share one FIFO permit queue (`permits.rs`):
//! waiters are served strictly in arrival order and a release hands
//! permits straight to the next waiter. Operations that complete without
//! waiting spend the task's cooperative budget, like channel operations.

mod cancellation;
mod error;
mod mutex;
mod notify;
pub mod oneshot;
mod permits;
mod rwlock;
mod semaphore;
mod wait_group;

pub use self::cancellation::{CancellationToken, DropGuard, WaitForCancellation};
pub use self::error::{AcquireError, TryAcquireError, TryLockError};
pub use self::mutex::{Mutex, MutexGuard, OwnedMutexGuard};
pub use self::notify::{Notified, Notify};
pub use self::rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard, MAX_READERS};
pub use self::semaphore::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};
pub use self::wait_group::{Wait, WaitGroup};
