//! `run`: `docker run --rm` as one call.

use super::attach::AttachOptions;
use super::client::Docker;
use super::error::{Error, Result};
use super::filters::RemoveOptions;
use super::spec::ContainerSpec;
use crate::runtime::Handle;
use futures::future::Either;
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
    /// Reading the rest of the output after the exit.
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
            Some(_) => docker.remove_detached(&id),
            None => crate::docker::trace::cleanup_impossible("container", &id),
        }
    }
}

impl Docker {
    /// Runs a container to completion and removes it, like
    /// `docker run --rm`: create → attach → register the wait → start →
    /// wait while reading the output → remove.
    ///
    /// The output is read from an attach opened before the start, while
    /// the container runs, so all of it comes back, however large (the
    /// log driver's rotation does not apply); it is held in memory.
    ///
    /// # Errors
    ///
    /// Any error of the calls it makes; [`Error::Timeout`] if the output
    /// does not reach its end within the client's deadline after the exit
    /// (output is never silently cut short).
    ///
    /// # Cancel safety
    ///
    /// The container is always removed: on success, on any error after it
    /// was created, and if this future is dropped (by a detached cleanup
    /// task; a create or start abandoned mid-request is undone when the
    /// daemon answers it). `auto_remove` in the spec is ignored.
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
        let opts = AttachOptions {
            stdin: false,
            stdout: true,
            stderr: true,
            logs: false,
            tty: Some(tty),
        };
        let attached = self.attach(id, &opts).await?;
        let wait = self.start_watched_owned(id).await?;
        timings.start = t.elapsed();
        let t = Instant::now();
        let collect = attached.output.collect_output();
        futures::pin_mut!(collect);
        let (exit, output) = match futures::future::select(wait, collect).await {
            Either::Left((exit, collect)) => {
                timings.wait = t.elapsed();
                // The attach ends with the container: drain what is left.
                let t = Instant::now();
                let after = self.timeout();
                let output =
                    crate::time::timeout(after, collect)
                        .await
                        .map_err(|_| Error::Timeout {
                            what: format!("reading the output of {id} to its end"),
                            after,
                        });
                timings.logs = t.elapsed();
                (exit?, output??)
            }
            Either::Right((output, wait)) => {
                let output = output?;
                let exit = wait.await?;
                timings.wait = t.elapsed();
                (exit, output)
            }
        };
        Ok((exit.status_code, output.0, output.1))
    }
}
