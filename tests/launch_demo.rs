//! The demo (`examples/launch.rs`) as a user runs it: usage errors before
//! anything is created, `DOCKER_HOST=` as unset, a closed stdout pipe,
//! unreachable hosts, the live bar (under a pseudo-terminal), and the
//! hung-engine timeline — SIGSTOP on a second dockerd, then Ctrl-C
//! (SIGINT) once and twice — measured in seconds.

#[path = "util/dockerd.rs"]
mod dockerd;
#[path = "util/docker.rs"]
mod dutil;
mod util;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use stevedore::docker::launch::BATCH_LABEL;
use stevedore::docker::{Docker, EventsOptions, Filters, ListOptions};
use util::rt;

/// Builds the demo in this test's profile (once) and returns its path.
fn demo() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_owned();
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "--example", "launch"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "building the demo failed");
        profile_dir.join("examples").join("launch")
    })
    .clone()
}

fn image() -> String {
    rt(1).block_on(async { dutil::image(&dutil::docker().await).await })
}

/// Runs the demo to its end: (exit code, stdout, stderr).
fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(demo())
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn usage_errors_exit_2_before_anything_is_created() {
    let huge = u64::MAX.to_string();
    let path = dutil::main_socket_path().expect("the tests' engine is a Unix socket");
    let url = format!("unix://{path}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--count", "0"],
        vec!["--concurrency", "0"],
        vec!["--count", &huge],
        vec!["--count", "99999999999999999999999"],
        vec!["--timeout", "soon"],
        vec!["--deadline", "0s"],
        vec!["--cmd", ""],
        vec!["--host", &url, "--host", &path],
    ];
    for args in cases {
        let t = Instant::now();
        let (code, _, err) = run(&args, &[]);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            !err.contains("batch sd-"),
            "{args:?} started a batch: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(t.elapsed() < Duration::from_secs(30), "{args:?}");
    }
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let img = image();
    let mut child = Command::new(demo())
        .args([
            "--count",
            "2",
            "--json",
            "--network",
            "none",
            "--image",
            &img,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `| head -0`: the pipe is closed
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
}

/// `DOCKER_HOST=` (empty) means unset, as for the docker CLI: the demo
/// goes to the default socket. Checked with `--cleanup` of a batch id
/// nobody used, which only lists: it names the engine it asked, whatever
/// state that engine is in, and creates nothing.
#[test]
fn an_empty_docker_host_means_unset() {
    let batch = format!("sd-{}-emptyhost", std::process::id());
    let (code, out, err) = run(&["--cleanup", &batch], &[("DOCKER_HOST", "")]);
    let all = format!("{out}{err}");
    assert!(all.contains("/var/run/docker.sock"), "exit {code}: {all}");
    assert!(!all.contains("DOCKER_HOST"), "exit {code}: {all}");
    assert!(!all.contains("panicked"), "{all}");
}

#[test]
fn an_unreachable_host_is_skipped_all_unreachable_is_exit_3_and_cleanup_names_it() {
    let img = image();
    let gone = "unix:///tmp/stevedore-demo-no-engine.sock";
    let base = [
        "--network",
        "none",
        "--image",
        &img,
        "--connect-timeout",
        "3s",
    ];
    let main = dutil::main_host();
    let mut args = vec!["--count", "2", "--json", "--host", gone, "--host", &main];
    args.extend(base);
    let (code, out, err) = run(&args, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("engine {gone} is unreachable, skipped")),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let engines = report["engines"].as_array().unwrap();
    assert!(engines
        .iter()
        .any(|e| e["host"] == gone && e["state"] == "unreachable"));

    let (code, _, err) = run(&["--count", "2", "--host", gone], &[]);
    assert_eq!(code, 3, "{err}");

    let batch = report["batch"].as_str().unwrap();
    let (code, out, err) = run(&["--cleanup", batch, "--host", gone, "--host", &main], &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains(&format!("{main}: removed 0 containers")),
        "{out}"
    );
    assert!(
        err.contains(&format!("--cleanup {batch} --host {gone}")),
        "{err}"
    );
}

#[test]
fn the_bar_ticks_while_nothing_finishes_shows_in_flight_and_is_cleared() {
    let img = image();
    let cmd = format!(
        "{} --count 1 --cmd 'sleep 3' --network none --image {img}",
        demo().display()
    );
    // `script` gives the demo a terminal, so the bar is drawn.
    let out = Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script (bsdutils) is needed for a pseudo-terminal");
    assert!(out.status.success());
    let t = String::from_utf8_lossy(&out.stdout);
    for stamp in ["[00:00:01]", "[00:00:02]", "in flight 1, failed 0"] {
        assert!(t.contains(stamp), "missing {stamp:?}");
    }
    assert!(
        t.contains("\u{1b}[2Kbatch "),
        "the bar is cleared before the report"
    );
}

/// The lines of a child's stderr as they come, with their time.
fn lines(child: &mut Child) -> mpsc::Receiver<(Instant, String)> {
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { return };
            if tx.send((Instant::now(), line)).is_err() {
                return;
            }
        }
    });
    rx
}

