//! Swarms of private dockerds for the Swarm-mode tests: each node is a
//! [`SecondDaemon`] inside a network namespace the test creates
//! (`ip netns add`), so the swarm's ports and links never touch the host's
//! network or the machine's own engine. Two nodes are joined by a veth
//! pair between their namespaces (10.213.7.1 and 10.213.7.2, which exist
//! only inside them).
//!
//! Everything is undone on drop, also when the test panicked: each node
//! leaves its swarm (forced), its daemon is stopped and its directories
//! removed, and its namespace deleted (which deletes the veth pair).
//!
//! A dockerd with `--bridge=none` still forms a swarm: `swarm init` makes
//! the `ingress` overlay network, and tasks without networks run without
//! `docker_gwbridge`.
#![allow(dead_code, unreachable_pub)]

use super::dockerd::SecondDaemon;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::Duration;
use stevedore::docker::swarm::{SwarmInit, SwarmJoin};
use stevedore::docker::Docker;

/// A network namespace, deleted when dropped.
pub struct Netns {
    pub name: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .expect("running ip (install iproute2)");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Netns {
    /// `ip netns add <name>` with its loopback up.
    pub fn new(name: &str) -> Netns {
        let _ = Command::new("ip").args(["netns", "del", name]).status(); // stale
        ip(&["netns", "add", name]);
        let ns = Netns {
            name: name.to_owned(),
        };
        ip(&["-n", name, "link", "set", "lo", "up"]);
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// One node: a dockerd in its own namespace. Dropped, it leaves the
/// swarm, stops, and its namespace goes.
pub struct SwarmNode {
    /// Declared first: stopped before the namespace is deleted.
    pub daemon: SecondDaemon,
    pub netns: Netns,
    /// The address other nodes reach it at.
    pub addr: String,
}

impl SwarmNode {
    pub fn host(&self) -> String {
        self.daemon.host()
    }

    pub async fn docker(&self) -> Docker {
        Docker::connect_with(&self.host())
            .await
            .unwrap_or_else(|e| panic!("connecting to the node {}: {e}", self.host()))
    }
}

impl Drop for SwarmNode {
    fn drop(&mut self) {
        // Forced: the last manager may leave too. A node not in a swarm
        // answers 503, which is fine.
        post(&self.daemon.dir.join("docker.sock"), "/swarm/leave?force=1");
    }
}

/// `POST <path>` over a blocking socket; true for a 2xx.
fn post(socket: &std::path::Path, path: &str) -> bool {
    let Ok(mut s) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.1 2")
}

fn node(tag: &str, ns: &str, addr: &str) -> SwarmNode {
    let netns = Netns::new(ns);
    let daemon = SecondDaemon::start_in_netns(tag, ns);
    SwarmNode {
        daemon,
        netns,
        addr: addr.to_owned(),
    }
}

/// A fresh name for this process (namespaces are global).
fn ns_name(tag: &str) -> String {
    format!("sd-{tag}-{}", std::process::id())
}

/// A dockerd in its own namespace, not (yet) in a swarm.
pub fn plain(tag: &str) -> SwarmNode {
    node(tag, &ns_name(tag), "127.0.0.1")
}

/// A single-node swarm: one dockerd in its own namespace, manager on
/// 127.0.0.1:2377 there.
pub async fn single_node(tag: &str) -> SwarmNode {
    let n = plain(tag);
    init_single(&n).await;
    n
}

/// Makes a [`plain`] node the manager of a single-node swarm.
pub async fn init_single(n: &SwarmNode) {
    let d = n.docker().await;
    d.swarm_init(&SwarmInit::new("127.0.0.1:2377", "127.0.0.1"))
        .await
        .unwrap_or_else(|e| panic!("swarm init on {}: {e}", n.host()));
}

/// A two-node swarm: a manager and a worker, each in its namespace,
/// joined by a veth pair. Returns (manager, worker).
pub async fn two_nodes(tag: &str) -> (SwarmNode, SwarmNode) {
    let pid = std::process::id();
    let manager = node(
        &format!("{tag}-m"),
        &ns_name(&format!("{tag}m")),
        "10.213.7.1",
    );
    let worker = node(
        &format!("{tag}-w"),
        &ns_name(&format!("{tag}w")),
        "10.213.7.2",
    );
    let (va, vb) = (format!("sdv{pid}a"), format!("sdv{pid}b"));
    ip(&[
        "link",
        "add",
        &va,
        "netns",
        &manager.netns.name,
        "type",
        "veth",
        "peer",
        "name",
        &vb,
        "netns",
        &worker.netns.name,
    ]);
    for (n, v) in [(&manager, &va), (&worker, &vb)] {
        ip(&[
            "-n",
            &n.netns.name,
            "addr",
            "add",
            &format!("{}/24", n.addr),
            "dev",
            v,
        ]);
        ip(&["-n", &n.netns.name, "link", "set", v, "up"]);
    }
    let m = manager.docker().await;
    m.swarm_init(&SwarmInit::new(
        format!("{}:2377", manager.addr),
        manager.addr.clone(),
    ))
    .await
    .unwrap_or_else(|e| panic!("swarm init on {}: {e}", manager.host()));
    let token = m.swarm_inspect().await.unwrap().join_tokens.worker;
    let w = worker.docker().await;
    w.swarm_join(&SwarmJoin::new(
        format!("{}:2377", worker.addr),
        worker.addr.clone(),
        format!("{}:2377", manager.addr),
        token,
    ))
    .await
    .unwrap_or_else(|e| {
        panic!(
            "swarm join of {} through {}: {e}",
            worker.host(),
            manager.addr
        )
    });
    (manager, worker)
}
