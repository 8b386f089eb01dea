//! The fault matrix: every provider against every fault of the fake cloud,
//! once as a passing hiccup and once for good. A retryable fault that clears
//! must end in a written kubeconfig; one that persists, and every refused
//! answer, must fail with exit 5 after exactly the right number of attempts
//! and leave the user's kubeconfig byte-identical.

mod common;

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use common::*;
use fakecloud::fixtures::{
    ACK_CLUSTER, ALIBABA_REGION, CCE_CLUSTER, HUAWEI_REGION, TENCENT_REGION, TKE_CLUSTER,
    UCS_CLUSTER,
};
use fakecloud::{Fault, FaultKind, Provider};

/// Retries used by every case: a retryable fault is seen `RETRIES + 1` times.
const RETRIES: u32 = 2;
/// Injected "for good": more than any run attempts.
const PERSISTENT: u32 = 10;
/// Cases of one provider run side by side; most of their time is spent waiting.
const WORKERS: usize = 4;
/// Just over http.rs's 4 MiB cap.
const OVER_THE_CAP: usize = 4 * 1024 * 1024 + 1;

/// The user's kubeconfig before every case. Comments and odd spacing do not
/// survive a rewrite, so any write at all shows up as a byte difference.
const EXISTING: &str = "# the user's own file: kubefetch must not touch it on failure\n\
apiVersion: v1\n\
kind: Config\n\
clusters:\n\
- name: existing\n  cluster: {server: 'https://10.0.0.1:6443', x-unknown: kept}\n\
users:\n\
- name: existing\n  user: {token: not-a-real-token}\n\
contexts:\n\
- name: existing\n  context: {cluster: existing, user: existing, namespace: team}\n\
current-context: existing\n\
preferences: {}\n";

/// One provider's fetch command and the context it writes.
struct Target {
    provider: Provider,
    args: Vec<&'static str>,
}

impl Target {
    fn of(provider: Provider) -> Target {
        let args = match provider {
            Provider::Tke => vec!["tke", TKE_CLUSTER, "--region", TENCENT_REGION],
            Provider::Ack => vec!["ack", ACK_CLUSTER, "--region", ALIBABA_REGION],
            Provider::Cce => vec!["cce", CCE_CLUSTER, "--region", HUAWEI_REGION],
            Provider::Ucs => vec!["ucs", UCS_CLUSTER],
            other => unreachable!("{other} is not a fetch command"),
        };
        Target { provider, args }
    }

    fn context(&self) -> String {
        format!("{}-{}", self.args[0], self.args[1])
    }
}

/// One fault and what DESIGN.md promises about it.
#[derive(Clone)]
struct Row {
    name: String,
    kind: FaultKind,
    /// Worth another attempt (network, 5xx, throttling) rather than refused at once.
    retryable: bool,
    /// The fault is a slow answer: the case runs with `--timeout 1`.
    needs_short_timeout: bool,
}

impl Row {
    fn retried(name: impl Into<String>, kind: FaultKind) -> Row {
        Row {
            name: name.into(),
            kind,
            retryable: true,
            needs_short_timeout: false,
        }
    }

    fn refused(name: impl Into<String>, kind: FaultKind) -> Row {
        Row {
            name: name.into(),
            kind,
            retryable: false,
            needs_short_timeout: false,
        }
    }
}

