//! The launcher under faults and bad input: a hung engine (SIGSTOP on a
//! second dockerd) mid-batch and under Ctrl-C, per-container timeouts, the
//! batch deadline, OOM kills, output streamed to a logs directory with
//! bounded memory, unreachable hosts, and options rejected before anything
//! is created.

#[path = "util/dockerd.rs"]
mod dockerd;
#[path = "util/docker.rs"]
mod dutil;
mod util;

use dutil::{docker, image};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stevedore::chan;
use stevedore::docker::launch::{
    EngineState, FailureKind, LaunchError, LaunchOptions, Launcher, Progress, BATCH_LABEL,
};
use stevedore::docker::{ContainerSpec, Docker, Filters, ListOptions};
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

/// Waits (on progress events) until `n` containers started on `engine`.
async fn started_on(rx: &chan::Receiver<Progress>, engine: usize, n: usize) {
    let mut seen = 0;
    while let Some(p) = rx.recv().await {
        if let Progress::Started { engine: e, .. } = p {
            if e == engine {
                seen += 1;
                if seen == n {
                    return;
                }
            }
        }
    }
    panic!("the batch ended before {n} containers started on engine {engine}");
}

#[test]
fn a_hung_engine_is_marked_down_its_work_moves_and_nothing_stays_once_it_resumes() {
    let second = Arc::new(Mutex::new(dockerd::SecondDaemon::start("hung")));
    let host_b = second.lock().unwrap().host();
    rt(2).block_on(async {
        let a = docker().await;
        let b = Docker::connect_with(&host_b).await.unwrap();
        let img = image(&a).await;
        assert_eq!(image(&b).await, img);
        let launcher = Launcher::new(vec![a.clone(), b.clone()]);
        let spec = ContainerSpec::new(&img)
            .cmd(["sleep", "1"])
            .network_mode("none");

        // 1. Frozen mid-batch: the batch ends on the first engine alone.
        let mut o = opts(24, 8);
        o.connect_timeout = Duration::from_secs(3);
        let (tx, rx) = chan::unbounded();
        let run = launcher.start(&spec, &o, Some(tx));
        let batch = run.id().to_owned();
        let run = stevedore::spawn(run);
        started_on(&rx, 1, 2).await;
        let frozen = Instant::now();
        second.lock().unwrap().freeze();
        let report = run.await.unwrap().unwrap();
        let ended = frozen.elapsed();
        println!(
            "SIGSTOP → batch ended: {:.1} s\n{report}",
            ended.as_secs_f64()
        );
        assert!(ended < Duration::from_secs(60), "{ended:?}");
        assert_eq!(report.engines[1].state, EngineState::Hung, "{report}");
        assert_eq!(report.succeeded, 24, "the lost work moved: {report}");
        assert!(report
            .retries
            .iter()
            .any(|r| r.from == host_b && r.to == a.host() && r.kind == FailureKind::EngineTimeout));
        assert_eq!(report.cleanup_hosts, vec![host_b.clone()], "{report}");
        assert!(!report.engines[1].not_removed.is_empty(), "{report}");
        assert_eq!(leftovers(&a, &batch).await, 0);
        // Honest: nothing that may be on the hung engine is claimed removed.
        for r in &report.containers {
            let maybe_on_b = report.engines[1].not_removed.contains(&r.name);
            assert_eq!(r.removed, !maybe_on_b, "{r:?}");
        }

        // 2. Cancelled while an engine is frozen: the batch ends within
        // the cancel grace (4 s), well inside 5 s.
        second.lock().unwrap().thaw();
        let mut o = opts(16, 8);
        o.connect_timeout = Duration::from_secs(30); // not detected by the probe
        let long = ContainerSpec::new(&img)
            .cmd(["sleep", "60"])
            .network_mode("none");
        let (tx, rx) = chan::unbounded();
        let run = launcher.start(&long, &o, Some(tx));
        let batch2 = run.id().to_owned();
        let canceller = run.canceller();
        let run = stevedore::spawn(run);
        started_on(&rx, 1, 2).await;
        second.lock().unwrap().freeze();
        let cancelled = Instant::now();
        canceller.cancel();
        let report2 = run.await.unwrap().unwrap();
        let took = cancelled.elapsed();
        println!(
            "cancel with a frozen engine → batch ended: {:.1} s\n{report2}",
            took.as_secs_f64()
        );
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert_eq!(report2.succeeded, 0);
        assert!(report2.cleanup_hosts.contains(&host_b), "{report2}");
        let on_b: Vec<_> = report2
            .containers
            .iter()
            .filter(|r| r.engine == Some(1))
            .collect();
        assert!(!on_b.is_empty());
        for r in on_b {
            assert!(
                !r.removed,
                "no removal was seen on the frozen engine: {r:?}"
            );
        }
        // On the first engine (loaded, but answering) the report names
        // whatever removal it did not see finish within the grace; the
        // force-removes left running finish it.
        assert!(leftovers(&a, &batch2).await <= report2.engines[0].not_removed.len());
        stevedore::time::timeout(Duration::from_secs(120), a.settle())
            .await
            .unwrap();
        assert_eq!(leftovers(&a, &batch2).await, 0, "{report2}");

        // 3. The engine resumes: the requests abandoned on it run, and the
        // force-removes queued behind them leave nothing of either batch.
        second.lock().unwrap().thaw();
        assert!(b.abandoned_requests() > 0);
        stevedore::time::timeout(Duration::from_secs(120), b.settle())
            .await
            .expect("abandoned requests settle once the engine answers");
        assert_eq!(
            leftovers(&b, &batch).await,
            0,
            "first batch left containers"
        );
        assert_eq!(
            leftovers(&b, &batch2).await,
            0,
            "second batch left containers"
        );
    });
}

