//! Services: a [`ContainerSpec`] as a `replicated-job` service, and
//! create / inspect / remove.
//!
//! **What maps.** The image, command (`Args`), entrypoint (`Command`),
//! environment, labels (on every task's container), working directory,
//! user, TTY, `OpenStdin`, the stop timeout (`StopGracePeriod`), the memory
//! and CPU limits (`Resources.Limits`), and a network mode other than
//! `none`/`default` (a network attachment by name: it must be a
//! swarm-scoped network, or the engine refuses the service).
//!
//! **What does not** ([`Unmapped`]): the container name (the swarm names
//! each task's container `<service>.<slot>.<task id>`), and `auto_remove`
//! (the swarm keeps a finished task's container; `docker service rm`
//! leaves it behind, so whoever runs the service removes them).

use super::error::{on_503, SwarmErrorKind};
use crate::docker::client::{parse_json, Docker, Undo};
use crate::docker::containers::path_id;
use crate::docker::error::Result;
use crate::docker::http::Request;
use crate::docker::reference::ImageRef;
use crate::docker::ContainerSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A field of a [`ContainerSpec`] a service cannot carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unmapped {
    /// The container name: the swarm names task containers itself.
    Name,
    /// `auto_remove`: the swarm keeps finished task containers.
    AutoRemove,
    /// Host options other than memory, CPUs and the network (mounts,
    /// published ports, restart policy, capabilities, ulimits, extra
    /// hosts, init, a read-only root, raw `HostConfig` patches): a service
    /// takes these in forms of its own, which this mapping does not fill.
    HostOptions,
    /// Container options a service has no field for here (hostname,
    /// exposed ports, raw `Config` patches beyond the mapped keys).
    ConfigOptions,
}

/// `Config` keys [`ServiceSpec::replicated_job`] carries over (or that
/// only concern attaching to one container, which a service never does).
const MAPPED_CONFIG: &[&str] = &[
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
    "StdinOnce",
    "Image",
    "Cmd",
    "Entrypoint",
    "Env",
    "Labels",
    "WorkingDir",
    "User",
    "Tty",
    "OpenStdin",
    "StopTimeout",
    "HostConfig",
];

/// `HostConfig` keys it carries over (`AutoRemove` is reported apart).
const MAPPED_HOST: &[&str] = &["Memory", "NanoCpus", "NetworkMode", "AutoRemove"];

/// True for a value that sets nothing (`null`, `false`, `0`, `""`, `[]`, `{}`).
fn is_unset(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Bool(b) => !b,
        serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
    }
}

/// How a service runs its tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ServiceMode {
    /// `replicas` tasks kept running.
    Replicated {
        /// How many.
        #[serde(rename = "Replicas", default)]
        replicas: u64,
    },
    /// One task per node, kept running.
    Global {},
    /// Run tasks to completion, some at a time.
    ReplicatedJob(ReplicatedJob),
    /// One task per node, run to completion.
    GlobalJob {},
}

/// `Mode.ReplicatedJob`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(rename_all = "PascalCase")]
pub struct ReplicatedJob {
    /// Tasks running at once.
    pub max_concurrent: u64,
    /// Tasks to complete successfully.
    pub total_completions: u64,
}

