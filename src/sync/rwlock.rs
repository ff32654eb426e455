//! `RwLock`: an async, FIFO-fair reader-writer lock.
//!
//! A [`Permits`](super::permits) queue of [`MAX_READERS`] permits: a reader
//! takes one, a writer takes them all. Because the queue is strictly FIFO,
//! a waiting writer holds back readers that come after it (no writer
//! starvation), and the readers queued behind a writer get in together once
//! it leaves.

use super::error::TryLockError;
use super::permits::Permits;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

/// The most readers a [`RwLock`] admits at once.
pub const MAX_READERS: u32 = u32::MAX >> 3;

/// An async reader-writer lock: many readers or one writer, in the order
/// they asked.
///
/// Fair as [`Mutex`](super::Mutex) is: a queued writer is not overtaken by
/// later readers. No poisoning: a panic while holding a guard releases it.
///
/// ```
/// use std::sync::Arc;
/// use stevedore::sync::RwLock;
///
/// # stevedore::Runtime::new().unwrap().block_on(async {
/// let config = Arc::new(RwLock::new(String::from("v1")));
/// {
///     let a = config.read().await;
///     let b = config.read().await; // readers share
///     assert_eq!((a.as_str(), b.as_str()), ("v1", "v1"));
/// }
/// config.write().await.push_str("+patch");
/// assert_eq!(*config.read().await, "v1+patch");
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    permits: Permits,
    data: UnsafeCell<T>,
}

// SAFETY: the data moves with the lock.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: readers share `&T` across threads (`T: Sync`); a writer's `&mut T`
// may be used on another thread (`T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// Shared access to a [`RwLock`]'s data; releases its read permit when
/// dropped.
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    permits: usize,
    _not_send: PhantomData<*const ()>,
}

/// Exclusive access to a [`RwLock`]'s data; releases the lock when dropped.
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: a read guard is a shared borrow of `T`.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: a write guard is an exclusive borrow of `T`.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockWriteGuard<'_, T> {}
// SAFETY: `&RwLockWriteGuard` only gives `&T`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockWriteGuard<'_, T> {}

const ALL: usize = MAX_READERS as usize;

impl<T> RwLock<T> {
    /// An unlocked lock holding `data`.
    pub fn new(data: T) -> RwLock<T> {
        RwLock {
            permits: Permits::new(ALL),
            data: UnsafeCell::new(data),
        }
    }

    /// Consumes the lock, returning the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Shared access, waiting in line behind earlier callers (a queued
    /// writer included).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future gives up its place in line without
    /// losing a wake-up for those behind it.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        // Never closed: the acquire cannot fail.
        let _ = self.permits.acquire(1).await;
        RwLockReadGuard {
            lock: self,
            permits: 1,
            _not_send: PhantomData,
        }
    }

    /// Exclusive access, waiting in line behind earlier callers.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a writer dropped while waiting gives back the read
    /// permits it had gathered, to the readers behind it.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        let _ = self.permits.acquire(ALL).await;
        RwLockWriteGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// Shared access if no writer holds or waits for the lock.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if it would have to wait.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        match self.permits.try_acquire(1) {
            Ok(()) => Ok(RwLockReadGuard {
                lock: self,
                permits: 1,
                _not_send: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Exclusive access if nobody holds or waits for the lock.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if it would have to wait.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        match self.permits.try_acquire(ALL) {
            Ok(()) => Ok(RwLockWriteGuard {
                lock: self,
                _not_send: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// [`read`](RwLock::read) from a plain (non-worker) thread, blocking it.
    ///
    /// # Panics
    ///
    /// On a runtime worker thread.
    #[track_caller]
    pub fn read_blocking(&self) -> RwLockReadGuard<'_, T> {
        assert!(
            !crate::runtime::context::is_worker_thread(),
            "RwLock::read_blocking called on a stevedore worker thread; use read().await"
        );
        crate::runtime::block_on_thread(self.read())
    }

    /// [`write`](RwLock::write) from a plain (non-worker) thread, blocking
    /// it.
    ///
    /// # Panics
    ///
    /// On a runtime worker thread.
    #[track_caller]
    pub fn write_blocking(&self) -> RwLockWriteGuard<'_, T> {
        assert!(
            !crate::runtime::context::is_worker_thread(),
            "RwLock::write_blocking called on a stevedore worker thread; use write().await"
        );
        crate::runtime::block_on_thread(self.write())
    }

    /// The data, through exclusive access to the lock.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(data: T) -> RwLock<T> {
        RwLock::new(data)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(g) => d.field("data", &&*g),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read permit excludes writers.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.permits.release(self.permits);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write guard into a read guard without letting any writer
    /// in between; readers queued behind get in at once.
    ///
    /// ```
    /// # stevedore::Runtime::new().unwrap().block_on(async {
    /// let lock = stevedore::sync::RwLock::new(1);
    /// let mut w = lock.write().await;
    /// *w = 2;
    /// let r = stevedore::sync::RwLockWriteGuard::downgrade(w);
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_read().is_ok());
    /// assert!(lock.try_write().is_err());
    /// # });
    /// ```
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T> {
        let lock = this.lock;
        std::mem::forget(this);
        lock.permits.release(ALL - 1);
        RwLockReadGuard {
            lock,
            permits: 1,
            _not_send: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every permit.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.permits.release(ALL);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
