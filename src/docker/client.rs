//! `Docker`: a handle to one daemon — connection settings, version
//! negotiation, the keep-alive pool and the request primitives every
//! operation is built on.
//!
//! **Abandoned requests.** A request already written to a daemon executes
//! even if the client gives up on it (a deadline, a dropped future): a
//! frozen daemon runs it when it resumes, and it reads the next request on
//! a connection only after answering the previous one, and drops what is
//! queued once the client has closed it. So a pooled call dropped after its
//! request was written does not close its connection: an *undertaker* task
//! keeps it open, reads the reply (within [`ABANDONED_REQUEST_DEADLINE`])
//! and then applies the call's undo, if it has one — a create's container
//! is force-removed by the id in its reply, and so is a container whose
//! start was abandoned by the launcher. [`Docker::abandoned_requests`]
//! counts undertakers still waiting; [`Docker::settle`] waits for them.

use super::connect::{self, TlsOptions};
use super::error::{Error, Result};
use super::http::{
    Conn, Connector, Framing, Head, Host, HttpError, OpenError, Pool, Request, SshProblem,
    SshSettings, TlsProblem, TlsSettings, TransportProblem,
};
use crate::sync::WaitGroup;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Newest API version this client knows; negotiation never goes above it.
pub const CLIENT_MAX_API_VERSION: &str = "1.43";
/// Oldest API version this client accepts.
pub const CLIENT_MIN_API_VERSION: &str = "1.24";
/// Deadline of non-streaming calls unless configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long an engine has to accept a connection and answer the version
/// ping of [`DockerBuilder::connect`], unless configured.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an abandoned request's connection is kept open for its reply
/// (and its undo) before the undertaker gives up on it.
pub const ABANDONED_REQUEST_DEADLINE: Duration = Duration::from_secs(15 * 60);
const MAX_BODY: usize = 64 << 20;

/// A client for one Docker daemon. Cheap to clone; clones share the
/// connection pool.
#[derive(Clone)]
pub struct Docker {
    inner: Arc<Inner>,
}

struct Inner {
    /// The host, its transport settings, and the host as given.
    connector: Connector,
    host_str: String,
    version: String,
    timeout: Duration,
    connect_timeout: Duration,
    pool: Pool,
    /// Undertakers and detached removals still running.
    abandoned: WaitGroup,
}

/// What an undertaker does once the reply to an abandoned request arrives.
#[derive(Debug, Clone)]
pub(crate) enum Undo {
    /// Nothing: the connection is only kept open so the request executes
    /// (and is not cut short).
    Nothing,
    /// Force-remove this container (id or name), whatever the reply said.
    Remove(String),
    /// The request was a create: force-remove the container its 201 reply
    /// names.
    RemoveCreated,
    /// Remove this Swarm service (id or name), whatever the reply said.
    RemoveService(String),
}

/// Configures a [`Docker`] client.
#[derive(Debug, Clone)]
pub struct DockerBuilder {
    host: Option<String>,
    version: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    max_idle: usize,
    idle_timeout: Duration,
    context: Option<String>,
    tls: Option<TlsOptions>,
    config_dir: Option<std::path::PathBuf>,
    ssh: SshSettings,
}

/// A response read to its end.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) head: Head,
    pub(crate) body: Vec<u8>,
}

/// A response whose head was read; the body streams on a dedicated
/// connection.
pub(crate) struct Streaming {
    pub(crate) conn: Conn,
    pub(crate) framing: Framing,
    pub(crate) what: String,
    /// The engine is Podman (its responses carry `Libpod-Api-Version`).
    pub(crate) podman: bool,
}

impl Streaming {
    /// The next piece of the body, `None` at its end.
    pub(crate) async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        self.conn
            .body_chunk(&mut self.framing)
            .await
            .map_err(|e| map_http(&self.what, e))
    }
}