/// A service to create (`POST /services/create`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceSpec {
    name: String,
    labels: BTreeMap<String, String>,
    task_template: TaskTemplate,
    mode: ServiceMode,
    #[serde(skip)]
    unmapped: Vec<Unmapped>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TaskTemplate {
    container_spec: SwarmContainerSpec,
    #[serde(skip_serializing_if = "Limits::is_empty")]
    resources: Limits,
    restart_policy: RestartPolicy,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    networks: Vec<NetworkAttachment>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct SwarmContainerSpec {
    image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env: Vec<String>,
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(rename = "TTY")]
    tty: bool,
    open_stdin: bool,
    /// Nanoseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_grace_period: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize)]
struct Limits {
    #[serde(rename = "Limits")]
    limits: LimitValues,
}

#[derive(Debug, Clone, Default, Serialize)]
struct LimitValues {
    #[serde(rename = "MemoryBytes", skip_serializing_if = "Option::is_none")]
    memory_bytes: Option<i64>,
    #[serde(rename = "NanoCPUs", skip_serializing_if = "Option::is_none")]
    nano_cpus: Option<i64>,
}

impl Limits {
    fn is_empty(&self) -> bool {
        self.limits.memory_bytes.is_none() && self.limits.nano_cpus.is_none()
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RestartPolicy {
    condition: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct NetworkAttachment {
    target: String,
}

fn strings(v: Option<&serde_json::Value>) -> Option<Vec<String>> {
    v?.as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_owned))
        .collect()
}

impl ServiceSpec {
    /// A `replicated-job` service named `name` running `spec`:
    /// `total_completions` tasks, at most `max_concurrent` at once, restart
    /// condition `none`. See the module docs for what maps.
    ///
    /// The swarm (dockerd 20.10 here) starts a failed task again despite
    /// the restart condition `none`, and counts only successful tasks
    /// towards `total_completions`: a job that keeps failing never
    /// completes on its own. The launcher counts ended tasks itself and
    /// removes the service once it has seen enough.
    ///
    /// # Errors
    ///
    /// The spec's first [`SpecError`](crate::docker::SpecError), as
    /// [`ContainerSpec::validate`].
    pub fn replicated_job(
        name: impl Into<String>,
        spec: &ContainerSpec,
        max_concurrent: u64,
        total_completions: u64,
    ) -> Result<ServiceSpec, crate::docker::SpecError> {
        let json = spec.create_body()?;
        let str_of = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let host = json.get("HostConfig");
        let host_i64 = |k: &str| host.and_then(|h| h.get(k)).and_then(|v| v.as_i64());
        let network = host
            .and_then(|h| h.get("NetworkMode"))
            .and_then(|v| v.as_str())
            .filter(|m| !matches!(*m, "none" | "default" | ""));
        let mut unmapped = Vec::new();
        if spec.get_name().is_some() {
            unmapped.push(Unmapped::Name);
        }
        if spec.is_auto_remove() {
            unmapped.push(Unmapped::AutoRemove);
        }
        let set_beyond = |obj: Option<&serde_json::Value>, mapped: &[&str]| {
            obj.and_then(|o| o.as_object()).is_some_and(|o| {
                o.iter()
                    .any(|(k, v)| !mapped.contains(&k.as_str()) && !is_unset(v))
            })
        };
        if set_beyond(host, MAPPED_HOST) {
            unmapped.push(Unmapped::HostOptions);
        }
        if set_beyond(Some(&json), MAPPED_CONFIG) {
            unmapped.push(Unmapped::ConfigOptions);
        }
        Ok(ServiceSpec {
            name: name.into(),
            labels: BTreeMap::new(),
            task_template: TaskTemplate {
                container_spec: SwarmContainerSpec {
                    image: spec.image().to_owned(),
                    command: strings(json.get("Entrypoint")),
                    args: strings(json.get("Cmd")),
                    env: strings(json.get("Env")).unwrap_or_default(),
                    labels: spec.labels().clone(),
                    dir: str_of("WorkingDir"),
                    user: str_of("User"),
                    tty: spec.is_tty(),
                    open_stdin: json.get("OpenStdin").and_then(|v| v.as_bool()) == Some(true),
                    stop_grace_period: json
                        .get("StopTimeout")
                        .and_then(|v| v.as_i64())
                        .map(|s| s.saturating_mul(1_000_000_000)),
                },
                resources: Limits {
                    limits: LimitValues {
                        memory_bytes: host_i64("Memory"),
                        nano_cpus: host_i64("NanoCpus"),
                    },
                },
                restart_policy: RestartPolicy { condition: "none" },
                networks: network
                    .map(|n| NetworkAttachment {
                        target: n.to_owned(),
                    })
                    .into_iter()
                    .collect(),
            },
            mode: ServiceMode::ReplicatedJob(ReplicatedJob {
                max_concurrent,
                total_completions,
            }),
            unmapped,
        })
    }

    /// Adds a label to the service itself (the container spec's labels go
    /// on each task's container).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// The service name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The image.
    pub fn image(&self) -> &str {
        &self.task_template.container_spec.image
    }

    /// Whether the tasks have a TTY (their logs are then raw).
    pub fn is_tty(&self) -> bool {
        self.task_template.container_spec.tty
    }

    /// The mode.
    pub fn mode(&self) -> &ServiceMode {
        &self.mode
    }

    /// What of the container spec was dropped.
    pub fn unmapped(&self) -> &[Unmapped] {
        &self.unmapped
    }

    /// The request body.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("serialisable")
    }
}

/// The reply to a service create.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct CreatedService {
    /// Its id.
    #[serde(rename = "ID")]
    pub id: String,
    /// The engine's warnings (an image it cannot resolve on a registry).
    #[serde(rename = "Warnings", default)]
    pub warnings: Option<Vec<String>>,
}

/// `GET /services/{id}`, the parts a launcher reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Service {
    /// Its id.
    #[serde(rename = "ID")]
    pub id: String,
    /// Its spec.
    pub spec: ServiceSpecInfo,
}

/// The spec of an existing service, the parts a launcher reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ServiceSpecInfo {
    /// Its name.
    pub name: String,
    /// Its labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Its mode.
    pub mode: ServiceMode,
}

impl Docker {
    /// Creates a service; returns its id.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`](crate::docker::Error::InvalidReference) for a malformed image (nothing sent),
    /// [`Error::Conflict`](crate::docker::Error::Conflict) for a name in use, `Error::Api` (400) for a spec
    /// the engine refuses, [`SwarmErrorKind::NotManager`].
    ///
    /// # Cancel safety
    ///
    /// A call dropped after its request was sent leaves the service to an
    /// undertaker that removes it, by name, once the engine answers (see
    /// [`Docker::settle`]): a create either returns the service or leaves
    /// none.
    pub async fn service_create(&self, spec: &ServiceSpec) -> Result<CreatedService> {
        ImageRef::parse(spec.image())?;
        let body = serde_json::to_vec(spec).expect("serialisable");
        let req = Request::new("POST", self.url("/services/create")).json(body);
        let what = req.what();
        let resp = self
            .call_ok_with(req, Undo::RemoveService(spec.name.clone()))
            .await
            .map_err(on_503(SwarmErrorKind::NotManager))?;
        parse_json(&what, &resp.body)
    }

