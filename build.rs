//! Records the commit kubefetch is built from for `--version`. It asks git
//! when the crate is a git checkout of its own, else reads the commit cargo
//! stored in a published package (`.cargo_vcs_info.json`); with neither the
//! version says "unknown commit". It never fails the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    let (hash, dirty) = from_git(&dir)
        .or_else(|| from_package(&dir))
        .unwrap_or_default();
    println!("cargo:rustc-env=KUBEFETCH_GIT_HASH={hash}");
    println!("cargo:rustc-env=KUBEFETCH_GIT_DIRTY={dirty}");
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8(output.stdout).ok()?.trim().to_string())
}

fn from_git(dir: &Path) -> Option<(String, bool)> {
    // A source tarball unpacked inside some other repository must not
    // report that repository's commit.
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    let hash = git(dir, &["rev-parse", "HEAD"])?;
    // --no-optional-locks: status must not rewrite the index it watches below.
    let dirty = !git(
        dir,
        &[
            "--no-optional-locks",
            "status",
            "--porcelain",
            "--untracked-files=no",
        ],
    )?
    .is_empty();
    // Rebuild when the commit or the staged state changes. Edits that are
    // not staged yet do not rerun this (that would rebuild on every save);
    // a release builds from a clean checkout.
    let branch = git(dir, &["rev-parse", "--symbolic-full-name", "HEAD"]).unwrap_or_default();
    for file in ["HEAD", "index", "packed-refs", branch.as_str()] {
        if file.is_empty() {
            continue;
        }
        if let Some(path) = git(dir, &["rev-parse", "--git-path", file]) {
            let path = dir.join(path);
            // A missing path would rerun this on every build.
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    Some((hash, dirty))
}

/// `cargo package` records `{"git": {"sha1": ..., "dirty": ...}}`.
fn from_package(dir: &Path) -> Option<(String, bool)> {
    let path = dir.join(".cargo_vcs_info.json");
    let text = std::fs::read_to_string(&path).ok()?;
    println!("cargo:rerun-if-changed={}", path.display());
    let info: serde_json::Value = serde_json::from_str(&text).ok()?;
    let hash = info["git"]["sha1"].as_str()?.to_string();
    let dirty = info["git"]["dirty"].as_bool().unwrap_or(false);
    Some((hash, dirty))
}
