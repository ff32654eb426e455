//! Sockets over the reactor, on loopback only: echo under load, half-close,
//! resets, large transfers, a worker blocked by a task, Unix sockets, errors.

mod util;

use futures::io::AsyncReadExt;
use std::io::ErrorKind;
use std::net::Shutdown;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;
use stevedore::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use stevedore::sync::WaitGroup;
use stevedore::{chan, spawn};
use util::rt;

fn pattern(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + seed * 7) % 251) as u8)
        .collect()
}

async fn echo_server(listener: TcpListener) {
    loop {
        let (mut conn, _) = match listener.accept().await {
            Ok(c) => c,
            Err(_) => return,
        };
        spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if conn.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

#[test]
fn echo_with_a_thousand_concurrent_clients_every_byte_verified() {
    let rt = rt(2);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(echo_server(listener));
        let wg = WaitGroup::new();
        let verified = Arc::new(AtomicUsize::new(0));
        for c in 0..1000usize {
            let verified = verified.clone();
            wg.spawn(async move {
                let mut s = TcpStream::connect(addr).await.unwrap();
                let msg = pattern(c, 1000 + c % 3000);
                s.write_all(&msg).await.unwrap();
                let mut back = vec![0u8; msg.len()];
                s.read_exact(&mut back).await.unwrap();
                assert_eq!(back, msg, "client {c} got corrupted bytes");
                verified.fetch_add(msg.len(), SeqCst);
            });
        }
        wg.wait().await;
        let expected: usize = (0..1000).map(|c| 1000 + c % 3000).sum();
        assert_eq!(verified.load(SeqCst), expected);
        server.abort();
    });
}

#[test]
fn half_close_peer_reads_eof_and_still_writes_back() {
    let rt = rt(2);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            conn.read_to_end(&mut got).await.unwrap(); // ends at the client's half-close
            let reply = format!("got {} bytes", got.len());
            conn.write_all(reply.as_bytes()).await.unwrap();
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(&[7u8; 5000]).await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut reply = String::new();
        client.read_to_string(&mut reply).await.unwrap();
        assert_eq!(reply, "got 5000 bytes");
        server.await.unwrap();
    });
}

#[test]
fn peer_close_mid_read_is_eof_and_reset_is_an_error() {
    let rt = rt(2);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (go_tx, go_rx) = chan::bounded::<()>(0);
        let server = spawn(async move {
            // Close: part of a message, then a clean close.
            let (mut conn, _) = listener.accept().await.unwrap();
            conn.write_all(b"part").await.unwrap();
            drop(conn);
            // Reset: SO_LINGER 0, then close sends RST.
            let (conn2, _) = listener.accept().await.unwrap();
            go_rx.recv().await;
            conn2.set_linger(Some(Duration::ZERO)).unwrap();
            drop(conn2);
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"part");

        let mut c2 = TcpStream::connect(addr).await.unwrap();
        go_tx.send(()).await.unwrap();
        let mut buf = [0u8; 16];
        let err = loop {
            match c2.read(&mut buf).await {
                Ok(0) => panic!("a reset must not look like a clean close"),
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
        server.await.unwrap();
    });
}

#[test]
fn a_64_mib_transfer_survives_many_would_blocks() {
    const LEN: usize = 64 << 20;
    let rt = rt(2);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sender = spawn(async move {
            let (conn, _) = listener.accept().await.unwrap();
            let (_r, mut w) = conn.into_split();
            let chunk = pattern(1, 1 << 20);
            for _ in 0..64 {
                w.write_all(&chunk).await.unwrap();
            }
            // Dropping the write half half-closes: the reader sees EOF.
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        let expect = pattern(1, 1 << 20);
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0usize;
        loop {
            let n = c.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            for (i, b) in buf[..n].iter().enumerate() {
                assert_eq!(*b, expect[(total + i) % expect.len()], "byte {}", total + i);
            }
            total += n;
        }
        assert_eq!(total, LEN);
        sender.await.unwrap();
    });
}

#[test]
fn a_worker_blocked_for_200ms_does_not_stall_other_connections() {
    // Two workers. One task blocks its worker; meanwhile a ping-pong on
    // another connection must keep completing round trips.
    let rt = rt(2);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(echo_server(listener));
        let mut c = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 8];
        c.write_all(b"warm-up!").await.unwrap();
        c.read_exact(&mut buf).await.unwrap();

        // The blocker holds its worker until the ping-pong has made 100
        // round trips (or 30 s pass): an event, not a 200 ms sleep that
        // a loaded machine can stretch the measurement past.
        let (started_tx, started_rx) = chan::bounded::<()>(0);
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = spawn(async move {
            started_tx.send(()).await.unwrap();
            // the stall under test: holds this worker while the others work
            release_rx.recv_timeout(Duration::from_secs(30)).is_ok()
        });
        started_rx.recv().await;
        for _ in 0..100 {
            c.write_all(b"ping-pon").await.unwrap();
            c.read_exact(&mut buf).await.unwrap();
        }
        release_tx.send(()).unwrap();
        assert!(
            blocker.await.unwrap(),
            "the round trips stalled while a worker was blocked"
        );
        server.abort();
    });
}

