//! Shared set-up for integration tests: a fake cloud on 127.0.0.1, a
//! temporary HOME, and the real kubefetch binary with a clean environment.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::Output;

use fakecloud::{FakeCloud, Provider, Recorded};

pub struct Sandbox {
    pub cloud: FakeCloud,
    pub home: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            cloud: FakeCloud::start(),
            home: tempfile::tempdir().expect("temporary HOME"),
        }
    }

    /// `~/.kube/config` of the temporary HOME.
    pub fn default_kubeconfig(&self) -> PathBuf {
        self.home.path().join(".kube").join("config")
    }

    /// kubefetch with only PATH, HOME, the fake cloud's endpoints and
    /// credentials, and a short lock wait.
    pub fn kubefetch(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.command())
    }

    /// The same as a plain `std::process::Command`, to spawn and signal it.
    pub fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("kubefetch"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("KUBEFETCH_LOCK_TIMEOUT", "2")
            .envs(self.cloud.env());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.kubefetch().args(args).output().expect("run kubefetch")
    }

    /// The requests the fake cloud received for one API, in order.
    pub fn requests_to(&self, provider: Provider) -> Vec<Recorded> {
        self.cloud
            .requests()
            .into_iter()
            .filter(|r| r.provider == provider)
            .collect()
    }

    /// How many requests the fake's instance metadata services received.
    pub fn metadata_requests(&self) -> usize {
        self.cloud
            .requests()
            .iter()
            .filter(|r| Provider::METADATA.contains(&r.provider))
            .count()
    }

    /// kubefetch `args` under a pseudo-terminal (util-linux `script`, with
    /// `TERM=xterm`): what the terminal showed, stderr and stdout together,
    /// on the output's stdout. `None`, said on stderr, when `script` is
    /// not installed.
    pub fn run_on_terminal(&self, args: &[&str]) -> Option<Output> {
        let command = std::iter::once(
            assert_cmd::cargo::cargo_bin("kubefetch")
                .display()
                .to_string(),
        )
        .chain(args.iter().map(|arg| arg.to_string()))
        .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ");
        let mut script = std::process::Command::new("script");
        script.env_clear();
        for (key, value) in self.command().get_envs() {
            if let Some(value) = value {
                script.env(key, value);
            }
        }
        let out = script
            .env("TERM", "xterm")
            .args(["-qefc", &command, "/dev/null"])
            .output();
        if out.is_err() {
            eprintln!("SKIPPED: `script` is not installed; the pseudo-terminal check did not run");
        }
        out.ok()
    }

    /// The next fetch request for `cluster_id` is answered 1.5 s late, so
    /// that the other clusters' fetches end before it.
    pub fn answer_late(&self, cluster_id: &str) {
        self.cloud.inject(
            fakecloud::Fault::new(fakecloud::FaultKind::Delay(
                std::time::Duration::from_millis(1500),
            ))
            .for_cluster(cluster_id),
        );
    }

    pub fn write_home_file(&self, relative: &str, content: &str) -> PathBuf {
        let path = self.home.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }
}

pub fn body_json(r: &Recorded) -> serde_json::Value {
    serde_json::from_slice(&r.body).expect("JSON request body")
}

/// The sorted names in a directory.
pub fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts the exit code, showing stderr when it is wrong.
pub fn assert_code(output: &Output, expected: i32) {
    assert_eq!(
        code(output),
        expected,
        "stderr:\n{}\nstdout:\n{}",
        stderr(output),
        stdout(output)
    );
}

/// Asserts that `text` starts with the progress lines `[1/total] ...` to
/// `[total/total] ...`, the last of them `[total/total] last`; returns the
/// labels of the others, sorted (they may finish in any order). A label is
/// the part before " as <context> (credential expires ...)".
pub fn progress_ending_with(text: &str, total: usize, last: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().take(total).collect();
    assert_eq!(lines.len(), total, "{text}");
    let mut labels: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(n, line)| {
            let prefix = format!("[{}/{total}] ", n + 1);
            let label = line
                .strip_prefix(&prefix)
                .unwrap_or_else(|| panic!("not {prefix:?}: {line:?} in\n{text}"));
            // "fetched tke cls-a as tke-cls-a (credential expires ...)": the cluster part.
            label.split(" as ").next().unwrap_or(label).to_string()
        })
        .collect();
    assert_eq!(labels.pop().as_deref(), Some(last), "{text}");
    labels.sort_unstable();
    labels
}

/// A kubeconfig of `entries` clusters, users and contexts: big enough that
/// kubefetch holds the lock and writes for a while on any machine.
pub fn big_kubeconfig(entries: usize) -> String {
    let mut text = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for i in 0..entries {
        text.push_str(&format!(
            "- name: c{i}\n  cluster: {{server: 'https://c{i}.example'}}\n"
        ));
    }
    text.push_str("users:\n");
    for i in 0..entries {
        text.push_str(&format!("- name: c{i}\n  user: {{token: t{i}}}\n"));
    }
    text.push_str("contexts:\n");
    for i in 0..entries {
        text.push_str(&format!(
            "- name: c{i}\n  context: {{cluster: c{i}, user: c{i}}}\n"
        ));
    }
    text
}

pub fn yaml(path: &Path) -> serde_json::Value {
    kubefetch::yaml::read_first(&std::fs::read_to_string(path).expect("kubeconfig readable"))
        .expect("kubeconfig parses")
}

/// Names of the entries in a kubeconfig section (`contexts`, `clusters`, `users`).
pub fn names(config: &serde_json::Value, section: &str) -> Vec<String> {
    config[section]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| e["name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub fn context<'a>(config: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    config["contexts"]
        .as_array()
        .and_then(|entries| entries.iter().find(|e| e["name"].as_str() == Some(name)))
        .unwrap_or_else(|| panic!("no context {name}"))
}

pub fn cluster_server(config: &serde_json::Value, name: &str) -> String {
    config["clusters"]
        .as_array()
        .and_then(|entries| entries.iter().find(|e| e["name"].as_str() == Some(name)))
        .and_then(|e| e["cluster"]["server"].as_str())
        .unwrap_or_else(|| panic!("no cluster {name}"))
        .to_string()
}

/// kubectl if installed; in CI (`CI=true`) its absence is a failure, elsewhere
/// the caller skips with a visible message.
pub fn kubectl() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("kubectl"))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("kubectl is required in CI (CI=true) but is not on PATH");
        }
        eprintln!("SKIPPED: kubectl is not installed; the kubectl acceptance check did not run");
    }
    found
}

/// Proves kubectl accepts a written context: `config view` and a real
/// TLS request with the client certificate to the fake kube API.
pub fn assert_kubectl_accepts(kubeconfig: &Path, context: &str) {
    let Some(kubectl) = kubectl() else { return };
    let view = std::process::Command::new(&kubectl)
        .args(["config", "view", "--raw", "--kubeconfig"])
        .arg(kubeconfig)
        .args([
            "--context",
            context,
            "--minify",
            "-o",
            "jsonpath={.contexts[0].name}",
        ])
        .env("HOME", kubeconfig.parent().unwrap())
        .output()
        .unwrap();
    assert!(
        view.status.success(),
        "kubectl config view: {}",
        stderr(&view)
    );
    assert_eq!(stdout(&view), context);
    let version = std::process::Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--context", context, "get", "--raw", "/version"])
        .env("HOME", kubeconfig.parent().unwrap())
        .output()
        .unwrap();
    assert!(
        version.status.success(),
        "kubectl get --raw /version: {}",
        stderr(&version)
    );
    assert!(
        stdout(&version).contains("gitVersion"),
        "{}",
        stdout(&version)
    );
}
