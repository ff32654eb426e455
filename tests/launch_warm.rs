//! Warm mode and job lists against the real daemon: `Docker::exec`, a
//! warm batch with output and exit codes, a worker container killed
//! mid-batch, a hung job over its timeout, cancellation and a dropped
//! batch, job lists identified by line, and bad input rejected before
//! anything is created. Every test checks that nothing labelled is left.

#[path = "util/docker.rs"]
mod dutil;
mod util;

use dutil::{docker, image};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use stevedore::chan;
use stevedore::docker::launch::{
    new_batch_id, FailureKind, JobList, JobListError, LaunchError, LaunchOptions, Launcher, Mode,
    Progress, BATCH_LABEL,
};
use stevedore::docker::{
    ContainerSpec, Docker, Error, EventsOptions, ExecSpec, Filters, ListOptions, RemoveOptions,
};
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

fn warm(count: usize, containers: usize) -> LaunchOptions {
    let mut o = LaunchOptions::new(count);
    o.mode = Mode::Warm { containers };
    o.batch_id = Some(new_batch_id());
    o
}

fn spec(img: &str) -> ContainerSpec {
    ContainerSpec::new(img).cmd(["true"]).network_mode("none")
}

/// Collects every progress event until the channel closes.
async fn drain(rx: chan::Receiver<Progress>) -> Vec<Progress> {
    let mut all = Vec::new();
    while let Ok(p) = rx.try_recv() {
        all.push(p);
    }
    all
}

#[test]
fn exec_demultiplexes_output_reads_exit_codes_and_types_its_errors() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let scope = dutil::Scope::new("exec");
        let c = d
            .create(
                &ContainerSpec::new(&img)
                    .cmd(["sleep", "600"])
                    .network_mode("none")
                    .label(dutil::LABEL, &scope.value),
            )
            .await
            .unwrap();
        d.start(&c.id).await.unwrap();
        let out = d
            .exec(
                &c.id,
                &ExecSpec::new(["sh", "-c", "echo out; echo err >&2; exit 3"]),
            )
            .await
            .unwrap();
        assert_eq!(out.exit_code, 3);
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        let info = d.exec_inspect(&out.exec_id).await.unwrap();
        assert_eq!((info.running, info.exit_code), (false, Some(3)));
        // A TTY exec: raw output, all of it as stdout.
        let out = d
            .exec(
                &c.id,
                &ExecSpec::new(["sh", "-c", "echo tty >&2"]).tty(true),
            )
            .await
            .unwrap();
        assert_eq!((out.exit_code, out.stderr.len()), (0, 0));
        assert_eq!(out.stdout, b"tty\r\n");
        // A command that does not exist is the command's failure, not an
        // error of the call.
        let out = d
            .exec(&c.id, &ExecSpec::new(["/no/such/program"]))
            .await
            .unwrap();
        assert_ne!(out.exit_code, 0);
        // An empty command is refused before anything is sent.
        let e = d
            .exec_create(&c.id, &ExecSpec::new(Vec::<String>::new()))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(400), "{e}");
        // An unknown exec.
        assert!(d
            .exec_inspect("no-such-exec")
            .await
            .unwrap_err()
            .is_not_found());
        assert!(d
            .exec_start("no-such-exec", false)
            .await
            .unwrap_err()
            .is_not_found());
        // A stopped container: typed.
        d.kill(&c.id, "SIGKILL").await.unwrap();
        d.wait(&c.id, stevedore::docker::WaitCondition::NotRunning)
            .await
            .unwrap();
        let e = d
            .exec_create(&c.id, &ExecSpec::new(["true"]))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::ContainerNotRunning { container, .. } if *container == c.id),
            "{e:?}"
        );
        // A missing one.
        d.remove(
            &c.id,
            RemoveOptions {
                force: true,
                volumes: true,
            },
        )
        .await
        .unwrap();
        let e = d
            .exec_create(&c.id, &ExecSpec::new(["true"]))
            .await
            .unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
        assert_eq!(scope.leftovers(&d).await, 0);
    });
}

