//! The batch launcher against real daemons: counts, fail-fast, cancellation
//! without leaks, and two engines with one killed mid-batch.

#[path = "util/dockerd.rs"]
mod dockerd;
#[path = "util/docker.rs"]
mod dutil;
mod util;

use dutil::{docker, image};
use futures::StreamExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stevedore::chan;
use stevedore::docker::launch::{
    EngineState, FailureKind, LaunchError, LaunchOptions, Launcher, Progress, BATCH_LABEL,
};
use stevedore::docker::{ContainerSpec, Docker, EventsOptions, Filters, ListOptions};
use util::rt;

async fn leftovers(d: &Docker, batch: &str) -> usize {
    d.list(&ListOptions {
        all: true,
        filters: Filters::new().label(format!("{BATCH_LABEL}={batch}")),
    })
    .await
    .unwrap()
    .len()
}

fn opts(count: usize, concurrency: usize) -> LaunchOptions {
    let mut o = LaunchOptions::new(count);
    o.concurrency = concurrency;
    o
}

#[test]
fn a_batch_of_40_at_concurrency_8_runs_exactly_and_leaves_nothing() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let launcher = Launcher::new(vec![d.clone()]);
        let (tx, rx) = chan::unbounded();
        let spec = ContainerSpec::new(&img).cmd(["true"]).network_mode("none");
        let report = launcher
            .launch(&spec, &opts(40, 8), Some(tx))
            .await
            .unwrap();
        assert_eq!(report.count, 40);
        assert_eq!(report.succeeded, 40, "{report}");
        assert_eq!(report.failed, 0);
        assert_eq!(report.cancelled, 0);
        assert_eq!(report.exit_codes.get(&0), Some(&40));
        for phase in [
            &report.phases.create,
            &report.phases.start,
            &report.phases.wait,
            &report.phases.remove,
        ] {
            assert_eq!(phase.count, 40);
            assert!(
                phase.p50_ms <= phase.p90_ms
                    && phase.p90_ms <= phase.p99_ms
                    && phase.p99_ms <= phase.max_ms
            );
        }
        assert!(report.containers_per_s > 0.0);
        assert_eq!(report.reconciled, 0, "nothing needed reconciling");
        assert_eq!(leftovers(&d, &report.batch).await, 0);
        // Progress: every container created, started, exited, removed and
        // finished once.
        let mut seen = [0usize; 5];
        while let Ok(p) = rx.try_recv() {
            match p {
                Progress::Created { .. } => seen[0] += 1,
                Progress::Started { .. } => seen[1] += 1,
                Progress::Exited { exit_code, .. } => {
                    assert_eq!(exit_code, 0);
                    seen[2] += 1
                }
                Progress::Removed { .. } => seen[3] += 1,
                Progress::Finished(r) => {
                    assert!(r.succeeded() && r.removed, "{r:?}");
                    seen[4] += 1
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(seen, [40; 5]);
        // Per-container results, by index, each with its phases.
        assert_eq!(report.containers.len(), 40);
        for (i, r) in report.containers.iter().enumerate() {
            assert_eq!(r.index, i);
            assert_eq!((r.engine, r.exit_code, r.kind), (Some(0), Some(0), None));
            assert!(r.timings.create.is_some() && r.timings.remove.is_some());
        }
        assert_eq!(report.not_removed, 0);
        assert!(report.cleanup_hosts.is_empty());
        assert_eq!(report.engines[0].state, EngineState::Up);
        // The JSON has the fields the demo promises.
        let json = serde_json::to_value(&report).unwrap();
        for key in [
            "batch",
            "count",
            "succeeded",
            "failed",
            "elapsed_s",
            "containers_per_s",
            "failures",
            "engines",
            "retries",
            "not_removed",
            "cleanup_hosts",
            "containers",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        for phase in ["create", "start", "wait", "remove"] {
            for stat in ["p50_ms", "p90_ms", "p99_ms", "max_ms"] {
                assert!(
                    json["phases"][phase][stat].is_number(),
                    "missing phases.{phase}.{stat}"
                );
            }
        }
    });
}

#[test]
fn a_missing_image_fails_fast_with_one_clear_error_and_leaves_nothing() {
    rt(2).block_on(async {
        let d = docker().await;
        let launcher = Launcher::new(vec![d.clone()]);
        let spec = ContainerSpec::new("stevedore-test/not-here:nope").cmd(["true"]);
        let mut o = opts(30, 8);
        o.batch_id = Some(stevedore::docker::launch::new_batch_id());
        let batch = o.batch_id.clone().unwrap();
        let t = Instant::now();
        let err = launcher.launch(&spec, &o, None).await.unwrap_err();
        let LaunchError::Spec {
            kind,
            reason,
            source,
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!(*kind, FailureKind::ImageMissing);
        assert!(source.is_not_found());
        assert!(reason.contains("not-here"), "{reason}");
        assert!(
            err.to_string()
                .starts_with("the batch cannot run (image missing):"),
            "{err}"
        );
        assert!(t.elapsed() < Duration::from_secs(30), "it failed fast");
        assert_eq!(leftovers(&d, &batch).await, 0);
    });
}

#[test]
fn cancelling_mid_batch_leaves_nothing() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let launcher = Launcher::new(vec![d.clone()]);
        let spec = ContainerSpec::new(&img)
            .cmd(["sleep", "30"])
            .network_mode("none");
        let (tx, rx) = chan::unbounded();
        let mut o = opts(20, 4);
        // Cooperative cleanup is what is tested here: give it all the time
        // a loaded machine needs (the grace itself is tested in
        // launch_faults.rs).
        o.cancel_grace = Duration::from_secs(60);
        let batch = launcher.start(&spec, &o, Some(tx));
        let id = batch.id().to_owned();
        let canceller = batch.canceller();
        // Cancel once four containers are running.
        stevedore::spawn(async move {
            let mut started = 0;
            while let Some(p) = rx.recv().await {
                if matches!(p, Progress::Started { .. }) {
                    started += 1;
                    if started == 4 {
                        canceller.cancel();
                    }
                }
            }
        });
        let report = batch.await.unwrap();
        assert!(report.cancelled >= 16, "{report}");
        assert_eq!(report.succeeded, 0);
        assert_eq!(report.not_removed, 0, "{report}");
        for r in &report.containers {
            assert_eq!(r.kind, Some(FailureKind::Cancelled), "{r:?}");
            assert!(r.removed, "{r:?}");
        }
        assert_eq!(
            leftovers(&d, &id).await,
            0,
            "cancellation leaked containers"
        );
    });
}

