//! The build context: a directory tarred with its `.dockerignore`
//! honoured, as the Docker CLI sends it.
//!
//! The walk is sorted (the same directory gives the same tar), never
//! follows symbolic links (they are archived as links), and skips
//! sockets, FIFOs and devices. An excluded directory is not walked unless
//! an exception names something inside it.

use super::ignore::DockerIgnore;
use super::BuildContextError;
use std::fs;
use std::path::{Path, PathBuf};

/// Tars `root` for a build of `dockerfile` (relative to `root`).
pub(super) fn tar_dir(root: &Path, dockerfile: &str) -> Result<Vec<u8>, BuildContextError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source: std::io::Error| BuildContextError::Io { path, source }
    };
    let meta = fs::metadata(root).map_err(io(root))?;
    if !meta.is_dir() {
        return Err(BuildContextError::NotADirectory {
            path: root.to_owned(),
        });
    }
    let df = root.join(dockerfile);
    match fs::metadata(&df) {
        Ok(m) if m.is_file() => {}
        _ => return Err(BuildContextError::DockerfileMissing { path: df }),
    }
    let ignore_path = root.join(".dockerignore");
    let mut ignore = match fs::read(&ignore_path) {
        Ok(bytes) => DockerIgnore::parse(&String::from_utf8_lossy(&bytes))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DockerIgnore::default(),
        Err(e) => return Err(io(&ignore_path)(e)),
    };
    // Always sent, as the Docker CLI does.
    ignore.keep(".dockerignore");
    ignore.keep(dockerfile);

    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    tar.mode(tar::HeaderMode::Deterministic);
    // (relative path, absolute path) of directories still to walk.
    let mut dirs: Vec<(String, PathBuf)> = vec![(String::new(), root.to_owned())];
    while let Some((rel_dir, dir)) = dirs.pop() {
        let mut entries = fs::read_dir(&dir)
            .map_err(io(&dir))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(io(&dir))?;
        entries.sort_by_key(|e| e.file_name());
        // Walked in reverse so the stack pops them in order.
        let mut subdirs = Vec::new();
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let rel = if rel_dir.is_empty() {
                name.into_owned()
            } else {
                format!("{rel_dir}/{name}")
            };
            let kind = entry.file_type().map_err(io(&path))?;
            let excluded = ignore.is_excluded(&rel);
            if kind.is_dir() {
                if !excluded {
                    tar.append_path_with_name(&path, &rel).map_err(io(&path))?;
                    subdirs.push((rel, path));
                } else if ignore.may_reinclude_under(&rel) {
                    subdirs.push((rel, path));
                }
            } else if (kind.is_file() || kind.is_symlink()) && !excluded {
                tar.append_path_with_name(&path, &rel).map_err(io(&path))?;
            }
        }
        dirs.extend(subdirs.into_iter().rev());
    }
    tar.into_inner().map_err(io(root))
}

/// A Dockerfile path inside the context: relative, `/`-separated, not
/// leaving the context.
pub(super) fn check_dockerfile_path(path: &str) -> Result<(), BuildContextError> {
    let bad = || BuildContextError::InvalidDockerfilePath {
        path: path.to_owned(),
    };
    if path.is_empty() || path.starts_with('/') || path.contains('\0') || path.len() > 4096 {
        return Err(bad());
    }
    let mut depth = 0i32;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            return Err(bad());
        }
    }
    if depth == 0 {
        return Err(bad());
    }
    Ok(())
}
