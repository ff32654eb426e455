//! `Docker`: a handle to one daemon — connection settings, version
//! negotiation, the keep-alive pool and the request primitives every
//! operation is built on.

use super::error::{Error, Result};
use super::http::{Conn, Framing, Head, Host, HttpError, Pool, Request};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Newest API version this client knows; negotiation never goes above it.
pub const CLIENT_MAX_API_VERSION: &str = "1.43";
/// Oldest API version this client accepts.
pub const CLIENT_MIN_API_VERSION: &str = "1.24";
/// Deadline of non-streaming calls unless configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
const MAX_BODY: usize = 64 << 20;

/// A client for one Docker daemon. Cheap to clone; clones share the
/// connection pool.
#[derive(Clone)]
pub struct Docker {
    inner: Arc<Inner>,
}

struct Inner {
    host: Host,
    host_str: String,
    version: String,
    timeout: Duration,
    pool: Pool,
}

/// Configures a [`Docker`] client.
#[derive(Debug, Clone)]
pub struct DockerBuilder {
    host: Option<String>,
    version: Option<String>,
    timeout: Duration,
    max_idle: usize,
    idle_timeout: Duration,
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
            max_idle: 8,
            idle_timeout: Duration::from_secs(30),
        }
    }

    /// `unix:///path/to/docker.sock` or `tcp://host:port`.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
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
    pub async fn connect(self) -> Result<Docker> {
        let host_str = self
            .host
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
        let host = Host::parse(&host_str).map_err(|msg| Error::Connect {
            host: host_str.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, msg),
        })?;
        let mut inner = Inner {
            host,
            host_str,
            version: self.version.clone().unwrap_or_default(),
            timeout: self.timeout,
            pool: Pool::new(self.max_idle, self.idle_timeout),
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
    /// Connects to `DOCKER_HOST` (default `unix:///var/run/docker.sock`) and
    /// negotiates the API version.
    pub async fn connect() -> Result<Docker> {
        DockerBuilder::new().connect().await
    }

    /// Connects to `host` (`unix:///…` or `tcp://host:port`).
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

    /// The API version in use (every request carries `/v{version}`).
    pub fn api_version(&self) -> &str {
        &self.inner.version
    }

    /// The deadline of non-streaming calls.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
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
        Conn::open(&self.inner.host)
            .await
            .map_err(|source| Error::Connect {
                host: self.inner.host_str.clone(),
                source,
            })
    }

    /// `GET /_ping` without a version prefix; returns `Api-Version`.
    async fn ping_version(&self) -> Result<String> {
        let resp = self.call(Request::new("GET", "/_ping".to_owned())).await?;
        if resp.status != 200 {
            return Err(Error::from_status(resp.status, &resp.body));
        }
        resp.head
            .header("api-version")
            .map(str::to_owned)
            .ok_or_else(|| Error::Protocol("ping response without an Api-Version header".into()))
    }

    /// Sends `req` on a pooled connection and reads the whole response,
    /// all within the deadline.
    pub(crate) async fn call(&self, req: Request) -> Result<Response> {
        let after = self.inner.timeout;
        match crate::time::timeout(after, self.call_inner(&req)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                what: req.what(),
                after,
            }),
        }
    }

    async fn call_inner(&self, req: &Request) -> Result<Response> {
        let what = req.what();
        let mut retried = false;
        loop {
            let mut conn = match self.inner.pool.take() {
                Some(c) => c,
                None => self.open().await?,
            };
            let head = match conn.send(req).await {
                Ok(h) => h,
                // A pooled connection the daemon had dropped: the request
                // never arrived, so it is safe to send it once more.
                Err(HttpError::Stale(_)) if !retried => {
                    retried = true;
                    continue;
                }
                Err(e) => return Err(map_http(&what, e)),
            };
            let mut framing = head.framing(req.method).map_err(|e| map_http(&what, e))?;
            let reusable = head.keep_alive() && !matches!(framing, Framing::Close);
            let body = conn
                .body_to_end(&mut framing, MAX_BODY)
                .await
                .map_err(|e| map_http(&what, e))?;
            if reusable {
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
        let resp = self.call(req).await?;
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
