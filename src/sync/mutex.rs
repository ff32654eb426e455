//! `Mutex`: an async, FIFO-fair mutual-exclusion lock.
//!
//! A one-permit [`Permits`](super::permits) queue guarding an `UnsafeCell`:
//! the guard owns the permit, and dropping it hands the lock straight to the
//! first waiter.

use super::error::TryLockError;
use super::permits::Permits;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// An async mutex: waiting for it suspends the task, not the thread, and
/// the guard may be held across `.await` points.
///
/// **Fair:** waiters get the lock strictly in the order they asked for it,
/// and unlocking hands it directly to the next one, so no task can starve
/// (a task that unlocks and locks again queues behind everyone waiting).
/// Taking a free lock spends the task's cooperative budget, so a loop that
/// keeps locking an uncontended mutex still yields to other tasks.
///
/// **No poisoning:** a task that panics while holding the guard releases
/// the lock as the guard drops; the data is left as the panic left it.
///
/// Prefer `std::sync::Mutex` (or `parking_lot`) for data never held across
/// an `.await`: it is cheaper.
///
/// ```
/// use std::sync::Arc;
/// use stevedore::sync::Mutex;
///
/// # stevedore::Runtime::new().unwrap().block_on(async {
/// let count = Arc::new(Mutex::new(0));
/// let mut tasks = Vec::new();
/// for _ in 0..8 {
///     let count = count.clone();
///     tasks.push(stevedore::spawn(async move {
///         let mut n = count.lock().await;
///         stevedore::yield_now().await; // held across an await
///         *n += 1;
///     }));
/// }
/// for t in tasks {
///     t.await.unwrap();
/// }
/// assert_eq!(*count.lock().await, 8);
/// # });
/// ```
pub struct Mutex<T: ?Sized> {
    permits: Permits,
    data: UnsafeCell<T>,
}

// SAFETY: the data moves with the mutex.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: the permit protocol gives `&mut T` to one guard at a time; the
// guard may be used (and dropped) on any thread, hence `T: Send`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Exclusive access to a [`Mutex`]'s data; unlocks when dropped.
#[must_use = "dropping the guard unlocks the mutex at once"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    /// Not `Sync` by default: sharing the guard shares `&T`.
    _not_sync: PhantomData<*const ()>,
}

/// Like [`MutexGuard`], holding an `Arc` of the mutex (to move into a
/// spawned task); see [`Mutex::lock_owned`].
#[must_use = "dropping the guard unlocks the mutex at once"]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Arc<Mutex<T>>,
    _not_sync: PhantomData<*const ()>,
}

// SAFETY: a guard is an exclusive borrow of `T`; sending it sends `&mut T`.
unsafe impl<T: ?Sized + Send> Send for MutexGuard<'_, T> {}
// SAFETY: `&MutexGuard` only gives `&T`.
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}
// SAFETY: as for `MutexGuard`.
unsafe impl<T: ?Sized + Send> Send for OwnedMutexGuard<T> {}
// SAFETY: as for `MutexGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `data`.
    pub fn new(data: T) -> Mutex<T> {
        Mutex {
            permits: Permits::new(1),
            data: UnsafeCell::new(data),
        }
    }

    /// Consumes the mutex, returning the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, waiting in line behind earlier callers.
    ///
    /// ```
    /// # stevedore::Runtime::new().unwrap().block_on(async {
    /// let m = stevedore::sync::Mutex::new(vec![1]);
    /// m.lock().await.push(2);
    /// assert_eq!(*m.lock().await, [1, 2]);
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future gives up its place in line; if the
    /// lock had just been handed to it, it passes straight to the next
    /// waiter, so no wake-up is lost.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        // A mutex is never closed, so the acquire cannot fail.
        let _ = self.permits.acquire(1).await;
        MutexGuard {
            lock: self,
            _not_sync: PhantomData,
        }
    }

    /// Locks the mutex if it is free and nobody is waiting.
    ///
    /// ```
    /// let m = stevedore::sync::Mutex::new(1);
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(g);
    /// assert!(m.try_lock().is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or others are queued for it.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.permits.try_acquire(1) {
            Ok(()) => Ok(MutexGuard {
                lock: self,
                _not_sync: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// [`lock`](Mutex::lock) for a mutex in an `Arc`: the guard keeps the
    /// mutex alive, so it can move into a spawned task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use stevedore::sync::Mutex;
    ///
    /// # stevedore::Runtime::new().unwrap().block_on(async {
    /// let m = Arc::new(Mutex::new(0));
    /// let mut guard = m.clone().lock_owned().await;
    /// stevedore::spawn(async move { *guard += 1 }).await.unwrap();
    /// assert_eq!(*m.lock().await, 1);
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// As for [`lock`](Mutex::lock).
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        let _ = self.permits.acquire(1).await;
        OwnedMutexGuard {
            lock: self,
            _not_sync: PhantomData,
        }
    }

    /// [`try_lock`](Mutex::try_lock) for a mutex in an `Arc`.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or others are queued for it.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.permits.try_acquire(1) {
            Ok(()) => Ok(OwnedMutexGuard {
                lock: self,
                _not_sync: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Locks the mutex from a plain (non-worker) thread, blocking it.
    ///
    /// # Panics
    ///
    /// On a runtime worker thread: it would block the worker. Use
    /// [`lock`](Mutex::lock) there.
    #[track_caller]
    pub fn lock_blocking(&self) -> MutexGuard<'_, T> {
        assert!(
            !crate::runtime::context::is_worker_thread(),
            "Mutex::lock_blocking called on a stevedore worker thread; use lock().await"
        );
        crate::runtime::block_on_thread(self.lock())
    }

    /// The data, through exclusive access to the mutex (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(data: T) -> Mutex<T> {
        Mutex::new(data)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(g) => d.field("data", &&*g),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the only permit.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the only permit.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.permits.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the only permit.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the only permit.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.permits.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
