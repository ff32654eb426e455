//! [`LaunchError`]: why a batch could not run at all.

use super::FailureKind;
use crate::docker::Error;
use std::fmt;
use std::path::PathBuf;

/// Why a batch did not run (its [`Report`](super::Report) says what
/// happened to a batch that did). Every variant but `Spec` is returned
/// before anything is created.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LaunchError {
    /// An option is out of range or malformed.
    InvalidOptions {
        /// Which (`"count"`, `"concurrency"`, …).
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A launcher needs at least one engine.
    NoEngines,
    /// The same engine was given twice.
    DuplicateEngine {
        /// Its host.
        host: String,
    },
    /// No engine could be reached.
    Unreachable {
        /// Each host and why.
        engines: Vec<(String, Error)>,
    },
    /// Swarm mode: the first engine is not an active swarm manager.
    NotSwarmManager {
        /// Its host.
        host: String,
        /// Its `LocalNodeState` (`inactive`, `active` for a worker, …).
        state: String,
    },
    /// The logs directory cannot be created.
    LogsDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The spec cannot work (missing image, invalid option or command). The
    /// batch stopped at the first such error; nothing it created is left on
    /// the engines that answer. An option the client itself finds
    /// malformed ([`Error::InvalidSpec`]) stops it before anything is
    /// created; a spec error is never retried.
    Spec {
        /// [`FailureKind::ImageMissing`] or [`FailureKind::SpecInvalid`].
        kind: FailureKind,
        /// A readable reason.
        reason: String,
        /// The daemon's error, or [`Error::InvalidSpec`].
        source: Error,
    },
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::InvalidOptions { option, reason } => {
                write!(f, "invalid option {option}: {reason}")
            }
            LaunchError::NoEngines => f.write_str("no engine given"),
            LaunchError::DuplicateEngine { host } => {
                write!(f, "engine {host} is given more than once")
            }
            LaunchError::Unreachable { engines } => {
                f.write_str("no engine can be reached")?;
                for (host, e) in engines {
                    write!(f, "; {host}: {e}")?;
                }
                Ok(())
            }
            LaunchError::NotSwarmManager { host, state } => {
                write!(f, "{host} is not a swarm manager (swarm state {state:?})")
            }
            LaunchError::LogsDir { path, reason } => {
                write!(f, "cannot use {} for logs: {reason}", path.display())
            }
            LaunchError::Spec { kind, reason, .. } => {
                write!(f, "the batch cannot run ({kind}): {reason}")
            }
        }
    }
}

impl std::error::Error for LaunchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LaunchError::Spec { source, .. } => Some(source),
            _ => None,
        }
    }
}
