//! `ContainerSpec`'s options against the real daemon: each one set, then
//! read back with `inspect`, and the ones a running container can show
//! checked from inside it. Malformed options are typed errors that create
//! nothing, in `create` and in the launcher (never retried).

#[path = "util/docker.rs"]
mod dutil;
mod util;

use dutil::{docker, image, Scope, LABEL};
use serde_json::json;
use stevedore::chan;
use stevedore::docker::launch::{FailureKind, LaunchError, LaunchOptions, Launcher, Progress};
use stevedore::docker::spec::{
    parse_cpus, parse_memory, ExtraHost, Mount, PortBinding, RestartPolicy, Ulimit,
};
use stevedore::docker::{ContainerSpec, Docker, Error, RemoveOptions, SpecError};
use util::rt;

const FORCE: RemoveOptions = RemoveOptions {
    force: true,
    volumes: true,
};

fn spec(image: &str, scope: &Scope) -> ContainerSpec {
    ContainerSpec::new(image).label(LABEL, scope.value.clone())
}

/// A host directory with one file, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(scope: &Scope) -> TempDir {
        let dir = std::env::temp_dir().join(format!("stevedore-spec-{}", scope.value));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hello"), "from the host\n").unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp dir")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes a named volume when dropped, also when the test panicked.
struct VolumeGuard(String);

impl Drop for VolumeGuard {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = util::rt(1).block_on(async move {
            let d = Docker::connect().await?;
            d.remove_volume(&name, true).await
        });
    }
}

#[test]
fn every_option_reads_back_through_inspect() {
    let scope = Scope::new("spec-inspect");
    let dir = TempDir::new(&scope);
    let volume = VolumeGuard(format!("stevedore-spec-{}", scope.value));
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let s = spec(&img, &scope)
            .cmd(["sh", "-c", "true"])
            .entrypoint(["/bin/sh", "-e"])
            .env("MODE", "test")
            .env("EMPTY", "")
            .label("team", "infra")
            .hostname("spec-box")
            .working_dir("/work")
            .user("1234:5678")
            .mount(format!("{}:/in:ro", dir.path()).parse().unwrap())
            .mount(format!("{}:/data", volume.0).parse().unwrap())
            .mount("/anon".parse().unwrap())
            .publish("127.0.0.1:18080:80".parse().unwrap())
            .publish("5353:53/udp".parse().unwrap())
            .publish("9000".parse().unwrap())
            .restart("on-failure:3".parse().unwrap())
            .read_only_rootfs(true)
            .cap_add("NET_ADMIN")
            .cap_drop("mknod")
            .ulimit("nofile=1024:2048".parse().unwrap())
            .extra_host("db:10.0.0.5".parse().unwrap())
            .init(true)
            .memory(parse_memory("64m").unwrap())
            .nano_cpus(parse_cpus("1.5").unwrap())
            .raw_host_config(json!({ "ShmSize": 33554432 }))
            .raw_config(json!({ "StopSignal": "SIGINT", "Labels": { "dropped": null } }))
            .label("dropped", "by the raw patch");
        let created = d.create(&s).await.expect("create");
        let info = d.inspect_raw(&created.id).await.expect("inspect");
        let _ = d.remove(&created.id, FORCE).await;

        let c = &info["Config"];
        assert_eq!(c["Entrypoint"], json!(["/bin/sh", "-e"]));
        let env = c["Env"].as_array().expect("Env");
        assert!(env.contains(&json!("MODE=test")), "{env:?}");
        assert!(env.contains(&json!("EMPTY=")), "{env:?}");
        assert_eq!(c["Hostname"], "spec-box");
        assert_eq!(c["WorkingDir"], "/work");
        assert_eq!(c["User"], "1234:5678");
        assert_eq!(c["Labels"]["team"], "infra");
        assert!(c["Labels"].get("dropped").is_none(), "{}", c["Labels"]);
        assert_eq!(c["StopSignal"], "SIGINT");
        for port in ["80/tcp", "53/udp", "9000/tcp"] {
            assert!(c["ExposedPorts"].get(port).is_some(), "{port}: {c}");
        }

        let h = &info["HostConfig"];
        let binds = h["Binds"].as_array().expect("Binds");
        assert!(
            binds.contains(&json!(format!("{}:/in:ro", dir.path()))),
            "{binds:?}"
        );
        assert!(
            binds.contains(&json!(format!("{}:/data", volume.0))),
            "{binds:?}"
        );
        assert_eq!(
            h["PortBindings"]["80/tcp"],
            json!([{ "HostIp": "127.0.0.1", "HostPort": "18080" }])
        );
        assert_eq!(h["PortBindings"]["53/udp"][0]["HostPort"], "5353");
        assert_eq!(h["PortBindings"]["9000/tcp"][0]["HostPort"], "");
        assert_eq!(
            h["RestartPolicy"],
            json!({ "Name": "on-failure", "MaximumRetryCount": 3 })
        );
        assert_eq!(h["ReadonlyRootfs"], true);
        assert_eq!(h["CapAdd"], json!(["CAP_NET_ADMIN"]));
        assert_eq!(h["CapDrop"], json!(["CAP_MKNOD"]));
        assert_eq!(
            h["Ulimits"],
            json!([{ "Name": "nofile", "Soft": 1024, "Hard": 2048 }])
        );
        assert_eq!(h["ExtraHosts"], json!(["db:10.0.0.5"]));
        assert_eq!(h["Init"], true);
        assert_eq!(h["Memory"], 64 << 20);
        assert_eq!(h["NanoCpus"], 1_500_000_000i64);
        assert_eq!(h["ShmSize"], 33554432);

        let mounts = info["Mounts"].as_array().expect("Mounts");
        let find = |dst: &str| {
            mounts
                .iter()
                .find(|m| m["Destination"] == dst)
                .unwrap_or_else(|| panic!("no mount at {dst}: {mounts:?}"))
        };
        assert_eq!(find("/in")["Type"], "bind");
        assert_eq!(find("/in")["RW"], false);
        assert_eq!(find("/data")["Type"], "volume");
        assert_eq!(find("/data")["Name"], json!(volume.0));
        assert_eq!(find("/anon")["Type"], "volume");
        assert_eq!(scope.leftovers(&d).await, 0);
    });
}

