//! Container lifecycle calls.

use super::client::{parse_json, Docker, Streaming, Undo};
use super::error::{Error, Result};
use super::filters::{with_query, ListOptions, RemoveOptions};
use super::http::{encode_query, Request};
use super::models::{
    ContainerInspect, ContainerSummary, CreatedContainer, PruneReport, WaitBody, WaitExit,
};
use super::reference::ImageRef;
use super::spec::ContainerSpec;
use super::Filters;
use futures::future::Either;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// What `wait` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    /// The container is not running (returns at once for a created one:
    /// never use it before `start`).
    NotRunning,
    /// The next exit after the wait was registered — register before
    /// `start` so a fast exit is never missed.
    NextExit,
    /// The container was removed (with `auto_remove`).
    Removed,
}

/// How long a Podman `next-exit` answer may trail its `removed` answer.
const PODMAN_EXIT_GRACE: Duration = Duration::from_secs(1);

/// Reads a wait response: `{"StatusCode":…,"Error":…}` once the condition
/// is met.
async fn wait_body(mut s: Streaming) -> Result<WaitExit> {
    let mut body = Vec::new();
    while let Some(piece) = s.next().await? {
        body.extend_from_slice(&piece);
        if body.len() > 64 * 1024 {
            return Err(Error::Protocol(format!(
                "{}: oversized wait response",
                s.what
            )));
        }
    }
    let parsed: WaitBody = serde_json::from_slice(&body).map_err(|_| {
        let shown = String::from_utf8_lossy(&body[..body.len().min(2048)]).into_owned();
        Error::Protocol(format!("{}: wait response is not JSON: {shown:?}", s.what))
    })?;
    Ok(WaitExit {
        status_code: parsed.status_code,
        error: parsed.error.map(|e| e.message).filter(|m| !m.is_empty()),
    })
}

impl WaitCondition {
    fn as_str(self) -> &'static str {
        match self {
            WaitCondition::NotRunning => "not-running",
            WaitCondition::NextExit => "next-exit",
            WaitCondition::Removed => "removed",
        }
    }
}

/// Outcome of [`Docker::start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// It was started.
    Started,
    /// It was already running (304).
    AlreadyRunning,
}

/// Outcome of [`Docker::stop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It was stopped.
    Stopped,
    /// It was not running (304).
    AlreadyStopped,
}

/// A wait the daemon has registered (its response head arrived). Await it
/// for the exit; dropping it cancels the wait.
#[must_use = "a registered wait does nothing unless awaited"]
pub struct Wait {
    fut: Pin<Box<dyn Future<Output = Result<WaitExit>> + Send>>,
}

impl Future for Wait {
    type Output = Result<WaitExit>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<WaitExit>> {
        self.fut.as_mut().poll(cx)
    }
}

impl fmt::Debug for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Wait")
    }
}

pub(crate) fn path_id(id: &str) -> String {
    encode_query(id)
}

