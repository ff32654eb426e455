//! Servers for the remote-engine tests: certificates minted at test time
//! (rcgen), a TCP forwarder from host loopback into a second daemon's
//! network namespace (TLS stays end to end), and an `sshd` on loopback
//! with keys made by the test. Everything stops and is removed on drop.
#![allow(dead_code, unreachable_pub)]

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// A CA and the certificates it signed, as PEM files in `dir`:
/// `ca.pem`, `server-cert.pem`, `server-key.pem`, and a client set
/// `cert.pem`, `key.pem` (so `dir` works as a `DOCKER_CERT_PATH`).
pub struct Certs {
    pub dir: PathBuf,
}

impl Certs {
    pub fn mint(dir: &Path, names: &[&str]) -> Certs {
        std::fs::create_dir_all(dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "stevedore test CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let write = |name: &str, text: String| std::fs::write(dir.join(name), text).unwrap();
        write("ca.pem", ca_cert.pem());

        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let server_key = KeyPair::generate().unwrap();
        let mut server = CertificateParams::new(names).unwrap();
        server
            .distinguished_name
            .push(DnType::CommonName, "stevedore test engine");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &ca_cert, &ca_key).unwrap();
        write("server-cert.pem", server_cert.pem());
        write("server-key.pem", server_key.serialize_pem());

        let client_key = KeyPair::generate().unwrap();
        let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
        client
            .distinguished_name
            .push(DnType::CommonName, "stevedore test client");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client.signed_by(&client_key, &ca_cert, &ca_key).unwrap();
        write("cert.pem", client_cert.pem());
        write("key.pem", client_key.serialize_pem());
        Certs {
            dir: dir.to_owned(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Forwards connections from `127.0.0.1:<port>` in this namespace to
/// `target` inside the network namespace of process `ns_pid`. Can cut every
/// live connection at once (to make pooled connections stale).
pub struct Forwarder {
    pub port: u16,
    stop: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
}

impl Forwarder {
    pub fn start(ns_pid: u32, target: SocketAddr) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // A dialer thread lives in the target namespace; sockets it makes
        // stay there when handed to other threads.
        let (dial_tx, dial_rx) = mpsc::channel::<mpsc::Sender<std::io::Result<TcpStream>>>();
        let ns = std::fs::File::open(format!("/proc/{ns_pid}/ns/net"))
            .expect("opening the daemon's network namespace");
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            // SAFETY: setns(2) on this thread only, with a descriptor that
            // stays open for the call; no memory is passed.
            let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
            ready_tx.send(rc).unwrap();
            for reply in dial_rx {
                let _ = reply.send(TcpStream::connect_timeout(&target, Duration::from_secs(10)));
            }
        });
        assert_eq!(
            ready_rx.recv().unwrap(),
            0,
            "setns into the daemon's namespace"
        );
        let stop = Arc::new(AtomicBool::new(false));
        let live: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (stop2, live2) = (stop.clone(), live.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let (tx, rx) = mpsc::channel();
                if dial_tx.send(tx).is_err() {
                    break;
                }
                let Ok(Ok(server)) = rx.recv() else { continue };
                {
                    let mut l = live2.lock().unwrap();
                    l.retain(|s| s.peer_addr().is_ok());
                    l.push(client.try_clone().unwrap());
                    l.push(server.try_clone().unwrap());
                }
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Forwarder { port, stop, live }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Cuts every connection forwarded so far (both directions).
    pub fn cut_all(&self) {
        for s in self.live.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    });
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        self.cut_all();
    }
}

/// A one-shot fake server on loopback: answers every connection with
/// `reply` (then closes), or with nothing at all when `reply` is `None`
/// (it holds the connection open until dropped).
pub struct FakeServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl FakeServer {
    pub fn start(reply: Option<Vec<u8>>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (stop2, held2) = (stop.clone(), held.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                match &reply {
                    Some(bytes) => {
                        let mut buf = [0u8; 512];
                        let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                        let _ = conn.read(&mut buf);
                        let _ = conn.write_all(bytes);
                        let _ = conn.shutdown(Shutdown::Both);
                    }
                    None => held2.lock().unwrap().push(conn),
                }
            }
        });
        FakeServer { port, stop, held }
    }

    pub fn host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        for s in self.held.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// An `sshd` on `127.0.0.1:<port>` that accepts the keys written to its