#[test]
fn split_halves_work_from_two_tasks_at_once() {
    let rt = rt(2);
    rt.block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut ar, mut aw) = a.into_split();
        let (mut br, mut bw) = b.into_split();
        // Both directions stream 1 MiB concurrently.
        let data = pattern(3, 1 << 20);
        let d1 = data.clone();
        let w1 = spawn(async move { aw.write_all(&d1).await.unwrap() });
        let d2 = data.clone();
        let w2 = spawn(async move { bw.write_all(&d2).await.unwrap() });
        let r1 = spawn(async move {
            let mut v = vec![0u8; 1 << 20];
            br.read_exact(&mut v).await.unwrap();
            v
        });
        let r2 = spawn(async move {
            let mut v = vec![0u8; 1 << 20];
            ar.read_exact(&mut v).await.unwrap();
            (v, ar)
        });
        w1.await.unwrap();
        w2.await.unwrap();
        assert_eq!(r1.await.unwrap(), data);
        let (v, _ar) = r2.await.unwrap();
        assert_eq!(v, data);
    });
}

#[test]
fn unix_listener_accepts_and_echoes() {
    let rt = rt(2);
    let dir = tempdir();
    let path = dir.join("echo.sock");
    rt.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let server = spawn(async move {
            for _ in 0..10 {
                let (mut conn, _) = listener.accept().await.unwrap();
                spawn(async move {
                    let mut v = Vec::new();
                    conn.read_to_end(&mut v).await.unwrap();
                    conn.write_all(&v).await.unwrap();
                });
            }
        });
        let wg = WaitGroup::new();
        for i in 0..10 {
            let path = path.clone();
            wg.spawn(async move {
                let mut s = UnixStream::connect(&path).await.unwrap();
                let msg = pattern(i, 10_000);
                s.write_all(&msg).await.unwrap();
                s.shutdown(Shutdown::Write).unwrap();
                let mut back = Vec::new();
                s.read_to_end(&mut back).await.unwrap();
                assert_eq!(back, msg);
            });
        }
        wg.wait().await;
        server.await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn connecting_to_a_missing_unix_socket_names_the_path() {
    let rt = rt(1);
    let err = rt
        .block_on(UnixStream::connect("/nonexistent/stevedore/docker.sock"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string()
            .contains("/nonexistent/stevedore/docker.sock"),
        "{err}"
    );
}

#[test]
fn connecting_to_a_socket_without_permission_names_the_path() {
    if !is_root() {
        return check_permission_denied();
    }
    // root may traverse anything: re-run this test as `nobody`.
    use std::os::unix::process::CommandExt;
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "connecting_to_a_socket_without_permission_names_the_path",
            "--nocapture",
        ])
        .env("STEVEDORE_TEST_UNPRIVILEGED", "1")
        .uid(65534)
        .gid(65534)
        .output()
        .expect("re-running the test as nobody");
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "unprivileged run failed:\n{log}");
    assert!(log.contains("1 passed"), "{log}");
}

fn check_permission_denied() {
    let dir = tempdir();
    let path = dir.join("private.sock");
    let rt = rt(1);
    let _listener = rt.block_on(async { UnixListener::bind(&path).unwrap() });
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o000)).unwrap();
    let res = rt.block_on(UnixStream::connect(&path));
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let err = res.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
}

#[test]
fn a_refused_tcp_connect_names_the_address_and_timeouts_are_typed() {
    let rt = rt(1);
    rt.block_on(async {
        // Bind then drop to get a port with (almost certainly) no listener.
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            l.local_addr().unwrap().port()
        };
        let addr = format!("127.0.0.1:{port}");
        let err = TcpStream::connect(addr.as_str()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        assert!(err.to_string().contains(&addr), "{err}");
        let ok = TcpStream::connect_timeout(addr.as_str(), Duration::from_secs(5)).await;
        assert_eq!(ok.unwrap_err().kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn sockets_outside_a_runtime_are_a_clear_error() {
    let err = UnixStream::pair().unwrap_err();
    assert!(err.to_string().contains("no stevedore runtime"), "{err}");
}

#[test]
fn nodelay_and_addresses() {
    let rt = rt(1);
    rt.block_on(async {
        let l = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = l.local_addr().unwrap();
        let c = TcpStream::connect(addr).await.unwrap();
        let (s, peer) = l.accept().await.unwrap();
        assert_eq!(c.peer_addr().unwrap(), addr);
        assert_eq!(s.peer_addr().unwrap(), peer);
        assert_eq!(c.local_addr().unwrap(), peer);
        c.set_nodelay(true).unwrap();
        assert!(c.nodelay().unwrap());
    });
}

fn tempdir() -> std::path::PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "stevedore-net-{}-{}",
        std::process::id(),
        N.fetch_add(1, SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[test]
fn small_reads_reassemble_larger_messages_exactly() {
    // Reads smaller than the read-ahead keep the surplus for later reads;
    // interleave tiny, odd and large buffers and check every byte.
    let rt = rt(2);
    rt.block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let data = pattern(9, 300_000);
        let d = data.clone();
        let writer = spawn(async move {
            for chunk in d.chunks(777) {
                a.write_all(chunk).await.unwrap();
            }
        });
        let mut got = Vec::with_capacity(data.len());
        let sizes = [1usize, 7, 64, 1023, 1024, 5000, 3];
        let mut i = 0;
        while got.len() < data.len() {
            let mut buf = vec![0u8; sizes[i % sizes.len()]];
            let n = b.read(&mut buf).await.unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
            i += 1;
        }
        assert_eq!(got, data);
        writer.await.unwrap();
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    });
}
