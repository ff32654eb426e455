//! `--restart` policies and `--add-host` entries.

use super::{check_text, SpecError};
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// When the daemon restarts the container (`--restart`).
///
/// ```
/// use stevedore::docker::spec::RestartPolicy;
///
/// assert_eq!("on-failure:3".parse(), Ok(RestartPolicy::OnFailure { max_retries: Some(3) }));
/// assert_eq!("unless-stopped".parse(), Ok(RestartPolicy::UnlessStopped));
/// assert!("sometimes".parse::<RestartPolicy>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RestartPolicy {
    /// Never (the default).
    No,
    /// Always, also after the daemon restarts.
    Always,
    /// Always, unless it was stopped by hand.
    UnlessStopped,
    /// When it exits non-zero, at most `max_retries` times (no limit when
    /// `None`).
    OnFailure {
        /// The most restarts.
        max_retries: Option<u32>,
    },
}

impl RestartPolicy {
    /// The Engine API's `RestartPolicy` object.
    pub(super) fn body(self) -> RestartPolicyBody {
        let (name, count) = match self {
            RestartPolicy::No => ("no", 0),
            RestartPolicy::Always => ("always", 0),
            RestartPolicy::UnlessStopped => ("unless-stopped", 0),
            RestartPolicy::OnFailure { max_retries } => ("on-failure", max_retries.unwrap_or(0)),
        };
        RestartPolicyBody {
            name,
            maximum_retry_count: count,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RestartPolicyBody {
    name: &'static str,
    maximum_retry_count: u32,
}

impl FromStr for RestartPolicy {
    type Err = SpecError;

    fn from_str(value: &str) -> Result<RestartPolicy, SpecError> {
        check_text("--restart", value, 64)?;
        let bad = || SpecError::InvalidRestartPolicy {
            value: value.to_owned(),
        };
        Ok(match value.split_once(':') {
            None => match value {
                "no" => RestartPolicy::No,
                "always" => RestartPolicy::Always,
                "unless-stopped" => RestartPolicy::UnlessStopped,
                "on-failure" => RestartPolicy::OnFailure { max_retries: None },
                _ => return Err(bad()),
            },
            Some(("on-failure", n)) if n.bytes().all(|b| b.is_ascii_digit()) => {
                RestartPolicy::OnFailure {
                    max_retries: Some(n.parse().map_err(|_| bad())?),
                }
            }
            Some(_) => return Err(bad()),
        })
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestartPolicy::No => f.write_str("no"),
            RestartPolicy::Always => f.write_str("always"),
            RestartPolicy::UnlessStopped => f.write_str("unless-stopped"),
            RestartPolicy::OnFailure { max_retries: None } => f.write_str("on-failure"),
            RestartPolicy::OnFailure {
                max_retries: Some(n),
            } => write!(f, "on-failure:{n}"),
        }
    }
}

/// The address of an [`ExtraHost`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostAddr {
    /// A fixed address.
    Ip(IpAddr),
    /// The host's address as seen from containers (`host-gateway`).
    HostGateway,
}

/// An `/etc/hosts` entry (`--add-host db:10.0.0.5`).
///
/// ```
/// use stevedore::docker::spec::ExtraHost;
///
/// let h: ExtraHost = "db:10.0.0.5".parse()?;
/// assert_eq!(h.to_string(), "db:10.0.0.5");
/// assert!("db:::1".parse::<ExtraHost>().is_ok()); // IPv6 after the first ':'
/// assert!("host.docker.internal:host-gateway".parse::<ExtraHost>().is_ok());
/// assert!("db:not-an-ip".parse::<ExtraHost>().is_err());
/// # Ok::<_, stevedore::docker::spec::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtraHost {
    host: String,
    addr: HostAddr,
}

impl ExtraHost {
    /// `host` resolves to `addr` in the container.
    pub fn new(host: impl Into<String>, addr: HostAddr) -> ExtraHost {
        ExtraHost {
            host: host.into(),
            addr,
        }
    }

    /// The host name.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The address.
    pub fn addr(&self) -> HostAddr {
        self.addr
    }

    /// Checks the host name (non-empty, no whitespace, `:` or `=`).
    ///
    /// # Errors
    ///
    /// [`SpecError::InvalidExtraHost`].
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.host.is_empty()
            || self.host.len() > 253
            || self
                .host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == ':' || c == '=')
        {
            return Err(SpecError::InvalidExtraHost {
                value: self.to_string(),
            });
        }
        Ok(())
    }
}

impl FromStr for ExtraHost {
    type Err = SpecError;

    /// `host:ip` or `host=ip`; an IPv6 address may be in brackets.
    fn from_str(value: &str) -> Result<ExtraHost, SpecError> {
        check_text("--add-host", value, 512)?;
        let bad = || SpecError::InvalidExtraHost {
            value: value.to_owned(),
        };
        let (host, addr) = value
            .split_once('=')
            .or_else(|| value.split_once(':'))
            .ok_or_else(bad)?;
        let addr = match addr {
            "host-gateway" => HostAddr::HostGateway,
            a => {
                let a = a
                    .strip_prefix('[')
                    .and_then(|a| a.strip_suffix(']'))
                    .unwrap_or(a);
                HostAddr::Ip(a.parse().map_err(|_| bad())?)
            }
        };
        let h = ExtraHost::new(host, addr);
        h.validate().map_err(|_| bad())?;
        Ok(h)
    }
}

impl fmt::Display for ExtraHost {
    /// The Engine API's `host:ip` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            HostAddr::Ip(ip) => write!(f, "{}:{ip}", self.host),
            HostAddr::HostGateway => write!(f, "{}:host-gateway", self.host),
        }
    }
}

/// A hostname: 1 to 63 letters, digits, `-` and `.`, starting with a
/// letter or digit (the kernel's limit is 64 bytes).
pub(super) fn check_hostname(value: &str) -> Result<(), SpecError> {
    let b = value.as_bytes();
    let ok = (1..=63).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(SpecError::InvalidHostname {
            value: value.to_owned(),
        })
    }
}

/// A capability: `ALL` or `[A-Z0-9_]+`, optionally prefixed `CAP_`
/// (compared case-insensitively, sent upper-case).
pub(super) fn normalize_capability(value: &str) -> Result<String, SpecError> {
    let upper = value.to_ascii_uppercase();
    let name = upper.strip_prefix("CAP_").unwrap_or(&upper);
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(if name == "ALL" {
            "ALL".to_owned()
        } else {
            format!("CAP_{name}")
        })
    } else {
        Err(SpecError::InvalidCapability {
            value: value.to_owned(),
        })
    }
}
