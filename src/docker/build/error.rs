//! [`BuildContextError`]: a build context that cannot be sent.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a build's context could not be prepared; nothing was sent. Wrapped
/// in [`Error::BuildContext`](crate::docker::Error::BuildContext).
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildContextError {
    /// Reading the context failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The context is not a directory.
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// The Dockerfile is not a file in the context.
    DockerfileMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The Dockerfile path is empty, absolute or leaves the context.
    InvalidDockerfilePath {
        /// The path given.
        path: String,
    },
    /// A `.dockerignore` line is not a valid pattern.
    InvalidIgnorePattern {
        /// Its line number, from 1.
        line: usize,
        /// The line.
        pattern: String,
    },
    /// A tag, build argument, label or target is malformed.
    InvalidOption {
        /// Which (`"tag"`, `"build arg"`, `"label"`, `"target"`).
        option: &'static str,
        /// The value.
        value: String,
    },
}

impl Clone for BuildContextError {
    fn clone(&self) -> BuildContextError {
        match self {
            BuildContextError::Io { path, source } => BuildContextError::Io {
                path: path.clone(),
                source: match source.raw_os_error() {
                    Some(code) => io::Error::from_raw_os_error(code),
                    None => io::Error::new(source.kind(), source.to_string()),
                },
            },
            BuildContextError::NotADirectory { path } => {
                BuildContextError::NotADirectory { path: path.clone() }
            }
            BuildContextError::DockerfileMissing { path } => {
                BuildContextError::DockerfileMissing { path: path.clone() }
            }
            BuildContextError::InvalidDockerfilePath { path } => {
                BuildContextError::InvalidDockerfilePath { path: path.clone() }
            }
            BuildContextError::InvalidIgnorePattern { line, pattern } => {
                BuildContextError::InvalidIgnorePattern {
                    line: *line,
                    pattern: pattern.clone(),
                }
            }
            BuildContextError::InvalidOption { option, value } => {
                BuildContextError::InvalidOption {
                    option,
                    value: value.clone(),
                }
            }
        }
    }
}

impl fmt::Display for BuildContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildContextError::Io { path, source } => {
                write!(
                    f,
                    "cannot read the build context at {}: {source}",
                    path.display()
                )
            }
            BuildContextError::NotADirectory { path } => {
                write!(f, "the build context {} is not a directory", path.display())
            }
            BuildContextError::DockerfileMissing { path } => {
                write!(f, "no Dockerfile at {}", path.display())
            }
            BuildContextError::InvalidDockerfilePath { path } => write!(
                f,
                "the Dockerfile path {path:?} must be relative and inside the context"
            ),
            BuildContextError::InvalidIgnorePattern { line, pattern } => {
                write!(f, ".dockerignore line {line}: invalid pattern {pattern:?}")
            }
            BuildContextError::InvalidOption { option, value } => {
                write!(f, "invalid build {option} {value:?}")
            }
        }
    }
}

impl std::error::Error for BuildContextError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildContextError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
