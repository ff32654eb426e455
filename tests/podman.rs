//! Podman's Docker-compatible API as an engine: alone (lifecycle, run,
//! logs, attach, events, stop, prune, a batch) and beside dockerd (one
//! batch over both). The Podman service is this test's own
//! (`util/podman.rs`): its own socket, storage and config, removed after.

#[path = "util/docker.rs"]
mod dutil;
#[path = "util/podman.rs"]
mod podman;
mod util;

use dutil::{docker, Scope, LABEL};
use futures::StreamExt;
use std::time::{Duration, Instant};
use stevedore::docker::launch::{LaunchOptions, Launcher};
use stevedore::docker::{
    AttachOptions, ContainerSpec, Docker, EventsOptions, Filters, ListOptions, LogsOptions,
    MinimalImage, RemoveOptions, Started, WaitCondition, MINIMAL_REPOSITORY,
};
use util::rt;

fn spec(image: &str, scope: &Scope) -> ContainerSpec {
    ContainerSpec::new(image)
        .label(LABEL, scope.value.clone())
        .network_mode("none")
}

async fn leftovers(d: &Docker, scope: &Scope) -> usize {
    d.list(&ListOptions {
        all: true,
        filters: scope.filter(),
    })
    .await
    .unwrap()
    .len()
}

#[test]
fn podman_alone_runs_the_lifecycle_streams_events_and_a_batch() {
    let pm = podman::Podman::start("alone");
    let scope = Scope::new("podman-alone");
    rt(2).block_on(async {
        let d = Docker::connect_with(&pm.host()).await.unwrap();
        assert_eq!(
            d.api_version(),
            "1.41",
            "negotiated with podman's compat API"
        );
        d.ping().await.unwrap();

        // The minimal image, tagged as asked and under no other name
        // (podman's import alone would have planted `…:latest`).
        let info = d
            .ensure_minimal_image(&MinimalImage::from_env())
            .await
            .unwrap();
        assert!(info.imported);
        let tags: Vec<String> = d
            .list_images(&Filters::new())
            .await
            .unwrap()
            .into_iter()
            .flat_map(|i| i.repo_tags)
            .collect();
        assert_eq!(tags.len(), 1, "{tags:?}");
        assert!(
            tags[0].ends_with(&info.reference) && tags[0].contains(MINIMAL_REPOSITORY),
            "{tags:?}"
        );
        let again = d
            .ensure_minimal_image(&MinimalImage::from_env())
            .await
            .unwrap();
        assert_eq!(
            (again.id.as_str(), again.imported),
            (info.id.as_str(), false)
        );
        let img = info.reference;

        // Events, subscribed before anything happens.
        let mut events = d
            .events(&EventsOptions {
                filters: Filters::new()
                    .add("type", "container")
                    .label(format!("{LABEL}={}", scope.value)),
                ..EventsOptions::default()
            })
            .await
            .unwrap();

        // create → wait registered → start → exit code → logs → remove.
        let c = d
            .create(&spec(&img, &scope).cmd(["sh", "-c", "echo out; echo err >&2; exit 3"]))
            .await
            .unwrap();
        let wait = d
            .wait_registered(&c.id, WaitCondition::NextExit)
            .await
            .unwrap();
        assert_eq!(d.start(&c.id).await.unwrap(), Started::Started);
        assert_eq!(wait.await.unwrap().status_code, 3);
        let (out, err) = d
            .logs(&c.id, &LogsOptions::default())
            .await
            .unwrap()
            .collect_output()
            .await
            .unwrap();
        assert_eq!(
            (out.as_slice(), err.as_slice()),
            (&b"out\n"[..], &b"err\n"[..])
        );
        assert_eq!(d.inspect(&c.id).await.unwrap().state.exit_code, 3);
        d.remove(&c.id, RemoveOptions::default()).await.unwrap();
        assert!(d.inspect(&c.id).await.unwrap_err().is_not_found());

        // The removal is seen, under podman's name for it.
        let mut actions = Vec::new();
        loop {
            let ev = stevedore::time::timeout(Duration::from_secs(30), events.next())
                .await
                .expect("events arrive")
                .expect("the stream stays open")
                .unwrap();
            assert_eq!(ev.actor.id, c.id);
            let removed = ev.is_container_removal();
            actions.push(ev.action);
            if removed {
                break;
            }
        }
        for wanted in ["create", "start", "die"] {
            assert!(actions.iter().any(|a| a == wanted), "{actions:?}");
        }
        drop(events);

        // run: the whole dance, a fast exit never missed.
        for code in [0, 5] {
            let out = d
                .run(&spec(&img, &scope).cmd(["sh", "-c", &format!("echo hi; exit {code}")]))
                .await
                .unwrap();
            assert_eq!((out.exit_code, out.stdout.as_slice()), (code, &b"hi\n"[..]));
        }

        // attach: stdin in, both streams out.
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
        input.write_all(b"hello\n").await.unwrap();
        input.close().unwrap();
        let (out, err) = attached.output.collect_output().await.unwrap();
        assert_eq!(
            (out.as_slice(), err.as_slice()),
            (&b"got:hello\n"[..], &b"bye\n"[..])
        );
        assert_eq!(wait.await.unwrap().status_code, 0);

        // stop: a trapped TERM within the grace period; kill: 137.
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
        assert_eq!(logs.next().await.unwrap().unwrap().bytes, b"trapped\n");
        drop(logs);
        let t = Instant::now();
        d.stop(&c.id, Some(Duration::from_secs(20))).await.unwrap();
        assert_eq!(wait.await.unwrap().status_code, 7);
        assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
        let c = d
            .create(&spec(&img, &scope).cmd(["sleep", "300"]))
            .await
            .unwrap();
        let wait = d.start_watched(&c.id).await.unwrap();
        d.kill(&c.id, "KILL").await.unwrap();
        assert_eq!(wait.await.unwrap().status_code, 137);

        // list and prune by label.
        assert!(leftovers(&d, &scope).await >= 2);
        d.prune_containers(&scope.filter()).await.unwrap();
        assert_eq!(leftovers(&d, &scope).await, 0);

        // A short batch.
        let launcher = Launcher::new(vec![d.clone()]);
        let mut opts = LaunchOptions::new(10);
        opts.concurrency = 4;
        let report = launcher
            .start(&spec(&img, &scope).cmd(["true"]), &opts, None)
            .await
            .unwrap();
        assert_eq!(report.succeeded, 10, "{report}");
        let left = d
            .list(&ListOptions {
                all: true,
                filters: Filters::new(),
            })
            .await
            .unwrap();
        assert!(
            left.is_empty(),
            "the batch left containers on podman: {left:?}"
        );
    });
    drop(pm);
}

