//! Image builds: [`Docker::build`] over `POST /build`.
//!
//! * `context.rs`: a directory tarred as the Docker CLI sends it.
//! * `ignore.rs`: [`DockerIgnore`], `.dockerignore` with Docker's rules.
//! * `error.rs`: [`BuildContextError`].
//!
//! The daemon's classic builder runs the build: `FROM` images already on
//! the engine need no registry. Its output is a stream of JSON lines;
//! `stream` lines are the build's text, an `error` line ends the build
//! with [`Error::BuildFailed`].

mod context;
mod error;
mod ignore;

pub use self::error::BuildContextError;
pub use self::ignore::DockerIgnore;

use super::client::Docker;
use super::error::{Error, Result};
use super::http::{encode_query, Request};
use super::reference::ImageRef;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The longest output line accepted from the daemon (a peer sending an
/// endless line is an error, not an out-of-memory).
const MAX_LINE: usize = 8 << 20;

/// What to send as the build context.
#[derive(Debug, Clone)]
enum Context {
    Dir(PathBuf),
    Tar(Vec<u8>),
}

/// What to build and how, like `docker build`'s flags.
///
/// ```
/// use stevedore::docker::build::BuildOptions;
///
/// let opts = BuildOptions::dir("./app")
///     .dockerfile("docker/Dockerfile.dev")
///     .tag("app:dev")
///     .build_arg("VERSION", "1.2")
///     .target("runtime")
///     .label("team", "infra");
/// assert_eq!(opts.tags(), ["app:dev"]);
/// ```
#[derive(Debug, Clone)]
pub struct BuildOptions {
    context: Context,
    dockerfile: String,
    tags: Vec<String>,
    build_args: BTreeMap<String, String>,
    target: Option<String>,
    labels: BTreeMap<String, String>,
    no_cache: bool,
}

impl BuildOptions {
    /// Builds from directory `path`, tarred with its `.dockerignore`
    /// honoured (the Dockerfile and `.dockerignore` are always sent).
    pub fn dir(path: impl Into<PathBuf>) -> BuildOptions {
        BuildOptions::with(Context::Dir(path.into()))
    }

    /// Builds from a ready tar of the context (sent as is).
    pub fn tar(tar: Vec<u8>) -> BuildOptions {
        BuildOptions::with(Context::Tar(tar))
    }

    fn with(context: Context) -> BuildOptions {
        BuildOptions {
            context,
            dockerfile: "Dockerfile".to_owned(),
            tags: Vec::new(),
            build_args: BTreeMap::new(),
            target: None,
            labels: BTreeMap::new(),
            no_cache: false,
        }
    }

    /// The Dockerfile's path inside the context (default `Dockerfile`).
    pub fn dockerfile(mut self, path: impl Into<String>) -> Self {
        self.dockerfile = path.into();
        self
    }

    /// Tags the result `name[:tag]`; repeatable.
    pub fn tag(mut self, reference: impl Into<String>) -> Self {
        self.tags.push(reference.into());
        self
    }

    /// Sets an `ARG` (`--build-arg KEY=VALUE`).
    pub fn build_arg(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.build_args.insert(key.into(), value.into());
        self
    }

    /// Builds up to the stage named `stage` (`--target`).
    pub fn target(mut self, stage: impl Into<String>) -> Self {
        self.target = Some(stage.into());
        self
    }

    /// Labels the image (`--label`).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Ignores the build cache (`--no-cache`).
    pub fn no_cache(mut self, yes: bool) -> Self {
        self.no_cache = yes;
        self
    }

    /// The tags.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// Every check that needs no file system or engine.
    fn validate(&self) -> Result<()> {
        context::check_dockerfile_path(&self.dockerfile)?;
        for t in &self.tags {
            ImageRef::parse(t)?;
        }
        let invalid = |option, value: &str| {
            Error::from(BuildContextError::InvalidOption {
                option,
                value: value.to_owned(),
            })
        };
        for k in self.build_args.keys() {
            if k.is_empty() || k.contains('=') || k.contains('\0') {
                return Err(invalid("build arg", k));
            }
        }
        for k in self.labels.keys() {
            if k.is_empty() || k.contains('\0') {
                return Err(invalid("label", k));
            }
        }
        if let Some(t) = &self.target {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
            if !ok {
                return Err(invalid("target", t));
            }
        }
        Ok(())
    }

    /// `/build?…`.
    fn path(&self) -> String {
        let mut q = format!(
            "/build?dockerfile={}&rm=1&forcerm=1",
            encode_query(&self.dockerfile)
        );
        for t in &self.tags {
            q += &format!("&t={}", encode_query(t));
        }
        let json = |m: &BTreeMap<String, String>| {
            encode_query(&serde_json::to_string(m).expect("string map"))
        };
        if !self.build_args.is_empty() {
            q += &format!("&buildargs={}", json(&self.build_args));
        }
        if !self.labels.is_empty() {
            q += &format!("&labels={}", json(&self.labels));
        }
        if let Some(t) = &self.target {
            q += &format!("&target={}", encode_query(t));
        }
        if self.no_cache {
            q += "&nocache=1";
        }
        q
    }
}

/// One piece of a build's output, handed to the caller's sink as it
/// arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildProgress {
    /// Build output (`Step 2/4 : RUN make`, the command's output); one
    /// piece of text, usually ending in a newline.
    Output(String),
    /// A status line (pulling a base image, …).
    Status(String),
    /// The id of the image built.
    ImageId(String),
}

