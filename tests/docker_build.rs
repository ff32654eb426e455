//! `Docker::build` against the real daemon, offline: multi-stage builds
//! `FROM` the project's local minimal image, `.dockerignore`, build args,
//! targets, labels, streamed output, and the failures (missing Dockerfile,
//! a failing `RUN`, a cancelled build) as typed errors that leave nothing
//! behind.

#[path = "util/docker.rs"]
mod dutil;
mod util;

use dutil::{docker, image, Scope, LABEL};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use stevedore::docker::build::{BuildContextError, BuildOptions, BuildProgress};
use stevedore::docker::{ContainerSpec, Docker, Error, EventsOptions, Filters};
use util::rt;

/// A context directory, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(scope: &Scope, files: &[(&str, &str)]) -> Dir {
        let root = std::env::temp_dir().join(format!("stevedore-build-{}", scope.value));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in files {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        std::fs::create_dir_all(&root).unwrap();
        Dir(root)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes the images tagged in this test and the intermediate images its
/// builds reported (` ---> <id>` lines; untagged stages are otherwise
/// left as build cache) when dropped, also on panic.
struct Images {
    tags: Vec<String>,
    layers: std::sync::Mutex<Vec<String>>,
}

impl Images {
    fn new(tags: &[&str]) -> Images {
        Images {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            layers: Default::default(),
        }
    }

    /// Notes the intermediate image ids in build output.
    fn record(&self, p: &BuildProgress) {
        if let BuildProgress::Output(s) = p {
            for line in s.lines() {
                if let Some(id) = line.trim().strip_prefix("---> ") {
                    if id.len() >= 12 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
                        self.layers.lock().unwrap().push(id.to_owned());
                    }
                }
            }
        }
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        let tags = std::mem::take(&mut self.tags);
        let layers = std::mem::take(&mut *self.layers.lock().unwrap_or_else(|e| e.into_inner()));
        let _ = rt(1).block_on(async move {
            let d = Docker::connect().await?;
            for t in tags {
                let _ = d.remove_image(&t, true).await;
            }
            // Newest first, so each is a leaf when its turn comes; not
            // forced, so an image something else uses stays.
            // Tagged ones (the `FROM` image) are not this test's.
            for id in layers.iter().rev() {
                if let Ok(i) = d.inspect_image(id).await {
                    if i.repo_tags.is_empty() {
                        let _ = d.remove_image(id, false).await;
                    }
                }
            }
            Ok::<_, Error>(())
        });
    }
}

fn tag(scope: &Scope, what: &str) -> String {
    format!("stevedore-test-build/{}:{what}", scope.value.to_lowercase())
}

const TWO_STAGES: &str = r#"ARG BASE
FROM $BASE AS builder
ARG GREETING=hello
COPY . /ctx/
RUN echo "$GREETING from $(cat /ctx/src/name)" > /greeting
FROM $BASE AS runtime
COPY --from=builder /greeting /greeting
COPY --from=builder /ctx /ctx
LABEL stage=runtime
"#;

