//! `ssh://` engines against a real `sshd` (Debian's openssh-server) on
//! 127.0.0.1 with keys made by the test: the remote runs `docker system
//! dial-stdio` toward the test engine (`DOCKER_HOST`, set for sessions by
//! the sshd's `SetEnv`). Broken remotes are played by keys whose
//! `authorized_keys` entry forces another command.

#[path = "util/docker.rs"]
mod docker_util;
#[path = "util/remote.rs"]
mod remote;

use docker_util::{docker, image, main_host, Scope, LABEL};
use futures::StreamExt;
use remote::{children_named, SshKey, Sshd};
use std::time::{Duration, Instant};
use stevedore::docker::launch::{LaunchOptions, Launcher};
use stevedore::docker::{
    AttachOptions, ContainerSpec, Docker, DockerBuilder, Error, EventsOptions, Filters,
    LogsOptions, RemoveOptions, SshProblem,
};

const FORCE: RemoveOptions = RemoveOptions {
    force: true,
    volumes: true,
};

/// The tests count this process's `ssh` children: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn rt() -> stevedore::Runtime {
    stevedore::Runtime::builder()
        .worker_threads(2)
        .build()
        .unwrap()
}

struct Keys {
    good: SshKey,
    unknown: SshKey,
    no_docker: SshKey,
    hangs: SshKey,
    dies: SshKey,
    dir: std::path::PathBuf,
}

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn setup(tag: &str) -> (Keys, Sshd) {
    let dir = std::env::temp_dir().join(format!("stevedore-sshkeys-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let keys = Keys {
        good: SshKey::generate(&dir, "good"),
        unknown: SshKey::generate(&dir, "unknown"),
        no_docker: SshKey::generate(&dir, "no_docker"),
        hangs: SshKey::generate(&dir, "hangs"),
        dies: SshKey::generate(&dir, "dies"),
        dir,
    };
    let sshd = Sshd::start(
        tag,
        &main_host(),
        &[
            (&keys.good, ""),
            (
                &keys.no_docker,
                r#"command="exec stevedore-no-such-docker system dial-stdio""#,
            ),
            // Reads and answers nothing until the client goes away.
            (&keys.hangs, r#"command="exec cat >/dev/null""#),
            (&keys.dies, r#"command="echo remote gave up >&2; exit 3""#),
        ],
    );
    (keys, sshd)
}

fn builder(sshd: &Sshd, key: &SshKey) -> DockerBuilder {
    Docker::builder().host(sshd.host()).ssh_args(sshd.args(key))
}

fn ssh_error(r: Result<Docker, Error>) -> SshProblem {
    match r {
        Err(Error::Ssh { problem, .. }) => problem,
        Err(e) => panic!("expected an ssh error, got {e:?}"),
        Ok(d) => panic!("expected an ssh error, connected to {}", d.host()),
    }
}

#[test]
fn ssh_engine_end_to_end() {
    let _serial = serial();
    let (keys, sshd) = setup("e2e");
    let scope = Scope::new("ssh");
    rt().block_on(async {
        let d = builder(&sshd, &keys.good)
            .connect()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "connecting over ssh: {e}\nsshd log: {}",
                    std::fs::read_to_string(sshd.dir.join("sshd.log")).unwrap_or_default()
                )
            });
        let local = docker().await;
        let img = image(&local).await;
        let spec = ContainerSpec::new(&img)
            .label(LABEL, scope.value.clone())
            .network_mode("none");

        // Events stream over ssh while a container runs.
        let mut events = d
            .events(&EventsOptions {
                filters: Filters::new()
                    .label(format!("{LABEL}={}", scope.value))
                    .add("event", "die"),
                ..EventsOptions::default()
            })
            .await
            .unwrap();

        let out = d
            .run(&spec.clone().cmd(["sh", "-c", "echo over-ssh; exit 5"]))
            .await
            .unwrap();
        assert_eq!(out.exit_code, 5);
        assert_eq!(out.stdout, b"over-ssh\n");
        let ev = events.next().await.expect("a die event").unwrap();
        assert_eq!(ev.action, "die");
        drop(events);

        // Followed logs.
        let c = d
            .create(&spec.clone().cmd(["sh", "-c", "echo a; echo b"]))
            .await
            .unwrap();
        let wait = d.start_watched(&c.id).await.unwrap();
        assert_eq!(wait.await.unwrap().status_code, 0);
        let logs = d
            .logs(
                &c.id,
                &LogsOptions {
                    follow: true,
                    ..LogsOptions::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(logs.collect_output().await.unwrap().0, b"a\nb\n");
        d.remove(&c.id, FORCE).await.unwrap();

        // Attach over the ssh pipes; closing stdin closes ssh's stdin.
        let c = d
            .create(&spec.clone().open_stdin(true).cmd([
                "sh",
                "-c",
                "while read line; do echo got:$line; done; echo bye >&2",
            ]))
            .await
            .unwrap();
        let attached = d.attach(&c.id, &AttachOptions::default()).await.unwrap();
        let wait = d.start_watched(&c.id).await.unwrap();
        let mut input = attached.input;
        input.write_all(b"one\ntwo\n").await.unwrap();
        input.close().unwrap();
        let (out, err) = attached.output.collect_output().await.unwrap();
        assert_eq!(out, b"got:one\ngot:two\n");
        assert_eq!(err, b"bye\n");
        assert_eq!(wait.await.unwrap().status_code, 0);
        d.remove(&c.id, FORCE).await.unwrap();

        // Keep-alive: sequential calls reuse one pooled ssh process.
        for _ in 0..5 {
            d.ping().await.unwrap();
        }
        assert!(d.idle_connections() >= 1);
        let ssh_before = children_named("ssh").len();
        for _ in 0..5 {
            d.ping().await.unwrap();
        }
        assert_eq!(
            children_named("ssh").len(),
            ssh_before,
            "pooled calls start no new ssh"
        );

        // A launcher batch over ssh.
        let launcher = Launcher::new(vec![d.clone()]);
        let mut o = LaunchOptions::new(10);
        o.concurrency = 4;
        let report = launcher
            .launch(
                &ContainerSpec::new(&img)
                    .cmd(["true"])
                    .network_mode("none")
                    .label(LABEL, scope.value.clone()),
                &o,
                None,
            )
            .await
            .unwrap();
        assert_eq!(report.succeeded, 10, "{report}");
        assert_eq!(scope.leftovers(&local).await, 0);
        drop(launcher);
        drop(d);
    });
    // Every ssh process of the client was killed and reaped.
    assert_eq!(
        children_named("ssh"),
        Vec::<u32>::new(),
        "no ssh outlives its client"
    );
}

#[test]
fn ssh_failures_are_typed_and_leave_no_process() {
    let _serial = serial();
    let (keys, sshd) = setup("fail");
    rt().block_on(async {
        // A key the server does not know.
        let p = ssh_error(builder(&sshd, &keys.unknown).connect().await);
        assert!(
            matches!(p, SshProblem::AuthenticationFailed { .. }),
            "{p:?}"
        );

        // A remote without docker.
        let p = ssh_error(builder(&sshd, &keys.no_docker).connect().await);
        assert!(matches!(p, SshProblem::NoDockerOnRemote { .. }), "{p:?}");

        // The remote command dies.
        let p = ssh_error(builder(&sshd, &keys.dies).connect().await);
        match p {
            SshProblem::Exited { code, stderr } => {
                assert_eq!(code, Some(3));
                assert!(stderr.contains("remote gave up"), "{stderr:?}");
            }
            other => panic!("expected Exited, got {other:?}"),
        }

        // The remote hangs: a typed error within the connect timeout.
        let started = Instant::now();
        let p = ssh_error(
            builder(&sshd, &keys.hangs)
                .connect_timeout(Duration::from_secs(2))
                .connect()
                .await,
        );
        assert!(matches!(p, SshProblem::NoAnswer { .. }), "{p:?}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the hang was cut by the deadline"
        );

        // No ssh program at all.
        let p = ssh_error(
            builder(&sshd, &keys.good)
                .ssh_program("/nonexistent/stevedore-ssh")
                .connect()
                .await,
        );
        assert!(
            matches!(
                p,
                SshProblem::Spawn {
                    kind: std::io::ErrorKind::NotFound,
                    ..
                }
            ),
            "{p:?}"
        );

        // Nothing listens on the port: ssh exits 255.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let p = ssh_error(
            Docker::builder()
                .host(format!("ssh://root@127.0.0.1:{closed}"))
                .ssh_args(sshd.args(&keys.good))
                .connect()
                .await,
        );
        assert!(
            matches!(
                p,
                SshProblem::Exited {
                    code: Some(255),
                    ..
                }
            ),
            "{p:?}"
        );
    });
    assert_eq!(
        children_named("ssh"),
        Vec::<u32>::new(),
        "no ssh is left behind"
    );
}

#[test]
fn ssh_hosts_that_could_inject_options_are_refused_before_running_ssh() {
    let _serial = serial();
    rt().block_on(async {
        for bad in [
            "ssh://-oProxyCommand=touch%20x",
            "ssh://host name",
            "ssh://user@",
            "ssh://host:0",
            "ssh://host:99999",
            "ssh://host/path",
            "ssh://user:password@host",
            "ssh://-l@host",
            "ssh://",
        ] {
            match Docker::builder().host(bad).connect().await {
                Err(Error::Connect { source, .. }) => {
                    assert_eq!(source.kind(), std::io::ErrorKind::InvalidInput, "{bad}")
                }
                other => panic!("{bad}: expected a refused host, got {other:?}"),
            }
        }
    });
    assert_eq!(children_named("ssh"), Vec::<u32>::new());
}
