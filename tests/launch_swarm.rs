//! Swarm mode against real swarms of private dockerds (never the
//! machine's own engine): a single-node swarm — the client's calls and
//! typed errors, a batch's results, exit codes, logs, cancellation, a
//! dropped batch, a spec every node rejects, the sweep — and a two-node
//! swarm (manager and worker joined by a veth pair) whose tasks run on
//! both nodes. Every node leaves its swarm, stops, and loses its network
//! namespace when the test ends, also on failure (`util/swarm.rs`).

#[path = "util/dockerd.rs"]
mod dockerd;
#[path = "util/docker.rs"]
mod dutil;
#[path = "util/swarm.rs"]
mod swarm;
mod util;

use dutil::image;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use stevedore::chan;
use stevedore::docker::launch::{
    FailureKind, LaunchError, LaunchOptions, Launcher, Progress, Report, BATCH_LABEL,
};
use stevedore::docker::swarm::{ServiceSpec, SwarmErrorKind, SwarmInit, TaskState};
use stevedore::docker::{ContainerSpec, Docker, Error, Filters, ListOptions, LogsOptions};
use util::rt;

fn opts(count: usize, concurrency: usize) -> LaunchOptions {
    let mut o = LaunchOptions::new(count);
    o.concurrency = concurrency;
    o.swarm = true;
    o
}

async fn leftovers(d: &Docker, batch: &str) -> usize {
    d.list(&ListOptions {
        all: true,
        filters: Filters::new().label(format!("{BATCH_LABEL}={batch}")),
    })
    .await
    .unwrap()
    .len()
}

/// Nothing of the batch is left: no service, no container on `engines`.
async fn assert_gone(manager: &Docker, engines: &[&Docker], batch: &str) {
    let e = manager.service_inspect(batch).await.unwrap_err();
    assert!(e.is_not_found(), "the service {batch} is still there: {e}");
    for d in engines {
        assert_eq!(
            leftovers(d, batch).await,
            0,
            "containers left on {}",
            d.host()
        );
    }
}

/// Waits (on a daemon condition, bounded) until nothing of `batch` is left.
async fn wait_gone(manager: &Docker, batch: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let service_gone = manager
            .service_inspect(batch)
            .await
            .is_err_and(|e| e.is_not_found());
        if service_gone && leftovers(manager, batch).await == 0 {
            return;
        }
        assert!(
            Instant::now() < until,
            "a dropped batch left its service or containers for 60 s"
        );
        stevedore::time::sleep(Duration::from_millis(100)).await; // polling the daemon's state
    }
}

/// Waits for the first `Started` event.
async fn first_start(rx: &chan::Receiver<Progress>) {
    while let Some(p) = rx.recv().await {
        if matches!(p, Progress::Started { .. }) {
            return;
        }
    }
    panic!("the batch ended before any task started");
}

fn check_counts(r: &Report, succeeded: usize, failed: usize, cancelled: usize) {
    assert_eq!(
        (r.succeeded, r.failed, r.cancelled),
        (succeeded, failed, cancelled),
        "{r}"
    );
}