#[test]
fn a_container_past_its_timeout_is_killed_removed_and_reported_timed_out() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let launcher = Launcher::new(vec![d.clone()]);
        let spec = ContainerSpec::new(&img)
            .cmd(["sleep", "60"])
            .network_mode("none");
        let mut o = opts(3, 3);
        o.timeout = Some(Duration::from_millis(1500));
        let t = Instant::now();
        let report = launcher.launch(&spec, &o, None).await.unwrap();
        assert!(t.elapsed() < Duration::from_secs(30), "{report}");
        assert_eq!(report.failed, 3, "{report}");
        for r in &report.containers {
            assert_eq!(r.kind, Some(FailureKind::TimedOut), "{r:?}");
            assert!(r.removed);
        }
        assert_eq!(leftovers(&d, &report.batch).await, 0);
    });
}

#[test]
fn the_batch_deadline_cancels_what_is_left_and_says_so() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let launcher = Launcher::new(vec![d.clone()]);
        let spec = ContainerSpec::new(&img)
            .cmd(["sleep", "60"])
            .network_mode("none");
        let mut o = opts(6, 2);
        o.deadline = Some(Duration::from_secs(2));
        let t = Instant::now();
        let report = launcher.launch(&spec, &o, None).await.unwrap();
        assert!(t.elapsed() < Duration::from_secs(2 + 5), "{report}");
        assert!(report.deadline_exceeded);
        assert_eq!(report.cancelled, 6, "{report}");
        assert_eq!(report.succeeded + report.failed, 0);
        for r in &report.containers {
            assert_eq!(r.kind, Some(FailureKind::DeadlineExceeded), "{r:?}");
        }
        // What the grace did not see removed is named, and its
        // force-removes finish the job.
        assert!(leftovers(&d, &report.batch).await <= report.not_removed);
        stevedore::time::timeout(Duration::from_secs(120), d.settle())
            .await
            .unwrap();
        assert_eq!(leftovers(&d, &report.batch).await, 0, "{report}");
    });
}

#[test]
fn an_oom_killed_container_is_reported_as_such() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let launcher = Launcher::new(vec![d.clone()]);
        let spec = ContainerSpec::new(&img)
            .cmd([
                "sh",
                "-c",
                "x=$(head -c 50000000 /dev/zero | tr '\\0' a); echo ${#x}",
            ])
            .memory(8 << 20)
            .network_mode("none");
        let report = launcher.launch(&spec, &opts(1, 1), None).await.unwrap();
        let r = &report.containers[0];
        assert_eq!(r.kind, Some(FailureKind::OomKilled), "{report}");
        assert_eq!(r.exit_code, Some(137));
        assert_eq!(report.failures[0].kind, FailureKind::OomKilled);
    });
}

