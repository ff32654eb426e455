//! The Docker client against the real daemon. Every container is labelled
//! with its test's scope and removed afterwards, even if the test fails.

#[path = "util/docker.rs"]
mod dutil;
mod util;

use dutil::{docker, image, Scope, LABEL};
use futures::StreamExt;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use stevedore::docker::{
    AttachOptions, ContainerSpec, Error, EventsOptions, Filters, ListOptions, LogsOptions,
    RemoveOptions, StreamKind, WaitCondition,
};
use stevedore::sync::WaitGroup;
use util::rt;

fn spec(image: &str, scope: &Scope) -> ContainerSpec {
    ContainerSpec::new(image)
        .label(LABEL, scope.value.clone())
        .network_mode("none")
}

const FORCE: RemoveOptions = RemoveOptions {
    force: true,
    volumes: true,
};

#[test]
fn lifecycle_end_to_end() {
    let scope = Scope::new("lifecycle");
    rt(2).block_on(async {
        let d = docker().await;
        assert_eq!(
            d.api_version(),
            "1.41",
            "negotiated down to the daemon's version"
        );
        d.ping().await.unwrap();
        let img = image(&d).await;
        let name = format!("stevedore-{}", scope.value);
        let created = d
            .create(
                &spec(&img, &scope)
                    .name(&name)
                    .cmd(["sh", "-c", "echo ready"]),
            )
            .await
            .unwrap();
        let info = d.inspect(&created.id).await.unwrap();
        assert_eq!(info.state.status, "created");
        assert_eq!(info.name, format!("/{name}"));
        assert_eq!(info.config.labels.get(LABEL), Some(&scope.value));

        let wait = d
            .wait_registered(&name, WaitCondition::NextExit)
            .await
            .unwrap();
        assert_eq!(
            d.start(&created.id).await.unwrap(),
            stevedore::docker::Started::Started
        );
        let exit = wait.await.unwrap();
        assert_eq!(exit.status_code, 0);
        assert_eq!(exit.error, None);
        let (out, err) = d
            .logs(&created.id, &LogsOptions::default())
            .await
            .unwrap()
            .collect_output()
            .await
            .unwrap();
        assert_eq!(out, b"ready\n");
        assert!(err.is_empty());
        assert_eq!(d.inspect(&created.id).await.unwrap().state.status, "exited");
        d.remove(&created.id, RemoveOptions::default())
            .await
            .unwrap();
        assert!(d.inspect(&created.id).await.unwrap_err().is_not_found());
        assert!(d.idle_connections() >= 1, "connections are reused");
    });
}

#[test]
fn exit_codes_0_3_and_137_after_kill() {
    let scope = Scope::new("exitcodes");
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let ok = d.run(&spec(&img, &scope).cmd(["true"])).await.unwrap();
        assert_eq!(ok.exit_code, 0);
        let three = d
            .run(&spec(&img, &scope).cmd(["sh", "-c", "exit 3"]))
            .await
            .unwrap();
        assert_eq!(
            three.exit_code, 3,
            "a non-zero exit is a result, not an error"
        );

        let c = d
            .create(&spec(&img, &scope).cmd(["sleep", "300"]))
            .await
            .unwrap();
        let wait = d.start_watched(&c.id).await.unwrap();
        d.kill(&c.id, "SIGKILL").await.unwrap();
        assert_eq!(wait.await.unwrap().status_code, 137);
        let again = d.kill(&c.id, "SIGKILL").await.unwrap_err();
        assert!(again.is_conflict(), "killing a stopped container: {again}");
        d.remove(&c.id, FORCE).await.unwrap();
        assert_eq!(scope.leftovers(&d).await, 0);
    });
}

#[test]
fn a_missing_image_is_not_found_and_leaves_nothing() {
    let scope = Scope::new("noimage");
    rt(1).block_on(async {
        let d = docker().await;
        let err = d
            .run(&spec("stevedore-test/does-not-exist:nope", &scope).cmd(["true"]))
            .await
            .unwrap_err();
        assert!(err.is_not_found(), "{err}");
        assert!(err.to_string().contains("does-not-exist"), "{err}");
        assert_eq!(scope.leftovers(&d).await, 0);
    });
}

