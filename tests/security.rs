//! Secrets never reach stdout or stderr (except the kubeconfig itself with
//! `--kubeconfig -`), whatever happens: a sweep over every provider, every
//! kind of outcome and every verbosity. Plus file modes and planted files.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use fakecloud::fixtures::*;
use fakecloud::{Fault, FaultKind, Provider};

/// A scenario: its name, extra flags, a fault to inject, environment to override.
type Variant = (
    &'static str,
    Vec<&'static str>,
    Option<FaultKind>,
    Vec<(&'static str, &'static str)>,
);

/// Every secret the scenarios use; the IAM token is added when issued.
fn secrets() -> Vec<String> {
    [
        TENCENT_SECRET_KEY,
        TENCENT_TMP_SECRET_KEY,
        TENCENT_TMP_TOKEN,
        ALIBABA_ACCESS_KEY_SECRET,
        ALIBABA_STS_ACCESS_KEY_SECRET,
        ALIBABA_STS_TOKEN,
        HUAWEI_SK,
        HUAWEI_PASSWORD,
        "wrong-secret-value-0001",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn provider_args(provider: Provider) -> Vec<&'static str> {
    match provider {
        Provider::Tke => vec!["tke", TKE_CLUSTER],
        Provider::Ack => vec!["ack", ACK_CLUSTER],
        Provider::Cce => vec!["cce", CCE_CLUSTER],
        Provider::Ucs => vec!["ucs", UCS_CLUSTER],
        Provider::Iam => unreachable!("IAM is not fetched from"),
    }
}

/// The client keys of every kubeconfig kubefetch wrote in this sandbox.
fn client_keys(s: &Sandbox) -> Vec<String> {
    let path = s.default_kubeconfig();
    if !path.exists() {
        return Vec::new();
    }
    yaml(&path)["users"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|u| u["user"]["client-key-data"].as_str().map(str::to_string))
        .collect()
}

fn assert_clean(label: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{label}: a secret leaked:\n{text}"
        );
    }
}

#[test]
fn no_secret_on_any_stream_in_any_scenario() {
    let mut scenarios = 0;
    for provider in [Provider::Tke, Provider::Ack, Provider::Cce, Provider::Ucs] {
        let base = provider_args(provider);
        let variants: Vec<Variant> = vec![
            ("success", vec!["-vv"], None, vec![]),
            ("json", vec!["--output", "json", "-v"], None, vec![]),
            (
                "server error",
                vec!["-vv", "--retries", "1"],
                Some(FaultKind::Status(503)),
                vec![],
            ),
            (
                "hostile answer",
                vec!["-vv"],
                Some(FaultKind::ExecUserKubeconfig),
                vec![],
            ),
            (
                "truncated answer",
                vec!["-vv"],
                Some(FaultKind::TruncatedBody),
                vec![],
            ),
            (
                "wrong secret",
                vec!["-vv"],
                None,
                vec![
                    ("TENCENTCLOUD_SECRET_KEY", "wrong-secret-value-0001"),
                    ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "wrong-secret-value-0001"),
                    ("HUAWEICLOUD_SDK_SK", "wrong-secret-value-0001"),
                ],
            ),
        ];
        for (name, extra, fault, env) in variants {
            let s = Sandbox::new();
            if let Some(kind) = fault {
                s.cloud
                    .inject(Fault::new(kind).for_provider(provider).times(10));
            }
            let mut cmd = s.kubefetch();
            for (k, v) in env {
                cmd.env(k, v);
            }
            let out = cmd.args(&base).args(&extra).output().unwrap();
            let mut all = secrets();
            all.extend(client_keys(&s));
            let label = format!("{provider:?} {name}");
            assert_clean(&label, &stderr(&out), &all);
            assert_clean(&label, &stdout(&out), &all);
            scenarios += 1;
        }
    }
    // Huawei's password and token logins, successful and refused.
    for (password, expect) in [(HUAWEI_PASSWORD, 0), ("wrong-secret-value-0001", 3)] {
        let s = Sandbox::new();
        let out = s
            .kubefetch()
            .env_remove("HUAWEICLOUD_SDK_AK")
            .env_remove("HUAWEICLOUD_SDK_SK")
            .env("OS_USERNAME", HUAWEI_USER)
            .env("OS_PASSWORD", password)
            .env("OS_DOMAIN_NAME", HUAWEI_DOMAIN_NAME)
            .args(["cce", CCE_CLUSTER, "-vv"])
            .output()
            .unwrap();
        assert_code(&out, expect);
        let mut all = secrets();
        all.extend(client_keys(&s));
        assert_clean(
            "cce password",
            &format!("{}{}", stderr(&out), stdout(&out)),
            &all,
        );
        scenarios += 1;
    }
    let s = Sandbox::new();
    let token = s.cloud.issue_token();
    let out = s
        .kubefetch()
        .env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK")
        .env("OS_AUTH_TOKEN", &token)
        .args([
            "cce",
            CCE_CLUSTER,
            "-vv",
            "--project-id",
            HUAWEI_PROJECT_CN_NORTH_4,
        ])
        .output()
        .unwrap();
    assert_code(&out, 0);
    let mut all = secrets();
    all.push(token);
    all.extend(client_keys(&s));
    assert_clean(
        "cce token",
        &format!("{}{}", stderr(&out), stdout(&out)),
        &all,
    );
    scenarios += 1;
    eprintln!("{scenarios} scenarios swept");
}