#[test]
fn two_stage_build_offline_with_dockerignore_args_target_and_labels() {
    let scope = Scope::new("build-two-stage");
    let ctx = Dir::new(
        &scope,
        &[
            ("Dockerfile", TWO_STAGES),
            (
                ".dockerignore",
                "# not sent\nsecret.txt\nlogs\n*.tmp\n!keep.tmp\n**/cache\nDockerfile\n",
            ),
            ("src/name", "stevedore"),
            ("secret.txt", "do not send"),
            ("logs/today.log", "noise"),
            ("drop.tmp", "x"),
            ("keep.tmp", "y"),
            ("src/deep/cache/blob", "z"),
            ("src/kept.txt", "k"),
        ],
    );
    let runtime_tag = tag(&scope, "runtime");
    let builder_tag = tag(&scope, "builder");
    let images = Images::new(&[&runtime_tag, &builder_tag]);
    rt(2).block_on(async {
        let d = docker().await;
        let base = image(&d).await;
        let mut output = String::new();
        let mut ids = Vec::new();
        let built = d
            .build(
                &BuildOptions::dir(ctx.path())
                    .tag(&runtime_tag)
                    .build_arg("BASE", &base)
                    .build_arg("GREETING", "bonjour")
                    .label(LABEL, &scope.value),
                |p| match (images.record(&p), p) {
                    ((), BuildProgress::Output(s)) => output.push_str(&s),
                    ((), BuildProgress::ImageId(id)) => ids.push(id),
                    _ => {}
                },
            )
            .await
            .unwrap_or_else(|e| panic!("build failed: {e}"));
        assert!(built.id.starts_with("sha256:"), "{built:?}");
        assert_eq!(built.tags, std::slice::from_ref(&runtime_tag));
        assert!(output.contains("FROM"), "streamed output: {output}");
        assert_eq!(ids.last(), Some(&built.id));
        assert_eq!(d.inspect_image(&runtime_tag).await.unwrap().id, built.id);

        // What the context held, seen from the image. The Dockerfile is
        // sent (the daemon reads it) but, being listed in .dockerignore,
        // COPY does not see it: docker build's behaviour.
        let script = "cat /greeting; \
             for f in Dockerfile .dockerignore src/name src/kept.txt keep.tmp \
                      secret.txt logs drop.tmp src/deep/cache; do \
               if [ -e /ctx/$f ]; then echo \"sent $f\"; else echo \"ignored $f\"; fi; done";
        let spec = ContainerSpec::new(&runtime_tag)
            .label(LABEL, scope.value.clone())
            .network_mode("none")
            .cmd(["sh", "-c", script]);
        let out = d.run(&spec).await.unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "bonjour from stevedore\n\
             ignored Dockerfile\nsent .dockerignore\nsent src/name\nsent src/kept.txt\nsent keep.tmp\n\
             ignored secret.txt\nignored logs\nignored drop.tmp\nignored src/deep/cache\n",
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The build's labels and the Dockerfile's LABEL are on the image.
        let created = d.create(&spec).await.unwrap();
        let info = d.inspect(&created.id).await.unwrap();
        let _ = d
            .remove(
                &created.id,
                stevedore::docker::RemoveOptions {
                    force: true,
                    volumes: true,
                },
            )
            .await;
        assert_eq!(
            info.config.labels.get("stage").map(String::as_str),
            Some("runtime")
        );
        assert_eq!(info.config.labels.get(LABEL), Some(&scope.value));

        // --target stops at the first stage: it has the context, and the
        // runtime stage's LABEL is not there.
        let built_builder = d
            .build(
                &BuildOptions::dir(ctx.path())
                    .tag(&builder_tag)
                    .target("builder")
                    .build_arg("BASE", &base),
                |p| images.record(&p),
            )
            .await
            .unwrap();
        assert_ne!(built_builder.id, built.id);
        let out = d
            .run(
                &ContainerSpec::new(&builder_tag)
                    .label(LABEL, scope.value.clone())
                    .network_mode("none")
                    .cmd(["sh", "-c", "cat /greeting /ctx/src/name"]),
            )
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello from stevedore\nstevedore"
        );
        assert_eq!(scope.leftovers(&d).await, 0);
    });
}

#[test]
fn a_ready_tar_and_another_dockerfile_path() {
    let scope = Scope::new("build-tar");
    let tagged = tag(&scope, "tar");
    let images = Images::new(&[&tagged]);
    rt(2).block_on(async {
        let d = docker().await;
        let base = image(&d).await;
        let mut tar = tar::Builder::new(Vec::new());
        let file = format!("FROM {base}\nRUN echo built > /built\n");
        let mut header = tar::Header::new_gnu();
        header.set_size(file.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "docker/dev.Dockerfile", file.as_bytes())
            .unwrap();
        let tar = tar.into_inner().unwrap();
        let built = d
            .build(
                &BuildOptions::tar(tar.clone())
                    .dockerfile("docker/dev.Dockerfile")
                    .tag(&tagged),
                |p| images.record(&p),
            )
            .await
            .unwrap();
        assert_eq!(d.inspect_image(&tagged).await.unwrap().id, built.id);
        // The same tar without naming its Dockerfile: the daemon refuses.
        let err = d
            .build(&BuildOptions::tar(tar), |p| images.record(&p))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Api { .. } | Error::BuildFailed { .. } | Error::NotFound { .. }
            ),
            "{err:?}"
        );
    });
}

