//! Service and task logs: the multiplexed stream of container logs, read
//! through a manager from whichever node ran the task.

use super::error::{on_503, SwarmErrorKind};
use crate::docker::client::Docker;
use crate::docker::containers::path_id;
use crate::docker::error::Result;
use crate::docker::filters::with_query;
use crate::docker::http::Request;
use crate::docker::logs::{LogStream, Source};
use crate::docker::LogsOptions;

impl Docker {
    /// Streams the output of every task of a service (id or name),
    /// demultiplexed like [`Docker::logs`]. `opts.tty: None` reads the
    /// service's spec (one inspect).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::docker::Error::NotFound),
    /// [`SwarmErrorKind::NotManager`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the call or the stream closes its connection.
    pub async fn service_logs(&self, service: &str, opts: &LogsOptions) -> Result<LogStream> {
        let tty = match opts.tty {
            Some(t) => t,
            None => {
                let raw: serde_json::Value = self
                    .get_json(&format!("/services/{}", path_id(service)))
                    .await
                    .map_err(on_503(SwarmErrorKind::NotManager))?;
                raw.pointer("/Spec/TaskTemplate/ContainerSpec/TTY")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false)
            }
        };
        self.swarm_logs(&format!("/services/{}/logs", path_id(service)), opts, tty)
            .await
    }

    /// Streams the output of one task, from whichever node ran it.
    /// `opts.tty: None` reads the task's spec (one inspect).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::docker::Error::NotFound),
    /// [`SwarmErrorKind::NotManager`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the call or the stream closes its connection.
    pub async fn task_logs(&self, task: &str, opts: &LogsOptions) -> Result<LogStream> {
        let tty = match opts.tty {
            Some(t) => t,
            None => {
                let raw: serde_json::Value = self
                    .get_json(&format!("/tasks/{}", path_id(task)))
                    .await
                    .map_err(on_503(SwarmErrorKind::NotManager))?;
                raw.pointer("/Spec/ContainerSpec/TTY")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false)
            }
        };
        self.swarm_logs(&format!("/tasks/{}/logs", path_id(task)), opts, tty)
            .await
    }

    async fn swarm_logs(&self, path: &str, opts: &LogsOptions, tty: bool) -> Result<LogStream> {
        let path = with_query(
            path.to_owned(),
            [
                Some(format!("stdout={}", u8::from(opts.stdout))),
                Some(format!("stderr={}", u8::from(opts.stderr))),
                opts.follow.then(|| "follow=1".to_owned()),
                opts.timestamps.then(|| "timestamps=1".to_owned()),
                opts.tail.map(|n| format!("tail={n}")),
                opts.since.map(|s| format!("since={s}")),
            ],
        );
        let s = self
            .stream(Request::new("GET", self.url(&path)))
            .await
            .map_err(on_503(SwarmErrorKind::NotManager))?;
        Ok(LogStream::new(Source::Http(s), tty, Vec::new()))
    }
}
