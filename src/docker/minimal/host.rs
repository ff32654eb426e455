//! The host-tools recipe: the programs every Linux host has, taken from
//! the system directories, with what they load.

use super::elf::read_program;
use super::error::MinimalImageError;
use super::rootfs::{Node, Tree};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where programs are looked for: the `PATH` a container gets by default,
/// not the caller's (which may hold anything).
pub(crate) const SYSTEM_DIRS: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Programs the image must have.
pub(crate) const REQUIRED: [&str; 6] = ["sh", "true", "echo", "sleep", "cat", "head"];

/// Programs added when the host has them.
pub(crate) const OPTIONAL: [&str; 16] = [
    "false", "printf", "env", "tr", "tail", "wc", "seq", "tee", "id", "uname", "date", "yes",
    "kill", "mkdir", "rm", "ls",
];

/// The first executable regular file named `name` in [`SYSTEM_DIRS`].
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    SYSTEM_DIRS
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// `/bin/<name>` for every program found (a second name of the same file
/// becomes a symlink to the first), plus each one's interpreter and
/// libraries at the paths the loader resolved them to.
pub(crate) fn host_tools_tree(tree: &mut Tree) -> Result<Vec<PathBuf>, MinimalImageError> {
    let mut by_file: HashMap<PathBuf, &str> = HashMap::new();
    let mut programs = Vec::new();
    for (name, required) in REQUIRED
        .iter()
        .map(|n| (*n, true))
        .chain(OPTIONAL.iter().map(|n| (*n, false)))
    {
        let Some(path) = find_program(name) else {
            if required {
                return Err(MinimalImageError::ProgramMissing {
                    name: name.to_owned(),
                    searched: SYSTEM_DIRS.iter().map(PathBuf::from).collect(),
                });
            }
            continue;
        };
        let real = std::fs::canonicalize(&path).map_err(|e| MinimalImageError::io(&path, e))?;
        if let Some(first) = by_file.get(&real) {
            // A multi-call binary: it dispatches on argv[0], which stays `name`.
            tree.insert(
                &format!("bin/{name}"),
                Node::Symlink {
                    target: (*first).to_owned(),
                },
            );
            continue;
        }
        let program = match read_program(&real) {
            Ok(p) => p,
            // An optional program that is a script or otherwise unusable.
            Err(_) if !required => continue,
            Err(e) => return Err(e),
        };
        add_loads(tree, &program.loads)?;
        tree.insert(
            &format!("bin/{name}"),
            Node::File {
                mode: 0o755,
                data: program.data,
            },
        );
        by_file.insert(real, name);
        programs.push(path);
    }
    Ok(programs)
}

/// Adds each loaded file (its content, symlinks followed) at the path the
/// loader named.
pub(crate) fn add_loads(tree: &mut Tree, loads: &[PathBuf]) -> Result<(), MinimalImageError> {
    for lib in loads {
        let at = lib.to_string_lossy();
        if tree.contains(&at) {
            continue;
        }
        let data = std::fs::read(lib).map_err(|e| MinimalImageError::io(lib, e))?;
        if !tree.insert(&at, Node::File { mode: 0o755, data }) {
            return Err(MinimalImageError::Elf {
                path: lib.clone(),
                message: "its path collides with the image's layout".into(),
            });
        }
    }
    Ok(())
}