#[test]
fn a_warm_batch_runs_a_job_list_with_output_exit_codes_and_line_numbers() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let dir = std::env::temp_dir().join(format!("stevedore-warm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let list = JobList::parse(
            "# a job list\n\
             sh -c 'echo out-2; echo err-2 >&2'\n\
             \n\
             sh -c 'exit 3'\n\
             echo 'one arg' two\n\
             true\n\
             true\n\
             true\n",
        )
        .unwrap();
        let lines: Vec<usize> = list.jobs().iter().map(|j| j.line).collect();
        assert_eq!(lines, [2, 4, 5, 6, 7, 8]);
        let mut o = warm(0, 2).with_jobs(list);
        o.logs_dir = Some(dir.clone());
        let batch = o.batch_id.clone().unwrap();
        let launcher = Launcher::new(vec![d.clone()]);
        let (tx, rx) = chan::unbounded();
        let report = launcher.launch(&spec(&img), &o, Some(tx)).await.unwrap();
        assert_eq!(report.count, 6);
        assert_eq!((report.succeeded, report.failed), (5, 1), "{report}");
        assert_eq!(report.exit_codes, BTreeMap::from([(0, 5), (3, 1)]));
        let warm = report.warm.clone().expect("a warm report");
        assert_eq!((warm.containers, warm.started, warm.replaced), (2, 2, 0));
        for r in &report.containers {
            assert_eq!(r.line, Some(lines[r.index]), "{r:?}");
            assert_eq!(r.attempts, 1);
            assert!(r.name.starts_with(&format!("{batch}-w")), "{r:?}");
            assert!(r.removed, "{r:?}");
            let t = &r.timings;
            assert!(t.create.is_some() && t.start.is_some() && t.output.is_some());
            assert!(t.exit.is_some() && t.remove.is_none() && t.wait.is_none());
        }
        let failed = &report.containers[1];
        assert_eq!(
            (failed.exit_code, failed.kind),
            (Some(3), Some(FailureKind::NonZeroExit))
        );
        // Output, per job, in the logs directory.
        let read = |i: usize, ext: &str| {
            std::fs::read_to_string(dir.join(format!("{batch}-{i}.{ext}"))).unwrap()
        };
        assert_eq!(read(0, "stdout"), "out-2\n");
        assert_eq!(read(0, "stderr"), "err-2\n");
        assert_eq!(read(2, "stdout"), "one arg two\n");
        assert_eq!(report.containers[0].stdout_bytes, 6);
        assert_eq!(report.output.stdout_bytes, 6 + 12);
        // Per-phase statistics of the exec phases.
        assert_eq!(report.phases.create.count, 6);
        assert_eq!(report.phases.exit.count, 6);
        assert_eq!(report.phases.remove.count, 0);
        // JSON names jobs by line.
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["containers"][1]["line"], 4);
        assert_eq!(json["containers"][1]["exit_code"], 3);
        assert_eq!(json["warm"]["started"], 2);
        assert!(json["containers"][0]["timings"]["exit_ms"].is_number());
        // Progress: two workers started, every job created, started,
        // exited and finished once.
        let events = drain(rx).await;
        let count = |f: &dyn Fn(&Progress) -> bool| events.iter().filter(|p| f(p)).count();
        assert_eq!(count(&|p| matches!(p, Progress::WorkerStarted { .. })), 2);
        assert_eq!(count(&|p| matches!(p, Progress::Created { .. })), 6);
        assert_eq!(count(&|p| matches!(p, Progress::Started { .. })), 6);
        assert_eq!(count(&|p| matches!(p, Progress::Exited { .. })), 6);
        assert_eq!(count(&|p| matches!(p, Progress::Finished(_))), 6);
        assert_eq!(leftovers(&d, &batch).await, 0);
        assert_eq!(report.not_removed, 0);
        let _ = std::fs::remove_dir_all(&dir);
    });
}

