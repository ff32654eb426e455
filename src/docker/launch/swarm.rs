//! Swarm mode: the batch as one `replicated-job` service on a swarm.
//!
//! Protocol: options are validated, the logs directory opened and the
//! first engine checked to be an active manager (each engine's swarm node
//! id is read too) before anything is created. The batch becomes one
//! service named after the batch (`MaxConcurrent` = concurrency,
//! `TotalCompletions` = count, restart condition none), labelled
//! `stevedore.batch=<id>` — on the service and on every task's container.
//! Then the collector (this future) polls the service's tasks every
//! [`POLL_INTERVAL`] under the connect timeout and numbers them in the
//! order it first sees them: the first `count` are the batch's jobs. Each
//! state a task is seen in is recorded with the engine's timestamp for it,
//! which gives the phases: *create* from the task's creation to its
//! container `ready` (or `starting`), *start* from there to `running`,
//! *wait* from `running` to its end (a phase whose bounds were not both
//! seen is left out), *output* the read of its logs, *remove* the removal
//! of its container. A task that ends emits progress and, with a logs
//! directory, has its logs read (`GET /tasks/{id}/logs`, through the
//! manager from whichever node ran it) into `<dir>/<batch>-<index>.*`.
//!
//! The swarm (dockerd 20.10) starts a failed task again despite the
//! restart condition and counts only successes towards `TotalCompletions`,
//! so the collector counts ended tasks itself: once `count` of its jobs
//! have ended (or the batch is cancelled, or passes its deadline) it
//! removes the service. A task rejected by its node (a missing image, a
//! spec it cannot run) before any task ran stops the batch with
//! [`LaunchError::Spec`].
//!
//! **Nothing is left.** `DELETE /services/{id}` shuts the service's tasks
//! down but leaves every task's container on its node. After the removal
//! the collector sweeps, again and again until the manager lists every
//! task of the service as ended (then no container of it is created any
//! more, and the sweep after that finds the last ones) or the cancel grace
//! (or the connect timeout, if longer) runs out: on every engine of the launcher (the
//! manager first, then any other `--host`: the sweep reaches exactly the
//! nodes whose engines the launcher was given, matched by their swarm node
//! id) it lists the containers labelled with the batch and force-removes
//! them. Containers on nodes the launcher has no engine for are named in
//! the report under an engine entry for that node (state `unreachable`).
//! A dropped batch removes the service and sweeps in the background.
//!
//! With [`LaunchOptions::keep`] nothing is swept: every task's container
//! stays, failed ones included (`Launcher::cleanup` removes them later).
//!
//! Not supported here (refused before anything is created):
//! [`LaunchOptions::timeout`] (a swarm task has no deadline) and a job
//! list (one service runs one command). [`LaunchOptions::retry`] does not
//! apply: the swarm reschedules tasks itself.

use super::cancel::{Reason, Signals};
use super::failure::{classify, Phase};
use super::output::Output;
use super::reconcile::FORCE;
use super::report::{
    count_failures, ContainerResult, ContainerTimings, EngineReport, EngineState, OutputReport,
    PhaseStats, Phases, Report,
};
use super::{FailureKind, LaunchError, LaunchOptions, Progress, BATCH_LABEL};
use crate::chan::Sender;
use crate::docker::swarm::{ServiceSpec, Task, TaskState};
use crate::docker::{ContainerSpec, Docker, Error, Filters, ImageRef, ListOptions, LogsOptions};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Time between two polls of the service's tasks.
pub(super) const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Consecutive failed polls after which the manager is given up on.
const MAX_POLL_FAILURES: u32 = 5;

/// What the collector knows about one of its jobs (a task).
struct Job {
    task: String,
    node: String,
    container: Option<String>,
    created_at: Option<SystemTime>,
    /// The engine's timestamp of each state the task was seen in.
    seen: BTreeMap<TaskState, SystemTime>,
    announced: Announced,
    /// It was seen in a terminal state (and counted).
    ended: bool,
}

/// Progress already emitted for a job.
#[derive(Default)]
struct Announced {
    created: bool,
    started: bool,
}

fn parse_ts(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339(s).ok()
}

