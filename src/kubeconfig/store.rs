//! Read-modify-write of a kubeconfig file under kubectl's lock, replacing
//! the file atomically: a crash at any instant leaves the old or the new
//! file, never a torn one.

use std::fs::{self, DirBuilder, File};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::merge::{MergeError, MergeReport};
use super::model::{Kubeconfig, ModelError};
use crate::fsx::lock::{self, LockError};
use crate::fsx::{self, parent_dir, AtomicFile, CommitError, Replace, TEMP_SUFFIX};

const NEW_FILE_MODE: u32 = 0o600;
const NEW_DIR_MODE: u32 = 0o700;

#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub lock_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            lock_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug)]
pub struct Written<R = MergeReport> {
    /// The file written: the final target when the given path is a symlink.
    pub path: PathBuf,
    /// What the change reported.
    pub report: R,
    /// For the user: a recovered stale lock, a file others can read.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot follow the symlink {path}")]
    Symlink {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} is {kind}, not a regular file; it was left unchanged")]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{path} is not writable by you; it was left unchanged")]
    ReadOnly {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot keep the owner and group of {path}; it was left unchanged")]
    KeepOwner {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot create the directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot lock {path}")]
    Lock {
        path: PathBuf,
        #[source]
        source: LockError,
    },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} cannot be used; it was left unchanged")]
    Invalid {
        path: PathBuf,
        #[source]
        source: ModelError,
    },
    #[error("cannot merge into {path}; it was left unchanged")]
    Merge {
        path: PathBuf,
        #[source]
        source: MergeError,
    },
    #[error("cannot write a temporary file in {dir}")]
    WriteTemp {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot replace {path}")]
    Replace {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot sync the directory {dir}")]
    SyncDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Reads and parses the kubeconfig at `path` without locking it (kubectl
/// reads so too); `None` when there is no such file.
pub fn read(path: &Path) -> Result<Option<Kubeconfig>, StoreError> {
    let (text, mode) = read_existing(path)?;
    if mode.is_none() {
        return Ok(None);
    }
    Kubeconfig::parse_bytes(text)
        .map(Some)
        .map_err(|source| StoreError::Invalid {
            path: path.to_path_buf(),
            source,
        })
}

impl StoreError {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            StoreError::Lock {
                source: LockError::Timeout { .. },
                ..
            } => "another kubectl or kubefetch is writing this file; retry, or remove the .lock file if none is running",
            StoreError::Merge { .. } => {
                "choose another name (--context NAME, or `context:` in a fleet entry, for one cluster), or pass --force to replace the existing entries"
            }
            StoreError::Invalid { .. } => {
                "fix or move the file, or write elsewhere with --kubeconfig PATH (or --kubeconfig - for stdout)"
            }
            StoreError::NotRegular { .. } => {
                "name a regular file with --kubeconfig PATH or KUBECONFIG, or print with --kubeconfig -"
            }
            StoreError::ReadOnly { .. } => {
                "make it writable (chmod u+w) if it should change, or write elsewhere with --kubeconfig PATH"
            }
            StoreError::KeepOwner { .. } => {
                "run kubefetch as the file's owner, or write elsewhere with --kubeconfig PATH"
            }
            _ => "check the permissions of the file and its directory, and the free disk space",
        }
    }
}

/// Refuses, before anything is fetched or locked, a target that is not a
/// regular file (or a symlink to one) or that the caller may not write: as
/// kubectl, which writes the file in place, would fail on it too. A
/// missing file passes: it will be created.
pub fn check_target(path: &Path) -> Result<(), StoreError> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        // A missing file, or a path whose problem the write reports.
        Err(_) => return Ok(()),
    };
    if let Some(kind) = fsx::special_kind(&meta) {
        return Err(StoreError::NotRegular {
            path: path.to_path_buf(),
            kind,
        });
    }
    writable(path).map_err(|source| StoreError::ReadOnly {
        path: path.to_path_buf(),
        source,
    })
}