/// A finished build.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Built {
    /// The image id (`sha256:…`).
    pub id: String,
    /// The tags it was given.
    pub tags: Vec<String>,
}

impl Docker {
    /// Builds an image (`docker build`) and returns its id. `progress`
    /// receives the build's output as it streams in.
    ///
    /// A directory context is tarred on the blocking pool, with its
    /// `.dockerignore` honoured; the whole tar is held in memory while it
    /// is sent. Intermediate containers are removed, also when the build
    /// fails.
    ///
    /// ```no_run
    /// use stevedore::docker::build::{BuildOptions, BuildProgress};
    /// use stevedore::docker::{ContainerSpec, Docker};
    ///
    /// let rt = stevedore::Runtime::new()?;
    /// rt.block_on(async {
    ///     let docker = Docker::connect().await?;
    ///     let opts = BuildOptions::dir("./app").tag("app:dev").target("runtime");
    ///     let built = docker
    ///         .build(&opts, |p| {
    ///             if let BuildProgress::Output(text) = p {
    ///                 eprint!("{text}");
    ///             }
    ///         })
    ///         .await?;
    ///     let out = docker.run(&ContainerSpec::new("app:dev").cmd(["app", "--version"])).await?;
    ///     println!("{}: {}", built.id, String::from_utf8_lossy(&out.stdout));
    ///     Ok::<_, stevedore::docker::Error>(())
    /// })?;
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Before anything is sent: [`Error::BuildContext`] for a missing or
    /// unreadable context or Dockerfile, a bad `.dockerignore` pattern or
    /// option; [`Error::InvalidReference`] for a malformed tag. From the
    /// daemon: [`Error::BuildFailed`] when the build itself fails (a `RUN`
    /// exits non-zero, a `FROM` image is missing, a Dockerfile syntax
    /// error), the daemon's error status otherwise, [`Error::Protocol`]
    /// for output that is not JSON lines, [`Error::Timeout`] if the daemon
    /// does not start answering within the client's timeout. The build's
    /// own duration is not limited.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the connection, which cancels the build
    /// on the daemon; layers it already committed stay in its cache.
    pub async fn build<F>(&self, opts: &BuildOptions, mut progress: F) -> Result<Built>
    where
        F: FnMut(BuildProgress),
    {
        opts.validate()?;
        let tar = match &opts.context {
            Context::Tar(tar) => tar.clone(),
            Context::Dir(dir) => {
                let (dir, dockerfile) = (dir.clone(), opts.dockerfile.clone());
                match crate::spawn_blocking(move || context::tar_dir(&dir, &dockerfile)).await {
                    Ok(r) => r?,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => {
                        return Err(Error::from(BuildContextError::Io {
                            path: PathBuf::from("<build context>"),
                            source: std::io::Error::other(
                                "tarring was cancelled: the runtime is shutting down",
                            ),
                        }))
                    }
                }
            }
        };
        let req = Request::new("POST", self.url(&opts.path())).body("application/x-tar", tar);
        let what = req.what();
        let mut stream = self.stream(req).await?;
        let mut lines = Lines::default();
        while let Some(chunk) = stream.next().await? {
            lines.feed(&what, &chunk, &mut progress)?;
        }
        lines.finish(&what, &mut progress)?;
        let id = match lines.id {
            Some(id) => id,
            None => match opts.tags.first() {
                // Daemons that report no `aux` id: the tag tells.
                Some(tag) => self.inspect_image(tag).await?.id,
                None => {
                    return Err(Error::Protocol(format!(
                        "{what}: the build finished without naming its image"
                    )))
                }
            },
        };
        Ok(Built {
            id,
            tags: opts.tags.clone(),
        })
    }
}

