//! Files that must never be seen half-written: kubectl's lock file, and a
//! temporary file beside the target that is synced and renamed over it.
//! The kubeconfig store and the ucs-agent bundle both write this way.

pub mod lock;

use std::fs::{File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::interrupt::{self, RemoveOnSignal};

/// Every temporary file kubefetch writes ends so.
pub const TEMP_SUFFIX: &str = ".tmp";

/// What happens to a file already at the target when committing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Rename over it.
    Always,
    /// Fail: a file that appeared meanwhile is someone else's.
    Never,
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("cannot write the temporary file")]
    Write(#[source] io::Error),
    #[error("cannot rename the temporary file into place")]
    Rename(#[source] io::Error),
    #[error("cannot sync the directory")]
    SyncDir(#[source] io::Error),
}

impl CommitError {
    pub fn io(&self) -> &io::Error {
        match self {
            CommitError::Write(e) | CommitError::Rename(e) | CommitError::SyncDir(e) => e,
        }
    }
}

/// A temporary file in the target's directory. Until committed, it
/// deletes itself on drop, so no error path leaves it behind; SIGINT,
/// SIGTERM and SIGHUP remove it too.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    // Declared before `temp`: unregistered before the file is deleted.
    _on_signal: RemoveOnSignal,
    temp: NamedTempFile,
}

impl AtomicFile {
    /// Creates `<dir>/<prefix>XXXXXX.tmp` beside `target`, before anything is
    /// known to write: a directory that cannot take it fails now.
    pub fn beside(target: &Path, prefix: &str) -> io::Result<Self> {
        interrupt::hold_signals(|| {
            let temp = tempfile::Builder::new()
                .prefix(prefix)
                .suffix(TEMP_SUFFIX)
                .tempfile_in(parent_dir(target))?;
            Ok(AtomicFile {
                target: target.to_path_buf(),
                _on_signal: interrupt::remove_on_signal(temp.path()),
                temp,
            })
        })
    }

    /// Gives the file this owner and group, when it does not have them
    /// already (root replacing another user's file).
    pub fn keep_owner(&self, uid: u32, gid: u32) -> io::Result<()> {
        let file = self.temp.as_file();
        let meta = file.metadata()?;
        if (meta.uid(), meta.gid()) == (uid, gid) {
            return Ok(());
        }
        std::os::unix::fs::fchown(file, Some(uid), Some(gid))
    }

    /// Sets `mode`, writes and fsyncs `bytes`, renames onto the target and
    /// fsyncs the directory so that the rename itself survives a power loss.
    /// Returns the target.
    pub fn commit(self, bytes: &[u8], mode: u32, replace: Replace) -> Result<PathBuf, CommitError> {
        self.commit_with(|file| file.write_all(bytes), mode, replace)
    }

    /// As `commit`, with the content written by `write` (a large text need
    /// not exist in memory at once).
    pub fn commit_with(
        mut self,
        write: impl FnOnce(&mut File) -> io::Result<()>,
        mode: u32,
        replace: Replace,
    ) -> Result<PathBuf, CommitError> {
        let file = self.temp.as_file_mut();
        // After any chown, which may clear set-id bits.
        file.set_permissions(Permissions::from_mode(mode))
            .map_err(CommitError::Write)?;
        write(file).map_err(CommitError::Write)?;
        file.sync_all().map_err(CommitError::Write)?;
        let persisted = match replace {
            Replace::Always => self.temp.persist(&self.target),
            Replace::Never => self.temp.persist_noclobber(&self.target),
        };
        persisted.map_err(|e| CommitError::Rename(e.error))?;
        File::open(parent_dir(&self.target))
            .and_then(|d| d.sync_all())
            .map_err(CommitError::SyncDir)?;
        Ok(self.target)
    }
}

/// Linux's own limit on symlinks followed in one lookup.
const MAX_SYMLINKS: usize = 40;

/// Follows a chain of symlinks to the final path, which need not exist yet
/// (a link to a file that kubefetch is about to create): writing there
/// keeps the links, and a dangling one gets its file.
pub fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = parent_dir(&current).join(link);
            }
            Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
            _ => return Ok(current),
        }
    }
    Err(io::Error::from_raw_os_error(libc::ELOOP))
}

/// What a file that is not a regular file is ("a named pipe"), for an
/// error; `None` for a regular file. Written over, a device or a pipe
/// swallows the data, and a rename would replace it.
pub fn special_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let file_type = meta.file_type();
    if file_type.is_file() {
        return None;
    }
    Some(if file_type.is_dir() {
        "a directory"
    } else if file_type.is_char_device() || file_type.is_block_device() {
        "a device"
    } else if file_type.is_fifo() {
        "a named pipe"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "a special file"
    })
}

/// The directory a path is in; `.` for a bare file name.
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::dir_entries as names;

    #[test]
    fn a_commit_replaces_with_the_mode_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        std::fs::write(&target, "old").unwrap();
        let file = AtomicFile::beside(&target, ".config.kubefetch-").unwrap();
        assert_eq!(names(dir.path()).len(), 2);
        file.commit(b"new", 0o600, Replace::Always).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(names(dir.path()), ["config"]);
    }

    #[test]
    fn never_replace_keeps_a_file_that_appeared_and_removes_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("agent.yaml");
        let file = AtomicFile::beside(&target, ".agent-").unwrap();
        std::fs::write(&target, "theirs").unwrap();
        let err = file.commit(b"ours", 0o600, Replace::Never).unwrap_err();
        assert!(matches!(err, CommitError::Rename(_)), "{err:?}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "theirs");
        assert_eq!(names(dir.path()), ["agent.yaml"]);
    }
}
