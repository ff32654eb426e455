//! The project's minimal image and image handling against the real daemon:
//! zero set-up (busybox hidden), never an image under a name the user did
//! not ask for, no dangling image after a failed import, typed errors for
//! bad references before anything is sent.

#[path = "util/docker.rs"]
mod dutil;
mod util;

use dutil::{docker, Scope, LABEL};
use stevedore::docker::launch::{LaunchOptions, Launcher};
use stevedore::docker::{
    BusyboxLookup, ContainerSpec, Docker, Error, Filters, ImageRef, MinimalImage,
    MinimalImageError, ReferenceError, RootfsSource, MINIMAL_REPOSITORY,
};
use stevedore::sync::WaitGroup;
use util::rt;

/// Every command the Docker tests and the demo run, with the output and
/// exit code it must give in the minimal image.
const COMMANDS: &[(&[&str], &str, i64)] = &[
    (&["true"], "", 0),
    (&["echo", "hi"], "hi\n", 0),
    (&["sleep", "0.05"], "", 0),
    (&["sh", "-c", "echo ready"], "ready\n", 0),
    (&["sh", "-c", "exit 3"], "", 3),
    (&["sh", "-c", "echo out; echo err >&2"], "out\n", 0),
    (
        &["sh", "-c", "head -c 40000 /dev/zero | tr '\\000' a | wc -c"],
        "40000\n",
        0,
    ),
    (&["sh", "-c", "printf '%s-%s\\n' a b"], "a-b\n", 0),
    (&["env"], "PATH=/", 0),
    (
        &[
            "sh",
            "-c",
            "echo x | while read line; do echo got:$line; done",
        ],
        "got:x\n",
        0,
    ),
    (
        &["sh", "-c", "trap 'exit 7' TERM; kill -TERM $$; sleep 5"],
        "",
        7,
    ),
    (
        &["cat", "/etc/passwd"],
        "root:x:0:0:root:/root:/bin/sh\n",
        0,
    ),
    (&["/usr/bin/env", "true"], "", 0),
];

fn host_tools() -> MinimalImage {
    MinimalImage::new().busybox(BusyboxLookup::Disabled)
}

async fn run_every_command(d: &Docker, image: &str, scope: &Scope) {
    let wg = WaitGroup::new();
    let (tx, rx) = stevedore::chan::unbounded();
    for (cmd, stdout, code) in COMMANDS {
        let (d, tx) = (d.clone(), tx.clone());
        let spec = ContainerSpec::new(image)
            .cmd(cmd.iter().copied())
            .label(LABEL, scope.value.clone())
            .network_mode("none");
        wg.spawn(async move {
            let out = d.run(&spec).await;
            tx.send((cmd, stdout, code, out)).await.unwrap();
        });
    }
    drop(tx);
    wg.wait().await;
    while let Some((cmd, stdout, code, out)) = rx.recv().await {
        let out = out.unwrap_or_else(|e| panic!("{cmd:?} in {image}: {e}"));
        let shown = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.exit_code, *code,
            "{cmd:?} in {image}: {shown:?} {err:?}"
        );
        if cmd[0] == "cat" {
            assert!(shown.starts_with(stdout), "{cmd:?}: {shown:?}");
        } else if cmd[0] == "env" {
            assert!(shown.contains(stdout), "PATH is set: {shown:?}");
        } else {
            assert_eq!(shown, *stdout, "{cmd:?} in {image}, stderr {err:?}");
        }
        if cmd.get(2).is_some_and(|s| s.contains(">&2")) {
            assert_eq!(err, "err\n");
        }
    }
}

