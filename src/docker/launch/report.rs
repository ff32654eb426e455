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

/// Groups failure reasons once what is particular to one container (its
/// name, ids, generated interface names) is taken out of them.
pub(crate) fn group_failures(
    batch: &str,
    reasons: impl IntoIterator<Item = String>,
) -> Vec<FailureCount> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in reasons {
        *counts.entry(generalize(&r, batch)).or_default() += 1;
    }
    let mut out: Vec<FailureCount> = counts
        .into_iter()
        .map(|(reason, count)| FailureCount { reason, count })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    out
}

/// `<batch>-<n>` becomes `<container>`; a run of 12 or more hex digits
/// (a container, image or network id) becomes `<id>`; a word made of a
/// letters-only prefix and a generated hex tail of 6 or more with a digit
/// in it (`veth3c8a158`) keeps its prefix (`veth<id>`).
fn generalize(reason: &str, batch: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    while !rest.is_empty() {
        // Split off the next alphanumeric word and what precedes it.
        let start = rest
            .find(|c: char| c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if let Some(tail) = rest.strip_prefix(batch).filter(|_| !batch.is_empty()) {
            let digits = tail.strip_prefix('-').map_or(0, |t| {
                t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len()
            });
            if digits > 0 {
                out.push_str("<container>");
                rest = &tail[1 + digits..];
                continue;
            }
        }
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let word = &rest[..end];
        let prefix = word.len()
            - word
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let hex = &word[prefix..];
        let generated = hex.chars().all(|c| c.is_ascii_hexdigit())
            && hex.chars().any(|c| c.is_ascii_digit())
            && (hex.len() >= 12 || (prefix > 0 && hex.len() >= 6));
        if word.len() >= 12 && word.chars().all(|c| c.is_ascii_hexdigit()) {
            out.push_str("<id>");
        } else if generated {
            out.push_str(&word[..prefix]);
            out.push_str("<id>");
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_lose_what_is_particular_to_one_container() {
        let batch = "sd-1795459522902-12ee";
        let r = |i: usize, veth: &str| {
            format!(
                "Docker API error 500: failed to create endpoint {batch}-{i} on network \
                 bridge: adding interface {veth} to bridge docker0 failed"
            )
        };
        let grouped = group_failures(batch, [r(3, "veth3c8a158"), r(41, "veth28dab57")]);
        assert_eq!(grouped.len(), 1, "{grouped:?}");
        assert_eq!(grouped[0].count, 2);
        assert_eq!(
            grouped[0].reason,
            "Docker API error 500: failed to create endpoint <container> on network \
             bridge: adding interface veth<id> to bridge docker0 failed"
        );
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            generalize(&format!("No such container: {id}"), batch),
            "No such container: <id>"
        );
        // Ordinary words, versions, hosts and short numbers stay.
        let plain = "engine unix:///tmp/stevedore-second-42/docker.sock unreachable: \
                     connection refused (os error 111), API v1.41, sha256, deadbeef";
        assert_eq!(generalize(plain, batch), plain);
    }
}
