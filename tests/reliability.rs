//! Reliability of the kubeconfig write with the real binary against the fake
//! cloud: many kubefetch processes (and kubectl) writing one file at once,
//! and kubefetch killed with SIGKILL at random moments.
//!
//! The full-size runs are long and only run with `KUBEFETCH_LONG_TESTS=1`;
//! a small version of each always runs.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use fakecloud::{Cluster, Fault, FaultKind, Provider};

/// One process at a time: a longer wait only means a lock nobody recovers.
const CRASH_LOCK_WAIT: &str = "10";
const STALE_LOCK_WARNING: &str = "removed the stale lock file";

fn long_tests() -> bool {
    std::env::var("KUBEFETCH_LONG_TESTS").is_ok_and(|v| v == "1")
}

fn skipped(test: &str) {
    eprintln!("{test}: SKIPPED (set KUBEFETCH_LONG_TESTS=1)");
}

/// One fetch of a cluster of its own under a context name of its own.
#[derive(Debug, Clone)]
struct Job {
    provider: Provider,
    cluster_id: String,
    context: String,
}

impl Job {
    /// The `n`th job: providers in turn, each job's cluster added to the fake.
    fn new(sandbox: &Sandbox, n: usize) -> Job {
        let provider = [Provider::Tke, Provider::Ack, Provider::Cce, Provider::Ucs][n % 4];
        let cluster_id = match provider {
            Provider::Tke => format!("cls-rel{n:05}"),
            Provider::Ack => format!("crel{n:025}"),
            Provider::Cce => format!("4d5e6f70-1a2b-11ee-8c90-{n:012x}"),
            _ => format!("5e6f7081-2b3c-11ee-9da1-{n:012x}"),
        };
        sandbox
            .cloud
            .add_cluster(Cluster::new(provider, cluster_id.clone()));
        Job {
            provider,
            context: format!("rel-{}-{n}", provider.name()),
            cluster_id,
        }
    }

