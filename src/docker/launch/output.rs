//! `--logs-dir`: each container's output streamed to
//! `<dir>/<name>.stdout` and `<dir>/<name>.stderr` while it runs.
//!
//! Protocol: one writer thread per batch owns the files (file writes
//! block, so they stay off the runtime's workers). A copier task per
//! container reads its attach stream (opened before start, so nothing is
//! missed) and sends each chunk over a bounded channel; when the disk is
//! slower than the container, the channel fills, the copier stops
//! reading, and the daemon holds the container's writes — memory stays
//! bounded by the channel's capacity times the largest chunk (one socket
//! read, 16 KiB), whatever the output's size. `buffered` counts bytes read
//! and not yet written; `peak` its maximum, reported.

use crate::chan::{self, Sender};
use crate::docker::{Error, LogStream, StreamKind};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::sync::Arc;

/// Chunks in flight to the writer thread.
const CAPACITY: usize = 32;

enum Cmd {
    Open {
        key: u64,
        name: String,
        reply: Sender<io::Result<()>>,
    },
    Write {
        key: u64,
        stderr: bool,
        bytes: Vec<u8>,
    },
    Close {
        key: u64,
        reply: Sender<io::Result<(u64, u64)>>,
    },
}

/// The batch's output directory and its writer thread.
pub(super) struct Output {
    pub(super) dir: PathBuf,
    tx: Sender<Cmd>,
    next_key: AtomicU64,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    buffered: AtomicU64,
    peak: AtomicU64,
    stdout: AtomicU64,
    stderr: AtomicU64,
}

/// One container's files.
pub(super) struct Files {
    out: Arc<Output>,
    key: u64,
}

impl Output {
    /// Creates `dir` if needed and starts the writer thread.
    pub(super) fn start(dir: &Path) -> io::Result<Output> {
        std::fs::create_dir_all(dir)?;
        let (tx, rx) = chan::bounded::<Cmd>(CAPACITY);
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        let dir_owned = dir.to_owned();
        std::thread::Builder::new()
            .name("stevedore-logs".into())
            .spawn(move || writer(&dir_owned, &rx, &c))?;
        Ok(Output {
            dir: dir.to_owned(),
            tx,
            next_key: AtomicU64::new(0),
            counters,
        })
    }

    /// Opens (truncating) `<name>.stdout` and `<name>.stderr`.
    pub(super) async fn open(self: &Arc<Self>, name: &str) -> io::Result<Files> {
        let key = self.next_key.fetch_add(1, Relaxed);
        let (reply, rx) = chan::bounded(1);
        let cmd = Cmd::Open {
            key,
            name: name.to_owned(),
            reply,
        };
        self.tx.send(cmd).await.map_err(|_| gone())?;
        rx.recv().await.unwrap_or_else(|| Err(gone()))?;
        Ok(Files {
            out: self.clone(),
            key,
        })
    }

    /// (stdout, stderr) bytes written, and the most held in memory.
    pub(super) fn totals(&self) -> (u64, u64, u64) {
        let c = &self.counters;
        (
            c.stdout.load(Relaxed),
            c.stderr.load(Relaxed),
            c.peak.load(Relaxed),
        )
    }
}

impl Files {
    /// Copies `stream` to the files until it ends.
    pub(super) async fn copy(&self, mut stream: LogStream) -> Result<(), Error> {
        use futures::StreamExt;
        let c = &self.out.counters;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            let len = chunk.bytes.len() as u64;
            let now = c.buffered.fetch_add(len, AcqRel) + len;
            c.peak.fetch_max(now, AcqRel);
            let cmd = Cmd::Write {
                key: self.key,
                stderr: chunk.stream == StreamKind::Stderr,
                bytes: chunk.bytes,
            };
            if self.out.tx.send(cmd).await.is_err() {
                c.buffered.fetch_sub(len, AcqRel);
                return Err(Error::Io {
                    context: "writing output".into(),
                    source: gone(),
                });
            }
        }
        Ok(())
    }

    /// Closes the files: (stdout, stderr) bytes written, or the first
    /// write error.
    pub(super) async fn close(self) -> io::Result<(u64, u64)> {
        let (reply, rx) = chan::bounded(1);
        let cmd = Cmd::Close {
            key: self.key,
            reply,
        };
        self.out.tx.send(cmd).await.map_err(|_| gone())?;
        rx.recv().await.unwrap_or_else(|| Err(gone()))
    }
}

fn gone() -> io::Error {
    io::Error::other("the output writer stopped")
}

struct Open {
    stdout: File,
    stderr: File,
    written: (u64, u64),
    error: Option<io::Error>,
}

/// The writer thread: runs until every sender is gone.
fn writer(dir: &Path, rx: &chan::Receiver<Cmd>, c: &Counters) {
    let mut files: HashMap<u64, Open> = HashMap::new();
    while let Some(cmd) = rx.recv_blocking() {
        match cmd {
            Cmd::Open { key, name, reply } => {
                let open = || -> io::Result<Open> {
                    Ok(Open {
                        stdout: File::create(dir.join(format!("{name}.stdout")))?,
                        stderr: File::create(dir.join(format!("{name}.stderr")))?,
                        written: (0, 0),
                        error: None,
                    })
                };
                let r = open().map(|o| {
                    files.insert(key, o);
                });
                let _ = reply.try_send(r);
            }
            Cmd::Write { key, stderr, bytes } => {
                let len = bytes.len() as u64;
                if let Some(f) = files.get_mut(&key) {
                    if f.error.is_none() {
                        let file = if stderr { &mut f.stderr } else { &mut f.stdout };
                        match file.write_all(&bytes) {
                            Ok(()) => {
                                if stderr {
                                    f.written.1 += len;
                                    c.stderr.fetch_add(len, Relaxed);
                                } else {
                                    f.written.0 += len;
                                    c.stdout.fetch_add(len, Relaxed);
                                }
                            }
                            Err(e) => f.error = Some(e),
                        }
                    }
                }
                drop(bytes);
                c.buffered.fetch_sub(len, AcqRel);
            }
            Cmd::Close { key, reply } => {
                let r = match files.remove(&key) {
                    Some(Open { error: Some(e), .. }) => Err(e),
                    Some(o) => Ok(o.written),
                    None => Ok((0, 0)),
                };
                let _ = reply.try_send(r);
            }
        }
    }
}