fn between(a: Option<SystemTime>, b: Option<SystemTime>) -> Option<Duration> {
    b?.duration_since(a?).ok()
}

impl Job {
    fn timings(&self) -> ContainerTimings {
        let ts = |s: TaskState| self.seen.get(&s).copied();
        let ready = ts(TaskState::Ready).or_else(|| ts(TaskState::Starting));
        let running = ts(TaskState::Running);
        let end = self
            .seen
            .iter()
            .find(|(s, _)| s.is_terminal())
            .map(|(_, t)| *t);
        ContainerTimings {
            create: between(self.created_at, ready),
            start: between(ready, running),
            wait: between(running, end),
            ..ContainerTimings::default()
        }
    }
}

/// The engines of a swarm batch: the manager (index 0) and the others,
/// with their swarm node ids.
struct Nodes {
    engines: Arc<[Docker]>,
    /// Node id → engine index.
    by_node: HashMap<String, usize>,
}

impl Nodes {
    fn engine_of(&self, node: &str) -> Option<usize> {
        self.by_node.get(node).copied()
    }
}

/// Removes the service and sweeps if the batch's future is dropped.
struct DropGuard {
    armed: Option<(Arc<[Docker]>, String, bool, Duration)>,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        let Some((engines, batch, keep, settle)) = self.armed.take() else {
            return;
        };
        if let Some(h) = crate::runtime::Handle::try_current() {
            drop(h.spawn(async move {
                let until = Instant::now() + settle;
                let id = match crate::time::timeout_at(until, engines[0].service_inspect(&batch))
                    .await
                {
                    Ok(Ok(s)) => s.id,
                    _ => batch.clone(),
                };
                wind_down(&engines, &id, &batch, !keep, until).await;
            }));
        }
    }
}

/// What the sweep removed.
struct Swept {
    /// Per engine: containers removed, `None` if never swept to the end.
    per_engine: Vec<Option<usize>>,
    /// Task id → how long removing its container took.
    tasks: HashMap<String, Duration>,
}

/// Removes the service, then (with `sweep`) force-removes the batch's
/// containers on every engine until the manager lists every task of the
/// service as ended — no container of it is created or started after
/// that, so the sweep that follows finds the last ones — or `until`.
async fn wind_down(
    engines: &[Docker],
    service_id: &str,
    batch: &str,
    sweep: bool,
    until: Instant,
) -> Swept {
    let manager = &engines[0];
    let _ = crate::time::timeout_at(until, manager.service_remove(service_id)).await;
    let mut swept = Swept {
        per_engine: vec![None; engines.len()],
        tasks: HashMap::new(),
    };
    if !sweep {
        return swept;
    }
    loop {
        let settled = matches!(
            crate::time::timeout_at(until, tasks_ended(manager, service_id)).await,
            Ok(true)
        );
        let sweeps = engines
            .iter()
            .map(|d| crate::time::timeout_at(until, sweep_engine(d, batch)));
        for (i, r) in futures::future::join_all(sweeps)
            .await
            .into_iter()
            .enumerate()
        {
            if let Ok(Ok(list)) = r {
                *swept.per_engine[i].get_or_insert(0) += list.len();
                swept.tasks.extend(list);
            }
        }
        if settled || Instant::now() >= until {
            return swept;
        }
        select! {
            _ = crate::time::sleep(POLL_INTERVAL) => {},
            _ = crate::time::sleep_until(until) => {},
        }
    }
}

/// Whether every task the manager lists for the (removed) service
/// `service_id` has ended. Once the service is gone `GET /tasks` cannot
/// filter by it, and the manager keeps a removed job's ended tasks listed.
async fn tasks_ended(manager: &Docker, service_id: &str) -> bool {
    match manager.tasks(&Filters::new()).await {
        Ok(tasks) => tasks
            .iter()
            .filter(|t| t.service_id == service_id)
            .all(|t| t.status.state.is_terminal()),
        Err(_) => false,
    }
}

