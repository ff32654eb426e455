//! Resource values in `docker run`'s formats: `--memory 64m`, `--cpus 1.5`,
//! `--ulimit nofile=1024:2048`.

use super::SpecError;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// Longest numeric value accepted (longer ones are typos or attacks).
const MAX_NUMBER_LEN: usize = 64;

/// Parses a `--memory` size into bytes: a number (decimals allowed), an
/// optional space, then an optional unit `b`, `k`, `m`, `g`, `t` or `p`
/// (either case, powers of 1024 as `docker run` reads them, optionally
/// followed by `i` and/or `b`: `64m`, `64MiB`, `1.5g`, `512 kb`). A
/// fractional number of bytes is truncated.
///
/// ```
/// use stevedore::docker::spec::parse_memory;
///
/// assert_eq!(parse_memory("64m")?, 64 << 20);
/// assert_eq!(parse_memory("1.5G")?, 3 << 29);
/// assert_eq!(parse_memory("4096")?, 4096);
/// assert!(parse_memory("64x").is_err());
/// assert!(parse_memory("99999999999p").is_err()); // overflows i64
/// # Ok::<_, stevedore::docker::spec::SpecError>(())
/// ```
///
/// # Errors
///
/// [`SpecError::Empty`], [`SpecError::InvalidMemory`] for anything else
/// than the format above, [`SpecError::Overflow`] past `i64::MAX` bytes.
pub fn parse_memory(value: &str) -> Result<i64, SpecError> {
    const OPTION: &str = "--memory";
    let bad = || SpecError::InvalidMemory {
        value: value.to_owned(),
    };
    if value.is_empty() {
        return Err(SpecError::Empty { option: OPTION });
    }
    if value.len() > MAX_NUMBER_LEN {
        return Err(SpecError::TooLong {
            option: OPTION,
            len: value.len(),
            max: MAX_NUMBER_LEN,
        });
    }
    let end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, rest) = value.split_at(end);
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let (shift, rest) = match rest.as_bytes().first().map(u8::to_ascii_lowercase) {
        Some(b'k') => (10, &rest[1..]),
        Some(b'm') => (20, &rest[1..]),
        Some(b'g') => (30, &rest[1..]),
        Some(b't') => (40, &rest[1..]),
        Some(b'p') => (50, &rest[1..]),
        _ => (0u32, rest),
    };
    let rest = rest.strip_prefix(['i', 'I']).unwrap_or(rest);
    let rest = rest.strip_prefix(['b', 'B']).unwrap_or(rest);
    if !rest.is_empty() {
        return Err(bad());
    }
    let (int, frac) = split_decimal(number).ok_or_else(bad)?;
    let overflow = || SpecError::Overflow {
        option: OPTION,
        value: value.to_owned(),
    };
    // Both parts are at most 64 digits long; leading zeros are harmless to
    // u128 parsing only once stripped, and 39+ significant digits overflow.
    let int = int.trim_start_matches('0');
    if int.len() > 30 {
        return Err(overflow());
    }
    let int: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| overflow())?
    };
    let unit = 1u128 << shift;
    let mut bytes = int.checked_mul(unit).ok_or_else(overflow)?;
    // Eighteen decimals are more than a byte's precision for any unit.
    let frac = &frac[..frac.len().min(18)];
    if !frac.is_empty() {
        let scale = 10u128.pow(frac.len() as u32);
        let f: u128 = frac.parse().map_err(|_| bad())?;
        bytes += f * unit / scale;
    }
    i64::try_from(bytes).map_err(|_| overflow())
}

