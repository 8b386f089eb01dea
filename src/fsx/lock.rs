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

use crate::interrupt::{self, RemoveOnSignal};

const POLL_INTERVAL: Duration = Duration::from_millis(30);
const OWNER_PREFIX: &str = "kubefetch ";
/// `<file>.lock.stale-<pid>-<n>`: a stale lock set aside to be removed.
const STALE_INFIX: &str = "stale-";
/// Written for an identity part this system does not reveal; never matches.
const UNKNOWN: &str = "-";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{path} is still held after {}s{holder}; remove it if no kubectl or kubefetch is running",
        .waited.as_secs_f32()
    )]
    Timeout {
        path: PathBuf,
        waited: Duration,
        /// Who holds it, as far as the lock file says (" by ...").
        holder: String,
    },
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
    on_signal: Option<RemoveOnSignal>,
}

impl LockGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Unregistered first: once the file is gone, the name may become
        // another process's lock, which a signal must not remove. Signals
        // wait meanwhile, so that the lock is never left behind.
        interrupt::hold_signals(|| {
            drop(self.on_signal.take());
            // Nothing useful can be done if this fails; the next run reports
            // the leftover lock (and recovers it, since its process is gone).
            let _ = fs::remove_file(&self.path);
        });
    }
}

#[derive(Debug)]
pub struct Acquired {
    pub guard: LockGuard,
    /// Set when a stale lock of a dead kubefetch was removed to get here.
    pub warning: Option<String>,
}

/// Who wrote a lock: enough for a later run to prove the writer dead. A pid
/// alone proves nothing on a shared volume (another host, or a container
/// in another PID namespace, has its own pid 1234), so the host's boot id
/// and the PID namespace go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    pid: u32,
    host: String,
    boot: String,
    pid_namespace: String,
}

impl Owner {
    fn current() -> Owner {
        Owner {
            pid: std::process::id(),
            host: hostname().unwrap_or_else(|| UNKNOWN.to_string()),
            boot: read_token(fs::read_to_string("/proc/sys/kernel/random/boot_id")),
            pid_namespace: read_token(
                fs::read_link("/proc/self/ns/pid").map(|link| link.to_string_lossy().into_owned()),
            ),
        }
    }

    /// `kubefetch pid=1234 host=build-7 boot=<uuid> pidns=pid:[4026531836]`
    fn line(&self) -> String {
        format!(
            "{OWNER_PREFIX}pid={} host={} boot={} pidns={}\n",
            self.pid, self.host, self.boot, self.pid_namespace
        )
    }

    fn parse(text: &str) -> Option<Owner> {
        let fields = text.strip_prefix(OWNER_PREFIX)?.trim_end();
        let field = |key: &str| {
            fields
                .split(' ')
                .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_string)
        };
        Some(Owner {
            pid: field("pid")?.parse().ok()?,
            host: field("host").unwrap_or_else(|| UNKNOWN.to_string()),
            boot: field("boot").unwrap_or_else(|| UNKNOWN.to_string()),
            pid_namespace: field("pidns").unwrap_or_else(|| UNKNOWN.to_string()),
        })
    }

    /// The same boot of the same host and the same PID namespace as this
    /// process: only then does its pid name the same process here.
    fn shares_pids_with(&self, other: &Owner) -> bool {
        self.is_identified()
            && self.host == other.host
            && self.boot == other.boot
            && self.pid_namespace == other.pid_namespace
    }

    /// The boot and PID namespace are known (Linux with /proc).
    fn is_identified(&self) -> bool {
        self.boot != UNKNOWN && self.pid_namespace != UNKNOWN
    }

    /// Provably gone: it shared our pids and its pid no longer exists.
    fn is_dead(&self) -> bool {
        self.shares_pids_with(&Owner::current()) && !process_exists(self.pid)
    }

    /// Host, boot and PID namespace in a few file-name characters, for
    /// drafts: a process killed while writing one leaves it empty, so its
    /// name must carry the proof.
    fn namespace_tag(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!(
            "{} {} {}",
            self.host, self.boot, self.pid_namespace
        ));
        hex::encode(&digest[..8])
    }

    /// For the timeout message: " by kubefetch process 12 on host h".
    fn describe(&self) -> String {
        let elsewhere = if self.shares_pids_with(&Owner::current()) {
            ""
        } else {
            " (another host, boot or PID namespace: kubefetch cannot tell whether it still runs)"
        };
        format!(
            " by kubefetch process {} on host {}{elsewhere}",
            self.pid, self.host
        )
    }
}

