//! The batch report: per-container results, throughput, per-phase latency
//! percentiles, failures counted by kind and engine, engines that went
//! down, retries and where they went, and what could not be removed.

use super::FailureKind;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// What a batch did. Serialises to the JSON the demo prints.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// The batch id (also the value of the `stevedore.batch` label).
    pub batch: String,
    /// Containers requested.
    pub count: usize,
    /// Containers that ran and exited 0.
    pub succeeded: usize,
    /// Containers that failed (any [`FailureKind`] but the two below).
    pub failed: usize,
    /// Containers not run, or stopped, because the batch was cancelled or
    /// passed its deadline.
    pub cancelled: usize,
    /// Whether the batch passed its deadline.
    pub deadline_exceeded: bool,
    /// Wall time of the batch.
    pub elapsed_s: f64,
    /// Containers run to exit per second (warm mode: jobs).
    pub containers_per_s: f64,
    /// Latency per lifecycle phase.
    pub phases: Phases,
    /// Failures counted by kind and engine, most frequent first.
    pub failures: Vec<FailureCount>,
    /// How many containers exited with each code.
    pub exit_codes: BTreeMap<i64, usize>,
    /// Every engine: its state, counts, and what may be left on it.
    pub engines: Vec<EngineReport>,
    /// Retries made, in all.
    pub retried: usize,
    /// Retries by the engine that failed, the engine tried next, and why.
    pub retries: Vec<RetryCount>,
    /// Containers the batch could not see removed, in all (see
    /// [`EngineReport::not_removed`]).
    pub not_removed: usize,
    /// Engines on which to run `Launcher::cleanup` (the demo's
    /// `--cleanup <batch>`) once they answer again; empty when nothing may
    /// be left.
    pub cleanup_hosts: Vec<String>,
    /// Containers found by the final label sweep and removed (left by lost
    /// replies or engines that came back); normally 0.
    pub reconciled: usize,
    /// Output totals.
    pub output: OutputReport,
    /// Warm mode: its worker containers (`None` in run mode).
    pub warm: Option<WarmReport>,
    /// One result per container (warm mode: per job) that was
    /// dispatched, by index.
    pub containers: Vec<ContainerResult>,
}

/// The worker containers of a warm batch.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct WarmReport {
    /// Warm containers asked for.
    pub containers: usize,
    /// Worker containers started, replacements included.
    pub started: usize,
    /// Worker containers replaced (died, hung, or removed to kill a job
    /// over its timeout).
    pub replaced: usize,
}

/// What happened to one container (warm mode: to one job).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ContainerResult {
    /// Its index in `0..count`.
    pub index: usize,
    /// Its line in the job list, when the batch has one.
    pub line: Option<usize>,
    /// Its name, `<batch>-<index>`; in warm mode, the name of the worker
    /// container its last attempt ran in (`<batch>-w<worker>[-<n>]`).
    pub name: String,
    /// The engine of its last attempt (an index into
    /// [`Launcher::hosts`](super::Launcher::hosts)), if it got one.
    pub engine: Option<usize>,
    /// Attempts made.
    pub attempts: u32,
    /// Its exit code, if it exited.
    pub exit_code: Option<i64>,
    /// Why it failed; `None` when it exited 0.
    pub kind: Option<FailureKind>,
    /// The details of the failure.
    pub message: Option<String>,
    /// Bytes of stdout read (with a logs directory).
    pub stdout_bytes: u64,
    /// Bytes of stderr read.
    pub stderr_bytes: u64,
    /// Everything this container created, on every engine it was tried
    /// on, was seen removed (or surely never created). False when kept.
    pub removed: bool,
    /// Kept, as asked.
    pub kept: bool,
    /// How long each phase of its last attempt took.
    pub timings: ContainerTimings,
    /// Swarm mode: the swarm node its task ran on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl ContainerResult {
    /// It exited 0.
    pub fn succeeded(&self) -> bool {
        self.kind.is_none()
    }
}