#[test]
fn one_batch_over_podman_and_dockerd_together() {
    let pm = podman::Podman::start("beside");
    let scope = Scope::new("podman-beside");
    rt(2).block_on(async {
        let a = docker().await;
        let b = Docker::connect_with(&pm.host()).await.unwrap();
        let img = dutil::image(&a).await;
        assert_eq!(dutil::image(&b).await, img, "the same recipe, the same tag");
        let launcher = Launcher::new(vec![a.clone(), b.clone()]);
        let mut opts = LaunchOptions::new(24);
        opts.concurrency = 6;
        let spec = spec(&img, &scope).cmd(["sh", "-c", "sleep 0.2; echo done"]);
        let report = launcher.start(&spec, &opts, None).await.unwrap();
        println!("{report}");
        assert_eq!(report.succeeded, 24, "{report}");
        assert!(
            report.engines.iter().all(|e| e.launched > 0),
            "both engines took part: {report}"
        );
        assert_eq!(leftovers(&a, &scope).await, 0);
        assert_eq!(leftovers(&b, &scope).await, 0);
    });
    drop(pm);
}

#[test]
fn podman_answers_like_dockerd_where_the_client_relies_on_it() {
    let pm = podman::Podman::start("statuses");
    let scope = Scope::new("podman-statuses");
    rt(2).block_on(async {
        let d = Docker::connect_with(&pm.host()).await.unwrap();
        let v = d.version().await.unwrap();
        assert!(!v.api_version.is_empty(), "{v:?}");
        let img = dutil::image(&d).await;

        // 404s and 409s are typed the same way.
        assert!(d
            .inspect("stevedore-nope")
            .await
            .unwrap_err()
            .is_not_found());
        assert!(d
            .remove("stevedore-nope", RemoveOptions::default())
            .await
            .unwrap_err()
            .is_not_found());
        let missing = d
            .create(&spec("stevedore-test/not-here:nope", &scope).cmd(["true"]))
            .await
            .unwrap_err();
        assert!(missing.is_not_found(), "{missing:?}");
        let name = format!("stevedore-{}", scope.value);
        let c = d
            .create(&spec(&img, &scope).name(&name).cmd(["sleep", "300"]))
            .await
            .unwrap();
        let taken = d
            .create(&spec(&img, &scope).name(&name).cmd(["true"]))
            .await
            .unwrap_err();
        assert!(taken.is_conflict(), "{taken:?}");

        // start twice, stop twice, remove while running.
        let wait = d.start_watched(&c.id).await.unwrap();
        assert_eq!(d.start(&c.id).await.unwrap(), Started::AlreadyRunning);
        let busy = d.remove(&c.id, RemoveOptions::default()).await.unwrap_err();
        assert!(busy.is_conflict(), "{busy:?}");
        d.stop(&c.id, Some(Duration::from_secs(1))).await.unwrap();
        assert_eq!(wait.await.unwrap().status_code, 137);
        assert_eq!(
            d.stop(&c.id, Some(Duration::from_secs(1))).await.unwrap(),
            stevedore::docker::Stopped::AlreadyStopped
        );
        let dead = d.kill(&c.id, "KILL").await.unwrap_err();
        assert!(dead.is_conflict(), "killing a stopped container: {dead:?}");
        d.remove(&c.id, RemoveOptions::default()).await.unwrap();

        // An auto-removed container: the `removed` wait sees its exit code.
        let c = d
            .create(
                &spec(&img, &scope)
                    .auto_remove(true)
                    .cmd(["sh", "-c", "exit 4"]),
            )
            .await
            .unwrap();
        let wait = d
            .wait_registered(&c.id, WaitCondition::Removed)
            .await
            .unwrap();
        d.start(&c.id).await.unwrap();
        assert_eq!(wait.await.unwrap().status_code, 4);
        // A `removed` wait on a container that already exited ends when it
        // is removed, with its exit code.
        let c = d
            .create(&spec(&img, &scope).cmd(["sh", "-c", "exit 6"]))
            .await
            .unwrap();
        assert_eq!(
            d.start_watched(&c.id)
                .await
                .unwrap()
                .await
                .unwrap()
                .status_code,
            6
        );
        let wait = d
            .wait_registered(&c.id, WaitCondition::Removed)
            .await
            .unwrap();
        d.remove(&c.id, RemoveOptions::default()).await.unwrap();
        let exit = stevedore::time::timeout(Duration::from_secs(30), wait)
            .await
            .expect("the removed wait ends with the removal")
            .unwrap();
        // (podman itself reports 0 here, not the exit code: documented)
        assert!(matches!(exit.status_code, 0 | 6), "{exit:?}");
        assert_eq!(leftovers(&d, &scope).await, 0);
    });
    drop(pm);
}

#[test]
fn an_engine_that_stops_answering_while_the_image_is_checked_gets_no_import() {
    let pm = podman::Podman::start("frozen");
    let pid = pm.pid().to_string();
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} {pid}");
    };
    rt(2).block_on(async {
        let d = Docker::builder()
            .host(pm.host())
            .timeout(Duration::from_secs(2))
            .connect()
            .await
            .unwrap();
        signal("-STOP");
        let err = d
            .ensure_minimal_image(&MinimalImage::from_env())
            .await
            .unwrap_err();
        signal("-CONT");
        assert!(
            matches!(err, stevedore::docker::Error::Timeout { .. }),
            "{err:?}"
        );
        // The check (queued while frozen) ran; nothing was imported.
        let images = d.list_images(&Filters::new()).await.unwrap();
        assert!(images.is_empty(), "{images:?}");
    });
    drop(pm);
}
