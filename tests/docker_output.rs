//! `Docker::run` returns all of a large output: it is read while the
//! container runs, not from the log driver after the exit (whose rotation
//! dropped most of a 50 MB output).

#[path = "util/docker.rs"]
mod dutil;
mod util;

use dutil::{docker, image};
use stevedore::docker::ContainerSpec;
use util::rt;

#[test]
fn run_returns_a_50_mb_output_whole() {
    const SIZE: usize = 50 << 20;
    rt(2).block_on(async {
        let d = docker().await;
        let img = image(&d).await;
        let scope = dutil::Scope::new("run-50mb");
        let script = format!("yes 0123456789abcdef | head -c {SIZE}; echo end >&2; exit 7");
        let out = d
            .run(
                &ContainerSpec::new(&img)
                    .cmd(["sh", "-c", &script])
                    .label(dutil::LABEL, &scope.value)
                    .network_mode("none"),
            )
            .await
            .unwrap();
        assert_eq!(out.exit_code, 7);
        assert_eq!(out.stdout.len(), SIZE);
        assert!(out.stdout.starts_with(b"0123456789abcdef\n0123"));
        assert!(out
            .stdout
            .chunks(17)
            .take(SIZE / 17)
            .all(|l| l == b"0123456789abcdef\n"));
        assert_eq!(out.stderr, b"end\n");
        assert_eq!(scope.leftovers(&d).await, 0);
    });
}