fn wait_line(rx: &mpsc::Receiver<(Instant, String)>, pat: &str) -> (Instant, String) {
    loop {
        let (at, line) = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("no line with {pat:?}"));
        if line.contains(pat) {
            return (at, line);
        }
    }
}

fn wait_exit(child: &mut Child, within: Duration) -> (Instant, i32) {
    let deadline = Instant::now() + within;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return (Instant::now(), s.code().unwrap_or(-1));
        }
        assert!(
            Instant::now() < deadline,
            "the demo did not exit within {within:?}"
        );
        std::thread::park_timeout(Duration::from_millis(20)); // polling an external process
    }
}

fn sigint(child: &Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn hung_engine_timeline_sigstop_then_ctrl_c_once_and_twice() {
    let img = image();
    let second = dockerd::SecondDaemon::start("demo");
    let host_b = second.host();
    let main = dutil::main_host();
    rt(2).block_on(async {
        let b = Docker::connect_with(&host_b).await.unwrap();
        dutil::image(&b).await;
    });
    let spawn = |cmd: &str, count: &str| {
        Command::new(demo())
            .args(["--count", count, "--concurrency", "8", "--network", "none"])
            .args(["--image", &img, "--cmd", cmd, "--connect-timeout", "2s"])
            .args(["--host", &main, "--host", &host_b])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Containers started on the second engine, seen by its events.
    let starts_on_b = |n: usize| {
        let host_b = host_b.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            rt(1).block_on(async {
                use futures::StreamExt;
                let b = Docker::connect_with(&host_b).await.unwrap();
                let mut ev = b
                    .events(&EventsOptions {
                        filters: Filters::new()
                            .add("type", "container")
                            .add("event", "start"),
                        ..EventsOptions::default()
                    })
                    .await
                    .unwrap();
                let _ = tx.send(());
                for _ in 0..n {
                    ev.next().await.unwrap().unwrap();
                }
                let _ = tx.send(());
            })
        });
        rx
    };

    // 1. SIGSTOP mid-batch: the engine is marked down, the batch ends.
    let started = starts_on_b(2);
    started.recv().unwrap(); // subscribed
    let mut child = spawn("sleep 1", "24");
    let err = lines(&mut child);
    started.recv_timeout(Duration::from_secs(120)).unwrap();
    let t0 = Instant::now();
    second.freeze();
    let (t1, _) = wait_line(&err, "stopped answering");
    let (t2, code) = wait_exit(&mut child, Duration::from_secs(120));
    let mut rest = String::new();
    while let Ok((_, l)) = err.recv_timeout(Duration::from_secs(5)) {
        rest.push_str(&l);
        rest.push('\n');
    }
    println!(
        "SIGSTOP → engine marked down: {:.1} s; → batch ended (exit {code}): {:.1} s",
        (t1 - t0).as_secs_f64(),
        (t2 - t0).as_secs_f64()
    );
    assert_eq!(
        code, 1,
        "containers may be left on the frozen engine: {rest}"
    );
    let cleanup = rest
        .lines()
        .find_map(|l| l.split_once("run: ").map(|(_, c)| c.to_owned()))
        .unwrap_or_else(|| panic!("no cleanup command: {rest}"));
    assert!(cleanup.contains(&format!("--host {host_b}")), "{cleanup}");

    // 2. Ctrl-C with the engine frozen: the batch ends within 5 s.
    second.thaw();
    let started = starts_on_b(2);
    started.recv().unwrap();
    let mut child = spawn("sleep 60", "16");
    let _err = lines(&mut child);
    started.recv_timeout(Duration::from_secs(120)).unwrap();
    second.freeze();
    let t0 = Instant::now();
    sigint(&child);
    let (t1, code) = wait_exit(&mut child, Duration::from_secs(30));
    println!(
        "Ctrl-C (engine frozen) → exit {code}: {:.1} s",
        (t1 - t0).as_secs_f64()
    );
    assert_eq!(code, 130);
    assert!(t1 - t0 < Duration::from_secs(5), "{:?}", t1 - t0);

    // 3. Ctrl-C twice: the second exits at once.
    second.thaw();
    let started = starts_on_b(2);
    started.recv().unwrap();
    let mut child = spawn("sleep 60", "16");
    let err = lines(&mut child);
    started.recv_timeout(Duration::from_secs(120)).unwrap();
    second.freeze();
    sigint(&child);
    wait_line(&err, "Ctrl-C again");
    let t0 = Instant::now();
    sigint(&child);
    let (t1, code) = wait_exit(&mut child, Duration::from_secs(30));
    println!(
        "second Ctrl-C → exit {code}: {:.2} s",
        (t1 - t0).as_secs_f64()
    );
    assert_eq!(code, 130);
    assert!(t1 - t0 < Duration::from_secs(1), "{:?}", t1 - t0);

    // The engine resumes; the printed cleanup command removes what the
    // exited demos could not (their undertakers died with them).
    second.thaw();
    let mut parts = cleanup.split_whitespace();
    let prog = parts.next().unwrap();
    let st = Command::new(prog)
        .args(parts)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    rt(1).block_on(async {
        let b = Docker::connect_with(&host_b).await.unwrap();
        // Every batch's containers, by label: the cleanup above took the
        // first batch's; the others' are left to a sweep of our own.
        let left = b
            .list(&ListOptions {
                all: true,
                filters: Filters::new().label(BATCH_LABEL),
            })
            .await
            .unwrap();
        for c in left {
            let batch = &c.labels[BATCH_LABEL];
            assert!(!cleanup.contains(batch.as_str()), "cleanup left {}", c.id);
        }
    });
}

