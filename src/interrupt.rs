//! Files to delete when SIGINT, SIGTERM or SIGHUP ends the process while
//! they exist: a kubeconfig lock left behind makes kubectl fail with "file
//! exists" until the next kubefetch run, and a temporary file may hold
//! credentials. The handler only unlinks the registered paths and then
//! lets the signal end the process as it would have.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Once;

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];
/// Paths registered at once: a lock and a temporary file per write in
/// progress. Past this, a registration is silently best-effort.
const SLOTS: usize = 32;

static PENDING: [AtomicPtr<libc::c_char>; SLOTS] =
    [const { AtomicPtr::new(ptr::null_mut()) }; SLOTS];
/// Threads inside [`hold_signals`]; while any is, a signal waits there.
static HOLDING: AtomicUsize = AtomicUsize::new(0);
/// A signal that arrived while held, to act on when the hold ends.
static DEFERRED: AtomicI32 = AtomicI32::new(0);

/// Runs `create` (which creates a file and registers it) with the signals
/// held back, so that no signal can end the process between the file
/// appearing and its registration: one that arrives meanwhile, on any
/// thread, is acted on when `create` returns.
pub fn hold_signals<T>(create: impl FnOnce() -> T) -> T {
    install_handler();
    HOLDING.fetch_add(1, Ordering::SeqCst);
    let created = create();
    // The last hold to end acts on a deferred signal: another thread may
    // still be between creating its file and registering it.
    if HOLDING.fetch_sub(1, Ordering::SeqCst) == 1 {
        let signal = DEFERRED.swap(0, Ordering::SeqCst);
        if signal != 0 {
            clean_up_and_end(signal);
        }
    }
    created
}

/// A registered path; dropping it unregisters the path (drop it before the
/// file is removed or renamed, so the name is never another's when the
/// handler runs).
#[derive(Debug)]
pub struct RemoveOnSignal {
    slot: Option<usize>,
}

/// Registers `path` for removal if one of the signals ends the process.
pub fn remove_on_signal(path: &Path) -> RemoveOnSignal {
    install_handler();
    let Ok(path) = CString::new(path.as_os_str().as_bytes()) else {
        return RemoveOnSignal { slot: None };
    };
    // Never freed: a handler running on another thread may be reading it
    // when it is unregistered. A few bytes per lock, in a short-lived CLI.
    let raw = path.into_raw();
    let slot = PENDING.iter().position(|slot| {
        slot.compare_exchange(ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    });
    RemoveOnSignal { slot }
}

impl Drop for RemoveOnSignal {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            PENDING[slot].store(ptr::null_mut(), Ordering::Release);
        }
    }
}

fn install_handler() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        for signal in SIGNALS {
            // SAFETY: sigaction with valid pointers to zeroed structs; the
            // handler only calls async-signal-safe functions.
            unsafe {
                let mut previous: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, ptr::null(), &mut previous) != 0
                    || previous.sa_sigaction == libc::SIG_IGN
                {
                    // An ignored signal (nohup) stays ignored.
                    continue;
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, ptr::null_mut());
            }
        }
    });
}

extern "C" fn on_signal(signal: libc::c_int) {
    if HOLDING.load(Ordering::SeqCst) > 0 {
        DEFERRED.store(signal, Ordering::SeqCst);
        return;
    }
    clean_up_and_end(signal);
}

/// Only async-signal-safe calls: it runs in the handler.
fn clean_up_and_end(signal: libc::c_int) {
    for slot in &PENDING {
        let path = slot.swap(ptr::null_mut(), Ordering::AcqRel);
        if !path.is_null() {
            // SAFETY: a registered pointer is a NUL-terminated string that is never freed.
            unsafe { libc::unlink(path) };
        }
    }
    // SAFETY: restoring the default action and re-raising are async-signal-safe;
    // the signal is blocked in its handler, so it ends the process on return.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}