/// Every fault of the issue's item 3 for one provider.
fn rows(provider: Provider) -> Vec<Row> {
    let mut rows = vec![
        Row::retried("connection reset", FaultKind::ResetConnection),
        Row {
            needs_short_timeout: true,
            ..Row::retried(
                "answer slower than --timeout 1",
                FaultKind::Delay(Duration::from_millis(1500)),
            )
        },
        Row::retried("HTTP 500", FaultKind::Status(500)),
        Row::retried("HTTP 502", FaultKind::Status(502)),
        Row::retried("HTTP 503", FaultKind::Status(503)),
        Row::retried(
            "throttled without Retry-After",
            FaultKind::Throttle { retry_after: None },
        ),
        Row::retried(
            "throttled with Retry-After 1",
            FaultKind::Throttle {
                retry_after: Some(1),
            },
        ),
    ];
    rows.extend(
        throttling_codes(provider)
            .into_iter()
            .map(|(status, code)| {
                Row::retried(
                    format!("provider code {code} at HTTP {status}"),
                    FaultKind::Error {
                        status,
                        code: code.to_string(),
                    },
                )
            }),
    );
    rows.extend([
        Row::refused("truncated JSON", FaultKind::TruncatedBody),
        Row::refused("empty body", FaultKind::EmptyBody),
        Row::refused("missing fields", FaultKind::MissingFields),
        Row::refused("kubeconfig that is not YAML", FaultKind::NotYamlKubeconfig),
        Row::refused(
            "kubeconfig user runs a command",
            FaultKind::ExecUserKubeconfig,
        ),
        Row::refused(
            "kubeconfig with an http:// server",
            FaultKind::HttpServerKubeconfig,
        ),
        Row::refused(
            "answer over the 4 MiB cap",
            FaultKind::Oversized(OVER_THE_CAP),
        ),
    ]);
    rows
}

