//! What can go wrong on a connection, and the typed TLS and ssh problems a
//! remote transport reports (public: they are carried by
//! `docker::Error::Tls` and `docker::Error::Ssh`).

use super::super::codec::CodecError;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What went wrong on a connection (mapped to `docker::Error` by the
/// client, which knows the request).
#[derive(Debug)]
pub(crate) enum HttpError {
    Io(io::Error),
    Protocol(String),
    /// A pooled connection turned out to be dead before any response byte
    /// arrived: the request never reached the daemon and may be retried.
    Stale(io::Error),
    /// The TLS or ssh layer failed, with a diagnosis.
    Transport {
        host: Arc<str>,
        problem: TransportProblem,
    },
}

impl From<CodecError> for HttpError {
    fn from(e: CodecError) -> HttpError {
        HttpError::Protocol(e.to_string())
    }
}

/// A diagnosed failure of a remote transport.
#[derive(Debug, Clone)]
pub(crate) enum TransportProblem {
    Tls(TlsProblem),
    Ssh(SshProblem),
}

/// Why a TLS connection to an engine failed, in terms of what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsProblem {
    /// A certificate or key file does not exist.
    MissingFile {
        /// `"CA certificate"`, `"client certificate"` or `"client key"`.
        what: &'static str,
        /// The path that was looked at.
        path: PathBuf,
    },
    /// A certificate or key file is not usable PEM (or holds no
    /// certificate / key, or the key does not match the certificate).
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The engine's certificate is not signed by the CA given (`ca.pem`):
    /// the wrong CA, or an engine that is not the one meant.
    UnknownIssuer,
    /// The engine's certificate has expired.
    Expired,
    /// The engine's certificate is not valid yet (check the clocks).
    NotYetValid,
    /// The engine's certificate does not name the host connected to.
    NameMismatch {
        /// The name (or address) that was expected.
        name: String,
    },
    /// The engine refused the client: no client certificate, or one its CA
    /// did not sign, or an expired one (`--tlsverify` engines require a
    /// client certificate).
    ClientCertificateRejected {
        /// The TLS alert the engine sent.
        alert: String,
    },
    /// The peer did not speak TLS: a plain-HTTP engine on that port (use
    /// `tcp://` without TLS), or not an engine at all.
    NotTls {
        /// What the TLS layer saw.
        detail: String,
    },
    /// The engine speaks TLS but the client did not use it (set
    /// `DOCKER_TLS_VERIFY=1` / `--tlsverify`, or the builder's TLS options).
    EngineRequiresTls,
    /// The connection closed during the handshake.
    ClosedDuringHandshake,
    /// Any other handshake failure.
    Handshake {
        /// The TLS layer's description.
        detail: String,
    },
}

/// Why an `ssh://` connection to an engine failed, in terms of what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SshProblem {
    /// The `ssh` program could not be started.
    Spawn {
        /// The program.
        program: String,
        /// What the system said (`NotFound`: install `openssh-client`).
        kind: io::ErrorKind,
    },
    /// The remote refused every key (`Permission denied`).
    AuthenticationFailed {
        /// What `ssh` printed.
        stderr: String,
    },
    /// The remote has no `docker` command to run `docker system
    /// dial-stdio` (it exited 127).
    NoDockerOnRemote {
        /// What the remote shell printed.
        stderr: String,
    },
    /// `ssh` (or the remote command) exited before the engine answered:
    /// host unreachable, host key rejected, engine not running there, …
    Exited {
        /// Its exit code (`255` for `ssh`'s own failures).
        code: Option<i32>,
        /// What it printed.
        stderr: String,
    },
    /// `ssh` ran but no answer came within the deadline (a hung remote or
    /// a prompt waiting for input).
    NoAnswer {
        /// The deadline.
        after: Duration,
    },
}

