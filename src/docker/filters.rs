//! Query filters (`filters={"label":["k=v"],...}`) and list options.

use super::http::encode_query;
use std::collections::BTreeMap;

/// Filters for list, prune and events calls.
///
/// ```
/// use stevedore::docker::Filters;
/// let f = Filters::new().label("batch=42").add("status", "exited");
/// assert!(!f.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters(BTreeMap<String, Vec<String>>);

impl Filters {
    /// No filters.
    pub fn new() -> Filters {
        Filters::default()
    }

    /// Adds `value` to filter `key` (`label`, `status`, `name`, `type`,
    /// `event`, `container`, `reference`, …).
    pub fn add(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.entry(key.into()).or_default().push(value.into());
        self
    }

    /// `label=key` or `label=key=value`.
    pub fn label(self, label: impl Into<String>) -> Self {
        self.add("label", label)
    }

    /// True if no filter is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `filters=<url-encoded JSON>`, or nothing.
    pub(crate) fn query(&self) -> Option<String> {
        (!self.is_empty()).then(|| {
            let json = serde_json::to_string(&self.0).expect("string map");
            format!("filters={}", encode_query(&json))
        })
    }
}

/// Options of [`Docker::list`](super::Docker::list).
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Include stopped containers.
    pub all: bool,
    /// Filters.
    pub filters: Filters,
}

/// Options of [`Docker::remove`](super::Docker::remove).
#[derive(Debug, Clone, Copy, Default)]
pub struct RemoveOptions {
    /// Kill it first if it is running.
    pub force: bool,
    /// Remove its anonymous volumes.
    pub volumes: bool,
}

/// Joins `path` and query parts.
pub(crate) fn with_query(path: String, parts: impl IntoIterator<Item = Option<String>>) -> String {
    let q: Vec<String> = parts.into_iter().flatten().collect();
    if q.is_empty() {
        path
    } else {
        format!("{path}?{}", q.join("&"))
    }
}
