//! Typed views of the Engine API's JSON (as served by API 1.41). Fields the
//! daemon may omit or send as `null` default to empty.

use serde::{Deserialize, Deserializer};
use std::collections::HashMap;

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `GET /version`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct Version {
    /// Newest API version the daemon speaks.
    pub api_version: String,
    /// Oldest API version the daemon speaks.
    #[serde(rename = "MinAPIVersion")]
    pub min_api_version: String,
    /// Engine version.
    pub version: String,
    /// Operating system.
    pub os: String,
    /// CPU architecture.
    pub arch: String,
    /// Host kernel.
    pub kernel_version: String,
}

/// The reply to a create.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct CreatedContainer {
    /// The new container's id.
    pub id: String,
    /// Warnings from the daemon.
    #[serde(deserialize_with = "null_default")]
    pub warnings: Vec<String>,
}

/// `GET /containers/{id}/json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct ContainerInspect {
    /// Full id.
    pub id: String,
    /// Name, with a leading `/`.
    pub name: String,
    /// Image id.
    pub image: String,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Run state.
    pub state: ContainerState,
    /// Configuration.
    pub config: ContainerConfig,
}

/// The `State` of an inspected container.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct ContainerState {
    /// `created`, `running`, `exited`, …
    pub status: String,
    /// Running now (a paused container is running, and paused).
    pub running: bool,
    /// Frozen by a pause.
    pub paused: bool,
    /// Killed by the OOM killer.
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    /// Main process id (0 when not running).
    pub pid: i64,
    /// Exit code of the last run.
    pub exit_code: i64,
    /// Why a start failed, if it did.
    pub error: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
}

/// The `Config` of an inspected container.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct ContainerConfig {
    /// Image name as given at create.
    pub image: String,
    /// Command.
    #[serde(deserialize_with = "null_default")]
    pub cmd: Vec<String>,
    /// Environment (`K=V`).
    #[serde(deserialize_with = "null_default")]
    pub env: Vec<String>,
    /// Labels.
    #[serde(deserialize_with = "null_default")]
    pub labels: HashMap<String, String>,
    /// Allocated a TTY (output is raw, not multiplexed).
    pub tty: bool,
    /// Stdin kept open.
    pub open_stdin: bool,
}

/// An entry of `GET /containers/json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct ContainerSummary {
    /// Full id.
    pub id: String,
    /// Names, each with a leading `/`.
    #[serde(deserialize_with = "null_default")]
    pub names: Vec<String>,
    /// Image.
    pub image: String,
    /// `created`, `running`, `exited`, …
    pub state: String,
    /// Human-readable status.
    pub status: String,
    /// Labels.
    #[serde(deserialize_with = "null_default")]
    pub labels: HashMap<String, String>,
}

/// `GET /images/{name}/json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct ImageInspect {
    /// Image id (`sha256:…`).
    pub id: String,
    /// Tags.
    #[serde(deserialize_with = "null_default")]
    pub repo_tags: Vec<String>,
    /// Size in bytes.
    pub size: i64,
    /// Layers.
    #[serde(rename = "RootFS")]
    pub root_fs: RootFs,
}

/// The layers of an image.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct RootFs {
    /// Layer digests.
    #[serde(deserialize_with = "null_default")]
    pub layers: Vec<String>,
}

/// An entry of `GET /images/json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct ImageSummary {
    /// Image id.
    pub id: String,
    /// Tags.
    #[serde(deserialize_with = "null_default")]
    pub repo_tags: Vec<String>,
    /// Size in bytes.
    pub size: i64,
}

/// One event from `GET /events`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Event {
    /// `container`, `image`, `network`, …
    #[serde(rename = "Type")]
    pub kind: String,
    /// `create`, `start`, `die`, `destroy` (podman: `remove`), …
    #[serde(rename = "Action")]
    pub action: String,
    /// What it happened to.
    #[serde(rename = "Actor")]
    pub actor: Actor,
    /// Unix time, seconds.
    pub time: i64,
    /// Unix time, nanoseconds.
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

impl Event {
    /// Whether this event says a container is gone: dockerd calls it
    /// `destroy`, podman `remove`. (A filter on `event=destroy` alone sees
    /// nothing on podman: filter on both.)
    pub fn is_container_removal(&self) -> bool {
        self.kind == "container" && matches!(self.action.as_str(), "destroy" | "remove")
    }
}

/// The object of an [`Event`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Actor {
    /// Container or image id.
    #[serde(rename = "ID")]
    pub id: String,
    /// Name, labels, `exitCode`, …
    #[serde(rename = "Attributes", deserialize_with = "null_default")]
    pub attributes: HashMap<String, String>,
}

/// The reply to a prune.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct PruneReport {
    /// Removed containers (the daemon sends `null` for none).
    #[serde(deserialize_with = "null_default")]
    pub containers_deleted: Vec<String>,
    /// Bytes freed.
    pub space_reclaimed: u64,
}

/// How a container ended, as reported by `wait`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitExit {
    /// The exit code (137 after SIGKILL, …).
    pub status_code: i64,
    /// The daemon's error, if the wait itself failed.
    pub error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WaitBody {
    pub(crate) status_code: i64,
    #[serde(default)]
    pub(crate) error: Option<WaitError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WaitError {
    #[serde(default)]
    pub(crate) message: String,
}
