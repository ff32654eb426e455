//! `exec`: running a command inside a running container — create the exec,
//! start it on a hijacked connection that carries its (multiplexed)
//! output, and read its exit code once the output ends.
//!
//! The output side reuses the attach machinery (`attach.rs`, `logs.rs`):
//! the start request asks for an upgrade, the daemon answers
//! `101 UPGRADED`, and the raw stream is demultiplexed into a
//! [`LogStream`] (raw with a TTY). The daemon closes the stream after the
//! process exited and its exit code was recorded, so an inspect after the
//! end of the output reads the code.

use super::attach::AttachReader;
use super::client::{parse_json, Docker};
use super::containers::path_id;
use super::error::{Error, Result};
use super::http::Request;
use super::logs::{LogStream, Source};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// What to run with [`Docker::exec_create`]: a command and its settings.
///
/// ```
/// use stevedore::docker::ExecSpec;
///
/// let spec = ExecSpec::new(["sh", "-c", "echo $GREETING"]).env("GREETING", "hi");
/// assert_eq!(spec.get_cmd(), ["sh", "-c", "echo $GREETING"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSpec {
    cmd: Vec<String>,
    env: Vec<String>,
    working_dir: Option<String>,
    user: Option<String>,
    tty: bool,
}

impl ExecSpec {
    /// The command and its arguments (run directly, not through the
    /// image's entrypoint, as `docker exec` does).
    pub fn new<I, S>(cmd: I) -> ExecSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ExecSpec {
            cmd: cmd.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            working_dir: None,
            user: None,
            tty: false,
        }
    }

    /// Adds `KEY=value` to the process's environment.
    pub fn env(mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.env
            .push(format!("{}={}", key.as_ref(), value.as_ref()));
        self
    }

    /// The working directory (default: the container's).
    pub fn working_dir(mut self, dir: impl Into<String>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// The user (default: the container's).
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Allocate a TTY: the output is raw (all of it as stdout).
    pub fn tty(mut self, yes: bool) -> Self {
        self.tty = yes;
        self
    }

    /// The command.
    pub fn get_cmd(&self) -> &[String] {
        &self.cmd
    }

    /// Whether it has a TTY.
    pub fn is_tty(&self) -> bool {
        self.tty
    }

    fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        body.insert("Cmd".into(), self.cmd.clone().into());
        body.insert("AttachStdin".into(), false.into());
        body.insert("AttachStdout".into(), true.into());
        body.insert("AttachStderr".into(), true.into());
        body.insert("Tty".into(), self.tty.into());
        if !self.env.is_empty() {
            body.insert("Env".into(), self.env.clone().into());
        }
        if let Some(d) = &self.working_dir {
            body.insert("WorkingDir".into(), d.clone().into());
        }
        if let Some(u) = &self.user {
            body.insert("User".into(), u.clone().into());
        }
        body.into()
    }
}

/// `GET /exec/{id}/json`: the state of an exec.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ExecInspect {
    /// The exec's id.
    #[serde(rename = "ID", default)]
    pub id: String,
    /// Its process still runs.
    #[serde(rename = "Running", default)]
    pub running: bool,
    /// Its exit code, once it exited (`None` before, or when the daemon
    /// lost track of it with its container).
    #[serde(rename = "ExitCode", default)]
    pub exit_code: Option<i64>,
    /// The process id on the host (0 when not running).
    #[serde(rename = "Pid", default)]
    pub pid: i64,
    /// The container it runs in.
    #[serde(rename = "ContainerID", default)]
    pub container_id: String,
}

#[derive(Deserialize)]
struct CreatedExec {
    #[serde(rename = "Id")]
    id: String,
}

/// What an exec did ([`Docker::exec`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecOutput {
    /// The exec's id.
    pub exec_id: String,
    /// Its exit code; non-zero is a result, not an error.
    pub exit_code: i64,
    /// Everything written to stdout (all output, with a TTY).
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
    /// How long each phase took.
    pub timings: ExecTimings,
}

/// Per-phase durations of an exec.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecTimings {
    /// `exec create`.
    pub create: Duration,
    /// `exec start`, until the connection was upgraded.
    pub start: Duration,
    /// Reading the output to its end (the command's run).
    pub output: Duration,
    /// Reading the exit code.
    pub exit: Duration,
    /// The whole exec.
    pub total: Duration,
}

/// How long [`Docker::exec_exit_code`] waits for an exit code the daemon
/// has not recorded yet.
const EXIT_CODE_PATIENCE: Duration = Duration::from_secs(2);

impl Docker {
    /// Creates an exec of `spec` in the running container `container`
    /// (`POST /containers/{id}/exec`); returns its id. Nothing runs until
    /// [`exec_start`](Self::exec_start).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] with status 400 for an empty command (nothing is
    /// sent); [`Error::NotFound`] for a missing container,
    /// [`Error::ContainerNotRunning`] for one that is stopped, paused or
    /// restarting; otherwise any error of a call.
    ///
    /// # Cancel safety
    ///
    /// Dropped after the request was sent, the daemon may still create
    /// the exec; an exec that is never started costs nothing but a record
    /// the daemon drops with its container.
    pub async fn exec_create(&self, container: &str, spec: &ExecSpec) -> Result<String> {
        if spec.cmd.is_empty() {
            return Err(Error::Api {
                status: 400,
                message: "no command to exec".into(),
            });
        }
        let path = format!("/containers/{}/exec", path_id(container));
        let body = serde_json::to_vec(&spec.to_json()).expect("serialisable");
        let req = Request::new("POST", self.url(&path)).json(body);
        let what = req.what();
        let resp = self
            .call_ok(req)
            .await
            .map_err(|e| not_running(e, container))?;
        let created: CreatedExec = parse_json(&what, &resp.body)?;
        Ok(created.id)
    }