pub(crate) fn map_http(what: &str, e: HttpError) -> Error {
    match e {
        HttpError::Io(source) | HttpError::Stale(source) => Error::Io {
            context: what.to_owned(),
            source,
        },
        HttpError::Protocol(msg) => Error::Protocol(format!("{what}: {msg}")),
        HttpError::Transport { host, problem } => transport_error(host.to_string(), problem),
    }
}

fn transport_error(host: String, problem: TransportProblem) -> Error {
    match problem {
        TransportProblem::Tls(problem) => Error::Tls { host, problem },
        TransportProblem::Ssh(problem) => Error::Ssh { host, problem },
    }
}

fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

impl DockerBuilder {
    /// Defaults: host from `DOCKER_HOST` (else `unix:///var/run/docker.sock`),
    /// version from `DOCKER_API_VERSION` (else negotiated), a 120 s deadline,
    /// up to 8 idle connections kept for 30 s.
    pub fn new() -> DockerBuilder {
        DockerBuilder {
            host: None,
            version: std::env::var("DOCKER_API_VERSION")
                .ok()
                .filter(|v| !v.is_empty()),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_idle: 8,
            idle_timeout: Duration::from_secs(30),
            context: None,
            tls: None,
            config_dir: None,
            ssh: SshSettings::default(),
        }
    }

    /// `unix:///path/to/docker.sock`, `tcp://host:port` (TLS when
    /// [`tls`](Self::tls) or `DOCKER_TLS_VERIFY` says so) or
    /// `ssh://[user@]host[:port]`. Wins over a context.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Uses the docker context `name` (its endpoint and certificates),
    /// like `docker --context`: wins over `DOCKER_HOST`, loses to
    /// [`host`](Self::host). Without it (and without `DOCKER_HOST`),
    /// `DOCKER_CONTEXT` or the config's `currentContext` is used.
    pub fn context(mut self, name: impl Into<String>) -> Self {
        self.context = Some(name.into());
        self
    }

    /// TLS for a `tcp://` host (instead of `DOCKER_TLS_VERIFY`,
    /// `DOCKER_CERT_PATH` or the context's certificates).
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The docker CLI configuration directory to read contexts and
    /// `config.json` from (default: `DOCKER_CONFIG`, else `~/.docker`).
    pub fn config_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config_dir = Some(dir.into());
        self
    }

    /// The program run for `ssh://` hosts (default `ssh`).
    pub fn ssh_program(mut self, program: impl Into<String>) -> Self {
        self.ssh.program = program.into();
        self
    }

    /// Extra `ssh` arguments for `ssh://` hosts, placed before the
    /// destination (`["-i", "/path/key", "-o", "UserKnownHostsFile=…"]`).
    pub fn ssh_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ssh.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Pins the API version (`"1.41"`), skipping negotiation.
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Deadline of every non-streaming call, covering connect, headers and
    /// body. Streaming calls (`wait`, followed logs, events) apply it to
    /// their response head only.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long the engine has to accept a connection (every call), and
    /// to answer the version ping of [`connect`](Self::connect) — for an
    /// engine that accepts but never answers. Default
    /// [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Idle connections kept for reuse.
    pub fn max_idle_connections(mut self, n: usize) -> Self {
        self.max_idle = n;
        self
    }

    /// How long an idle connection is kept.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Creates the client; unless the version is pinned, pings the daemon
    /// and uses `min(CLIENT_MAX_API_VERSION, daemon's Api-Version)`.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] for a host that cannot be parsed or reached,
    /// [`Error::Settings`] for a context that does not exist or cannot be
    /// read, [`Error::Tls`] for certificate files that are missing or
    /// unusable and for a failed handshake (wrong CA, rejected client
    /// certificate, a plain-HTTP peer, …), [`Error::Ssh`] for an `ssh` that
    /// fails or does not answer within the connect timeout,
    /// [`Error::Timeout`] when the engine accepts but does not answer
    /// within the connect timeout, [`Error::Api`] for a daemon older than
    /// [`CLIENT_MIN_API_VERSION`].
    ///
    /// # Cancel safety
    ///
    /// Dropping it leaves nothing behind but a ping (see the module docs).
    pub async fn connect(self) -> Result<Docker> {
        let resolved = connect::resolve(
            self.host.as_deref(),
            self.context.as_deref(),
            self.tls.as_ref(),
            self.config_dir.as_deref(),
        )?;
        let host_str = resolved.host;
        let host = Host::parse(&host_str).map_err(|msg| Error::Connect {
            host: host_str.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, msg),
        })?;
        // TLS applies to TCP hosts only (as for the docker CLI).
        let tls = match (host.tcp_name(), &resolved.tls) {
            (Some(name), Some(opts)) => Some(TlsSettings::new(&opts.files(), name).map_err(
                |problem| Error::Tls {
                    host: host_str.clone(),
                    problem,
                },
            )?),
            _ => None,
        };
        let mut ssh = self.ssh.clone();
        ssh.connect_timeout = self.connect_timeout;
        let connector = Connector {
            host,
            label: host_str.as_str().into(),
            tls,
            ssh,
        };
        let mut inner = Inner {
            connector,
            host_str,
            version: self.version.clone().unwrap_or_default(),
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            pool: Pool::new(self.max_idle, self.idle_timeout),
            abandoned: WaitGroup::new(),
        };
        if let Some(v) = &self.version {
            if parse_version(v).is_none() {
                return Err(Error::Protocol(format!("invalid API version {v:?}")));
            }
        } else {
            let probe = Docker {
                inner: Arc::new(inner),
            };
            let daemon = probe.ping_version().await?;
            inner = Arc::try_unwrap(probe.inner).unwrap_or_else(|_| unreachable!("no clones"));
            inner.version = negotiate(&daemon)?;
        }
        Ok(Docker {
            inner: Arc::new(inner),
        })
    }
}

