//! TLS engines against real servers: a second dockerd started with
//! `--tlsverify` on 127.0.0.1 inside its own network namespace (reached
//! through a byte forwarder on host loopback — TLS stays end to end), with
//! certificates minted by the test; and fake peers that speak plain HTTP,
//! garbage, or nothing.

#[path = "util/docker.rs"]
mod docker_util;
#[path = "util/dockerd.rs"]
mod dockerd;
#[path = "util/remote.rs"]
mod remote;

use docker_util::{docker, image, Scope, LABEL};
use remote::{Certs, FakeServer, Forwarder};
use std::time::Duration;
use stevedore::docker::launch::{LaunchOptions, Launcher};
use stevedore::docker::{
    AttachOptions, ContainerSpec, Docker, Error, LogsOptions, TlsOptions, TlsProblem,
};

fn rt() -> stevedore::Runtime {
    stevedore::Runtime::builder()
        .worker_threads(2)
        .build()
        .unwrap()
}

fn tmp(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("stevedore-tls-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Removes a directory when dropped.
struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tls_error(r: Result<Docker, Error>) -> TlsProblem {
    match r {
        Err(Error::Tls { problem, .. }) => problem,
        Err(e) => panic!("expected a TLS error, got {e:?}"),
        Ok(d) => panic!("expected a TLS error, connected to {}", d.host()),
    }
}

/// Everything over one TLS engine: lifecycle, logs, attach, pooled
/// keep-alive with a stale connection retried, a context resolving to it,
/// a batch over it and the local engine together, and the typed failures
/// (wrong CA, no client certificate, plain HTTP to a TLS port).
#[test]
fn tls_engine_end_to_end() {
    let dir = TempDir(tmp("e2e"));
    let certs = Certs::mint(&dir.0.join("certs"), &["localhost", "127.0.0.1"]);
    let other = Certs::mint(&dir.0.join("other"), &["localhost", "127.0.0.1"]);
    let daemon = dockerd::SecondDaemon::start_with(
        "tls",
        vec![
            "--tlsverify".into(),
            format!("--tlscacert={}", certs.path("ca.pem").display()),
            format!("--tlscert={}", certs.path("server-cert.pem").display()),
            format!("--tlskey={}", certs.path("server-key.pem").display()),
            "-H".into(),
            "tcp://127.0.0.1:2376".into(),
        ],
    );
    let fwd = Forwarder::start(daemon.pid(), "127.0.0.1:2376".parse().unwrap());
    let host = format!("tcp://{}", fwd.addr());
    let scope = Scope::new("tls");
    rt().block_on(async {
        let tls = TlsOptions::from_cert_path(&certs.dir);
        let d = Docker::builder()
            .host(&host)
            .tls(tls.clone())
            .connect()
            .await
            .unwrap_or_else(|e| panic!("connecting over TLS to {host}: {e}"));
        assert!(d.is_tls());
        let img = image(&d).await; // imports the minimal image over TLS

        // Lifecycle and output.
        let spec = ContainerSpec::new(&img)
            .label(LABEL, scope.value.clone())
            .network_mode("none");
        let out = d
            .run(
                &spec
                    .clone()
                    .cmd(["sh", "-c", "echo over-tls; echo err >&2; exit 4"]),
            )
            .await
            .unwrap();
        assert_eq!(out.exit_code, 4);
        assert_eq!(out.stdout, b"over-tls\n");
        assert_eq!(out.stderr, b"err\n");

        // Followed logs stream over TLS.
        let c = d
            .create(
                &spec
                    .clone()
                    .cmd(["sh", "-c", "for i in 1 2 3; do echo l$i; done"]),
            )
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
        let (o, _) = logs.collect_output().await.unwrap();
        assert_eq!(o, b"l1\nl2\nl3\n");

        // Attach: a hijacked TLS stream, half-closed with close_notify.
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
        input.write_all(b"hello\nworld\n").await.unwrap();
        input.close().unwrap();
        let (out, err) = attached.output.collect_output().await.unwrap();
        assert_eq!(out, b"got:hello\ngot:world\n");
        assert_eq!(err, b"bye\n");
        assert_eq!(wait.await.unwrap().status_code, 0);

        // Keep-alive: calls reuse pooled TLS connections; cut under the
        // pool, the next call retries once on a fresh connection.
        for _ in 0..5 {
            d.ping().await.unwrap();
        }
        assert!(d.idle_connections() >= 1, "TLS connections are pooled");
        fwd.cut_all();
        d.ping()
            .await
            .expect("a stale pooled TLS connection is retried on a fresh one");

        // A context written like `docker context create` resolves to it.
        let cfg = dir.0.join("config");
        write_context(&cfg, "tls-engine", &host, Some(&certs.dir));
        let via_ctx = Docker::builder()
            .config_dir(&cfg)
            .context("tls-engine")
            .connect()
            .await
            .unwrap_or_else(|e| panic!("connecting through the context: {e}"));
        assert!(via_ctx.is_tls());
        assert_eq!(via_ctx.host(), host);
        via_ctx.ping().await.unwrap();

        // A batch over the TLS engine and the local Unix engine together.
        let local = docker().await;
        assert_eq!(image(&local).await, img);
        let launcher = Launcher::new(vec![d.clone(), local.clone()]);
        let mut o = LaunchOptions::new(20);
        o.concurrency = 6;
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
        assert_eq!(report.succeeded, 20, "{report}");
        assert!(
            report.engines.iter().all(|e| e.launched > 0),
            "both engines ran containers: {report}"
        );

        // The wrong CA: the engine's certificate is not signed by it.
        let wrong_ca = TlsOptions::new()
            .ca(other.path("ca.pem"))
            .cert(certs.path("cert.pem"))
            .key(certs.path("key.pem"));
        let p = tls_error(Docker::builder().host(&host).tls(wrong_ca).connect().await);
        assert_eq!(p, TlsProblem::UnknownIssuer);

        // No client certificate: a --tlsverify engine refuses the client.
        let no_cert = TlsOptions::new().ca(certs.path("ca.pem"));
        let p = tls_error(Docker::builder().host(&host).tls(no_cert).connect().await);
        assert!(
            matches!(p, TlsProblem::ClientCertificateRejected { .. }),
            "{p:?}"
        );

        // A client certificate from another CA is refused too.
        let foreign_cert = TlsOptions::new()
            .ca(certs.path("ca.pem"))
            .cert(other.path("cert.pem"))
            .key(other.path("key.pem"));
        let p = tls_error(
            Docker::builder()
                .host(&host)
                .tls(foreign_cert)
                .connect()
                .await,
        );
        assert!(
            matches!(p, TlsProblem::ClientCertificateRejected { .. }),
            "{p:?}"
        );

        // Plain HTTP to the TLS port.
        let p = tls_error(Docker::builder().host(&host).connect().await);
        assert_eq!(p, TlsProblem::EngineRequiresTls);

        drop(d);
        drop(via_ctx);
        assert_eq!(scope.leftovers(&local).await, 0);
    });
}

/// Writes a context as `docker context create NAME --docker host=…,ca=…`
/// stores it.
fn write_context(cfg: &std::path::Path, name: &str, host: &str, tls: Option<&std::path::Path>) {
    use sha2::{Digest, Sha256};
    let id: String = Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let meta = cfg.join("contexts/meta").join(&id);
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        serde_json::json!({
            "Name": name,
            "Metadata": {"Description": "stevedore test"},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}},
        })
        .to_string(),
    )
    .unwrap();
    if let Some(src) = tls {
        let t = cfg.join("contexts/tls").join(&id).join("docker");
        std::fs::create_dir_all(&t).unwrap();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::copy(src.join(f), t.join(f)).unwrap();
        }
    }
}

