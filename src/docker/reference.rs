//! Image references (`[registry[:port]/]path[:tag][@algorithm:hex]`),
//! checked on the client before anything is sent or created.
//!
//! The grammar is the one the daemon and registries use (the
//! `distribution/reference` grammar): path components of lower-case
//! letters and digits joined by `.`, `_`, `__` or runs of `-`; a first
//! component with a `.` or `:` in it, or `localhost`, is a registry host;
//! tags are `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; a name is at most 255
//! characters. Image ids (`sha256:…`, bare hex) parse too, as the daemon
//! accepts them wherever it accepts a name.

use std::fmt;

/// Longest name (registry and path) the daemon accepts.
const MAX_NAME: usize = 255;
/// Longest tag.
const MAX_TAG: usize = 128;

/// A parsed, valid image reference.
///
/// ```
/// use stevedore::docker::ImageRef;
///
/// let r = ImageRef::parse("localhost:5000/team/app:v2")?;
/// assert_eq!((r.name(), r.tag()), ("localhost:5000/team/app", Some("v2")));
/// assert_eq!(ImageRef::parse("busybox")?.tag_or_latest(), "latest");
/// assert!(ImageRef::parse("").is_err());
/// assert!(ImageRef::parse("Busybox:latest").is_err());
/// # Ok::<_, stevedore::docker::ReferenceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// `registry[:port]/path`, as given.
    name: String,
    tag: Option<String>,
    digest: Option<String>,
}

/// Why a string is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReferenceError {
    /// The reference is empty.
    Empty,
    /// The name (registry and path) is longer than 255 characters.
    NameTooLong {
        /// The reference as given.
        reference: String,
    },
    /// A registry host or path component breaks the grammar (upper case,
    /// a leading separator, an empty component, a stray character, …).
    InvalidName {
        /// The reference as given.
        reference: String,
        /// The offending component.
        component: String,
    },
    /// The tag breaks `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    InvalidTag {
        /// The reference as given.
        reference: String,
    },
    /// The digest is not `algorithm:hex` with at least 32 hex digits.
    InvalidDigest {
        /// The reference as given.
        reference: String,
    },
}

impl ImageRef {
    /// Parses and validates `reference`.
    ///
    /// # Errors
    ///
    /// A [`ReferenceError`] naming what is wrong; nothing is contacted.
    pub fn parse(reference: &str) -> Result<ImageRef, ReferenceError> {
        if reference.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (rest, digest) = match reference.split_once('@') {
            Some((rest, digest)) => {
                check_digest(reference, digest)?;
                (rest, Some(digest.to_owned()))
            }
            None => (reference, None),
        };
        // A `:` after the last `/` starts the tag; one before it belongs to
        // a registry port.
        let (name, tag) = match rest.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
            _ => (rest, None),
        };
        if let Some(tag) = tag {
            check_tag(reference, tag)?;
        }
        check_name(reference, name)?;
        Ok(ImageRef {
            name: name.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// `registry[:port]/path` (no tag, no digest).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tag, if one was given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The tag, or `latest` as the daemon assumes.
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }

    /// The digest (`sha256:…`), if one was given.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }
}

impl std::str::FromStr for ImageRef {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<ImageRef, ReferenceError> {
        ImageRef::parse(s)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

fn check_name(reference: &str, name: &str) -> Result<(), ReferenceError> {
    if name.len() > MAX_NAME {
        return Err(ReferenceError::NameTooLong {
            reference: reference.to_owned(),
        });
    }
    let invalid = |component: &str| ReferenceError::InvalidName {
        reference: reference.to_owned(),
        component: component.to_owned(),
    };
    let mut components = name.split('/').peekable();
    let first = components.next().unwrap_or_default();
    let is_registry = components.peek().is_some()
        && (first.contains(['.', ':'])
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase()));
    if is_registry {
        check_registry(first).map_err(|()| invalid(first))?;
    } else {
        check_path_component(first).map_err(|()| invalid(first))?;
    }
    for c in components {
        check_path_component(c).map_err(|()| invalid(c))?;
    }
    Ok(())
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or one or more `-`.
fn check_path_component(c: &str) -> Result<(), ()> {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = c.as_bytes();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err(());
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        match &c[start..i] {
            "." | "_" | "__" => {}
            sep if sep.bytes().all(|b| b == b'-') => {}
            _ => return Err(()),
        }
    }
    Ok(())
}

/// `host[:port]`: dot-separated labels of letters, digits and inner `-`,
/// or a bracketed IPv6 address; the port is decimal.
fn check_registry(registry: &str) -> Result<(), ()> {
    let (host, port) = if let Some(v6) = registry.strip_prefix('[') {
        let (addr, rest) = v6.split_once(']').ok_or(())?;
        addr.parse::<std::net::Ipv6Addr>().map_err(drop)?;
        match rest {
            "" => return Ok(()),
            _ => ("", rest.strip_prefix(':').ok_or(())?),
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (host, port),
            None => (registry, "0"),
        }
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    if host.is_empty() && !registry.starts_with('[') {
        return Err(());
    }
    for label in host.split('.').filter(|_| !host.is_empty()) {
        let b = label.as_bytes();
        let ok = !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-');
        if !ok {
            return Err(());
        }
    }
    Ok(())
}

fn check_tag(reference: &str, tag: &str) -> Result<(), ReferenceError> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = tag.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= MAX_TAG
        && word(b[0])
        && b.iter().all(|&c| word(c) || c == b'.' || c == b'-');
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::InvalidTag {
            reference: reference.to_owned(),
        })
    }
}