    /// `lock_wait`: seconds; every process may have to wait for all the others.
    fn spawn(&self, sandbox: &Sandbox, kubeconfig: &Path, lock_wait: &str) -> Child {
        Command::new(env!("CARGO_BIN_EXE_kubefetch"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", sandbox.home.path())
            .env("KUBEFETCH_LOCK_TIMEOUT", lock_wait)
            .envs(sandbox.cloud.env())
            .args([
                self.provider.name(),
                &self.cluster_id,
                "--context",
                &self.context,
            ])
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kubefetch")
    }
}

/// The kubeconfig every test writes, alone in a directory of its own so
/// leftovers are easy to see.
fn kubeconfig_in(sandbox: &Sandbox) -> PathBuf {
    let dir = sandbox.home.path().join("kube");
    std::fs::create_dir(&dir).unwrap();
    dir.join("config")
}

/// The contexts of a file that must parse, with their clusters and users.
fn written_contexts(path: &Path) -> BTreeSet<String> {
    let config = yaml(path);
    let contexts: BTreeSet<String> = names(&config, "contexts").into_iter().collect();
    let clusters: BTreeSet<String> = names(&config, "clusters").into_iter().collect();
    let users: BTreeSet<String> = names(&config, "users").into_iter().collect();
    for name in contexts.iter().filter(|n| n.starts_with("rel-")) {
        assert!(
            clusters.contains(name),
            "context {name} without its cluster"
        );
        assert!(users.contains(name), "context {name} without its user");
    }
    contexts
}

fn assert_all_present(present: &BTreeSet<String>, expected: &[String], who: &str) {
    let missing: Vec<&String> = expected.iter().filter(|c| !present.contains(*c)).collect();
    assert!(missing.is_empty(), "{who} contexts lost: {missing:?}");
}

/// What the kubectl calls beside the fetches did.
#[derive(Debug, Default)]
struct KubectlRun {
    /// Contexts of the `set-context` calls that succeeded.
    written: Vec<String>,
    /// The file's contexts between calls, read under the lock.
    snapshots: Vec<BTreeSet<String>>,
}

/// Runs `count` kubefetch processes at once, optionally with kubectl
/// `set-context` calls one after another beside them, and checks the file.
fn concurrent_fetches(count: usize, with_kubectl: Option<PathBuf>) {
    let sandbox = Sandbox::new();
    let path = kubeconfig_in(&sandbox);
    let jobs: Vec<Job> = (0..count).map(|n| Job::new(&sandbox, n)).collect();
    let started = Instant::now();

    let children: Vec<Child> = jobs
        .iter()
        .map(|j| j.spawn(&sandbox, &path, "120"))
        .collect();
    let fetches_done = Arc::new(AtomicBool::new(false));
    let kubectl_thread = with_kubectl.map(|kubectl| {
        let path = path.clone();
        let done = Arc::clone(&fetches_done);
        thread::spawn(move || kubectl_set_contexts(&kubectl, &path, count, &done))
    });
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    fetches_done.store(true, Ordering::SeqCst);
    let kubectl = kubectl_thread
        .map(|t| t.join().unwrap())
        .unwrap_or_default();
    let elapsed = started.elapsed();

    for output in &outputs {
        assert_code(output, 0);
    }
    let present = written_contexts(&path);
    assert_all_present(&present, &kubectl.written, "kubectl");
    let fetched: Vec<String> = jobs.iter().map(|j| j.context.clone()).collect();
    // Every loss happened within one kubectl call, with only fetches beside
    // it; the run without kubectl proves the fetches lose nothing.
    let lost = lost_to_kubectl(&present, &fetched, &kubectl.snapshots);
    assert_eq!(
        dir_entries(path.parent().unwrap()),
        ["config"],
        "no lock or temp file may be left"
    );
    eprintln!(
        "{count} kubefetch processes in {elapsed:.2?}; {} of {} kubectl set-context succeeded; \
         kubectl's read-before-lock dropped {} kubefetch contexts: {lost:?}",
        kubectl.written.len(),
        kubectl.snapshots.len().saturating_sub(1),
        lost.len(),
    );
    if kubectl.snapshots.is_empty() {
        assert!(lost.is_empty(), "kubefetch contexts lost: {lost:?}");
    }
}

/// The fetched contexts missing at the end, after checking that each was
/// dropped where only kubectl can drop one.
///
/// kubectl reads the file, then takes the lock, reads it again and deletes
/// every context of the second read missing from the first: a context
/// kubefetch writes between kubectl's two reads is lost. So a context may
/// vanish only within one kubectl call: one seen in a snapshot taken
/// between calls must survive to the end.
fn lost_to_kubectl(
    present: &BTreeSet<String>,
    fetched: &[String],
    snapshots: &[BTreeSet<String>],
) -> Vec<String> {
    let lost: Vec<String> = fetched
        .iter()
        .filter(|c| !present.contains(*c))
        .cloned()
        .collect();
    for context in &lost {
        let seen = snapshots.iter().position(|s| s.contains(context));
        assert!(
            seen.is_none(),
            "{context} was in the file between kubectl calls (snapshot {seen:?}) and was lost later"
        );
    }
    for pair in snapshots.windows(2) {
        let dropped: Vec<&String> = pair[0].difference(&pair[1]).collect();
        assert!(
            dropped.is_empty(),
            "contexts lost between snapshots: {dropped:?}"
        );
    }
    lost
}

/// `kubectl config set-context kc-N` one call after another, at least
/// `min_calls` and until every kubefetch process has exited (kubectl gives up at once when it finds the
/// lock taken). Between calls, the file's contexts are read under the lock,
/// taken the way kubectl takes it; the last read comes after every fetch.
fn kubectl_set_contexts(
    kubectl: &Path,
    path: &Path,
    min_calls: usize,
    fetches_done: &AtomicBool,
) -> KubectlRun {
    let mut run = KubectlRun::default();
    run.snapshots.push(contexts_under_lock(path));
    for n in 0usize.. {
        let last = n + 1 >= min_calls && fetches_done.load(Ordering::SeqCst);
        let name = format!("kc-{n}");
        let out = Command::new(kubectl)
            .args(["config", "set-context", &name, "--cluster=x", "--user=y"])
            .arg("--kubeconfig")
            .arg(path)
            .env("HOME", path.parent().unwrap())
            .output()
            .expect("run kubectl");
        if out.status.success() {
            run.written.push(name);
        }
        run.snapshots.push(contexts_under_lock(path));
        if last {
            break;
        }
    }
    run
}

fn contexts_under_lock(path: &Path) -> BTreeSet<String> {
    let mut lock = path.as_os_str().to_owned();
    lock.push(".lock");
    let lock = PathBuf::from(lock);
    while let Err(err) = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock)
    {
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists, "{err}");
        thread::sleep(Duration::from_millis(2));
    }
    let contexts = if path.exists() {
        written_contexts(path)
    } else {
        BTreeSet::new()
    };
    std::fs::remove_file(&lock).unwrap();
    contexts
}

