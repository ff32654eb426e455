//! Docker Swarm: the calls a batch launcher needs to run its jobs as one
//! service on a swarm (one file per concept).
//!
//! * The cluster: [`Docker::swarm_init`](super::Docker::swarm_init), join, leave, inspect, and the
//!   engine's own swarm state ([`Docker::swarm_status`](super::Docker::swarm_status)).
//! * Nodes: [`Docker::nodes`](super::Docker::nodes).
//! * Services: [`ServiceSpec::replicated_job`] maps a [`ContainerSpec`]
//!   onto a `replicated-job` service; [`Docker::service_create`](super::Docker::service_create),
//!   [`Docker::service_inspect`](super::Docker::service_inspect), [`Docker::service_remove`](super::Docker::service_remove).
//! * Tasks: [`Docker::tasks`](super::Docker::tasks) / [`Docker::service_tasks`](super::Docker::service_tasks) with their
//!   states, exit codes (`Status.ContainerStatus`) and nodes.
//! * Logs: [`Docker::service_logs`](super::Docker::service_logs) and [`Docker::task_logs`](super::Docker::task_logs), the same
//!   multiplexed stream as container logs, demultiplexed into a
//!   [`LogStream`](super::LogStream).
//!
//! An engine that is not a manager (not in a swarm, or a worker) answers
//! 503; these calls turn it into [`Error::Swarm`] with a
//! [`SwarmErrorKind`] chosen by the call, never by the message's text.
//!
//! [`ContainerSpec`]: super::ContainerSpec
//! [`Error::Swarm`]: super::Error::Swarm
//! [`Docker`]: super::Docker

mod cluster;
mod error;
mod logs;
mod node;
mod service;
mod task;

pub use self::cluster::{JoinTokens, SwarmInfo, SwarmInit, SwarmJoin, SwarmStatus};
pub use self::error::SwarmErrorKind;
pub use self::node::{ManagerStatus, Node, NodeDescription, NodeSpec, NodeStatus};
pub use self::service::{
    CreatedService, ReplicatedJob, Service, ServiceMode, ServiceSpec, Unmapped,
};
pub use self::task::{ContainerStatus, Task, TaskState, TaskStatus};
