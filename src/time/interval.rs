//! `interval`: ticks at a fixed period without accumulating drift.

use super::sleep::{sleep_until, Sleep};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Ticks every `period`, the first tick completing immediately.
///
/// Tick `k` is scheduled at `start + k * period`, computed from the start
/// rather than from the previous tick, so lateness never accumulates. If the
/// consumer falls more than a period behind, the missed ticks are skipped
/// (as Go's `time.Ticker` drops them) and the next tick stays on the grid.
///
/// # Panics
///
/// If `period` is zero.
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Like [`interval`], with the first tick at `start`.
///
/// # Panics
///
/// If `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "interval period must be non-zero");
    Interval {
        start,
        period,
        next_index: 0,
        sleep: sleep_until(start),
    }
}

/// Returned by [`interval`].
#[derive(Debug)]
pub struct Interval {
    start: Instant,
    period: Duration,
    /// Index on the grid of the next tick to hand out.
    next_index: u64,
    sleep: Sleep,
}

impl Interval {
    /// Completes at the next tick and returns its scheduled instant.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a tick is consumed only when `tick` returns it, so a
    /// dropped `tick` loses none.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Poll form of [`tick`](Self::tick).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.sleep.deadline();
        let now = Instant::now();
        // Next grid point strictly after both the tick just returned and,
        // when we are late by more than a period, after `now`.
        let mut next = self.next_index + 1;
        let behind = now.saturating_duration_since(self.start).as_nanos() / self.period.as_nanos();
        let behind = u64::try_from(behind).unwrap_or(u64::MAX);
        if behind >= next {
            next = behind + 1;
        }
        self.next_index = next;
        self.sleep.reset(self.at(next));
        Poll::Ready(scheduled)
    }

    /// Restarts the grid so the next tick is one period from now.
    pub fn reset(&mut self) {
        self.start = Instant::now();
        self.next_index = 1;
        let at = self.at(1);
        self.sleep.reset(at);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    fn at(&self, index: u64) -> Instant {
        let offset = self
            .period
            .checked_mul(u32::try_from(index).unwrap_or(u32::MAX))
            .unwrap_or(Duration::MAX);
        self.start
            .checked_add(offset)
            .unwrap_or_else(super::sleep::far_future)
    }
}

impl futures::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}
