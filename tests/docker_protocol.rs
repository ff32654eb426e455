//! Failure paths of the Docker client against a scripted fake daemon on a
//! Unix socket: garbage, truncation, silence, stale connections — each must
//! be a typed error within the deadline, never a panic or a hang.

mod util;

use futures::StreamExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stevedore::docker::{AttachOptions, Docker, Error, LogsOptions, StreamKind, WaitCondition};
use stevedore::net::{UnixListener, UnixStream};
use stevedore::spawn;
use util::rt;

fn socket_path() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "stevedore-fake-{}-{}",
        std::process::id(),
        N.fetch_add(1, SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("docker.sock")
}

/// Reads one request head (and a Content-Length body); returns the head.
async fn read_request(s: &mut UnixStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    let mut got = 0;
    while got < len {
        got += s.read(&mut body[got..]).await.ok()?;
    }
    Some(head)
}

/// Serves every connection with `reply(request head)` and closes it;
/// `None` means never answer (the connection is held open).
fn serve<F>(path: &std::path::Path, reply: F) -> Arc<AtomicUsize>
where
    F: Fn(&str) -> Option<Vec<u8>> + Send + Sync + 'static,
{
    let listener = UnixListener::bind(path).unwrap();
    let conns = Arc::new(AtomicUsize::new(0));
    let c = conns.clone();
    let reply = Arc::new(reply);
    spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            c.fetch_add(1, SeqCst);
            let reply = reply.clone();
            spawn(async move {
                let Some(head) = read_request(&mut s).await else {
                    return;
                };
                match reply(&head) {
                    // Reply, then close the connection.
                    Some(bytes) => {
                        let _ = s.write_all(&bytes).await;
                    }
                    None => {
                        // Never answer: hold the connection open.
                        let mut sink = [0u8; 64];
                        while s.read(&mut sink).await.unwrap_or(0) > 0 {}
                    }
                }
            });
        }
    });
    conns
}

async fn client(path: &std::path::Path, timeout: Duration) -> Docker {
    Docker::builder()
        .host(format!("unix://{}", path.display()))
        .api_version("1.41")
        .timeout(timeout)
        .connect()
        .await
        .unwrap()
}

fn ok_json(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn garbage_instead_of_http_is_a_protocol_error() {
    let path = socket_path();
    rt(2).block_on(async {
        serve(&path, |_| Some(b"SSH-2.0-OpenSSH_9.2\r\n\r\n".to_vec()));
        let d = client(&path, Duration::from_secs(5)).await;
        let err = d.inspect("x").await.unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err}");
        assert!(err.to_string().contains("invalid response head"), "{err}");
    });
}

#[test]
fn a_truncated_chunked_body_is_an_unexpected_eof() {
    let path = socket_path();
    rt(2).block_on(async {
        serve(&path, |_| {
            Some(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"StatusCo".to_vec())
        });
        let d = client(&path, Duration::from_secs(5)).await;
        let err = d.wait("x", WaitCondition::NextExit).await.unwrap_err();
        match &err {
            Error::Io { source, .. } => {
                assert_eq!(source.kind(), std::io::ErrorKind::UnexpectedEof)
            }
            other => panic!("expected an unexpected EOF, got {other:?}"),
        }
        assert!(err.to_string().contains("chunk"), "{err}");
    });
}

#[test]
fn a_frame_header_promising_more_than_arrives_is_an_error() {
    let path = socket_path();
    rt(2).block_on(async {
        serve(&path, |_| {
            let mut body = vec![1u8, 0, 0, 0, 0, 0, 0, 100]; // stdout, 100 bytes
            body.extend_from_slice(b"only ten!!");
            let mut resp = format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                body.len()
            )
            .into_bytes();
            resp.extend_from_slice(&body);
            resp.extend_from_slice(b"\r\n0\r\n\r\n");
            Some(resp)
        });
        let d = client(&path, Duration::from_secs(5)).await;
        let opts = LogsOptions {
            tty: Some(false),
            ..LogsOptions::default()
        };
        let mut logs = d.logs("x", &opts).await.unwrap();
        let first = logs.next().await.unwrap().unwrap();
        assert_eq!(first.stream, StreamKind::Stdout);
        assert_eq!(first.bytes, b"only ten!!");
        let err = logs.next().await.unwrap().unwrap_err();
        assert!(err.to_string().contains("90 bytes short"), "{err}");
        assert!(logs.next().await.is_none());
    });
}

