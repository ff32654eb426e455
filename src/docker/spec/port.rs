//! Published ports in `docker run -p`'s format.

use super::{check_text, SpecError};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Protocol {
    /// TCP (the default).
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// `tcp`, `udp` or `sctp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// A port or an inclusive range of ports, `1..=65535`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRange {
    start: u16,
    end: u16,
}

impl PortRange {
    /// The first port.
    pub fn start(self) -> u16 {
        self.start
    }

    /// The last port (the same as `start` for one port).
    pub fn end(self) -> u16 {
        self.end
    }

    fn len(self) -> u32 {
        u32::from(self.end) - u32::from(self.start) + 1
    }

    fn parse(value: &str, s: &str) -> Result<PortRange, SpecError> {
        let bad = || SpecError::InvalidPort {
            value: value.to_owned(),
            port: s.to_owned(),
        };
        let port = |p: &str| match p.parse::<u16>() {
            Ok(0) | Err(_) => Err(bad()),
            // `+80` parses as a u16; ports are digits only.
            Ok(_) if !p.bytes().all(|b| b.is_ascii_digit()) => Err(bad()),
            Ok(n) => Ok(n),
        };
        let (start, end) = match s.split_once('-') {
            Some((a, b)) => (port(a)?, port(b)?),
            None => {
                let p = port(s)?;
                (p, p)
            }
        };
        if start > end {
            return Err(bad());
        }
        Ok(PortRange { start, end })
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

/// A published port (`-p 8080:80`, `-p 127.0.0.1:8080:80/udp`,
/// `-p [::1]::80`, `-p 8000-8001:80-81`, `-p 80`).
///
/// Without a host port the daemon picks a free one.
///
/// ```
/// use stevedore::docker::spec::{PortBinding, Protocol};
///
/// let p: PortBinding = "127.0.0.1:8080:80/udp".parse()?;
/// assert_eq!(p.container_port().start(), 80);
/// assert_eq!(p.host_port_range().map(|r| r.start()), Some(8080));
/// assert_eq!(p.protocol(), Protocol::Udp);
/// assert_eq!(p, PortBinding::udp(80).host_port(8080).host_ip("127.0.0.1".parse().unwrap()));
/// assert!("8080:80/icmp".parse::<PortBinding>().is_err());
/// assert!("70000:80".parse::<PortBinding>().is_err());
/// # Ok::<_, stevedore::docker::spec::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortBinding {
    host_ip: Option<IpAddr>,
    host: Option<PortRange>,
    container: PortRange,
    protocol: Protocol,
}

impl PortBinding {
    /// Publishes TCP port `port` of the container on a free host port.
    pub fn tcp(port: u16) -> PortBinding {
        PortBinding::new(port, Protocol::Tcp)
    }

    /// Publishes UDP port `port` of the container on a free host port.
    pub fn udp(port: u16) -> PortBinding {
        PortBinding::new(port, Protocol::Udp)
    }

    /// Publishes port `port` of the container, by `protocol`.
    pub fn new(port: u16, protocol: Protocol) -> PortBinding {
        PortBinding {
            host_ip: None,
            host: None,
            container: PortRange {
                start: port,
                end: port,
            },
            protocol,
        }
    }

    /// On host port `port`.
    pub fn host_port(mut self, port: u16) -> PortBinding {
        self.host = Some(PortRange {
            start: port,
            end: port,
        });
        self
    }

    /// On host address `ip` only (default: every address).
    pub fn host_ip(mut self, ip: IpAddr) -> PortBinding {
        self.host_ip = Some(ip);
        self
    }

    /// The container's port(s).
    pub fn container_port(&self) -> PortRange {
        self.container
    }

    /// The host port(s), if given.
    pub fn host_port_range(&self) -> Option<PortRange> {
        self.host
    }