impl fmt::Display for TlsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsProblem::MissingFile { what, path } => {
                write!(f, "{what} {} does not exist", path.display())
            }
            TlsProblem::BadFile { path, reason } => {
                write!(f, "{} is not usable: {reason}", path.display())
            }
            TlsProblem::UnknownIssuer => f.write_str(
                "the engine's certificate is not signed by the given CA (wrong ca.pem?)",
            ),
            TlsProblem::Expired => f.write_str("the engine's certificate has expired"),
            TlsProblem::NotYetValid => {
                f.write_str("the engine's certificate is not valid yet (clock skew?)")
            }
            TlsProblem::NameMismatch { name } => {
                write!(f, "the engine's certificate is not valid for {name}")
            }
            TlsProblem::ClientCertificateRejected { alert } => write!(
                f,
                "the engine rejected the client certificate ({alert}): give cert.pem and key.pem \
                 signed by the engine's CA"
            ),
            TlsProblem::NotTls { detail } => write!(
                f,
                "the peer does not speak TLS ({detail}): is it a plain-HTTP engine (use tcp:// \
                 without TLS)?"
            ),
            TlsProblem::EngineRequiresTls => f.write_str(
                "the engine requires TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (or \
                 --tlsverify)",
            ),
            TlsProblem::ClosedDuringHandshake => {
                f.write_str("the peer closed the connection during the TLS handshake")
            }
            TlsProblem::Handshake { detail } => write!(f, "TLS handshake failed: {detail}"),
        }
    }
}

impl fmt::Display for SshProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SshProblem::Spawn { program, kind } => {
                write!(f, "cannot run {program}: {kind} (install openssh-client)")
            }
            SshProblem::AuthenticationFailed { stderr } => {
                write!(f, "ssh authentication failed: {stderr}")
            }
            SshProblem::NoDockerOnRemote { stderr } => write!(
                f,
                "the remote has no docker command for `docker system dial-stdio`: {stderr}"
            ),
            SshProblem::Exited { code, stderr } => match code {
                Some(c) => write!(f, "ssh exited with status {c}: {stderr}"),
                None => write!(f, "ssh was killed by a signal: {stderr}"),
            },
            SshProblem::NoAnswer { after } => {
                write!(f, "ssh ran but the engine did not answer within {after:?}")
            }
        }
    }
}

impl std::error::Error for TlsProblem {}
impl std::error::Error for SshProblem {}

/// Classifies an error of the TLS layer (rustls reports through
/// `io::Error`s that wrap a `rustls::Error`); `None` for plain I/O errors.
pub(crate) fn tls_problem(e: &io::Error) -> Option<TlsProblem> {
    use rustls::{AlertDescription as A, CertificateError as C, Error as R};
    let inner = e.get_ref()?.downcast_ref::<R>()?;
    Some(match inner {
        R::InvalidCertificate(c) => match c {
            C::UnknownIssuer | C::BadSignature => TlsProblem::UnknownIssuer,
            C::Expired | C::ExpiredContext { .. } => TlsProblem::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => TlsProblem::NotYetValid,
            C::NotValidForName => TlsProblem::NameMismatch {
                name: String::new(),
            },
            C::NotValidForNameContext { expected, .. } => TlsProblem::NameMismatch {
                name: format!("{expected:?}"),
            },
            other => TlsProblem::Handshake {
                detail: format!("invalid certificate: {other:?}"),
            },
        },
        R::AlertReceived(
            a @ (A::CertificateRequired
            | A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::UnsupportedCertificate
            | A::AccessDenied),
        ) => TlsProblem::ClientCertificateRejected {
            alert: format!("{a:?}"),
        },
        R::InvalidMessage(m) => TlsProblem::NotTls {
            detail: format!("{m:?}"),
        },
        R::InappropriateMessage { .. } | R::InappropriateHandshakeMessage { .. } => {
            TlsProblem::NotTls {
                detail: inner.to_string(),
            }
        }
        other => TlsProblem::Handshake {
            detail: other.to_string(),
        },
    })
}