#[test]
fn a_daemon_that_never_answers_times_out_within_the_deadline() {
    let path = socket_path();
    rt(2).block_on(async {
        serve(&path, |_| None);
        let d = client(&path, Duration::from_millis(300)).await;
        let t = Instant::now();
        let err = d.inspect("x").await.unwrap_err();
        let took = t.elapsed();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        assert!(err.is_transient());
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(3),
            "{took:?}"
        );
    });
}

#[test]
fn the_deadline_covers_the_body_too() {
    rt(2).block_on(async {
        // Headers promise 100 bytes, 5 arrive, the connection stays open.
        let stalled = socket_path();
        let listener = UnixListener::bind(&stalled).unwrap();
        spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            read_request(&mut s).await;
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Id\"")
                .await
                .unwrap();
            let mut sink = [0u8; 16];
            while s.read(&mut sink).await.unwrap_or(0) > 0 {}
        });
        let d = client(&stalled, Duration::from_millis(300)).await;
        let t = Instant::now();
        let err = d.inspect("x").await.unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

        // The same, but the server closes: a truncation, not a timeout.
        let truncated = socket_path();
        serve(&truncated, |_| {
            Some(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Id\"".to_vec())
        });
        let d = client(&truncated, Duration::from_secs(5)).await;
        let err = d.inspect("x").await.unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        assert!(
            err.to_string().contains("bytes before the end of the body"),
            "{err}"
        );
    });
}

#[test]
fn version_negotiation_uses_the_lower_version_and_keeps_the_prefix() {
    let path = socket_path();
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    rt(2).block_on(async {
        let s = seen.clone();
        serve(&path, move |head| {
            s.lock()
                .unwrap()
                .push(head.lines().next().unwrap().to_owned());
            Some(if head.starts_with("GET /_ping") {
                b"HTTP/1.1 200 OK\r\nApi-Version: 1.45\r\nContent-Length: 2\r\n\r\nOK".to_vec()
            } else {
                ok_json(r#"{"Id":"abc","State":{"Status":"running","Running":true}}"#)
            })
        });
        let d = Docker::connect_with(&format!("unix://{}", path.display()))
            .await
            .unwrap();
        assert_eq!(d.api_version(), stevedore::docker::CLIENT_MAX_API_VERSION);
        let info = d.inspect("abc").await.unwrap();
        assert!(info.state.running);
        let lines = seen.lock().unwrap().clone();
        assert_eq!(lines[0], "GET /_ping HTTP/1.1");
        assert_eq!(
            lines[1],
            format!(
                "GET /v{}/containers/abc/json HTTP/1.1",
                stevedore::docker::CLIENT_MAX_API_VERSION
            )
        );
    });
    let old = socket_path();
    rt(1).block_on(async {
        serve(&old, |_| {
            Some(b"HTTP/1.1 200 OK\r\nApi-Version: 1.12\r\nContent-Length: 2\r\n\r\nOK".to_vec())
        });
        let err = Docker::connect_with(&format!("unix://{}", old.display()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("older than"), "{err}");
    });
}

#[test]
fn a_stale_pooled_connection_is_retried_once() {
    let path = socket_path();
    rt(2).block_on(async {
        // The server closes every connection after one response, without
        // saying so: the second call finds its pooled connection dead.
        let listener = UnixListener::bind(&path).unwrap();
        let conns = Arc::new(AtomicUsize::new(0));
        let c = conns.clone();
        spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                c.fetch_add(1, SeqCst);
                if read_request(&mut s).await.is_some() {
                    s.write_all(&ok_json(r#"{"Id":"abc"}"#)).await.unwrap();
                }
                drop(s);
            }
        });
        let d = client(&path, Duration::from_secs(5)).await;
        for _ in 0..3 {
            assert_eq!(d.inspect("abc").await.unwrap().id, "abc");
        }
        assert_eq!(conns.load(SeqCst), 3);
    });
}

#[test]
fn error_bodies_in_json_or_plain_text_become_typed_errors() {
    let path = socket_path();
    rt(2).block_on(async {
        serve(&path, |head| {
            Some(if head.contains("/containers/missing/") {
                b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 30\r\n\r\nNo such container: missing\r\n\r\n".to_vec()
            } else if head.contains("/containers/busy") {
                let body = r#"{"message":"You cannot remove a running container"}"#;
                format!("HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
            } else {
                let body = r#"{"message":"client version 9.99 is too new"}"#;
                format!("HTTP/1.1 400 Bad Request\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
            })
        });
        let d = client(&path, Duration::from_secs(5)).await;
        let nf = d.inspect("missing").await.unwrap_err();
        assert!(nf.is_not_found(), "{nf}");
        assert_eq!(nf.to_string(), "not found: No such container: missing");
        let busy = d.remove("busy", Default::default()).await.unwrap_err();
        assert!(busy.is_conflict(), "{busy}");
        assert!(busy.to_string().contains("cannot remove a running container"));
        let api = d.version().await.unwrap_err();
        assert_eq!(api.status(), Some(400));
        assert!(api.to_string().contains("too new"), "{api}");
    });
}

#[test]
fn a_hijacked_stream_keeps_bytes_sent_with_the_head() {
    let path = socket_path();
    rt(2).block_on(async {
        serve(&path, |_| {
            let mut resp = b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n".to_vec();
            resp.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 3]);
            resp.extend_from_slice(b"hi\n");
            resp.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 4]);
            resp.extend_from_slice(b"err\n");
            Some(resp) // then the connection closes
        });
        let d = client(&path, Duration::from_secs(5)).await;
        let opts = AttachOptions {
            tty: Some(false),
            ..AttachOptions::default()
        };
        let attached = d.attach("x", &opts).await.unwrap();
        let (out, err) = attached.output.collect_output().await.unwrap();
        assert_eq!(out, b"hi\n");
        assert_eq!(err, b"err\n");
    });
}

