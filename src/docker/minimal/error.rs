//! The minimal image's one error type.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Why the minimal image could not be built, or why the image under its
/// name is not the one its recipe makes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum MinimalImageError {
    /// A program the image needs is not in any system directory.
    ProgramMissing {
        /// `sh`, `true`, …
        name: String,
        /// Where it was looked for.
        searched: Vec<PathBuf>,
    },
    /// The busybox asked for (by path or `STEVEDORE_BUSYBOX`) cannot be
    /// used.
    Busybox {
        /// Its path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Reading a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: Arc<io::Error>,
    },
    /// A program or library is not an ELF file this recipe can read.
    Elf {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// The program's ELF interpreter could not resolve its libraries
    /// (`<interpreter> --list <program>` failed, or left one unresolved).
    Loader {
        /// The program.
        program: PathBuf,
        /// Its interpreter (`PT_INTERP`).
        interpreter: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The image under the recipe's name has other content than the recipe
    /// makes (planted or corrupted); it is left alone.
    Mismatch {
        /// The reference.
        reference: String,
        /// The layer the recipe makes (`sha256:…`).
        expected: String,
        /// The layers the image has.
        found: Vec<String>,
    },
}

impl MinimalImageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> MinimalImageError {
        MinimalImageError::Io {
            path: path.into(),
            source: Arc::new(source),
        }
    }
}

impl fmt::Display for MinimalImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinimalImageError::ProgramMissing { name, searched } => {
                let dirs: Vec<_> = searched.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "building the minimal image: no `{name}` in {}",
                    dirs.join(", ")
                )
            }
            MinimalImageError::Busybox { path, message } => write!(
                f,
                "building the minimal image from {}: {message}",
                path.display()
            ),
            MinimalImageError::Io { path, source } => {
                write!(
                    f,
                    "building the minimal image: {}: {source}",
                    path.display()
                )
            }
            MinimalImageError::Elf { path, message } => write!(
                f,
                "building the minimal image: {}: not a usable ELF file: {message}",
                path.display()
            ),
            MinimalImageError::Loader {
                program,
                interpreter,
                message,
            } => write!(
                f,
                "building the minimal image: {} --list {}: {message}",
                interpreter.display(),
                program.display()
            ),
            MinimalImageError::Mismatch {
                reference,
                expected,
                found,
            } => write!(
                f,
                "{reference} exists but holds layers {found:?}, not the recipe's {expected}; \
                 it was left alone (remove it to have it rebuilt)"
            ),
        }
    }
}

impl std::error::Error for MinimalImageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MinimalImageError::Io { source, .. } => Some(&**source),
            _ => None,
        }
    }
}