#[test]
fn stdout_carries_the_key_only_when_the_kubeconfig_is_asked_for() {
    let s = Sandbox::new();
    let out = s.run(&["tke", TKE_CLUSTER, "--kubeconfig", "-", "-vv"]);
    assert_code(&out, 0);
    let printed: serde_yaml::Value = serde_yaml::from_str(&stdout(&out)).unwrap();
    let key = printed["users"][0]["user"]["client-key-data"]
        .as_str()
        .unwrap();
    assert!(!stderr(&out).contains(key));
    assert_clean("stdout kubeconfig", &stdout(&out), &secrets());
}

#[test]
fn new_files_are_private_and_readable_ones_are_warned_about() {
    let s = Sandbox::new();
    let path = s.home.path().join("new/dir/config");
    let out = s.run(&["tke", TKE_CLUSTER, "--kubeconfig", path.to_str().unwrap()]);
    assert_code(&out, 0);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert!(!stderr(&out).contains("readable by"));

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = s.run(&["tke", "cls-a", "--kubeconfig", path.to_str().unwrap()]);
    assert_code(&out, 0);
    assert_eq!(mode(&path), 0o644, "an existing file keeps its mode");
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
}

#[test]
fn planted_files_beside_the_kubeconfig_are_never_written_through() {
    let s = Sandbox::new();
    let dir = s.home.path().join(".kube");
    std::fs::create_dir_all(&dir).unwrap();
    let victim = s.write_home_file("victim", "precious\n");
    // Names an attacker could guess for the lock and for a temp file.
    for name in [".config.kubefetch-aaaaaa.tmp", "config.tmp", "config.new"] {
        std::os::unix::fs::symlink(&victim, dir.join(name)).unwrap();
    }
    let out = s.run(&["tke", TKE_CLUSTER]);
    assert_code(&out, 0);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!std::fs::symlink_metadata(dir.join("config"))
        .unwrap()
        .file_type()
        .is_symlink());

    // A symlink planted at the lock's name makes the lock unobtainable, never a write.
    let s = Sandbox::new();
    let victim = s.write_home_file("victim", "precious\n");
    std::fs::create_dir_all(s.home.path().join(".kube")).unwrap();
    std::os::unix::fs::symlink(&victim, s.home.path().join(".kube/config.lock")).unwrap();
    let out = s
        .kubefetch()
        .env("KUBEFETCH_LOCK_TIMEOUT", "0.2")
        .args(["tke", TKE_CLUSTER])
        .output()
        .unwrap();
    assert_code(&out, 6);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn path_tricks_in_cluster_ids_are_refused_for_every_provider() {
    let s = Sandbox::new();
    for command in ["tke", "ack", "cce", "ucs"] {
        for id in ["../x", "a/b", "..", "%2e%2e%2fx", "a\\b", "x?y=1", "x#y"] {
            let out = s.run(&[command, id]);
            assert_code(&out, 2);
        }
    }
    assert!(s.cloud.requests().is_empty(), "nothing was sent");
}