/// Certificates for the fake peers below (they never get to use them).
fn client_certs(tag: &str) -> (TempDir, TlsOptions) {
    let dir = TempDir(tmp(tag));
    let certs = Certs::mint(&dir.0, &["127.0.0.1"]);
    let opts = TlsOptions::from_cert_path(&certs.dir);
    (dir, opts)
}

#[test]
fn tls_to_a_plain_http_server_is_a_typed_error() {
    let (_dir, tls) = client_certs("plain");
    let server = FakeServer::start(Some(
        b"HTTP/1.1 200 OK\r\nApi-Version: 1.43\r\nContent-Length: 2\r\n\r\nOK".to_vec(),
    ));
    rt().block_on(async {
        let r = Docker::builder()
            .host(server.host())
            .tls(tls)
            .connect()
            .await;
        assert!(matches!(tls_error(r), TlsProblem::NotTls { .. }));
    });
}

#[test]
fn tls_to_a_garbage_peer_is_a_typed_error() {
    let (_dir, tls) = client_certs("garbage");
    let server = FakeServer::start(Some(vec![0xff; 300]));
    rt().block_on(async {
        let r = Docker::builder()
            .host(server.host())
            .tls(tls)
            .connect()
            .await;
        assert!(matches!(tls_error(r), TlsProblem::NotTls { .. }));
    });
}

#[test]
fn tls_to_a_peer_that_closes_at_once_is_a_typed_error() {
    let (_dir, tls) = client_certs("closes");
    let server = FakeServer::start(Some(Vec::new()));
    rt().block_on(async {
        let r = Docker::builder()
            .host(server.host())
            .tls(tls)
            .connect()
            .await;
        assert_eq!(tls_error(r), TlsProblem::ClosedDuringHandshake);
    });
}

#[test]
fn tls_to_a_silent_peer_times_out_within_the_connect_timeout() {
    let (_dir, tls) = client_certs("silent");
    let server = FakeServer::start(None);
    rt().block_on(async {
        let started = std::time::Instant::now();
        let r = Docker::builder()
            .host(server.host())
            .tls(tls)
            .connect_timeout(Duration::from_millis(500))
            .connect()
            .await;
        match r {
            Err(Error::Connect { source, .. }) => {
                assert_eq!(source.kind(), std::io::ErrorKind::TimedOut)
            }
            other => panic!("expected a connect timeout, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(30));
    });
}

#[test]
fn a_tls_alert_where_http_was_expected_names_the_fix() {
    // A TLS server answers a plain request with an alert record.
    let server = FakeServer::start(Some(vec![0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]));
    rt().block_on(async {
        let r = Docker::builder().host(server.host()).connect().await;
        assert_eq!(tls_error(r), TlsProblem::EngineRequiresTls);
    });
}
