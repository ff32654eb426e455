//! `attach`: a hijacked connection carrying the container's stdin one way
//! and its (multiplexed) output the other.

use super::client::Docker;
use super::containers::path_id;
use super::error::{Error, Result};
use super::http::{ConnReader, ConnWriter, Request};
use super::logs::{LogStream, Source};
use std::fmt;
use std::io;

/// Options of [`Docker::attach`].
#[derive(Debug, Clone)]
pub struct AttachOptions {
    /// Attach stdin (the container needs [`open_stdin`](super::ContainerSpec::open_stdin)).
    pub stdin: bool,
    /// Receive stdout.
    pub stdout: bool,
    /// Receive stderr.
    pub stderr: bool,
    /// Replay output produced before attaching.
    pub logs: bool,
    /// Whether the container has a TTY; `None` asks the daemon.
    pub tty: Option<bool>,
}

impl Default for AttachOptions {
    fn default() -> Self {
        AttachOptions {
            stdin: true,
            stdout: true,
            stderr: true,
            logs: false,
            tty: None,
        }
    }
}

/// An attached container: write to `input`, read `output`.
#[derive(Debug)]
pub struct Attached {
    /// The container's stdin.
    pub input: AttachInput,
    /// The container's output; ends when the container closes it.
    pub output: LogStream,
}

/// The container's stdin. Dropping it (or [`close`](AttachInput::close))
/// half-closes the connection: the container reads end of file.
pub struct AttachInput {
    writer: ConnWriter,
    context: String,
}

impl AttachInput {
    /// Writes all of `bytes` to the container's stdin.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the connection breaks (the container exited, or
    /// closed its stdin).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if dropped, an unknown prefix of `bytes` was sent.
    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer
            .write_all(bytes)
            .await
            .map_err(|source| Error::Io {
                context: self.context.clone(),
                source,
            })
    }

    /// Sends end of file to the container's stdin.
    pub fn close(self) -> Result<()> {
        match self.writer.shutdown() {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            Err(source) => Err(Error::Io {
                context: self.context.clone(),
                source,
            }),
        }
    }
}

impl fmt::Debug for AttachInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachInput")
            .field("context", &self.context)
            .finish()
    }
}

/// Reads the raw output side of an attach.
pub(crate) struct AttachReader {
    reader: ConnReader,
    context: String,
}

impl AttachReader {
    pub(crate) fn new(reader: ConnReader, context: String) -> AttachReader {
        AttachReader { reader, context }
    }

    pub(crate) async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        let mut buf = vec![0u8; 16 * 1024];
        match self.reader.read(&mut buf).await {
            Ok(0) => Ok(None),
            Ok(n) => {
                buf.truncate(n);
                Ok(Some(buf))
            }
            Err(source) => Err(Error::Io {
                context: self.context.clone(),
                source,
            }),
        }
    }
}

impl Docker {
    /// Attaches to a container (typically before starting it, so no output
    /// is missed). The daemon switches the connection to a raw stream
    /// (`101 UPGRADED`); bytes that arrive with the response head are kept.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a missing container, [`Error::Protocol`] if
    /// the daemon does not switch protocols, and the
    /// [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future or the [`Attached`] closes the
    /// connection (the container keeps running).
    pub async fn attach(&self, id: &str, opts: &AttachOptions) -> Result<Attached> {
        let tty = match opts.tty {
            Some(t) => t,
            None => self.inspect(id).await?.config.tty,
        };
        let path = format!(
            "/containers/{}/attach?stream=1&stdin={}&stdout={}&stderr={}&logs={}",
            path_id(id),
            u8::from(opts.stdin),
            u8::from(opts.stdout),
            u8::from(opts.stderr),
            u8::from(opts.logs),
        );
        let mut req = Request::new("POST", self.url(&path));
        req.upgrade = true;
        let context = req.what();
        let s = self.stream(req).await?;
        let (reader, writer, leftover) = s.conn.into_split();
        let output = LogStream::new(
            Source::Hijacked(AttachReader {
                reader,
                context: context.clone(),
            }),
            tty,
            leftover,
        );
        Ok(Attached {
            input: AttachInput { writer, context },
            output,
        })
    }
}
