//! loom-visible stand-ins with the same API as `std_impl`.

pub(crate) mod sync {
    pub(crate) use loom::sync::Arc;

    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{
            AtomicBool, AtomicPtr, AtomicU64, AtomicU8, AtomicUsize, Ordering,
        };
    }

    use std::ops::{Deref, DerefMut};
    use std::time::Duration;

    /// parking_lot-shaped wrapper around `loom::sync::Mutex`.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    /// Guard of [`Mutex`]; the `Option` lets [`Condvar::wait`] take `&mut guard`.
    #[derive(Debug)]
    pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        pub(crate) fn new(data: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(data))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().unwrap()))
        }

        pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock().ok().map(|g| MutexGuard(Some(g)))
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0.as_ref().expect("guard present")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().expect("guard present")
        }
    }

    /// Result of [`Condvar::wait_for`]; loom never times out.
    #[derive(Debug)]
    pub(crate) struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        pub(crate) fn timed_out(&self) -> bool {
            self.0
        }
    }

    /// parking_lot-shaped wrapper around `loom::sync::Condvar`.
    #[derive(Debug)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Condvar {
            Condvar(loom::sync::Condvar::new())
        }

        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let g = guard.0.take().expect("guard present");
            guard.0 = Some(self.0.wait(g).unwrap());
        }

        pub(crate) fn wait_for<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            _timeout: Duration,
        ) -> WaitTimeoutResult {
            self.wait(guard);
            WaitTimeoutResult(false)
        }

        pub(crate) fn notify_one(&self) -> bool {
            self.0.notify_one();
            true
        }

        pub(crate) fn notify_all(&self) -> usize {
            self.0.notify_all();
            0
        }
    }
}

pub(crate) mod cell {
    pub(crate) use loom::cell::UnsafeCell;
}

pub(crate) mod thread {
    pub(crate) use loom::thread::{Builder, JoinHandle};
}

/// crossbeam-deque's shape over a loom mutex: loom cannot see crossbeam's
/// atomics, so the scheduler's queues are modelled as locked `VecDeque`s.
pub(crate) mod deque {
    pub(crate) use crossbeam_deque::Steal;

    use super::sync::{Arc, Mutex};
    use std::collections::VecDeque;

    #[derive(Debug)]
    pub(crate) struct Worker<T> {
        inner: Arc<Mutex<VecDeque<T>>>,
    }

    #[derive(Debug)]
    pub(crate) struct Stealer<T> {
        inner: Arc<Mutex<VecDeque<T>>>,
    }

    #[derive(Debug)]
    pub(crate) struct Injector<T> {
        inner: Mutex<VecDeque<T>>,
    }

    fn steal_batch_into<T>(src: &Mutex<VecDeque<T>>, dest: &Worker<T>) -> Steal<T> {
        let mut src = src.lock();
        let Some(first) = src.pop_front() else {
            return Steal::Empty;
        };
        let extra = (src.len() / 2).min(2);
        let mut dest = dest.inner.lock();
        for _ in 0..extra {
            dest.push_back(src.pop_front().expect("len checked"));
        }
        Steal::Success(first)
    }

    impl<T> Worker<T> {
        pub(crate) fn new_fifo() -> Worker<T> {
            Worker {
                inner: Arc::new(Mutex::new(VecDeque::new())),
            }
        }

        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer {
                inner: self.inner.clone(),
            }
        }

        pub(crate) fn push(&self, task: T) {
            self.inner.lock().push_back(task);
        }

        pub(crate) fn pop(&self) -> Option<T> {
            self.inner.lock().pop_front()
        }
    }

    impl<T> Stealer<T> {
        pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
            steal_batch_into(&self.inner, dest)
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.inner.lock().is_empty()
        }
    }

    impl<T> Injector<T> {
        pub(crate) fn new() -> Injector<T> {
            Injector {
                inner: Mutex::new(VecDeque::new()),
            }
        }

        pub(crate) fn push(&self, task: T) {
            self.inner.lock().push_back(task);
        }

        pub(crate) fn steal(&self) -> Steal<T> {
            match self.inner.lock().pop_front() {
                Some(t) => Steal::Success(t),
                None => Steal::Empty,
            }
        }

        pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
            steal_batch_into(&self.inner, dest)
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.inner.lock().is_empty()
        }
    }
}

macro_rules! facade_thread_local {
    ($(#[$attr:meta])* static $name:ident: $t:ty = $init:expr;) => {
        loom::thread_local! {
            $(#[$attr])* static $name: $t = $init;
        }
    };
}
pub(crate) use facade_thread_local as thread_local;
