//! How to launch a batch: [`LaunchOptions`] and [`RetryPolicy`], and their
//! validation (every check runs before anything is created).

use super::{JobList, LaunchError};
use std::path::PathBuf;
use std::time::Duration;

/// The most containers one batch may run.
///
/// One engine runs a few to a few dozen containers a second, so a million
/// is days of work; anything larger is a typo. The report keeps one small
/// record per container that ran.
pub const MAX_COUNT: usize = 1_000_000;

/// The most containers in flight at once.
pub const MAX_CONCURRENCY: usize = 4096;

/// How to launch a batch. Build it with [`LaunchOptions::new`] and set the
/// public fields; it is `#[non_exhaustive]`, so new options can be added
/// without breaking callers.
///
/// ```
/// use std::time::Duration;
/// use stevedore::docker::launch::LaunchOptions;
///
/// let mut opts = LaunchOptions::new(100);
/// opts.concurrency = 16;
/// opts.timeout = Some(Duration::from_secs(30));
/// assert!(opts.validate().is_ok());
/// opts.concurrency = 0;
/// assert!(opts.validate().is_err());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LaunchOptions {
    /// Containers to run: `1..=`[`MAX_COUNT`].
    pub count: usize,
    /// Most containers in flight at once: `1..=`[`MAX_CONCURRENCY`].
    pub concurrency: usize,
    /// Keep containers that ran to their exit (failed, timed-out and
    /// cancelled ones are always removed).
    pub keep: bool,
    /// Retries of engine failures.
    pub retry: RetryPolicy,
    /// The batch id; generated if `None`. It must be a valid container
    /// name prefix (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`).
    pub batch_id: Option<String>,
    /// Longest a container may run, from its start; it is then killed,
    /// removed and reported as [`FailureKind::TimedOut`].
    ///
    /// [`FailureKind::TimedOut`]: super::FailureKind::TimedOut
    pub timeout: Option<Duration>,
    /// Longest the whole batch may run; it is then cancelled: containers
    /// in flight are killed and reported as
    /// [`FailureKind::DeadlineExceeded`], the rest are not started.
    ///
    /// [`FailureKind::DeadlineExceeded`]: super::FailureKind::DeadlineExceeded
    pub deadline: Option<Duration>,
    /// How long an engine has to answer its health probe (a ping, sent
    /// every half second during the batch). One that does not is marked
    /// down for the rest of the batch: its calls in flight are abandoned
    /// and its work moves to the other engines.
    pub connect_timeout: Duration,
    /// How long a cancelled batch (Ctrl-C, deadline) may spend removing
    /// what it created. Past it, what is still in flight is abandoned —
    /// each abandoned container gets a force-remove queued on its engine —
    /// and the report lists what was not seen removed.
    pub cancel_grace: Duration,
    /// Write each container's output to `<dir>/<name>.stdout` and
    /// `<dir>/<name>.stderr` (created if missing), streamed to disk while
    /// the container runs. `None`: output is not read (in
    /// [`Mode::Warm`] it is read and counted, not kept). In warm mode the
    /// files are named after the job: `<batch>-<index>`.
    pub logs_dir: Option<PathBuf>,
    /// Swarm mode: the first engine is a swarm manager and the batch runs
    /// as one `replicated-job` service on its swarm (see the launcher's
    /// module docs). `timeout` is not supported with it.
    pub swarm: bool,
    /// How the jobs run: one container each, or execs in warm containers.
    pub mode: Mode,
    /// One command per job, instead of `count` copies of the spec's
    /// command ([`with_jobs`](Self::with_jobs) sets `count` to match).
    pub jobs: Option<JobList>,
    /// The command that keeps a warm container alive (it must wait and
    /// never exit on its own); it replaces the image's entrypoint and the
    /// spec's command. Default `sleep 2147483647` (busybox and coreutils
    /// both have `sleep`).
    pub warm_command: Vec<String>,
}

/// How a batch runs its jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// One container per job: create → start → wait → remove.
    #[default]
    Run,
    /// `containers` long-lived containers from the spec are the workers;
    /// every job is an exec in one of them (at most `containers` at
    /// once; [`LaunchOptions::concurrency`] is not used).
    Warm {
        /// Warm containers: `1..=`[`MAX_CONCURRENCY`].
        containers: usize,
    },
}

impl LaunchOptions {
    /// `count` containers, 8 at a time, removed afterwards, no timeouts,
    /// a 10 s engine timeout, a 4 s cancel grace, output not read.
    pub fn new(count: usize) -> LaunchOptions {
        LaunchOptions {
            count,
            concurrency: 8,
            keep: false,
            retry: RetryPolicy::default(),
            batch_id: None,
            timeout: None,
            deadline: None,
            connect_timeout: crate::docker::DEFAULT_CONNECT_TIMEOUT,
            cancel_grace: Duration::from_secs(4),
            logs_dir: None,
            swarm: false,
            mode: Mode::Run,
            jobs: None,
            warm_command: vec!["sleep".into(), "2147483647".into()],
        }
    }

