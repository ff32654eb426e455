//! Where a client connects and how, resolved the way the docker CLI does:
//! an explicit host, else `DOCKER_HOST`, else a *context* (`DOCKER_CONTEXT`,
//! else `currentContext` in `config.json`), else the local socket. TLS comes
//! from the builder, else from `DOCKER_TLS_VERIFY` / `DOCKER_TLS` /
//! `DOCKER_CERT_PATH` for a host, or from the context's TLS directory.
//!
//! Contexts are read where the docker CLI stores them, under the config
//! directory (`DOCKER_CONFIG`, else `~/.docker`):
//! `contexts/meta/<sha256 of the name>/meta.json` holds the endpoint
//! (`Endpoints.docker.Host`, `SkipTLSVerify`) and
//! `contexts/tls/<sha256 of the name>/docker/{ca,cert,key}.pem` its
//! certificates.

use super::http::TlsFiles;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The default engine, when nothing names another.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// TLS settings of a client, as the docker CLI's `--tls`, `--tlsverify`,
/// `--tlscacert`, `--tlscert` and `--tlskey`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsOptions {
    /// Verify the engine's certificate against the CA (`--tlsverify`).
    /// Without it the channel is encrypted but the engine is not
    /// authenticated (`--tls`).
    pub verify: bool,
    /// The CA certificate (PEM) that signed the engine's certificate.
    pub ca: Option<PathBuf>,
    /// The client certificate (PEM); engines started with `--tlsverify`
    /// require one.
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub key: Option<PathBuf>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions::new()
    }
}

impl TlsOptions {
    /// Verifying TLS with no files yet (give them with the setters or
    /// [`from_cert_path`](Self::from_cert_path)).
    pub fn new() -> TlsOptions {
        TlsOptions {
            verify: true,
            ca: None,
            cert: None,
            key: None,
        }
    }

    /// Verifying TLS with `dir/ca.pem`, and `dir/cert.pem` + `dir/key.pem`
    /// when they exist — what `DOCKER_CERT_PATH=dir` means to the docker
    /// CLI.
    pub fn from_cert_path(dir: impl AsRef<Path>) -> TlsOptions {
        let dir = dir.as_ref();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let (cert, key) = match (cert.exists(), key.exists()) {
            (false, false) => (None, None),
            // One without the other is reported, naming the missing file.
            _ => (Some(cert), Some(key)),
        };
        TlsOptions {
            verify: true,
            ca: Some(dir.join("ca.pem")),
            cert,
            key,
        }
    }

    /// Whether to verify the engine's certificate.
    pub fn verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }

    /// The CA certificate file.
    pub fn ca(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca = Some(path.into());
        self
    }

    /// The client certificate file.
    pub fn cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.cert = Some(path.into());
        self
    }

    /// The client key file.
    pub fn key(mut self, path: impl Into<PathBuf>) -> Self {
        self.key = Some(path.into());
        self
    }

    pub(crate) fn files(&self) -> TlsFiles {
        TlsFiles {
            verify: self.verify,
            ca: self.ca.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
        }
    }
}

/// A docker context, as `docker context create` stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DockerContext {
    /// Its name.
    pub name: String,
    /// Its Docker endpoint (`tcp://…`, `unix://…`, `ssh://…`).
    pub host: String,
    /// TLS settings, when the context has certificates or skips
    /// verification.
    pub tls: Option<TlsOptions>,
}

/// Connection settings that cannot be used; nothing was connected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingsError {
    /// No context of that name (its `meta.json` does not exist).
    UnknownContext {
        /// The name.
        name: String,
        /// Where its metadata was looked for.
        path: PathBuf,
    },
    /// A context's `meta.json` cannot be used (not JSON, no Docker
    /// endpoint, unreadable).
    InvalidContext {
        /// The name.
        name: String,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The docker CLI's `config.json` cannot be read as JSON.
    InvalidConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A context name that cannot be one (empty, or with a path
    /// separator).
    InvalidContextName {
        /// The name.
        name: String,
    },
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::UnknownContext { name, path } => write!(
                f,
                "docker context {name:?} does not exist (no {})",
                path.display()
            ),
            SettingsError::InvalidContext { name, path, reason } => write!(
                f,
                "docker context {name:?} is unusable ({}): {reason}",
                path.display()
            ),
            SettingsError::InvalidConfig { path, reason } => {
                write!(f, "{} is unusable: {reason}", path.display())
            }
            SettingsError::InvalidContextName { name } => {
                write!(f, "{name:?} is not a valid context name")
            }
        }
    }
}

impl std::error::Error for SettingsError {}

/// The docker CLI's configuration directory: `DOCKER_CONFIG`, else
/// `$HOME/.docker`.
pub fn config_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    PathBuf::from(home).join(".docker")
}

fn context_id(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "Endpoints", default)]
    endpoints: HashMap<String, Endpoint>,
}

#[derive(Deserialize)]
struct Endpoint {
    #[serde(rename = "Host", default)]
    host: Option<String>,
    #[serde(rename = "SkipTLSVerify", default)]
    skip_tls_verify: bool,
}

#[derive(Deserialize)]
struct Config {
    #[serde(rename = "currentContext", default)]
    current_context: Option<String>,
}

impl DockerContext {
    /// Reads context `name` from the default [`config_dir`].
    ///
    /// # Errors
    ///
    /// See [`load_from`](Self::load_from).
    pub fn load(name: &str) -> Result<DockerContext, SettingsError> {
        DockerContext::load_from(&config_dir(), name)
    }