/// This process's right to write the file itself, as open(2) would judge
/// it (root may; a 0400 file of one's own may not be).
fn writable(path: &Path) -> io::Result<()> {
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: a valid NUL-terminated path; faccessat reads nothing else.
    let status = unsafe {
        libc::faccessat(
            libc::AT_FDCWD,
            c_path.as_ptr(),
            libc::W_OK,
            libc::AT_EACCESS,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Applies `apply` to the kubeconfig at `path` and writes the result.
/// The file is not touched when reading, parsing or `apply` fails.
pub fn update<R>(
    path: &Path,
    opts: &StoreOptions,
    apply: impl FnOnce(&mut Kubeconfig) -> Result<R, MergeError>,
) -> Result<Written<R>, StoreError> {
    check_target(path)?;
    let target = fsx::resolve_symlinks(path).map_err(|source| StoreError::Symlink {
        path: path.to_path_buf(),
        source,
    })?;
    let dir = parent_dir(&target);
    DirBuilder::new()
        .recursive(true)
        .mode(NEW_DIR_MODE)
        .create(dir)
        .map_err(|source| StoreError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;

    let acquired =
        lock::acquire(&target, opts.lock_timeout).map_err(|source| StoreError::Lock {
            path: target.clone(),
            source,
        })?;
    let mut warnings: Vec<String> = acquired.warning.into_iter().collect();
    remove_stale_temp_files(&target, dir);

    // Checked again under the lock: the file may have changed meanwhile.
    check_target(&target)?;
    let (bytes, existing) = read_existing(&target)?;
    let mode = existing.as_ref().map_or(NEW_FILE_MODE, |e| e.mode);
    if mode & 0o044 != 0 {
        warnings.push(format!(
            "{path} is readable by group or others (mode {mode:o}) and holds credentials; run: chmod 600 {path}",
            path = target.display(),
        ));
    }
    let mut config = Kubeconfig::parse_bytes(bytes).map_err(|source| StoreError::Invalid {
        path: target.clone(),
        source,
    })?;
    let report = apply(&mut config).map_err(|source| StoreError::Merge {
        path: target.clone(),
        source,
    })?;
    replace_atomically(&target, dir, config, mode, existing.as_ref())?;
    drop(acquired.guard);

    Ok(Written {
        path: target,
        report,
        warnings,
    })
}

/// Temp files are named after their target, so the lock holder knows which
/// ones are its own: `.config.kubefetch-XXXXXX.tmp` for `config`.
fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.kubefetch-")
}

/// Only the holder of the target's lock writes its temp files, so any found
/// while we hold the lock were left by a process killed mid-write.
/// Removing them keeps SIGKILLed runs from piling up files with credentials.
fn remove_stale_temp_files(target: &Path, dir: &Path) {
    let prefix = temp_prefix(target);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(TEMP_SUFFIX) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// What a replaced file keeps: permission bits, owner and group.
struct Existing {
    mode: u32,
    uid: u32,
    gid: u32,
}

/// The file's bytes and attributes; a missing file is empty and has none.
fn read_existing(path: &Path) -> Result<(Vec<u8>, Option<Existing>), StoreError> {
    let read_error = |source| StoreError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), None)),
        Err(err) => return Err(read_error(err)),
    };
    let meta = file.metadata().map_err(read_error)?;
    let existing = Existing {
        mode: meta.permissions().mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(read_error)?;
    Ok((bytes, Some(existing)))
}

/// Temp file in the same directory, fsync, rename over the target, fsync
/// the directory. It gets the replaced file's owner and group (kubectl,
/// writing in place, keeps them: `sudo -E` must not hand a user's file to
/// root).
fn replace_atomically(
    target: &Path,
    dir: &Path,
    config: Kubeconfig,
    mode: u32,
    existing: Option<&Existing>,
) -> Result<(), StoreError> {
    let temp_error = |source| StoreError::WriteTemp {
        dir: dir.to_path_buf(),
        source,
    };
    let file = AtomicFile::beside(target, &temp_prefix(target)).map_err(temp_error)?;
    if let Some(existing) = existing {
        file.keep_owner(existing.uid, existing.gid)
            .map_err(|source| StoreError::KeepOwner {
                path: target.to_path_buf(),
                source,
            })?;
    }
    file.commit_with(
        |file| config.write_yaml(file).map(drop),
        mode,
        Replace::Always,
    )
    .map(drop)
    .map_err(|e| match e {
        CommitError::Write(source) => temp_error(source),
        CommitError::Rename(source) => StoreError::Replace {
            path: target.to_path_buf(),
            source,
        },
        CommitError::SyncDir(source) => StoreError::SyncDir {
            dir: dir.to_path_buf(),
            source,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::fs::Permissions;
    use std::os::unix::fs::{symlink, FileTypeExt};
    use std::sync::mpsc;
    use std::thread;

    use serde_json::Value;

    use super::*;
    use crate::kubeconfig::merge::{merge, EntryKind, MergeOptions};
    use crate::testing::{dir_entries, fetched};

    fn opts() -> StoreOptions {
        StoreOptions {
            lock_timeout: Duration::from_secs(30),
        }
    }

    fn merge_one(name: &str) -> impl FnOnce(&mut Kubeconfig) -> Result<MergeReport, MergeError> {
        let new = [fetched(name, "https://k.example")];
        move |config| {
            merge(
                config,
                &new,
                &MergeOptions {
                    force: false,
                    switch_to: Some(new[0].name.clone()),
                },
            )
        }
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_a_private_file_in_a_private_directory() {
        let home = tempfile::tempdir().unwrap();
        let kube = home.path().join(".kube");
        let path = kube.join("config");
        let written = update(&path, &opts(), merge_one("tke-cls-1")).unwrap();
        assert_eq!(written.path, path);
        assert_eq!(written.report.added, ["tke-cls-1"]);
        assert!(written.warnings.is_empty(), "{:?}", written.warnings);
        assert_eq!(mode_of(&kube), 0o700);
        assert_eq!(mode_of(&path), 0o600);
        let config = Kubeconfig::parse(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(config.current_context.as_deref(), Some("tke-cls-1"));
        assert_eq!(config.api_version.as_deref(), Some("v1"));
        assert_eq!(config.kind.as_deref(), Some("Config"));
        assert_eq!(dir_entries(&kube), ["config"]);
    }

    #[test]
    fn keeps_the_existing_mode_and_warns_when_others_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, "").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        let written = update(&path, &opts(), merge_one("a")).unwrap();
        assert_eq!(mode_of(&path), 0o640);
        assert_eq!(written.warnings.len(), 1);
        assert!(
            written.warnings[0].contains("mode 640"),
            "{:?}",
            written.warnings
        );

        fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        let written = update(&path, &opts(), merge_one("b")).unwrap();
        assert_eq!(mode_of(&path), 0o600);
        assert!(written.warnings.is_empty());
    }

    #[test]
    fn follows_a_symlink_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("dotfiles");
        fs::create_dir(&real_dir).unwrap();
        let real = real_dir.join("kubeconfig");
        fs::write(&real, "contexts: []\n").unwrap();
        let link = dir.path().join("config");
        symlink("dotfiles/kubeconfig", &link).unwrap();

        let written = update(&link, &opts(), merge_one("a")).unwrap();
        assert_eq!(written.path, real);
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(fs::read_to_string(&real).unwrap().contains("name: a"));
        assert_eq!(dir_entries(&real_dir), ["kubeconfig"]);
    }

    #[test]
    fn a_dangling_symlink_gets_its_target_created() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("config");
        symlink(dir.path().join("later/real"), &link).unwrap();
        update(&link, &opts(), merge_one("a")).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(fs::read_to_string(&link).unwrap().contains("name: a"));
    }

    #[test]
    fn an_invalid_file_is_left_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let original = b"clusters: [ {name: broken\n  # not closed\n";
        fs::write(&path, original).unwrap();
        let err = update(&path, &opts(), merge_one("a")).unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
        assert!(err.to_string().contains(path.to_str().unwrap()));
        assert_eq!(fs::read(&path).unwrap(), original);
        assert_eq!(dir_entries(dir.path()), ["config"]);
    }

    #[test]
    fn waits_for_a_held_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let held = lock::acquire(&path, Duration::from_secs(1)).unwrap();
        let (tx, rx) = mpsc::channel();
        let writer = {
            let path = path.clone();
            thread::spawn(move || {
                let result = update(&path, &opts(), merge_one("a"));
                tx.send(()).unwrap();
                result
            })
        };
        assert!(rx.try_recv().is_err(), "the write must wait for the lock");
        assert!(!path.exists());
        drop(held);
        rx.recv().unwrap();
        let written = writer.join().unwrap().unwrap();
        assert_eq!(written.report.added, ["a"]);
        assert_eq!(dir_entries(dir.path()), ["config"]);
    }

    #[test]
    fn a_lock_that_is_never_released_fails_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(lock::lock_path(&path), "").unwrap();
        let short = StoreOptions {
            lock_timeout: Duration::from_millis(50),
        };
        let err = update(&path, &short, merge_one("a")).unwrap_err();
        assert!(matches!(err, StoreError::Lock { .. }), "{err:?}");
        assert!(!path.exists());
    }

    #[test]
    fn a_lock_that_cannot_be_created_is_not_blamed_on_another_writer() {
        let dir = tempfile::tempdir().unwrap();
        // A name the file system takes but not with ".lock" appended:
        // creating the lock fails for a reason other than a holder, as
        // on a full disk or in a read-only directory.
        let long = dir.path().join("c".repeat(252));
        fs::write(&long, "").unwrap();
        let err = update(&long, &opts(), merge_one("a")).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Lock {
                    source: LockError::Create { .. },
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(!err.hint().contains("another"), "{}", err.hint());
        assert!(err.hint().contains("disk space"), "{}", err.hint());

        let path = dir.path().join("config");
        fs::write(lock::lock_path(&path), "").unwrap();
        let short = StoreOptions {
            lock_timeout: Duration::from_millis(50),
        };
        let err = update(&path, &short, merge_one("a")).unwrap_err();
        assert!(err.hint().contains("another kubectl"), "{}", err.hint());
    }

    #[test]
    fn unknown_fields_survive_a_real_merge() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let original = "apiVersion: v1\nkind: Config\nfutureTop: {a: [1, 2]}\n\
            preferences: {colors: true, futurePref: x}\n\
            clusters:\n- name: mine\n  cluster: {server: 'https://mine', futureCluster: 1}\n  entryExtra: y\n\
            users:\n- name: mine\n  user: {token: t, as: admin}\n\
            contexts:\n- name: mine\n  context: {cluster: mine, user: mine, futureContext: [z]}\n\
            current-context: mine\nextensions:\n- name: e\n  extension: {k: v}\n";
        fs::write(&path, original).unwrap();
        update(&path, &opts(), merge_one("tke-cls-1")).unwrap();

        let mut after: Value =
            crate::yaml::read_first(&fs::read_to_string(&path).unwrap()).unwrap();
        let mut before: Value = crate::yaml::read_first(original).unwrap();
        for list in ["clusters", "users", "contexts"] {
            let added = after[list].as_array_mut().unwrap().pop().unwrap();
            assert_eq!(added["name"], Value::from("tke-cls-1"));
        }
        before["current-context"] = Value::from("tke-cls-1");
        assert_eq!(after, before);
    }

    #[test]
    fn a_refused_merge_leaves_the_file_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let original = "contexts:\n- name: taken\n  context: {cluster: x, user: x}\n";
        fs::write(&path, original).unwrap();
        let err = update(&path, &opts(), merge_one("taken")).unwrap_err();
        match &err {
            StoreError::Merge { source, .. } => assert_eq!(
                *source,
                MergeError::Foreign {
                    name: "taken".into(),
                    what: EntryKind::Context
                }
            ),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(fs::read_to_string(&path).unwrap(), original);
        assert_eq!(dir_entries(dir.path()), ["config"]);
    }

    #[test]
    fn a_failed_replace_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, "").unwrap();
        // Between the read and the rename, a directory takes the file's
        // place: renaming a file over it fails.
        let err = update(&path, &opts(), |_| {
            fs::remove_file(&path).unwrap();
            fs::create_dir(&path).unwrap();
            fs::write(path.join("inside"), "").unwrap();
            Ok(MergeReport::default())
        })
        .unwrap_err();
        assert!(matches!(err, StoreError::Replace { .. }), "{err:?}");
        assert_eq!(dir_entries(dir.path()), ["config"]);
    }

    #[test]
    fn targets_that_are_not_regular_files_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c_fifo = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_fifo.as_ptr(), 0o600) }, 0);
        let to_fifo = dir.path().join("link-to-fifo");
        symlink(&fifo, &to_fifo).unwrap();
        let subdir = dir.path().join("subdir");
        fs::create_dir(&subdir).unwrap();
        for (target, kind) in [
            (fifo.clone(), "a named pipe"),
            (to_fifo, "a named pipe"),
            (subdir, "a directory"),
        ] {
            let err = update(&target, &opts(), merge_one("a")).unwrap_err();
            assert!(matches!(err, StoreError::NotRegular { .. }), "{err:?}");
            assert!(err.to_string().contains(kind), "{err}");
        }
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(dir_entries(dir.path()), ["fifo", "link-to-fifo", "subdir"]);
        // Devices are refused by the same check (tested on a private one
        // end to end): never /dev/null here, which a regression would replace.
        let err = check_target(Path::new("/dev/null")).unwrap_err();
        assert!(err.to_string().contains("a device"), "{err}");
    }

    #[test]
    fn a_replaced_file_keeps_its_owner_and_group() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, "").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        let (uid, gid) = (4321, 4322);
        if let Err(err) = std::os::unix::fs::chown(&path, Some(uid), Some(gid)) {
            // Only root can give a file away; as anyone else the owner is
            // always the caller, and there is nothing to keep.
            assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
            eprintln!("SKIPPED: not root, cannot chown to another user");
            return;
        }
        update(&path, &opts(), merge_one("a")).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (uid, gid));
        assert_eq!(mode_of(&path), 0o600);
        assert!(fs::read_to_string(&path).unwrap().contains("name: a"));
    }

    #[test]
    fn temp_files_left_by_a_killed_writer_are_removed_under_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let stale = dir.path().join(".config.kubefetch-AbC123.tmp");
        let other_target = dir.path().join(".other.kubefetch-AbC123.tmp");
        fs::write(&stale, "client-key-data: x").unwrap();
        fs::write(&other_target, "x").unwrap();
        update(&path, &StoreOptions::default(), |_| {
            Ok(MergeReport::default())
        })
        .unwrap();
        assert!(!stale.exists());
        assert!(
            other_target.exists(),
            "another file's temp files are not ours to remove"
        );
    }
}
