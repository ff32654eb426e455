//! Timer storage: one min-heap per worker plus one for threads outside the
//! runtime, each behind its own lock.
//!
//! A worker registers timers in its own shard, so the hot path takes a lock
//! no other thread normally touches (no global timer lock). Deadlines are
//! nanoseconds since the runtime's base instant — no rounding to
//! milliseconds, unlike tokio's wheel.
//!
//! Firing: any thread may fire any shard whose `next` deadline has passed
//! (workers do it every maintenance tick and before parking; the worker that
//! parks on the driver sleeps until the earliest `next` of all shards). A
//! shard being fired by someone else is skipped (`try_lock`), and wakers run
//! after the lock is released.
//!
//! Cancellation is lazy: a dropped `Sleep` marks its entry cancelled and the
//! heap discards it when it surfaces. So that many `timeout`s finishing early
//! cannot pile up, a shard compacts its heap (drops cancelled entries) when
//! it has doubled since the last compaction: amortised O(1) per timer, and
//! at most about twice the live entries (plus 1024) are ever held.

use crate::loom::sync::atomic::{AtomicU64, AtomicU8, Ordering::*};
use crate::loom::sync::{Arc, Mutex};
use crate::util::cache_padded::CachePadded;
use futures::task::AtomicWaker;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;
use std::task::Waker;
use std::time::{Duration, Instant};

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;
/// The runtime shut down before the timer fired: it never will.
const SHUT_DOWN: u8 = 3;

/// What a registered timer reports when polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimerState {
    Pending,
    Fired,
    /// Its runtime shut down first; the timer will never fire.
    ShutDown,
}

/// Below this many entries compaction is not worth it.
const COMPACT_MIN: usize = 1024;

pub(crate) struct Timers {
    base: Instant,
    shards: Box<[CachePadded<Shard>]>,
}

pub(crate) struct Shard {
    heap: Mutex<Heap>,
    /// Earliest deadline in `heap` (maybe of a cancelled entry), or
    /// `u64::MAX`. Written under the lock, read without it.
    next: AtomicU64,
}

struct Heap {
    entries: BinaryHeap<HeapEntry>,
    /// Set by `clear` (runtime shutdown): later registrations are refused.
    closed: bool,
    /// Compact when `entries` grows past this.
    compact_at: usize,
    seq: u64,
}

/// Shared between a `Sleep` and the heap that will fire it.
pub(crate) struct Entry {
    /// PENDING → FIRED (by the firing thread), PENDING → CANCELLED (by the
    /// `Sleep`'s drop) or PENDING → SHUT_DOWN (by `clear`); only one.
    state: AtomicU8,
    waker: AtomicWaker,
}

struct HeapEntry {
    deadline: u64,
    seq: u64,
    entry: Arc<Entry>,
}

impl Timers {
    pub(crate) fn new(num_shards: usize) -> Timers {
        Timers {
            base: Instant::now(),
            shards: (0..num_shards)
                .map(|_| {
                    CachePadded::new(Shard {
                        heap: Mutex::new(Heap {
                            entries: BinaryHeap::new(),
                            closed: false,
                            compact_at: COMPACT_MIN,
                            seq: 0,
                        }),
                        next: AtomicU64::new(u64::MAX),
                    })
                })
                .collect(),
        }
    }

