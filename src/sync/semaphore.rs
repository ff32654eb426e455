//! `Semaphore`: a counted set of permits, handed out in FIFO order.

use super::error::{AcquireError, TryAcquireError};
use super::permits::{Permits, TryAcquire, MAX_PERMITS};
use std::fmt;
use std::sync::Arc;

/// A set of permits for bounding concurrency (at most N tasks in a section,
/// N connections, N containers starting).
///
/// **Fair:** waiters are served strictly in the order they started waiting,
/// and one asking for many permits holds back those behind it until it has
/// them all (no starvation of large requests). Released permits go straight
/// to the next waiter. Acquiring without waiting spends the task's
/// cooperative budget, so a loop that keeps finding permits still yields to
/// other tasks.
///
/// ```
/// use std::sync::Arc;
/// use stevedore::sync::Semaphore;
///
/// # stevedore::Runtime::new().unwrap().block_on(async {
/// let sem = Arc::new(Semaphore::new(3)); // at most 3 at once
/// let mut tasks = Vec::new();
/// for i in 0..10 {
///     let permit = sem.clone().acquire_owned().await.unwrap();
///     tasks.push(stevedore::spawn(async move {
///         let _permit = permit; // released when the task ends
///         i * 2
///     }));
/// }
/// let mut sum = 0;
/// for t in tasks {
///     sum += t.await.unwrap();
/// }
/// assert_eq!(sum, 90);
/// assert_eq!(sem.available_permits(), 3);
/// # });
/// ```
pub struct Semaphore {
    permits: Permits,
}

/// Permits taken from a [`Semaphore`]; dropping it gives them back.
#[must_use = "dropping the permit releases it at once"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: usize,
}

/// Permits taken from a `Semaphore` in an `Arc`, owning a reference to it
/// (to move into a spawned task); dropping it gives them back.
#[must_use = "dropping the permit releases it at once"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: usize,
}

impl Semaphore {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    #[track_caller]
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            permits: Permits::new(permits),
        }
    }

    /// The permits that could be taken right now.
    pub fn available_permits(&self) -> usize {
        self.permits.available()
    }

    /// Adds `n` permits, waking waiters in order.
    ///
    /// # Panics
    ///
    /// If the total would exceed [`Semaphore::MAX_PERMITS`].
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        self.permits.release(n);
    }

    /// Removes up to `n` of the available permits for good (permits held
    /// by others are not affected); returns how many were removed.
    pub fn forget_permits(&self, n: usize) -> usize {
        self.permits.forget(n)
    }

    /// Takes one permit, waiting in line if none is available.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed, before or while
    /// waiting.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future gives up its place in line and
    /// passes on anything it had been handed, so no permit and no wake-up
    /// is lost.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Takes `n` permits at once, waiting in line until all are available.
    /// `n` larger than the semaphore will ever hold waits forever (or until
    /// [`close`](Semaphore::close)).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Cancel safety
    ///
    /// As for [`acquire`](Semaphore::acquire): permits already handed to
    /// the waiter are given back to those behind it.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        match self.permits.acquire(n as usize).await {
            Ok(()) => Ok(SemaphorePermit {
                sem: self,
                permits: n as usize,
            }),
            Err(_) => Err(AcquireError(())),
        }
    }

    /// Takes one permit if one is available and nobody is waiting.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Closed`] or [`TryAcquireError::NoPermits`].
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are available and nobody is waiting.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Closed`] or [`TryAcquireError::NoPermits`].
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.permits.try_acquire(n as usize).map_err(map_try)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// [`acquire`](Semaphore::acquire) for a semaphore in an `Arc`: the
    /// permit keeps the semaphore alive and can move into a spawned task.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Cancel safety
    ///
    /// As for [`acquire`](Semaphore::acquire).
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// [`acquire_many`](Semaphore::acquire_many) for a semaphore in an
    /// `Arc`.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Cancel safety
    ///
    /// As for [`acquire`](Semaphore::acquire).
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        match self.permits.acquire(n as usize).await {
            Ok(()) => Ok(OwnedSemaphorePermit {
                sem: self,
                permits: n as usize,
            }),
            Err(_) => Err(AcquireError(())),
        }
    }

    /// [`try_acquire`](Semaphore::try_acquire) for a semaphore in an `Arc`.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Closed`] or [`TryAcquireError::NoPermits`].
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Semaphore::try_acquire_many) for a semaphore in
    /// an `Arc`.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Closed`] or [`TryAcquireError::NoPermits`].
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.permits.try_acquire(n as usize).map_err(map_try)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// Closes the semaphore: every waiter and every later acquire fails
    /// with [`AcquireError`]. Permits already held stay valid and are still
    /// counted when released.
    pub fn close(&self) {
        self.permits.close();
    }

    /// True once [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        self.permits.is_closed()
    }
}

fn map_try(e: TryAcquire) -> TryAcquireError {
    match e {
        TryAcquire::Closed => TryAcquireError::Closed,
        TryAcquire::NoPermits => TryAcquireError::NoPermits,
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available_permits", &self.available_permits())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permits from going back: the semaphore has that many
    /// fewer for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.permits.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

impl OwnedSemaphorePermit {
    /// Keeps the permits from going back: the semaphore has that many
    /// fewer for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.permits.release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}
