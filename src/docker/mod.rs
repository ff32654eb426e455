//! A Docker Engine API client over stevedore's own sockets — no CLI, no
//! hyper, no tokio.
//!
//! * [`Docker::connect`] reads `DOCKER_HOST` (`unix:///…`, `tcp://host:port`,
//!   `ssh://[user@]host`; TLS from `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH` or
//!   [`DockerBuilder::tls`]), else the docker context
//!   ([`DockerBuilder::context`], `DOCKER_CONTEXT`, the config's current
//!   one), default `unix:///var/run/docker.sock`, pings the daemon and uses
//!   `min(`[`CLIENT_MAX_API_VERSION`]`, daemon)`; every request carries the
//!   `/vX.Y` prefix.
//! * Every non-streaming call has a deadline covering connect, headers and
//!   body ([`DockerBuilder::timeout`], default 120 s). `wait`, followed logs
//!   and events have none past their response head, and stop when dropped.
//! * Connections are reused through a capped pool (8 idle, 30 s); streaming
//!   and hijacked calls get their own.
//! * The lifecycle: [`Docker::create`], [`Docker::wait_registered`] (returns
//!   once the daemon registered the wait, so register before starting),
//!   [`Docker::start`] ([`Docker::start_watched`] does both), [`Docker::stop`], [`Docker::kill`],
//!   [`Docker::remove`], [`Docker::inspect`], [`Docker::list`],
//!   [`Docker::logs`] ([`Docker::output`] reads all of it under the
//!   deadline), [`Docker::attach`], [`Docker::events`],
//!   [`Docker::prune_containers`], images, and [`Docker::run`] for the
//!   whole `docker run --rm` dance.
//! * [`launch`] runs batches of containers concurrently over one or many
//!   engines, with progress events, a latency report and no leaks.
//!
//! # Errors
//!
//! Besides what each call documents, every call can fail the same ways:
//! [`Error::Connect`] when the engine cannot be reached (missing socket,
//! refused, the connect timeout passed), [`Error::Io`] when a connection
//! breaks mid-call, [`Error::Timeout`] when a non-streaming call (or a
//! stream's response head) misses the client's deadline,
//! [`Error::Protocol`] when the peer does not speak HTTP/1.1 or the Engine
//! API (garbage bytes, a malformed head, undecodable JSON), and
//! [`Error::Api`] for any other error status, with the daemon's message.
//! 404 and 409 are always [`Error::NotFound`] and [`Error::Conflict`].
//!
//! # Cancel safety
//!
//! Every call is a future that may be dropped at any `.await`. Reads
//! (`inspect`, `list`, `ping`, …) are cancel safe: dropping them changes
//! nothing on the engine. A call that changes the engine may still take
//! effect once its request was written: the daemon runs what it received.
//! The client never leaves that unaccounted for — the connection goes to an
//! *undertaker* that reads the late reply, and a dropped `create` (or a
//! start the launcher and [`Docker::run`] gave up on) force-removes the
//! container ([`Docker::settle`] waits for them). Other dropped
//! mutations (`stop`, `kill`, `remove`, …) may or may not have happened;
//! inspect to know. Streams (`logs`, `events`, `attach`, `wait`) end their
//! connection when dropped and lose nothing that was not yet read.
//!
//! ```no_run
//! use stevedore::docker::{ContainerSpec, Docker, MinimalImage};
//!
//! let rt = stevedore::Runtime::new()?;
//! rt.block_on(async {
//!     let docker = Docker::connect().await?;
//!     let image = docker.ensure_minimal_image(&MinimalImage::from_env()).await?;
//!     let out = docker
//!         .run(&ContainerSpec::new(image.reference).cmd(["sh", "-c", "echo hi; exit 3"]))
//!         .await?;
//!     assert_eq!(out.exit_code, 3);
//!     assert_eq!(out.stdout, b"hi\n");
//!     Ok::<_, stevedore::docker::Error>(())
//! })?;
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

mod attach;
pub mod build;
mod client;
mod codec;
mod connect;
mod containers;
mod error;
mod events;
mod exec;
mod filters;
mod http;
mod images;
pub mod launch;
mod logs;
mod minimal;
mod models;
mod reference;
mod run;
pub mod spec;
pub mod swarm;
mod trace;

pub use self::attach::{AttachInput, AttachOptions, Attached};
pub use self::client::{
    Docker, DockerBuilder, ABANDONED_REQUEST_DEADLINE, CLIENT_MAX_API_VERSION,
    CLIENT_MIN_API_VERSION, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
};
pub use self::codec::{LogChunk, StreamKind};
pub use self::connect::{config_dir, DockerContext, SettingsError, TlsOptions, DEFAULT_HOST};
pub use self::containers::{Started, Stopped, Wait, WaitCondition};
pub use self::error::{Error, Result};
pub use self::events::{EventStream, EventsOptions};
pub use self::exec::{ExecInspect, ExecOutput, ExecSpec, ExecTimings};
pub use self::filters::{Filters, ListOptions, RemoveOptions};
pub use self::http::{SshProblem, TlsProblem};
pub use self::logs::{LogStream, LogsOptions};
pub use self::minimal::{
    BusyboxLookup, MinimalImage, MinimalImageError, MinimalImageInfo, Rootfs, RootfsSource,
    BUSYBOX_ENV, MINIMAL_REPOSITORY,
};
pub use self::models::{
    Actor, ContainerConfig, ContainerInspect, ContainerState, ContainerSummary, CreatedContainer,
    Event, ImageInspect, ImageSummary, PruneReport, RootFs, Version, WaitExit,
};
pub use self::reference::{ImageRef, ReferenceError};
pub use self::run::{RunOutput, RunTimings};
pub use self::spec::{ContainerSpec, SpecError};
