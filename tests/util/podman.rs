//! A Podman engine for tests: `podman system service` on its own socket,
//! with its own storage root, run root, temp dir, events log and
//! `containers.conf`, all in one temp directory. Stopped and removed when
//! dropped.
//!
//! Settings that make it work in a container sandbox (and change nothing
//! the tests rely on):
//! * `default_ulimits = ["nofile=1024:1024", "nproc=…"]`: podman raises a
//!   container's `RLIMIT_NOFILE`/`RLIMIT_NPROC` to its own hard limits by
//!   default, which a sandbox may forbid (`error setting rlimit type 7`);
//! * the `vfs` storage driver (no overlay mounts inside a container),
//!   `cgroupfs` (no systemd), a file events log (no journald).
#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Podman {
    pub dir: PathBuf,
    child: Option<Child>,
}

impl Podman {
    /// Starts the service, failing the test with a clear message if that is
    /// not possible here.
    pub fn start(tag: &str) -> Podman {
        assert!(
            Command::new("podman").arg("--version").output().is_ok(),
            "this test runs a Podman engine: install podman (apt-get install podman)"
        );
        let dir =
            std::env::temp_dir().join(format!("stevedore-podman-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["root", "run", "tmp", "events"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(
            dir.join("containers.conf"),
            format!(
                "[containers]\n\
                 default_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n\
                 [engine]\n\
                 cgroup_manager = \"cgroupfs\"\n\
                 events_logger = \"file\"\n\
                 events_logfile_path = \"{}\"\n\
                 tmp_dir = \"{}\"\n",
                dir.join("events/events.log").display(),
                dir.join("tmp").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("podman.log")).unwrap();
        let child = Command::new("podman")
            .env("CONTAINERS_CONF", dir.join("containers.conf"))
            .arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"))
            .args(["--storage-driver", "vfs"])
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", dir.join("podman.sock").display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawning podman system service");
        let mut p = Podman {
            dir,
            child: Some(child),
        };
        // The service signals nothing when it is ready: probe its socket.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ping(&p.socket()) {
            if let Some(status) = p.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "podman system service exited ({status}); see {}",
                    p.dir.join("podman.log").display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "podman system service did not come up within 60 s"
            );
            std::thread::park_timeout(Duration::from_millis(50)); // probe interval (external process)
        }
        p
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("podman.sock")
    }

    /// The service's pid (to freeze it with SIGSTOP, …).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// `podman <args>` against this service's storage (not through the API).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new("podman")
            .env("CONTAINERS_CONF", self.dir.join("containers.conf"))
            .arg("--root")
            .arg(self.dir.join("root"))
            .arg("--runroot")
            .arg(self.dir.join("run"))
            .args(["--storage-driver", "vfs"])
            .args(args)
            .output()
            .expect("running podman")
    }
}

/// `GET /_ping` over a blocking socket.
fn ping(socket: &Path) -> bool {
    let Ok(mut s) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /_ping HTTP/1.1\r\nHost: podman\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.1 200")
}

impl Drop for Podman {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // A frozen service would ignore TERM.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            // Containers first (conmon processes, mounts), then the service.
            let _ = self.cli(&["rm", "--all", "--force", "--time", "0"]);
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::park_timeout(Duration::from_millis(50)); // waiting for an external process
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        for sub in ["run", "root"] {
            let _ = Command::new("umount")
                .args(["-R", "-l"])
                .arg(self.dir.join(sub))
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
