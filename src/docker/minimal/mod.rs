//! The project's own minimal image: what the demo and the tests run when no
//! image is named, built from the host without a registry.
//!
//! * **Recipe.** [`MinimalImage`] prefers a `busybox` binary (from
//!   `STEVEDORE_BUSYBOX` or the system directories); without one it takes
//!   `sh`, `true`, `echo`, `sleep`, `cat`, `head` (required) and a few more
//!   coreutils (when present) from the system directories, with the ELF
//!   interpreter and shared libraries each one loads, as the interpreter
//!   itself resolves them (`elf.rs`). Either way the image gets `/bin`,
//!   `/usr/bin → /bin`, `/etc/passwd`, `/etc/group`, `/tmp` and empty
//!   mount points.
//! * **Name.** The tar is deterministic (`rootfs.rs`), so its SHA-256 is
//!   the image layer's DiffID; the image is
//!   [`MINIMAL_REPOSITORY`]`:<crate version>-<12 hex digits of the
//!   DiffID>`. A changed recipe or changed host binaries give a new tag; a
//!   stale image is never reused. Nothing is ever written under another
//!   name.
//! * **Ensure** ([`Docker::ensure_minimal_image`]): inspect the tag;
//!   present with the recipe's layer → done; present with another layer →
//!   [`MinimalImageError::Mismatch`], left alone; absent → import (below);
//!   any other error while checking → returned, nothing imported.
//! * **Import.** One import at a time per process. The tag is checked
//!   again under the lock; the tar is imported untagged, the image's layer
//!   checked against the DiffID, the tag checked once more (another
//!   process may have won: then ours is removed and theirs used) and only
//!   then set. Every failure after the import removes the imported image,
//!   so nothing dangles.

mod busybox;
mod elf;
mod error;
mod host;
mod rootfs;

pub use self::error::MinimalImageError;

use super::client::Docker;
use super::error::Result;
use std::path::{Path, PathBuf};

/// The repository of the minimal image.
pub const MINIMAL_REPOSITORY: &str = "stevedore/minimal";

/// The environment variable that steers the busybox lookup of
/// [`MinimalImage::from_env`]: unset or empty, search the system
/// directories; `none`, never use busybox; anything else, the path of the
/// busybox binary to use.
pub const BUSYBOX_ENV: &str = "STEVEDORE_BUSYBOX";

/// Whether and where the recipe looks for busybox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BusyboxLookup {
    /// `busybox` in `/usr/local/sbin`, `/usr/local/bin`, `/usr/sbin`,
    /// `/usr/bin`, `/sbin` or `/bin`; host tools when there is none.
    #[default]
    Search,
    /// This binary; an error if it is unusable.
    Path(PathBuf),
    /// Never busybox: always the host tools.
    Disabled,
}

/// The recipe of the project's minimal image.
///
/// ```no_run
/// use stevedore::docker::{BusyboxLookup, Docker, MinimalImage};
///
/// # stevedore::Runtime::new()?.block_on(async {
/// let docker = Docker::connect().await?;
/// let image = docker.ensure_minimal_image(&MinimalImage::from_env()).await?;
/// println!("{} ({})", image.reference, image.source);
/// // Without busybox, from the host's own sh, coreutils and libraries:
/// let recipe = MinimalImage::new().busybox(BusyboxLookup::Disabled);
/// let host = docker.ensure_minimal_image(&recipe).await?;
/// assert!(host.reference.starts_with("stevedore/minimal:"));
/// # Ok::<_, stevedore::docker::Error>(()) })?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MinimalImage {
    busybox: BusyboxLookup,
}

/// Where a root filesystem's programs came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootfsSource {
    /// A busybox binary and its applets.
    Busybox(PathBuf),
    /// The host's own programs (the paths they were found at).
    HostTools(Vec<PathBuf>),
}

/// A built root filesystem: a deterministic tar and its digest.
#[derive(Debug, Clone)]
pub struct Rootfs {
    tar: Vec<u8>,
    layer: String,
    source: RootfsSource,
    paths: Vec<String>,
}

/// The minimal image on an engine.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MinimalImageInfo {
    /// `stevedore/minimal:<version>-<digest>`.
    pub reference: String,
    /// The image id.
    pub id: String,
    /// The layer's DiffID (`sha256:…`).
    pub layer: String,
    /// What it was built from.
    pub source: RootfsSource,
    /// Whether this call imported it (false: it was already there).
    pub imported: bool,
}

/// One import at a time in this process: the check-import-tag sequence
/// then races only with other processes.
static IMPORT_LOCK: async_lock::Mutex<()> = async_lock::Mutex::new(());

impl MinimalImage {
    /// Busybox if the system directories have it, else the host tools.
    pub fn new() -> MinimalImage {
        MinimalImage::default()
    }

    /// Like [`new`](Self::new), with the busybox lookup taken from
    /// [`BUSYBOX_ENV`] (`STEVEDORE_BUSYBOX`).
    pub fn from_env() -> MinimalImage {
        let lookup = match std::env::var_os(BUSYBOX_ENV) {
            None => BusyboxLookup::Search,
            Some(v) if v.is_empty() => BusyboxLookup::Search,
            Some(v) if v == "none" => BusyboxLookup::Disabled,
            Some(v) => BusyboxLookup::Path(PathBuf::from(v)),
        };
        MinimalImage::new().busybox(lookup)
    }

    /// Sets the busybox lookup.
    pub fn busybox(mut self, lookup: BusyboxLookup) -> MinimalImage {
        self.busybox = lookup;
        self
    }

    /// The busybox lookup.
    pub fn busybox_lookup(&self) -> &BusyboxLookup {
        &self.busybox
    }

