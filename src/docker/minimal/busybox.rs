//! The busybox recipe: `/bin/busybox` and a symlink per applet (plus what
//! busybox loads, if it is not static).

use super::elf::read_program;
use super::error::MinimalImageError;
use super::host::{add_loads, SYSTEM_DIRS};
use super::rootfs::{Node, Tree};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `busybox` in the system directories.
pub(crate) fn find_busybox() -> Option<PathBuf> {
    SYSTEM_DIRS
        .iter()
        .map(|d| Path::new(d).join("busybox"))
        .find(|p| p.is_file())
}

/// Adds busybox and its applets to `tree`.
pub(crate) fn busybox_tree(tree: &mut Tree, busybox: &Path) -> Result<(), MinimalImageError> {
    let fail = |message: String| MinimalImageError::Busybox {
        path: busybox.to_owned(),
        message,
    };
    let program = read_program(busybox).map_err(|e| fail(e.to_string()))?;
    let list = Command::new(busybox)
        .arg("--list")
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    if !list.status.success() {
        return Err(fail(format!("`busybox --list` failed: {}", list.status)));
    }
    let applets = String::from_utf8_lossy(&list.stdout).into_owned();
    if !applets.lines().any(|a| a.trim() == "sh") {
        return Err(fail("it has no `sh` applet".into()));
    }
    add_loads(tree, &program.loads)?;
    tree.insert(
        "bin/busybox",
        Node::File {
            mode: 0o755,
            data: program.data,
        },
    );
    for applet in applets.lines().map(str::trim) {
        if applet.is_empty() || applet == "busybox" || applet.contains('/') {
            continue;
        }
        tree.insert(
            &format!("bin/{applet}"),
            Node::Symlink {
                target: "busybox".into(),
            },
        );
    }
    Ok(())
}