/// Force-removes the batch's containers on one engine; returns (task id,
/// time its removal took) for each removed.
async fn sweep_engine(docker: &Docker, batch: &str) -> Result<Vec<(String, Duration)>, Error> {
    let filters = Filters::new().label(format!("{BATCH_LABEL}={batch}"));
    let list = docker.list(&ListOptions { all: true, filters }).await?;
    let mut removed = Vec::new();
    for c in list {
        let t0 = Instant::now();
        match docker.remove(&c.id, FORCE).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        let task = c
            .labels
            .get("com.docker.swarm.task.id")
            .cloned()
            .unwrap_or_default();
        removed.push((task, t0.elapsed()));
    }
    Ok(removed)
}

/// Checks what Swarm mode cannot do, before anything is created.
pub(super) fn validate(opts: &LaunchOptions, spec: &ContainerSpec) -> Result<(), LaunchError> {
    opts.validate()?;
    if opts.timeout.is_some() {
        return Err(LaunchError::InvalidOptions {
            option: "timeout",
            reason: "not supported in Swarm mode (a swarm task has no deadline); use deadline"
                .into(),
        });
    }
    if opts.mode != super::Mode::Run {
        return Err(LaunchError::InvalidOptions {
            option: "mode",
            reason: "Swarm mode runs the batch as one service; it cannot be warm too".into(),
        });
    }
    if opts.jobs.is_some() {
        return Err(LaunchError::InvalidOptions {
            option: "jobs",
            reason: "not supported in Swarm mode (one service runs one command)".into(),
        });
    }
    ImageRef::parse(spec.image()).map_err(|e| LaunchError::InvalidOptions {
        option: "image",
        reason: e.to_string(),
    })?;
    spec.validate().map_err(|e| LaunchError::Spec {
        kind: super::FailureKind::SpecInvalid,
        reason: e.to_string(),
        source: Error::InvalidSpec(e),
    })?;
    Ok(())
}