    /// Builds the root filesystem. Blocking: reads the programs and
    /// libraries and runs `busybox --list` or each program's ELF
    /// interpreter with `--list`. [`Docker::ensure_minimal_image`] calls it
    /// on the blocking pool.
    ///
    /// # Errors
    ///
    /// A [`MinimalImageError`]: a required program missing, an unusable
    /// busybox given by path, a library the loader cannot resolve, an I/O
    /// error.
    pub fn build(&self) -> std::result::Result<Rootfs, MinimalImageError> {
        let mut tree = rootfs::Tree::skeleton();
        let busybox = match &self.busybox {
            BusyboxLookup::Search => busybox::find_busybox(),
            BusyboxLookup::Path(p) => Some(p.clone()),
            BusyboxLookup::Disabled => None,
        };
        let source = match busybox {
            Some(path) => {
                busybox::busybox_tree(&mut tree, &path)?;
                RootfsSource::Busybox(path)
            }
            None => RootfsSource::HostTools(host::host_tools_tree(&mut tree)?),
        };
        let paths = tree.paths().map(str::to_owned).collect();
        let (tar, layer) = tree.into_tar()?;
        Ok(Rootfs {
            tar,
            layer,
            source,
            paths,
        })
    }
}

impl Rootfs {
    /// `stevedore/minimal:<crate version>-<12 hex digits of the layer>`.
    pub fn reference(&self) -> String {
        format!("{MINIMAL_REPOSITORY}:{}", self.tag())
    }

    fn tag(&self) -> String {
        let hex = self.layer.trim_start_matches("sha256:");
        format!("{}-{}", env!("CARGO_PKG_VERSION"), &hex[..12])
    }

    /// The layer's DiffID: `sha256:` and the tar's SHA-256.
    pub fn layer(&self) -> &str {
        &self.layer
    }

    /// The tar.
    pub fn tar(&self) -> &[u8] {
        &self.tar
    }

    /// What the programs came from.
    pub fn source(&self) -> &RootfsSource {
        &self.source
    }

    /// Every path in the tar (relative, sorted).
    pub fn paths(&self) -> &[String] {
        &self.paths
    }
}

impl std::fmt::Display for RootfsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RootfsSource::Busybox(p) => write!(f, "busybox from {}", p.display()),
            RootfsSource::HostTools(progs) => {
                let names: Vec<_> = progs
                    .iter()
                    .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .collect();
                write!(f, "the host's {} and their libraries", names.join(", "))
            }
        }
    }
}

impl Docker {
    /// Makes sure the project's minimal image, as `recipe` builds it on
    /// this host, is on this engine, importing it if absent. Safe to call
    /// concurrently, from this process and others.
    ///
    /// # Errors
    ///
    /// [`Error::MinimalImage`](crate::docker::Error::MinimalImage) if it cannot be built, or if the image under
    /// its name has other content (then it is left alone); the engine's
    /// error if checking for it fails (then nothing is imported) or the
    /// import fails (then nothing is left behind).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future after the engine accepted the tar removes the
    /// untagged image in a detached task; once tagged, the image stays.
    pub async fn ensure_minimal_image(&self, recipe: &MinimalImage) -> Result<MinimalImageInfo> {
        let recipe = recipe.clone();
        let rootfs = match crate::spawn_blocking(move || recipe.build()).await {
            Ok(r) => r?,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {
                return Err(MinimalImageError::io(
                    Path::new("<root filesystem>"),
                    std::io::Error::other("the build was cancelled: the runtime is shutting down"),
                )
                .into())
            }
        };
        self.ensure_rootfs(rootfs).await
    }

    async fn ensure_rootfs(&self, rootfs: Rootfs) -> Result<MinimalImageInfo> {
        let reference = rootfs.reference();
        let info = |id: String, imported| MinimalImageInfo {
            reference: reference.clone(),
            id,
            layer: rootfs.layer.clone(),
            source: rootfs.source.clone(),
            imported,
        };
        if let Some(id) = self.check_minimal(&reference, &rootfs.layer).await? {
            return Ok(info(id, false));
        }
        let _lock = IMPORT_LOCK.lock().await;
        if let Some(id) = self.check_minimal(&reference, &rootfs.layer).await? {
            return Ok(info(id, false));
        }
        let guard = self.import_untagged(rootfs.tar.clone()).await?;
        let settled = async {
            let image = self.inspect_image(&guard.id).await?;
            if image.root_fs.layers != [rootfs.layer.as_str()] {
                return Err(MinimalImageError::Mismatch {
                    reference: format!("the image just imported ({})", guard.id),
                    expected: rootfs.layer.clone(),
                    found: image.root_fs.layers,
                }
                .into());
            }
            // Another process may have imported and tagged it meanwhile.
            if let Some(theirs) = self.check_minimal(&reference, &rootfs.layer).await? {
                return Ok(Some(theirs));
            }
            self.tag_image(&guard.id, MINIMAL_REPOSITORY, &rootfs.tag())
                .await?;
            Ok(None)
        };
        match settled.await {
            Ok(None) => {
                let id = guard.id.clone();
                guard.disarm();
                Ok(info(id, true))
            }
            Ok(Some(theirs)) => {
                guard.remove().await;
                Ok(info(theirs, false))
            }
            Err(e) => {
                guard.remove().await;
                Err(e)
            }
        }
    }

    /// The id of `reference` if it exists with exactly `layer`; `None` if
    /// it does not exist.
    async fn check_minimal(&self, reference: &str, layer: &str) -> Result<Option<String>> {
        match self.inspect_image(reference).await {
            Ok(image) if image.root_fs.layers == [layer] => Ok(Some(image.id)),
            Ok(image) => Err(MinimalImageError::Mismatch {
                reference: reference.to_owned(),
                expected: layer.to_owned(),
                found: image.root_fs.layers,
            }
            .into()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}
