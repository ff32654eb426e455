//! Launch a batch of containers concurrently, with a progress bar and a
//! latency report.
//!
//! ```sh
//! cargo run --release --example launch -- --count 50 --concurrency 8
//! cargo run --release --example launch -- --count 200 --concurrency 16 --network none --json
//! cargo run --release --example launch -- --host unix:///var/run/docker.sock --host unix:///run/other.sock
//! cargo run --release --example launch -- --cleanup sd-1764000000000-0a1b
//! ```
//!
//! Without `--image` it runs the project's own minimal image
//! (`stevedore/minimal:<version>-<digest>`), built from the host's busybox
//! or, without one, from the host's own `sh`, coreutils and libraries, and
//! imported: no registry and no set-up needed (`STEVEDORE_BUSYBOX=none`
//! skips busybox). An `--image` that is missing and cannot be pulled is an
//! error (exit 2); nothing is ever imported under its name. Ctrl-C stops
//! the batch and removes every container it created.

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use std::os::fd::{AsRawFd, RawFd};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use stevedore::chan;
use stevedore::docker::launch::{LaunchOptions, Launcher, Progress, Report};
use stevedore::docker::{ContainerSpec, Docker, ImageRef, MinimalImage};
use stevedore::net::UnixStream;

/// Launch containers concurrently over one or more Docker engines.
#[derive(Parser, Debug)]
#[command(name = "launch", version)]
struct Args {
    /// Containers to run.
    #[arg(long, default_value_t = 50)]
    count: usize,
    /// Containers in flight at once.
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
    /// Docker host; repeat for several engines (default: DOCKER_HOST).
    #[arg(long = "host")]
    hosts: Vec<String>,
    /// Keep containers after they exit.
    #[arg(long)]
    keep: bool,
    /// Collect each container's output after it exits.
    #[arg(long)]
    logs: bool,
    /// Print the report as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Remove the leftovers of an earlier batch and exit.
    #[arg(long, value_name = "BATCH_ID")]
    cleanup: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match stevedore::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(args)) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let hosts = if args.hosts.is_empty() {
        vec![std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())]
    } else {
        args.hosts.clone()
    };
    let mut engines = Vec::new();
    for h in &hosts {
        engines.push(Docker::connect_with(h).await.map_err(|e| e.to_string())?);
    }
    let launcher = Launcher::new(engines.clone());

    if let Some(batch) = &args.cleanup {
        let mut failed = false;
        for r in launcher.cleanup(batch).await {
            match r.result {
                Ok(n) => println!("{}: removed {n} containers of batch {batch}", r.host),
                Err(e) => {
                    failed = true;
                    println!("{}: {e}", r.host);
                }
            }
        }
        return Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }

    let mut image = None;
    for d in &engines {
        let name = ensure_image(d, args.image.as_ref()).await?;
        image.get_or_insert(name);
    }
    let image = image.expect("at least one engine");
    let cmd = shell_words::split(&args.cmd).map_err(|e| format!("--cmd: {e}"))?;
    if cmd.is_empty() {
        return Err("--cmd is empty".into());
    }
    let mut spec = ContainerSpec::new(&image).cmd(cmd);
    if let Some(net) = &args.network {
        spec = spec.network_mode(net);
    }
    let mut opts = LaunchOptions::new(args.count);
    opts.concurrency = args.concurrency.max(1);
    opts.keep = args.keep;
    opts.collect_logs = args.logs;

    let (progress_tx, progress_rx) = chan::unbounded::<Progress>();
    let batch = launcher.start(&spec, &opts, Some(progress_tx));
    let batch_id = batch.id().to_owned();
    eprintln!(
        "batch {batch_id}: {} × {:?} on {} (concurrency {})",
        args.count,
        args.cmd,
        hosts.join(", "),
        opts.concurrency
    );

    let bar = ProgressBar::new(args.count as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("valid template"),
    );
    let ui = stevedore::spawn(drive_bar(bar.clone(), progress_rx));

    // Ctrl-C cancels the batch; its future then finishes with the cleanup done.
    let mut ctrl_c = ctrl_c_stream().map_err(|e| format!("cannot watch for Ctrl-C: {e}"))?;
    let canceller = batch.canceller();
    let watcher = stevedore::spawn(async move {
        let mut byte = [0u8; 1];
        if ctrl_c.read(&mut byte).await.is_ok() {
            canceller.cancel();
        }
    });

    let result = batch.await;
    watcher.abort();
    let _ = ui.await;
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            print_report(&report, args.json);
            if report.cancelled > 0 {
                eprintln!("cancelled: every container of batch {batch_id} was removed");
                return Ok(ExitCode::from(130));
            }
            Ok(if report.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Err(e) => Err(e.to_string()),
    }
}

async fn drive_bar(bar: ProgressBar, events: chan::Receiver<Progress>) {
    let (mut running, mut failed, mut retries) = (0i64, 0u64, 0u64);
    while let Some(ev) = events.recv().await {
        match ev {
            Progress::Started { .. } => running += 1,
            Progress::Exited { .. } => {
                running -= 1;
                bar.inc(1);
            }
            Progress::Failed { .. } => {
                failed += 1;
                bar.inc(1);
            }
            Progress::Retrying { .. } => retries += 1,
            _ => {}
        }
        bar.set_message(format!(
            "running {running}, failed {failed}, retries {retries}"
        ));
        bar.tick();
    }
}

fn print_report(report: &Report, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(report).expect("serialisable")
        );
    } else {
        print!("{report}");
    }
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

static SIGNAL_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_sigint(_: libc::c_int) {
    let fd: RawFd = SIGNAL_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe; the buffer is static.
        unsafe { libc::write(fd, b"x".as_ptr().cast(), 1) };
    }
}

/// A socket that becomes readable on SIGINT (the self-pipe trick: the
/// handler only writes a byte; the runtime's reactor does the waiting).
fn ctrl_c_stream() -> std::io::Result<UnixStream> {
    let (reader, writer) = UnixStream::pair()?;
    SIGNAL_FD.store(writer.as_raw_fd(), Ordering::Relaxed);
    std::mem::forget(writer); // must outlive the handler
                              // SAFETY: installs a handler that only performs an async-signal-safe write.
    let prev = unsafe { libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t) };
    if prev == libc::SIG_ERR {
        return Err(std::io::Error::last_os_error());
    }
    Ok(reader)
}
