//! Nodes of a swarm.

use super::error::{on_503, SwarmErrorKind};
use crate::docker::client::Docker;
use crate::docker::error::Result;
use serde::Deserialize;

/// One node (`GET /nodes`), the parts a launcher reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Node {
    /// Its id (tasks name it in [`Task::node_id`](super::Task::node_id)).
    #[serde(rename = "ID")]
    pub id: String,
    /// What it is.
    #[serde(default)]
    pub description: NodeDescription,
    /// Its role and availability.
    #[serde(default)]
    pub spec: NodeSpec,
    /// Whether it is up.
    #[serde(default)]
    pub status: NodeStatus,
    /// Present on managers.
    #[serde(default)]
    pub manager_status: Option<ManagerStatus>,
}

/// `Description` of a node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct NodeDescription {
    /// Its host name.
    #[serde(default)]
    pub hostname: String,
}

/// `Spec` of a node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct NodeSpec {
    /// `worker` or `manager`.
    #[serde(default)]
    pub role: String,
    /// `active`, `pause` or `drain`.
    #[serde(default)]
    pub availability: String,
}

/// `Status` of a node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct NodeStatus {
    /// `unknown`, `down`, `ready` or `disconnected`.
    #[serde(default)]
    pub state: String,
    /// Its address as the managers see it.
    #[serde(default)]
    pub addr: String,
}

/// `ManagerStatus` of a manager node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ManagerStatus {
    /// It leads the raft group.
    #[serde(default)]
    pub leader: bool,
    /// `reachable`, `unreachable` or `unknown`.
    #[serde(default)]
    pub reachability: String,
    /// Its raft address.
    #[serde(default)]
    pub addr: String,
}

impl Docker {
    /// Lists the swarm's nodes.
    ///
    /// # Errors
    ///
    /// [`SwarmErrorKind::NotManager`] on an engine that is not a manager.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn nodes(&self) -> Result<Vec<Node>> {
        self.get_json("/nodes")
            .await
            .map_err(on_503(SwarmErrorKind::NotManager))
    }
}