/// Phase durations of one container (`None`: phase not reached); in JSON,
/// milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ContainerTimings {
    /// `create`.
    #[serde(rename = "create_ms", serialize_with = "opt_ms")]
    pub create: Option<Duration>,
    /// Attaching (with a logs directory), registering the wait, `start`.
    #[serde(rename = "start_ms", serialize_with = "opt_ms")]
    pub start: Option<Duration>,
    /// From started to exited.
    #[serde(rename = "wait_ms", serialize_with = "opt_ms")]
    pub wait: Option<Duration>,
    /// Draining the output after the exit.
    #[serde(rename = "output_ms", serialize_with = "opt_ms")]
    pub output: Option<Duration>,
    /// `remove`.
    #[serde(rename = "remove_ms", serialize_with = "opt_ms")]
    pub remove: Option<Duration>,
    /// Warm mode: reading the exec's exit code after its output ended
    /// (there `create` is the exec create, `start` the exec start and
    /// `output` the command's run, its output read to the end).
    #[serde(rename = "exit_ms", serialize_with = "opt_ms")]
    pub exit: Option<Duration>,
}

fn opt_ms<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&ms(*d)),
        None => s.serialize_none(),
    }
}

/// Latency statistics of each phase.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Phases {
    /// `create`.
    pub create: PhaseStats,
    /// Attaching, registering the wait and `start`.
    pub start: PhaseStats,
    /// From started to exited.
    pub wait: PhaseStats,
    /// Draining output after the exit (only with a logs directory).
    pub output: PhaseStats,
    /// `remove`.
    pub remove: PhaseStats,
    /// Warm mode: reading the exit code of the exec.
    pub exit: PhaseStats,
}

/// Percentiles of one phase, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct PhaseStats {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
}

/// How many containers failed one way on one engine.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailureCount {
    /// Why.
    pub kind: FailureKind,
    /// On which engine (`None`: never placed on one).
    pub host: Option<String>,
    /// How many.
    pub count: usize,
    /// The message of the first of them.
    pub example: String,
}

/// How an engine fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EngineState {
    /// Answered throughout.
    Up,
    /// Refused or dropped connections during the batch (it may have come
    /// back).
    WentDown,
    /// Stopped answering and was marked down for the rest of the batch.
    Hung,
    /// Could not be reached when the launcher connected; not used.
    Unreachable,
}

/// What one engine did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct EngineReport {
    /// Its host.
    pub host: String,
    /// How it fared.
    pub state: EngineState,
    /// The first error that marked it down or unreachable.
    pub error: Option<String>,
    /// Containers created on it.
    pub launched: usize,
    /// Containers whose last attempt failed on it.
    pub failed: usize,
    /// Containers that moved from it to another engine (or to a retry).
    pub retried_away: usize,
    /// Containers of the batch that may still be on it: created (or
    /// possibly created by a request it had not answered) and not seen
    /// removed. Names.
    pub not_removed: Vec<String>,
    /// Requests abandoned on it still waiting for its reply, each with a
    /// force-remove queued behind it (they run if the engine answers while
    /// this process lives).
    pub abandoned_requests: usize,
}

/// Retries from one engine to another for one reason.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryCount {
    /// The engine that failed.
    pub from: String,
    /// The engine of the next attempt.
    pub to: String,
    /// Why.
    pub kind: FailureKind,
    /// How many.
    pub count: usize,
}

/// Output totals of a batch.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct OutputReport {
    /// Where it was written.
    pub dir: Option<PathBuf>,
    /// Bytes of stdout written, in all.
    pub stdout_bytes: u64,
    /// Bytes of stderr written, in all.
    pub stderr_bytes: u64,
    /// The most output bytes held in memory at once (read from the engines,
    /// not yet written to disk).
    pub peak_buffered_bytes: u64,
}