#[test]
fn a_killed_worker_container_is_replaced_and_the_batch_goes_on() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        // Job 0 runs until its worker is killed; the rest run after it on
        // the one worker, so they need its replacement.
        let list = JobList::parse("sleep 600\ntrue\necho after\ntrue\n").unwrap();
        let o = warm(0, 1).with_jobs(list);
        let batch = o.batch_id.clone().unwrap();
        let launcher = Launcher::new(vec![d.clone()]);
        let (tx, rx) = chan::unbounded();
        let run = launcher.start(&spec(&img), &o, Some(tx));
        let killer = {
            let d = d.clone();
            stevedore::spawn(async move {
                let mut worker = None;
                let mut seen = Vec::new();
                while let Some(p) = rx.recv().await {
                    match &p {
                        Progress::WorkerStarted { id, .. } if worker.is_none() => {
                            worker = Some(id.clone())
                        }
                        Progress::Started { index: 0, .. } => {
                            let id = worker.clone().expect("the worker started first");
                            d.kill(&id, "SIGKILL").await.unwrap();
                        }
                        _ => {}
                    }
                    seen.push(p);
                }
                seen
            })
        };
        let report = run.await.unwrap();
        let seen = killer.await.unwrap();
        let warm = report.warm.clone().unwrap();
        assert_eq!((warm.started, warm.replaced), (2, 1), "{report}");
        assert_eq!(
            seen.iter()
                .filter(|p| matches!(p, Progress::WorkerReplaced { .. }))
                .count(),
            1
        );
        // Job 0 had started: it is reported, never run twice. Whether the
        // worker's death shows on job 0 itself (killed, or refused by the
        // runtime), or only when job 1 finds the container gone, job 1 is
        // not lost: it runs (again, then) on the replacement.
        let j0 = &report.containers[0];
        assert_eq!(j0.attempts, 1, "{j0:?}");
        assert!(
            matches!(
                j0.kind,
                Some(FailureKind::WorkerLost | FailureKind::NonZeroExit)
            ),
            "{j0:?}"
        );
        let j1 = &report.containers[1];
        if j0.kind == Some(FailureKind::WorkerLost) {
            assert_eq!(j1.attempts, 1, "{j1:?}");
        } else {
            assert_eq!(j1.attempts, 2, "{j1:?}");
            assert_eq!(report.retried, 1);
        }
        for r in &report.containers[1..] {
            assert!(r.succeeded(), "{r:?}");
            assert_eq!(r.name, format!("{batch}-w0-1"), "{r:?}");
        }
        assert_eq!(report.succeeded, 3, "{report}");
        assert_eq!(report.not_removed, 0);
        assert_eq!(leftovers(&d, &batch).await, 0);
    });
}

#[test]
fn a_hung_job_over_its_timeout_is_killed_with_its_worker_and_reported() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let list = JobList::parse("sleep 600\ntrue\ntrue\ntrue\ntrue\n").unwrap();
        let mut o = warm(0, 2).with_jobs(list);
        o.timeout = Some(Duration::from_secs(3));
        let batch = o.batch_id.clone().unwrap();
        let launcher = Launcher::new(vec![d.clone()]);
        let t = Instant::now();
        let report = launcher.launch(&spec(&img), &o, None).await.unwrap();
        let hung = &report.containers[0];
        assert_eq!(hung.kind, Some(FailureKind::TimedOut), "{hung:?}");
        assert_eq!(hung.line, Some(1));
        assert_eq!(hung.exit_code, None);
        assert_eq!(report.succeeded, 4, "{report}");
        let warm = report.warm.clone().unwrap();
        assert_eq!(warm.replaced, 1, "the worker was replaced to kill the job");
        assert!(t.elapsed() < Duration::from_secs(300));
        assert_eq!(report.not_removed, 0);
        assert_eq!(leftovers(&d, &batch).await, 0);
    });
}

#[test]
fn cancelling_a_warm_batch_stops_its_jobs_and_leaves_nothing() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let mut o = warm(12, 3);
        o.cancel_grace = Duration::from_secs(60);
        let batch = o.batch_id.clone().unwrap();
        let launcher = Launcher::new(vec![d.clone()]);
        let (tx, rx) = chan::unbounded();
        let sleeper = ContainerSpec::new(&img)
            .cmd(["sleep", "600"])
            .network_mode("none");
        let run = launcher.start(&sleeper, &o, Some(tx));
        let canceller = run.canceller();
        stevedore::spawn(async move {
            let mut started = 0;
            while let Some(p) = rx.recv().await {
                if matches!(p, Progress::Started { .. }) {
                    started += 1;
                    if started == 3 {
                        canceller.cancel();
                    }
                }
            }
        });
        let report = run.await.unwrap();
        assert_eq!(report.succeeded, 0);
        assert_eq!(report.cancelled, 12, "{report}");
        for r in &report.containers {
            assert_eq!(r.kind, Some(FailureKind::Cancelled), "{r:?}");
        }
        assert_eq!(report.not_removed, 0, "{report}");
        assert_eq!(leftovers(&d, &batch).await, 0, "cancellation leaked");
    });
}

