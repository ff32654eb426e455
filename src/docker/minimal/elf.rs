//! What an ELF program loads: its interpreter (`PT_INTERP`) and shared
//! libraries (`DT_NEEDED`, transitively), resolved by asking the
//! interpreter itself (`<interpreter> --list <program>`, which glibc's and
//! musl's loaders both understand), so `RUNPATH`, `$ORIGIN`, the loader
//! cache and the default directories count exactly as they will when the
//! program runs. The loader runs with an empty environment
//! (`LD_LIBRARY_PATH` and `LD_PRELOAD` of the caller do not leak in).
//!
//! The `DT_NEEDED` entries read from the file are checked against the
//! loader's answer: a library it could not find, or did not mention, is an
//! error rather than an image that fails at run time.

use super::error::MinimalImageError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A program's bytes and what it loads.
#[derive(Debug)]
pub(crate) struct Program {
    pub(crate) data: Vec<u8>,
    /// Absolute paths as the loader names them (the interpreter first);
    /// empty for a static program.
    pub(crate) loads: Vec<PathBuf>,
}

/// Reads `path` (following symlinks) and resolves what it loads.
pub(crate) fn read_program(path: &Path) -> Result<Program, MinimalImageError> {
    let data = std::fs::read(path).map_err(|e| MinimalImageError::io(path, e))?;
    let elf = goblin::elf::Elf::parse(&data).map_err(|e| MinimalImageError::Elf {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let Some(interpreter) = elf.interpreter.map(PathBuf::from) else {
        return Ok(Program {
            loads: Vec::new(),
            data,
        });
    };
    let needed: Vec<String> = elf.libraries.iter().map(|s| (*s).to_owned()).collect();
    drop(elf);
    let loads = ask_loader(path, &interpreter, &needed)?;
    Ok(Program { data, loads })
}

fn ask_loader(
    program: &Path,
    interpreter: &Path,
    needed: &[String],
) -> Result<Vec<PathBuf>, MinimalImageError> {
    let fail = |message: String| MinimalImageError::Loader {
        program: program.to_owned(),
        interpreter: interpreter.to_owned(),
        message,
    };
    let out = Command::new(interpreter)
        .arg("--list")
        .arg(program)
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fail(format!("cannot run the interpreter: {e}")))?;
    if !out.status.success() {
        return Err(fail(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let listed = parse_list(&String::from_utf8_lossy(&out.stdout)).map_err(fail)?;
    for name in needed {
        let found = listed.iter().any(|(n, p)| {
            n.as_deref() == Some(name.as_str()) || p.file_name().is_some_and(|f| f == name.as_str())
        });
        if !found {
            return Err(fail(format!("the loader did not resolve DT_NEEDED {name}")));
        }
    }
    let mut loads = vec![interpreter.to_owned()];
    for (_, path) in listed {
        if !loads.contains(&path) {
            loads.push(path);
        }
    }
    Ok(loads)
}

/// Parses the loader's list: `name => /path (0x…)`, `/path (0x…)`, and
/// `name (0x…)` for the kernel's virtual objects (skipped). A `not found`
/// is an error.
fn parse_list(text: &str) -> Result<Vec<(Option<String>, PathBuf)>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let line = match line.rfind(" (") {
            Some(i) if line.ends_with(')') => &line[..i],
            _ => line,
        };
        match line.split_once(" => ") {
            Some((name, "not found")) => return Err(format!("{name}: not found")),
            Some((name, path)) if path.starts_with('/') => {
                out.push((Some(name.trim().to_owned()), PathBuf::from(path.trim())))
            }
            Some((name, path)) => return Err(format!("{name}: unexpected location {path:?}")),
            None if line.starts_with('/') => out.push((None, PathBuf::from(line))),
            None => {} // linux-vdso.so.1 and the like: provided by the kernel
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_and_musl_lists_parse() {
        let glibc = "\tlinux-vdso.so.1 (0x00007ffbaf072000)\n\
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007ffbaee5d000)\n\
            \t/lib64/ld-linux-x86-64.so.2 (0x00007ffbaf074000)\n";
        let got = parse_list(glibc).unwrap();
        assert_eq!(
            got,
            vec![
                (
                    Some("libc.so.6".to_owned()),
                    PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6")
                ),
                (None, PathBuf::from("/lib64/ld-linux-x86-64.so.2")),
            ]
        );
        let musl = "\t/lib/ld-musl-x86_64.so.1 (0x7f0e3c6a5000)\n\
            \tlibc.musl-x86_64.so.1 => /lib/ld-musl-x86_64.so.1 (0x7f0e3c6a5000)\n";
        assert_eq!(parse_list(musl).unwrap().len(), 2);
        let missing = "\tlibgone.so.1 => not found\n";
        assert!(parse_list(missing).unwrap_err().contains("libgone.so.1"));
    }

    #[test]
    fn the_shell_resolves_to_an_interpreter_and_a_libc() {
        let sh = super::super::host::find_program("sh").expect("a /bin/sh");
        let p = read_program(&sh).unwrap();
        assert!(p.data.starts_with(b"\x7fELF"));
        // Static shells exist; a dynamic one loads its interpreter first.
        if let Some(first) = p.loads.first() {
            assert!(first.is_absolute() && first.exists(), "{:?}", p.loads);
            assert!(p.loads.iter().any(|l| l
                .file_name()
                .is_some_and(|f| f.to_string_lossy().contains("libc"))
                || l.to_string_lossy().contains("musl")));
        }
        assert!(matches!(
            read_program(Path::new("/etc/passwd")),
            Err(MinimalImageError::Elf { .. })
        ));
    }
}
