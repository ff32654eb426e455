//! A test image without a registry: a minimal root filesystem built from
//! the host's static busybox (`apt-get install busybox-static`), imported
//! as [`TEST_IMAGE`].

use super::client::Docker;
use super::error::{Error, Result};
use std::io;
use std::path::{Path, PathBuf};

/// The image [`ensure_busybox_image`] provides.
pub const TEST_IMAGE: &str = "stevedore-test/busybox:latest";
const REPO: &str = "stevedore-test/busybox";
const TAG: &str = "latest";

/// Where the static busybox is: `$STEVEDORE_BUSYBOX`, `/bin/busybox` or
/// `/usr/bin/busybox`.
pub fn find_busybox() -> Option<PathBuf> {
    std::env::var_os("STEVEDORE_BUSYBOX")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/bin/busybox", "/usr/bin/busybox"].map(PathBuf::from))
        .find(|p| p.is_file())
}

/// A root filesystem tar: `/bin/busybox`, a symlink per applet, `/etc`
/// with `passwd` and `group`, and empty `/tmp`, `/proc`, `/sys`, `/dev`.
pub fn busybox_rootfs_tar(busybox: &Path) -> io::Result<Vec<u8>> {
    let binary = std::fs::read(busybox)?;
    let list = std::process::Command::new(busybox).arg("--list").output()?;
    if !list.status.success() {
        return Err(io::Error::other(format!(
            "{} --list failed",
            busybox.display()
        )));
    }
    let applets = String::from_utf8_lossy(&list.stdout).into_owned();

    let mut tar = tar::Builder::new(Vec::new());
    let mut dir = |path: &str, mode: u32| -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(mode);
        h.set_size(0);
        h.set_mtime(0);
        tar.append_data(&mut h, path, io::empty())
    };
    for (d, mode) in [
        ("bin", 0o755),
        ("etc", 0o755),
        ("tmp", 0o1777),
        ("proc", 0o555),
        ("sys", 0o555),
        ("dev", 0o755),
        ("root", 0o700),
        ("var", 0o755),
    ] {
        dir(d, mode)?;
    }
    let mut file = |path: &str, mode: u32, data: &[u8]| -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        tar.append_data(&mut h, path, data)
    };
    file("bin/busybox", 0o755, &binary)?;
    file(
        "etc/passwd",
        0o644,
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )?;
    file("etc/group", 0o644, b"root:x:0:\nnogroup:x:65534:\n")?;
    for applet in applets
        .lines()
        .map(str::trim)
        .filter(|a| !a.is_empty() && *a != "busybox")
    {
        if applet.contains('/') {
            continue;
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        h.set_mtime(0);
        tar.append_link(&mut h, format!("bin/{applet}"), "busybox")?;
    }
    tar.into_inner()
}

/// Makes sure [`TEST_IMAGE`] exists (importing it if not) and returns its
/// name. Idempotent and safe to call concurrently.
pub async fn ensure_busybox_image(docker: &Docker) -> Result<String> {
    match docker.inspect_image(TEST_IMAGE).await {
        Ok(img) if img.size > 0 => return Ok(TEST_IMAGE.to_owned()),
        Ok(_) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    let busybox = find_busybox().ok_or_else(|| Error::Io {
        context: "building the test image".into(),
        source: io::Error::new(
            io::ErrorKind::NotFound,
            "no static busybox at /bin/busybox or /usr/bin/busybox \
             (install it: apt-get install busybox-static, or set STEVEDORE_BUSYBOX)",
        ),
    })?;
    let tar = crate::spawn_blocking(move || busybox_rootfs_tar(&busybox))
        .await
        .map_err(|e| Error::Protocol(format!("building the rootfs: {e}")))?
        .map_err(|source| Error::Io {
            context: "building the busybox root filesystem".into(),
            source,
        })?;
    docker.import_image(tar, REPO, TAG).await?;
    Ok(TEST_IMAGE.to_owned())
}