/// Parses a `--cpus` value into billionths of a CPU (`NanoCpus`): `1.5`
/// → `1_500_000_000`. At most nine decimals; zero is refused (the Engine
/// API reads it as "no limit").
///
/// ```
/// use stevedore::docker::spec::parse_cpus;
///
/// assert_eq!(parse_cpus("1.5")?, 1_500_000_000);
/// assert_eq!(parse_cpus("0.001")?, 1_000_000);
/// assert!(parse_cpus("0.0000000001").is_err()); // too precise
/// assert!(parse_cpus("-1").is_err());
/// # Ok::<_, stevedore::docker::spec::SpecError>(())
/// ```
///
/// # Errors
///
/// [`SpecError::Empty`], [`SpecError::InvalidCpus`] (not a decimal
/// number), [`SpecError::CpusTooPrecise`], [`SpecError::NotPositive`],
/// [`SpecError::Overflow`].
pub fn parse_cpus(value: &str) -> Result<i64, SpecError> {
    const OPTION: &str = "--cpus";
    if value.is_empty() {
        return Err(SpecError::Empty { option: OPTION });
    }
    if value.len() > MAX_NUMBER_LEN {
        return Err(SpecError::TooLong {
            option: OPTION,
            len: value.len(),
            max: MAX_NUMBER_LEN,
        });
    }
    let (int, frac) = split_decimal(value).ok_or_else(|| SpecError::InvalidCpus {
        value: value.to_owned(),
    })?;
    let frac = frac.trim_end_matches('0');
    if frac.len() > 9 {
        return Err(SpecError::CpusTooPrecise {
            value: value.to_owned(),
        });
    }
    let overflow = || SpecError::Overflow {
        option: OPTION,
        value: value.to_owned(),
    };
    let int = int.trim_start_matches('0');
    if int.len() > 18 {
        return Err(overflow());
    }
    let int: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| overflow())?
    };
    let frac_nanos: i64 = if frac.is_empty() {
        0
    } else {
        // At most nine digits: fits, and the padding makes it nanos.
        format!("{frac:0<9}").parse().map_err(|_| overflow())?
    };
    let nanos = int
        .checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(frac_nanos))
        .ok_or_else(overflow)?;
    if nanos == 0 {
        return Err(SpecError::NotPositive {
            option: OPTION,
            value: 0,
        });
    }
    Ok(nanos)
}

/// `digits[.digits]` or `.digits`: the integer and fraction digits.
fn split_decimal(s: &str) -> Option<(&str, &str)> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => {
            if f.is_empty() {
                return None;
            }
            (i, f)
        }
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    (digits(int) && digits(frac)).then_some((int, frac))
}

/// The limits `--ulimit` may set (`setrlimit`'s resources).
const ULIMITS: [&str; 15] = [
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

/// A resource limit (`--ulimit nofile=1024:2048`); `-1` is unlimited.
///
/// ```
/// use stevedore::docker::spec::Ulimit;
///
/// let u: Ulimit = "nofile=1024:2048".parse()?;
/// assert_eq!((u.name(), u.soft(), u.hard()), ("nofile", 1024, 2048));
/// assert!("nofile=4096:1024".parse::<Ulimit>().is_err());
/// # Ok::<_, stevedore::docker::spec::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ulimit {
    name: String,
    soft: i64,
    hard: i64,
}

impl Ulimit {
    /// A limit; checked by [`validate`](Self::validate) (and by
    /// [`ContainerSpec::validate`](super::ContainerSpec::validate)).
    pub fn new(name: impl Into<String>, soft: i64, hard: i64) -> Ulimit {
        Ulimit {
            name: name.into(),
            soft,
            hard,
        }
    }

    /// The resource (`nofile`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The soft limit.
    pub fn soft(&self) -> i64 {
        self.soft
    }

    /// The hard limit.
    pub fn hard(&self) -> i64 {
        self.hard
    }

    /// Checks the name and that `-1 <= soft <= hard` (`-1` is unlimited).
    ///
    /// # Errors
    ///
    /// [`SpecError::UnknownUlimit`], [`SpecError::UlimitFormat`] for a
    /// value below `-1`, [`SpecError::UlimitSoftAboveHard`].
    pub fn validate(&self) -> Result<(), SpecError> {
        if !ULIMITS.contains(&self.name.as_str()) {
            return Err(SpecError::UnknownUlimit {
                name: self.name.clone(),
            });
        }
        if self.soft < -1 || self.hard < -1 {
            return Err(SpecError::UlimitFormat {
                value: self.to_string(),
            });
        }
        let unlimited = |v: i64| if v == -1 { i64::MAX } else { v };
        if unlimited(self.soft) > unlimited(self.hard) {
            return Err(SpecError::UlimitSoftAboveHard {
                name: self.name.clone(),
                soft: self.soft,
                hard: self.hard,
            });
        }
        Ok(())
    }
}

impl FromStr for Ulimit {
    type Err = SpecError;

    /// `name=soft[:hard]` (the hard limit defaults to the soft one).
    fn from_str(value: &str) -> Result<Ulimit, SpecError> {
        if value.is_empty() {
            return Err(SpecError::Empty { option: "--ulimit" });
        }
        let bad = || SpecError::UlimitFormat {
            value: value.to_owned(),
        };
        let (name, limits) = value.split_once('=').ok_or_else(bad)?;
        let (soft, hard) = limits.split_once(':').unwrap_or((limits, limits));
        let num = |s: &str| {
            if s.len() > MAX_NUMBER_LEN {
                return Err(bad());
            }
            s.parse::<i64>().map_err(|_| bad())
        };
        let u = Ulimit::new(name, num(soft)?, num(hard)?);
        u.validate()?;
        Ok(u)
    }
}

impl fmt::Display for Ulimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}:{}", self.name, self.soft, self.hard)
    }
}
