//! The hand-written `RawWakerVTable` shared by every task.
//!
//! A waker is a counted reference to the task header; waking goes through the
//! state machine (`state.rs`) and, only if the task must be queued, through
//! the task's typed vtable to its scheduler.

use super::core::Header;
use super::state::ToNotified;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_by_val, wake_by_ref, drop_waker);

fn raw_waker(header: NonNull<Header>) -> RawWaker {
    RawWaker::new(header.as_ptr() as *const (), &WAKER_VTABLE)
}

/// A waker for the task being polled that borrows the poller's reference.
pub(super) fn waker_ref(header: NonNull<Header>) -> ManuallyDrop<Waker> {
    // SAFETY: the vtable upholds the RawWaker contract; ManuallyDrop keeps
    // the borrowed reference from being released.
    ManuallyDrop::new(unsafe { Waker::from_raw(raw_waker(header)) })
}

/// # Safety
///
/// `ptr` is a header pointer with a reference held by the waker.
unsafe fn header<'a>(ptr: *const ()) -> &'a Header {
    // SAFETY: forwarded contract.
    unsafe { &*(ptr as *const Header) }
}

unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds a reference.
    let h = unsafe { header(ptr) };
    h.state.ref_inc();
    raw_waker(NonNull::from(h))
}

unsafe fn wake_by_val(ptr: *const ()) {
    // SAFETY: the waker holds a reference, consumed here.
    let h = unsafe { header(ptr) };
    let nn = NonNull::from(h);
    match h.state.transition_to_notified_by_val() {
        // SAFETY: our reference now belongs to the `Notified`.
        ToNotified::Submit => unsafe { (h.vtable.schedule)(nn) },
        // SAFETY: that was the last reference.
        ToNotified::Dealloc => unsafe { (h.vtable.dealloc)(nn) },
        ToNotified::DoNothing => {}
    }
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: the waker holds a reference.
    let h = unsafe { header(ptr) };
    match h.state.transition_to_notified_by_ref() {
        // SAFETY: the transition added a reference for the `Notified`.
        ToNotified::Submit => unsafe { (h.vtable.schedule)(NonNull::from(h)) },
        ToNotified::Dealloc => unreachable!("wake_by_ref never releases"),
        ToNotified::DoNothing => {}
    }
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: the waker holds a reference, released here.
    let h = unsafe { header(ptr) };
    if h.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { (h.vtable.dealloc)(NonNull::from(h)) };
    }
}