/// `min(client max, daemon)`, refusing daemons older than the client min.
fn negotiate(daemon: &str) -> Result<String> {
    let d = parse_version(daemon)
        .ok_or_else(|| Error::Protocol(format!("invalid Api-Version header {daemon:?}")))?;
    let max = parse_version(CLIENT_MAX_API_VERSION).expect("constant");
    let min = parse_version(CLIENT_MIN_API_VERSION).expect("constant");
    if d < min {
        return Err(Error::Api {
            status: 400,
            message: format!(
                "daemon API {daemon} is older than the oldest supported ({CLIENT_MIN_API_VERSION})"
            ),
        });
    }
    let v = d.min(max);
    Ok(format!("{}.{}", v.0, v.1))
}

impl Default for DockerBuilder {
    fn default() -> Self {
        DockerBuilder::new()
    }
}

impl Docker {
    /// Connects to `DOCKER_HOST`, else the current docker context, else
    /// `unix:///var/run/docker.sock`, and negotiates the API version.
    ///
    /// # Errors
    ///
    /// [`Error::Settings`] for an unusable context or `config.json`,
    /// [`Error::Tls`] / [`Error::Ssh`] for those transports,
    /// [`Error::Connect`] when the engine cannot be reached within the
    /// connect timeout, `Error::Api` when its API is older than
    /// [`CLIENT_MIN_API_VERSION`], and the other
    /// [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is left behind (an ssh child is killed).
    pub async fn connect() -> Result<Docker> {
        DockerBuilder::new().connect().await
    }

