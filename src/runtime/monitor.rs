//! The monitor: a small per-runtime thread that keeps I/O and timers from
//! stalling when the worker that last held the driver gets stuck in a task
//! (Go's `sysmon` plays the same role).
//!
//! A worker leaving the driver does not wake a peer to take it over — that
//! would cost a futex wake on every I/O event. Instead the monitor looks
//! every interval: if the driver was not held at the previous look, has not
//! been acquired since (its generation is unchanged) and some worker is
//! asleep, the driver has gone unattended for a whole interval, so it wakes
//! a sleeping worker, which parks on the driver. The interval starts at
//! 1 ms after any such rescue and backs off to 10 ms while all is well, so
//! an unattended driver is noticed within about 20 ms at worst, and an idle
//! runtime costs 100 short wake-ups a second.

use super::handle::Handle;
use super::park::Parker;
use std::time::Duration;

const MIN_INTERVAL: Duration = Duration::from_millis(1);
const MAX_INTERVAL: Duration = Duration::from_millis(10);

pub(super) fn run(handle: Handle, parker: Parker) {
    let shared = &*handle.shared;
    let mut interval = MIN_INTERVAL;
    // Generation of the driver when it was last seen unheld.
    let mut unheld_since: Option<u64> = None;
    loop {
        parker.park_timeout(Some(interval));
        if shared.is_shutdown() {
            return;
        }
        let driver = &shared.driver;
        let (held, generation) = driver.held_and_generation();
        let rescue = !held && unheld_since == Some(generation) && shared.idle.num_sleeping() > 0;
        if rescue {
            shared.notify_parked();
            interval = MIN_INTERVAL;
        } else {
            interval = (interval * 2).min(MAX_INTERVAL);
        }
        unheld_since = (!held).then_some(generation);
    }
}
