//! A deterministic root filesystem tar: entries sorted by path, parents
//! created before children, owner root, mtime 0. The same inputs always
//! give the same bytes, so the tar's SHA-256 — the image layer's DiffID —
//! names the content.

use super::error::MinimalImageError;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io;

/// One entry of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Dir { mode: u32 },
    File { mode: u32, data: Vec<u8> },
    Symlink { target: String },
}

/// Paths (relative, `/`-separated, no leading `/`) to nodes.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    nodes: BTreeMap<String, Node>,
}

impl Tree {
    /// The skeleton every image gets: the usual top-level directories,
    /// `usr/bin` pointing at `/bin`, and `root`/`nobody` in `/etc`.
    pub(crate) fn skeleton() -> Tree {
        let mut t = Tree::default();
        for (dir, mode) in [
            ("bin", 0o755),
            ("dev", 0o755),
            ("etc", 0o755),
            ("proc", 0o555),
            ("root", 0o700),
            ("sys", 0o555),
            ("tmp", 0o1777),
            ("usr", 0o755),
            ("var", 0o755),
        ] {
            t.nodes.insert(dir.to_owned(), Node::Dir { mode });
        }
        t.insert(
            "usr/bin",
            Node::Symlink {
                target: "../bin".into(),
            },
        );
        t.insert(
            "etc/passwd",
            Node::File {
                mode: 0o644,
                data: b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                    .to_vec(),
            },
        );
        t.insert(
            "etc/group",
            Node::File {
                mode: 0o644,
                data: b"root:x:0:\nnogroup:x:65534:\n".to_vec(),
            },
        );
        t
    }

    /// Adds `node` at `path` (leading `/` ignored), creating missing parent
    /// directories; returns false if the path is taken or passes through
    /// a non-directory.
    pub(crate) fn insert(&mut self, path: &str, node: Node) -> bool {
        let path = path.trim_start_matches('/');
        if path.is_empty() || self.nodes.contains_key(path) {
            return false;
        }
        let mut parent = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(part);
            match self.nodes.get(&parent) {
                Some(Node::Dir { .. }) => {}
                Some(_) => return false,
                None => {
                    self.nodes.insert(parent.clone(), Node::Dir { mode: 0o755 });
                }
            }
        }
        self.nodes.insert(path.to_owned(), node);
        true
    }

    /// Whether `path` is present.
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.nodes.contains_key(path.trim_start_matches('/'))
    }

    /// Paths, sorted.
    pub(crate) fn paths(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    /// The tar and its `sha256:<hex>` digest.
    pub(crate) fn into_tar(self) -> Result<(Vec<u8>, String), MinimalImageError> {
        let tar = self
            .write()
            .map_err(|e| MinimalImageError::io("<root filesystem tar>", e))?;
        let digest = Sha256::digest(&tar);
        let mut hex = String::with_capacity(7 + 64);
        hex.push_str("sha256:");
        for b in digest {
            hex.push_str(&format!("{b:02x}"));
        }
        Ok((tar, hex))
    }

    fn write(self) -> io::Result<Vec<u8>> {
        let mut tar = tar::Builder::new(Vec::new());
        for (path, node) in self.nodes {
            let mut h = tar::Header::new_gnu();
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            match node {
                Node::Dir { mode } => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_mode(mode);
                    h.set_size(0);
                    tar.append_data(&mut h, format!("{path}/"), io::empty())?;
                }
                Node::File { mode, data } => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_mode(mode);
                    h.set_size(data.len() as u64);
                    tar.append_data(&mut h, &path, data.as_slice())?;
                }
                Node::Symlink { target } => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_mode(0o777);
                    h.set_size(0);
                    tar.append_link(&mut h, &path, &target)?;
                }
            }
        }
        tar.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tar_is_deterministic_and_parents_come_first() {
        let build = || {
            let mut t = Tree::skeleton();
            assert!(t.insert(
                "/lib/x86_64-linux-gnu/libc.so.6",
                Node::File {
                    mode: 0o755,
                    data: vec![1, 2, 3]
                }
            ));
            assert!(t.insert(
                "bin/sh",
                Node::File {
                    mode: 0o755,
                    data: vec![4]
                }
            ));
            assert!(
                !t.insert(
                    "bin/sh",
                    Node::File {
                        mode: 0o755,
                        data: vec![5]
                    }
                ),
                "taken"
            );
            assert!(
                !t.insert(
                    "usr/bin/x",
                    Node::File {
                        mode: 0o755,
                        data: vec![]
                    }
                ),
                "through a symlink"
            );
            t
        };
        let (a, da) = build().into_tar().unwrap();
        let (b, db) = build().into_tar().unwrap();
        assert_eq!(a, b);
        assert_eq!(da, db);
        assert!(da.starts_with("sha256:") && da.len() == 71);
        let mut archive = tar::Archive::new(a.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        let lib = names.iter().position(|n| n == "lib/").unwrap();
        let libc = names
            .iter()
            .position(|n| n == "lib/x86_64-linux-gnu/libc.so.6")
            .unwrap();
        assert!(lib < libc, "{names:?}");
        assert!(names.contains(&"usr/bin".to_owned()));
    }
}