fn check_digest(reference: &str, digest: &str) -> Result<(), ReferenceError> {
    let invalid = || ReferenceError::InvalidDigest {
        reference: reference.to_owned(),
    };
    let (algorithm, hex) = digest.split_once(':').ok_or_else(invalid)?;
    let alg_ok = !algorithm.is_empty()
        && algorithm.split(['+', '.', '_', '-']).all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    let hex_ok = hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if alg_ok && hex_ok {
        Ok(())
    } else {
        Err(invalid())
    }
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReferenceError::Empty => f.write_str("the image reference is empty"),
            ReferenceError::NameTooLong { reference } => {
                write!(f, "invalid image reference {reference:?}: the name is longer than {MAX_NAME} characters")
            }
            ReferenceError::InvalidName { reference, component } => write!(
                f,
                "invalid image reference {reference:?}: {component:?} is not a valid name component \
                 (lower-case letters and digits, joined by '.', '_', '__' or '-')"
            ),
            ReferenceError::InvalidTag { reference } => write!(
                f,
                "invalid image reference {reference:?}: a tag is 1 to {MAX_TAG} letters, digits, '_', '.' or '-', \
                 not starting with '.' or '-'"
            ),
            ReferenceError::InvalidDigest { reference } => write!(
                f,
                "invalid image reference {reference:?}: a digest is algorithm:hex (e.g. sha256:…)"
            ),
        }
    }
}

impl std::error::Error for ReferenceError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_references() {
        for (input, name, tag) in [
            ("busybox", "busybox", None),
            ("busybox:latest", "busybox", Some("latest")),
            (
                "library/busybox:1.36.1-musl",
                "library/busybox",
                Some("1.36.1-musl"),
            ),
            (
                "stevedore/minimal:0.1.0-0a1b2c3d4e5f",
                "stevedore/minimal",
                Some("0.1.0-0a1b2c3d4e5f"),
            ),
            ("localhost/app", "localhost/app", None),
            (
                "localhost:5000/team/app:v2",
                "localhost:5000/team/app",
                Some("v2"),
            ),
            (
                "registry.example.com/a__b/c-d--e.f:TAG_1",
                "registry.example.com/a__b/c-d--e.f",
                Some("TAG_1"),
            ),
            ("[::1]:5000/app", "[::1]:5000/app", None),
            ("Example.com/app", "Example.com/app", None),
            (
                "sha256:98c211da0a806b0c1272a002c97e80d0d78cc043ab0dcb62de43b72fdbfc7500",
                "sha256",
                Some("98c211da0a806b0c1272a002c97e80d0d78cc043ab0dcb62de43b72fdbfc7500"),
            ),
            ("98c211da0a80", "98c211da0a80", None),
        ] {
            let r = ImageRef::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!((r.name(), r.tag()), (name, tag), "{input}");
            assert_eq!(r.to_string(), input);
        }
        let r = ImageRef::parse(
            "app@sha256:98c211da0a806b0c1272a002c97e80d0d78cc043ab0dcb62de43b72fdbfc7500",
        )
        .unwrap();
        assert_eq!(r.name(), "app");
        assert!(r.digest().unwrap().starts_with("sha256:98c2"));
    }

    #[test]
    fn invalid_references_are_typed_errors() {
        assert_eq!(ImageRef::parse(""), Err(ReferenceError::Empty));
        for input in [
            "Busybox",
            "busy box",
            "busybox:",
            ":latest",
            "/busybox",
            "busybox/",
            "a//b",
            "-a",
            "a-",
            "a..b",
            "a___b",
            "a.-b",
            "image:tag with space",
            "image:-tag",
            "image:.tag",
            "nosuch/image:v9:v10",
            "host:port/app",
            "[::1/app",
            "a@sha256:xyz",
            "a@sha256:",
            "a@:0123456789abcdef0123456789abcdef",
            "\u{e9}t\u{e9}",
        ] {
            assert!(ImageRef::parse(input).is_err(), "{input:?} was accepted");
        }
        let long = format!("{}:v", "a".repeat(256));
        assert!(matches!(
            ImageRef::parse(&long),
            Err(ReferenceError::NameTooLong { .. })
        ));
        let long_tag = format!("a:{}", "t".repeat(129));
        assert!(matches!(
            ImageRef::parse(&long_tag),
            Err(ReferenceError::InvalidTag { .. })
        ));
        let e = ImageRef::parse("Busybox:latest").unwrap_err();
        assert!(e.to_string().contains("\"Busybox\""), "{e}");
    }
}
