//! The Docker client's one error type.

use super::build::BuildContextError;
use super::connect::SettingsError;
use super::http::{SshProblem, TlsProblem};
use super::minimal::MinimalImageError;
use super::reference::ReferenceError;
use super::spec::SpecError;
use std::fmt;
use std::io;
use std::time::Duration;

/// Everything a Docker call can fail with.
///
/// `Clone`: an I/O error is cloned by its OS error code when it has one,
/// else by its kind and message (`io::Error` itself is not `Clone`).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The daemon could not be reached at `host` (missing socket, refused,
    /// permission denied, ...).
    Connect {
        /// The host as given (`unix:///var/run/docker.sock`, `tcp://…`).
        host: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// An I/O error on an established connection.
    Io {
        /// The request it happened during (`GET /v1.41/containers/json`).
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The daemon answered with an error status (other than 404/409).
    Api {
        /// HTTP status.
        status: u16,
        /// The daemon's `message` (or the body as text).
        message: String,
    },
    /// 404: no such container, image, …
    NotFound {
        /// The daemon's message.
        message: String,
    },
    /// 409: name in use, container running, …
    Conflict {
        /// The daemon's message.
        message: String,
    },
    /// An exec into a container that is stopped, paused or restarting
    /// (the daemon's 409 to an exec); a missing one is [`Error::NotFound`].
    ContainerNotRunning {
        /// The container (id or name) as given.
        container: String,
        /// The daemon's message.
        message: String,
    },
    /// The daemon's response did not follow HTTP or the Engine API.
    Protocol(String),
    /// A call did not finish (headers and body) within its deadline.
    Timeout {
        /// The request.
        what: String,
        /// The deadline.
        after: Duration,
    },
    /// An image reference is empty or malformed; nothing was sent.
    InvalidReference(ReferenceError),
    /// An image is not on the engine and pulling it failed.
    ImageUnavailable {
        /// The reference asked for.
        reference: String,
        /// The engine.
        host: String,
        /// Why the pull failed.
        source: Box<Error>,
    },
    /// The project's minimal image could not be built or is not what its
    /// recipe makes.
    MinimalImage(MinimalImageError),
    /// The connection settings cannot be used (an unknown or unreadable
    /// docker context, a bad `config.json`); nothing was connected.
    Settings(SettingsError),
    /// TLS to `host` failed or cannot be set up; `problem` says what to fix.
    Tls {
        /// The host as given.
        host: String,
        /// What went wrong.
        problem: TlsProblem,
    },
    /// The `ssh` transport to `host` failed; `problem` says what to fix.
    Ssh {
        /// The host as given.
        host: String,
        /// What went wrong.
        problem: SshProblem,
    },
    /// A container option is malformed; nothing was sent.
    InvalidSpec(SpecError),
    /// A build's context could not be prepared; nothing was sent.
    BuildContext(BuildContextError),
    /// The daemon reported that a build failed (a `RUN` exited non-zero, a
    /// `FROM` image is missing, the Dockerfile is malformed, …).
    BuildFailed {
        /// The daemon's message.
        message: String,
        /// Its `errorDetail.code` (a failed `RUN`'s exit code), if any.
        code: Option<i64>,
    },
    /// A Swarm call on an engine whose swarm role does not allow it (see
    /// [`SwarmErrorKind`](super::swarm::SwarmErrorKind)).
    Swarm {
        /// Why the engine refused.
        kind: super::swarm::SwarmErrorKind,
        /// The daemon's message.
        message: String,
    },
}

impl Clone for Error {
    fn clone(&self) -> Error {
        match self {
            Error::Connect { host, source } => Error::Connect {
                host: host.clone(),
                source: clone_io(source),
            },
            Error::Io { context, source } => Error::Io {
                context: context.clone(),
                source: clone_io(source),
            },
            Error::Api { status, message } => Error::Api {
                status: *status,
                message: message.clone(),
            },
            Error::NotFound { message } => Error::NotFound {
                message: message.clone(),
            },
            Error::Conflict { message } => Error::Conflict {
                message: message.clone(),
            },
            Error::ContainerNotRunning { container, message } => Error::ContainerNotRunning {
                container: container.clone(),
                message: message.clone(),
            },
            Error::Protocol(m) => Error::Protocol(m.clone()),
            Error::Timeout { what, after } => Error::Timeout {
                what: what.clone(),
                after: *after,
            },
            Error::InvalidReference(e) => Error::InvalidReference(e.clone()),
            Error::ImageUnavailable {
                reference,
                host,
                source,
            } => Error::ImageUnavailable {
                reference: reference.clone(),
                host: host.clone(),
                source: source.clone(),
            },
            Error::MinimalImage(e) => Error::MinimalImage(e.clone()),
            Error::Settings(e) => Error::Settings(e.clone()),
            Error::Tls { host, problem } => Error::Tls {
                host: host.clone(),
                problem: problem.clone(),
            },
            Error::Ssh { host, problem } => Error::Ssh {
                host: host.clone(),
                problem: problem.clone(),
            },
            Error::InvalidSpec(e) => Error::InvalidSpec(e.clone()),
            Error::BuildContext(e) => Error::BuildContext(e.clone()),
            Error::BuildFailed { message, code } => Error::BuildFailed {
                message: message.clone(),
                code: *code,
            },
            Error::Swarm { kind, message } => Error::Swarm {
                kind: *kind,
                message: message.clone(),
            },
        }
    }
}

fn clone_io(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}

/// Podman's `cause`s that dockerd reports as 409: a container name taken
/// (`ErrCtrExists`), an action the container's state forbids, such as
/// removing it while it runs or killing it when it does not
/// (`ErrCtrStateInvalid`).
const PODMAN_CONFLICTS: [&str; 2] = ["that name is already in use", "container state improper"];

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Builds the error for a non-success status, pulling `message` out of a
    /// JSON body, or using the body as text.
    pub(crate) fn from_status(status: u16, body: &[u8]) -> Error {
        let json = serde_json::from_slice::<serde_json::Value>(body).ok();
        let field = |name: &str| {
            json.as_ref()
                .and_then(|v| v.get(name).and_then(|m| m.as_str()).map(str::to_owned))
        };
        let message =
            field("message").unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
        // Podman answers some conflicts with a 500 whose `cause` is one of
        // libpod's fixed error texts; they are conflicts all the same.
        let status = match field("cause").as_deref() {
            Some(cause) if status == 500 && PODMAN_CONFLICTS.contains(&cause) => 409,
            _ => status,
        };
        let message = if message.is_empty() {
            format!("HTTP {status}")
        } else {
            message
        };
        match status {
            404 => Error::NotFound { message },
            409 => Error::Conflict { message },
            _ => Error::Api { status, message },
        }
    }

    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::NotFound { .. } => Some(404),
            Error::Conflict { .. } | Error::ContainerNotRunning { .. } => Some(409),
            _ => None,
        }
    }

    /// True for 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// True for 409.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }

    /// True when retrying later may help: the daemon was unreachable, a
    /// connection broke, a deadline passed, or it reported a 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Connect { source, .. } => !matches!(
                source.kind(),
                io::ErrorKind::NotFound
                    | io::ErrorKind::PermissionDenied
                    | io::ErrorKind::InvalidInput
            ),
            Error::Io { .. } | Error::Timeout { .. } => true,
            Error::Api { status, .. } => *status >= 500,
            // A dead or silent `ssh` may come back; a refused key or a
            // missing `docker` will not.
            Error::Ssh { problem, .. } => matches!(
                problem,
                SshProblem::Exited { .. } | SshProblem::NoAnswer { .. }
            ),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Connect { host, source } => {
                write!(f, "cannot connect to the Docker daemon at {host}: {source}")
            }
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Api { status, message } => write!(f, "Docker API error {status}: {message}"),
            Error::NotFound { message } => write!(f, "not found: {message}"),
            Error::Conflict { message } => write!(f, "conflict: {message}"),
            Error::ContainerNotRunning { container, message } => {
                write!(f, "container {container} is not running: {message}")
            }
            Error::Protocol(what) => write!(f, "malformed response from the Docker daemon: {what}"),
            Error::Timeout { what, after } => write!(f, "{what} did not finish within {after:?}"),
            Error::InvalidReference(e) => e.fmt(f),
            Error::ImageUnavailable {
                reference,
                host,
                source,
            } => write!(
                f,
                "image {reference} is not on {host} and could not be pulled: {source}"
            ),
            Error::MinimalImage(e) => e.fmt(f),
            Error::Settings(e) => e.fmt(f),
            Error::Tls { host, problem } => write!(f, "TLS to {host}: {problem}"),
            Error::Ssh { host, problem } => write!(f, "ssh to {host}: {problem}"),
            Error::InvalidSpec(e) => write!(f, "invalid container spec: {e}"),
            Error::BuildContext(e) => e.fmt(f),
            Error::BuildFailed { message, .. } => write!(f, "the build failed: {message}"),
            Error::Swarm { kind, message } => write!(f, "{kind}: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect { source, .. } | Error::Io { source, .. } => Some(source),
            Error::InvalidReference(e) => Some(e),
            Error::ImageUnavailable { source, .. } => Some(&**source),
            Error::MinimalImage(e) => Some(e),
            Error::Settings(e) => Some(e),
            Error::Tls { problem, .. } => Some(problem),
            Error::Ssh { problem, .. } => Some(problem),
            Error::InvalidSpec(e) => Some(e),
            Error::BuildContext(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ReferenceError> for Error {
    fn from(e: ReferenceError) -> Error {
        Error::InvalidReference(e)
    }
}

impl From<MinimalImageError> for Error {
    fn from(e: MinimalImageError) -> Error {
        Error::MinimalImage(e)
    }
}

impl From<SettingsError> for Error {
    fn from(e: SettingsError) -> Error {
        Error::Settings(e)
    }
}

impl From<SpecError> for Error {
    fn from(e: SpecError) -> Error {
        Error::InvalidSpec(e)
    }
}

impl From<BuildContextError> for Error {
    fn from(e: BuildContextError) -> Error {
        Error::BuildContext(e)
    }
}
