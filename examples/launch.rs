//! Launch a batch of containers concurrently, with a progress bar and a
//! latency report.
//!
//! ```sh
//! cargo run --release --example launch -- --count 50 --concurrency 8
//! cargo run --release --example launch -- --count 200 --concurrency 16 --network none --json
//! cargo run --release --example launch -- --count 8 --cmd "sh -c 'echo hi'" --logs-dir out/
//! cargo run --release --example launch -- --count 100 --timeout 30s --deadline 10m
//! cargo run --release --example launch -- --host unix:///var/run/docker.sock --host unix:///run/other.sock
//! cargo run --release --example launch -- --cleanup sd-1764000000000-0a1b
//! cargo run --release --example launch -- --count 4 -v /srv/data:/data:ro -p 127.0.0.1::80 \
//!     -e MODE=demo --user 1000:1000 --workdir /data --memory 64m --cpus 1.5
//! cargo run --release --example launch -- --build ./app --image app:dev --count 10
//! cargo run --release --example launch -- --swarm --host unix:///run/manager.sock --count 100
//! cargo run --release --example launch -- --warm 8 --count 100 --cmd true
//! cargo run --release --example launch -- --jobs jobs.txt --warm 4 --json
//! ```
//!
//! `--warm K` starts K long-lived containers (kept alive by `sleep`) and
//! runs every job in them as an exec. `--jobs FILE` (`-` for stdin) runs
//! one job per line, each split like `--cmd`; blank lines and lines
//! starting with `#` are skipped, and the report names jobs by line
//! number. `--jobs` and `--count` do not go together (exit 2).
//!
//! Without `--image` it runs the project's own minimal image
//! (`stevedore/minimal:<version>-<digest>`), built from the host's busybox
//! or, without one, from the host's own `sh`, coreutils and libraries, and
//! imported: no registry and no set-up needed (`STEVEDORE_BUSYBOX=none`
//! skips busybox). An `--image` that is missing and cannot be pulled is an
//! error (exit 2); nothing is ever imported under its name. Ctrl-C stops
//! the batch and removes every container it created (within 5 s); a
//! second Ctrl-C exits at once. Exit status: 0 every container exited 0,
//! 1 some failed (or may be left behind), 2 usage or spec error (nothing
//! created), 3 no engine reachable, 124 the `--deadline` passed, 130
//! cancelled by Ctrl-C.

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use stevedore::chan;
use stevedore::docker::build::{BuildOptions, BuildProgress};
use stevedore::docker::launch::{
    FailureKind, JobList, LaunchError, LaunchOptions, Launcher, Mode, Progress, Report,
};
use stevedore::docker::spec::{parse_cpus, parse_memory, Mount, PortBinding};
use stevedore::docker::{ContainerSpec, Docker, DockerBuilder, ImageRef, MinimalImage};
use stevedore::signal::unix::{signal, SignalKind};

