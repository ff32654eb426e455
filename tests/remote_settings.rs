//! Connection settings without a network: docker contexts read from a
//! configuration directory the test writes (adversarial: missing, bad
//! JSON, no endpoint, bad names), TLS files that are missing or not PEM —
//! all typed errors before anything connects.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use stevedore::docker::{Docker, DockerContext, Error, SettingsError, TlsOptions, TlsProblem};

struct TempDir(PathBuf);
impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d =
            std::env::temp_dir().join(format!("stevedore-settings-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn id(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_meta(cfg: &Path, name: &str, body: &str) -> PathBuf {
    let dir = cfg.join("contexts/meta").join(id(name));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("meta.json"), body).unwrap();
    dir.join("meta.json")
}

fn rt() -> stevedore::Runtime {
    stevedore::Runtime::builder()
        .worker_threads(1)
        .build()
        .unwrap()
}

#[test]
fn a_context_resolves_host_and_tls_like_the_docker_cli() {
    let cfg = TempDir::new("ok");
    write_meta(
        &cfg.0,
        "remote",
        r#"{"Name":"remote","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://10.0.0.9:2376","SkipTLSVerify":false}}}"#,
    );
    let tls = cfg.0.join("contexts/tls").join(id("remote")).join("docker");
    std::fs::create_dir_all(&tls).unwrap();
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        std::fs::write(tls.join(f), "x").unwrap();
    }
    let ctx = DockerContext::load_from(&cfg.0, "remote").unwrap();
    assert_eq!(ctx.host, "tcp://10.0.0.9:2376");
    let t = ctx.tls.expect("certificates make it TLS");
    assert!(t.verify);
    assert_eq!(t.ca, Some(tls.join("ca.pem")));
    assert_eq!(t.cert, Some(tls.join("cert.pem")));
    assert_eq!(t.key, Some(tls.join("key.pem")));

    // No TLS directory and no skip: plain.
    write_meta(
        &cfg.0,
        "plain",
        r#"{"Name":"plain","Endpoints":{"docker":{"Host":"ssh://me@box"}}}"#,
    );
    let ctx = DockerContext::load_from(&cfg.0, "plain").unwrap();
    assert_eq!(ctx.host, "ssh://me@box");
    assert_eq!(ctx.tls, None);

    // SkipTLSVerify alone: TLS without verification.
    write_meta(
        &cfg.0,
        "skip",
        r#"{"Name":"skip","Endpoints":{"docker":{"Host":"tcp://h:2376","SkipTLSVerify":true}}}"#,
    );
    let t = DockerContext::load_from(&cfg.0, "skip")
        .unwrap()
        .tls
        .unwrap();
    assert!(!t.verify);

    // currentContext in config.json.
    std::fs::write(
        cfg.0.join("config.json"),
        r#"{"currentContext":"remote","auths":{}}"#,
    )
    .unwrap();
    if std::env::var_os("DOCKER_CONTEXT").is_none() {
        assert_eq!(
            DockerContext::current_name(&cfg.0).unwrap().as_deref(),
            Some("remote")
        );
        std::fs::write(cfg.0.join("config.json"), r#"{"currentContext":"default"}"#).unwrap();
        assert_eq!(DockerContext::current_name(&cfg.0).unwrap(), None);
        std::fs::remove_file(cfg.0.join("config.json")).unwrap();
        assert_eq!(DockerContext::current_name(&cfg.0).unwrap(), None);
    }
}

#[test]
fn broken_contexts_are_typed_errors() {
    let cfg = TempDir::new("bad");
    // Unknown.
    match DockerContext::load_from(&cfg.0, "nope") {
        Err(SettingsError::UnknownContext { name, path }) => {
            assert_eq!(name, "nope");
            assert!(path.ends_with(Path::new(&id("nope")).join("meta.json")));
        }
        other => panic!("{other:?}"),
    }
    // Not JSON, empty, huge garbage, wrong shape, no docker endpoint, no host.
    let huge = "[".repeat(1 << 20);
    for (name, body) in [
        ("notjson", "{not json"),
        ("empty", ""),
        ("huge", huge.as_str()),
        ("shape", r#"{"Endpoints":[1,2]}"#),
        (
            "noep",
            r#"{"Name":"noep","Endpoints":{"kubernetes":{"Host":"x"}}}"#,
        ),
        (
            "nohost",
            r#"{"Name":"nohost","Endpoints":{"docker":{"SkipTLSVerify":true}}}"#,
        ),
    ] {
        let path = write_meta(&cfg.0, name, body);
        match DockerContext::load_from(&cfg.0, name) {
            Err(SettingsError::InvalidContext { path: p, .. }) => assert_eq!(p, path, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    // Names that cannot be contexts.
    for bad in ["", "a/b", "../x"] {
        assert!(
            matches!(
                DockerContext::load_from(&cfg.0, bad),
                Err(SettingsError::InvalidContextName { .. })
            ),
            "{bad:?}"
        );
    }
    // A config.json that is not JSON.
    std::fs::write(cfg.0.join("config.json"), "{{{").unwrap();
    if std::env::var_os("DOCKER_CONTEXT").is_none() {
        assert!(matches!(
            DockerContext::current_name(&cfg.0),
            Err(SettingsError::InvalidConfig { .. })
        ));
    }
    // Through the builder: a typed error, nothing connected.
    rt().block_on(async {
        let e = Docker::builder()
            .config_dir(&cfg.0)
            .context("nope")
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Settings(SettingsError::UnknownContext { .. })),
            "{e:?}"
        );
        let e = Docker::builder()
            .config_dir(&cfg.0)
            .context("notjson")
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Settings(SettingsError::InvalidContext { .. })),
            "{e:?}"
        );
        // Error is Clone, with the new variants.
        let c = e.clone();
        assert_eq!(c.to_string(), e.to_string());
    });
}

#[test]
fn missing_or_bad_certificate_files_are_named_before_connecting() {
    let dir = TempDir::new("files");
    rt().block_on(async {
        // Nothing listens on port 1: a TLS problem must come first.
        let host = "tcp://127.0.0.1:1";
        let missing = dir.0.join("missing");
        let e = Docker::builder()
            .host(host)
            .tls(TlsOptions::from_cert_path(&missing))
            .connect()
            .await
            .unwrap_err();
        match e {
            Error::Tls {
                problem: TlsProblem::MissingFile { what, path },
                ..
            } => {
                assert_eq!(what, "CA certificate");
                assert_eq!(path, missing.join("ca.pem"));
            }
            other => panic!("{other:?}"),
        }
        // Not PEM.
        std::fs::write(dir.0.join("ca.pem"), "hello").unwrap();
        let e = Docker::builder()
            .host(host)
            .tls(TlsOptions::new().ca(dir.0.join("ca.pem")))
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::Tls { problem: TlsProblem::BadFile { path, .. }, .. } if *path == dir.0.join("ca.pem")),
            "{e:?}"
        );
        // A certificate without its key.
        let e = Docker::builder()
            .host(host)
            .tls(
                TlsOptions::new()
                    .verify(false)
                    .cert(dir.0.join("ca.pem"))
                    .key(dir.0.join("nokey.pem")),
            )
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Tls { .. }), "{e:?}");
        // TLS settings do not apply to a Unix host (as for the docker CLI).
        let e = Docker::builder()
            .host(format!("unix://{}", dir.0.join("no.sock").display()))
            .tls(TlsOptions::from_cert_path(&missing))
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Connect { .. }), "{e:?}");
    });
}