    /// The host address, if given.
    pub fn get_host_ip(&self) -> Option<IpAddr> {
        self.host_ip
    }

    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Checks the ports are in `1..=65535` and the ranges fit together.
    ///
    /// # Errors
    ///
    /// [`SpecError::InvalidPort`] for port 0, [`SpecError::PortRangeMismatch`].
    pub fn validate(&self) -> Result<(), SpecError> {
        let value = self.to_string();
        for r in std::iter::once(self.container).chain(self.host) {
            if r.start == 0 || r.start > r.end {
                return Err(SpecError::InvalidPort {
                    value: value.clone(),
                    port: r.to_string(),
                });
            }
        }
        if let Some(h) = self.host {
            if self.container.len() > 1 && h.len() != self.container.len() {
                return Err(SpecError::PortRangeMismatch { value });
            }
        }
        Ok(())
    }

    /// `(container "port/proto", host ip, host port)` per container port:
    /// the `ExposedPorts` keys and `PortBindings` entries.
    pub(super) fn entries(&self) -> Vec<(String, String, String)> {
        let ip = self.host_ip.map(|ip| ip.to_string()).unwrap_or_default();
        (0..self.container.len())
            .map(|i| {
                let port = u32::from(self.container.start) + i;
                let host = match self.host {
                    None => String::new(),
                    // One container port on a host range: the daemon picks
                    // a free port of the range.
                    Some(h) if self.container.len() == 1 => h.to_string(),
                    Some(h) => (u32::from(h.start) + i).to_string(),
                };
                (
                    format!("{port}/{}", self.protocol.as_str()),
                    ip.clone(),
                    host,
                )
            })
            .collect()
    }
}

impl FromStr for PortBinding {
    type Err = SpecError;

    /// `-p` syntax: `[ip:][host_port:]container_port[/protocol]`, where an
    /// IPv6 address is in brackets and ports may be ranges (`8000-8010`).
    fn from_str(value: &str) -> Result<PortBinding, SpecError> {
        check_text("-p", value, 128)?;
        let format = || SpecError::PortFormat {
            value: value.to_owned(),
        };
        let (ports, protocol) = match value.rsplit_once('/') {
            Some((p, proto)) => (
                p,
                match proto {
                    "tcp" => Protocol::Tcp,
                    "udp" => Protocol::Udp,
                    "sctp" => Protocol::Sctp,
                    _ => {
                        return Err(SpecError::InvalidProtocol {
                            value: value.to_owned(),
                            protocol: proto.to_owned(),
                        })
                    }
                },
            ),
            None => (value, Protocol::Tcp),
        };
        let (ip, rest) = if let Some(bracketed) = ports.strip_prefix('[') {
            let (ip, rest) = bracketed.split_once("]:").ok_or_else(format)?;
            (Some(ip), rest)
        } else {
            (None, ports)
        };
        let fields: Vec<&str> = rest.split(':').collect();
        let (ip, host, container) = match (ip, fields.as_slice()) {
            (None, [c]) => (None, None, *c),
            (None, [h, c]) => (None, Some(*h), *c),
            (None, [ip, h, c]) => (Some(*ip), Some(*h), *c),
            (Some(ip), [h, c]) => (Some(ip), Some(*h), *c),
            _ => return Err(format()),
        };
        let host_ip = match ip {
            None => None,
            Some(ip) => Some(ip.parse::<IpAddr>().map_err(|_| SpecError::InvalidIp {
                value: value.to_owned(),
                ip: ip.to_owned(),
            })?),
        };
        let binding = PortBinding {
            host_ip,
            host: match host {
                None | Some("") => None,
                Some(h) => Some(PortRange::parse(value, h)?),
            },
            container: PortRange::parse(value, container)?,
            protocol,
        };
        binding.validate().map_err(|e| match e {
            SpecError::PortRangeMismatch { .. } => SpecError::PortRangeMismatch {
                value: value.to_owned(),
            },
            e => e,
        })?;
        Ok(binding)
    }
}

impl fmt::Display for PortBinding {
    /// The `-p` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host_ip {
            Some(IpAddr::V6(ip)) => write!(f, "[{ip}]:")?,
            Some(ip) => write!(f, "{ip}:")?,
            None => {}
        }
        match self.host {
            Some(h) => write!(f, "{h}:")?,
            None if self.host_ip.is_some() => f.write_str(":")?,
            None => {}
        }
        write!(f, "{}/{}", self.container, self.protocol.as_str())
    }
}
