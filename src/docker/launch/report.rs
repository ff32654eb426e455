//! The batch report: throughput, per-phase latency percentiles, failures
//! grouped by reason.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
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
    /// Containers that failed (including non-zero exits).
    pub failed: usize,
    /// Containers not run because the batch was cancelled.
    pub cancelled: usize,
    /// Wall time of the batch.
    pub elapsed_s: f64,
    /// Containers run to exit per second.
    pub containers_per_s: f64,
    /// Latency per lifecycle phase.
    pub phases: Phases,
    /// Failures grouped by reason, most frequent first.
    pub failures: Vec<FailureCount>,
    /// How many containers exited with each code.
    pub exit_codes: BTreeMap<i64, usize>,
    /// Per-engine counts.
    pub engines: Vec<EngineReport>,
    /// Containers found by the final label reconciliation and removed
    /// (left by lost replies or dead engines); normally 0.
    pub reconciled: usize,
}

/// Latency statistics of each phase.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Phases {
    /// `create`.
    pub create: PhaseStats,
    /// Registering the wait and `start`.
    pub start: PhaseStats,
    /// From started to exited.
    pub wait: PhaseStats,
    /// Collecting output (only with `collect_logs`).
    pub logs: PhaseStats,
    /// `remove`.
    pub remove: PhaseStats,
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

/// How many containers failed for one reason.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FailureCount {
    /// The reason.
    pub reason: String,
    /// How many.
    pub count: usize,
}

/// What one engine did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct EngineReport {
    /// Its host.
    pub host: String,
    /// Containers created on it.
    pub launched: usize,
    /// Containers that failed on it.
    pub failed: usize,
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

pub(crate) fn group_failures(reasons: impl IntoIterator<Item = String>) -> Vec<FailureCount> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in reasons {
        *counts.entry(r).or_default() += 1;
    }
    let mut out: Vec<FailureCount> = counts
        .into_iter()
        .map(|(reason, count)| FailureCount { reason, count })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    out
}

impl fmt::Display for Report {
    /// A readable summary table.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "batch {}: {} containers, {} succeeded, {} failed{} in {:.2} s ({:.1} containers/s)",
            self.batch,
            self.count,
            self.succeeded,
            self.failed,
            if self.cancelled > 0 {
                format!(", {} cancelled", self.cancelled)
            } else {
                String::new()
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
            ("logs", &self.phases.logs),
            ("remove", &self.phases.remove),
        ] {
            if s.count == 0 && name == "logs" {
                continue;
            }
            writeln!(
                f,
                "{:<8} {:>6} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
                name, s.count, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms
            )?;
        }
        if self.engines.len() > 1 {
            for e in &self.engines {
                writeln!(
                    f,
                    "engine {}: {} launched, {} failed",
                    e.host, e.launched, e.failed
                )?;
            }
        }
        for fc in &self.failures {
            writeln!(f, "failed ×{}: {}", fc.count, fc.reason)?;
        }
        if self.reconciled > 0 {
            writeln!(
                f,
                "reconciliation removed {} leftover containers",
                self.reconciled
            )?;
        }
        Ok(())
    }
}
