//! The keep-alive pool. The daemon never closes idle connections, so the
//! client bounds them: at most `max_idle` are kept, each for at most
//! `idle_timeout`. Only connections whose response was read to its end go
//! back; streaming and hijacked calls never use pooled connections.

use super::Conn;
use parking_lot::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct Pool {
    idle: Mutex<Vec<(Conn, Instant)>>,
    max_idle: usize,
    idle_timeout: Duration,
}

impl Pool {
    pub(crate) fn new(max_idle: usize, idle_timeout: Duration) -> Pool {
        Pool {
            idle: Mutex::new(Vec::with_capacity(max_idle)),
            max_idle,
            idle_timeout,
        }
    }

    /// The most recently used live connection, if any.
    pub(crate) fn take(&self) -> Option<Conn> {
        let now = Instant::now();
        let mut idle = self.idle.lock();
        // Drop the expired ones (oldest first in the vector).
        let fresh_from = idle
            .iter()
            .position(|(_, at)| now.duration_since(*at) < self.idle_timeout)
            .unwrap_or(idle.len());
        let expired: Vec<_> = idle.drain(..fresh_from).collect();
        let conn = idle.pop().map(|(mut c, _)| {
            c.reused = true;
            c
        });
        drop(idle);
        drop(expired);
        conn
    }

    /// Returns a connection whose last response was fully read.
    pub(crate) fn put(&self, conn: Conn) {
        if self.max_idle == 0 {
            return; // pooling is off: `conn` closes here
        }
        let mut idle = self.idle.lock();
        if idle.len() >= self.max_idle {
            let oldest = idle.remove(0);
            drop(idle);
            drop(oldest);
            self.idle.lock().push((conn, Instant::now()));
        } else {
            idle.push((conn, Instant::now()));
        }
    }

    /// Connections currently idle (for tests).
    pub(crate) fn idle_len(&self) -> usize {
        self.idle.lock().len()
    }
}
