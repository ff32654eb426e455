//! The typed reasons an engine refuses a Swarm call.

use crate::docker::Error;
use std::fmt;

/// Why an engine refused a Swarm call ([`Error::Swarm`]). The daemon
/// answers all three with 503; the call decides which it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SwarmErrorKind {
    /// A call only a manager answers (services, tasks, nodes, inspect) went
    /// to an engine that is not in a swarm, or is a worker.
    NotManager,
    /// `leave` on an engine that is not in a swarm.
    NotInSwarm,
    /// `init` or `join` on an engine already in a swarm.
    AlreadyInSwarm,
}

impl fmt::Display for SwarmErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SwarmErrorKind::NotManager => "the engine is not a swarm manager",
            SwarmErrorKind::NotInSwarm => "the engine is not in a swarm",
            SwarmErrorKind::AlreadyInSwarm => "the engine is already in a swarm",
        })
    }
}

/// Turns the daemon's 503 into [`Error::Swarm`] of `kind`.
pub(crate) fn on_503(kind: SwarmErrorKind) -> impl Fn(Error) -> Error {
    move |e| match e {
        Error::Api {
            status: 503,
            message,
        } => Error::Swarm { kind, message },
        e => e,
    }
}
