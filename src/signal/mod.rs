//! Asynchronous signal handling: [`ctrl_c`] and, on Unix,
//! [`unix::signal`].
//!
//! Each listener owns a socket pair: signal-hook's self-pipe action (the
//! only thing that runs in the signal handler; it writes one byte,
//! non-blocking) writes into one end, and the other end is registered with
//! the runtime's reactor like any socket. So no thread waits for signals,
//! the handler does nothing but an async-signal-safe `send`, and a listener
//! sees every signal that arrives after it was created, even before its
//! first `recv()`. Signals of one kind that arrive before the listener
//! looks are coalesced into one `recv()`, as the OS itself coalesces them.
//!
//! **Once a listener for a signal kind has been created, the signal's
//! default action (for `SIGINT`: terminating the process) is gone for the
//! rest of the process, even after every listener is dropped.** Keep a
//! listener alive for as long as the program should react to the signal.

pub mod unix;

use std::io;

/// Completes at the next Ctrl-C (`SIGINT`) after the returned future is
/// first polled.
///
/// ```no_run
/// # stevedore::Runtime::new().unwrap().block_on(async {
/// stevedore::signal::ctrl_c().await.expect("Ctrl-C handler");
/// println!("Ctrl-C: shutting down");
/// # });
/// ```
///
/// To react to a *second* Ctrl-C differently (first: cancel gracefully;
/// second: exit at once), keep one listener and call `recv` twice, so no
/// Ctrl-C can fall between two listeners:
///
/// ```no_run
/// use stevedore::signal::unix::{signal, SignalKind};
/// use stevedore::sync::CancellationToken;
///
/// # stevedore::Runtime::new().unwrap().block_on(async {
/// let cancel = CancellationToken::new();
/// let mut sigint = signal(SignalKind::interrupt()).expect("SIGINT handler");
/// let token = cancel.clone();
/// stevedore::spawn(async move {
///     if sigint.recv().await.is_some() {
///         eprintln!("cancelling; press Ctrl-C again to exit now");
///         token.cancel();
///     }
///     if sigint.recv().await.is_some() {
///         std::process::exit(130);
///     }
/// });
/// // ... run the work, watching `cancel.cancelled()` ...
/// # });
/// ```
///
/// # Errors
///
/// If the listener cannot be set up (outside a runtime, or out of file
/// descriptors), or the runtime shuts down while waiting.
///
/// # Cancel safety
///
/// Not cancel safe in the sense that matters for signals: the listener is
/// created on the first poll and dropped with the future, so a Ctrl-C
/// between two `ctrl_c()` futures is not seen (and, the default action
/// being gone, is ignored). Use one [`unix::Signal`] for repeated waits.
pub async fn ctrl_c() -> io::Result<()> {
    let mut sigint = unix::signal(unix::SignalKind::interrupt())?;
    match sigint.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other(
            "the stevedore runtime shut down while waiting for Ctrl-C",
        )),
    }
}
