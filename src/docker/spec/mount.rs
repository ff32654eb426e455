//! Bind mounts and volumes in `docker run -v`'s format.

use super::{check_text, SpecError};
use std::fmt;
use std::str::FromStr;

/// Longest path accepted (Linux's `PATH_MAX`).
pub(super) const MAX_PATH: usize = 4096;

const OPTION: &str = "-v";

/// What a [`Mount`] mounts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MountSource {
    /// A host directory or file (an absolute path; created as a directory
    /// by the daemon when missing, as `docker run -v` does).
    Host(String),
    /// A named volume (created when missing).
    Volume(String),
    /// A new anonymous volume.
    Anonymous,
}

/// A bind mount or volume (`-v /host:/ctr[:ro]`, `-v name:/ctr`,
/// `-v /ctr`).
///
/// ```
/// use stevedore::docker::spec::{Mount, MountSource};
///
/// let m: Mount = "/srv/data:/data:ro".parse()?;
/// assert_eq!(m.source(), &MountSource::Host("/srv/data".into()));
/// assert_eq!(m.target(), "/data");
/// assert!(m.is_read_only());
/// assert_eq!(m, Mount::bind("/srv/data", "/data").read_only(true));
///
/// let v: Mount = "cache:/var/cache".parse()?;
/// assert_eq!(v.source(), &MountSource::Volume("cache".into()));
/// assert!("relative:/data".parse::<Mount>().is_ok()); // a volume name
/// assert!("./relative:/data".parse::<Mount>().is_err());
/// assert!("/src:data".parse::<Mount>().is_err()); // target not absolute
/// # Ok::<_, stevedore::docker::spec::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mount {
    source: MountSource,
    target: String,
    read_only: bool,
    /// Validated `-v` options other than `ro`/`rw` (`z`, `nocopy`, …).
    options: Vec<String>,
}

impl Mount {
    /// Binds host path `host` (absolute) at `target`.
    pub fn bind(host: impl Into<String>, target: impl Into<String>) -> Mount {
        Mount::with(MountSource::Host(host.into()), target)
    }

    /// Mounts the named volume `name` at `target`.
    pub fn volume(name: impl Into<String>, target: impl Into<String>) -> Mount {
        Mount::with(MountSource::Volume(name.into()), target)
    }

    /// Mounts a new anonymous volume at `target`.
    pub fn anonymous(target: impl Into<String>) -> Mount {
        Mount::with(MountSource::Anonymous, target)
    }

    fn with(source: MountSource, target: impl Into<String>) -> Mount {
        Mount {
            source,
            target: target.into(),
            read_only: false,
            options: Vec::new(),
        }
    }

    /// Mounts it read-only.
    pub fn read_only(mut self, yes: bool) -> Mount {
        self.read_only = yes;
        self
    }

    /// What is mounted.
    pub fn source(&self) -> &MountSource {
        &self.source
    }

    /// Where, inside the container.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Whether it is read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Checks the source, the target and the options.
    ///
    /// # Errors
    ///
    /// [`SpecError::InvalidVolumeName`] for a source that is neither an
    /// absolute path nor a volume name, [`SpecError::InvalidContainerPath`]
    /// for a target that is not absolute or is `/`, [`SpecError::TooLong`],
    /// [`SpecError::NulByte`], [`SpecError::Empty`],
    /// [`SpecError::InvalidMountOption`].
    pub fn validate(&self) -> Result<(), SpecError> {
        match &self.source {
            MountSource::Host(path) => {
                check_text(OPTION, path, MAX_PATH)?;
                if !path.starts_with('/') || path.contains(':') {
                    return Err(SpecError::InvalidVolumeName { name: path.clone() });
                }
            }
            MountSource::Volume(name) => {
                check_text(OPTION, name, 255)?;
                if !is_volume_name(name) {
                    return Err(SpecError::InvalidVolumeName { name: name.clone() });
                }
            }
            MountSource::Anonymous => {
                // `Config.Volumes` carries no options.
                if let Some(o) = self
                    .read_only
                    .then(|| "ro".to_owned())
                    .or_else(|| self.options.first().cloned())
                {
                    return Err(SpecError::InvalidMountOption {
                        value: self.to_string(),
                        mount_option: o,
                    });
                }
            }
        }
        check_container_path(OPTION, &self.target)?;
        if self.target == "/" || self.target.contains(':') {
            return Err(SpecError::InvalidContainerPath {
                option: OPTION,
                path: self.target.clone(),
            });
        }
        check_options(&self.to_string(), &self.source, &self.options)?;
        Ok(())
    }