#[test]
fn concurrent_fetches_short() {
    concurrent_fetches(8, None);
}

#[test]
fn concurrent_fetches_32() {
    if !long_tests() {
        return skipped("concurrent_fetches_32");
    }
    concurrent_fetches(32, None);
}

#[test]
fn concurrent_fetches_beside_kubectl_short() {
    let Some(kubectl) = kubectl() else { return };
    concurrent_fetches(8, Some(kubectl));
}

#[test]
fn concurrent_fetches_beside_kubectl_32() {
    if !long_tests() {
        return skipped("concurrent_fetches_beside_kubectl_32");
    }
    let Some(kubectl) = kubectl() else { return };
    concurrent_fetches(32, Some(kubectl));
}

/// A small deterministic generator (xorshift): reproducible kill moments
/// from a seed printed with the results.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn seed() -> u64 {
    std::env::var("KUBEFETCH_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        })
}

/// kubefetch's temp files for `config`: `.config.kubefetch-<random>.tmp`.
fn is_temp_file(name: &str) -> bool {
    name.starts_with(".config.kubefetch-") && name.ends_with(".tmp")
}

#[derive(Debug, Default)]
struct CrashFigures {
    killed: usize,
    completed: usize,
    stale_locks_recovered: usize,
    most_temp_files: usize,
}

/// `fetches` kubefetch processes, one at a time, each SIGKILLed after a
/// random delay; after every one the file parses and holds every context an
/// earlier process reported as written.
fn crash_safety(fetches: usize) {
    let sandbox = Sandbox::new();
    let path = kubeconfig_in(&sandbox);
    let dir = path.parent().unwrap().to_path_buf();
    let seed = seed();
    let mut rng = Rng(seed);
    let mut reported: Vec<String> = Vec::new();
    let mut figures = CrashFigures::default();
    let started = Instant::now();

    for n in 0..fetches {
        let job = Job::new(&sandbox, n);
        // A delayed answer on some requests widens the window in which the
        // kill finds the process still at work.
        if rng.below(3) == 0 {
            let delay = Duration::from_millis(rng.below(40));
            sandbox.cloud.inject(
                Fault::new(FaultKind::Delay(delay))
                    .for_provider(job.provider)
                    .times(1),
            );
        }
        let kill_after = Duration::from_micros(rng.below(50_000));
        let mut child = job.spawn(&sandbox, &path, CRASH_LOCK_WAIT);
        thread::sleep(kill_after);
        child.kill().expect("SIGKILL kubefetch");
        let output = child.wait_with_output().unwrap();
        match output.status.code() {
            Some(0) => {
                figures.completed += 1;
                if stderr(&output).contains(STALE_LOCK_WARNING) {
                    figures.stale_locks_recovered += 1;
                }
                reported.push(job.context.clone());
            }
            Some(code) => panic!("fetch {n} exited {code} (seed {seed}): {}", stderr(&output)),
            None => figures.killed += 1,
        }
        if path.exists() {
            let present = written_contexts(&path);
            assert_all_present(
                &present,
                &reported,
                &format!("after fetch {n} (seed {seed})"),
            );
        } else {
            assert!(reported.is_empty(), "the kubeconfig vanished (seed {seed})");
        }
        let temps = dir_entries(&dir)
            .iter()
            .filter(|name| is_temp_file(name))
            .count();
        figures.most_temp_files = figures.most_temp_files.max(temps);
    }

    // A lock or temp file left by the last kill must not stop the next run.
    let last = Job::new(&sandbox, fetches);
    let output = last
        .spawn(&sandbox, &path, CRASH_LOCK_WAIT)
        .wait_with_output()
        .unwrap();
    assert_code(&output, 0);
    reported.push(last.context);
    assert_all_present(&written_contexts(&path), &reported, "at the end");
    let leftovers: Vec<String> = dir_entries(&dir)
        .into_iter()
        .filter(|name| name != "config")
        .collect();
    assert!(
        leftovers.is_empty(),
        "left behind after a clean run: {leftovers:?} (seed {seed})"
    );
    eprintln!(
        "{fetches} fetches (seed {seed}) in {:.2?}: {figures:?}",
        started.elapsed()
    );
    assert!(
        figures.most_temp_files <= 1,
        "temp files accumulated: {figures:?} (seed {seed})"
    );
}

#[test]
fn crash_safety_short() {
    crash_safety(10);
}

#[test]
fn crash_safety_100() {
    if !long_tests() {
        return skipped("crash_safety_100");
    }
    crash_safety(100);
}