/// Serves image inspects with `inspect` and records every request line; any
/// other request gets a 500.
fn image_engine(path: &std::path::Path, inspect: Vec<u8>) -> Arc<std::sync::Mutex<Vec<String>>> {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    serve(path, move |head| {
        let line = head.lines().next().unwrap_or_default().to_owned();
        s.lock().unwrap().push(line.clone());
        Some(if line.starts_with("GET /v1.41/images/") {
            inspect.clone()
        } else {
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_vec()
        })
    });
    seen
}

#[test]
fn an_error_while_checking_an_image_never_imports_or_pulls_over_it() {
    rt(2).block_on(async {
        let body = r#"{"message":"layer store is busy"}"#;
        let failing = format!(
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        let path = socket_path();
        let seen = image_engine(&path, failing);
        let d = client(&path, Duration::from_secs(5)).await;
        let err = d
            .ensure_minimal_image(&stevedore::docker::MinimalImage::new())
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(500), "{err}");
        let err = d.ensure_image("busybox:latest").await.unwrap_err();
        assert_eq!(err.status(), Some(500), "{err}");
        let seen = seen.lock().unwrap().clone();
        assert!(
            seen.iter().all(|l| l.starts_with("GET ")),
            "only checks were sent, no import, pull or tag: {seen:?}"
        );
        assert_eq!(seen.len(), 2, "{seen:?}");
    });
}

#[test]
fn an_image_with_other_content_under_the_minimal_name_is_left_alone() {
    rt(2).block_on(async {
        let path = socket_path();
        let planted = ok_json(
            r#"{"Id":"sha256:0000000000000000000000000000000000000000000000000000000000000000","RepoTags":["stevedore/minimal:x"],"Size":5,"RootFS":{"Type":"layers","Layers":["sha256:1111111111111111111111111111111111111111111111111111111111111111"]}}"#,
        );
        let seen = image_engine(&path, planted);
        let d = client(&path, Duration::from_secs(5)).await;
        let err = d
            .ensure_minimal_image(&stevedore::docker::MinimalImage::new())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::MinimalImage(stevedore::docker::MinimalImageError::Mismatch { .. })
            ),
            "{err}"
        );
        assert!(err.to_string().contains("left alone"), "{err}");
        let seen = seen.lock().unwrap().clone();
        assert!(seen.iter().all(|l| l.starts_with("GET ")), "{seen:?}");
    });
}

