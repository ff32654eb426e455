//! [`SpecError`]: why a [`ContainerSpec`](super::ContainerSpec) or one of
//! its `docker run`-style values is rejected before anything is sent.

use std::fmt;

/// A malformed container option. Raised while parsing a value (`"64m"`,
/// `"8080:80/udp"`, `"/src:/dst:ro"`) or by
/// [`ContainerSpec::validate`](super::ContainerSpec::validate), which
/// [`Docker::create`](crate::docker::Docker::create) and the launcher run
/// before creating anything; wrapped in
/// [`Error::InvalidSpec`](crate::docker::Error::InvalidSpec).
///
/// `option` fields name the `docker run` flag the value belongs to
/// (`"--memory"`, `"-v"`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecError {
    /// The value is empty.
    Empty {
        /// The option.
        option: &'static str,
    },
    /// The value is longer than the option allows.
    TooLong {
        /// The option.
        option: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The most allowed.
        max: usize,
    },
    /// The value contains a NUL byte (it cannot reach the kernel intact).
    NulByte {
        /// The option.
        option: &'static str,
    },
    /// A path inside the container is not absolute (or is `/` where a
    /// mount target is expected).
    InvalidContainerPath {
        /// The option.
        option: &'static str,
        /// The path.
        path: String,
    },
    /// A `-v` value has too many or too few `:`-separated fields.
    MountFormat {
        /// The value.
        value: String,
    },
    /// A `-v` source is neither an absolute host path nor a valid volume
    /// name (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`).
    InvalidVolumeName {
        /// The source.
        name: String,
    },
    /// A `-v` option is unknown, repeated or conflicts with another
    /// (`ro` and `rw`).
    InvalidMountOption {
        /// The whole `-v` value.
        value: String,
        /// The offending option.
        mount_option: String,
    },
    /// A `-p` value has the wrong number of `:`-separated fields.
    PortFormat {
        /// The value.
        value: String,
    },
    /// A port is not a number in `1..=65535` (or a range of them).
    InvalidPort {
        /// The whole `-p` value.
        value: String,
        /// The offending port.
        port: String,
    },
    /// The protocol after `/` is not `tcp`, `udp` or `sctp`.
    InvalidProtocol {
        /// The whole `-p` value.
        value: String,
        /// The protocol given.
        protocol: String,
    },
    /// The host IP of a `-p` value is not an IP address.
    InvalidIp {
        /// The whole `-p` value.
        value: String,
        /// The address given.
        ip: String,
    },
    /// The host and container port ranges of a `-p` value differ in
    /// length.
    PortRangeMismatch {
        /// The value.
        value: String,
    },
    /// A `--memory` value is not `<number>[b|k|m|g|t|p]` (binary units).
    InvalidMemory {
        /// The value.
        value: String,
    },
    /// A `--cpus` value is not a positive decimal number.
    InvalidCpus {
        /// The value.
        value: String,
    },
    /// A `--cpus` value has more than nine decimals (it is sent in
    /// billionths of a CPU).
    CpusTooPrecise {
        /// The value.
        value: String,
    },
    /// A number does not fit the Engine API's 64-bit signed integers.
    Overflow {
        /// The option.
        option: &'static str,
        /// The value.
        value: String,
    },
    /// A number that must be positive is zero or negative.
    NotPositive {
        /// The option.
        option: &'static str,
        /// The value.
        value: i64,
    },
    /// A `--restart` value is not `no`, `always`, `unless-stopped` or
    /// `on-failure[:N]`.
    InvalidRestartPolicy {
        /// The value.
        value: String,
    },
    /// A `--ulimit` value is not `name=soft[:hard]`.
    UlimitFormat {
        /// The value.
        value: String,
    },
    /// A `--ulimit` name is not one the kernel knows (`nofile`, `nproc`, …).
    UnknownUlimit {
        /// The name.
        name: String,
    },
    /// A `--ulimit` soft limit exceeds its hard limit.
    UlimitSoftAboveHard {
        /// The name.
        name: String,
        /// The soft limit.
        soft: i64,
        /// The hard limit.
        hard: i64,
    },
    /// An `--add-host` value is not `host:ip` (or `host=ip`; the IP may be
    /// `host-gateway`).
    InvalidExtraHost {
        /// The value.
        value: String,
    },
    /// A hostname is not 1 to 63 letters, digits, `-` and `.`, starting
    /// with a letter or digit.
    InvalidHostname {
        /// The value.
        value: String,
    },
    /// An environment entry has an empty name or a name containing `=`.
    InvalidEnv {
        /// The entry.
        value: String,
    },
    /// A label has an empty key.
    InvalidLabel {
        /// The key.
        key: String,
    },
    /// A capability is not `ALL` or a name of letters, digits and `_`.
    InvalidCapability {
        /// The value.
        value: String,
    },
    /// Raw Engine API JSON given to
    /// [`ContainerSpec::raw_config`](super::ContainerSpec::raw_config) or
    /// [`raw_host_config`](super::ContainerSpec::raw_host_config) is not a
    /// JSON object.
    RawNotObject {
        /// `"Config"` or `"HostConfig"`.
        target: &'static str,
    },
    /// Raw `Config` JSON tried to set `HostConfig` (use
    /// [`raw_host_config`](super::ContainerSpec::raw_host_config)).
    RawHostConfigInConfig,
    /// Two options that cannot be combined (`--rm` and a restart policy).
    Conflict {
        /// One option.
        option: &'static str,
        /// The other.
        other: &'static str,
    },
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::Empty { option } => write!(f, "{option}: the value is empty"),
            SpecError::TooLong { option, len, max } => {
                write!(f, "{option}: the value is {len} bytes long, the most is {max}")
            }
            SpecError::NulByte { option } => write!(f, "{option}: the value contains a NUL byte"),
            SpecError::InvalidContainerPath { option, path } => write!(
                f,
                "{option}: {path:?} is not an absolute path inside the container (other than /)"
            ),
            SpecError::MountFormat { value } => write!(
                f,
                "-v {value:?}: expected /host/path:/container/path[:options], volume:/container/path[:options] or /container/path"
            ),
            SpecError::InvalidVolumeName { name } => write!(
                f,
                "-v: {name:?} is neither an absolute host path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)"
            ),
            SpecError::InvalidMountOption { value, mount_option } => write!(
                f,
                "-v {value:?}: invalid, repeated or conflicting option {mount_option:?} (known: ro, rw, z, Z, nocopy, [r]shared, [r]slave, [r]private)"
            ),
            SpecError::PortFormat { value } => write!(
                f,
                "-p {value:?}: expected [ip:][host_port]:container_port[/tcp|udp|sctp]"
            ),
            SpecError::InvalidPort { value, port } => {
                write!(f, "-p {value:?}: {port:?} is not a port (1-65535) or range of ports")
            }
            SpecError::InvalidProtocol { value, protocol } => write!(
                f,
                "-p {value:?}: unknown protocol {protocol:?} (tcp, udp or sctp)"
            ),
            SpecError::InvalidIp { value, ip } => {
                write!(f, "-p {value:?}: {ip:?} is not an IP address")
            }
            SpecError::PortRangeMismatch { value } => write!(
                f,
                "-p {value:?}: the host and container port ranges differ in length"
            ),
            SpecError::InvalidMemory { value } => write!(
                f,
                "--memory {value:?}: expected a size such as 64m, 512k, 1.5g or 1073741824"
            ),
            SpecError::InvalidCpus { value } => {
                write!(f, "--cpus {value:?}: expected a positive number such as 1.5")
            }
            SpecError::CpusTooPrecise { value } => {
                write!(f, "--cpus {value:?}: at most nine decimals")
            }
            SpecError::Overflow { option, value } => {
                write!(f, "{option} {value:?}: the number is too large")
            }
            SpecError::NotPositive { option, value } => {
                write!(f, "{option}: {value} is not positive")
            }
            SpecError::InvalidRestartPolicy { value } => write!(
                f,
                "--restart {value:?}: expected no, always, unless-stopped or on-failure[:max-retries]"
            ),
            SpecError::UlimitFormat { value } => {
                write!(f, "--ulimit {value:?}: expected name=soft[:hard]")
            }
            SpecError::UnknownUlimit { name } => write!(f, "--ulimit: unknown limit {name:?}"),
            SpecError::UlimitSoftAboveHard { name, soft, hard } => write!(
                f,
                "--ulimit {name}: the soft limit {soft} is above the hard limit {hard}"
            ),
            SpecError::InvalidExtraHost { value } => write!(
                f,
                "--add-host {value:?}: expected host:ip (the ip may be host-gateway)"
            ),
            SpecError::InvalidHostname { value } => write!(
                f,
                "--hostname {value:?}: expected 1 to 63 letters, digits, '-' and '.'"
            ),
            SpecError::InvalidEnv { value } => {
                write!(f, "-e {value:?}: the variable name is empty or contains '='")
            }
            SpecError::InvalidLabel { key } => write!(f, "--label {key:?}: the key is empty"),
            SpecError::InvalidCapability { value } => write!(
                f,
                "--cap-add/--cap-drop {value:?}: expected ALL or a capability name such as NET_ADMIN"
            ),
            SpecError::RawNotObject { target } => {
                write!(f, "raw {target} JSON must be an object")
            }
            SpecError::RawHostConfigInConfig => f.write_str(
                "raw Config JSON sets HostConfig: give host settings with raw_host_config",
            ),
            SpecError::Conflict { option, other } => {
                write!(f, "{option} cannot be combined with {other}")
            }
        }
    }
}

impl std::error::Error for SpecError {}