/// Splits the body into JSON lines and hands each to the sink.
#[derive(Debug, Default)]
struct Lines {
    buf: Vec<u8>,
    id: Option<String>,
}

impl Lines {
    fn feed(
        &mut self,
        what: &str,
        chunk: &[u8],
        sink: &mut impl FnMut(BuildProgress),
    ) -> Result<()> {
        self.buf.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(n) = self.buf[start..].iter().position(|&b| b == b'\n') {
            let line = self.buf[start..start + n].to_vec();
            start += n + 1;
            self.line(what, &line, sink)?;
        }
        self.buf.drain(..start);
        if self.buf.len() > MAX_LINE {
            return Err(Error::Protocol(format!(
                "{what}: an output line is longer than {MAX_LINE} bytes"
            )));
        }
        Ok(())
    }

    fn finish(&mut self, what: &str, sink: &mut impl FnMut(BuildProgress)) -> Result<()> {
        let rest = std::mem::take(&mut self.buf);
        self.line(what, &rest, sink)
    }

    fn line(
        &mut self,
        what: &str,
        line: &[u8],
        sink: &mut impl FnMut(BuildProgress),
    ) -> Result<()> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let v: serde_json::Value = serde_json::from_slice(line).map_err(|e| {
            Error::Protocol(format!("{what}: build output is not a JSON line: {e}"))
        })?;
        let text = |v: &serde_json::Value, key: &str| {
            v.get(key).and_then(|s| s.as_str()).map(str::to_owned)
        };
        let detail = v.get("errorDetail");
        if let Some(message) = text(&v, "error").or_else(|| detail.and_then(|d| text(d, "message")))
        {
            return Err(Error::BuildFailed {
                message: message.trim_end().to_owned(),
                code: detail.and_then(|d| d.get("code")).and_then(|c| c.as_i64()),
            });
        }
        if let Some(s) = text(&v, "stream") {
            sink(BuildProgress::Output(s));
        }
        if let Some(s) = text(&v, "status") {
            sink(BuildProgress::Status(s));
        }
        if let Some(id) = v.get("aux").and_then(|a| text(a, "ID")) {
            self.id = Some(id.clone());
            sink(BuildProgress::ImageId(id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &[&[u8]]) -> (Result<()>, Vec<BuildProgress>, Option<String>) {
        let mut got = Vec::new();
        let mut lines = Lines::default();
        let mut sink = |p| got.push(p);
        let mut r = Ok(());
        for chunk in body {
            r = lines.feed("POST /build", chunk, &mut sink);
            if r.is_err() {
                break;
            }
        }
        if r.is_ok() {
            r = lines.finish("POST /build", &mut sink);
        }
        (r, got, lines.id)
    }

    #[test]
    fn lines_split_across_chunks() {
        let (r, got, id) = run(&[
            b"{\"stream\":\"Step 1/2 : FROM x\\n\"}\n{\"str",
            b"eam\":\"ok\\n\"}\n{\"aux\":{\"ID\":\"sha256:ab\"}}\n",
            b"{\"status\":\"pulling\"}",
        ]);
        r.unwrap();
        assert_eq!(
            got,
            [
                BuildProgress::Output("Step 1/2 : FROM x\n".into()),
                BuildProgress::Output("ok\n".into()),
                BuildProgress::ImageId("sha256:ab".into()),
                BuildProgress::Status("pulling".into()),
            ]
        );
        assert_eq!(id.as_deref(), Some("sha256:ab"));
    }

    #[test]
    fn error_line_is_typed() {
        let (r, got, _) = run(&[
            b"{\"stream\":\"Step 2/2 : RUN exit 3\\n\"}\r\n",
            b"{\"errorDetail\":{\"code\":3,\"message\":\"returned 3\"},\"error\":\"returned 3\"}\n",
            b"{\"stream\":\"never seen\"}\n",
        ]);
        match r {
            Err(Error::BuildFailed { message, code }) => {
                assert_eq!((message.as_str(), code), ("returned 3", Some(3)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn garbage_and_endless_lines() {
        let (r, _, _) = run(&[b"not json\n"]);
        assert!(matches!(r, Err(Error::Protocol(_))), "{r:?}");
        let (r, _, _) = run(&[b"{\"stream\":\"cut"]);
        assert!(matches!(r, Err(Error::Protocol(_))), "{r:?}");
        let big = vec![b'x'; MAX_LINE + 1];
        let (r, _, _) = run(&[&big]);
        assert!(matches!(r, Err(Error::Protocol(_))), "{r:?}");
        let (r, got, _) = run(&[b"", b"\n\n  \n"]);
        r.unwrap();
        assert!(got.is_empty());
    }

    #[test]
    fn options_checked_before_sending() {
        for opts in [
            BuildOptions::tar(vec![]).dockerfile(""),
            BuildOptions::tar(vec![]).dockerfile("/abs/Dockerfile"),
            BuildOptions::tar(vec![]).dockerfile("../Dockerfile"),
            BuildOptions::tar(vec![]).dockerfile("a/../../Dockerfile"),
            BuildOptions::tar(vec![]).dockerfile("."),
            BuildOptions::tar(vec![]).build_arg("", "x"),
            BuildOptions::tar(vec![]).build_arg("A=B", "x"),
            BuildOptions::tar(vec![]).label("", "x"),
            BuildOptions::tar(vec![]).target("a b"),
            BuildOptions::tar(vec![]).target(""),
        ] {
            assert!(
                matches!(opts.validate(), Err(Error::BuildContext(_))),
                "{opts:?}"
            );
        }
        assert!(matches!(
            BuildOptions::tar(vec![]).tag("Bad:Tag:x").validate(),
            Err(Error::InvalidReference(_))
        ));
        let ok = BuildOptions::tar(vec![])
            .dockerfile("./docker/../Dockerfile.dev")
            .tag("a/b:c")
            .build_arg("V", "1 2")
            .label("k", "v")
            .target("stage-1");
        ok.validate().unwrap();
        let path = ok.path();
        assert!(path.contains("&t=a%2Fb%3Ac"), "{path}");
        assert!(
            path.contains("&buildargs=%7B%22V%22%3A%221%202%22%7D"),
            "{path}"
        );
        assert!(path.contains("&target=stage-1"), "{path}");
        assert!(path.contains("forcerm=1"), "{path}");
    }
}