#[test]
fn failures_are_typed_and_leave_nothing() {
    let scope = Scope::new("build-fail");
    let images = Images::new(&[]);
    rt(2).block_on(async {
        let d = docker().await;
        let base = image(&d).await;

        // No Dockerfile: refused before anything is sent.
        let empty = Dir::new(&scope, &[("README", "no Dockerfile here")]);
        match d
            .build(&BuildOptions::dir(empty.path()), |p| images.record(&p))
            .await
        {
            Err(Error::BuildContext(BuildContextError::DockerfileMissing { .. })) => {}
            other => panic!("{other:?}"),
        }
        match d
            .build(&BuildOptions::dir(empty.path().join("nope")), |p| {
                images.record(&p)
            })
            .await
        {
            Err(Error::BuildContext(BuildContextError::Io { .. })) => {}
            other => panic!("{other:?}"),
        }
        drop(empty);

        // A RUN that exits 3: a typed error with the code; the intermediate
        // container (labelled by the LABEL before it) is removed.
        let ctx = Dir::new(
            &scope,
            &[(
                "Dockerfile",
                &format!(
                    "FROM {base}\nLABEL {LABEL}={}\nRUN echo about to fail; exit 3\n",
                    scope.value
                ),
            )],
        );
        let mut output = String::new();
        let err = d
            .build(&BuildOptions::dir(ctx.path()), |p| {
                images.record(&p);
                if let BuildProgress::Output(s) = p {
                    output.push_str(&s);
                }
            })
            .await
            .unwrap_err();
        match &err {
            Error::BuildFailed { code: Some(3), .. } => {}
            other => panic!("{other:?}"),
        }
        assert!(output.contains("about to fail"), "{output}");
        assert_eq!(scope.leftovers(&d).await, 0);

        // A FROM image that is not on the engine (and no registry): typed.
        let missing = Dir::new(
            &scope,
            &[("Dockerfile", "FROM stevedore-test/no-such-image:never\n")],
        );
        let err = d
            .build(&BuildOptions::dir(missing.path()), |p| images.record(&p))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::BuildFailed { .. }), "{err:?}");
        drop(ctx);
    });
}

#[test]
fn a_dropped_build_is_cancelled_and_cleaned_up() {
    let scope = Scope::new("build-cancel");
    let images = Images::new(&[]);
    rt(2).block_on(async {
        let d = docker().await;
        let base = image(&d).await;
        let ctx = Dir::new(
            &scope,
            &[(
                "Dockerfile",
                &format!(
                    "FROM {base}\nLABEL {LABEL}={}\nRUN echo started; sleep 600\n",
                    scope.value
                ),
            )],
        );
        let mut events = d
            .events(&EventsOptions {
                filters: Filters::new()
                    .add("type", "container")
                    .label(format!("{LABEL}={}", scope.value)),
                since: None,
                until: None,
            })
            .await
            .unwrap();
        // Build until the RUN step prints, then drop the build.
        let (tx, rx) = stevedore::chan::bounded::<()>(1);
        let opts = BuildOptions::dir(ctx.path());
        let images = &images;
        let build = d.build(&opts, move |p| {
            images.record(&p);
            if matches!(&p, BuildProgress::Output(s) if s.contains("started")) {
                let _ = tx.try_send(());
            }
        });
        let build = Box::pin(build);
        let started = Box::pin(rx.recv());
        match futures::future::select(build, started).await {
            futures::future::Either::Left((r, _)) => panic!("the build finished: {r:?}"),
            // Dropping the build future here closes its connection.
            futures::future::Either::Right((r, build)) => {
                r.expect("the sink is alive while the build runs");
                drop(build);
            }
        }
        // The daemon stops and removes the intermediate container.
        loop {
            let e = events.next().await.expect("event stream ended").unwrap();
            if e.action == "destroy" {
                break;
            }
        }
        assert_eq!(scope.leftovers(&d).await, 0);
    });
}