/// A request line with the path's `%3A` and `%2F` decoded.
fn decode(line: &str) -> String {
    line.replace("%3A", ":").replace("%2F", "/")
}

/// An engine that lacks the minimal image, accepts its import (reporting
/// `id`, with the recipe's `layer`), and never answers the tag request;
/// every request line goes to `seen`.
fn importing_engine(
    path: &std::path::Path,
    id: &'static str,
    layer: String,
    seen: stevedore::chan::Sender<String>,
) {
    serve(path, move |head| {
        let line = decode(head.lines().next().unwrap_or_default());
        let _ = seen.try_send(line.clone());
        if line.starts_with("GET /v1.41/images/stevedore") {
            let body = r#"{"message":"No such image"}"#;
            return Some(
                format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes(),
            );
        }
        if line.starts_with("POST /v1.41/images/create") {
            return Some(ok_json(&format!(r#"{{"status":"{id}"}}"#)));
        }
        if line.starts_with(&format!("GET /v1.41/images/{id}/json")) {
            return Some(ok_json(&format!(
                r#"{{"Id":"{id}","Size":10,"RootFS":{{"Type":"layers","Layers":["{layer}"]}}}}"#
            )));
        }
        if line.contains("/tag?") {
            return None; // never answers
        }
        Some(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]".to_vec())
    });
}

#[test]
fn cancelling_ensure_minimal_image_after_the_import_removes_the_untagged_image() {
    const ID: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    rt(2).block_on(async {
        let recipe = stevedore::docker::MinimalImage::new();
        let layer = recipe.build().unwrap().layer().to_owned();
        let path = socket_path();
        let (tx, rx) = stevedore::chan::unbounded();
        importing_engine(&path, ID, layer, tx);
        let d = client(&path, Duration::from_secs(60)).await;
        let task = spawn(async move { d.ensure_minimal_image(&recipe).await });
        // Cancel while the tag request hangs: after the import.
        stevedore::time::timeout(Duration::from_secs(30), async {
            loop {
                let line = rx.recv().await.unwrap();
                if line.contains("/tag?") {
                    return;
                }
            }
        })
        .await
        .expect("the import went through to the tag request");
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        let deleted = stevedore::time::timeout(Duration::from_secs(30), async {
            loop {
                let line = rx.recv().await.unwrap();
                if line.starts_with("DELETE") {
                    return line;
                }
            }
        })
        .await
        .expect("the untagged image is removed after the cancel");
        assert!(deleted.contains(ID), "{deleted}");
    });
}

#[test]
fn an_import_whose_progress_reports_an_error_after_the_id_removes_the_image() {
    const ID: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
    let path = socket_path();
    rt(2).block_on(async {
        let (tx, rx) = stevedore::chan::unbounded();
        serve(&path, move |head| {
            let line = decode(head.lines().next().unwrap_or_default());
            let _ = tx.try_send(line.clone());
            Some(if line.starts_with("POST /v1.41/images/create") {
                ok_json(&format!(
                    "{{\"status\":\"{ID}\"}}\n{{\"errorDetail\":{{\"message\":\"disk full\"}},\"error\":\"disk full\"}}"
                ))
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]".to_vec()
            })
        });
        let d = client(&path, Duration::from_secs(5)).await;
        let err = d
            .import_image(vec![0u8; 1024], "stevedore-test/x", "y")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        let mut lines = Vec::new();
        while let Ok(l) = rx.try_recv() {
            lines.push(l);
        }
        assert!(
            lines.iter().any(|l| l.starts_with("DELETE") && l.contains(ID)),
            "removed before the error was returned: {lines:?}"
        );
        assert!(!lines.iter().any(|l| l.contains("/tag?")), "{lines:?}");
    });
}