#[test]
fn a_taken_name_is_a_conflict() {
    let scope = Scope::new("conflict");
    rt(1).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let name = format!("stevedore-{}", scope.value);
        d.create(&spec(&img, &scope).name(&name).cmd(["true"]))
            .await
            .unwrap();
        let err = d
            .create(&spec(&img, &scope).name(&name).cmd(["true"]))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err}");
        assert!(err.to_string().contains("already in use"), "{err}");
    });
}

#[test]
fn removing_a_running_container_without_force_is_a_conflict() {
    let scope = Scope::new("runningrm");
    rt(1).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let c = d
            .create(&spec(&img, &scope).cmd(["sleep", "300"]))
            .await
            .unwrap();
        d.start(&c.id).await.unwrap();
        assert_eq!(
            d.start(&c.id).await.unwrap(),
            stevedore::docker::Started::AlreadyRunning
        );
        let err = d.remove(&c.id, RemoveOptions::default()).await.unwrap_err();
        assert!(err.is_conflict(), "{err}");
        d.remove(&c.id, FORCE).await.unwrap();
        assert!(d.remove(&c.id, FORCE).await.unwrap_err().is_not_found());
    });
}

#[test]
fn a_container_that_exits_at_once_is_never_missed() {
    let scope = Scope::new("fastexit");
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        for i in 0..10 {
            let c = d
                .create(&spec(&img, &scope).cmd(["sh", "-c", &format!("exit {}", i % 4)]))
                .await
                .unwrap();
            let wait = d.start_watched(&c.id).await.unwrap();
            let exit = stevedore::time::timeout(Duration::from_secs(60), wait)
                .await
                .expect("the exit was missed: wait hung")
                .unwrap();
            assert_eq!(exit.status_code, i % 4);
            d.remove(&c.id, FORCE).await.unwrap();
        }
    });
}

#[test]
fn logs_with_a_40000_byte_line_and_interleaved_streams() {
    let scope = Scope::new("logs");
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let script =
            "head -c 40000 /dev/zero | tr '\\000' a; echo; echo err1 >&2; echo out2; echo err2 >&2";
        let c = d
            .create(&spec(&img, &scope).cmd(["sh", "-c", script]))
            .await
            .unwrap();
        let wait = d.start_watched(&c.id).await.unwrap();
        assert_eq!(wait.await.unwrap().status_code, 0);
        let mut stream = d.logs(&c.id, &LogsOptions::default()).await.unwrap();
        let (mut out, mut err, mut pieces) = (Vec::new(), Vec::new(), 0);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            pieces += 1;
            match chunk.stream {
                StreamKind::Stdout => out.extend(chunk.bytes),
                StreamKind::Stderr => err.extend(chunk.bytes),
                StreamKind::Stdin => panic!("stdin in logs"),
            }
        }
        let mut expect = vec![b'a'; 40_000];
        expect.extend_from_slice(b"\nout2\n");
        assert_eq!(out.len(), expect.len());
        assert_eq!(out, expect);
        assert_eq!(err, b"err1\nerr2\n");
        assert!(pieces >= 3, "the long line arrived in several frames");
        // A TTY container's output is raw, one stream.
        let out = d
            .run(
                &spec(&img, &scope)
                    .tty(true)
                    .cmd(["sh", "-c", "echo out; echo err >&2"]),
            )
            .await
            .unwrap();
        assert_eq!(out.stdout, b"out\r\nerr\r\n");
        assert!(out.stderr.is_empty());
    });
}

#[test]
fn attach_echoes_stdin_until_eof() {
    let scope = Scope::new("attach");
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let c = d
            .create(&spec(&img, &scope).open_stdin(true).cmd([
                "sh",
                "-c",
                "while read line; do echo got:$line; done; echo bye >&2",
            ]))
            .await
            .unwrap();
        let attached = d.attach(&c.id, &AttachOptions::default()).await.unwrap();
        let wait = d.start_watched(&c.id).await.unwrap();
        let mut input = attached.input;
        input.write_all(b"hello\nworld\n").await.unwrap();
        input.close().unwrap(); // stdin EOF ends the loop
        let (out, err) = attached.output.collect_output().await.unwrap();
        assert_eq!(out, b"got:hello\ngot:world\n");
        assert_eq!(err, b"bye\n");
        assert_eq!(wait.await.unwrap().status_code, 0);
    });
}