/// Launch containers concurrently over one or more Docker engines.
#[derive(Parser, Debug)]
#[command(name = "launch", version)]
struct Args {
    /// Containers to run (1 to 1,000,000; default 50).
    #[arg(long, conflicts_with = "jobs")]
    count: Option<usize>,
    /// One job per line of FILE (`-`: stdin), each split like `--cmd`;
    /// blank lines and `#` comments are skipped. Conflicts with `--count`.
    #[arg(long, value_name = "FILE")]
    jobs: Option<PathBuf>,
    /// Start K long-lived containers and run every job in them as an exec
    /// (`--concurrency` is then K).
    #[arg(long, value_name = "K")]
    warm: Option<usize>,
    /// Containers in flight at once (1 to 4096).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Image to run, pulled if absent (default: the project's minimal image,
    /// built from the host and imported).
    #[arg(long)]
    image: Option<ImageRef>,
    /// Command, split like a shell would (`--cmd "sh -c 'echo hi'"`).
    #[arg(long, default_value = "true")]
    cmd: String,
    /// Network mode (`none`, `bridge`, …).
    #[arg(long)]
    network: Option<String>,
    /// Docker host; repeat for several engines (default: DOCKER_HOST, then
    /// unix:///var/run/docker.sock). Unreachable ones are reported and
    /// skipped.
    #[arg(long = "host")]
    hosts: Vec<String>,
    /// Remote engines (as the docker CLI): a docker context to use
    /// instead of --host (default: DOCKER_CONTEXT, then config.json's
    /// currentContext, when DOCKER_HOST is unset).
    #[arg(long)]
    context: Option<String>,
    /// Use TLS for tcp:// hosts without verifying the engine.
    #[arg(long)]
    tls: bool,
    /// Use TLS and verify the engine (DOCKER_TLS_VERIFY).
    #[arg(long)]
    tlsverify: bool,
    /// CA certificate for --tlsverify (default DOCKER_CERT_PATH/ca.pem).
    #[arg(long, value_name = "PATH")]
    tlscacert: Option<std::path::PathBuf>,
    /// Client certificate (default DOCKER_CERT_PATH/cert.pem).
    #[arg(long, value_name = "PATH")]
    tlscert: Option<std::path::PathBuf>,
    /// Client key (default DOCKER_CERT_PATH/key.pem).
    #[arg(long, value_name = "PATH")]
    tlskey: Option<std::path::PathBuf>,
    /// Kill and remove a container still running this long after its start
    /// (`500ms`, `30s`, `2m`); it is reported as timed out.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    timeout: Option<Duration>,
    /// Cancel the whole batch after this long (exit status 124).
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    deadline: Option<Duration>,
    /// How long an engine has to answer (connect, ping); one that stops
    /// answering during the batch is marked down and its work moves on.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION", default_value = "10s")]
    connect_timeout: Duration,
    /// Write each container's stdout and stderr to DIR/<name>.stdout and
    /// DIR/<name>.stderr, streamed while it runs.
    #[arg(long, value_name = "DIR")]
    logs_dir: Option<PathBuf>,
    /// Keep containers that ran to their exit.
    #[arg(long)]
    keep: bool,
    /// Print the report as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Swarm mode: the first --host is a swarm manager; the batch runs as
    /// one replicated-job service there. Give the other nodes' engines as
    /// more --host to have their task containers removed (and the image
    /// made available on them).
    #[arg(long)]
    swarm: bool,
    /// Remove the leftovers of an earlier batch on the given hosts and exit.
    #[arg(long, value_name = "BATCH_ID")]
    cleanup: Option<String>,
    /// Bind mount or volume, as `docker run -v`: `/host:/ctr[:ro]`,
    /// `volume:/ctr`, `/ctr`; repeatable.
    #[arg(short = 'v', long = "volume", value_name = "SRC:DST[:OPTS]")]
    volumes: Vec<Mount>,
    /// Published port, as `docker run -p`: `8080:80`, `127.0.0.1:8080:80`,
    /// `53:53/udp`; repeatable.
    #[arg(short = 'p', long = "publish", value_name = "[IP:]HOST:CTR[/PROTO]")]
    ports: Vec<PortBinding>,
    /// Environment variable `KEY=VALUE` (`KEY` alone takes the host's
    /// value, and is skipped when unset); repeatable.
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// User to run as (`uid[:gid]` or a name).
    #[arg(long)]
    user: Option<String>,
    /// Working directory inside the container (absolute).
    #[arg(short = 'w', long)]
    workdir: Option<String>,
    /// Memory limit: `64m`, `1.5g`, `1073741824`.
    #[arg(long, value_parser = parse_memory, value_name = "SIZE")]
    memory: Option<i64>,
    /// CPU limit in CPUs: `1.5`, `0.25`.
    #[arg(long, value_parser = parse_cpus, value_name = "CPUS")]
    cpus: Option<i64>,
    /// Build the image from DIR (its Dockerfile, .dockerignore honoured) on
    /// every engine first, then launch the batch from it; `--image` names
    /// the tag (default `stevedore/launch-build:latest`).
    #[arg(long, value_name = "DIR")]
    build: Option<PathBuf>,
    /// Log the launcher's events on stderr: retries, engines marked down,
    /// finished containers, sweeps. `RUST_LOG` (e.g. `stevedore=debug`, which
    /// adds every request and lifecycle step) overrides the level.
    #[arg(long)]
    verbose: bool,
}