/// One whitespace-free token of a system file, or [`UNKNOWN`].
fn read_token(read: io::Result<String>) -> String {
    read.ok()
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty() && !text.contains(char::is_whitespace))
        .unwrap_or_else(|| UNKNOWN.to_string())
}

fn hostname() -> Option<String> {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length, which is passed.
    let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if status != 0 {
        return None;
    }
    let end = buffer.iter().position(|&b| b == 0)?;
    let name = String::from_utf8_lossy(&buffer[..end]).into_owned();
    (!name.is_empty() && !name.contains(char::is_whitespace)).then_some(name)
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
        let created = interrupt::hold_signals(|| {
            try_create(&path).map(|()| interrupt::remove_on_signal(&path))
        });
        match created {
            Ok(on_signal) => {
                remove_leftovers(&path);
                return Ok(Acquired {
                    guard: LockGuard {
                        path,
                        on_signal: Some(on_signal),
                    },
                    warning,
                });
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                if let Some(owner) = remove_if_stale(&path)? {
                    warning = Some(format!(
                        "removed the stale lock file {} left by kubefetch process {}, which is no longer running",
                        path.display(),
                        owner.pid
                    ));
                    continue;
                }
                if Instant::now() >= deadline {
                    let holder = fs::read_to_string(&path)
                        .ok()
                        .and_then(|text| Owner::parse(&text))
                        .map(|owner| owner.describe())
                        .unwrap_or_default();
                    return Err(LockError::Timeout {
                        path,
                        waited: timeout,
                        holder,
                    });
                }
                thread::sleep(POLL_INTERVAL);
            }
            Err(source) => return Err(LockError::Create { path, source }),
        }
    }
}

/// Creates the lock with its owner already inside: the owner is written to
/// a private draft which is then hard-linked to the lock name (atomic, and
/// failing if the lock exists, just like kubectl's O_EXCL). A process killed
/// at any instant thus never leaves an empty lock that would look like
/// kubectl's and block every later run. Where hard links are unsupported,
/// falls back to kubectl's create-then-write.
fn try_create(path: &Path) -> io::Result<()> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let draft = draft_path(
        path,
        &Owner::current(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed),
    );
    let linked = write_owner(&draft).and_then(|()| fs::hard_link(&draft, path));
    let _ = fs::remove_file(&draft);
    match linked {
        Err(err) if err.kind() != io::ErrorKind::AlreadyExists => create_then_write(path),
        other => other,
    }
}

/// `<file>.lock.<pid>-<namespace tag>-<n>.draft`
fn draft_path(lock: &Path, owner: &Owner, sequence: u64) -> PathBuf {
    let mut name = lock.as_os_str().to_owned();
    name.push(format!(
        ".{}-{}-{sequence}.draft",
        owner.pid,
        owner.namespace_tag()
    ));
    PathBuf::from(name)
}

/// A draft (named as by [`draft_path`]) whose writer is provably gone.
fn draft_is_dead(name: &str) -> bool {
    let mut parts = name.split('-');
    let (Some(pid), Some(tag)) = (parts.next(), parts.next()) else {
        return false;
    };
    let here = Owner::current();
    here.is_identified()
        && tag == here.namespace_tag()
        && pid.parse().is_ok_and(|pid| !process_exists(pid))
}

fn write_owner(path: &Path) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(Owner::current().line().as_bytes())
}

fn create_then_write(path: &Path) -> io::Result<()> {
    let written = write_owner(path);
    if written.is_err() {
        let _ = fs::remove_file(path);
    }
    written
}