#[test]
fn options_take_effect_in_a_running_container() {
    let scope = Scope::new("spec-run");
    let dir = TempDir::new(&scope);
    let volume = VolumeGuard(format!("stevedore-spec-{}", scope.value));
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        // As root: the read-only bind, the volume, the hostname, the
        // workdir, the extra host, the ulimit, the environment.
        let script = "cat /in/hello; \
             if touch /in/x 2>/dev/null; then echo bind-writable; else echo bind-ro; fi; \
             echo kept > /data/f && cat /data/f; \
             if touch /etc/x 2>/dev/null; then echo root-writable; else echo root-ro; fi; \
             hostname; pwd; echo \"$MODE\"; ulimit -n; \
             while read -r ip name; do [ \"$name\" = db ] && echo \"$ip\"; done < /etc/hosts";
        let out = d
            .run(
                &spec(&img, &scope)
                    .network_mode("none")
                    .mount(format!("{}:/in:ro", dir.path()).parse().unwrap())
                    .mount(format!("{}:/data", volume.0).parse().unwrap())
                    .hostname("spec-box")
                    .working_dir("/in")
                    .env("MODE", "spec test")
                    .read_only_rootfs(true)
                    .ulimit("nofile=512:512".parse().unwrap())
                    .extra_host("db:10.0.0.5".parse().unwrap())
                    .cmd(["sh", "-c", script]),
            )
            .await
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            stdout,
            "from the host\nbind-ro\nkept\nroot-ro\nspec-box\n/in\nspec test\n512\n10.0.0.5\n",
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.exit_code, 0);

        // The user, and a named volume kept across containers.
        let out = d
            .run(
                &spec(&img, &scope)
                    .network_mode("none")
                    .user("1234:5678")
                    .mount(format!("{}:/data:ro", volume.0).parse().unwrap())
                    .cmd(["sh", "-c", "id -u; id -g; cat /data/f"]),
            )
            .await
            .expect("run");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "1234\n5678\nkept\n",
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(scope.leftovers(&d).await, 0);
    });
}

#[test]
fn malformed_options_create_nothing() {
    let scope = Scope::new("spec-bad");
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let bad = [
            spec(&img, &scope).working_dir("relative"),
            spec(&img, &scope).mount(Mount::bind("not/absolute", "/c")),
            spec(&img, &scope).publish(PortBinding::tcp(0)),
            spec(&img, &scope).ulimit(Ulimit::new("nofile", 10, 1)),
            spec(&img, &scope).env("", "x"),
            spec(&img, &scope).raw_host_config(json!(["not", "an", "object"])),
            spec(&img, &scope)
                .auto_remove(true)
                .restart(RestartPolicy::Always),
        ];
        for s in &bad {
            match d.create(s).await {
                Err(Error::InvalidSpec(_)) => {}
                other => panic!("{s:?}: {other:?}"),
            }
        }
        assert_eq!(scope.leftovers(&d).await, 0);

        // The launcher refuses it before creating anything: no event at
        // all, no retry.
        let launcher = Launcher::new(vec![d.clone()]);
        let (tx, rx) = chan::unbounded::<Progress>();
        let s = spec(&img, &scope).cmd(["true"]).extra_host(ExtraHost::new(
            "",
            stevedore::docker::spec::HostAddr::HostGateway,
        ));
        let err = launcher
            .launch(&s, &LaunchOptions::new(4), Some(tx))
            .await
            .unwrap_err();
        match &err {
            LaunchError::Spec {
                kind: FailureKind::SpecInvalid,
                source: Error::InvalidSpec(SpecError::InvalidExtraHost { .. }),
                ..
            } => {}
            other => panic!("{other:?}"),
        }
        assert!(
            rx.try_recv().is_err(),
            "no progress event for a refused spec"
        );
        assert_eq!(scope.leftovers(&d).await, 0);

        // One the daemon refuses (more CPUs than the host has) stops the
        // batch as a spec error, without retries.
        let mut opts = LaunchOptions::new(3);
        opts.concurrency = 1;
        let (tx, rx) = chan::unbounded::<Progress>();
        let s = spec(&img, &scope)
            .cmd(["true"])
            .nano_cpus(parse_cpus("100000").unwrap());
        let err = launcher.launch(&s, &opts, Some(tx)).await.unwrap_err();
        assert!(
            matches!(
                err,
                LaunchError::Spec {
                    kind: FailureKind::SpecInvalid,
                    ..
                }
            ),
            "{err:?}"
        );
        while let Ok(p) = rx.try_recv() {
            assert!(!matches!(p, Progress::Retrying { .. }), "retried: {p:?}");
        }
        assert_eq!(scope.leftovers(&d).await, 0);
    });
}
