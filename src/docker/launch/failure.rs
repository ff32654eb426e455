//! Why a container failed: a typed kind per failure, decided from the
//! error's variant and status and from the phase it happened in — never
//! from the text of a message.

use crate::docker::Error;
use serde::Serialize;
use std::fmt;

/// What went wrong with one container (or, for [`LaunchError::Spec`],
/// with the whole batch).
///
/// [`LaunchError::Spec`]: super::LaunchError::Spec
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureKind {
    /// The image is not on the engine (404 at create, and the image does
    /// not inspect).
    ImageMissing,
    /// The engine refused the spec: an invalid option, a missing network,
    /// a command that cannot be executed (400/404 at create or start).
    SpecInvalid,
    /// The engine could not be reached, or the connection to it was lost.
    EngineUnreachable,
    /// The engine stopped answering: a call passed its deadline, or the
    /// engine missed its health probe and was marked down.
    EngineTimeout,
    /// The engine answered with another error (5xx, an unexpected
    /// conflict, a malformed response).
    EngineError,
    /// The container ran longer than [`LaunchOptions::timeout`] and was
    /// killed.
    ///
    /// [`LaunchOptions::timeout`]: super::LaunchOptions::timeout
    TimedOut,
    /// The container exited with a non-zero code.
    NonZeroExit,
    /// The container was killed by the kernel's OOM killer
    /// (`State.OOMKilled`).
    OomKilled,
    /// The batch was cancelled ([`Canceller::cancel`], a dropped batch, a
    /// spec error elsewhere in the batch).
    ///
    /// [`Canceller::cancel`]: super::Canceller::cancel
    Cancelled,
    /// The batch passed its [`LaunchOptions::deadline`].
    ///
    /// [`LaunchOptions::deadline`]: super::LaunchOptions::deadline
    DeadlineExceeded,
    /// The container's output could not be read to its end or written to
    /// the logs directory.
    OutputLost,
    /// Warm mode: the worker container died, or stopped answering, while
    /// the job ran in it (a job that had not started yet is retried on a
    /// fresh worker instead).
    WorkerLost,
}

impl FailureKind {
    /// The kind's name, as in the JSON report (`"engine_timeout"`).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::ImageMissing => "image_missing",
            FailureKind::SpecInvalid => "spec_invalid",
            FailureKind::EngineUnreachable => "engine_unreachable",
            FailureKind::EngineTimeout => "engine_timeout",
            FailureKind::EngineError => "engine_error",
            FailureKind::TimedOut => "timed_out",
            FailureKind::NonZeroExit => "non_zero_exit",
            FailureKind::OomKilled => "oom_killed",
            FailureKind::Cancelled => "cancelled",
            FailureKind::DeadlineExceeded => "deadline_exceeded",
            FailureKind::OutputLost => "output_lost",
            FailureKind::WorkerLost => "worker_lost",
        }
    }

    /// A failure of the engine rather than of the container: the work may
    /// move to another engine.
    pub fn is_engine_failure(self) -> bool {
        matches!(
            self,
            FailureKind::EngineUnreachable | FailureKind::EngineTimeout | FailureKind::EngineError
        )
    }

    /// A failure of the spec itself: every container would fail the same
    /// way, so the batch stops.
    pub fn is_spec_failure(self) -> bool {
        matches!(self, FailureKind::ImageMissing | FailureKind::SpecInvalid)
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::ImageMissing => "image missing",
            FailureKind::SpecInvalid => "spec invalid",
            FailureKind::EngineUnreachable => "engine unreachable",
            FailureKind::EngineTimeout => "engine not answering",
            FailureKind::EngineError => "engine error",
            FailureKind::TimedOut => "timed out",
            FailureKind::NonZeroExit => "non-zero exit",
            FailureKind::OomKilled => "killed by the OOM killer",
            FailureKind::Cancelled => "cancelled",
            FailureKind::DeadlineExceeded => "batch deadline exceeded",
            FailureKind::OutputLost => "output lost",
            FailureKind::WorkerLost => "worker container lost",
        })
    }
}

/// The phase a call failed in: a 404 at create is about the spec, a 404
/// later means the container went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// create (and the inspect of a retried create).
    Create,
    /// attach, wait registration and start.
    Start,
    /// Everything after the container started.
    Run,
}

/// The kind of a failed Docker call. A 404 at create is refined into
/// [`FailureKind::ImageMissing`] by the caller (it inspects the image).
pub(super) fn classify(e: &Error, phase: Phase) -> FailureKind {
    match e {
        Error::Connect { .. } | Error::Io { .. } => FailureKind::EngineUnreachable,
        Error::Timeout { .. } => FailureKind::EngineTimeout,
        Error::NotFound { .. } if phase == Phase::Create => FailureKind::SpecInvalid,
        Error::Api { status: 400, .. } if phase != Phase::Run => FailureKind::SpecInvalid,
        _ => FailureKind::EngineError,
    }
}