/// Drafts of processes killed between writing and linking them, and stale
/// locks set aside by processes killed before removing them. Both hold an
/// owner like a lock does, and are removed on the same proof.
fn remove_leftovers(lock: &Path) {
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
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let dead = match rest.strip_suffix(".draft") {
            Some(draft) => draft_is_dead(draft),
            None => rest.starts_with(STALE_INFIX) && dead_owner(&entry.path()).is_some(),
        };
        if dead {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Removes the lock if a kubefetch process that is provably gone left it,
/// and returns that owner. Any other lock (kubectl's are empty; a holder on
/// another host or in another PID namespace cannot be checked) is never
/// touched.
///
/// The lock is first renamed to a private name and checked again there:
/// two processes may see the same stale lock, and the slower one must not
/// delete the lock the faster one has just taken.
fn remove_if_stale(path: &Path) -> Result<Option<Owner>, LockError> {
    let Some(owner) = dead_owner(path) else {
        return Ok(None);
    };
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(
        ".{STALE_INFIX}{}-{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    let aside = PathBuf::from(aside);
    if fs::rename(path, &aside).is_err() {
        // Someone else moved it first; look again.
        return Ok(None);
    }
    let removed = if dead_owner(&aside).as_ref() == Some(&owner) {
        Some(owner)
    } else {
        // It was a fresh lock by now: put it back unless yet another one exists.
        let _ = fs::hard_link(&aside, path);
        None
    };
    match fs::remove_file(&aside) {
        // A lock holder cleaned it up as a leftover meanwhile.
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(removed),
        Err(source) => Err(LockError::RemoveStale {
            path: path.to_path_buf(),
            source,
        }),
        Ok(()) => Ok(removed),
    }
}

/// The owner named by a kubefetch lock file, if it is provably gone.
fn dead_owner(path: &Path) -> Option<Owner> {
    let owner = Owner::parse(&fs::read_to_string(path).ok()?)?;
    owner.is_dead().then_some(owner)
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

    /// The lock line a process of this host and PID namespace would write.
    fn line_of(pid: u32) -> String {
        Owner {
            pid,
            ..Owner::current()
        }
        .line()
    }

    #[test]
    fn leftovers_of_dead_processes_are_cleaned_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        let lock = lock_path(&file);
        let here = Owner::current();
        let with_pid = |pid| Owner {
            pid,
            ..here.clone()
        };
        let other_namespace = Owner {
            pid_namespace: "pid:[1]".into(),
            ..with_pid(dead_pid())
        };
        // Drafts are judged by their name: a killed writer leaves them empty.
        let dead = draft_path(&lock, &with_pid(dead_pid()), 0);
        let live = draft_path(&lock, &here, 999);
        let elsewhere = draft_path(&lock, &other_namespace, 0);
        let dead_aside = dir.path().join("config.lock.stale-9-0");
        let live_aside = dir.path().join("config.lock.stale-9-1");
        for draft in [&dead, &live, &elsewhere] {
            fs::write(draft, "").unwrap();
        }
        fs::write(&dead_aside, line_of(dead_pid())).unwrap();
        fs::write(&live_aside, line_of(std::process::id())).unwrap();
        let acquired = acquire(&file, Duration::from_secs(1)).unwrap();
        assert!(!dead.exists());
        assert!(!dead_aside.exists());
        assert!(live.exists());
        assert!(live_aside.exists());
        assert!(elsewhere.exists());
        drop(acquired);
    }

    #[test]
    fn writes_the_owner_and_deletes_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        let acquired = acquire(&file, Duration::from_secs(1)).unwrap();
        let lock = dir.path().join("config.lock");
        assert_eq!(acquired.guard.path(), lock);
        let written = fs::read_to_string(&lock).unwrap();
        assert_eq!(written, line_of(std::process::id()));
        let owner = Owner::parse(&written).unwrap();
        assert_eq!(owner, Owner::current());
        assert!(
            owner.boot != UNKNOWN && owner.pid_namespace != UNKNOWN,
            "{written}"
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
        fs::write(lock_path(&file), line_of(pid)).unwrap();
        let acquired = acquire(&file, Duration::from_millis(100)).unwrap();
        let warning = acquired.warning.clone().unwrap();
        assert!(
            warning.contains(&pid.to_string()) && warning.contains("config.lock"),
            "{warning}"
        );
        assert_eq!(
            fs::read_to_string(lock_path(&file)).unwrap(),
            line_of(std::process::id())
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
        let here = Owner::current();
        let other = |change: fn(&mut Owner)| {
            let mut owner = Owner {
                pid: dead,
                ..here.clone()
            };
            change(&mut owner);
            owner.line()
        };
        for (content, holder) in [
            (String::new(), None),
            (format!("kubectl pid={dead}\n"), None),
            (line_of(1), Some("process 1 on host")),
            // The same pid number means nothing across PID namespaces, boots or hosts.
            (
                other(|o| o.pid_namespace = "pid:[1]".into()),
                Some("another host, boot or PID namespace"),
            ),
            (
                other(|o| o.boot = "another-boot".into()),
                Some("cannot tell"),
            ),
            (
                other(|o| o.host = "other-host".into()),
                Some("on host other-host"),
            ),
            // An owner line without the identity proves nothing either.
            (format!("kubefetch pid={dead}\n"), Some("cannot tell")),
        ] {
            fs::write(lock_path(&file), &content).unwrap();
            let err = acquire(&file, Duration::from_millis(100)).unwrap_err();
            assert!(matches!(err, LockError::Timeout { .. }), "{err:?}");
            let message = err.to_string();
            assert!(
                message.contains("config.lock") && message.contains("remove it"),
                "{message}"
            );
            if let Some(holder) = holder {
                assert!(message.contains(holder), "{message}");
            }
            assert_eq!(fs::read_to_string(lock_path(&file)).unwrap(), content);
        }
    }
}