    /// The `HostConfig.Binds` entry; `None` for an anonymous volume (it goes
    /// in `Config.Volumes`).
    pub(super) fn bind_entry(&self) -> Option<String> {
        match self.source {
            MountSource::Anonymous => None,
            _ => Some(self.to_string()),
        }
    }
}

/// `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, the local volume driver's names.
fn is_volume_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// An absolute path inside the container, of sane length.
pub(super) fn check_container_path(option: &'static str, path: &str) -> Result<(), SpecError> {
    check_text(option, path, MAX_PATH)?;
    if !path.starts_with('/') {
        return Err(SpecError::InvalidContainerPath {
            option,
            path: path.to_owned(),
        });
    }
    Ok(())
}

const PROPAGATION: [&str; 6] = [
    "shared", "rshared", "slave", "rslave", "private", "rprivate",
];

/// Each option known, at most one of each group, and fit for the source.
fn check_options(value: &str, source: &MountSource, options: &[String]) -> Result<(), SpecError> {
    let (mut label, mut propagation, mut nocopy) = (false, false, false);
    for o in options {
        let bad = || SpecError::InvalidMountOption {
            value: value.to_owned(),
            mount_option: o.clone(),
        };
        let seen = match o.as_str() {
            "z" | "Z" => &mut label,
            "nocopy" if !matches!(source, MountSource::Host(_)) => &mut nocopy,
            p if PROPAGATION.contains(&p) && matches!(source, MountSource::Host(_)) => {
                &mut propagation
            }
            _ => return Err(bad()),
        };
        if std::mem::replace(seen, true) {
            return Err(bad());
        }
    }
    Ok(())
}

impl FromStr for Mount {
    type Err = SpecError;

    /// `-v` syntax: `/host:/ctr[:opts]`, `volume:/ctr[:opts]` or `/ctr`,
    /// where `opts` is a comma-separated list of `ro`, `rw`, `z`, `Z`,
    /// `nocopy` (volumes) and a propagation mode (binds).
    fn from_str(value: &str) -> Result<Mount, SpecError> {
        check_text(OPTION, value, 2 * MAX_PATH + 64)?;
        let fields: Vec<&str> = value.split(':').collect();
        let (source, target, opts) = match fields.as_slice() {
            [target] => (None, *target, None),
            [source, target] => (Some(*source), *target, None),
            [source, target, opts] => (Some(*source), *target, Some(*opts)),
            _ => {
                return Err(SpecError::MountFormat {
                    value: value.to_owned(),
                })
            }
        };
        if target.is_empty() || source.is_some_and(str::is_empty) || opts == Some("") {
            return Err(SpecError::MountFormat {
                value: value.to_owned(),
            });
        }
        let mut mount = match source {
            None => Mount::anonymous(target),
            Some(s) if s.starts_with('/') => Mount::bind(s, target),
            Some(s) => Mount::volume(s, target),
        };
        let mut rw_seen = false;
        for o in opts.into_iter().flat_map(|o| o.split(',')) {
            match o {
                "ro" | "rw" if !rw_seen => {
                    rw_seen = true;
                    mount.read_only = o == "ro";
                }
                _ => mount.options.push(o.to_owned()),
            }
        }
        mount.validate().map_err(|e| match e {
            SpecError::InvalidMountOption { mount_option, .. } => SpecError::InvalidMountOption {
                value: value.to_owned(),
                mount_option,
            },
            e => e,
        })?;
        Ok(mount)
    }
}

impl fmt::Display for Mount {
    /// The `-v` form (`/host:/ctr:ro,z`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            MountSource::Host(s) | MountSource::Volume(s) => write!(f, "{s}:")?,
            MountSource::Anonymous => {}
        }
        f.write_str(&self.target)?;
        let mut sep = ':';
        if self.read_only {
            write!(f, "{sep}ro")?;
            sep = ',';
        }
        for o in &self.options {
            write!(f, "{sep}{o}")?;
            sep = ',';
        }
        Ok(())
    }
}
