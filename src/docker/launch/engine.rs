//! The engines of one batch: least-in-flight selection, a cooldown for
//! engines that refuse connections, and a health probe that marks an
//! engine that stops answering down for the rest of the batch.
//!
//! Protocol: every engine gets a probe task for the batch's lifetime: a
//! ping every [`PROBE_INTERVAL`], each within the batch's
//! `connect_timeout`. A ping that gets no answer in time marks the engine
//! *hung*: its `hung` channel is closed, which every call in flight on it
//! selects on, so they are abandoned at once (their connections go to
//! undertakers, see `docker::client`), and `pick` never chooses it again.
//! A refused connection only starts a cooldown; a later answered ping ends
//! it. Per-engine bookkeeping (counts, names that may be left on it) lives
//! here too.

use super::report::EngineState;
use super::FailureKind;
use crate::chan::{self, Receiver, Sender};
use crate::docker::{Docker, Error};
use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering::*};
use std::time::{Duration, Instant};

/// How long an engine that refused a connection is passed over.
const COOLDOWN: Duration = Duration::from_secs(2);
/// Time between health probes.
pub(super) const PROBE_INTERVAL: Duration = Duration::from_millis(500);

pub(super) struct Engine {
    pub(super) index: usize,
    pub(super) docker: Docker,
    in_flight: AtomicUsize,
    cooldown_until: Mutex<Option<Instant>>,
    /// Closed when the engine is marked hung (never reopened).
    hung_tx: Sender<()>,
    pub(super) hung: Receiver<()>,
    pub(super) book: Mutex<Book>,
}

/// What the report says about an engine.
#[derive(Default)]
pub(super) struct Book {
    pub(super) launched: usize,
    pub(super) failed: usize,
    pub(super) retried_away: usize,
    pub(super) went_down: bool,
    pub(super) error: Option<String>,
    /// Containers created, or possibly created, and not seen removed.
    pub(super) maybe_left: BTreeSet<String>,
}

/// Counts a container in flight on an engine until dropped.
pub(super) struct InFlight<'a>(&'a Engine);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, AcqRel);
    }
}

impl Engine {
    pub(super) fn new(index: usize, docker: Docker) -> Engine {
        let (hung_tx, hung) = chan::bounded(0);
        Engine {
            index,
            docker,
            in_flight: AtomicUsize::new(0),
            cooldown_until: Mutex::new(None),
            hung_tx,
            hung,
            book: Mutex::new(Book::default()),
        }
    }

    pub(super) fn host(&self) -> &str {
        self.docker.host()
    }

    pub(super) fn is_hung(&self) -> bool {
        self.hung.is_closed()
    }

    /// Marks the engine hung; true the first time.
    pub(super) fn mark_hung(&self, why: &str) -> bool {
        let first = self.hung_tx.close();
        if first {
            let mut b = self.book.lock();
            b.went_down = true;
            b.error.get_or_insert_with(|| why.to_owned());
        }
        first
    }

    /// The engine refused or dropped a connection: pass it over for a
    /// while. True if it was not cooling down already.
    pub(super) fn mark_unreachable(&self, why: &str) -> bool {
        let now = Instant::now();
        let was = self.cooling_until(now).is_some();
        *self.cooldown_until.lock() = Some(now + COOLDOWN);
        let mut b = self.book.lock();
        b.went_down = true;
        b.error.get_or_insert_with(|| why.to_owned());
        !was
    }

    /// Notes a failed call: a refused or lost connection starts a
    /// cooldown, a passed deadline marks the engine hung. Returns the kind
    /// of event to report when the engine just went down.
    pub(super) fn note_error(&self, e: &Error) -> Option<FailureKind> {
        match e {
            Error::Connect { .. } | Error::Io { .. } | Error::Tls { .. } | Error::Ssh { .. } => {
                self.mark_unreachable(&e.to_string())
                    .then_some(FailureKind::EngineUnreachable)
            }
            Error::Timeout { .. } => self
                .mark_hung(&e.to_string())
                .then_some(FailureKind::EngineTimeout),
            _ => None,
        }
    }

    fn cooling_until(&self, now: Instant) -> Option<Instant> {
        let mut d = self.cooldown_until.lock();
        match *d {
            Some(t) if t > now => Some(t),
            _ => {
                *d = None;
                None
            }
        }
    }

    pub(super) fn state(&self) -> EngineState {
        if self.is_hung() {
            EngineState::Hung
        } else if self.book.lock().went_down {
            EngineState::WentDown
        } else {
            EngineState::Up
        }
    }

    /// A container that may be on this engine until seen removed.
    pub(super) fn note_maybe_left(&self, name: &str) {
        self.book.lock().maybe_left.insert(name.to_owned());
    }

    /// A container seen removed (or never created, or kept on purpose).
    pub(super) fn note_gone(&self, name: &str) {
        self.book.lock().maybe_left.remove(name);
    }

    /// Pings every [`PROBE_INTERVAL`] until `stop` closes; marks the
    /// engine hung if a ping gets no answer within `timeout`. Calls
    /// `on_down` when the engine goes down (hung or refusing).
    pub(super) async fn probe(
        &self,
        timeout: Duration,
        stop: &Receiver<()>,
        on_down: impl Fn(FailureKind, String),
    ) {
        loop {
            let ping = crate::time::timeout(timeout, self.docker.ping());
            let outcome = select! {
                r = ping => r,
                _ = stop.recv() => return,
            };
            match outcome {
                Ok(Ok(())) => *self.cooldown_until.lock() = None,
                Ok(Err(e)) => {
                    if let Some(kind) = self.note_error(&e) {
                        on_down(kind, e.to_string());
                    }
                }
                Err(_) => {
                    let why = format!("did not answer a ping within {timeout:?}");
                    if self.mark_hung(&why) {
                        on_down(FailureKind::EngineTimeout, why);
                    }
                }
            }
            if self.is_hung() {
                return;
            }
            select! {
                _ = crate::time::sleep(PROBE_INTERVAL) => {},
                _ = stop.recv() => return,
            }
        }
    }
}

/// Picks the engine for the next attempt: the reachable one with the
/// fewest containers in flight; if all are cooling down, the one that will
/// be back first (a single engine is retried, not given up on). `None`
/// when every engine is hung.
pub(super) fn pick(engines: &[Engine]) -> Option<(usize, InFlight<'_>)> {
    let now = Instant::now();
    let alive = || engines.iter().filter(|e| !e.is_hung());
    let up = alive()
        .filter(|e| e.cooling_until(now).is_none())
        .min_by_key(|e| e.in_flight.load(Acquire));
    let e = up.or_else(|| alive().min_by_key(|e| e.cooling_until(now).unwrap_or(now)))?;
    e.in_flight.fetch_add(1, AcqRel);
    Some((e.index, InFlight(e)))
}
