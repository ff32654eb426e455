//! The engines of a launch: least-in-flight selection, and a cooldown for
//! engines that stopped answering.

use super::super::Docker;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::*};
use std::time::{Duration, Instant};

/// How long an unreachable engine is passed over.
const COOLDOWN: Duration = Duration::from_secs(2);

pub(crate) struct Engine {
    pub(crate) docker: Docker,
    in_flight: AtomicUsize,
    down_until: Mutex<Option<Instant>>,
    pub(crate) launched: AtomicUsize,
    pub(crate) failed: AtomicUsize,
}

/// Counts a container in flight on an engine until dropped.
pub(crate) struct InFlight<'a>(&'a Engine);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, AcqRel);
    }
}

impl Engine {
    pub(crate) fn new(docker: Docker) -> Engine {
        Engine {
            docker,
            in_flight: AtomicUsize::new(0),
            down_until: Mutex::new(None),
            launched: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        }
    }

    pub(crate) fn host(&self) -> &str {
        self.docker.host()
    }

    /// The engine did not answer: pass it over for a while.
    pub(crate) fn mark_down(&self) {
        *self.down_until.lock() = Some(Instant::now() + COOLDOWN);
    }

    fn down_until(&self, now: Instant) -> Option<Instant> {
        let mut d = self.down_until.lock();
        match *d {
            Some(t) if t > now => Some(t),
            _ => {
                *d = None;
                None
            }
        }
    }
}

/// Picks the engine for the next container: the reachable one with the
/// fewest containers in flight; if all are cooling down, the one that will
/// be back first (a single engine is retried, not given up on).
pub(crate) fn pick(engines: &[Engine]) -> (usize, InFlight<'_>) {
    let now = Instant::now();
    let up = engines
        .iter()
        .enumerate()
        .filter(|(_, e)| e.down_until(now).is_none())
        .min_by_key(|(_, e)| e.in_flight.load(Acquire));
    let (i, e) = up.unwrap_or_else(|| {
        engines
            .iter()
            .enumerate()
            .min_by_key(|(_, e)| e.down_until(now).unwrap_or(now))
            .expect("a launcher has at least one engine")
    });
    e.in_flight.fetch_add(1, AcqRel);
    (i, InFlight(e))
}