#[test]
fn bad_options_are_typed_errors_before_anything_is_created() {
    rt(2).block_on(async {
        let d = docker().await;
        let launcher = Launcher::new(vec![d.clone()]);
        let spec = ContainerSpec::new("stevedore-test/busybox:latest").cmd(["true"]);
        let mut cases: Vec<(LaunchOptions, &str)> = Vec::new();
        cases.push((opts(0, 1), "count"));
        cases.push((opts(usize::MAX, 8), "count"));
        cases.push((opts(10, 0), "concurrency"));
        let mut o = opts(1, 1);
        o.batch_id = Some("../etc".into());
        cases.push((o, "batch_id"));
        let mut o = opts(1, 1);
        o.timeout = Some(Duration::ZERO);
        cases.push((o, "timeout"));
        let mut o = opts(1, 1);
        o.logs_dir = Some("/etc/hostname".into());
        cases.push((o, "logs_dir"));
        for (mut o, option) in cases {
            let id = stevedore::docker::launch::new_batch_id();
            if o.batch_id.is_none() {
                o.batch_id = Some(id.clone());
            }
            let (tx, rx) = chan::unbounded();
            let err = launcher.launch(&spec, &o, Some(tx)).await.unwrap_err();
            match &err {
                LaunchError::InvalidOptions { option: got, .. } => assert_eq!(*got, option),
                other => panic!("{option}: {other}"),
            }
            assert!(
                rx.try_recv().is_err(),
                "{option}: no event: nothing was done"
            );
            assert_eq!(leftovers(&d, &id).await, 0);
        }
        // One engine given twice.
        let path = dutil::main_socket_path().expect("the tests' engine is a Unix socket");
        let again = Docker::connect_with(&path).await.unwrap();
        let err = Launcher::try_new(vec![d.clone(), again]).unwrap_err();
        assert!(matches!(err, LaunchError::DuplicateEngine { .. }), "{err}");
        let hosts = vec![format!("unix://{path}"), path.clone()];
        let err = Launcher::connect(&hosts, Docker::builder())
            .await
            .unwrap_err();
        assert!(matches!(err, LaunchError::DuplicateEngine { .. }), "{err}");
        assert!(matches!(
            Launcher::try_new(Vec::new()),
            Err(LaunchError::NoEngines)
        ));
    });
}

#[test]
fn an_unreachable_host_among_several_is_reported_and_skipped() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let gone = "unix:///tmp/stevedore-no-such-engine.sock".to_owned();
        let hosts = vec![gone.clone(), d.host().to_owned()];
        let builder = Docker::builder().connect_timeout(Duration::from_secs(5));
        let launcher = Launcher::connect(&hosts, builder.clone()).await.unwrap();
        assert_eq!(launcher.hosts(), vec![d.host().to_owned()]);
        assert_eq!(launcher.unreachable()[0].0, gone);
        let spec = ContainerSpec::new(&img).cmd(["true"]).network_mode("none");
        let report = launcher.launch(&spec, &opts(4, 2), None).await.unwrap();
        assert_eq!(report.succeeded, 4, "{report}");
        let e = report.engines.iter().find(|e| e.host == gone).unwrap();
        assert_eq!(e.state, EngineState::Unreachable);
        // Cleanup cleans the reachable one and names the other.
        let cleaned = launcher.cleanup(&report.batch).await;
        assert!(cleaned.iter().any(|c| c.host == gone && c.result.is_err()));
        assert!(cleaned
            .iter()
            .any(|c| c.host == d.host() && c.result.is_ok()));
        // All unreachable is an error.
        let err = Launcher::connect(std::slice::from_ref(&gone), builder)
            .await
            .unwrap_err();
        assert!(matches!(err, LaunchError::Unreachable { .. }), "{err}");
    });
}

#[test]
fn eight_times_50_mb_of_output_stream_to_disk_whole_with_bounded_memory() {
    const SIZE: u64 = 50 << 20;
    let dir = std::env::temp_dir().join(format!("stevedore-logs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let launcher = Launcher::new(vec![d.clone()]);
        let script = format!("yes 0123456789abcdef | head -c {SIZE}; echo done >&2");
        let spec = ContainerSpec::new(&img)
            .cmd(["sh", "-c", &script])
            .network_mode("none");
        let mut o = opts(8, 8);
        o.logs_dir = Some(dir.clone());
        let report = launcher.launch(&spec, &o, None).await.unwrap();
        assert_eq!(report.succeeded, 8, "{report}");
        for r in &report.containers {
            assert_eq!((r.stdout_bytes, r.stderr_bytes), (SIZE, 5), "{r:?}");
            let out = dir.join(format!("{}.stdout", r.name));
            assert_eq!(std::fs::metadata(&out).unwrap().len(), SIZE);
            let err = std::fs::read(dir.join(format!("{}.stderr", r.name))).unwrap();
            assert_eq!(err, b"done\n");
        }
        assert_eq!(report.output.stdout_bytes, 8 * SIZE);
        // Never more than the writer channel's worth in memory: 32 chunks
        // of one socket read (16 KiB) plus one chunk per copier.
        let peak = report.output.peak_buffered_bytes;
        println!(
            "peak output held in memory: {peak} bytes for {} written",
            8 * SIZE
        );
        assert!(peak <= (32 + 8) * 16 * 1024, "{peak}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["containers"][0]["stdout_bytes"], SIZE);
    });
    let _ = std::fs::remove_dir_all(&dir);
}
