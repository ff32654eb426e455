//! What the client reports outside its return values: through `tracing`
//! when the `tracing` feature is on (targets `stevedore::docker` and
//! `stevedore::launch`), else on stderr for what must not go unseen.
//!
//! The launcher's events are [`Progress`](super::launch::Progress) values
//! logged as they are emitted; the client logs each request's outcome.

/// A guard could not schedule its cleanup (no runtime on this thread):
/// what it guarded stays on the engine.
pub(crate) fn cleanup_impossible(what: &str, id: &str) {
    #[cfg(feature = "tracing")]
    tracing::error!(target: "stevedore::docker", what, id, "cannot remove: no runtime to run the cleanup on");
    #[cfg(not(feature = "tracing"))]
    eprintln!("stevedore: cannot remove {what} {id}: no runtime to run the cleanup on");
}