#[test]
fn dropping_a_warm_batch_removes_its_containers_in_the_background() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let o = warm(8, 2);
        let id = o.batch_id.clone().unwrap();
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
        let launcher = Launcher::new(vec![d.clone()]);
        let (tx, rx) = chan::unbounded();
        let sleeper = ContainerSpec::new(&img)
            .cmd(["sleep", "600"])
            .network_mode("none");
        let run = stevedore::spawn(launcher.start(&sleeper, &o, Some(tx)));
        let mut started = 0;
        while let Some(p) = rx.recv().await {
            if matches!(p, Progress::Started { .. }) {
                started += 1;
                if started == 2 {
                    break;
                }
            }
        }
        run.abort();
        assert!(run.await.unwrap_err().is_cancelled());
        let deadline = Instant::now() + Duration::from_secs(60);
        while leftovers(&d, &id).await > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            stevedore::time::timeout(left, destroyed.next())
                .await
                .expect("dropping the warm batch leaked containers")
                .expect("the events stream stays open")
                .unwrap();
        }
    });
}

#[test]
fn a_run_mode_batch_takes_its_commands_from_the_job_list() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let list = JobList::parse("true\n# skip\nsh -c 'exit 4'\n\ntrue\n").unwrap();
        let mut o = LaunchOptions::new(1).with_jobs(list);
        o.concurrency = 2;
        let launcher = Launcher::new(vec![d.clone()]);
        let report = launcher.launch(&spec(&img), &o, None).await.unwrap();
        assert_eq!(report.count, 3);
        assert!(report.warm.is_none());
        let by_line: Vec<(Option<usize>, Option<i64>)> = report
            .containers
            .iter()
            .map(|r| (r.line, r.exit_code))
            .collect();
        assert_eq!(
            by_line,
            [(Some(1), Some(0)), (Some(3), Some(4)), (Some(5), Some(0))]
        );
        assert_eq!(leftovers(&d, &report.batch).await, 0);
    });
}