pub(super) async fn launch(
    dockers: Arc<[Docker]>,
    unreachable: Arc<[(String, Error)]>,
    spec: ContainerSpec,
    opts: LaunchOptions,
    progress: Option<Sender<Progress>>,
    batch: String,
    signals: Arc<Signals>,
) -> Result<Report, LaunchError> {
    validate(&opts, &spec)?;
    let output = match &opts.logs_dir {
        Some(dir) => Some(Arc::new(Output::start(dir).map_err(|e| {
            LaunchError::LogsDir {
                path: dir.clone(),
                reason: e.to_string(),
            }
        })?)),
        None => None,
    };
    let started = Instant::now();
    let emit = |p: Progress| {
        if let Some(tx) = &progress {
            let _ = tx.try_send(p);
        }
    };
    let within = opts.connect_timeout;
    let manager = dockers[0].clone();

    // The manager must be one; every engine's node id, for the sweep.
    let status = crate::time::timeout(within, manager.swarm_status())
        .await
        .map_err(|_| Error::Timeout {
            what: format!("GET /info on {}", manager.host()),
            after: within,
        })
        .and_then(|r| r)
        .map_err(|e| LaunchError::Unreachable {
            engines: vec![(manager.host().to_owned(), e)],
        })?;
    if !status.is_manager() {
        return Err(LaunchError::NotSwarmManager {
            host: manager.host().to_owned(),
            state: status.local_node_state.clone(),
        });
    }
    let mut by_node = HashMap::new();
    by_node.insert(status.node_id.clone(), 0);
    for (i, d) in dockers.iter().enumerate().skip(1) {
        if let Ok(Ok(s)) = crate::time::timeout(within, d.swarm_status()).await {
            if s.is_active() {
                by_node.entry(s.node_id).or_insert(i);
            }
        }
    }
    let nodes = Nodes {
        engines: dockers.clone(),
        by_node,
    };

    // From here on, a dropped batch removes the service and sweeps.
    let mut guard = DropGuard {
        armed: Some((
            dockers.clone(),
            batch.clone(),
            opts.keep,
            opts.cancel_grace.max(within),
        )),
    };
    let labelled = spec.clone().label(BATCH_LABEL, batch.clone());
    let service = ServiceSpec::replicated_job(
        batch.clone(),
        &labelled,
        opts.concurrency as u64,
        opts.count as u64,
    )
    .expect("the spec was validated before anything was created")
    .label(BATCH_LABEL, batch.clone());
    let created = if signals.is_cancelled() {
        None
    } else {
        select! {
            r = manager.service_create(&service) => Some(r),
            _ = signals.cancel.recv() => None,
        }
    };
    let cancelled_early = created.is_none();
    let service_id = match created {
        Some(Ok(c)) => c.id,
        Some(Err(e)) => {
            let kind = classify(&e, Phase::Create);
            // A refused spec or a connection never made created nothing.
            // Any other engine failure (a reply lost to a broken
            // connection, a deadline) may have left the service on the
            // manager: the armed guard removes it by name, harmless if
            // there is none.
            if !kind.is_engine_failure() || matches!(e, Error::Connect { .. }) {
                guard.armed = None;
            }
            return Err(if kind.is_engine_failure() {
                LaunchError::Unreachable {
                    engines: vec![(manager.host().to_owned(), e)],
                }
            } else {
                LaunchError::Spec {
                    kind,
                    reason: e.to_string(),
                    source: e,
                }
            });
        }
        // Cancelled while creating: the dropped create's undertaker and
        // the guard remove whatever the engine made of it.
        None => batch.clone(),
    };

    let mut jobs: Vec<Job> = Vec::new();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    let mut ended = 0usize;
    let mut any_ran = false;
    let mut failures = 0u32;
    let mut spec_error: Option<(FailureKind, String, Error)> = None;
    let mut lost: Option<(FailureKind, String)> = None;
    let (done_tx, done_rx) = crate::chan::unbounded::<(usize, ContainerResult)>();
    let deadline = opts.deadline.map(|d| started + d);

    while !cancelled_early && ended < opts.count {
        if let Some(d) = deadline {
            if Instant::now() >= d {
                signals.cancel(Reason::Deadline);
            }
        }
        if signals.is_cancelled() {
            break;
        }
        let polled = select! {
            r = crate::time::timeout(within, manager.service_tasks(&service_id)) => Some(r),
            _ = signals.cancel.recv() => None,
        };
        let Some(polled) = polled else { break };
        let tasks = match polled {
            Ok(Ok(t)) => {
                failures = 0;
                t
            }
            Ok(Err(e)) => {
                failures += 1;
                if failures >= MAX_POLL_FAILURES || !e.is_transient() {
                    lost = Some((classify(&e, Phase::Run), e.to_string()));
                    break;
                }
                Vec::new()
            }
            Err(_) => {
                failures += 1;
                if failures >= MAX_POLL_FAILURES {
                    lost = Some((
                        FailureKind::EngineTimeout,
                        format!(
                            "the manager {} did not list the tasks within {within:?}",
                            manager.host()
                        ),
                    ));
                    break;
                }
                Vec::new()
            }
        };
        let mut order: Vec<&Task> = tasks.iter().collect();
        order.sort_by_key(|t| (parse_ts(&t.created_at), t.id.clone()));
        for task in order {
            let i = match index_of.get(&task.id) {
                Some(&i) => i,
                None if jobs.len() < opts.count => {
                    let i = jobs.len();
                    index_of.insert(task.id.clone(), i);
                    jobs.push(Job {
                        task: task.id.clone(),
                        node: String::new(),
                        container: None,
                        created_at: parse_ts(&task.created_at),
                        seen: BTreeMap::new(),
                        announced: Announced::default(),
                        ended: false,
                    });
                    i
                }
                // A rerun past the batch's count: removed with the service.
                None => continue,
            };
            let job = &mut jobs[i];
            if job.ended {
                continue;
            }
            if !task.node_id.is_empty() {
                job.node = task.node_id.clone();
            }
            if let Some(id) = task.container_id() {
                job.container = Some(id.to_owned());
            }
            let state = task.status.state;
            if let Some(t) = parse_ts(&task.status.timestamp) {
                job.seen.entry(state).or_insert(t);
            }
            let engine = nodes.engine_of(&job.node).unwrap_or(0);
            if state >= TaskState::Ready && !job.announced.created {
                if let Some(id) = &job.container {
                    job.announced.created = true;
                    emit(Progress::Created {
                        index: i,
                        engine,
                        id: id.clone(),
                    });
                }
            }
            // Terminal states sort after `running`; only these mean it ran.
            let ran = state == TaskState::Running || task.exit_code().is_some();
            if ran && !job.announced.started {
                job.announced.started = true;
                any_ran = true;
                emit(Progress::Started { index: i, engine });
            }
            if !state.is_terminal() {
                continue;
            }
            job.ended = true;
            ended += 1;
            let exit_code = task.exit_code();
            if let Some(code) = exit_code {
                any_ran = true;
                emit(Progress::Exited {
                    index: i,
                    engine,
                    exit_code: code,
                });
            }
            let err = task.status.err.clone().filter(|e| !e.is_empty());
            let (kind, message) = match (state, exit_code) {
                (TaskState::Complete, _) => (None, None),
                (TaskState::Failed, Some(code)) if code != 0 => (
                    Some(FailureKind::NonZeroExit),
                    Some(err.unwrap_or_else(|| format!("exited with {code}"))),
                ),
                (TaskState::Failed | TaskState::Rejected, _) => (
                    Some(FailureKind::SpecInvalid),
                    Some(err.unwrap_or_else(|| format!("task {}", task.status.message))),
                ),
                (s, _) => (
                    Some(FailureKind::EngineError),
                    Some(err.unwrap_or_else(|| format!("the swarm ended the task ({s:?})"))),
                ),
            };
            if kind == Some(FailureKind::SpecInvalid) && !any_ran && spec_error.is_none() {
                let reason = message.clone().unwrap_or_default();
                spec_error = Some((
                    FailureKind::SpecInvalid,
                    reason.clone(),
                    Error::Api {
                        status: 400,
                        message: reason,
                    },
                ));
            }
            let result = ContainerResult {
                index: i,
                line: None,
                name: format!("{batch}-{i}"),
                engine: nodes.engine_of(&job.node),
                attempts: 1,
                exit_code,
                kind,
                message,
                stdout_bytes: 0,
                stderr_bytes: 0,
                removed: false,
                kept: opts.keep,
                timings: job.timings(),
                node: Some(job.node.clone()).filter(|n| !n.is_empty()),
            };
            match &output {
                Some(out) if spec_error.is_none() => {
                    // Its logs, through the manager, while the task exists.
                    let (out, manager, task_id, tx) = (
                        out.clone(),
                        manager.clone(),
                        job.task.clone(),
                        done_tx.clone(),
                    );
                    let tty = spec.is_tty();
                    let mut result = result;
                    drop(crate::spawn(async move {
                        let t0 = Instant::now();
                        let read = async {
                            let files = out.open(&result.name).await.map_err(|e| e.to_string())?;
                            let opts = LogsOptions {
                                tty: Some(tty),
                                ..LogsOptions::default()
                            };
                            let copied = async {
                                let s = manager.task_logs(&task_id, &opts).await?;
                                files.copy(s).await
                            };
                            let copied = crate::time::timeout(manager.timeout(), copied).await;
                            let closed = files.close().await.map_err(|e| e.to_string());
                            match copied {
                                Ok(Ok(())) => closed,
                                Ok(Err(e)) => Err(e.to_string()),
                                Err(_) => Err("reading the task's logs timed out".to_owned()),
                            }
                        };
                        match read.await {
                            Ok((o, e)) => {
                                result.stdout_bytes = o;
                                result.stderr_bytes = e;
                            }
                            Err(e) if result.kind.is_none() => {
                                result.kind = Some(FailureKind::OutputLost);
                                result.message = Some(e);
                            }
                            Err(_) => {}
                        }
                        result.timings.output = Some(t0.elapsed());
                        let _ = tx.send((result.index, result)).await;
                    }));
                }
                _ => {
                    let _ = done_tx.try_send((i, result));
                }
            }
            if spec_error.is_some() {
                signals.cancel(Reason::Spec);
                break;
            }
        }
        if spec_error.is_some() || ended >= opts.count {
            break;
        }
        select! {
            _ = crate::time::sleep(POLL_INTERVAL) => {},
            _ = signals.cancel.recv() => {},
        }
    }
    drop(done_tx);

    // Collect the ended jobs' results (their logs are read first).
    let mut results: Vec<Option<ContainerResult>> = (0..jobs.len()).map(|_| None).collect();
    let cancel_at = signals.sweep_deadline();
    let mut got = 0;
    let ended_jobs = ended.min(jobs.len());
    while got < ended_jobs {
        let next = match cancel_at {
            Some(d) => crate::time::timeout_at(d, done_rx.recv())
                .await
                .ok()
                .flatten(),
            None => done_rx.recv().await,
        };
        let Some((i, r)) = next else { break };
        results[i] = Some(r);
        got += 1;
    }

    // Remove the service and sweep its containers off every engine.
    let until = cancel_at.unwrap_or_else(|| Instant::now() + opts.cancel_grace.max(within));
    if cancelled_early {
        // A create abandoned after it was sent: its undertaker removes the
        // service once the engine answers; wait for that, then remove by
        // name in case.
        let _ = crate::time::timeout_at(until, manager.settle()).await;
    }
    let sweep = !opts.keep || spec_error.is_some();
    let Swept {
        per_engine: swept,
        tasks: removed_tasks,
    } = wind_down(&dockers, &service_id, &batch, sweep, until).await;
    guard.armed = None;

    // Jobs that had not ended: cancelled, or lost with the manager.
    let stop_kind = signals
        .reason()
        .map_or(FailureKind::Cancelled, |r| r.kind());
    let mut out = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let mut r = match results[i].take() {
            Some(r) => r,
            None => {
                let (kind, message) = match &lost {
                    Some((k, m)) => (*k, m.clone()),
                    None => (stop_kind, "stopped: the batch was cancelled".to_owned()),
                };
                ContainerResult {
                    index: i,
                    line: None,
                    name: format!("{batch}-{i}"),
                    engine: nodes.engine_of(&job.node),
                    attempts: 1,
                    exit_code: None,
                    kind: Some(kind),
                    message: Some(message),
                    stdout_bytes: 0,
                    stderr_bytes: 0,
                    removed: false,
                    kept: false,
                    timings: job.timings(),
                    node: Some(job.node.clone()).filter(|n| !n.is_empty()),
                }
            }
        };
        // Removed: its container was swept, or it never had one on a node
        // the sweep reached... or anywhere.
        let engine_swept = nodes
            .engine_of(&job.node)
            .is_some_and(|e| swept[e].is_some());
        if let Some(d) = removed_tasks.get(&job.task) {
            r.timings.remove = Some(*d);
            r.removed = true;
            r.kept = false;
            emit(Progress::Removed {
                index: i,
                engine: nodes.engine_of(&job.node).unwrap_or(0),
            });
        } else {
            r.removed = job.container.is_none() || (engine_swept && !r.kept);
        }
        emit(Progress::Finished(Box::new(r.clone())));
        out.push(r);
    }
    if let Some((kind, reason, source)) = spec_error {
        return Err(LaunchError::Spec {
            kind,
            reason,
            source,
        });
    }
    if let (Some((_, m)), true) = (&lost, out.is_empty()) {
        return Err(LaunchError::Unreachable {
            engines: vec![(manager.host().to_owned(), Error::Protocol(m.clone()))],
        });
    }
    Ok(report(
        &batch,
        &opts,
        &nodes,
        &jobs,
        out,
        &swept,
        &signals,
        started.elapsed(),
        output.as_deref(),
        &unreachable,
    ))
}

