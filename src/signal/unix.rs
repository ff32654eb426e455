//! Unix signals as async streams: [`signal`] and [`SignalKind`].

use crate::chan::select::{ArmPicker, PickChannelArm, SelectArm, Token};
use crate::reactor::{Direction, PollEvented};
use crate::runtime::coop;
use mio::Interest;
use std::fmt;
use std::future::Future;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A kind of Unix signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// Any signal by number (e.g. a real-time one, `libc::SIGRTMIN() + n`).
    pub const fn from_raw(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    pub const fn as_raw_value(&self) -> libc::c_int {
        self.0
    }

    /// `SIGALRM`.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGCHLD`.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGHUP`.
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGINT` (Ctrl-C).
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGIO`.
    pub const fn io() -> SignalKind {
        SignalKind(libc::SIGIO)
    }

    /// `SIGPIPE`.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGQUIT`.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGTERM`.
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGUSR1`.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGWINCH`.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<libc::c_int> for SignalKind {
    fn from(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }
}

/// Listens for one kind of signal; see [`signal`].
pub struct Signal {
    kind: SignalKind,
    /// The read end, registered with the reactor.
    io: PollEvented<mio::net::UnixStream>,
    /// The signal-hook action writing into the other end.
    id: signal_hook::SigId,
    /// A signal taken by a `select!` arm that then lost; reported first.
    stashed: bool,
}

/// Starts listening for `kind`: every such signal from now on makes
/// [`Signal::recv`] return (several before one `recv` count once).
///
/// Any number of listeners, for the same or different kinds, may coexist;
/// each sees every signal. Installing the first listener of a kind removes
/// that signal's default action for the rest of the process (see the
/// [module docs](crate::signal)).
///
/// ```
/// use stevedore::signal::unix::{signal, SignalKind};
///
/// # stevedore::Runtime::new().unwrap().block_on(async {
/// let mut usr1 = signal(SignalKind::user_defined1())?;
/// // SAFETY: sending a signal to ourselves; a listener is installed.
/// unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
/// usr1.recv().await;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
///
/// # Errors
///
/// `InvalidInput` for signals that cannot be handled (`SIGKILL`,
/// `SIGSTOP`, `SIGILL`, `SIGFPE`, `SIGSEGV`) or that do not exist; an I/O
/// error if called outside a stevedore runtime or if no socket can be
/// created.
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signum = kind.0;
    if signal_hook::consts::FORBIDDEN.contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {signum} cannot be handled (it is reserved to the OS)"),
        ));
    }
    // A number sigaction rejects must be refused before signal-hook sees
    // it: it only reports some bad numbers by panicking.
    if !(1..=max_signal()).contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{signum} is not a signal number"),
        ));
    }
    let (read, write) = std::os::unix::net::UnixStream::pair()?;
    read.set_nonblocking(true)?;
    let io = PollEvented::new(mio::net::UnixStream::from_std(read), Interest::READABLE)?;
    let id = signal_hook::low_level::pipe::register(signum, OwnedFd::from(write))?;
    Ok(Signal {
        kind,
        io,
        id,
        stashed: false,
    })
}

#[cfg(target_os = "linux")]
fn max_signal() -> libc::c_int {
    libc::SIGRTMAX()
}

#[cfg(not(target_os = "linux"))]
fn max_signal() -> libc::c_int {
    31
}

impl Signal {
    /// Waits for the next signal of this kind. Returns `None` once no more
    /// can come (the runtime shut down).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a signal that arrives while no `recv` is running is
    /// kept for the next one. In [`select!`](crate::select) it completes
    /// only if it wins; a signal seen just as another arm won is kept.
    pub fn recv(&mut self) -> Recv<'_> {
        Recv { signal: self }
    }

    /// Polls for the next signal; see [`recv`](Signal::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if std::mem::take(&mut self.stashed) {
            return Poll::Ready(Some(()));
        }
        let reg = self.io.registration();
        loop {
            let ev = match ready!(reg.poll_ready(cx, Direction::Read)) {
                Ok(ev) => ev,
                Err(_) => return Poll::Ready(None),
            };
            // Drain every byte first, then report: a signal arriving after
            // the drain leaves a byte (and a readiness edge) for next time.
            let mut got = false;
            let mut buf = [0u8; 64];
            loop {
                match self.io.get_ref().read(&mut buf) {
                    Ok(0) => return Poll::Ready(None),
                    Ok(_) => got = true,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        reg.clear_readiness(ev);
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return Poll::Ready(None),
                }
            }
            if got {
                coop::consume();
                return Poll::Ready(Some(()));
            }
        }
    }

    /// The kind this listener receives.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

/// Future returned by [`Signal::recv`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Recv<'a> {
    signal: &'a mut Signal,
}

impl Future for Recv<'_> {
    type Output = Option<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.signal.poll_recv(cx)
    }
}

impl<'a> PickChannelArm for ArmPicker<Recv<'a>> {
    type Arm = Recv<'a>;
    fn pick(&self) -> Self::Arm {
        self.take()
    }
}

impl SelectArm for Recv<'_> {
    type Output = Option<()>;

    unsafe fn poll_arm(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        token: &Token,
        arm: usize,
    ) -> Poll<Option<()>> {
        // Polled even if another arm just won: what it takes is put back
        // below, so nothing is lost either way.
        let out = ready!(self.as_mut().poll(cx));
        if token.try_claim(arm) {
            return Poll::Ready(out);
        }
        if out.is_some() {
            self.signal.stashed = true; // lost the select: keep the signal
        }
        Poll::Pending
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        // Removes the action (which closes the write end); the read end is
        // deregistered when `io` drops.
        signal_hook::low_level::unregister(self.id);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}