    /// Connects to `host` (`unix:///…`, `tcp://host:port` — with TLS when
    /// `DOCKER_TLS_VERIFY` / `DOCKER_TLS` say so — or
    /// `ssh://[user@]host[:port]`).
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect); a host that is not one of these forms
    /// is [`Error::Connect`] (kind `InvalidInput`) before anything is tried.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn connect_with(host: &str) -> Result<Docker> {
        DockerBuilder::new().host(host).connect().await
    }

    /// A builder for other settings.
    pub fn builder() -> DockerBuilder {
        DockerBuilder::new()
    }

    /// The host this client talks to, as given.
    pub fn host(&self) -> &str {
        &self.inner.host_str
    }

    /// Where the daemon listens, parsed (two clients of one engine have
    /// equal endpoints).
    pub(crate) fn endpoint(&self) -> &Host {
        &self.inner.connector.host
    }

    /// Whether this client speaks TLS to its engine.
    pub fn is_tls(&self) -> bool {
        self.inner.connector.is_tls()
    }

    /// The API version in use (every request carries `/v{version}`).
    pub fn api_version(&self) -> &str {
        &self.inner.version
    }

    /// The deadline of non-streaming calls.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// How long the engine has to accept a connection and answer the
    /// version ping.
    pub fn connect_timeout(&self) -> Duration {
        self.inner.connect_timeout
    }

    /// Abandoned requests whose reply (and undo) is still awaited, plus
    /// removals running in the background (see the module docs).
    pub fn abandoned_requests(&self) -> usize {
        self.inner.abandoned.count()
    }

    /// Waits until no abandoned request is left: every request this client
    /// gave up on has been answered and undone, or given up for good after
    /// [`ABANDONED_REQUEST_DEADLINE`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only waits.
    pub async fn settle(&self) {
        self.inner.abandoned.wait().await;
    }

    /// Force-removes `id` in a detached task counted by
    /// [`abandoned_requests`](Self::abandoned_requests): for a container
    /// the caller can no longer wait for (its engine stopped answering).
    pub(crate) fn remove_detached(&self, id: &str) {
        let Some(h) = crate::runtime::Handle::try_current() else {
            return;
        };
        let done = Done::new(&self.inner.abandoned);
        let (docker, id) = (self.clone(), id.to_owned());
        drop(h.spawn(async move {
            let _done = done;
            let opts = super::RemoveOptions {
                force: true,
                volumes: true,
            };
            let _ =
                crate::time::timeout(ABANDONED_REQUEST_DEADLINE, docker.remove(&id, opts)).await;
        }));
    }

    /// Idle pooled connections (for tests and diagnostics).
    pub fn idle_connections(&self) -> usize {
        self.inner.pool.idle_len()
    }

    /// `/v{version}{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("/v{}{}", self.inner.version, path)
    }

    async fn open(&self) -> Result<Conn> {
        let after = self.inner.connect_timeout;
        let c = &self.inner.connector;
        let opened = match crate::time::timeout(after, c.open()).await {
            Ok(r) => r,
            Err(_) => Err(OpenError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("not connected within {after:?}"),
            ))),
        };
        match opened {
            Ok(io) => Ok(Conn::new(io, c.label.clone())),
            Err(OpenError::Io(source)) => Err(Error::Connect {
                host: self.inner.host_str.clone(),
                source,
            }),
            Err(OpenError::Problem(p)) => Err(transport_error(self.inner.host_str.clone(), p)),
        }
    }

    /// `GET /_ping` without a version prefix, within the connect timeout;
    /// returns `Api-Version`.
    async fn ping_version(&self) -> Result<String> {
        let req = Request::new("GET", "/_ping".to_owned());
        let after = self.inner.connect_timeout;
        let resp = match self.call_with(req, Undo::Nothing, after).await {
            // A hung `ssh` (or remote) is the transport's problem.
            Err(Error::Timeout { .. }) if matches!(self.endpoint(), Host::Ssh { .. }) => {
                return Err(Error::Ssh {
                    host: self.inner.host_str.clone(),
                    problem: SshProblem::NoAnswer { after },
                })
            }
            r => r?,
        };
        // A TLS engine answers a plain-HTTP request with a bare 400 (Go's
        // "Client sent an HTTP request to an HTTPS server").
        if resp.status == 400
            && resp.head.header("api-version").is_none()
            && matches!(self.endpoint(), Host::Tcp(_))
            && !self.is_tls()
        {
            return Err(Error::Tls {
                host: self.inner.host_str.clone(),
                problem: TlsProblem::EngineRequiresTls,
            });
        }
        if resp.status != 200 {
            return Err(Error::from_status(resp.status, &resp.body));
        }
        resp.head
            .header("api-version")
            .map(str::to_owned)
            .ok_or_else(|| Error::Protocol("ping response without an Api-Version header".into()))
    }

    /// Sends `req` on a pooled connection and reads the whole response,
    /// all within `after`. Abandoned after the request was written, the
    /// connection goes to an undertaker that applies `undo`.
    pub(crate) async fn call_with(
        &self,
        req: Request,
        undo: Undo,
        after: Duration,
    ) -> Result<Response> {
        #[cfg(feature = "tracing")]
        let started = std::time::Instant::now();
        let result = match crate::time::timeout(after, self.call_inner(&req, undo)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                what: req.what(),
                after,
            }),
        };
        #[cfg(feature = "tracing")]
        match &result {
            Ok(resp) => tracing::debug!(
                target: "stevedore::docker",
                host = self.host(),
                request = %req.what(),
                status = resp.status,
                elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                "request"
            ),
            Err(e) => tracing::debug!(
                target: "stevedore::docker",
                host = self.host(),
                request = %req.what(),
                error = %e,
                elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                "request failed"
            ),
        }
        result
    }

    async fn call_inner(&self, req: &Request, undo: Undo) -> Result<Response> {
        let what = req.what();
        let mut retried = false;
        loop {
            let conn = match self.inner.pool.take() {
                Some(c) => c,
                None => self.open().await?,
            };
            // From here until the reply is read, dropping this future
            // hands the connection to an undertaker.
            let mut pending = Pending {
                docker: self,
                conn: Some(conn),
                method: req.method,
                phase: Phase::AwaitingHead,
                undo: undo.clone(),
            };
            let conn = pending.conn.as_mut().expect("just set");
            let head = match conn.send(req).await {
                Ok(h) => h,
                // A pooled connection the daemon had dropped: the request
                // could not be written, or (GET/HEAD only) got no byte of
                // a reply, so it is safe to send it once more.
                Err(HttpError::Stale(_)) if !retried => {
                    pending.disarm();
                    retried = true;
                    continue;
                }
                Err(e) => {
                    pending.disarm();
                    return Err(map_http(&what, e));
                }
            };
            let framing = match head.framing(req.method) {
                Ok(f) => f,
                Err(e) => {
                    pending.disarm();
                    return Err(map_http(&what, e));
                }
            };
            let reusable = head.keep_alive() && !matches!(framing, Framing::Close);
            pending.phase = Phase::Body {
                status: head.status,
                framing,
            };
            let body = pending.read_body().await;
            let conn = pending.disarm();
            let body = body.map_err(|e| map_http(&what, e))?;
            if let (true, Some(conn)) = (reusable, conn) {
                self.inner.pool.put(conn);
            }
            return Ok(Response {
                status: head.status,
                head,
                body,
            });
        }
    }

    /// Like [`call`](Self::call), turning non-success statuses into errors.
    pub(crate) async fn call_ok(&self, req: Request) -> Result<Response> {
        self.call_ok_with(req, Undo::Nothing).await
    }

    /// Like [`call_ok`](Self::call_ok), with an undo if abandoned.
    pub(crate) async fn call_ok_with(&self, req: Request, undo: Undo) -> Result<Response> {
        let resp = self.call_with(req, undo, self.inner.timeout).await?;
        if (200..300).contains(&resp.status) || resp.status == 304 {
            Ok(resp)
        } else {
            Err(Error::from_status(resp.status, &resp.body))
        }
    }

    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        let req = Request::new("GET", self.url(path));
        let what = req.what();
        let resp = self.call_ok(req).await?;
        parse_json(&what, &resp.body)
    }

    /// Opens a dedicated connection, sends `req` and returns once the
    /// response head arrived (within the deadline). The body is unbounded
    /// in time; dropping the result closes the connection.
    pub(crate) async fn stream(&self, req: Request) -> Result<Streaming> {
        let after = self.inner.timeout;
        let what = req.what();
        let fut = async {
            let mut conn = self.open().await?;
            let head = conn.send(&req).await.map_err(|e| map_http(&what, e))?;
            let mut framing = head.framing(req.method).map_err(|e| map_http(&what, e))?;
            if !(200..300).contains(&head.status) && head.status != 101 {
                let body = conn
                    .body_to_end(&mut framing, 1 << 20)
                    .await
                    .map_err(|e| map_http(&what, e))?;
                return Err(Error::from_status(head.status, &body));
            }
            Ok(Streaming {
                conn,
                framing,
                what: what.clone(),
                podman: head.header("libpod-api-version").is_some(),
            })
        };
        match crate::time::timeout(after, fut).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout { what, after }),
        }
    }
}

