//! The lock kubectl takes before writing a kubeconfig: `<file>.lock`,
//! created exclusively and deleted when done. Using the same file means
//! kubectl and kubefetch never write the same kubeconfig at once.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const POLL_INTERVAL: Duration = Duration::from_millis(30);
const OWNER_PREFIX: &str = "kubefetch pid=";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{path} is still held after {}s; remove it if no kubectl or kubefetch is running",
        .waited.as_secs_f32()
    )]
    Timeout { path: PathBuf, waited: Duration },
    #[error("cannot create the lock file {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot remove the stale lock file {path}")]
    RemoveStale {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// A held lock; dropping it deletes the lock file.
#[derive(Debug)]
pub struct LockGuard {
    path: PathBuf,
}

impl LockGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Nothing useful can be done if this fails; the next run reports the
        // leftover lock (and recovers it, since its process is gone).
        let _ = fs::remove_file(&self.path);
    }
}

#[derive(Debug)]
pub struct Acquired {
    pub guard: LockGuard,
    /// Set when a stale lock of a dead kubefetch was removed to get here.
    pub warning: Option<String>,
}

/// The lock file kubectl uses for `file`.
pub fn lock_path(file: &Path) -> PathBuf {
    let mut name = OsString::from(file.as_os_str());
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock of `file`, waiting up to `timeout` for another holder.
pub fn acquire(file: &Path, timeout: Duration) -> Result<Acquired, LockError> {
    let path = lock_path(file);
    let deadline = Instant::now() + timeout;
    let mut warning = None;
    loop {
        match try_create(&path) {
            Ok(()) => {
                remove_dead_drafts(&path);
                return Ok(Acquired {
                    guard: LockGuard { path },
                    warning,
                });
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                if let Some(pid) = remove_if_stale(&path)? {
                    warning = Some(format!(
                        "removed the stale lock file {} left by kubefetch process {pid}, which is no longer running",
                        path.display()
                    ));
                    continue;
                }
                if Instant::now() >= deadline {
                    return Err(LockError::Timeout {
                        path,
                        waited: timeout,
                    });
                }
                thread::sleep(POLL_INTERVAL);
            }
            Err(source) => return Err(LockError::Create { path, source }),
        }
    }
}

/// Creates the lock with its owner already inside: the pid is written to a
/// private draft which is then hard-linked to the lock name (atomic, and
/// failing if the lock exists, just like kubectl's O_EXCL). A process killed
/// at any instant thus never leaves an empty lock that would look like
/// kubectl's and block every later run. Where hard links are unsupported,
/// falls back to kubectl's create-then-write.
fn try_create(path: &Path) -> io::Result<()> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let draft = draft_path(
        path,
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed),
    );
    let linked = write_owner(&draft).and_then(|()| fs::hard_link(&draft, path));
    let _ = fs::remove_file(&draft);
    match linked {
        Err(err) if err.kind() != io::ErrorKind::AlreadyExists => create_then_write(path),
        other => other,
    }
}

fn draft_path(lock: &Path, pid: u32, sequence: u64) -> PathBuf {
    let mut name = lock.as_os_str().to_owned();
    name.push(format!(".{pid}-{sequence}.draft"));
    PathBuf::from(name)
}

fn write_owner(path: &Path) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    writeln!(file, "{OWNER_PREFIX}{}", std::process::id())
}

fn create_then_write(path: &Path) -> io::Result<()> {
    let written = write_owner(path);
    if written.is_err() {
        let _ = fs::remove_file(path);
    }
    written
}