impl PhaseStats {
    pub(crate) fn from_samples(mut samples: Vec<Duration>) -> PhaseStats {
        if samples.is_empty() {
            return PhaseStats::default();
        }
        samples.sort_unstable();
        // Nearest-rank percentile.
        let pct = |p: f64| {
            let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
            ms(samples[rank.clamp(1, samples.len()) - 1])
        };
        PhaseStats {
            count: samples.len(),
            p50_ms: pct(50.0),
            p90_ms: pct(90.0),
            p99_ms: pct(99.0),
            max_ms: ms(*samples.last().expect("non-empty")),
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Counts failures by kind and engine, most frequent first.
pub(super) fn count_failures(results: &[ContainerResult], hosts: &[String]) -> Vec<FailureCount> {
    let mut counts: BTreeMap<(FailureKind, Option<usize>), (usize, String)> = BTreeMap::new();
    for r in results {
        let Some(kind) = r.kind else { continue };
        if matches!(kind, FailureKind::Cancelled | FailureKind::DeadlineExceeded) {
            continue;
        }
        let e = counts
            .entry((kind, r.engine))
            .or_insert_with(|| (0, r.message.clone().unwrap_or_default()));
        e.0 += 1;
    }
    let mut out: Vec<FailureCount> = counts
        .into_iter()
        .map(|((kind, engine), (count, example))| FailureCount {
            kind,
            host: engine.map(|i| hosts[i].clone()),
            count,
            example,
        })
        .collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.count));
    out
}

impl fmt::Display for Report {
    /// A readable summary: counts, the phase table, engines, failures,
    /// retries, and what may be left behind.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = if self.warm.is_some() {
            "jobs"
        } else {
            "containers"
        };
        writeln!(
            f,
            "batch {}: {} {unit}, {} succeeded, {} failed{}{} in {:.2} s ({:.1} {unit}/s)",
            self.batch,
            self.count,
            self.succeeded,
            self.failed,
            if self.cancelled > 0 {
                format!(", {} cancelled", self.cancelled)
            } else {
                String::new()
            },
            if self.deadline_exceeded {
                " (deadline exceeded)"
            } else {
                ""
            },
            self.elapsed_s,
            self.containers_per_s
        )?;
        writeln!(
            f,
            "{:<8} {:>6} {:>10} {:>10} {:>10} {:>10}",
            "phase", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"
        )?;
        for (name, s) in [
            ("create", &self.phases.create),
            ("start", &self.phases.start),
            ("wait", &self.phases.wait),
            ("output", &self.phases.output),
            ("remove", &self.phases.remove),
            ("exit", &self.phases.exit),
        ] {
            if s.count == 0 && (name == "output" || name == "exit" || self.warm.is_some()) {
                continue;
            }
            writeln!(
                f,
                "{:<8} {:>6} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
                name, s.count, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms
            )?;
        }
        for e in &self.engines {
            if self.engines.len() == 1 && e.state == EngineState::Up {
                break;
            }
            let state = match e.state {
                EngineState::Up => "up".to_owned(),
                EngineState::WentDown => "went down".to_owned(),
                EngineState::Hung => "stopped answering, marked down".to_owned(),
                EngineState::Unreachable => "unreachable, not used".to_owned(),
            };
            write!(
                f,
                "engine {}: {state}; {} launched, {} failed, {} moved away",
                e.host, e.launched, e.failed, e.retried_away
            )?;
            if let Some(err) = &e.error {
                write!(f, " ({err})")?;
            }
            writeln!(f)?;
        }
        for fc in &self.failures {
            match &fc.host {
                Some(h) => write!(f, "failed ×{}: {} on {h}", fc.count, fc.kind)?,
                None => write!(f, "failed ×{}: {}", fc.count, fc.kind)?,
            }
            if fc.example.is_empty() {
                writeln!(f)?;
            } else {
                writeln!(f, " (e.g. {})", fc.example)?;
            }
        }
        if let Some(w) = &self.warm {
            writeln!(
                f,
                "warm: {} worker containers, {} started, {} replaced",
                w.containers, w.started, w.replaced
            )?;
        }
        if self.retried > 0 {
            write!(f, "retried {} times:", self.retried)?;
            for r in &self.retries {
                write!(f, " {}× {} → {} ({});", r.count, r.from, r.to, r.kind)?;
            }
            writeln!(f)?;
        }
        if let Some(dir) = &self.output.dir {
            writeln!(
                f,
                "output: {} bytes of stdout, {} of stderr in {}",
                self.output.stdout_bytes,
                self.output.stderr_bytes,
                dir.display()
            )?;
        }
        if self.reconciled > 0 {
            writeln!(
                f,
                "the final sweep removed {} leftover containers",
                self.reconciled
            )?;
        }
        for e in &self.engines {
            if e.not_removed.is_empty() && e.abandoned_requests == 0 {
                continue;
            }
            write!(
                f,
                "not removed on {}: {} containers",
                e.host,
                e.not_removed.len()
            )?;
            let shown: Vec<&str> = e.not_removed.iter().take(5).map(String::as_str).collect();
            if !shown.is_empty() {
                write!(
                    f,
                    " ({}{})",
                    shown.join(", "),
                    if e.not_removed.len() > 5 { ", …" } else { "" }
                )?;
            }
            if e.abandoned_requests > 0 {
                write!(
                    f,
                    "; {} abandoned requests with a force-remove queued behind them",
                    e.abandoned_requests
                )?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