#[test]
fn stop_honours_the_grace_period() {
    let scope = Scope::new("stop");
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        // Traps TERM: exits 7 well within the grace period. The stop waits
        // for "trapped": a TERM before the trap is set is ignored by PID 1.
        let c = d
            .create(&spec(&img, &scope).cmd([
                "sh",
                "-c",
                "trap 'exit 7' TERM; echo trapped; while true; do sleep 0.05; done",
            ]))
            .await
            .unwrap();
        let wait = d.start_watched(&c.id).await.unwrap();
        let follow = LogsOptions {
            follow: true,
            ..LogsOptions::default()
        };
        let mut logs = d.logs(&c.id, &follow).await.unwrap();
        let first = logs.next().await.expect("output").unwrap();
        assert_eq!(first.bytes, b"trapped\n");
        drop(logs);
        let t = Instant::now();
        d.stop(&c.id, Some(Duration::from_secs(20))).await.unwrap();
        assert_eq!(wait.await.unwrap().status_code, 7);
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "TERM was honoured: {:?}",
            t.elapsed()
        );
        assert_eq!(
            d.stop(&c.id, Some(Duration::from_secs(1))).await.unwrap(),
            stevedore::docker::Stopped::AlreadyStopped
        );
        // PID 1 ignores TERM: killed after the 1 s grace period.
        let c = d
            .create(&spec(&img, &scope).cmd(["sleep", "300"]))
            .await
            .unwrap();
        let wait = d.start_watched(&c.id).await.unwrap();
        let t = Instant::now();
        d.stop(&c.id, Some(Duration::from_secs(1))).await.unwrap();
        assert_eq!(wait.await.unwrap().status_code, 137);
        assert!(t.elapsed() >= Duration::from_secs(1), "{:?}", t.elapsed());
    });
}

#[test]
fn events_see_create_start_die_destroy() {
    let scope = Scope::new("events");
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let opts = EventsOptions {
            filters: Filters::new()
                .add("type", "container")
                .label(format!("{LABEL}={}", scope.value)),
            ..EventsOptions::default()
        };
        let mut events = d.events(&opts).await.unwrap();
        let out = d
            .run(&spec(&img, &scope).cmd(["sh", "-c", "exit 2"]))
            .await
            .unwrap();
        let mut actions = Vec::new();
        while let Some(ev) = stevedore::time::timeout(Duration::from_secs(30), events.next())
            .await
            .expect("events arrive")
        {
            let ev = ev.unwrap();
            assert_eq!(ev.actor.id, out.id);
            if ev.action == "die" {
                assert_eq!(
                    ev.actor.attributes.get("exitCode").map(String::as_str),
                    Some("2")
                );
            }
            let done = ev.action == "destroy";
            actions.push(ev.action);
            if done {
                break;
            }
        }
        let wanted = ["create", "start", "die", "destroy"];
        let seen: Vec<&str> = actions
            .iter()
            .map(String::as_str)
            .filter(|a| wanted.contains(a))
            .collect();
        assert_eq!(seen, wanted, "all actions: {actions:?}");
    });
}

#[test]
fn list_and_prune_by_label() {
    let scope = Scope::new("prune");
    rt(1).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let mut ids = HashSet::new();
        for _ in 0..3 {
            ids.insert(
                d.create(&spec(&img, &scope).cmd(["true"]))
                    .await
                    .unwrap()
                    .id,
            );
        }
        let listed = d
            .list(&ListOptions {
                all: true,
                filters: scope.filter(),
            })
            .await
            .unwrap();
        assert_eq!(
            listed.iter().map(|c| c.id.clone()).collect::<HashSet<_>>(),
            ids
        );
        assert!(listed.iter().all(|c| c.state == "created"));
        let running_only = d
            .list(&ListOptions {
                all: false,
                filters: scope.filter(),
            })
            .await
            .unwrap();
        assert!(running_only.is_empty());
        let report = d.prune_containers(&scope.filter()).await.unwrap();
        assert_eq!(
            report
                .containers_deleted
                .into_iter()
                .collect::<HashSet<_>>(),
            ids
        );
        assert_eq!(scope.leftovers(&d).await, 0);
        let empty = d.prune_containers(&scope.filter()).await.unwrap();
        assert!(empty.containers_deleted.is_empty(), "null is read as empty");
    });
}