#[test]
fn bad_warm_options_and_job_lists_are_typed_errors_before_anything_is_created() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let launcher = Launcher::new(vec![d.clone()]);
        let invalid = |o: &LaunchOptions| match o.validate() {
            Err(LaunchError::InvalidOptions { option, .. }) => option,
            other => panic!("{other:?}"),
        };
        assert_eq!(invalid(&warm(5, 0)), "warm");
        assert_eq!(invalid(&warm(5, 5000)), "warm");
        let mut o = warm(5, 2);
        o.keep = true;
        assert_eq!(invalid(&o), "keep");
        let mut o = warm(5, 2);
        o.warm_command = Vec::new();
        assert_eq!(invalid(&o), "warm_command");
        let mut o = warm(5, 2).with_jobs(JobList::parse("true\ntrue\n").unwrap());
        o.count = 5;
        assert_eq!(invalid(&o), "count");
        // Job lists.
        assert_eq!(JobList::parse("\n \n# none\n"), Err(JobListError::Empty));
        assert!(matches!(
            JobList::parse("true\necho 'open\n"),
            Err(JobListError::Unsplittable { line: 2, .. })
        ));
        assert_eq!(
            JobList::parse("true\nx\0y\n"),
            Err(JobListError::Nul { line: 2 })
        );
        let huge = "true\n".repeat(stevedore::docker::launch::MAX_COUNT + 1);
        assert!(matches!(
            JobList::parse(&huge),
            Err(JobListError::TooMany { .. })
        ));
        // Warm mode with no command to exec: refused, nothing created.
        let o = warm(3, 2);
        let batch = o.batch_id.clone().unwrap();
        let no_cmd = ContainerSpec::new(&img).network_mode("none");
        let e = launcher.launch(&no_cmd, &o, None).await.unwrap_err();
        assert!(
            matches!(e, LaunchError::InvalidOptions { option: "cmd", .. }),
            "{e}"
        );
        assert_eq!(leftovers(&d, &batch).await, 0);
        // A warm command the image cannot run stops the batch with one
        // spec error, and nothing stays.
        let mut o = warm(6, 2);
        o.warm_command = vec!["/no/such/waiter".into()];
        let batch = o.batch_id.clone().unwrap();
        let e = launcher.launch(&spec(&img), &o, None).await.unwrap_err();
        assert!(
            matches!(
                e,
                LaunchError::Spec {
                    kind: FailureKind::SpecInvalid,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(leftovers(&d, &batch).await, 0);
        // A missing image: the same as in run mode.
        let o = warm(4, 2);
        let batch = o.batch_id.clone().unwrap();
        let missing = ContainerSpec::new("stevedore-test/not-here:nope").cmd(["true"]);
        let e = launcher.launch(&missing, &o, None).await.unwrap_err();
        assert!(
            matches!(
                e,
                LaunchError::Spec {
                    kind: FailureKind::ImageMissing,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(leftovers(&d, &batch).await, 0);
    });
}

/// Builds the demo in this test's profile (once) and returns its path.
fn demo() -> std::path::PathBuf {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_owned();
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.args(["build", "--quiet", "--example", "launch"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "building the demo failed");
        profile_dir.join("examples").join("launch")
    })
    .clone()
}

/// Runs the demo with `stdin` piped in: (exit code, stdout, stderr).
fn run_demo(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(demo())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_demo_runs_a_job_list_from_stdin_in_warm_mode_and_rejects_bad_lists() {
    let img = rt(1).block_on(async { image(&docker().await).await });
    let (code, out, err) = run_demo(
        &["--image", &img, "--jobs", "-", "--warm", "2", "--json"],
        "true\n# comment\nsh -c 'exit 5'\n\necho hi\n",
    );
    assert_eq!(code, 1, "one job failed: {err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["count"], 3);
    let lines: Vec<(i64, i64)> = json["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["line"].as_i64().unwrap(),
                c["exit_code"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, [(1, 0), (3, 5), (5, 0)]);
    let batch = json["batch"].as_str().unwrap().to_owned();
    rt(1).block_on(async {
        assert_eq!(leftovers(&docker().await, &batch).await, 0);
    });
    // Usage errors, before anything is created: exit 2.
    for (args, stdin, says) in [
        (
            vec!["--jobs", "-", "--count", "3"],
            "true\n",
            "cannot be used with",
        ),
        (vec!["--jobs", "-"], "\n# nothing\n", "no command"),
        (
            vec!["--jobs", "-", "--warm", "2"],
            "true\necho 'open\n",
            "line 2",
        ),
        (vec!["--jobs", "/no/such/file"], "", "/no/such/file"),
        (vec!["--warm", "0"], "", "warm"),
        (vec!["--warm", "2", "--keep"], "", "keep"),
    ] {
        let (code, _, err) = run_demo(&args, stdin);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn a_frozen_worker_container_is_replaced_and_the_batch_goes_on() {
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        // Job 0 runs until its worker is frozen (paused), then hangs; the
        // timeout kills it by replacing the container, and the rest run on
        // the replacement.
        let list = JobList::parse("sleep 600\ntrue\necho thawed\n").unwrap();
        let mut o = warm(0, 1).with_jobs(list);
        o.timeout = Some(Duration::from_secs(3));
        let batch = o.batch_id.clone().unwrap();
        let launcher = Launcher::new(vec![d.clone()]);
        let (tx, rx) = chan::unbounded();
        let run = launcher.start(&spec(&img), &o, Some(tx));
        let freezer = {
            let d = d.clone();
            stevedore::spawn(async move {
                let mut worker = None;
                let mut paused = None;
                while let Some(p) = rx.recv().await {
                    match p {
                        Progress::WorkerStarted { id, .. } if worker.is_none() => worker = Some(id),
                        Progress::Started { index: 0, .. } => {
                            let id = worker.clone().expect("the worker started first");
                            d.pause(&id).await.unwrap();
                            paused = Some(id);
                        }
                        _ => {}
                    }
                }
                paused
            })
        };
        let report = run.await.unwrap();
        let paused = freezer.await.unwrap().expect("the worker was paused");
        // Frozen while it ran, job 0 hangs until its timeout; frozen before
        // the runtime had started it (an exec start is answered first), it
        // is refused at once. Either way its worker is replaced before
        // job 1.
        let j0 = &report.containers[0];
        assert!(
            matches!(
                j0.kind,
                Some(FailureKind::TimedOut | FailureKind::WorkerLost)
            ),
            "{j0:?}"
        );
        assert_eq!(report.succeeded, 2, "{report}");
        for r in &report.containers[1..] {
            assert_eq!(r.name, format!("{batch}-w0-1"), "{r:?}");
            assert_eq!(r.attempts, 1, "{r:?}");
        }
        let warm = report.warm.clone().unwrap();
        assert_eq!((warm.started, warm.replaced), (2, 1));
        // The frozen container was removed with the rest.
        assert!(d.inspect(&paused).await.unwrap_err().is_not_found());
        assert_eq!(report.not_removed, 0);
        assert_eq!(leftovers(&d, &batch).await, 0);
    });
}