/// The tag `--build` gives its image when `--image` does not name one.
const BUILD_TAG: &str = "stevedore/launch-build:latest";

/// Builds `dir` on `docker` as `tag`, its output on stderr.
async fn build_image(docker: &Docker, dir: &std::path::Path, tag: &str) -> Result<String, String> {
    eprintln!("building {} as {tag} on {}", dir.display(), docker.host());
    let opts = BuildOptions::dir(dir).tag(tag);
    let built = docker
        .build(&opts, |p| {
            if let BuildProgress::Output(text) = p {
                eprint!("{text}");
            }
        })
        .await
        .map_err(|e| format!("--build {}: {e}", dir.display()))?;
    eprintln!("built {tag} ({})", built.id);
    Ok(tag.to_owned())
}

/// `-v`, `-p`, `-e`, `--user`, `--workdir`, `--memory`, `--cpus` applied to
/// `spec`.
fn container_options(args: &Args, mut spec: ContainerSpec) -> ContainerSpec {
    for m in &args.volumes {
        spec = spec.mount(m.clone());
    }
    for p in &args.ports {
        spec = spec.publish(p.clone());
    }
    for e in &args.env {
        match e.split_once('=') {
            Some((k, v)) => spec = spec.env(k, v),
            None => {
                if let Ok(v) = std::env::var(e) {
                    spec = spec.env(e, v);
                }
            }
        }
    }
    if let Some(u) = &args.user {
        spec = spec.user(u);
    }
    if let Some(w) = &args.workdir {
        spec = spec.working_dir(w);
    }
    if let Some(m) = args.memory {
        spec = spec.memory(m);
    }
    if let Some(c) = args.cpus {
        spec = spec.nano_cpus(c);
    }
    spec
}

/// Why the demo stops without a report: (exit status, message).
type Fail = (u8, String);

