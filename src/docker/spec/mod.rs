//! `ContainerSpec`: what to create, with the options `docker run` users
//! pass every day, in `docker run`'s formats where they have one.
//!
//! * `mount.rs`: `-v` bind mounts and volumes ([`Mount`]).
//! * `port.rs`: `-p` published ports ([`PortBinding`]).
//! * `resources.rs`: `--memory`, `--cpus`, `--ulimit`.
//! * `policy.rs`: `--restart`, `--add-host`, hostnames, capabilities.
//! * `raw.rs`: the escape hatch, raw Engine API JSON merged in (RFC 7386).
//! * `body.rs`: the create body as typed serde structs.
//! * `error.rs`: [`SpecError`], raised before anything is sent.

mod body;
mod error;
mod mount;
mod policy;
mod port;
mod raw;
mod resources;
#[cfg(test)]
mod tests;

pub use self::error::SpecError;
pub use self::mount::{Mount, MountSource};
pub use self::policy::{ExtraHost, HostAddr, RestartPolicy};
pub use self::port::{PortBinding, PortRange, Protocol};
pub use self::resources::{parse_cpus, parse_memory, Ulimit};

use self::body::{CreateBody, Empty, HostConfig, HostPort};
use std::collections::BTreeMap;

/// A container to create, built up with chained methods. Values in
/// `docker run`'s formats parse into their types with `str::parse`:
///
/// ```
/// use stevedore::docker::spec::{parse_cpus, parse_memory, RestartPolicy};
/// use stevedore::docker::ContainerSpec;
///
/// let spec = ContainerSpec::new("busybox:latest")
///     .cmd(["sh", "-c", "echo hello"])
///     .env("MODE", "test")
///     .label("team", "infra")
///     .mount("/srv/data:/data:ro".parse()?)
///     .mount("cache:/var/cache".parse()?)
///     .publish("127.0.0.1:8080:80".parse()?)
///     .publish("5353:53/udp".parse()?)
///     .memory(parse_memory("64m")?)
///     .nano_cpus(parse_cpus("1.5")?)
///     .restart("on-failure:3".parse::<RestartPolicy>()?)
///     .working_dir("/data")
///     .user("1000:1000")
///     .read_only_rootfs(true)
///     .cap_drop("ALL")
///     .ulimit("nofile=1024:2048".parse()?)
///     .raw_host_config(serde_json::json!({ "ShmSize": 67108864 }));
/// assert_eq!(spec.image(), "busybox:latest");
/// spec.validate()?;
///
/// // Invalid values are refused before anything is sent.
/// assert!(ContainerSpec::new("busybox").working_dir("data").validate().is_err());
/// # Ok::<_, stevedore::docker::spec::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    image: String,
    cmd: Option<Vec<String>>,
    entrypoint: Option<Vec<String>>,
    env: Vec<(String, String)>,
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
    hostname: Option<String>,
    mounts: Vec<Mount>,
    ports: Vec<PortBinding>,
    restart: Option<RestartPolicy>,
    read_only_rootfs: bool,
    cap_add: Vec<String>,
    cap_drop: Vec<String>,
    ulimits: Vec<Ulimit>,
    extra_hosts: Vec<ExtraHost>,
    init: Option<bool>,
    raw_config: Option<serde_json::Value>,
    raw_host_config: Option<serde_json::Value>,
}

/// Longest user name or `uid:gid` accepted.
const MAX_USER: usize = 256;

/// A non-empty value of at most `max` bytes without NUL bytes.
pub(crate) fn check_text(option: &'static str, value: &str, max: usize) -> Result<(), SpecError> {
    if value.is_empty() {
        return Err(SpecError::Empty { option });
    }
    if value.len() > max {
        return Err(SpecError::TooLong {
            option,
            len: value.len(),
            max,
        });
    }
    if value.contains('\0') {
        return Err(SpecError::NulByte { option });
    }
    Ok(())
}

