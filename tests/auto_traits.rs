//! Compile-time checks that the public handles and futures are `Send`,
//! `Sync` and `Unpin` exactly as documented: a change to any of them (a
//! field that drops `Send`, a future that loses its pin) fails to compile.
//! Negative checks use the ambiguous-impl trick (no dependency needed).

#![allow(dead_code)]

use std::rc::Rc;

/// Asserts that `$t` implements every listed auto trait.
macro_rules! assert_impl {
    ($t:ty: $($tr:path),+ $(,)?) => {
        const _: fn() = || {
            fn check<T: ?Sized $(+ $tr)+>() {}
            check::<$t>();
        };
    };
}

/// Asserts that `$t` does **not** implement `$tr`: if it did, the two
/// blanket impls below would make `some_item` ambiguous.
macro_rules! assert_not_impl {
    ($t:ty: $tr:path) => {
        const _: fn() = || {
            trait AmbiguousIfImpl<A> {
                fn some_item() {}
            }
            impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
            struct Invalid;
            impl<T: ?Sized + $tr> AmbiguousIfImpl<Invalid> for T {}
            let _ = <$t as AmbiguousIfImpl<_>>::some_item;
        };
    };
}

type NotSend = Rc<u8>;

// ===== runtime =====
assert_impl!(stevedore::Runtime: Send, Sync, Unpin);
assert_impl!(stevedore::Handle: Send, Sync, Unpin, Clone);
assert_impl!(stevedore::Builder: Send, Sync, Unpin);
assert_impl!(stevedore::runtime::RuntimeMetrics: Send, Sync, Unpin);
// An enter guard restores *this thread's* context.
assert_not_impl!(stevedore::runtime::EnterGuard: Send);
assert_not_impl!(stevedore::runtime::EnterGuard: Sync);

// ===== tasks =====
assert_impl!(stevedore::JoinHandle<u32>: Send, Sync, Unpin);
assert_impl!(stevedore::JoinHandle<NotSend>: Unpin);
assert_not_impl!(stevedore::JoinHandle<NotSend>: Send);
assert_not_impl!(stevedore::JoinHandle<NotSend>: Sync);
assert_impl!(stevedore::AbortHandle: Send, Sync, Unpin);
assert_impl!(stevedore::JoinError: Send, Unpin);
assert_impl!(stevedore::task::JoinSet<u32>: Send, Sync, Unpin);
assert_impl!(stevedore::task::JoinNext<'static, u32>: Send, Unpin);

// ===== channels =====
assert_impl!(stevedore::chan::Sender<u32>: Send, Sync, Unpin, Clone);
assert_impl!(stevedore::chan::Receiver<u32>: Send, Sync, Unpin, Clone);
assert_not_impl!(stevedore::chan::Sender<NotSend>: Send);
assert_not_impl!(stevedore::chan::Receiver<NotSend>: Sync);
// The send and receive futures embed an intrusive waiter: they are pinned.
assert_impl!(stevedore::chan::Send<'static, u32>: Send, Sync);
assert_impl!(stevedore::chan::Recv<'static, u32>: Send, Sync);
assert_not_impl!(stevedore::chan::Send<'static, u32>: Unpin);
assert_not_impl!(stevedore::chan::Recv<'static, u32>: Unpin);
assert_not_impl!(stevedore::chan::Send<'static, NotSend>: Send);
assert_impl!(stevedore::chan::SendError<u32>: Send, Sync, Unpin);
assert_impl!(stevedore::chan::TrySendError<u32>: Send, Sync, Unpin);
assert_impl!(stevedore::chan::TryRecvError: Send, Sync, Unpin);

// ===== sync =====
assert_impl!(stevedore::sync::WaitGroup: Send, Sync, Unpin, Clone);
assert_impl!(stevedore::sync::Wait<'static>: Send, Sync);
assert_not_impl!(stevedore::sync::Wait<'static>: Unpin);
assert_impl!(stevedore::sync::Mutex<u32>: Send, Sync, Unpin);
assert_not_impl!(stevedore::sync::Mutex<NotSend>: Send);
assert_impl!(stevedore::sync::RwLock<u32>: Send, Sync, Unpin);
assert_impl!(stevedore::sync::Semaphore: Send, Sync, Unpin);
assert_impl!(stevedore::sync::Notify: Send, Sync, Unpin);
assert_impl!(stevedore::sync::Notified<'static>: Send, Sync);
assert_not_impl!(stevedore::sync::Notified<'static>: Unpin);
assert_impl!(stevedore::sync::CancellationToken: Send, Sync, Unpin, Clone);
assert_impl!(stevedore::sync::oneshot::Sender<u32>: Send, Sync, Unpin);
assert_impl!(stevedore::sync::oneshot::Receiver<u32>: Send, Sync, Unpin);
assert_not_impl!(stevedore::sync::oneshot::Receiver<NotSend>: Send);

// ===== time =====
assert_impl!(stevedore::time::Sleep: Send, Sync);
assert_impl!(stevedore::time::Interval: Send, Sync, Unpin);
assert_impl!(stevedore::time::Elapsed: Send, Sync, Unpin);

// ===== net =====
assert_impl!(stevedore::net::TcpStream: Send, Sync, Unpin);
assert_impl!(stevedore::net::TcpListener: Send, Sync, Unpin);
assert_impl!(stevedore::net::UnixStream: Send, Sync, Unpin);
assert_impl!(stevedore::net::UnixListener: Send, Sync, Unpin);

#[test]
fn auto_traits_are_checked_at_compile_time() {
    // Everything above is a compile-time assertion; this test only makes
    // the suite show up in the test report.
}
