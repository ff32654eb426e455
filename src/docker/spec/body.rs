//! The `POST /containers/create` body as typed serde structs: the Engine
//! API's `Config` with its `HostConfig` inside.

use super::policy::RestartPolicyBody;
use super::resources::Ulimit;
use serde::Serialize;
use std::collections::BTreeMap;

/// `{}`, the value type of the API's port and volume sets.
#[derive(Debug, Serialize)]
pub(super) struct Empty {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateBody<'a> {
    pub(super) image: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cmd: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) entrypoint: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) env: Vec<String>,
    pub(super) labels: &'a BTreeMap<String, String>,
    pub(super) tty: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) open_stdin: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) stdin_once: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) attach_stdin: bool,
    pub(super) attach_stdout: bool,
    pub(super) attach_stderr: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) stop_timeout: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) working_dir: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) hostname: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) exposed_ports: BTreeMap<String, Empty>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) volumes: BTreeMap<&'a str, Empty>,
    pub(super) host_config: HostConfig<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct HostConfig<'a> {
    pub(super) auto_remove: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) memory: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) nano_cpus: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) network_mode: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) binds: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) port_bindings: BTreeMap<String, Vec<HostPort>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) restart_policy: Option<RestartPolicyBody>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) readonly_rootfs: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) cap_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) cap_drop: Vec<String>,
    #[serde(skip_serializing_if = "is_empty_slice")]
    pub(super) ulimits: &'a [Ulimit],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) extra_hosts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) init: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct HostPort {
    pub(super) host_ip: String,
    pub(super) host_port: String,
}

fn is_empty_slice<T>(s: &&[T]) -> bool {
    s.is_empty()
}