/// No argument contains a NUL byte (`execve` would cut it).
fn check_args(option: &'static str, args: Option<&Vec<String>>) -> Result<(), SpecError> {
    if args.is_some_and(|a| a.iter().any(|s| s.contains('\0'))) {
        return Err(SpecError::NulByte { option });
    }
    Ok(())
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
            hostname: None,
            mounts: Vec::new(),
            ports: Vec::new(),
            restart: None,
            read_only_rootfs: false,
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            ulimits: Vec::new(),
            extra_hosts: Vec::new(),
            init: None,
            raw_config: None,
            raw_host_config: None,
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

    /// Overrides the image's entrypoint (`--entrypoint`; an empty list
    /// resets it).
    pub fn entrypoint<I, S>(mut self, entrypoint: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.entrypoint = Some(entrypoint.into_iter().map(Into::into).collect());
        self
    }

    /// Adds an environment variable (`-e KEY=VALUE`); the name must be
    /// non-empty and without `=`.
    pub fn env(mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
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

    /// Let the daemon remove the container when it exits (`--rm`; not
    /// with a restart policy).
    pub fn auto_remove(mut self, yes: bool) -> Self {
        self.auto_remove = yes;
        self
    }

    /// Memory limit in bytes (the daemon's minimum is 6 MiB);
    /// [`parse_memory`] reads `docker run`'s `64m`.
    pub fn memory(mut self, bytes: i64) -> Self {
        self.memory = Some(bytes);
        self
    }

    /// CPU quota in billionths of a CPU (`1_500_000_000` = 1.5 CPUs);
    /// [`parse_cpus`] reads `docker run`'s `1.5`.
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

    /// Working directory inside the container (`--workdir`, absolute).
    pub fn working_dir(mut self, dir: impl Into<String>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// User to run as (`--user uid[:gid]` or a name).
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The container's hostname (`--hostname`).
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = Some(hostname.into());
        self
    }

    /// Adds a bind mount or volume (`-v`).
    pub fn mount(mut self, mount: Mount) -> Self {
        self.mounts.push(mount);
        self
    }

    /// Publishes a port (`-p`).
    pub fn publish(mut self, port: PortBinding) -> Self {
        self.ports.push(port);
        self
    }

    /// When the daemon restarts the container (`--restart`).
    pub fn restart(mut self, policy: RestartPolicy) -> Self {
        self.restart = Some(policy);
        self
    }

    /// Mounts the root filesystem read-only (`--read-only`).
    pub fn read_only_rootfs(mut self, yes: bool) -> Self {
        self.read_only_rootfs = yes;
        self
    }

    /// Adds a capability (`--cap-add NET_ADMIN`, `CAP_` optional, `ALL`).
    pub fn cap_add(mut self, cap: impl Into<String>) -> Self {
        self.cap_add.push(cap.into());
        self
    }

    /// Drops a capability (`--cap-drop`).
    pub fn cap_drop(mut self, cap: impl Into<String>) -> Self {
        self.cap_drop.push(cap.into());
        self
    }

    /// Sets a resource limit (`--ulimit`).
    pub fn ulimit(mut self, ulimit: Ulimit) -> Self {
        self.ulimits.push(ulimit);
        self
    }

    /// Adds an `/etc/hosts` entry (`--add-host`).
    pub fn extra_host(mut self, host: ExtraHost) -> Self {
        self.extra_hosts.push(host);
        self
    }

    /// Runs an init process as PID 1 that reaps zombies and forwards
    /// signals (`--init`).
    pub fn init(mut self, yes: bool) -> Self {
        self.init = Some(yes);
        self
    }

    /// The escape hatch for `Config` fields this builder does not know:
    /// `patch` (a JSON object) is merged into the create body after
    /// everything else, as a JSON Merge Patch (RFC 7386): its members
    /// replace the builder's, objects merge recursively, a `null` member
    /// removes the field, arrays are replaced whole. Calling it again
    /// merges the patches. `HostConfig` goes through
    /// [`raw_host_config`](Self::raw_host_config).
    ///
    /// ```
    /// use serde_json::json;
    /// use stevedore::docker::ContainerSpec;
    ///
    /// let spec = ContainerSpec::new("busybox")
    ///     .label("a", "1")
    ///     .raw_config(json!({ "StopSignal": "SIGINT", "Labels": { "a": null, "b": "2" } }));
    /// let body = spec.create_body()?;
    /// assert_eq!(body["StopSignal"], "SIGINT");
    /// assert_eq!(body["Labels"], json!({ "b": "2" }));
    /// # Ok::<_, stevedore::docker::spec::SpecError>(())
    /// ```
    pub fn raw_config(mut self, patch: serde_json::Value) -> Self {
        merge_into(&mut self.raw_config, patch);
        self
    }

    /// The escape hatch for `HostConfig` fields (`ShmSize`, `Devices`,
    /// `SecurityOpt`, …), merged like [`raw_config`](Self::raw_config).
    pub fn raw_host_config(mut self, patch: serde_json::Value) -> Self {
        merge_into(&mut self.raw_host_config, patch);
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

    /// The mounts.
    pub fn mounts(&self) -> &[Mount] {
        &self.mounts
    }

    /// The published ports.
    pub fn ports(&self) -> &[PortBinding] {
        &self.ports
    }

    /// Checks every option; [`Docker::create`](crate::docker::Docker::create)
    /// and the launcher run it before sending anything. The image
    /// reference is checked separately
    /// ([`Error::InvalidReference`](crate::docker::Error::InvalidReference)).
    ///
    /// # Errors
    ///
    /// The first [`SpecError`] found.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.create_body().map(drop)
    }

    /// The `POST /containers/create` body this spec sends (the Engine API's
    /// `Config` with `HostConfig` inside), raw patches applied.
    ///
    /// # Errors
    ///
    /// The first [`SpecError`] found, as [`validate`](Self::validate).
    pub fn create_body(&self) -> Result<serde_json::Value, SpecError> {
        check_args("--cmd", self.cmd.as_ref())?;
        check_args("--entrypoint", self.entrypoint.as_ref())?;
        let mut env = Vec::with_capacity(self.env.len());
        for (k, v) in &self.env {
            let entry = format!("{k}={v}");
            if k.is_empty() || k.contains('=') {
                return Err(SpecError::InvalidEnv { value: entry });
            }
            if entry.contains('\0') {
                return Err(SpecError::NulByte { option: "-e" });
            }
            env.push(entry);
        }
        for (k, v) in &self.labels {
            if k.is_empty() {
                return Err(SpecError::InvalidLabel { key: k.clone() });
            }
            if k.contains('\0') || v.contains('\0') {
                return Err(SpecError::NulByte { option: "--label" });
            }
        }
        for (option, v) in [("--memory", self.memory), ("--cpus", self.nano_cpus)] {
            if let Some(v) = v.filter(|v| *v < 0) {
                return Err(SpecError::NotPositive { option, value: v });
            }
        }
        if let Some(dir) = &self.working_dir {
            mount::check_container_path("--workdir", dir)?;
        }
        if let Some(user) = &self.user {
            check_text("--user", user, MAX_USER)?;
        }
        if let Some(h) = &self.hostname {
            policy::check_hostname(h)?;
        }
        if self.auto_remove && !matches!(self.restart, None | Some(RestartPolicy::No)) {
            return Err(SpecError::Conflict {
                option: "--rm",
                other: "--restart",
            });
        }
        let mut binds = Vec::new();
        let mut volumes = BTreeMap::new();
        for m in &self.mounts {
            m.validate()?;
            match m.bind_entry() {
                Some(b) => binds.push(b),
                None => {
                    volumes.insert(m.target(), Empty {});
                }
            }
        }
        let mut exposed_ports = BTreeMap::new();
        let mut port_bindings: BTreeMap<String, Vec<HostPort>> = BTreeMap::new();
        for p in &self.ports {
            p.validate()?;
            for (port, host_ip, host_port) in p.entries() {
                exposed_ports.insert(port.clone(), Empty {});
                port_bindings
                    .entry(port)
                    .or_default()
                    .push(HostPort { host_ip, host_port });
            }
        }
        let caps = |list: &[String]| {
            list.iter()
                .map(|c| policy::normalize_capability(c))
                .collect::<Result<Vec<_>, _>>()
        };
        let (cap_add, cap_drop) = (caps(&self.cap_add)?, caps(&self.cap_drop)?);
        for u in &self.ulimits {
            u.validate()?;
        }
        let mut extra_hosts = Vec::with_capacity(self.extra_hosts.len());
        for h in &self.extra_hosts {
            h.validate()?;
            extra_hosts.push(h.to_string());
        }
        let raw_host = match &self.raw_host_config {
            Some(v) if !v.is_object() => {
                return Err(SpecError::RawNotObject {
                    target: "HostConfig",
                })
            }
            v => v,
        };
        let raw_config = match &self.raw_config {
            Some(v) if !v.is_object() => return Err(SpecError::RawNotObject { target: "Config" }),
            Some(v) if v.get("HostConfig").is_some() => {
                return Err(SpecError::RawHostConfigInConfig)
            }
            v => v,
        };
        let body = CreateBody {
            image: &self.image,
            cmd: self.cmd.as_deref(),
            entrypoint: self.entrypoint.as_deref(),
            env,
            labels: &self.labels,
            tty: self.tty,
            open_stdin: self.open_stdin,
            stdin_once: self.open_stdin,
            attach_stdin: self.open_stdin,
            attach_stdout: true,
            attach_stderr: true,
            stop_timeout: self.stop_timeout,
            working_dir: self.working_dir.as_deref(),
            user: self.user.as_deref(),
            hostname: self.hostname.as_deref(),
            exposed_ports,
            volumes,
            host_config: HostConfig {
                auto_remove: self.auto_remove,
                memory: self.memory,
                nano_cpus: self.nano_cpus,
                network_mode: self.network_mode.as_deref(),
                binds,
                port_bindings,
                restart_policy: self.restart.map(RestartPolicy::body),
                readonly_rootfs: self.read_only_rootfs,
                cap_add,
                cap_drop,
                ulimits: &self.ulimits,
                extra_hosts,
                init: self.init,
            },
        };
        let mut body = serde_json::to_value(&body).expect("string keys and plain values");
        if let Some(patch) = raw_host {
            raw::merge_patch(&mut body["HostConfig"], patch);
        }
        if let Some(patch) = raw_config {
            raw::merge_patch(&mut body, patch);
        }
        Ok(body)
    }
}

/// Merges `patch` into the patch held so far (two merge patches in a row
/// are one: applying the merged one has the same effect, except that a
/// non-object patch replaces what came before).
fn merge_into(held: &mut Option<serde_json::Value>, patch: serde_json::Value) {
    match held {
        Some(h) if h.is_object() && patch.is_object() => merge_patches(h, patch),
        _ => *held = Some(patch),
    }
}

/// Composes two merge patches: `null`s in `later` must survive (they
/// delete from the target), so this is not `merge_patch`.
fn merge_patches(held: &mut serde_json::Value, later: serde_json::Value) {
    match (held, later) {
        (serde_json::Value::Object(h), serde_json::Value::Object(l)) => {
            for (k, v) in l {
                match h.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        merge_patches(existing, v)
                    }
                    _ => {
                        h.insert(k, v);
                    }
                }
            }
        }
        (h, l) => *h = l,
    }
}