#[test]
fn fifty_concurrent_runs_from_green_tasks() {
    let scope = Scope::new("fifty");
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let wg = WaitGroup::new();
        let (tx, rx) = stevedore::chan::unbounded();
        for i in 0..50 {
            let (d, tx) = (d.clone(), tx.clone());
            let spec = spec(&img, &scope).cmd(["sh", "-c", &format!("echo {i}")]);
            wg.spawn(async move {
                let out = d.run(&spec).await.unwrap();
                tx.send((i, out)).await.unwrap();
            });
        }
        drop(tx);
        wg.wait().await;
        let mut n = 0;
        while let Some((i, out)) = rx.recv().await {
            assert_eq!(out.exit_code, 0);
            assert_eq!(out.stdout, format!("{i}\n").into_bytes());
            n += 1;
        }
        assert_eq!(n, 50);
        assert_eq!(scope.leftovers(&d).await, 0);
    });
}

#[test]
fn a_cancelled_run_leaves_no_container() {
    let scope = Scope::new("cancel");
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let sleeper = spec(&img, &scope).cmd(["sleep", "300"]);
        let mut events = d
            .events(&EventsOptions {
                filters: Filters::new()
                    .add("type", "container")
                    .label(format!("{LABEL}={}", scope.value)),
                ..EventsOptions::default()
            })
            .await
            .unwrap();
        let mut run = Box::pin(d.run(&sleeper));
        // Drop the run once its container has started.
        loop {
            let ev = stevedore::select! {
                r = &mut run => panic!("a 300 s sleeper finished: {r:?}"),
                ev = events.next() => ev.expect("the events stream stays open").unwrap(),
            };
            if ev.action == "start" {
                break;
            }
        }
        drop(run);
        // The cleanup runs in the background: recount after every event.
        let deadline = Instant::now() + Duration::from_secs(30);
        while scope.leftovers(&d).await > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            stevedore::time::timeout(left, events.next())
                .await
                .expect("the cancelled run leaked its container")
                .expect("the events stream stays open")
                .unwrap();
        }
    });
}

#[test]
fn a_missing_socket_is_a_connect_error_naming_it() {
    rt(1).block_on(async {
        let err =
            stevedore::docker::Docker::connect_with("unix:///nonexistent/stevedore/docker.sock")
                .await
                .unwrap_err();
        match &err {
            Error::Connect { host, source } => {
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
                assert!(host.contains("/nonexistent/stevedore/docker.sock"));
            }
            other => panic!("expected a connect error, got {other:?}"),
        }
        assert!(
            err.to_string()
                .contains("/nonexistent/stevedore/docker.sock"),
            "{err}"
        );
        assert!(
            !err.is_transient(),
            "a missing socket will not appear by retrying"
        );
        // ssh:// is supported now (tests/docker_remote_ssh.rs); npipe is not.
        let bad = stevedore::docker::Docker::connect_with("npipe:////./pipe/docker_engine")
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("unsupported Docker host"), "{bad}");
    });
}

#[test]
fn garbage_or_empty_imports_are_refused_and_removed() {
    rt(1).block_on(async {
        let d = docker().await;
        // Garbage: the daemon may complain in its progress stream or answer
        // 200 with an empty image; either way it is an error here.
        let err = d
            .import_image(
                b"this is not a tar archive".to_vec(),
                "stevedore-test/garbage",
                "latest",
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Api { .. }), "{err}");
        assert!(d
            .inspect_image("stevedore-test/garbage:latest")
            .await
            .unwrap_err()
            .is_not_found());
        // A valid but empty tar: the daemon happily creates a 0-byte image,
        // which the client's verification catches and removes.
        let err = d
            .import_image(vec![0u8; 1024], "stevedore-test/empty", "latest")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("empty image"), "{err}");
        assert!(d
            .inspect_image("stevedore-test/empty:latest")
            .await
            .unwrap_err()
            .is_not_found());
    });
}