fn usage(msg: impl Into<String>) -> Fail {
    (2, msg.into())
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(args.verbose);
    let rt = match stevedore::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(args)) {
        Ok(code) => code,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(code)
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, Fail> {
    // Every check that needs no engine comes first: nothing is created
    // for bad input.
    let mut opts = LaunchOptions::new(args.count.unwrap_or(50));
    if let Some(path) = &args.jobs {
        let list = if path.as_os_str() == "-" {
            JobList::read(std::io::stdin().lock())
        } else {
            let file = std::fs::File::open(path)
                .map_err(|e| usage(format!("--jobs {}: {e}", path.display())))?;
            JobList::read(file)
        };
        opts = opts.with_jobs(list.map_err(|e| usage(format!("--jobs: {e}")))?);
    }
    if let Some(k) = args.warm {
        opts.mode = Mode::Warm { containers: k };
    }
    opts.concurrency = args.concurrency;
    opts.keep = args.keep;
    opts.timeout = args.timeout;
    opts.deadline = args.deadline;
    opts.connect_timeout = args.connect_timeout;
    opts.logs_dir = args.logs_dir.clone();
    opts.swarm = args.swarm;
    if args.cleanup.is_none() {
        opts.validate().map_err(|e| usage(e.to_string()))?;
    }
    let cmd = shell_words::split(&args.cmd).map_err(|e| usage(format!("--cmd: {e}")))?;
    if cmd.is_empty() {
        return Err(usage("--cmd is empty"));
    }
    // The container options are checked before any engine is contacted.
    container_options(&args, ContainerSpec::new("validate"))
        .validate()
        .map_err(|e| usage(e.to_string()))?;
    let (hosts, builder) = remote_settings(&args)?;
    let builder = builder.connect_timeout(args.connect_timeout);
    let launcher = match Launcher::connect(&hosts, builder).await {
        Ok(l) => l,
        Err(e @ LaunchError::Unreachable { .. }) => return Err((3, e.to_string())),
        Err(e) => return Err(usage(e.to_string())),
    };
    for (host, e) in launcher.unreachable() {
        eprintln!("warning: engine {host} is unreachable, skipped: {e}");
    }

    if let Some(batch) = &args.cleanup {
        let mut failed = Vec::new();
        for r in launcher.cleanup(batch).await {
            match r.result {
                Ok(n) => println_quiet(&format!(
                    "{}: removed {n} containers of batch {batch}",
                    r.host
                )),
                Err(e) => {
                    eprintln!("{}: not cleaned: {e}", r.host);
                    failed.push(r.host);
                }
            }
        }
        if !failed.is_empty() {
            eprintln!("once they answer, run: {}", cleanup_command(batch, &failed));
            return Ok(ExitCode::from(1));
        }
        return Ok(ExitCode::SUCCESS);
    }

    let mut image = None;
    for d in launcher.engines() {
        let name = match &args.build {
            Some(dir) => {
                let tag = args
                    .image
                    .as_ref()
                    .map_or(BUILD_TAG.to_owned(), |i| i.to_string());
                build_image(d, dir, &tag).await.map_err(usage)?
            }
            None => ensure_image(d, args.image.as_ref()).await.map_err(usage)?,
        };
        image.get_or_insert(name);
    }
    let image = image.expect("at least one engine");
    let mut spec = container_options(&args, ContainerSpec::new(&image).cmd(cmd));
    if let Some(net) = &args.network {
        spec = spec.network_mode(net);
    }

    // Ctrl-C is watched before the batch starts: its workers may start
    // containers before this task reaches the watcher below, and a SIGINT
    // with its default action would kill the demo with them left behind.
    // (Before this, a Ctrl-C ends the demo at once: no container exists yet.)
    let mut ctrl_c = signal(SignalKind::interrupt())
        .map_err(|e| (2, format!("cannot watch for Ctrl-C: {e}")))?;
    let (progress_tx, progress_rx) = chan::unbounded::<Progress>();
    let batch = launcher.start(&spec, &opts, Some(progress_tx));
    let batch_id = batch.id().to_owned();
    let what = match &args.jobs {
        Some(path) => format!("{} jobs from {}", opts.count, path.display()),
        None => format!("{} × {:?}", opts.count, args.cmd),
    };
    let how = match opts.mode {
        Mode::Warm { containers } => format!("{containers} warm containers"),
        _ => format!("concurrency {}", opts.concurrency),
    };
    eprintln!(
        "batch {batch_id}: {what} on {} ({how})",
        launcher.hosts().join(", "),
    );

    let bar = ProgressBar::new(opts.count as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("valid template"),
    );
    // Ticks on its own, so the elapsed time moves while nothing finishes.
    bar.enable_steady_tick(Duration::from_millis(100));
    let _ = BAR.set(bar.clone());
    let ui = stevedore::spawn(drive_bar(bar.clone(), progress_rx, launcher.hosts()));

    // The first Ctrl-C cancels the batch (its future then finishes with the
    // cleanup done, within the cancel grace); the second exits at once. (A
    // Ctrl-C that came since the listener was installed is seen now: it
    // cancels the batch at once.)
    let canceller = batch.canceller();
    let watcher = {
        let (bar, batch_id, hosts) = (bar.clone(), batch_id.clone(), launcher.hosts());
        stevedore::spawn(async move {
            if ctrl_c.recv().await.is_none() {
                return;
            }
            canceller.cancel();
            note(
                &bar,
                "cancelling: removing what the batch created (Ctrl-C again to exit at once)",
            );
            if ctrl_c.recv().await.is_none() {
                return;
            }
            bar.finish_and_clear();
            eprintln!(
                "exiting at once: containers of batch {batch_id} may remain; run: {}",
                cleanup_command(&batch_id, &hosts)
            );
            std::process::exit(130);
        })
    };

    let result = batch.await;
    watcher.abort();
    let _ = ui.await;
    bar.finish_and_clear();
    let report = match result {
        Ok(report) => report,
        Err(e @ LaunchError::Spec { .. }) => return Err(usage(e.to_string())),
        Err(e) => return Err(usage(e.to_string())),
    };
    print_report(&report, args.json);
    if !report.cleanup_hosts.is_empty() {
        eprintln!(
            "{} containers of batch {} were not seen removed; once {} answer again, run: {}",
            report.not_removed,
            report.batch,
            report.cleanup_hosts.join(", "),
            cleanup_command(&report.batch, &report.cleanup_hosts)
        );
    }
    if report.deadline_exceeded {
        return Ok(ExitCode::from(124));
    }
    if report.cancelled > 0 {
        if report.cleanup_hosts.is_empty() {
            eprintln!("cancelled: every container of batch {batch_id} was removed");
        }
        return Ok(ExitCode::from(130));
    }
    Ok(if report.failed == 0 && report.cleanup_hosts.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The hosts and TLS settings, as the docker CLI resolves them: --host,
/// else --context, else DOCKER_HOST, else DOCKER_CONTEXT / the current
/// context, else the local socket; TLS from the --tls* flags, else the
/// context, else DOCKER_TLS_VERIFY / DOCKER_CERT_PATH.
fn remote_settings(args: &Args) -> Result<(Vec<String>, DockerBuilder), Fail> {
    use stevedore::docker::{config_dir, DockerContext, TlsOptions};
    if args.context.is_some() && !args.hosts.is_empty() {
        return Err(usage("--context and --host cannot be used together"));
    }
    let mut builder = Docker::builder();
    let env_host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
    let context = match &args.context {
        Some(c) => Some(c.clone()),
        None if args.hosts.is_empty() && env_host.is_none() => {
            DockerContext::current_name(&config_dir()).map_err(|e| usage(e.to_string()))?
        }
        None => None,
    };
    let mut tls = None;
    let hosts = if !args.hosts.is_empty() {
        args.hosts.clone()
    } else if let Some(name) = context.filter(|n| n != "default") {
        let ctx = DockerContext::load(&name).map_err(|e| usage(e.to_string()))?;
        tls = ctx.tls;
        vec![ctx.host]
    } else {
        vec![env_host.unwrap_or_else(|| stevedore::docker::DEFAULT_HOST.into())]
    };
    let flags = args.tls
        || args.tlsverify
        || args.tlscacert.is_some()
        || args.tlscert.is_some()
        || args.tlskey.is_some();
    if flags {
        let certs = std::env::var_os("DOCKER_CERT_PATH")
            .filter(|p| !p.is_empty())
            .map_or_else(config_dir, std::path::PathBuf::from);
        let mut t = TlsOptions::from_cert_path(certs).verify(args.tlsverify);
        if !args.tlsverify && args.tlscacert.is_none() {
            t.ca = None;
        }
        if let Some(p) = &args.tlscacert {
            t = t.ca(p);
        }
        if let Some(p) = &args.tlscert {
            t = t.cert(p);
        }
        if let Some(p) = &args.tlskey {
            t = t.key(p);
        }
        tls = Some(t);
    }
    if let Some(t) = tls {
        builder = builder.tls(t);
    }
    Ok((hosts, builder))
}

/// The command that removes what a batch left on `hosts`.
fn cleanup_command(batch: &str, hosts: &[String]) -> String {
    let prog = std::env::args()
        .next()
        .unwrap_or_else(|| "launch".to_owned());
    let mut cmd = format!("{prog} --cleanup {batch}");
    for h in hosts {
        cmd.push_str(&format!(" --host {h}"));
    }
    cmd
}

/// A line on stderr above the bar (or alone when there is no bar).
/// The progress bar, once there is one: log lines are printed around it.
static BAR: std::sync::OnceLock<ProgressBar> = std::sync::OnceLock::new();

/// `tracing` events on stderr when `--verbose` or `RUST_LOG` asks for them.
fn init_logging(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        _ if verbose => EnvFilter::new("stevedore=info"),
        _ => return,
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LogLine(Vec::new()))
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// One formatted event, written out when dropped: above the progress bar if
/// there is one (so neither garbles the other), else straight to stderr.
struct LogLine(Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let out = || {
            let _ = std::io::stderr().write_all(&self.0);
        };
        match BAR.get() {
            Some(bar) if !bar.is_hidden() => bar.suspend(out),
            _ => out(),
        }
    }
}

fn note(bar: &ProgressBar, line: &str) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

/// Drives the bar from the progress events: finished containers, in flight
/// (created and not finished), failures, retries, engines down.
async fn drive_bar(bar: ProgressBar, events: chan::Receiver<Progress>, hosts: Vec<String>) {
    let mut in_flight = HashSet::new();
    let (mut failed, mut retries) = (0u64, 0u64);
    let started = std::time::Instant::now();
    while let Some(ev) = events.recv().await {
        match ev {
            Progress::Created { index, .. } => {
                in_flight.insert(index);
            }
            Progress::Retrying { index, .. } => {
                in_flight.remove(&index);
                retries += 1;
            }
            Progress::EngineDown {
                engine,
                kind,
                reason,
            } => {
                let what = if kind == FailureKind::EngineTimeout {
                    "stopped answering; marked down, its work moves to the other engines"
                } else {
                    "refused the connection; passed over for a while"
                };
                note(
                    &bar,
                    &format!(
                        "[{:.1}s] engine {} {what} ({reason})",
                        started.elapsed().as_secs_f64(),
                        hosts.get(engine).map_or("?", String::as_str)
                    ),
                );
            }
            Progress::Finished(r) => {
                in_flight.remove(&r.index);
                if r.kind.is_some_and(|k| {
                    !matches!(k, FailureKind::Cancelled | FailureKind::DeadlineExceeded)
                }) {
                    failed += 1;
                }
                bar.inc(1);
            }
            _ => {}
        }
        bar.set_message(format!(
            "in flight {}, failed {failed}, retries {retries}",
            in_flight.len()
        ));
    }
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly.
fn println_quiet(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

fn print_report(report: &Report, json: bool) {
    let text = if json {
        let mut v = serde_json::to_value(report).expect("serialisable");
        v["cleanup_command"] = if report.cleanup_hosts.is_empty() {
            serde_json::Value::Null
        } else {
            cleanup_command(&report.batch, &report.cleanup_hosts).into()
        };
        serde_json::to_string_pretty(&v).expect("serialisable")
    } else {
        report.to_string()
    };
    println_quiet(text.trim_end());
}

/// Makes sure the image is on `docker` and returns its name: `--image`
/// present or pulled, else the project's minimal image (imported if
/// absent, saying so).
async fn ensure_image(docker: &Docker, image: Option<&ImageRef>) -> Result<String, String> {
    if let Some(image) = image {
        let name = image.to_string();
        docker
            .ensure_image(&name)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(name);
    }
    let info = docker
        .ensure_minimal_image(&MinimalImage::from_env())
        .await
        .map_err(|e| e.to_string())?;
    if info.imported {
        eprintln!(
            "imported {} into {} (from {})",
            info.reference,
            docker.host(),
            info.source
        );
    }
    Ok(info.reference)
}
