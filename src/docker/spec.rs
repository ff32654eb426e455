//! `ContainerSpec`: what to create.

use std::collections::BTreeMap;

/// A container to create, built up with chained methods:
///
/// ```
/// use stevedore::docker::ContainerSpec;
///
/// let spec = ContainerSpec::new("busybox:latest")
///     .cmd(["sh", "-c", "echo hello"])
///     .env("MODE", "test")
///     .label("team", "infra")
///     .network_mode("none")
///     .memory(64 << 20);
/// assert_eq!(spec.image(), "busybox:latest");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    image: String,
    cmd: Option<Vec<String>>,
    entrypoint: Option<Vec<String>>,
    env: Vec<String>,
    labels: BTreeMap<String, String>,
    name: Option<String>,
    auto_remove: bool,
    memory: Option<i64>,
    nano_cpus: Option<i64>,
    network_mode: Option<String>,
    tty: bool,
    open_stdin: bool,
    stop_timeout: Option<i64>,
    working_dir: Option<String>,
    user: Option<String>,
}

impl ContainerSpec {
    /// A container of `image` (no command: images imported from a tar have
    /// none, so give one with [`cmd`](Self::cmd)).
    pub fn new(image: impl Into<String>) -> ContainerSpec {
        ContainerSpec {
            image: image.into(),
            cmd: None,
            entrypoint: None,
            env: Vec::new(),
            labels: BTreeMap::new(),
            name: None,
            auto_remove: false,
            memory: None,
            nano_cpus: None,
            network_mode: None,
            tty: false,
            open_stdin: false,
            stop_timeout: None,
            working_dir: None,
            user: None,
        }
    }

    /// The command and its arguments.
    pub fn cmd<I, S>(mut self, cmd: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cmd = Some(cmd.into_iter().map(Into::into).collect());
        self
    }

    /// Overrides the image's entrypoint.
    pub fn entrypoint<I, S>(mut self, entrypoint: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.entrypoint = Some(entrypoint.into_iter().map(Into::into).collect());
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.env
            .push(format!("{}={}", key.as_ref(), value.as_ref()));
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Names the container (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Let the daemon remove the container when it exits.
    pub fn auto_remove(mut self, yes: bool) -> Self {
        self.auto_remove = yes;
        self
    }

    /// Memory limit in bytes (the daemon's minimum is 6 MiB).
    pub fn memory(mut self, bytes: i64) -> Self {
        self.memory = Some(bytes);
        self
    }

    /// CPU quota in billionths of a CPU (`1_500_000_000` = 1.5 CPUs).
    pub fn nano_cpus(mut self, n: i64) -> Self {
        self.nano_cpus = Some(n);
        self
    }

    /// Network mode: `none`, `bridge`, `host`, `container:<id>`, a network.
    pub fn network_mode(mut self, mode: impl Into<String>) -> Self {
        self.network_mode = Some(mode.into());
        self
    }

    /// Allocate a TTY (output is then one raw stream).
    pub fn tty(mut self, yes: bool) -> Self {
        self.tty = yes;
        self
    }

    /// Keep stdin open for [`attach`](crate::docker::Docker::attach); it
    /// closes when the attached client half-closes.
    pub fn open_stdin(mut self, yes: bool) -> Self {
        self.open_stdin = yes;
        self
    }

    /// Seconds `stop` waits before SIGKILL (default 10).
    pub fn stop_timeout(mut self, secs: i64) -> Self {
        self.stop_timeout = Some(secs);
        self
    }

    /// Working directory inside the container.
    pub fn working_dir(mut self, dir: impl Into<String>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// User to run as (`uid[:gid]` or a name).
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The image.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The requested name.
    pub fn get_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// Whether a TTY is allocated.
    pub fn is_tty(&self) -> bool {
        self.tty
    }

    /// Whether the daemon removes the container on exit.
    pub fn is_auto_remove(&self) -> bool {
        self.auto_remove
    }

    /// The command, if one was given.
    pub fn get_cmd(&self) -> Option<&[String]> {
        self.cmd.as_deref()
    }

    /// The create request body.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut host = serde_json::Map::new();
        host.insert("AutoRemove".into(), self.auto_remove.into());
        if let Some(m) = self.memory {
            host.insert("Memory".into(), m.into());
        }
        if let Some(n) = self.nano_cpus {
            host.insert("NanoCpus".into(), n.into());
        }
        if let Some(mode) = &self.network_mode {
            host.insert("NetworkMode".into(), mode.clone().into());
        }
        let mut body = serde_json::Map::new();
        body.insert("Image".into(), self.image.clone().into());
        if let Some(cmd) = &self.cmd {
            body.insert("Cmd".into(), cmd.clone().into());
        }
        if let Some(ep) = &self.entrypoint {
            body.insert("Entrypoint".into(), ep.clone().into());
        }
        if !self.env.is_empty() {
            body.insert("Env".into(), self.env.clone().into());
        }
        body.insert(
            "Labels".into(),
            serde_json::to_value(&self.labels).expect("string map"),
        );
        body.insert("Tty".into(), self.tty.into());
        if self.open_stdin {
            body.insert("OpenStdin".into(), true.into());
            body.insert("StdinOnce".into(), true.into());
            body.insert("AttachStdin".into(), true.into());
        }
        body.insert("AttachStdout".into(), true.into());
        body.insert("AttachStderr".into(), true.into());
        if let Some(t) = self.stop_timeout {
            body.insert("StopTimeout".into(), t.into());
        }
        if let Some(d) = &self.working_dir {
            body.insert("WorkingDir".into(), d.clone().into());
        }
        if let Some(u) = &self.user {
            body.insert("User".into(), u.clone().into());
        }
        body.insert("HostConfig".into(), host.into());
        body.into()
    }
}