/// Where a pooled call is in its exchange.
enum Phase {
    /// The request was (being) written; no reply yet.
    AwaitingHead,
    /// The head arrived; the body is being read.
    Body { status: u16, framing: Framing },
}

/// A pooled call in flight: owns its connection until the reply is read.
/// Dropped armed (the call was abandoned), it hands the connection to an
/// undertaker instead of closing it.
struct Pending<'a> {
    docker: &'a Docker,
    /// `Some` while armed.
    conn: Option<Conn>,
    method: &'static str,
    phase: Phase,
    undo: Undo,
}

impl Pending<'_> {
    async fn read_body(&mut self) -> Result<Vec<u8>, HttpError> {
        let (Some(conn), Phase::Body { framing, .. }) = (self.conn.as_mut(), &mut self.phase)
        else {
            unreachable!("read_body after the head")
        };
        conn.body_to_end(framing, MAX_BODY).await
    }

    /// The exchange is over (or failed): nothing to undertake.
    fn disarm(&mut self) -> Option<Conn> {
        self.conn.take()
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let Some(h) = crate::runtime::Handle::try_current() else {
            return;
        };
        let phase = std::mem::replace(&mut self.phase, Phase::AwaitingHead);
        let undo = std::mem::replace(&mut self.undo, Undo::Nothing);
        let done = Done::new(&self.docker.inner.abandoned);
        let (docker, method) = (self.docker.clone(), self.method);
        drop(h.spawn(async move {
            let _done = done;
            let _ = crate::time::timeout(
                ABANDONED_REQUEST_DEADLINE,
                undertake(docker, conn, method, phase, undo),
            )
            .await;
        }));
    }
}

