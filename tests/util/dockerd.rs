//! A second Docker daemon for multi-engine tests: its own socket, data
//! root, exec root, pid file and containerd namespace, no bridge and no
//! iptables. Stopped and removed when dropped.
//!
//! It runs in a network namespace of its own (`unshare --net`): a dockerd
//! started with `--bridge=none` deletes any `docker0` link it can see,
//! which in the host namespace is the main daemon's default bridge.
#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SecondDaemon {
    pub dir: PathBuf,
    child: Option<Child>,
    /// More `dockerd` arguments (a TLS listener); with any, the
    /// namespace's loopback is brought up first.
    extra: Vec<String>,
    /// The command dockerd runs under (its network namespace).
    wrapper: Vec<String>,
}

impl SecondDaemon {
    /// Starts it, failing the test with a clear message if that is not
    /// possible here (no `dockerd`, not root).
    pub fn start(tag: &str) -> SecondDaemon {
        SecondDaemon::start_with(tag, Vec::new())
    }

    /// Like [`start`](Self::start), with more `dockerd` arguments (for a
    /// `-H tcp://127.0.0.1:PORT` listener inside its namespace, reached
    /// through a forwarder).
    pub fn start_with(tag: &str, extra: Vec<String>) -> SecondDaemon {
        SecondDaemon::start_under(tag, &["unshare", "--net"], extra)
    }

    /// Starts it inside the network namespace `netns` (one `ip netns add`
    /// made, under `/run/netns`), which the caller prepared (addresses,
    /// links); `nsenter`, not `ip netns exec`, which would remount `/sys`
    /// and hide the cgroup mounts dockerd needs.
    pub fn start_in_netns(tag: &str, netns: &str) -> SecondDaemon {
        let net = format!("--net=/run/netns/{netns}");
        SecondDaemon::start_under(tag, &["nsenter", &net], Vec::new())
    }

    fn start_under(tag: &str, wrapper: &[&str], extra: Vec<String>) -> SecondDaemon {
        let is_root = std::fs::metadata("/proc/self").is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            m.uid() == 0
        });
        assert!(
            is_root,
            "this test starts a second dockerd and must run as root"
        );
        assert!(
            Command::new("dockerd").arg("--version").output().is_ok(),
            "this test starts a second dockerd: install docker.io (dockerd not found)"
        );
        assert!(
            Command::new("unshare").arg("--version").output().is_ok(),
            "this test starts a second dockerd in its own network namespace: \
             install util-linux (unshare not found)"
        );
        let dir = std::env::temp_dir().join(format!("stevedore-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("daemon.json"), "{}").unwrap();
        let mut d = SecondDaemon {
            dir,
            child: None,
            extra,
            wrapper: wrapper.iter().map(|s| s.to_string()).collect(),
        };
        d.spawn();
        d
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }

    fn spawn(&mut self) {
        let d = &self.dir;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("dockerd.log"))
            .unwrap();
        let _ = std::fs::remove_file(d.join("docker.pid")); // stale after a kill
                                                            // `unshare` execs dockerd in place: the child's pid is dockerd's.
        let mut cmd = Command::new(&self.wrapper[0]);
        cmd.args(&self.wrapper[1..]);
        if self.extra.is_empty() {
            cmd.arg("dockerd");
        } else {
            // A new namespace's loopback is down; `exec` keeps the pid.
            cmd.args([
                "sh",
                "-c",
                "ip link set lo up && exec dockerd \"$@\"",
                "dockerd",
            ]);
        }
        let child = cmd
            .arg("--config-file")
            .arg(d.join("daemon.json"))
            .arg("--host")
            .arg(self.host())
            .arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("docker.pid"))
            .args(["--bridge=none", "--iptables=false", "--ip-masq=false"])
            .args(["--containerd-namespace", "stevedore-second"])
            .args(["--containerd-plugins-namespace", "stevedore-second-plugins"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawning dockerd");
        self.child = Some(child);
        // The daemon signals nothing when it is ready: probe its socket.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ping(&self.socket()) {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "the second dockerd exited ({status}); see {}",
                    d.join("dockerd.log").display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the second dockerd did not come up within 60 s"
            );
            std::thread::park_timeout(Duration::from_millis(100)); // probe interval (external process)
        }
    }

    /// The daemon's pid (its network namespace is `/proc/<pid>/ns/net`).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the daemon runs").id()
    }

    /// Crashes the daemon (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the daemon (SIGSTOP): it still accepts connections (the
    /// kernel's backlog) but answers nothing until [`thaw`](Self::thaw).
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Resumes a frozen daemon (SIGCONT); requests written meanwhile run now.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("the daemon runs").id();
        let ok = Command::new("kill")
            .arg(sig)
            .arg(pid.to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {pid} failed");
    }

    /// Starts it again on the same directories.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

/// `GET /_ping` over a blocking socket.
fn ping(socket: &Path) -> bool {
    let Ok(mut s) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.1 200")
}

impl Drop for SecondDaemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // A frozen daemon cannot shut down.
            let _ = Command::new("kill")
                .arg("-CONT")
                .arg(child.id().to_string())
                .status();
            // SIGTERM for a clean shutdown, then make sure.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::park_timeout(Duration::from_millis(100)); // waiting for an external process
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // A killed daemon can leave containerd shims (and their containers)
        // behind; they all carry our directory in their command line.
        let _ = Command::new("pkill")
            .arg("-9")
            .arg("-f")
            .arg(&self.dir)
            .status();
        // A killed daemon leaves its bind mounts behind.
        let _ = Command::new("umount")
            .arg("-R")
            .arg("-l")
            .arg(self.dir.join("data"))
            .status();
        let _ = Command::new("umount")
            .arg("-R")
            .arg("-l")
            .arg(self.dir.join("exec"))
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
