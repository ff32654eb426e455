//! Helpers for tests against the real Docker daemon.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};
use stevedore::docker::{Docker, Filters, ListOptions, MinimalImage, RemoveOptions};
use stevedore::Runtime;

/// The label every container created by the tests carries.
pub const LABEL: &str = "stevedore.test";

/// Connects to the daemon, failing loudly (never skipping) without one.
pub async fn docker() -> Docker {
    match Docker::connect().await {
        Ok(d) => d,
        Err(e) => panic!(
            "these tests need a running Docker daemon (DOCKER_HOST or /var/run/docker.sock): {e}"
        ),
    }
}

/// The engine the tests run on, as a host string: `DOCKER_HOST` when set
/// and non-empty (as the client reads it), else the default socket.
pub fn main_host() -> String {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => h,
        _ => "unix:///var/run/docker.sock".to_owned(),
    }
}

/// [`main_host`]'s socket path without the scheme (for "the same engine
/// spelled twice" checks); `None` for a non-Unix engine.
pub fn main_socket_path() -> Option<String> {
    let h = main_host();
    if let Some(p) = h.strip_prefix("unix://") {
        return Some(p.to_owned());
    }
    h.starts_with('/').then_some(h)
}

/// The project's minimal image, as the demo uses it (busybox when the host
/// has it, else the host's own tools; `STEVEDORE_BUSYBOX=none` forces the
/// latter), imported on first use.
pub async fn image(docker: &Docker) -> String {
    docker
        .ensure_minimal_image(&MinimalImage::from_env())
        .await
        .unwrap_or_else(|e| panic!("cannot provide the test image on {}: {e}", docker.host()))
        .reference
}

/// A unique label value for one test; removes every container carrying it
/// when dropped, also when the test panicked.
pub struct Scope {
    pub value: String,
}

impl Scope {
    pub fn new(test: &str) -> Scope {
        static N: AtomicUsize = AtomicUsize::new(0);
        Scope {
            value: format!(
                "{test}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }

    /// `stevedore.test=<value>`.
    pub fn filter(&self) -> Filters {
        Filters::new().label(format!("{LABEL}={}", self.value))
    }

    /// Containers of this scope still present.
    pub async fn leftovers(&self, docker: &Docker) -> usize {
        docker
            .list(&ListOptions {
                all: true,
                filters: self.filter(),
            })
            .await
            .expect("list")
            .len()
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let rt = Runtime::builder()
            .worker_threads(1)
            .build()
            .expect("runtime");
        let filter = self.filter();
        rt.block_on(async {
            let Ok(docker) = Docker::connect().await else {
                return;
            };
            let Ok(list) = docker
                .list(&ListOptions {
                    all: true,
                    filters: filter,
                })
                .await
            else {
                return;
            };
            for c in list {
                let _ = docker
                    .remove(
                        &c.id,
                        RemoveOptions {
                            force: true,
                            volumes: true,
                        },
                    )
                    .await;
            }
        });
    }
}
