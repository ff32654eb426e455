//! Tasks: a service's units of work, with their states, exit codes and
//! nodes.

use super::error::{on_503, SwarmErrorKind};
use crate::docker::client::Docker;
use crate::docker::containers::path_id;
use crate::docker::error::Result;
use crate::docker::filters::with_query;
use crate::docker::Filters;
use serde::Deserialize;

/// A task's state (`Status.State`, `DesiredState`), in the order a task
/// goes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TaskState {
    /// Created.
    New,
    /// Resources allocated.
    Allocated,
    /// Waiting for a node.
    Pending,
    /// Given to a node.
    Assigned,
    /// The node accepted it.
    Accepted,
    /// The node is preparing it (pulling, creating the container).
    Preparing,
    /// Its container exists.
    Ready,
    /// Its container is starting.
    Starting,
    /// Its container runs.
    Running,
    /// Its container exited 0.
    Complete,
    /// Shut down (by the orchestrator).
    Shutdown,
    /// Its container exited non-zero, or could not start.
    Failed,
    /// The node could not run it (a missing image, an invalid spec).
    Rejected,
    /// Marked for removal.
    Remove,
    /// Its node went away.
    Orphaned,
    /// A state this client does not know.
    #[serde(other)]
    Unknown,
}

impl TaskState {
    /// The task will not change any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::Complete
                | TaskState::Shutdown
                | TaskState::Failed
                | TaskState::Rejected
                | TaskState::Remove
                | TaskState::Orphaned
        )
    }
}

/// One task (`GET /tasks`), the parts a launcher reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Task {
    /// Its id.
    #[serde(rename = "ID")]
    pub id: String,
    /// Its service.
    #[serde(rename = "ServiceID", default)]
    pub service_id: String,
    /// The node it was given to (empty before).
    #[serde(rename = "NodeID", default)]
    pub node_id: String,
    /// Its slot (a job's tasks reuse slots).
    #[serde(default)]
    pub slot: u64,
    /// When it was created (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// Where it is.
    pub status: TaskStatus,
    /// Where the orchestrator wants it.
    pub desired_state: TaskState,
}

/// `Status` of a task.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct TaskStatus {
    /// When it reached `state` (RFC 3339).
    #[serde(default)]
    pub timestamp: String,
    /// Its state.
    pub state: TaskState,
    /// What the node said last.
    #[serde(default)]
    pub message: String,
    /// Why it failed or was rejected.
    #[serde(default)]
    pub err: Option<String>,
    /// Its container, once there is one.
    #[serde(default)]
    pub container_status: Option<ContainerStatus>,
}

/// `Status.ContainerStatus` of a task.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ContainerStatus {
    /// The container's id on its node.
    #[serde(rename = "ContainerID", default)]
    pub container_id: String,
    /// Its process id while it runs.
    #[serde(rename = "PID", default)]
    pub pid: i64,
    /// Its exit code, once it exited.
    #[serde(default)]
    pub exit_code: i64,
}

impl Task {
    /// The container's exit code, once the task ended with one.
    pub fn exit_code(&self) -> Option<i64> {
        match self.status.state {
            TaskState::Complete | TaskState::Failed => self
                .status
                .container_status
                .as_ref()
                .filter(|c| !c.container_id.is_empty())
                .map(|c| c.exit_code),
            _ => None,
        }
    }

    /// The container's id, once it has one.
    pub fn container_id(&self) -> Option<&str> {
        self.status
            .container_status
            .as_ref()
            .map(|c| c.container_id.as_str())
            .filter(|id| !id.is_empty())
    }
}

impl Docker {
    /// Lists tasks matching `filters` (`service`, `node`, `label`,
    /// `desired-state`, `id`, `name`).
    ///
    /// # Errors
    ///
    /// [`SwarmErrorKind::NotManager`]; a `service` filter naming no service
    /// is [`Error::NotFound`](crate::docker::Error::NotFound).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn tasks(&self, filters: &Filters) -> Result<Vec<Task>> {
        let path = with_query("/tasks".to_owned(), [filters.query()]);
        self.get_json(&path)
            .await
            .map_err(on_503(SwarmErrorKind::NotManager))
    }

    /// The tasks of one service (id or name).
    ///
    /// # Errors
    ///
    /// As [`tasks`](Self::tasks).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn service_tasks(&self, service: &str) -> Result<Vec<Task>> {
        self.tasks(&Filters::new().add("service", service)).await
    }

    /// `GET /tasks/{id}`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::docker::Error::NotFound),
    /// [`SwarmErrorKind::NotManager`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn task_inspect(&self, id: &str) -> Result<Task> {
        self.get_json(&format!("/tasks/{}", path_id(id)))
            .await
            .map_err(on_503(SwarmErrorKind::NotManager))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(state: &str, container: Option<(&str, i64)>) -> Task {
        let cs = container
            .map(|(id, code)| serde_json::json!({"ContainerID": id, "PID": 0, "ExitCode": code}));
        serde_json::from_value(serde_json::json!({
            "ID": "t1",
            "ServiceID": "s1",
            "NodeID": "n1",
            "CreatedAt": "2026-11-25T12:10:53.565954204Z",
            "Status": {
                "Timestamp": "2026-11-25T12:10:54Z",
                "State": state,
                "Message": "started",
                "ContainerStatus": cs,
            },
            "DesiredState": "shutdown",
        }))
        .unwrap()
    }

    #[test]
    fn exit_codes_come_from_ended_tasks_with_a_container() {
        assert_eq!(task("failed", Some(("c", 3))).exit_code(), Some(3));
        assert_eq!(task("complete", Some(("c", 0))).exit_code(), Some(0));
        // Running: the code is not an exit code yet.
        assert_eq!(task("running", Some(("c", 0))).exit_code(), None);
        // Rejected before a container existed.
        assert_eq!(task("rejected", None).exit_code(), None);
        assert_eq!(task("failed", Some(("", 0))).exit_code(), None);
        assert_eq!(task("failed", None).container_id(), None);
    }

    #[test]
    fn states_parse_order_and_end() {
        let t = task("a-state-from-the-future", None);
        assert_eq!(t.status.state, TaskState::Unknown);
        assert!(!TaskState::Unknown.is_terminal());
        assert!(TaskState::Running < TaskState::Complete);
        for s in [
            "complete", "failed", "rejected", "shutdown", "orphaned", "remove",
        ] {
            assert!(task(s, None).status.state.is_terminal(), "{s}");
        }
        for s in [
            "new",
            "pending",
            "assigned",
            "preparing",
            "ready",
            "starting",
            "running",
        ] {
            assert!(!task(s, None).status.state.is_terminal(), "{s}");
        }
    }

    #[test]
    fn garbage_is_a_parse_error_not_a_panic() {
        for body in ["", "{", "[1,2]", r#"{"ID":1}"#, r#"{"ID":"x","Status":{}}"#] {
            assert!(serde_json::from_str::<Task>(body).is_err(), "{body}");
        }
    }
}