impl Docker {
    /// `GET /_ping`: the engine is up and answering.
    ///
    /// # Errors
    ///
    /// Only the [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn ping(&self) -> Result<()> {
        self.call_ok(Request::new("GET", self.url("/_ping")))
            .await
            .map(drop)
    }

    /// `GET /version`: the engine's version and API versions.
    ///
    /// # Errors
    ///
    /// Only the [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn version(&self) -> Result<super::models::Version> {
        self.get_json("/version").await
    }

    /// Creates a container.
    ///
    /// # Errors
    ///
    /// A missing image (or network) is [`Error::NotFound`], a name in use
    /// [`Error::Conflict`], an invalid option `Error::Api` with status 400,
    /// an empty or malformed image reference [`Error::InvalidReference`]
    /// (nothing is sent).
    ///
    /// # Cancel safety
    ///
    /// If the call is dropped or times out after the request was sent, the
    /// container the daemon may still create is force-removed once its
    /// reply arrives (see [`Docker::settle`]): a create either returns the
    /// container or leaves none.
    pub async fn create(&self, spec: &ContainerSpec) -> Result<CreatedContainer> {
        ImageRef::parse(spec.image())?;
        let path = with_query(
            "/containers/create".to_owned(),
            [spec.get_name().map(|n| format!("name={}", encode_query(n)))],
        );
        let body = serde_json::to_vec(&spec.to_json()).expect("serialisable");
        let req = Request::new("POST", self.url(&path)).json(body);
        let what = req.what();
        let resp = self.call_ok_with(req, Undo::RemoveCreated).await?;
        parse_json(&what, &resp.body)
    }

    /// Starts a container; starting a running one is not an error
    /// ([`Started::AlreadyRunning`]).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a missing container, `Error::Api` (500)
    /// when the container cannot run (its command does not exist, a mount
    /// source is missing), and the [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropped after its request was written, the start
    /// may still happen (see [the module docs](crate::docker#cancel-safety)).
    /// [`Docker::run`] and the launcher remove the container in that case.
    pub async fn start(&self, id: &str) -> Result<Started> {
        self.start_with(id, Undo::Nothing).await
    }

    /// [`start`](Self::start) with an undo for when it is abandoned (the
    /// launcher and `run` force-remove a container whose start they gave
    /// up on, so a late start on a resumed daemon is harmless).
    pub(crate) async fn start_with(&self, id: &str, undo: Undo) -> Result<Started> {
        let req = Request::new(
            "POST",
            self.url(&format!("/containers/{}/start", path_id(id))),
        );
        let resp = self.call_ok_with(req, undo).await?;
        Ok(if resp.status == 304 {
            Started::AlreadyRunning
        } else {
            Started::Started
        })
    }

    /// Registers a wait and returns once the daemon has acknowledged it
    /// (sent its 200 head), before the container exits. `docker run` does
    /// this before `start`, so a container that exits at once is not missed.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a missing container, and the
    /// [common errors](crate::docker#errors); the returned [`Wait`] fails
    /// the same ways if its connection breaks.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping this future, or the [`Wait`], closes the
    /// wait's connection and changes nothing on the engine.
    pub async fn wait_registered(&self, id: &str, condition: WaitCondition) -> Result<Wait> {
        let path = format!(
            "/containers/{}/wait?condition={}",
            path_id(id),
            condition.as_str()
        );
        let s = self.stream(Request::new("POST", self.url(&path))).await?;
        if condition != WaitCondition::Removed || !s.podman {
            return Ok(Wait {
                fut: Box::pin(wait_body(s)),
            });
        }
        // Podman's `removed` wait answers 0 whatever the exit code: take the
        // code from a `next-exit` wait registered alongside (also before
        // start), and the completion from the `removed` one. A container
        // removed without exiting again leaves the `next-exit` wait open
        // forever: once removed, an exit answer not in within
        // `PODMAN_EXIT_GRACE` (it is sent before the removal, on another
        // connection) is not coming, and podman's own answer stands.
        let path = format!("/containers/{}/wait?condition=next-exit", path_id(id));
        let exit = self.stream(Request::new("POST", self.url(&path))).await?;
        Ok(Wait {
            fut: Box::pin(async move {
                let exit = Box::pin(wait_body(exit));
                let removed = Box::pin(wait_body(s));
                match futures::future::select(exit, removed).await {
                    Either::Left((Ok(exit), removed)) => removed.await.map(|_| exit),
                    Either::Left((Err(_), removed)) => removed.await,
                    Either::Right((removed, exit)) => {
                        let removed = removed?;
                        match crate::time::timeout(PODMAN_EXIT_GRACE, exit).await {
                            Ok(Ok(exit)) => Ok(exit),
                            _ => Ok(removed),
                        }
                    }
                }
            }),
        })
    }

    /// Starts a container with its exit already watched: registers a
    /// [`WaitCondition::NextExit`] wait, then starts it, and returns the
    /// wait. However fast the container exits, the wait sees it.
    ///
    /// # Errors
    ///
    /// Those of [`wait_registered`](Self::wait_registered) and
    /// [`start`](Self::start).
    ///
    /// # Cancel safety
    ///
    /// As [`start`](Self::start): dropped during the start, the container
    /// may still start.
    pub async fn start_watched(&self, id: &str) -> Result<Wait> {
        let wait = self.wait_registered(id, WaitCondition::NextExit).await?;
        self.start(id).await?;
        Ok(wait)
    }

    /// [`start_watched`](Self::start_watched) for a container the caller
    /// owns: if the start is abandoned, the container is force-removed
    /// once the daemon answers it.
    pub(crate) async fn start_watched_owned(&self, id: &str) -> Result<Wait> {
        let wait = self.wait_registered(id, WaitCondition::NextExit).await?;
        self.start_with(id, Undo::Remove(id.to_owned())).await?;
        Ok(wait)
    }

    /// Waits for `condition` (no deadline; dropping the future cancels it).
    /// A non-zero exit code is a result, not an error.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a missing container, and the
    /// [common errors](crate::docker#errors) (no [`Error::Timeout`] once
    /// the daemon acknowledged the wait).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn wait(&self, id: &str, condition: WaitCondition) -> Result<WaitExit> {
        self.wait_registered(id, condition).await?.await
    }

    /// Stops a container: SIGTERM, then SIGKILL after `grace` (the
    /// container's own stop timeout if `None`). The deadline is extended by
    /// the grace period.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a missing container, and the
    /// [common errors](crate::docker#errors). Stopping a stopped
    /// container is [`Stopped::AlreadyStopped`], not an error.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropped after its request was written, the stop
    /// still runs on the daemon.
    pub async fn stop(&self, id: &str, grace: Option<Duration>) -> Result<Stopped> {
        let path = with_query(
            format!("/containers/{}/stop", path_id(id)),
            [grace.map(|g| format!("t={}", g.as_secs()))],
        );
        let req = Request::new("POST", self.url(&path));
        let extra = grace.unwrap_or(Duration::from_secs(10));
        let resp = crate::time::timeout(self.timeout() + extra, self.call_ok(req)).await;
        let resp = resp.map_err(|_| Error::Timeout {
            what: format!("stopping {id}"),
            after: self.timeout() + extra,
        })??;
        Ok(if resp.status == 304 {
            Stopped::AlreadyStopped
        } else {
            Stopped::Stopped
        })
    }

    /// Freezes every process of a running container (`POST
    /// /containers/{id}/pause`): it hangs until
    /// [`unpause`](Self::unpause)d, or is removed with `force`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a missing container, [`Error::Conflict`]
    /// for one that is not running or already paused.
    ///
    /// # Cancel safety
    ///
    /// Dropped after the request was sent, the pause may still happen.
    pub async fn pause(&self, id: &str) -> Result<()> {
        let path = format!("/containers/{}/pause", path_id(id));
        self.call_ok(Request::new("POST", self.url(&path)))
            .await
            .map(drop)
    }

    /// Thaws a container frozen by [`pause`](Self::pause).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a missing container, [`Error::Conflict`]
    /// for one that is not paused.
    ///
    /// # Cancel safety
    ///
    /// Dropped after the request was sent, the unpause may still happen.
    pub async fn unpause(&self, id: &str) -> Result<()> {
        let path = format!("/containers/{}/unpause", path_id(id));
        self.call_ok(Request::new("POST", self.url(&path)))
            .await
            .map(drop)
    }

    /// Sends a signal (`"SIGKILL"`, `"SIGTERM"`, `"HUP"`, …). Killing a
    /// container that is not running is [`Error::Conflict`].
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] (not running), [`Error::NotFound`] (missing),
    /// `Error::Api` (400/500) for a signal the daemon does not know, and the
    /// [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the signal may be sent after the future is dropped.
    pub async fn kill(&self, id: &str, signal: &str) -> Result<()> {
        let path = format!(
            "/containers/{}/kill?signal={}",
            path_id(id),
            encode_query(signal)
        );
        self.call_ok(Request::new("POST", self.url(&path)))
            .await
            .map(drop)
    }

    /// Removes a container. A running one without `force` is
    /// [`Error::Conflict`]; a missing one [`Error::NotFound`].
    ///
    /// # Errors
    ///
    /// As above, and the [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the removal may still happen after the future is
    /// dropped.
    pub async fn remove(&self, id: &str, opts: RemoveOptions) -> Result<()> {
        let path = format!(
            "/containers/{}?force={}&v={}",
            path_id(id),
            u8::from(opts.force),
            u8::from(opts.volumes)
        );
        self.call_ok(Request::new("DELETE", self.url(&path)))
            .await
            .map(drop)
    }

    /// `GET /containers/{id}/json`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a missing container, and the
    /// [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn inspect(&self, id: &str) -> Result<ContainerInspect> {
        self.get_json(&format!("/containers/{}/json", path_id(id)))
            .await
    }

    /// Lists containers (`all` includes stopped ones).
    ///
    /// # Errors
    ///
    /// `Error::Api` (400) for a filter the daemon rejects, and the
    /// [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn list(&self, opts: &ListOptions) -> Result<Vec<ContainerSummary>> {
        let path = with_query(
            "/containers/json".to_owned(),
            [opts.all.then(|| "all=1".to_owned()), opts.filters.query()],
        );
        self.get_json(&path).await
    }

    /// Removes stopped containers matching `filters`.
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] while another prune runs, `Error::Api` (400) for
    /// a rejected filter, and the [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the prune may still run after the future is dropped.
    pub async fn prune_containers(&self, filters: &Filters) -> Result<PruneReport> {
        let path = with_query("/containers/prune".to_owned(), [filters.query()]);
        let req = Request::new("POST", self.url(&path));
        let what = req.what();
        let resp = self.call_ok(req).await?;
        parse_json(&what, &resp.body)
    }
}