#[allow(clippy::too_many_arguments)]
fn report(
    batch: &str,
    opts: &LaunchOptions,
    nodes: &Nodes,
    jobs: &[Job],
    results: Vec<ContainerResult>,
    swept: &[Option<usize>],
    signals: &Signals,
    elapsed: Duration,
    output: Option<&Output>,
    unreachable: &[(String, Error)],
) -> Report {
    let phase = |f: fn(&ContainerResult) -> Option<Duration>| {
        PhaseStats::from_samples(results.iter().filter_map(f).collect())
    };
    let phases = Phases {
        create: phase(|r| r.timings.create),
        start: phase(|r| r.timings.start),
        wait: phase(|r| r.timings.wait),
        output: phase(|r| r.timings.output),
        remove: phase(|r| r.timings.remove),
        exit: PhaseStats::default(),
    };
    let mut exit_codes = BTreeMap::new();
    let (mut succeeded, mut failed, mut cancelled, mut exited) = (0, 0, 0, 0);
    for r in &results {
        if let Some(code) = r.exit_code {
            exited += 1;
            *exit_codes.entry(code).or_insert(0) += 1;
        }
        match r.kind {
            None => succeeded += 1,
            Some(FailureKind::Cancelled | FailureKind::DeadlineExceeded) => cancelled += 1,
            Some(_) => failed += 1,
        }
    }
    let hosts: Vec<String> = nodes.engines.iter().map(|d| d.host().to_owned()).collect();
    let mut engines: Vec<EngineReport> = nodes
        .engines
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mine: Vec<&ContainerResult> =
                results.iter().filter(|r| r.engine == Some(i)).collect();
            EngineReport {
                host: d.host().to_owned(),
                state: if i == 0 || swept[i].is_some() {
                    EngineState::Up
                } else {
                    EngineState::WentDown
                },
                error: None,
                launched: mine.len(),
                failed: mine
                    .iter()
                    .filter(|r| {
                        r.kind.is_some_and(|k| {
                            !matches!(k, FailureKind::Cancelled | FailureKind::DeadlineExceeded)
                        })
                    })
                    .count(),
                retried_away: 0,
                not_removed: mine
                    .iter()
                    .filter(|r| !r.removed && !r.kept)
                    .map(|r| r.name.clone())
                    .collect(),
                abandoned_requests: d.abandoned_requests(),
            }
        })
        .collect();
    // Nodes the launcher has no engine for: their containers stay.
    let mut elsewhere: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (r, j) in results.iter().zip(jobs) {
        if r.engine.is_none() && j.container.is_some() && !r.removed {
            elsewhere.entry(&j.node).or_default().push(r.name.clone());
        }
    }
    for (node, names) in elsewhere {
        engines.push(EngineReport {
            host: format!("swarm node {node}"),
            state: EngineState::Unreachable,
            error: Some(
                "not one of the launcher's engines: its task containers were not removed".into(),
            ),
            launched: names.len(),
            failed: 0,
            retried_away: 0,
            not_removed: names,
            abandoned_requests: 0,
        });
    }
    engines.extend(unreachable.iter().map(|(host, err)| EngineReport {
        host: host.clone(),
        state: EngineState::Unreachable,
        error: Some(err.to_string()),
        launched: 0,
        failed: 0,
        retried_away: 0,
        not_removed: Vec::new(),
        abandoned_requests: 0,
    }));
    let cleanup_hosts = engines
        .iter()
        .take(nodes.engines.len())
        .filter(|e| !e.not_removed.is_empty() || e.abandoned_requests > 0)
        .map(|e| e.host.clone())
        .collect();
    let output = match output {
        Some(o) => {
            let (stdout_bytes, stderr_bytes, peak_buffered_bytes) = o.totals();
            OutputReport {
                dir: Some(o.dir.clone()),
                stdout_bytes,
                stderr_bytes,
                peak_buffered_bytes,
            }
        }
        None => OutputReport::default(),
    };
    let elapsed_s = elapsed.as_secs_f64();
    Report {
        batch: batch.to_owned(),
        count: opts.count,
        succeeded,
        failed,
        cancelled: cancelled + opts.count.saturating_sub(results.len()),
        deadline_exceeded: signals.reason() == Some(Reason::Deadline),
        elapsed_s,
        containers_per_s: if elapsed_s > 0.0 {
            exited as f64 / elapsed_s
        } else {
            0.0
        },
        phases,
        failures: count_failures(&results, &hosts),
        exit_codes,
        retried: 0,
        retries: Vec::new(),
        not_removed: engines.iter().map(|e| e.not_removed.len()).sum(),
        engines,
        cleanup_hosts,
        reconciled: swept.iter().flatten().sum(),
        output,
        warm: None,
        containers: results,
    }
}
