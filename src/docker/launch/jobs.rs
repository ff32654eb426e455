//! Job lists: one command per line, each line one job — `xargs -P` for
//! containers.
//!
//! Format: each line is split like a POSIX shell splits words (quotes and
//! backslashes, no expansion), the same as the demo's `--cmd`. Lines that
//! are empty or blank, and lines whose first non-blank character is `#`,
//! are skipped (so a list can carry comments); every other line is one
//! job, known by its 1-based line number in the input. A trailing
//! `\r` (CRLF input) is dropped. Everything is checked before anything is
//! created: a list with no job, a line that does not split (an
//! unterminated quote, an empty command name), a NUL byte, input that is
//! not UTF-8, or more jobs than [`MAX_COUNT`] is a [`JobListError`].

use super::MAX_COUNT;
use std::fmt;
use std::io::Read;
use std::sync::Arc;

/// One job: a command and the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Job {
    /// Its 1-based line number in the list.
    pub line: usize,
    /// The command and its arguments.
    pub args: Vec<String>,
}

/// A parsed job list: at least one job, at most [`MAX_COUNT`]. Cheap to
/// clone (shared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobList {
    jobs: Arc<[Job]>,
}

/// Why a job list cannot be used. Nothing is created for any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobListError {
    /// No line holds a command.
    Empty,
    /// A line does not split into words.
    Unsplittable {
        /// Its line number.
        line: usize,
        /// Why (an unterminated quote, an empty command name).
        reason: String,
    },
    /// A line holds a NUL byte, which no command line can carry.
    Nul {
        /// Its line number.
        line: usize,
    },
    /// The input is not UTF-8.
    NotUtf8 {
        /// The line of the first invalid byte.
        line: usize,
    },
    /// More jobs than a batch may run.
    TooMany {
        /// The most allowed ([`MAX_COUNT`]).
        max: usize,
    },
    /// The input could not be read.
    Read {
        /// What the operating system said.
        reason: String,
    },
}

impl fmt::Display for JobListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobListError::Empty => f.write_str("the job list holds no command"),
            JobListError::Unsplittable { line, reason } => {
                write!(f, "job list line {line}: {reason}")
            }
            JobListError::Nul { line } => write!(f, "job list line {line}: a NUL byte"),
            JobListError::NotUtf8 { line } => write!(f, "job list line {line}: not UTF-8"),
            JobListError::TooMany { max } => {
                write!(f, "the job list holds more than {max} jobs")
            }
            JobListError::Read { reason } => write!(f, "cannot read the job list: {reason}"),
        }
    }
}

impl std::error::Error for JobListError {}

impl JobList {
    /// Parses a job list (see the module docs for the format).
    ///
    /// ```
    /// use stevedore::docker::launch::JobList;
    ///
    /// let list = JobList::parse("# two jobs\necho 'a b'\n\nsh -c \"exit 3\"\n")?;
    /// assert_eq!(list.len(), 2);
    /// assert_eq!(list.jobs()[0].line, 2);
    /// assert_eq!(list.jobs()[0].args, ["echo", "a b"]);
    /// assert_eq!(list.jobs()[1].line, 4);
    /// assert!(JobList::parse("echo 'oops\n").is_err());
    /// # Ok::<_, stevedore::docker::launch::JobListError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`JobListError`] for an empty list, a line that does not split,
    /// a NUL byte, or too many jobs.
    pub fn parse(text: &str) -> Result<JobList, JobListError> {
        let mut jobs = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if raw.contains('\0') {
                return Err(JobListError::Nul { line });
            }
            let args = shell_words::split(raw).map_err(|e| JobListError::Unsplittable {
                line,
                reason: e.to_string(),
            })?;
            if args.is_empty() {
                continue;
            }
            if args[0].is_empty() {
                return Err(JobListError::Unsplittable {
                    line,
                    reason: "the command name is empty".into(),
                });
            }
            if jobs.len() == MAX_COUNT {
                return Err(JobListError::TooMany { max: MAX_COUNT });
            }
            jobs.push(Job { line, args });
        }
        if jobs.is_empty() {
            return Err(JobListError::Empty);
        }
        Ok(JobList { jobs: jobs.into() })
    }

    /// Parses bytes (a file's content): they must be UTF-8.
    ///
    /// # Errors
    ///
    /// [`JobListError::NotUtf8`], or any error of [`parse`](Self::parse).
    pub fn parse_bytes(bytes: &[u8]) -> Result<JobList, JobListError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => JobList::parse(text),
            Err(e) => {
                let before = &bytes[..e.valid_up_to()];
                let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
                Err(JobListError::NotUtf8 { line })
            }
        }
    }

    /// Reads everything from `reader` (a file, stdin) and parses it.
    ///
    /// # Errors
    ///
    /// [`JobListError::Read`], or any error of
    /// [`parse_bytes`](Self::parse_bytes).
    pub fn read(mut reader: impl Read) -> Result<JobList, JobListError> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| JobListError::Read {
                reason: e.to_string(),
            })?;
        JobList::parse_bytes(&bytes)
    }

    /// The jobs, in order.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// How many jobs.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Never true: a list holds at least one job.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_and_errors() {
        let l = JobList::parse("  \n#c\n  # indented comment\ntrue\r\necho \"x y\" z\n").unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(
            l.jobs()[0],
            Job {
                line: 4,
                args: vec!["true".into()]
            }
        );
        assert_eq!(l.jobs()[1].args, ["echo", "x y", "z"]);
        assert_eq!(JobList::parse(""), Err(JobListError::Empty));
        assert_eq!(JobList::parse("\n# only\n\n"), Err(JobListError::Empty));
        assert!(matches!(
            JobList::parse("''\n"),
            Err(JobListError::Unsplittable { line: 1, .. })
        ));
        assert!(matches!(
            JobList::parse("true\necho \"open\n"),
            Err(JobListError::Unsplittable { line: 2, .. })
        ));
        assert_eq!(JobList::parse("a\0b"), Err(JobListError::Nul { line: 1 }));
        assert_eq!(
            JobList::parse_bytes(b"true\ntrue\n\xff\n"),
            Err(JobListError::NotUtf8 { line: 3 })
        );
    }
}
