//! `run`: `docker run --rm` as one call.

use super::client::Docker;
use super::error::Result;
use super::filters::RemoveOptions;
use super::spec::ContainerSpec;
use crate::runtime::Handle;
use std::time::{Duration, Instant};

/// What a container did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunOutput {
    /// Its id (it has been removed).
    pub id: String,
    /// Exit code; non-zero is a result, not an error.
    pub exit_code: i64,
    /// Everything written to stdout (all output, with a TTY).
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
    /// How long each phase took.
    pub timings: RunTimings,
}

/// Per-phase durations of a [`Docker::run`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunTimings {
    /// `create`.
    pub create: Duration,
    /// Registering the wait, then `start`.
    pub start: Duration,
    /// From started to exited.
    pub wait: Duration,
    /// Collecting the output.
    pub logs: Duration,
    /// `remove`.
    pub remove: Duration,
    /// The whole run.
    pub total: Duration,
}

/// Removes a container when dropped armed — the cleanup of a run that was
/// cancelled (its future dropped) half-way. Runs as a detached task.
pub(crate) struct RemoveGuard {
    docker: Option<Docker>,
    id: String,
}

impl RemoveGuard {
    pub(crate) fn new(docker: Docker, id: String) -> RemoveGuard {
        RemoveGuard {
            docker: Some(docker),
            id,
        }
    }

    pub(crate) fn disarm(mut self) {
        self.docker = None;
    }
}

impl Drop for RemoveGuard {
    fn drop(&mut self) {
        let Some(docker) = self.docker.take() else {
            return;
        };
        let id = std::mem::take(&mut self.id);
        match Handle::try_current() {
            Some(h) => drop(h.spawn(async move {
                let opts = RemoveOptions {
                    force: true,
                    volumes: true,
                };
                let _ = docker.remove(&id, opts).await;
            })),
            None => eprintln!(
                "stevedore: cannot remove container {id}: no runtime to run the cleanup on"
            ),
        }
    }
}

impl Docker {
    /// Runs a container to completion and removes it, like
    /// `docker run --rm`: create → register the wait → start → wait →
    /// collect output → remove.
    ///
    /// The container is always removed: on success, on any error after it
    /// was created, and if this future is dropped (by a detached cleanup
    /// task). `auto_remove` in the spec is ignored, since the output is read
    /// after the exit.
    pub async fn run(&self, spec: &ContainerSpec) -> Result<RunOutput> {
        let total = Instant::now();
        let owned;
        let spec = if spec.is_auto_remove() {
            owned = spec.clone().auto_remove(false);
            &owned
        } else {
            spec
        };
        let mut timings = RunTimings::default();
        let t = Instant::now();
        let created = self.create(spec).await?;
        timings.create = t.elapsed();
        let id = created.id;
        let guard = RemoveGuard::new(self.clone(), id.clone());

        let result = self.run_created(&id, spec.is_tty(), &mut timings).await;
        let t = Instant::now();
        let removed = self
            .remove(
                &id,
                RemoveOptions {
                    force: true,
                    volumes: true,
                },
            )
            .await;
        timings.remove = t.elapsed();
        match &removed {
            Ok(()) => guard.disarm(),
            Err(e) if e.is_not_found() => guard.disarm(),
            Err(_) => drop(guard), // retried in the background
        }
        let (exit_code, stdout, stderr) = result?;
        removed?;
        timings.total = total.elapsed();
        Ok(RunOutput {
            id,
            exit_code,
            stdout,
            stderr,
            timings,
        })
    }

    async fn run_created(
        &self,
        id: &str,
        tty: bool,
        timings: &mut RunTimings,
    ) -> Result<(i64, Vec<u8>, Vec<u8>)> {
        let t = Instant::now();
        let wait = self.start_watched(id).await?;
        timings.start = t.elapsed();
        let t = Instant::now();
        let exit = wait.await?;
        timings.wait = t.elapsed();
        let t = Instant::now();
        let (stdout, stderr) = self.output(id, Some(tty)).await?;
        timings.logs = t.elapsed();
        Ok((exit.status_code, stdout, stderr))
    }
}