#[test]
fn single_node_swarm_client_and_launcher() {
    rt(2).block_on(async {
        let node = swarm::plain("swarm1");
        let d = node.docker().await;
        let img = image(&d).await;

        // Not in a swarm yet: typed errors, nothing created.
        let job = ServiceSpec::replicated_job(
            "sd-swarm-probe",
            &ContainerSpec::new(&img).cmd(["true"]),
            1,
            1,
        )
        .unwrap();
        let e = d.service_create(&job).await.unwrap_err();
        assert!(
            matches!(
                e,
                Error::Swarm {
                    kind: SwarmErrorKind::NotManager,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = d.swarm_leave(false).await.unwrap_err();
        assert!(
            matches!(
                e,
                Error::Swarm {
                    kind: SwarmErrorKind::NotInSwarm,
                    ..
                }
            ),
            "{e:?}"
        );
        let launcher = Launcher::new(vec![d.clone()]);
        let spec = ContainerSpec::new(&img).cmd(["true"]);
        let e = launcher.launch(&spec, &opts(2, 1), None).await.unwrap_err();
        assert!(
            matches!(&e, LaunchError::NotSwarmManager { state, .. } if state == "inactive"),
            "{e}"
        );

        swarm::init_single(&node).await;
        let e = d
            .swarm_init(&SwarmInit::new("127.0.0.1:2377", "127.0.0.1"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Swarm {
                    kind: SwarmErrorKind::AlreadyInSwarm,
                    ..
                }
            ),
            "{e:?}"
        );
        let status = d.swarm_status().await.unwrap();
        assert!(status.is_manager(), "{status:?}");
        let nodes = d.nodes().await.unwrap();
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].id, status.node_id);
        assert!(nodes[0].manager_status.as_ref().is_some_and(|m| m.leader));

        // The client alone: a replicated job of two tasks, their exit
        // codes, nodes and logs.
        let probe_label = "sd-swarm-probe";
        let job = ServiceSpec::replicated_job(
            probe_label,
            &ContainerSpec::new(&img)
                .cmd(["sh", "-c", "echo hi"])
                .label(BATCH_LABEL, probe_label),
            2,
            2,
        )
        .unwrap();
        assert!(job.unmapped().is_empty());
        let created = d.service_create(&job).await.unwrap();
        let svc = d.service_inspect(&created.id).await.unwrap();
        assert_eq!(svc.spec.name, probe_label);
        let until = Instant::now() + Duration::from_secs(60);
        let tasks = loop {
            let tasks = d.service_tasks(&created.id).await.unwrap();
            let done = tasks
                .iter()
                .filter(|t| t.status.state == TaskState::Complete)
                .count();
            if done >= 2 {
                break tasks;
            }
            assert!(
                Instant::now() < until,
                "the job did not complete: {tasks:?}"
            );
            stevedore::time::sleep(Duration::from_millis(100)).await; // polling the swarm
        };
        for t in tasks
            .iter()
            .filter(|t| t.status.state == TaskState::Complete)
        {
            assert_eq!(t.exit_code(), Some(0));
            assert_eq!(t.node_id, status.node_id);
            let (out, _) = d
                .task_logs(&t.id, &LogsOptions::default())
                .await
                .unwrap()
                .collect_output()
                .await
                .unwrap();
            assert_eq!(out, b"hi\n");
        }
        let (out, _) = d
            .service_logs(&created.id, &LogsOptions::default())
            .await
            .unwrap()
            .collect_output()
            .await
            .unwrap();
        assert_eq!(out, b"hi\nhi\n");
        d.service_remove(&created.id).await.unwrap();
        assert!(d
            .service_remove(&created.id)
            .await
            .unwrap_err()
            .is_not_found());
        // `service rm` leaves the tasks' containers behind.
        assert!(leftovers(&d, probe_label).await >= 2);
        let _ = Launcher::new(vec![d.clone()]).cleanup(probe_label).await;
        assert_eq!(leftovers(&d, probe_label).await, 0);

        // A batch: results, logs, nodes, timings, the sweep.
        let dir = std::env::temp_dir().join(format!("stevedore-swarm-logs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut o = opts(6, 3);
        o.logs_dir = Some(dir.clone());
        let spec = ContainerSpec::new(&img).cmd(["sh", "-c", "echo hello; echo oops >&2"]);
        let (tx, rx) = chan::unbounded();
        let r = launcher.launch(&spec, &o, Some(tx)).await.unwrap();
        check_counts(&r, 6, 0, 0);
        assert_eq!(r.exit_codes.get(&0), Some(&6));
        assert_eq!(r.not_removed, 0, "{r}");
        assert!(
            r.phases.output.count == 6 && r.phases.remove.count == 6,
            "{r}"
        );
        for c in &r.containers {
            assert_eq!(c.node.as_deref(), Some(status.node_id.as_str()));
            assert_eq!(c.engine, Some(0));
            assert!(c.removed, "{c:?}");
            let out = std::fs::read(dir.join(format!("{}.stdout", c.name))).unwrap();
            let err = std::fs::read(dir.join(format!("{}.stderr", c.name))).unwrap();
            assert_eq!(
                (out.as_slice(), err.as_slice()),
                (&b"hello\n"[..], &b"oops\n"[..])
            );
        }
        let mut finished = 0;
        while let Some(p) = rx.recv().await {
            finished += usize::from(matches!(p, Progress::Finished(_)));
        }
        assert_eq!(finished, 6);
        assert_gone(&d, &[&d], &r.batch).await;
        let _ = std::fs::remove_dir_all(&dir);

        // Exit codes: every task fails; the swarm would rerun them, the
        // batch stops at its count.
        let spec = ContainerSpec::new(&img).cmd(["sh", "-c", "exit 3"]);
        let r = launcher.launch(&spec, &opts(4, 2), None).await.unwrap();
        check_counts(&r, 0, 4, 0);
        assert_eq!(r.exit_codes.get(&3), Some(&4), "{r}");
        assert!(r
            .containers
            .iter()
            .all(|c| c.kind == Some(FailureKind::NonZeroExit) && c.exit_code == Some(3)));
        assert_gone(&d, &[&d], &r.batch).await;

        // Cancelled once a task runs: the service and containers go.
        let spec = ContainerSpec::new(&img).cmd(["sleep", "1000"]);
        let (tx, rx) = chan::unbounded();
        let batch = launcher.start(&spec, &opts(4, 2), Some(tx));
        let canceller = batch.canceller();
        let id = batch.id().to_owned();
        let run = stevedore::spawn(batch);
        first_start(&rx).await;
        canceller.cancel();
        let r = run.await.unwrap().unwrap();
        check_counts(&r, 0, 0, 4);
        assert_gone(&d, &[&d], &id).await;

        // Dropped once a task runs: removed in the background.
        let (tx, rx) = chan::unbounded();
        let batch = launcher.start(&spec, &opts(4, 2), Some(tx));
        let id = batch.id().to_owned();
        let run = stevedore::spawn(batch);
        first_start(&rx).await;
        run.abort();
        wait_gone(&d, &id).await;

        // Cancelled before its first call: nothing is left.
        let batch = launcher.start(&spec, &opts(4, 2), None);
        batch.canceller().cancel();
        let id = batch.id().to_owned();
        let r = batch.await.unwrap();
        check_counts(&r, 0, 0, 4);
        assert_gone(&d, &[&d], &id).await;

        // The batch deadline stops running tasks; they are removed.
        let mut o = opts(4, 2);
        o.deadline = Some(Duration::from_secs(3));
        let r = launcher.launch(&spec, &o, None).await.unwrap();
        assert!(r.deadline_exceeded, "{r}");
        check_counts(&r, 0, 0, 4);
        assert!(r
            .containers
            .iter()
            .all(|c| c.kind == Some(FailureKind::DeadlineExceeded)));
        assert_gone(&d, &[&d], &r.batch).await;

        // Kept: the containers stay (and `cleanup` removes them), the
        // service does not.
        let mut o = opts(2, 2);
        o.keep = true;
        let r = launcher
            .launch(&ContainerSpec::new(&img).cmd(["true"]), &o, None)
            .await
            .unwrap();
        check_counts(&r, 2, 0, 0);
        assert!(r.containers.iter().all(|c| c.kept && !c.removed), "{r}");
        assert_eq!(leftovers(&d, &r.batch).await, 2);
        let cleaned = launcher.cleanup(&r.batch).await;
        assert!(matches!(cleaned[0].result, Ok(2)), "{cleaned:?}");
        assert_gone(&d, &[&d], &r.batch).await;

        // A spec no node can run (a missing image): a spec error, not an
        // endless stream of rejected tasks; nothing left.
        let spec = ContainerSpec::new("stevedore-test/absent:1").cmd(["true"]);
        let mut o = opts(3, 3);
        o.batch_id = Some(format!("sd-absent-{}", std::process::id()));
        let e = launcher.launch(&spec, &o, None).await.unwrap_err();
        assert!(matches!(e, LaunchError::Spec { .. }), "{e}");
        assert_gone(&d, &[&d], o.batch_id.as_deref().unwrap()).await;

        // Options Swarm mode cannot honour, refused before anything.
        let mut o = opts(1, 1);
        o.timeout = Some(Duration::from_secs(5));
        o.batch_id = Some(format!("sd-timeout-{}", std::process::id()));
        let e = launcher.launch(&spec, &o, None).await.unwrap_err();
        assert!(
            matches!(
                e,
                LaunchError::InvalidOptions {
                    option: "timeout",
                    ..
                }
            ),
            "{e}"
        );
        assert!(d
            .service_inspect(o.batch_id.as_deref().unwrap())
            .await
            .unwrap_err()
            .is_not_found());
    });
}

#[test]
fn two_node_swarm_runs_tasks_on_both_nodes() {
    rt(2).block_on(async {
        let (manager, worker) = swarm::two_nodes("swarm2").await;
        let (m, w) = (manager.docker().await, worker.docker().await);
        let img = image(&m).await;
        assert_eq!(image(&w).await, img);
        let m_id = m.swarm_status().await.unwrap().node_id;
        let w_status = w.swarm_status().await.unwrap();
        assert!(
            w_status.is_active() && !w_status.is_manager(),
            "{w_status:?}"
        );
        assert_eq!(m.nodes().await.unwrap().len(), 2);

        // The worker cannot run a batch.
        let spec = ContainerSpec::new(&img).cmd(["sleep", "1"]);
        let e = Launcher::new(vec![w.clone()])
            .launch(&spec, &opts(2, 2), None)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, LaunchError::NotSwarmManager { state, .. } if state == "active"),
            "{e}"
        );
        let e = w.service_tasks("anything").await.unwrap_err();
        assert!(
            matches!(
                e,
                Error::Swarm {
                    kind: SwarmErrorKind::NotManager,
                    ..
                }
            ),
            "{e:?}"
        );

        // Eight at once spread over both nodes; the sweep reaches both.
        let launcher = Launcher::new(vec![m.clone(), w.clone()]);
        let r = launcher.launch(&spec, &opts(8, 8), None).await.unwrap();
        check_counts(&r, 8, 0, 0);
        let nodes: BTreeSet<&str> = r
            .containers
            .iter()
            .filter_map(|c| c.node.as_deref())
            .collect();
        let expected: BTreeSet<&str> = [m_id.as_str(), w_status.node_id.as_str()].into();
        assert_eq!(nodes, expected, "{r}");
        for c in &r.containers {
            let on_manager = c.node.as_deref() == Some(m_id.as_str());
            assert_eq!(c.engine, Some(if on_manager { 0 } else { 1 }));
            assert!(c.removed, "{c:?}");
        }
        assert_eq!(r.not_removed, 0, "{r}");
        assert_gone(&m, &[&m, &w], &r.batch).await;
    });
}