/// Reads the reply to an abandoned request, then applies its undo.
async fn undertake(docker: Docker, mut conn: Conn, method: &'static str, phase: Phase, undo: Undo) {
    let (status, mut framing) = match phase {
        Phase::AwaitingHead => {
            let Ok(head) = conn.read_head().await else {
                return;
            };
            let Ok(framing) = head.framing(method) else {
                return;
            };
            (head.status, framing)
        }
        Phase::Body { status, framing } => (status, framing),
    };
    let Ok(body) = conn.body_to_end(&mut framing, 1 << 20).await else {
        return;
    };
    drop(conn);
    let target = match undo {
        Undo::Nothing => return,
        Undo::Remove(target) => target,
        Undo::RemoveCreated if status == 201 => {
            match serde_json::from_slice::<super::models::CreatedContainer>(&body) {
                Ok(c) if !c.id.is_empty() => c.id,
                _ => return,
            }
        }
        Undo::RemoveCreated => return,
        Undo::RemoveService(service) => {
            let _ = docker.service_remove(&service).await;
            return;
        }
    };
    let opts = super::RemoveOptions {
        force: true,
        volumes: true,
    };
    let _ = docker.remove(&target, opts).await;
}

/// Marks one abandoned request done when dropped.
struct Done(WaitGroup);

impl Done {
    fn new(wg: &WaitGroup) -> Done {
        wg.add(1);
        Done(wg.clone())
    }
}

impl Drop for Done {
    fn drop(&mut self) {
        self.0.done();
    }
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        let shown = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        Error::Protocol(format!("{what}: invalid JSON ({e}): {shown:?}"))
    })
}

impl fmt::Debug for Docker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Docker")
            .field("host", &self.inner.host_str)
            .field("api_version", &self.inner.version)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}
