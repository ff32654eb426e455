//! The swarm itself: init, join, leave, inspect, and an engine's own
//! swarm state.

use super::error::{on_503, SwarmErrorKind};
use crate::docker::client::{parse_json, Docker};
use crate::docker::error::Result;
use crate::docker::http::Request;
use serde::{Deserialize, Serialize};

/// The body of `POST /swarm/init`.
///
/// ```
/// use stevedore::docker::swarm::SwarmInit;
/// let init = SwarmInit::new("127.0.0.1:2377", "127.0.0.1");
/// assert_eq!(init.listen_addr, "127.0.0.1:2377");
/// ```
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SwarmInit {
    /// Where the manager listens for other nodes (`addr:port`).
    pub listen_addr: String,
    /// The address other nodes are told to reach it at.
    pub advertise_addr: String,
    /// Start a new single-manager cluster from this node's state.
    pub force_new_cluster: bool,
}

impl SwarmInit {
    /// Listen on `listen_addr`, advertise `advertise_addr`.
    pub fn new(listen_addr: impl Into<String>, advertise_addr: impl Into<String>) -> SwarmInit {
        SwarmInit {
            listen_addr: listen_addr.into(),
            advertise_addr: advertise_addr.into(),
            force_new_cluster: false,
        }
    }
}

/// The body of `POST /swarm/join`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SwarmJoin {
    /// Where this node listens for the others (`addr:port`).
    pub listen_addr: String,
    /// The address the others are told to reach it at.
    pub advertise_addr: String,
    /// Managers to join through (`addr:port`).
    pub remote_addrs: Vec<String>,
    /// The worker or manager token ([`JoinTokens`]).
    pub join_token: String,
}

impl SwarmJoin {
    /// Join through `manager` with `token`, listening on `listen_addr`
    /// and advertising `advertise_addr`.
    pub fn new(
        listen_addr: impl Into<String>,
        advertise_addr: impl Into<String>,
        manager: impl Into<String>,
        token: impl Into<String>,
    ) -> SwarmJoin {
        SwarmJoin {
            listen_addr: listen_addr.into(),
            advertise_addr: advertise_addr.into(),
            remote_addrs: vec![manager.into()],
            join_token: token.into(),
        }
    }
}

/// `GET /swarm`: the cluster, as a manager sees it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SwarmInfo {
    /// The cluster id.
    #[serde(rename = "ID")]
    pub id: String,
    /// Tokens to join it.
    pub join_tokens: JoinTokens,
}

/// Join tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct JoinTokens {
    /// Joins as a worker.
    pub worker: String,
    /// Joins as a manager.
    pub manager: String,
}

/// An engine's own swarm state (`Swarm` of `GET /info`); any engine
/// answers it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SwarmStatus {
    /// Its node id (empty when not in a swarm).
    #[serde(rename = "NodeID", default)]
    pub node_id: String,
    /// Its address in the swarm.
    #[serde(default)]
    pub node_addr: String,
    /// `inactive`, `pending`, `active`, `error` or `locked`.
    #[serde(default)]
    pub local_node_state: String,
    /// It is a manager (it answers service and task calls).
    #[serde(default)]
    pub control_available: bool,
}

impl SwarmStatus {
    /// In a swarm (`LocalNodeState` is `active`).
    pub fn is_active(&self) -> bool {
        self.local_node_state == "active"
    }

    /// An active manager.
    pub fn is_manager(&self) -> bool {
        self.is_active() && self.control_available
    }
}

#[derive(Deserialize)]
struct InfoSwarm {
    #[serde(rename = "Swarm", default)]
    swarm: SwarmStatus,
}

impl Docker {
    /// Makes this engine the first manager of a new swarm; returns its node
    /// id.
    ///
    /// # Errors
    ///
    /// [`Error::Swarm`](crate::docker::Error::Swarm) with
    /// [`SwarmErrorKind::AlreadyInSwarm`]; `Error::Api` (400) for a bad
    /// address.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped call may still make the engine a manager
    /// (leave with [`swarm_leave`](Self::swarm_leave)).
    pub async fn swarm_init(&self, init: &SwarmInit) -> Result<String> {
        let body = serde_json::to_vec(init).expect("serialisable");
        let req = Request::new("POST", self.url("/swarm/init")).json(body);
        let what = req.what();
        let resp = self
            .call_ok(req)
            .await
            .map_err(on_503(SwarmErrorKind::AlreadyInSwarm))?;
        parse_json(&what, &resp.body)
    }

    /// Joins a swarm; returns once the engine is part of it.
    ///
    /// # Errors
    ///
    /// [`SwarmErrorKind::AlreadyInSwarm`]; `Error::Api` for a bad token or
    /// an unreachable manager.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped call may still join.
    pub async fn swarm_join(&self, join: &SwarmJoin) -> Result<()> {
        let body = serde_json::to_vec(join).expect("serialisable");
        let req = Request::new("POST", self.url("/swarm/join")).json(body);
        self.call_ok(req)
            .await
            .map(drop)
            .map_err(on_503(SwarmErrorKind::AlreadyInSwarm))
    }

    /// Leaves the swarm (`force` is needed for the last manager).
    ///
    /// # Errors
    ///
    /// [`SwarmErrorKind::NotInSwarm`]; `Error::Api` for a manager left
    /// without `force`.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped call may still leave.
    pub async fn swarm_leave(&self, force: bool) -> Result<()> {
        let path = format!("/swarm/leave?force={}", u8::from(force));
        self.call_ok(Request::new("POST", self.url(&path)))
            .await
            .map(drop)
            .map_err(on_503(SwarmErrorKind::NotInSwarm))
    }

    /// `GET /swarm`.
    ///
    /// # Errors
    ///
    /// [`SwarmErrorKind::NotManager`] on an engine that is not a manager.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn swarm_inspect(&self) -> Result<SwarmInfo> {
        self.get_json("/swarm")
            .await
            .map_err(on_503(SwarmErrorKind::NotManager))
    }

    /// This engine's swarm state (`GET /info`), on any engine.
    ///
    /// # Errors
    ///
    /// Connection and API errors.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn swarm_status(&self) -> Result<SwarmStatus> {
        let info: InfoSwarm = self.get_json("/info").await?;
        Ok(info.swarm)
    }
}