#[test]
fn dropping_a_batch_mid_way_removes_its_containers_in_the_background() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let launcher = Launcher::new(vec![d.clone()]);
        let spec = ContainerSpec::new(&img)
            .cmd(["sleep", "30"])
            .network_mode("none");
        let mut o = opts(10, 4);
        let id = stevedore::docker::launch::new_batch_id();
        o.batch_id = Some(id.clone());
        // Subscribed before the drop, so no removal goes unseen.
        let mut destroyed = d
            .events(&EventsOptions {
                filters: Filters::new()
                    .add("type", "container")
                    .add("event", "destroy")
                    .label(format!("{BATCH_LABEL}={id}")),
                ..EventsOptions::default()
            })
            .await
            .unwrap();
        let (tx, rx) = chan::unbounded();
        let batch = launcher.start(&spec, &o, Some(tx));
        assert_eq!(batch.id(), id);
        let run = stevedore::spawn(batch);
        while let Some(p) = rx.recv().await {
            if matches!(p, Progress::Started { .. }) {
                break;
            }
        }
        run.abort(); // drops the batch future
        assert!(run.await.unwrap_err().is_cancelled());
        // Cleanup runs in a detached task: recount after every removal.
        let deadline = Instant::now() + Duration::from_secs(60);
        while leftovers(&d, &id).await > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            stevedore::time::timeout(left, destroyed.next())
                .await
                .expect("dropping the batch leaked containers")
                .expect("the events stream stays open")
                .unwrap();
        }
    });
}