#[test]
fn with_busybox_hidden_the_host_tools_image_runs_every_command_and_a_batch() {
    let scope = Scope::new("minimal-host");
    rt(2).block_on(async {
        let d = docker().await;
        let recipe = host_tools();
        let built = recipe.build().expect("the host tools recipe builds");
        assert!(matches!(built.source(), RootfsSource::HostTools(_)));
        assert!(
            !built.paths().iter().any(|p| p.contains("busybox")),
            "busybox stays out: {:?}",
            built.paths()
        );
        for needed in [
            "bin/sh",
            "bin/true",
            "bin/echo",
            "bin/sleep",
            "bin/cat",
            "bin/head",
        ] {
            assert!(built.paths().iter().any(|p| p == needed), "{needed}");
        }
        let info = d.ensure_minimal_image(&recipe).await.unwrap();
        assert_eq!(info.reference, built.reference());
        assert!(info.reference.starts_with(&format!(
            "{MINIMAL_REPOSITORY}:{}-",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(matches!(info.source, RootfsSource::HostTools(_)));
        assert_eq!(
            d.inspect_image(&info.reference)
                .await
                .unwrap()
                .root_fs
                .layers,
            [built.layer()],
            "the image holds exactly the recipe's layer"
        );
        run_every_command(&d, &info.reference, &scope).await;

        // The demo's default batch, on this image.
        let launcher = Launcher::new(vec![d.clone()]);
        let mut opts = LaunchOptions::new(12);
        opts.concurrency = 4;
        let spec = ContainerSpec::new(&info.reference)
            .cmd(["true"])
            .network_mode("none");
        let report = launcher.start(&spec, &opts, None).await.unwrap();
        assert_eq!(report.succeeded, 12, "{report}");
    });
}

#[test]
fn the_busybox_image_runs_every_command_too() {
    let scope = Scope::new("minimal-busybox");
    rt(2).block_on(async {
        let d = docker().await;
        let recipe = MinimalImage::new();
        let built = recipe.build().unwrap();
        assert!(
            matches!(built.source(), RootfsSource::Busybox(_)),
            "this test needs busybox on the host (apt-get install busybox-static); got {}",
            built.source()
        );
        assert_ne!(
            built.reference(),
            host_tools().build().unwrap().reference(),
            "another recipe, another tag"
        );
        let info = d.ensure_minimal_image(&recipe).await.unwrap();
        run_every_command(&d, &info.reference, &scope).await;
        // An explicit busybox that is not one is an error, not a fallback.
        let bad = MinimalImage::new().busybox(BusyboxLookup::Path("/etc/passwd".into()));
        let err = d.ensure_minimal_image(&bad).await.unwrap_err();
        assert!(
            matches!(err, Error::MinimalImage(MinimalImageError::Busybox { .. })),
            "{err}"
        );
    });
}

#[test]
fn ensuring_is_idempotent_and_concurrent_callers_share_one_image() {
    rt(2).block_on(async {
        let d = docker().await;
        let first = d.ensure_minimal_image(&host_tools()).await.unwrap();
        let wg = WaitGroup::new();
        let (tx, rx) = stevedore::chan::unbounded();
        for _ in 0..6 {
            let (d, tx) = (d.clone(), tx.clone());
            wg.spawn(async move {
                let info = d.ensure_minimal_image(&host_tools()).await.unwrap();
                tx.send(info).await.unwrap();
            });
        }
        drop(tx);
        wg.wait().await;
        while let Some(info) = rx.recv().await {
            assert_eq!((&info.reference, &info.id), (&first.reference, &first.id));
            assert!(!info.imported, "already there: not imported again");
        }
        // Exactly one image carries the tag.
        let tagged = d
            .list_images(&Filters::new().add("reference", &first.reference))
            .await
            .unwrap();
        assert_eq!(tagged.len(), 1, "{tagged:?}");
    });
}

#[test]
fn a_missing_image_that_cannot_be_pulled_is_a_clear_error_and_nothing_is_created() {
    let scope = Scope::new("nosuch");
    rt(2).block_on(async {
        let d = docker().await;
        let err = d.ensure_image("nosuch/image:v9").await.unwrap_err();
        match &err {
            Error::ImageUnavailable {
                reference, host, ..
            } => {
                assert_eq!(reference, "nosuch/image:v9");
                assert_eq!(host, d.host());
            }
            other => panic!("expected ImageUnavailable, got {other:?}"),
        }
        assert!(err.to_string().contains("nosuch/image:v9"), "{err}");
        assert!(d
            .inspect_image("nosuch/image:v9")
            .await
            .unwrap_err()
            .is_not_found());
        // A batch on it fails as a spec error and leaves nothing behind.
        let launcher = Launcher::new(vec![d.clone()]);
        let spec = ContainerSpec::new("nosuch/image:v9")
            .cmd(["true"])
            .label(LABEL, scope.value.clone());
        assert!(launcher
            .start(&spec, &LaunchOptions::new(3), None)
            .await
            .is_err());
        assert_eq!(scope.leftovers(&d).await, 0);
        // A present image is returned as is, without a pull.
        let img = dutil::image(&d).await;
        assert_eq!(d.ensure_image(&img).await.unwrap().repo_tags, [img]);
    });
}

#[test]
fn empty_or_malformed_references_are_typed_errors_before_anything_is_sent() {
    let scope = Scope::new("badref");
    rt(1).block_on(async {
        let d = docker().await;
        for bad in ["", "Busybox", "nosuch/image:", "a b", "image:-x", "/abs"] {
            let expect = ImageRef::parse(bad).unwrap_err();
            let is_typed = |e: &Error| matches!(e, Error::InvalidReference(r) if *r == expect);
            let e = d.ensure_image(bad).await.unwrap_err();
            assert!(is_typed(&e), "ensure_image({bad:?}): {e}");
            let e = d.pull_image(bad).await.unwrap_err();
            assert!(is_typed(&e), "pull_image({bad:?}): {e}");
            let e = d
                .create(
                    &ContainerSpec::new(bad)
                        .cmd(["true"])
                        .label(LABEL, scope.value.clone()),
                )
                .await
                .unwrap_err();
            assert!(is_typed(&e), "create({bad:?}): {e}");
        }
        assert_eq!(
            ImageRef::parse("").unwrap_err(),
            ReferenceError::Empty,
            "the empty reference has its own kind"
        );
        let e = d.import_image(vec![0u8; 1024], "", "").await.unwrap_err();
        assert!(matches!(e, Error::InvalidReference(_)), "{e}");
        assert_eq!(scope.leftovers(&d).await, 0);
    });
}

/// A tar with content no other image has, and its layer digest.
fn unique_tar() -> (Vec<u8>, String) {
    let marker = format!("{}-{:?}", std::process::id(), std::time::SystemTime::now());
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(marker.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    b.append_data(&mut h, "marker", marker.as_bytes()).unwrap();
    let tar = b.into_inner().unwrap();
    let digest = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(&tar);
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    };
    (tar, digest)
}

/// Images (tagged or not) whose layers include `layer`.
async fn images_with_layer(d: &Docker, layer: &str) -> Vec<String> {
    let mut found = Vec::new();
    for img in d
        .list_images(&Filters::new().add("dangling", "true"))
        .await
        .unwrap()
        .into_iter()
        .chain(d.list_images(&Filters::new()).await.unwrap())
    {
        if let Ok(i) = d.inspect_image(&img.id).await {
            if i.root_fs.layers.iter().any(|l| l == layer) && !found.contains(&i.id) {
                found.push(i.id);
            }
        }
    }
    found
}

#[test]
fn an_import_that_fails_after_the_daemon_took_the_tar_leaves_no_image() {
    rt(1).block_on(async {
        let d = docker().await;
        // A 64-hex repository parses (it is how ids look) but the daemon
        // refuses it as a tag: the import succeeded, the tag fails.
        let (tar, layer) = unique_tar();
        let repo = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let err = d.import_image(tar, repo, "latest").await.unwrap_err();
        assert!(err.status().is_some(), "the daemon's refusal: {err}");
        assert_eq!(
            images_with_layer(&d, &layer).await,
            Vec::<String>::new(),
            "the imported image was removed ({err})"
        );
        // A valid import is tagged as asked, and only as asked.
        let (tar, layer) = unique_tar();
        let img = d
            .import_image(tar, "stevedore-test/import", "ok")
            .await
            .unwrap();
        assert_eq!(img.repo_tags, ["stevedore-test/import:ok"]);
        assert_eq!(img.root_fs.layers, [layer.as_str()]);
        d.remove_image(&img.id, true).await.unwrap();
        assert_eq!(images_with_layer(&d, &layer).await, Vec::<String>::new());
    });
}
