//! The task state machine under loom: wake during poll, wake after
//! completion, abort racing completion, JoinHandle drop racing completion.
#![cfg(stevedore_loom)]

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::future::{poll_fn, Future};
use std::task::{Poll, Waker};
use stevedore::__loom::TaskQueue;

type Slot = Arc<Mutex<Option<Waker>>>;

/// Publishes its waker on the first poll; completes on poll number `ready_at`.
fn stepper(
    slot: Slot,
    polls: Arc<AtomicUsize>,
    ready_at: usize,
) -> impl Future<Output = usize> + Send {
    poll_fn(move |cx| {
        let n = polls.fetch_add(1, SeqCst) + 1;
        if n == 1 {
            *slot.lock().unwrap() = Some(cx.waker().clone());
        }
        if n >= ready_at {
            Poll::Ready(n)
        } else {
            Poll::Pending
        }
    })
}

#[test]
fn a_wake_during_the_poll_is_neither_lost_nor_doubled() {
    loom::model(|| {
        let q = TaskQueue::new();
        let slot: Slot = Arc::new(Mutex::new(None));
        let polls = Arc::new(AtomicUsize::new(0));
        let join = q.spawn(stepper(slot.clone(), polls.clone(), 2));
        let s2 = slot.clone();
        let waker = thread::spawn(move || match s2.lock().unwrap().take() {
            Some(w) => {
                w.wake();
                true
            }
            None => false,
        });
        q.run_one();
        if !waker.join().unwrap() {
            slot.lock().unwrap().take().expect("waker published").wake();
        }
        q.run_all();
        assert_eq!(loom::future::block_on(join).unwrap(), 2);
        assert_eq!(polls.load(SeqCst), 2);
    });
}

#[test]
fn waking_a_completed_task_does_nothing() {
    loom::model(|| {
        let q = TaskQueue::new();
        let slot: Slot = Arc::new(Mutex::new(None));
        let polls = Arc::new(AtomicUsize::new(0));
        let join = q.spawn(stepper(slot.clone(), polls.clone(), 1));
        let s2 = slot.clone();
        let waker = thread::spawn(move || {
            if let Some(w) = s2.lock().unwrap().take() {
                w.wake_by_ref();
                w.wake();
            }
        });
        q.run_all();
        waker.join().unwrap();
        q.run_all();
        assert_eq!(loom::future::block_on(join).unwrap(), 1);
        assert_eq!(polls.load(SeqCst), 1);
    });
}

/// Counts drops of the future and of the output.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn abort_racing_completion_is_one_or_the_other() {
    loom::model(|| {
        let q = TaskQueue::new();
        let slot: Slot = Arc::new(Mutex::new(None));
        let polls = Arc::new(AtomicUsize::new(0));
        let future_drops = Arc::new(AtomicUsize::new(0));
        let guard = Tracked(future_drops.clone());
        let step = stepper(slot.clone(), polls.clone(), 2);
        let join = q.spawn(async move {
            let _guard = guard;
            step.await
        });
        q.run_one(); // pending, waker published
        let abort = join.abort_handle();
        let aborter = thread::spawn(move || abort.abort());
        slot.lock().unwrap().take().unwrap().wake();
        q.run_all();
        aborter.join().unwrap();
        q.run_all();
        match loom::future::block_on(join) {
            Ok(n) => assert_eq!(n, 2),
            Err(e) => assert!(e.is_cancelled()),
        }
        assert!(polls.load(SeqCst) <= 2);
        assert_eq!(
            future_drops.load(SeqCst),
            1,
            "the future is dropped exactly once"
        );
    });
}

#[test]
fn join_handle_drop_racing_completion_drops_the_output_once() {
    loom::model(|| {
        let q = TaskQueue::new();
        let output_drops = Arc::new(AtomicUsize::new(0));
        let d = output_drops.clone();
        let join = q.spawn(async move { Tracked(d) });
        let dropper = thread::spawn(move || drop(join));
        q.run_all();
        dropper.join().unwrap();
        assert_eq!(output_drops.load(SeqCst), 1);
    });
}

#[test]
fn shutdown_of_a_queued_task_cancels_it_once() {
    loom::model(|| {
        let q = TaskQueue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = Tracked(drops.clone());
        let join = q.spawn(async move {
            let _g = guard;
        });
        let abort = join.abort_handle();
        let aborter = thread::spawn(move || abort.abort());
        q.shutdown();
        aborter.join().unwrap();
        q.run_all();
        assert!(loom::future::block_on(join).unwrap_err().is_cancelled());
        assert_eq!(drops.load(SeqCst), 1);
    });
}