/// Drafts of processes killed between writing and linking them.
fn remove_dead_drafts(lock: &Path) {
    let (Some(dir), Some(name)) = (lock.parent(), lock.file_name()) else {
        return;
    };
    let prefix = format!("{}.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let pid = file_name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".draft"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if pid.is_some_and(|pid| !process_exists(pid)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Removes the lock if a kubefetch process that no longer exists left it,
/// and returns that process id. Any other lock (kubectl's are empty) is
/// never touched.
///
/// The lock is first renamed to a private name and checked again there:
/// two processes may see the same stale lock, and the slower one must not
/// delete the lock the faster one has just taken.
fn remove_if_stale(path: &Path) -> Result<Option<u32>, LockError> {
    let Some(pid) = dead_owner(path) else {
        return Ok(None);
    };
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(
        ".stale-{}-{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    let aside = PathBuf::from(aside);
    if fs::rename(path, &aside).is_err() {
        // Someone else moved it first; look again.
        return Ok(None);
    }
    let removed = if dead_owner(&aside) == Some(pid) {
        Some(pid)
    } else {
        // It was a fresh lock by now: put it back unless yet another one exists.
        let _ = fs::hard_link(&aside, path);
        None
    };
    fs::remove_file(&aside).map_err(|source| LockError::RemoveStale {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(removed)
}

/// The pid named by a kubefetch lock file, if that process is gone.
fn dead_owner(path: &Path) -> Option<u32> {
    let text = fs::read_to_string(path).ok()?;
    let pid: u32 = text.strip_prefix(OWNER_PREFIX)?.trim_end().parse().ok()?;
    (!process_exists(pid)).then_some(pid)
}

fn process_exists(pid: u32) -> bool {
    let Some(raw) = libc::pid_t::try_from(pid).ok().filter(|&p| p > 0) else {
        return true;
    };
    // Signal 0 only checks for existence; EPERM means it exists.
    // SAFETY: kill with signal 0 sends nothing and touches no memory.
    let alive = unsafe { libc::kill(raw, 0) } == 0;
    alive || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    /// A pid that is certainly not running: a child that has been reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn drafts_of_dead_processes_are_cleaned_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        let lock = lock_path(&file);
        let dead = draft_path(&lock, dead_pid(), 0);
        let live = draft_path(&lock, std::process::id(), 999);
        fs::write(&dead, "kubefetch pid=1\n").unwrap();
        fs::write(&live, "kubefetch pid=1\n").unwrap();
        let acquired = acquire(&file, Duration::from_secs(1)).unwrap();
        assert!(!dead.exists());
        assert!(live.exists());
        drop(acquired);
    }

    #[test]
    fn writes_the_owner_and_deletes_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        let acquired = acquire(&file, Duration::from_secs(1)).unwrap();
        let lock = dir.path().join("config.lock");
        assert_eq!(acquired.guard.path(), lock);
        assert_eq!(
            fs::read_to_string(&lock).unwrap(),
            format!("kubefetch pid={}\n", std::process::id())
        );
        assert!(acquired.warning.is_none());
        drop(acquired);
        assert!(!lock.exists());
    }

    #[test]
    fn two_threads_take_turns() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        let first = acquire(&file, Duration::from_secs(1)).unwrap();
        let (tx, rx) = mpsc::channel();
        let waiter = {
            let file = file.clone();
            thread::spawn(move || {
                tx.send("waiting").unwrap();
                let second = acquire(&file, Duration::from_secs(30)).unwrap();
                tx.send("acquired").unwrap();
                drop(second);
            })
        };
        assert_eq!(rx.recv().unwrap(), "waiting");
        // A live lock of this very process is not stale: the thread must wait.
        assert!(rx.try_recv().is_err());
        drop(first);
        assert_eq!(rx.recv().unwrap(), "acquired");
        waiter.join().unwrap();
        assert!(!lock_path(&file).exists());
    }

    #[test]
    fn a_stale_kubefetch_lock_is_recovered_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        let pid = dead_pid();
        fs::write(lock_path(&file), format!("kubefetch pid={pid}\n")).unwrap();
        let acquired = acquire(&file, Duration::from_millis(100)).unwrap();
        let warning = acquired.warning.clone().unwrap();
        assert!(
            warning.contains(&pid.to_string()) && warning.contains("config.lock"),
            "{warning}"
        );
        assert_eq!(
            fs::read_to_string(lock_path(&file)).unwrap(),
            format!("kubefetch pid={}\n", std::process::id())
        );
        drop(acquired);
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_foreign_lock_is_never_stolen() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        let dead = dead_pid();
        for content in [
            String::new(),
            format!("kubectl pid={dead}\n"),
            "kubefetch pid=1\n".into(),
        ] {
            fs::write(lock_path(&file), &content).unwrap();
            let err = acquire(&file, Duration::from_millis(100)).unwrap_err();
            assert!(matches!(err, LockError::Timeout { .. }), "{err:?}");
            let message = err.to_string();
            assert!(
                message.contains("config.lock") && message.contains("remove it"),
                "{message}"
            );
            assert_eq!(fs::read_to_string(lock_path(&file)).unwrap(), content);
        }
    }
}