    /// These options with one job per entry of `jobs` (and `count` set to
    /// their number).
    pub fn with_jobs(mut self, jobs: JobList) -> LaunchOptions {
        self.count = jobs.len();
        self.jobs = Some(jobs);
        self
    }

    /// The command of job `index`, when the batch has a job list.
    pub(super) fn job_args(&self, index: usize) -> Option<&[String]> {
        self.jobs
            .as_ref()
            .and_then(|j| j.jobs().get(index))
            .map(|j| j.args.as_slice())
    }

    /// The line of job `index` in the job list, if any.
    pub(super) fn job_line(&self, index: usize) -> Option<usize> {
        self.jobs
            .as_ref()
            .and_then(|j| j.jobs().get(index))
            .map(|j| j.line)
    }

    /// How many jobs run at once: the warm containers, or `concurrency`.
    pub(super) fn workers(&self) -> usize {
        match self.mode {
            Mode::Run => self.concurrency,
            Mode::Warm { containers } => containers,
        }
    }

    /// Checks every option; [`Launcher::start`](super::Launcher::start)
    /// does this before creating anything.
    ///
    /// # Errors
    ///
    /// [`LaunchError::InvalidOptions`] naming the option.
    pub fn validate(&self) -> Result<(), LaunchError> {
        let bad = |option: &'static str, reason: String| {
            Err(LaunchError::InvalidOptions { option, reason })
        };
        if self.count == 0 {
            return bad("count", "must be at least 1".into());
        }
        if self.count > MAX_COUNT {
            return bad(
                "count",
                format!(
                    "{} is more than the most a batch may run ({MAX_COUNT})",
                    self.count
                ),
            );
        }
        if self.concurrency == 0 {
            return bad("concurrency", "must be at least 1".into());
        }
        if self.concurrency > MAX_CONCURRENCY {
            return bad(
                "concurrency",
                format!("{} is more than {MAX_CONCURRENCY}", self.concurrency),
            );
        }
        if let Mode::Warm { containers } = self.mode {
            if containers == 0 {
                return bad("warm", "needs at least 1 container".into());
            }
            if containers > MAX_CONCURRENCY {
                return bad(
                    "warm",
                    format!("{containers} is more than {MAX_CONCURRENCY}"),
                );
            }
            if self.warm_command.first().is_none_or(String::is_empty) {
                return bad("warm_command", "is empty".into());
            }
            if self.keep {
                return bad(
                    "keep",
                    "has no meaning in warm mode (its containers are the batch's own)".into(),
                );
            }
        }
        if let Some(jobs) = &self.jobs {
            if jobs.len() != self.count {
                return bad(
                    "count",
                    format!(
                        "is {} but the job list holds {} jobs",
                        self.count,
                        jobs.len()
                    ),
                );
            }
        }
        if self.retry.max_attempts == 0 {
            return bad("retry.max_attempts", "must be at least 1".into());
        }
        for (option, d) in [
            ("timeout", self.timeout),
            ("deadline", self.deadline),
            ("connect_timeout", Some(self.connect_timeout)),
        ] {
            if d == Some(Duration::ZERO) {
                return bad(option, "must be longer than zero".into());
            }
        }
        if let Some(id) = &self.batch_id {
            let mut chars = id.chars();
            let valid = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
                && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
                && id.len() <= 100;
            if !valid {
                return bad(
                    "batch_id",
                    format!("{id:?} is not a valid container name prefix ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 100)"),
                );
            }
        }
        if let Some(dir) = &self.logs_dir {
            if dir.as_os_str().is_empty() {
                return bad("logs_dir", "is empty".into());
            }
            if dir.exists() && !dir.is_dir() {
                return bad("logs_dir", format!("{} is not a directory", dir.display()));
            }
        }
        Ok(())
    }
}

/// Retries of engine failures: `max_attempts` in all, backing off from
/// `initial_backoff`, doubling up to `max_backoff`. An attempt lost with a
/// hung engine moves to another engine at once.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts per container, the first included.
    pub max_attempts: u32,
    /// Wait before the first retry.
    pub initial_backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
    /// Run again, elsewhere, a container whose engine was lost after it
    /// started (at-least-once, like a scheduler rescheduling the jobs of a
    /// lost node). `false` reports it as failed instead, for commands that
    /// must not run twice.
    pub rerun_lost: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            rerun_lost: true,
        }
    }
}
