//! The fault matrix, for every provider: each fault injected by the fake
//! cloud is retried or refused as DESIGN.md says, with the right exit code
//! and number of attempts, and the kubeconfig is byte-identical unless the
//! fetch succeeded.

mod common;

use std::time::Duration;

use common::*;
use fakecloud::fixtures::{ACK_CLUSTER, CCE_CLUSTER, UCS_CLUSTER};
use fakecloud::{Fault, FaultKind, Provider};

const EXISTING: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: keep\n  cluster:\n    server: https://keep.example:6443\n    x-unknown: kept\ncontexts:\n- name: keep\n  context:\n    cluster: keep\n    user: keep\ncurrent-context: keep\nusers:\n- name: keep\n  user:\n    token: keep-token\n";

/// Faults that are worth another attempt: server errors, throttling, the
/// network. Persistent ones fail with exit 5 after `--retries` + 1 attempts.
fn retryable() -> Vec<FaultKind> {
    vec![
        FaultKind::Status(500),
        FaultKind::Status(502),
        FaultKind::Status(503),
        FaultKind::Throttle { retry_after: None },
        FaultKind::Throttle {
            retry_after: Some(1),
        },
        FaultKind::ResetConnection,
        FaultKind::Delay(Duration::from_millis(2500)),
    ]
}

/// Answers that are wrong, not unlucky: refused at once with exit 5.
fn refused() -> Vec<FaultKind> {
    vec![
        FaultKind::TruncatedBody,
        FaultKind::EmptyBody,
        FaultKind::MissingFields,
        FaultKind::NotYamlKubeconfig,
        FaultKind::ExecUserKubeconfig,
        FaultKind::HttpServerKubeconfig,
        FaultKind::Oversized(5 * 1024 * 1024),
    ]
}

fn args(provider: Provider) -> Vec<&'static str> {
    let mut args = match provider {
        Provider::Tke => vec!["tke", "cls-a"],
        Provider::Ack => vec!["ack", ACK_CLUSTER],
        Provider::Cce => vec!["cce", CCE_CLUSTER],
        Provider::Ucs => vec!["ucs", UCS_CLUSTER],
        Provider::Iam => unreachable!("IAM is not fetched from"),
    };
    args.extend(["--retries", "2", "--timeout", "1"]);
    args
}

fn attempts(s: &Sandbox, provider: Provider) -> usize {
    s.cloud
        .requests()
        .iter()
        .filter(|r| r.provider == provider)
        .count()
}

fn run_case(
    provider: Provider,
    kind: FaultKind,
    times: u32,
) -> (std::process::Output, usize, bool) {
    let s = Sandbox::new();
    let path = s.write_home_file(".kube/config", EXISTING);
    s.cloud
        .inject(Fault::new(kind).for_provider(provider).times(times));
    let out = s.run(&args(provider));
    let untouched = std::fs::read_to_string(&path).unwrap() == EXISTING;
    (out, attempts(&s, provider), untouched)
}

fn matrix(provider: Provider) {
    for kind in retryable() {
        let label = format!("{provider:?} {kind:?}");
        let (out, tries, untouched) = run_case(provider, kind.clone(), 10);
        assert_eq!(code(&out), 5, "{label} persistent: {}", stderr(&out));
        assert_eq!(tries, 3, "{label}: one attempt and two retries");
        assert!(untouched, "{label}: the kubeconfig changed");

        let (out, tries, untouched) = run_case(provider, kind, 2);
        assert_eq!(code(&out), 0, "{label} transient: {}", stderr(&out));
        assert_eq!(tries, 3, "{label}: succeeded on the third attempt");
        assert!(!untouched, "{label}: the fetched context was not written");
    }
    for kind in refused() {
        let label = format!("{provider:?} {kind:?}");
        let (out, tries, untouched) = run_case(provider, kind, 10);
        assert_eq!(code(&out), 5, "{label}: {}", stderr(&out));
        assert_eq!(tries, 1, "{label}: a wrong answer is not asked again");
        assert!(untouched, "{label}: the kubeconfig changed");
    }
}

#[test]
fn tke_fault_matrix() {
    matrix(Provider::Tke);
}

#[test]
fn ack_fault_matrix() {
    matrix(Provider::Ack);
}

#[test]
fn cce_fault_matrix() {
    matrix(Provider::Cce);
}

#[test]
fn ucs_fault_matrix() {
    matrix(Provider::Ucs);
}