    /// Reads context `name` from the configuration directory `dir`.
    ///
    /// # Errors
    ///
    /// [`SettingsError::UnknownContext`] when it does not exist,
    /// [`SettingsError::InvalidContext`] when its `meta.json` is not JSON
    /// or has no Docker endpoint, [`SettingsError::InvalidContextName`]
    /// for `""` or a name with `/`.
    pub fn load_from(dir: &Path, name: &str) -> Result<DockerContext, SettingsError> {
        if name.is_empty() || name.contains('/') || name.contains('\0') {
            return Err(SettingsError::InvalidContextName {
                name: name.to_owned(),
            });
        }
        let id = context_id(name);
        let path = dir
            .join("contexts")
            .join("meta")
            .join(&id)
            .join("meta.json");
        let invalid = |reason: String| SettingsError::InvalidContext {
            name: name.to_owned(),
            path: path.clone(),
            reason,
        };
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SettingsError::UnknownContext {
                    name: name.to_owned(),
                    path,
                })
            }
            Err(e) => return Err(invalid(e.to_string())),
        };
        let meta: Meta = serde_json::from_slice(&text).map_err(|e| invalid(e.to_string()))?;
        let ep = meta
            .endpoints
            .get("docker")
            .ok_or_else(|| invalid("no docker endpoint".into()))?;
        let host = ep
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| invalid("the docker endpoint has no Host".into()))?;
        let tls_dir = dir.join("contexts").join("tls").join(&id).join("docker");
        let file = |n: &str| Some(tls_dir.join(n)).filter(|p| p.exists());
        let (ca, cert, key) = (file("ca.pem"), file("cert.pem"), file("key.pem"));
        let has_files = ca.is_some() || cert.is_some() || key.is_some();
        let tls = (has_files || ep.skip_tls_verify).then(|| TlsOptions {
            verify: !ep.skip_tls_verify,
            ca,
            // One without the other is reported, naming the missing file.
            cert: (cert.is_some() || key.is_some()).then(|| tls_dir.join("cert.pem")),
            key: (cert.is_some() || key.is_some()).then(|| tls_dir.join("key.pem")),
        });
        Ok(DockerContext {
            name: name.to_owned(),
            host,
            tls,
        })
    }

    /// The context in use when none is named: `DOCKER_CONTEXT`, else
    /// `currentContext` in `dir/config.json`; `None` for none or
    /// `"default"` (the local engine).
    ///
    /// # Errors
    ///
    /// [`SettingsError::InvalidConfig`] when `config.json` exists but is
    /// not JSON.
    pub fn current_name(dir: &Path) -> Result<Option<String>, SettingsError> {
        if let Ok(name) = std::env::var("DOCKER_CONTEXT") {
            if !name.is_empty() {
                return Ok(Some(name).filter(|n| n != "default"));
            }
        }
        let path = dir.join("config.json");
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(SettingsError::InvalidConfig {
                    path,
                    reason: e.to_string(),
                })
            }
        };
        let config: Config =
            serde_json::from_slice(&text).map_err(|e| SettingsError::InvalidConfig {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        Ok(config
            .current_context
            .filter(|n| !n.is_empty() && n != "default"))
    }
}

/// TLS from the environment, as the docker CLI reads it:
/// `DOCKER_TLS_VERIFY` (non-empty: verify) or `DOCKER_TLS` (non-empty:
/// TLS without verification), with files from `DOCKER_CERT_PATH` (else the
/// config directory).
pub(crate) fn env_tls(dir: &Path) -> Option<TlsOptions> {
    let set = |v: &str| std::env::var(v).is_ok_and(|s| !s.is_empty());
    let verify = set("DOCKER_TLS_VERIFY");
    if !verify && !set("DOCKER_TLS") {
        return None;
    }
    let certs = std::env::var_os("DOCKER_CERT_PATH")
        .filter(|p| !p.is_empty())
        .map_or_else(|| dir.to_owned(), PathBuf::from);
    let mut opts = TlsOptions::from_cert_path(certs);
    opts.verify = verify;
    if !verify && opts.ca.as_ref().is_some_and(|p| !p.exists()) {
        opts.ca = None;
    }
    Some(opts)
}

/// Where and how to connect.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) host: String,
    pub(crate) tls: Option<TlsOptions>,
}

/// Resolves the settings of a builder (see the module docs for the order).
pub(crate) fn resolve(
    host: Option<&str>,
    context: Option<&str>,
    tls: Option<&TlsOptions>,
    dir: Option<&Path>,
) -> Result<Resolved, SettingsError> {
    let default_dir;
    let dir = match dir {
        Some(d) => d,
        None => {
            default_dir = config_dir();
            &default_dir
        }
    };
    let env_host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
    let host_tls = || tls.cloned().or_else(|| env_tls(dir));
    if let Some(h) = host {
        return Ok(Resolved {
            host: h.to_owned(),
            tls: host_tls(),
        });
    }
    let context = match context {
        Some(c) => Some(c.to_owned()),
        None if env_host.is_some() => None,
        None => DockerContext::current_name(dir)?,
    };
    match (context, env_host) {
        (Some(name), _) if name != "default" => {
            let ctx = DockerContext::load_from(dir, &name)?;
            Ok(Resolved {
                host: ctx.host,
                tls: tls.cloned().or(ctx.tls),
            })
        }
        (_, Some(h)) => Ok(Resolved {
            host: h,
            tls: host_tls(),
        }),
        _ => Ok(Resolved {
            host: DEFAULT_HOST.to_owned(),
            tls: tls.cloned(),
        }),
    }
}