/// `authorized_keys` and gives sessions `DOCKER_HOST=<engine>`.
pub struct Sshd {
    pub dir: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

/// A key pair made by `ssh-keygen`, and the `authorized_keys` options it is
/// registered with.
pub struct SshKey {
    pub private: PathBuf,
    pub public: String,
}

impl SshKey {
    pub fn generate(dir: &Path, name: &str) -> SshKey {
        let private = dir.join(name);
        let _ = std::fs::remove_file(&private);
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
            .arg(&private)
            .output()
            .expect("ssh-keygen (install openssh-client)");
        assert!(out.status.success(), "ssh-keygen: {out:?}");
        let public = std::fs::read_to_string(private.with_extension("pub"))
            .unwrap()
            .trim()
            .to_owned();
        SshKey { private, public }
    }
}

fn sshd_path() -> PathBuf {
    for p in ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"] {
        if Path::new(p).exists() {
            return p.into();
        }
    }
    panic!("these tests run an sshd: install openssh-server (sshd not found)");
}

impl Sshd {
    /// Starts it. `keys` are `(key, authorized_keys options)` pairs; the
    /// options force a command for keys that play a broken remote.
    pub fn start(tag: &str, engine: &str, keys: &[(&SshKey, &str)]) -> Sshd {
        let sshd = sshd_path();
        let dir = std::env::temp_dir().join(format!("stevedore-sshd-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // sshd insists on its privilege-separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let host_key = dir.join("host_key");
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&host_key)
            .output()
            .expect("ssh-keygen");
        assert!(out.status.success());
        let mut auth = String::new();
        for (k, opts) in keys {
            if opts.is_empty() {
                auth += &format!("{}\n", k.public);
            } else {
                auth += &format!("{opts} {}\n", k.public);
            }
        }
        std::fs::write(dir.join("authorized_keys"), auth).unwrap();
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let config = format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {hk}\nPidFile {pid}\n\
             AuthorizedKeysFile {auth}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
             SetEnv DOCKER_HOST={engine}\nLogLevel VERBOSE\n",
            hk = host_key.display(),
            pid = dir.join("sshd.pid").display(),
            auth = dir.join("authorized_keys").display(),
        );
        std::fs::write(dir.join("sshd_config"), config).unwrap();
        let host_pub = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
        std::fs::write(
            dir.join("known_hosts"),
            format!("[127.0.0.1]:{port} {}", host_pub.trim()),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawning sshd");
        let mut s = Sshd {
            dir,
            port,
            child: Some(child),
        };
        // sshd signals nothing when ready: probe its port for the banner.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
                let mut b = [0u8; 4];
                if c.read_exact(&mut b).is_ok() && &b == b"SSH-" {
                    break;
                }
            }
            if let Some(st) = s.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "sshd exited ({st}): {}",
                    std::fs::read_to_string(s.dir.join("sshd.log")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "sshd did not come up in 30 s");
            std::thread::park_timeout(Duration::from_millis(50)); // probe interval (external process)
        }
        s
    }

    pub fn host(&self) -> String {
        format!("ssh://root@127.0.0.1:{}", self.port)
    }

    /// `ssh` arguments that use `key` and trust only this server's host key.
    pub fn args(&self, key: &SshKey) -> Vec<String> {
        vec![
            "-i".into(),
            key.private.display().to_string(),
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-o".into(),
            format!(
                "UserKnownHostsFile={}",
                self.dir.join("known_hosts").display()
            ),
            "-o".into(),
            "StrictHostKeyChecking=yes".into(),
            "-F".into(),
            "/dev/null".into(),
        ]
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Child processes of this test process whose command is `name` (to prove
/// none is left behind).
pub fn children_named(name: &str) -> Vec<u32> {
    let me = std::process::id();
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((comm_part, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let comm = comm_part.split_once(" (").map_or("", |(_, c)| c);
        let ppid = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if comm == name && ppid == Some(me) {
            out.push(pid);
        }
    }
    out
}