#[test]
fn two_engines_one_killed_mid_batch_finishes_on_the_other_and_cleans_up_after_restart() {
    let bridge = std::path::Path::new("/sys/class/net/docker0");
    let had_bridge = bridge.exists();
    let second = Arc::new(Mutex::new(dockerd::SecondDaemon::start("second")));
    let host_b = second.lock().unwrap().host();
    rt(2).block_on(async {
        let a = docker().await;
        let b = Docker::connect_with(&host_b).await.unwrap();
        let img = image(&a).await;
        assert_eq!(
            image(&b).await,
            img,
            "the test image is imported into the second engine"
        );
        let launcher = Launcher::new(vec![a.clone(), b.clone()]);
        let spec = ContainerSpec::new(&img)
            .cmd(["sleep", "0.5"])
            .network_mode("none");
        let (tx, rx) = chan::unbounded();
        let run = launcher.start(&spec, &opts(40, 8), Some(tx));
        let batch = run.id().to_owned();
        // Kill the second engine once three containers run on it.
        let killer = {
            let second = second.clone();
            stevedore::spawn(async move {
                let mut on_b = 0;
                while let Some(p) = rx.recv().await {
                    if let Progress::Started { engine: 1, .. } = p {
                        on_b += 1;
                        if on_b == 3 {
                            stevedore::spawn_blocking(move || second.lock().unwrap().kill())
                                .await
                                .unwrap();
                            return true;
                        }
                    }
                }
                false
            })
        };
        let report = run.await.unwrap();
        assert!(
            killer.await.unwrap(),
            "the second engine was killed mid-batch"
        );
        println!("{report}");

        // Every container is accounted for, none cancelled: the work lost
        // with the second engine moved to the first.
        assert_eq!(report.count, 40);
        assert_eq!(report.succeeded + report.failed, 40, "{report}");
        assert_eq!(report.cancelled, 0);
        let (on_a, on_b) = (report.engines[0].launched, report.engines[1].launched);
        assert!(on_b >= 3, "{report}");
        assert!(on_a + on_b >= 40, "{report}");
        assert_eq!(report.engines[1].state, EngineState::WentDown, "{report}");
        assert!(report.retried >= 3, "{report}");
        assert!(
            report
                .retries
                .iter()
                .any(|r| r.from == host_b && r.to == a.host() && r.kind.is_engine_failure()),
            "{report}"
        );
        // Failures, if any, are typed and name the engine that died.
        assert_eq!(
            report.failed,
            report.failures.iter().map(|f| f.count).sum::<usize>()
        );
        for f in &report.failures {
            assert_eq!(f.host.as_deref(), Some(host_b.as_str()), "{f:?}");
            assert!(f.kind.is_engine_failure(), "{f:?}");
        }
        assert_eq!(
            leftovers(&a, &batch).await,
            0,
            "nothing left on the first engine"
        );

        // The second engine comes back; cleanup removes what it still has.
        stevedore::spawn_blocking({
            let second = second.clone();
            move || second.lock().unwrap().restart()
        })
        .await
        .unwrap();
        let cleaned = launcher.cleanup(&batch).await;
        for c in &cleaned {
            assert!(c.result.is_ok(), "{}: {:?}", c.host, c.result);
        }
        let b = Docker::connect_with(&host_b).await.unwrap();
        assert_eq!(
            leftovers(&b, &batch).await,
            0,
            "cleanup left containers on the second engine"
        );
        assert_eq!(leftovers(&a, &batch).await, 0);
    });
    drop(second); // stops the second daemon and removes its directories
    assert_eq!(
        bridge.exists(),
        had_bridge,
        "the second daemon must not touch the host's docker0"
    );
}