/// The provider's own retryable error codes, at the status it sends them with
/// (PROVIDERS.md).
fn throttling_codes(provider: Provider) -> Vec<(u16, &'static str)> {
    match provider {
        Provider::Tke => vec![
            (200, "RequestLimitExceeded"),
            (200, "RequestLimitExceeded.UinLimitExceeded"),
            (200, "RequestLimitExceeded.GlobalRegionUinLimitExceeded"),
            (200, "InternalError"),
        ],
        Provider::Ack => vec![
            (400, "Throttling"),
            (400, "Throttling.User"),
            (503, "Throttling.Api"),
            (500, "InternalError"),
            (503, "ServiceUnavailable"),
        ],
        Provider::Cce | Provider::Ucs => vec![(429, "APIGW.0308")],
        // Not fetch commands: the matrix never asks.
        Provider::Iam
        | Provider::AlibabaSts
        | Provider::TencentSts
        | Provider::AlibabaMetadata
        | Provider::TencentMetadata
        | Provider::HuaweiMetadata => vec![],
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Injected `RETRIES` times: the last attempt gets the normal answer.
    Transient,
    /// Injected more often than any run attempts.
    Persistent,
}

struct Case {
    row: Row,
    mode: Mode,
}

fn cases(provider: Provider) -> Vec<Case> {
    rows(provider)
        .into_iter()
        .flat_map(|row| {
            let modes: &[Mode] = if row.retryable {
                &[Mode::Transient, Mode::Persistent]
            } else {
                &[Mode::Persistent]
            };
            modes
                .iter()
                .map(|&mode| Case {
                    row: row.clone(),
                    mode,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs one case in its own fake cloud and HOME; returns what went wrong.
fn run_case(target: &Target, case: &Case) -> Result<(), String> {
    let s = Sandbox::new();
    let path = s.write_home_file(".kube/config", EXISTING);
    let times = match case.mode {
        Mode::Transient => RETRIES,
        Mode::Persistent => PERSISTENT,
    };
    s.cloud.inject(
        Fault::new(case.row.kind.clone())
            .for_provider(target.provider)
            .times(times),
    );
    let retries = RETRIES.to_string();
    let mut args = target.args.clone();
    args.extend(["--retries", retries.as_str()]);
    if case.row.needs_short_timeout {
        args.extend(["--timeout", "1"]);
    }
    let out = s.run(&args);
    let attempts = s
        .cloud
        .requests()
        .iter()
        .filter(|r| r.provider == target.provider)
        .count();
    let expected_attempts = if case.row.retryable {
        RETRIES as usize + 1
    } else {
        1
    };
    let mut problems = Vec::new();
    if attempts != expected_attempts {
        problems.push(format!("{attempts} attempts, expected {expected_attempts}"));
    }
    match case.mode {
        Mode::Transient => {
            if code(&out) != 0 {
                problems.push(format!("exit {}, expected 0", code(&out)));
            } else if let Err(e) = check_merged(&path, &target.context()) {
                problems.push(e);
            }
        }
        Mode::Persistent => {
            if code(&out) != 5 {
                problems.push(format!("exit {}, expected 5", code(&out)));
            }
            let now = std::fs::read(&path).unwrap_or_default();
            if now != EXISTING.as_bytes() {
                problems.push("the kubeconfig changed".to_string());
            }
            if case.row.retryable && !stderr(&out).contains("after 3 attempts") {
                problems.push("the error does not say it tried 3 times".to_string());
            }
        }
    }
    if let Err(e) = check_no_leftovers(&path) {
        problems.push(e);
    }
    if !stdout(&out).is_empty() {
        problems.push("something was printed on stdout".to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} / {} / {:?}: {}\n  stderr: {}",
            target.args[0],
            case.row.name,
            case.mode,
            problems.join("; "),
            stderr(&out).trim().replace('\n', "\n          ")
        ))
    }
}

/// The fetched context was added and the user's own entry survived.
fn check_merged(path: &Path, context: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("kubeconfig unreadable: {e}"))?;
    let config: serde_json::Value = kubefetch::yaml::read_first(&text)
        .map_err(|e| format!("kubeconfig does not parse: {e}"))?;
    let contexts = names(&config, "contexts");
    if contexts != ["existing", context] {
        return Err(format!("contexts are {contexts:?}"));
    }
    if config["current-context"].as_str() != Some(context) {
        return Err("current-context was not switched".to_string());
    }
    Ok(())
}

/// Only the kubeconfig itself is in its directory: no lock, no temp file.
fn check_no_leftovers(path: &Path) -> Result<(), String> {
    let dir = path.parent().expect("kubeconfig directory");
    let others: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "config")
        .collect();
    if others.is_empty() {
        Ok(())
    } else {
        Err(format!("left behind: {others:?}"))
    }
}

/// Every case of one provider, `WORKERS` at a time; reports all failures at once.
fn run_matrix(provider: Provider) {
    let target = Target::of(provider);
    let queue = Mutex::new(cases(provider));
    let total = queue.lock().unwrap().len();
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| loop {
                let Some(case) = queue.lock().unwrap().pop() else {
                    return;
                };
                if let Err(failure) = run_case(&target, &case) {
                    failures.lock().unwrap().push(failure);
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "fault matrix {provider}: {total} cases, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn tke_fault_matrix() {
    run_matrix(Provider::Tke);
}

#[test]
fn ack_fault_matrix() {
    run_matrix(Provider::Ack);
}

#[test]
fn cce_fault_matrix() {
    run_matrix(Provider::Cce);
}

#[test]
fn ucs_fault_matrix() {
    run_matrix(Provider::Ucs);
}

/// The matrix must cover every fault the issue lists for every provider: a
/// row dropped by accident would otherwise pass silently.
#[test]
fn the_matrix_covers_every_fault_of_the_issue() {
    for provider in [Provider::Tke, Provider::Ack, Provider::Cce, Provider::Ucs] {
        let all = cases(provider);
        let count = |pred: &dyn Fn(&FaultKind) -> bool, mode: Mode| {
            all.iter()
                .filter(|c| c.mode == mode && pred(&c.row.kind))
                .count()
        };
        for status in [500, 502, 503] {
            let is = |k: &FaultKind| *k == FaultKind::Status(status);
            assert_eq!(count(&is, Mode::Transient), 1, "{provider} {status}");
            assert_eq!(count(&is, Mode::Persistent), 1, "{provider} {status}");
        }
        let throttles = |k: &FaultKind| matches!(k, FaultKind::Throttle { .. });
        assert_eq!(count(&throttles, Mode::Persistent), 2, "{provider}");
        let codes = |k: &FaultKind| matches!(k, FaultKind::Error { .. });
        assert!(count(&codes, Mode::Transient) >= 1, "{provider}");
        for kind in [
            FaultKind::ResetConnection,
            FaultKind::TruncatedBody,
            FaultKind::EmptyBody,
            FaultKind::MissingFields,
            FaultKind::NotYamlKubeconfig,
            FaultKind::ExecUserKubeconfig,
            FaultKind::HttpServerKubeconfig,
            FaultKind::Oversized(OVER_THE_CAP),
        ] {
            let is = |k: &FaultKind| *k == kind;
            assert_eq!(count(&is, Mode::Persistent), 1, "{provider} {kind:?}");
        }
        let delays = |k: &FaultKind| matches!(k, FaultKind::Delay(_));
        assert_eq!(count(&delays, Mode::Persistent), 1, "{provider}");
    }
}