    /// Nanoseconds from the base instant to `t` (0 if `t` is earlier).
    pub(crate) fn ns_of(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX - 1)
    }

    pub(crate) fn now_ns(&self) -> u64 {
        self.ns_of(Instant::now())
    }

    /// Time from now until the deadline `ns` (zero if it has passed).
    pub(crate) fn until(&self, ns: u64) -> Duration {
        Duration::from_nanos(ns.saturating_sub(self.now_ns()))
    }

    /// Earliest deadline over all shards, `u64::MAX` if none.
    pub(crate) fn next_deadline(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.next.load(SeqCst))
            .min()
            .unwrap_or(u64::MAX)
    }

    /// Registers a timer for `deadline` (ns) in `shard`; `None` once the
    /// timers were cleared by shutdown (nobody would ever fire it).
    pub(crate) fn register(
        &self,
        shard: usize,
        deadline: u64,
        waker: &Waker,
    ) -> Option<Arc<Entry>> {
        let shard = &self.shards[shard];
        let entry = Arc::new(Entry {
            state: AtomicU8::new(PENDING),
            waker: AtomicWaker::new(),
        });
        entry.waker.register(waker);
        let mut heap = shard.heap.lock();
        if heap.closed {
            return None;
        }
        if heap.entries.len() >= heap.compact_at {
            heap.entries
                .retain(|e| e.entry.state.load(Acquire) != CANCELLED);
            heap.compact_at = (2 * heap.entries.len()).max(COMPACT_MIN);
            let top = heap.entries.peek().map_or(u64::MAX, |e| e.deadline);
            shard.next.store(top, SeqCst);
        }
        let seq = heap.seq;
        heap.seq += 1;
        heap.entries.push(HeapEntry {
            deadline,
            seq,
            entry: entry.clone(),
        });
        if deadline < shard.next.load(Relaxed) {
            shard.next.store(deadline, SeqCst);
        }
        drop(heap);
        Some(entry)
    }

    /// Fires every timer due at `now` (ns) and wakes its task. Returns the
    /// number fired. `buf` is scratch space reused between calls.
    pub(crate) fn fire_due(&self, now: u64, buf: &mut Vec<Arc<Entry>>) -> usize {
        let mut fired = 0;
        for shard in self.shards.iter() {
            if shard.next.load(SeqCst) > now {
                continue;
            }
            let Some(mut heap) = shard.heap.try_lock() else {
                continue;
            };
            while let Some(top) = heap.entries.peek() {
                if top.deadline > now {
                    break;
                }
                let e = heap.entries.pop().expect("peeked").entry;
                if e.state
                    .compare_exchange(PENDING, FIRED, AcqRel, Acquire)
                    .is_ok()
                {
                    buf.push(e);
                }
            }
            let top = heap.entries.peek().map_or(u64::MAX, |e| e.deadline);
            shard.next.store(top, SeqCst);
            drop(heap);
            fired += buf.len();
            for e in buf.drain(..) {
                // A user's waker must not unwind into the worker firing it.
                crate::util::panic::catch_quietly(|| e.waker.wake());
            }
        }
        fired
    }

    /// Runtime shutdown: closes every shard to new timers and marks every
    /// pending one `SHUT_DOWN`, waking its waiter (a `Sleep` moved out of
    /// the runtime, or awaited by a thread outside it) so that it panics
    /// rather than waits forever.
    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            let drained: Vec<_> = {
                let mut heap = shard.heap.lock();
                heap.closed = true;
                heap.entries.drain().collect()
            };
            shard.next.store(u64::MAX, SeqCst);
            for e in &drained {
                if e.entry
                    .state
                    .compare_exchange(PENDING, SHUT_DOWN, AcqRel, Acquire)
                    .is_ok()
                {
                    // A user's waker must not unwind into the thread
                    // shutting the runtime down.
                    crate::util::panic::catch_quietly(|| e.entry.waker.wake());
                } else {
                    crate::util::panic::drop_quietly(e.entry.waker.take());
                }
            }
        }
    }

    /// Live and cancelled entries over all shards (for tests/diagnostics).
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.heap.lock().entries.len())
            .sum()
    }
}

impl Entry {
    pub(crate) fn is_fired(&self) -> bool {
        self.state.load(Acquire) == FIRED
    }

    fn timer_state(&self) -> TimerState {
        match self.state.load(Acquire) {
            FIRED => TimerState::Fired,
            SHUT_DOWN => TimerState::ShutDown,
            _ => TimerState::Pending,
        }
    }

    /// Registers `waker` unless the timer has fired or was shut down (then
    /// no wake follows).
    pub(crate) fn poll_state(&self, waker: &Waker) -> TimerState {
        let state = self.timer_state();
        if state != TimerState::Pending {
            return state;
        }
        self.waker.register(waker);
        self.timer_state()
    }

    /// Called when the `Sleep` is dropped or reset: releases the waker of a
    /// timer that has not fired (a fired one needs nothing).
    pub(crate) fn cancel(&self) {
        if self.state.load(Acquire) == PENDING
            && self
                .state
                .compare_exchange(PENDING, CANCELLED, AcqRel, Acquire)
                .is_ok()
        {
            self.waker.take();
        }
    }
}

impl PartialEq for HeapEntry {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}
impl Eq for HeapEntry {}
impl PartialOrd for HeapEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeapEntry {
    /// Reversed, so `BinaryHeap` (a max-heap) pops the earliest deadline,
    /// and among equal deadlines the earliest registration.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.deadline, other.seq).cmp(&(self.deadline, self.seq))
    }
}

impl fmt::Debug for Timers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timers")
            .field("shards", &self.shards.len())
            .finish()
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("state", &self.state.load(Relaxed))
            .finish()
    }
}