    /// `GET /services/{id}` (id or name).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::docker::Error::NotFound), [`SwarmErrorKind::NotManager`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn service_inspect(&self, id: &str) -> Result<Service> {
        self.get_json(&format!("/services/{}", path_id(id)))
            .await
            .map_err(on_503(SwarmErrorKind::NotManager))
    }

    /// Removes a service (id or name); its running tasks are shut down,
    /// and the containers of its tasks are left on their nodes.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::docker::Error::NotFound), [`SwarmErrorKind::NotManager`].
    ///
    /// # Cancel safety
    ///
    /// A dropped call may still remove the service; call it again (a 404
    /// means it is gone).
    pub async fn service_remove(&self, id: &str) -> Result<()> {
        let req = Request::new("DELETE", self.url(&format!("/services/{}", path_id(id))));
        self.call_ok(req)
            .await
            .map(drop)
            .map_err(on_503(SwarmErrorKind::NotManager))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_spec_maps_onto_a_replicated_job() {
        let spec = ContainerSpec::new("busybox:1")
            .entrypoint(["/bin/sh", "-c"])
            .cmd(["echo hi"])
            .env("A", "1")
            .label("team", "infra")
            .working_dir("/tmp")
            .user("1000")
            .memory(64 << 20)
            .nano_cpus(500_000_000)
            .stop_timeout(3)
            .network_mode("overlay-net");
        let s = ServiceSpec::replicated_job("job", &spec, 4, 100)
            .unwrap()
            .label("batch", "b1");
        assert!(s.unmapped().is_empty());
        let j = s.to_json();
        assert_eq!(j["Name"], "job");
        assert_eq!(j["Labels"]["batch"], "b1");
        assert_eq!(
            j["Mode"]["ReplicatedJob"],
            serde_json::json!({"MaxConcurrent": 4, "TotalCompletions": 100})
        );
        let t = &j["TaskTemplate"];
        assert_eq!(t["RestartPolicy"]["Condition"], "none");
        let c = &t["ContainerSpec"];
        assert_eq!(c["Image"], "busybox:1");
        assert_eq!(c["Command"], serde_json::json!(["/bin/sh", "-c"]));
        assert_eq!(c["Args"], serde_json::json!(["echo hi"]));
        assert_eq!(c["Env"], serde_json::json!(["A=1"]));
        assert_eq!(c["Labels"]["team"], "infra");
        assert_eq!(c["Dir"], "/tmp");
        assert_eq!(c["User"], "1000");
        assert_eq!(c["StopGracePeriod"], 3_000_000_000i64);
        assert_eq!(t["Resources"]["Limits"]["MemoryBytes"], 64 << 20);
        assert_eq!(t["Resources"]["Limits"]["NanoCPUs"], 500_000_000);
        assert_eq!(
            t["Networks"],
            serde_json::json!([{"Target": "overlay-net"}])
        );
    }

    #[test]
    fn what_does_not_map_is_named_and_left_out() {
        let spec = ContainerSpec::new("busybox:1")
            .name("fixed")
            .auto_remove(true)
            .network_mode("none");
        let s = ServiceSpec::replicated_job("job", &spec, 1, 1).unwrap();
        assert_eq!(s.unmapped(), &[Unmapped::Name, Unmapped::AutoRemove]);
        let more = ContainerSpec::new("busybox:1")
            .hostname("h")
            .read_only_rootfs(true);
        let m = ServiceSpec::replicated_job("job", &more, 1, 1).unwrap();
        assert_eq!(
            m.unmapped(),
            &[Unmapped::HostOptions, Unmapped::ConfigOptions]
        );
        let j = s.to_json();
        let t = &j["TaskTemplate"];
        assert!(t.get("Networks").is_none());
        assert!(t.get("Resources").is_none());
        assert!(t["ContainerSpec"].get("Args").is_none());
        assert!(!j.to_string().contains("fixed"));
    }

    #[test]
    fn modes_of_existing_services_parse() {
        for (json, mode) in [
            (
                r#"{"Replicated":{"Replicas":3}}"#,
                ServiceMode::Replicated { replicas: 3 },
            ),
            (r#"{"Global":{}}"#, ServiceMode::Global {}),
            (
                r#"{"ReplicatedJob":{"MaxConcurrent":2,"TotalCompletions":5}}"#,
                ServiceMode::ReplicatedJob(ReplicatedJob {
                    max_concurrent: 2,
                    total_completions: 5,
                }),
            ),
            (r#"{"GlobalJob":{}}"#, ServiceMode::GlobalJob {}),
        ] {
            assert_eq!(serde_json::from_str::<ServiceMode>(json).unwrap(), mode);
        }
    }
}