#[test]
fn container_flags_in_docker_run_formats() {
    // Malformed values: exit 2 with a message naming the flag, before any
    // engine is contacted.
    let cases: [(&[&str], &str); 9] = [
        (&["-v", "relative:dir"], "-v"),
        (&["-v", "/a:/b:bogus"], "bogus"),
        (&["-p", "70000:80"], "70000"),
        (&["-p", "80/icmp"], "icmp"),
        (&["--memory", "64x"], "64x"),
        (&["--cpus", "-1"], "-1"),
        (&["--cpus", "0.0000000001"], "nine decimals"),
        (&["--workdir", "relative"], "--workdir"),
        (&["-e", "=value"], "-e"),
    ];
    for (args, says) in cases {
        let mut all = vec!["--host", "unix:///nonexistent/stevedore.sock"];
        all.extend_from_slice(args);
        let (code, _, err) = run(&all, &[]);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?} does not say {says:?}: {err}");
        assert!(
            !err.contains("unreachable"),
            "{args:?} contacted an engine: {err}"
        );
    }

    // Good values reach the containers.
    let dir = std::env::temp_dir().join(format!("stevedore-demo-flags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello"), "hi").unwrap();
    let mount = format!("{}:/in:ro", dir.display());
    let check = "test \"$(cat hello)\" = hi && test \"$MODE\" = demo && test \"$(id -u)\" = 1234 \
                 && ! touch /in/x 2>/dev/null";
    let cmd = format!("sh -c '{check}'");
    let (code, out, err) = run(
        &[
            "--count",
            "2",
            "--network",
            "none",
            "-v",
            &mount,
            "-e",
            "MODE=demo",
            "--user",
            "1234",
            "--workdir",
            "/in",
            "--memory",
            "64m",
            "--cpus",
            "0.5",
            "-p",
            "127.0.0.1::80",
            "--cmd",
            &cmd,
        ],
        &[],
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
}

#[test]
fn build_then_launch_from_the_result() {
    let img = image();
    let dir = std::env::temp_dir().join(format!("stevedore-demo-build-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        format!("FROM {img} AS base\nRUN echo built > /built\nFROM base\nCOPY msg /msg\n"),
    )
    .unwrap();
    std::fs::write(dir.join("msg"), "from the context").unwrap();
    std::fs::write(dir.join(".dockerignore"), "secret\n").unwrap();
    std::fs::write(dir.join("secret"), "x").unwrap();
    let tag = format!("stevedore-test-demo-build:{}", std::process::id());
    let d = dir.display().to_string();
    let (code, out, err) = run(
        &[
            "--build",
            &d,
            "--image",
            &tag,
            "--count",
            "2",
            "--network",
            "none",
            "--cmd",
            "sh -c 'test \"$(cat /built /msg)\" = \"built\nfrom the context\"'",
        ],
        &[],
    );
    // Missing directory: exit 2, nothing created.
    let (code_missing, _, err_missing) =
        run(&["--build", "/nonexistent/stevedore", "--count", "1"], &[]);
    let _ = std::fs::remove_dir_all(&dir);
    rt(1).block_on(async {
        let d = dutil::docker().await;
        let _ = d.remove_image(&tag, true).await;
    });
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(err.contains(&format!("built {tag}")), "{err}");
    assert_eq!(code_missing, 2, "{err_missing}");
    assert!(err_missing.contains("--build"), "{err_missing}");
    assert!(!err_missing.contains("batch sd-"), "{err_missing}");
}
