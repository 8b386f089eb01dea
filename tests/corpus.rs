//! Every kubeconfig of `tests/corpus/` (real files from public sources and
//! hand-written edge cases, listed in `tests/corpus/SOURCES.md`) gets one
//! cluster merged into it, and kubectl itself judges the result: every
//! entry that was there keeps its meaning, the new context reaches the fake
//! cloud's API, and a second fetch changes nothing but what it must.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::*;
use fakecloud::{Cluster, Provider};
use kubefetch::kubeconfig::Kubeconfig;
use serde_json::Value;

const CLUSTER: &str = "cls-corpus01";
const NEW: &str = "tke-cls-corpus01";
const SECTIONS: [&str; 3] = ["clusters", "users", "contexts"];
/// What a second fetch may change in the entries it writes.
const REISSUED: [&str; 4] = [
    "fetchedAt",
    "expiresAt",
    "client-certificate-data",
    "client-key-data",
];
/// Files checked at once.
const WORKERS: usize = 4;

#[test]
fn every_corpus_file_keeps_kubectls_meaning_through_two_fetches() {
    let Some(kubectl) = kubectl() else { return };
    let s = Sandbox::new();
    s.cloud.add_cluster(Cluster::new(Provider::Tke, CLUSTER));
    let files = corpus_files();
    assert!(files.len() > 80, "the corpus is incomplete: {files:?}");
    // kubectl and kubefetch are processes that mostly wait: a few files at
    // once keep the test short on a small machine.
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(file) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(why) = check_file(&s, &kubectl, file) {
                        let failure = format!("{}: {why}", corpus_name(file));
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} corpus files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn corpus_name(file: &Path) -> String {
    file.strip_prefix(corpus_dir())
        .unwrap_or(file)
        .display()
        .to_string()
}

/// Every file under `tests/corpus/` but the list of sources, in a fixed order.
fn corpus_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![corpus_dir()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("corpus directory readable") {
            let path = entry.expect("corpus entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n != "SOURCES.md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// One corpus file through two fetches, judged by kubectl.
fn check_file(s: &Sandbox, kubectl: &Path, file: &Path) -> Result<(), String> {
    let home = tempfile::tempdir().expect("temporary directory");
    let config = home.path().join("config");
    let original = std::fs::read(file).expect("corpus file readable");
    std::fs::write(&config, &original).expect("copy of the corpus file");
    let kubectl = Kubectl {
        program: kubectl,
        home: home.path(),
        config: &config,
    };

    let before = match kubectl.view() {
        Ok(view) => view,
        Err(refusal) => return refused_by_kubectl(s, &kubectl, &original, &refusal),
    };
    let model_before = model(&original)?;

    let after = fetch_and_view(s, &kubectl, &["--no-switch"], "the first fetch")?;
    same_but_new_entries(&before, &after, "kubectl config view")?;
    if after["current-context"] != before["current-context"] {
        return Err("--no-switch changed current-context".to_owned());
    }
    let written = std::fs::read(&config).expect("merged file readable");
    same_but_new_entries(&model_before, &model(&written)?, "the file's fields")?;
    kubectl.get_version()?;

    let again = fetch_and_view(s, &kubectl, &[], "the second fetch")?;
    if again["current-context"] != NEW {
        return Err(format!(
            "the second fetch did not switch: current-context is {}",
            again["current-context"]
        ));
    }
    let mut expected = without_reissued(after);
    expected["current-context"] = Value::String(NEW.to_owned());
    if without_reissued(again.clone()) != expected {
        return Err(format!(
            "the second fetch changed more than timestamps and certificates:\nbefore {expected:#}\nafter {:#}",
            without_reissued(again)
        ));
    }
    Ok(())
}

/// A file kubectl cannot load is refused with exit 6, untouched, with an
/// error that says where; or it is merged and then loads in kubectl.
fn refused_by_kubectl(
    s: &Sandbox,
    kubectl: &Kubectl,
    original: &[u8],
    refusal: &str,
) -> Result<(), String> {
    let out = fetch(s, kubectl.config, &[]);
    match code(&out) {
        6 => {
            if std::fs::read(kubectl.config).expect("file readable") != original {
                return Err("refused, but the file changed".to_owned());
            }
            let message = stderr(&out);
            if !(message.contains("line ") && message.contains("column ")) {
                return Err(format!(
                    "refused without saying where (kubectl: {refusal}): {message}"
                ));
            }
            Ok(())
        }
        0 => {
            kubectl.view().map_err(|e| {
                format!("kubectl refuses the file ({refusal}); kubefetch merged it and kubectl still refuses it: {e}")
            })?;
            kubectl.get_version()
        }
        other => Err(format!(
            "kubectl refuses the file ({refusal}); kubefetch exited {other}: {}",
            stderr(&out)
        )),
    }
}

/// A fetch into a file kubectl loads must succeed, and kubectl must load the result.
fn fetch_and_view(
    s: &Sandbox,
    kubectl: &Kubectl,
    extra: &[&str],
    what: &str,
) -> Result<Value, String> {
    let out = fetch(s, kubectl.config, extra);
    if code(&out) != 0 {
        return Err(format!(
            "{what}: kubefetch exited {}: {}",
            code(&out),
            stderr(&out)
        ));
    }
    kubectl
        .view()
        .map_err(|e| format!("{what}: kubectl cannot load the result: {e}"))
}

fn fetch(s: &Sandbox, config: &Path, extra: &[&str]) -> std::process::Output {
    let config = config.to_str().expect("temporary path is UTF-8");
    let mut args = vec![
        "tke",
        CLUSTER,
        "--region",
        "ap-guangzhou",
        "--kubeconfig",
        config,
    ];
    args.extend_from_slice(extra);
    s.run(&args)
}

/// The file as kubefetch's model holds it, unknown fields included.
fn model(bytes: &[u8]) -> Result<Value, String> {
    let parsed = Kubeconfig::parse_bytes(bytes.to_vec())
        .map_err(|e| format!("kubefetch's model cannot read the file kubectl loads: {e}"))?;
    Ok(serde_json::to_value(parsed).expect("a kubeconfig is JSON"))
}

/// `after` is `before` plus the new context, cluster and user (and maybe a
/// new current-context): nothing else differs.
fn same_but_new_entries(before: &Value, after: &Value, what: &str) -> Result<(), String> {
    let mut rest = after.clone();
    for section in SECTIONS {
        let entries = rest[section]
            .as_array_mut()
            .ok_or_else(|| format!("{what}: no {section} after the merge"))?;
        let count = entries.len();
        entries.retain(|entry| entry["name"] != NEW);
        if entries.len() + 1 != count {
            return Err(format!("{what}: expected one new entry in {section}"));
        }
        if entries.is_empty() && !before[section].is_array() {
            rest[section] = before[section].clone();
        }
    }
    rest["current-context"] = before["current-context"].clone();
    strip_nulls(&mut rest);
    let mut before = before.clone();
    strip_nulls(&mut before);
    if rest != before {
        return Err(format!(
            "{what}: existing entries changed:\nbefore {before:#}\nafter {rest:#}"
        ));
    }
    Ok(())
}

/// An absent field and a null one mean the same to kubectl.
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// The view with what a re-fetch may change blanked out.
fn without_reissued(mut view: Value) -> Value {
    fn blank(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, field) in map.iter_mut() {
                    if REISSUED.contains(&key.as_str()) {
                        *field = Value::Null;
                    } else {
                        blank(field);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(blank),
            _ => {}
        }
    }
    for section in SECTIONS {
        if let Some(entries) = view[section].as_array_mut() {
            entries
                .iter_mut()
                .filter(|entry| entry["name"] == NEW)
                .for_each(blank);
        }
    }
    view
}

struct Kubectl<'a> {
    program: &'a Path,
    home: &'a Path,
    config: &'a Path,
}

impl Kubectl<'_> {
    fn command(&self) -> Command {
        let mut cmd = Command::new(self.program);
        cmd.env("HOME", self.home)
            .env_remove("KUBECONFIG")
            .arg("--kubeconfig")
            .arg(self.config);
        cmd
    }

    /// `kubectl config view --raw -o json`, or why kubectl cannot load the file.
    fn view(&self) -> Result<Value, String> {
        let out = self
            .command()
            .args(["config", "view", "--raw", "-o", "json"])
            .output()
            .expect("run kubectl");
        if !out.status.success() {
            return Err(stderr(&out).trim().to_owned());
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("kubectl wrote no JSON: {e}"))
    }

    /// The new context reaches the fake cloud's API with its client certificate.
    fn get_version(&self) -> Result<(), String> {
        let out = self
            .command()
            .args(["--context", NEW, "get", "--raw", "/version"])
            .output()
            .expect("run kubectl");
        if out.status.success() && stdout(&out).contains("gitVersion") {
            Ok(())
        } else {
            Err(format!(
                "kubectl --context {NEW} get --raw /version: {}",
                stderr(&out)
            ))
        }
    }
}