    /// Starts an exec (`POST /exec/{id}/start`, attached): the daemon
    /// switches the connection to a raw stream carrying the process's
    /// output, demultiplexed into stdout and stderr chunks unless `tty`
    /// (which must match the exec's [`ExecSpec::tty`]). The stream ends
    /// when the process has exited; then [`exec_inspect`](Self::exec_inspect)
    /// (or [`exec_exit_code`](Self::exec_exit_code)) gives its exit code.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown exec, [`Error::Conflict`] when
    /// its container stopped since the create or the exec was already
    /// started (the daemon's 409 does not tell which),
    /// [`Error::Timeout`] when the daemon does not answer within the
    /// client's deadline; otherwise any error of a call. Errors reading
    /// the output come as items of the stream.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future or the stream closes the connection; the
    /// process, once started, runs on in the container (the Engine API
    /// cannot kill an exec: stop or remove its container for that).
    pub async fn exec_start(&self, exec_id: &str, tty: bool) -> Result<LogStream> {
        let path = format!("/exec/{}/start", path_id(exec_id));
        let body = serde_json::json!({ "Detach": false, "Tty": tty });
        let mut req = Request::new("POST", self.url(&path))
            .json(serde_json::to_vec(&body).expect("serialisable"));
        req.upgrade = true;
        let context = req.what();
        let s = self.stream(req).await?;
        let (reader, _writer, leftover) = s.conn.into_split();
        // The write half is dropped: the exec has no stdin, and a
        // half-closed connection is what the daemon expects then.
        Ok(LogStream::new(
            Source::Hijacked(AttachReader::new(reader, context)),
            tty,
            leftover,
        ))
    }

    /// `GET /exec/{id}/json`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown exec (or one whose container was
    /// removed); otherwise any error of a call.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn exec_inspect(&self, exec_id: &str) -> Result<ExecInspect> {
        self.get_json(&format!("/exec/{}/json", path_id(exec_id)))
            .await
    }

    /// The exit code of an exec whose output has ended: inspects it, and
    /// if the daemon has not recorded the exit yet, again a few times
    /// within two seconds.
    ///
    /// # Errors
    ///
    /// [`Error::ContainerNotRunning`] when the exec has no exit code
    /// because its container stopped under it; [`Error::Timeout`] when it
    /// still runs after the wait; otherwise any error of
    /// [`exec_inspect`](Self::exec_inspect).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn exec_exit_code(&self, exec_id: &str) -> Result<i64> {
        let begun = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            let info = self.exec_inspect(exec_id).await?;
            match (info.running, info.exit_code) {
                (false, Some(code)) => return Ok(code),
                (false, None) => {
                    return Err(Error::ContainerNotRunning {
                        container: info.container_id,
                        message: format!("exec {exec_id} ended without an exit code"),
                    })
                }
                (true, _) if begun.elapsed() >= EXIT_CODE_PATIENCE => {
                    return Err(Error::Timeout {
                        what: format!("the exit of exec {exec_id} after its output ended"),
                        after: EXIT_CODE_PATIENCE,
                    })
                }
                (true, _) => {
                    crate::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
            }
        }
    }

    /// Runs `spec` in the running container `container` to its end, like
    /// `docker exec`: create → start (attached) → read the output to its
    /// end → read the exit code. The output is held in memory.
    ///
    /// # Errors
    ///
    /// Any error of [`exec_create`](Self::exec_create),
    /// [`exec_start`](Self::exec_start), reading the output, or
    /// [`exec_exit_code`](Self::exec_exit_code).
    ///
    /// # Cancel safety
    ///
    /// Dropping it after the start leaves the process running in the
    /// container (see [`exec_start`](Self::exec_start)).
    pub async fn exec(&self, container: &str, spec: &ExecSpec) -> Result<ExecOutput> {
        let total = Instant::now();
        let mut timings = ExecTimings::default();
        let t = Instant::now();
        let exec_id = self.exec_create(container, spec).await?;
        timings.create = t.elapsed();
        let t = Instant::now();
        let stream = self.exec_start(&exec_id, spec.tty).await?;
        timings.start = t.elapsed();
        let t = Instant::now();
        let (stdout, stderr) = stream.collect_output().await?;
        timings.output = t.elapsed();
        let t = Instant::now();
        let exit_code = self.exec_exit_code(&exec_id).await?;
        timings.exit = t.elapsed();
        timings.total = total.elapsed();
        Ok(ExecOutput {
            exec_id,
            exit_code,
            stdout,
            stderr,
            timings,
        })
    }
}

/// A 409 to an exec create means its container is not running.
fn not_running(e: Error, container: &str) -> Error {
    match e {
        Error::Conflict { message } => Error::ContainerNotRunning {
            container: container.to_owned(),
            message,
        },
        other => other,
    }
}
