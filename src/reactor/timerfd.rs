//! A `timerfd` in the epoll set, so the worker blocked in `epoll_wait` wakes
//! at a timer deadline with sub-millisecond precision (`epoll_wait`'s own
//! timeout, as mio passes it, is rounded up to whole milliseconds).

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct TimerFd {
    fd: OwnedFd,
    /// The absolute CLOCK_MONOTONIC deadline currently armed (ns), if any.
    armed: Option<u128>,
}

fn monotonic_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl TimerFd {
    pub(crate) fn new(registry: &Registry, token: Token) -> io::Result<TimerFd> {
        // SAFETY: plain syscall; the result is checked below.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        registry.register(&mut SourceFd(&fd.as_raw_fd()), token, Interest::READABLE)?;
        Ok(TimerFd { fd, armed: None })
    }

    /// Arms the timer to fire `after` from now (re-arming only if the
    /// deadline moved by more than a microsecond).
    pub(crate) fn arm(&mut self, after: Duration) -> io::Result<()> {
        let deadline = monotonic_now() + after;
        let ns = deadline.as_nanos();
        if self.armed.is_some_and(|a| a.abs_diff(ns) < 1_000) {
            return Ok(());
        }
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: deadline.as_secs() as libc::time_t,
                tv_nsec: deadline.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: `fd` is a valid timerfd; `spec` is a valid itimerspec.
        let rc = unsafe {
            libc::timerfd_settime(
                self.fd.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        self.armed = Some(ns);
        Ok(())
    }

    /// Consumes an expiration (the fd is edge-triggered; reading resets it).
    pub(crate) fn acknowledge(&mut self) {
        let mut buf = [0u8; 8];
        // SAFETY: reading 8 bytes into a valid buffer from our fd.
        unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
        self.armed = None;
    }
}
