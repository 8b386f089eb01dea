//! `--exec`, `kubefetch credential` and the exec-credential cache
//! (DESIGN.md section 8) end to end: real kubectl through the exec user
//! against the fake cloud's TLS API server, the cache's files, and what
//! concurrent cold calls cost.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use fakecloud::{fixtures, Fault, FaultKind, Provider};

const TKE: &str = fixtures::TKE_CLUSTER;
const ACK: &str = fixtures::ACK_CLUSTER;
const CCE: &str = fixtures::CCE_CLUSTER;
const UCS: &str = fixtures::UCS_CLUSTER;

fn requests_to(s: &Sandbox, provider: Provider) -> usize {
    s.cloud
        .requests()
        .iter()
        .filter(|r| r.provider == provider)
        .count()
}

fn cache_dir(s: &Sandbox) -> PathBuf {
    s.home.path().join(".kube/cache/kubefetch")
}

/// The cache's entry files (not locks or temporaries).
fn entries(s: &Sandbox) -> Vec<String> {
    let dir = cache_dir(s);
    if !dir.exists() {
        return Vec::new();
    }
    dir_entries(&dir)
        .into_iter()
        .filter(|name| name.ends_with(".json"))
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn user<'a>(config: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    config["users"]
        .as_array()
        .and_then(|users| users.iter().find(|u| u["name"] == name))
        .map(|u| &u["user"])
        .unwrap_or_else(|| panic!("no user {name}"))
}

/// kubectl with the environment a user's shell would give it: the
/// provider credentials the exec plugin reads, and nothing of the test's.
fn kubectl(s: &Sandbox, kubectl: &Path, kubeconfig: &Path, context: &str) -> Command {
    let mut cmd = Command::new(kubectl);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", s.home.path())
        .envs(s.cloud.env())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--context", context, "get", "--raw", "/version"]);
    cmd
}

fn assert_no_secret(text: &str) {
    for secret in [
        fixtures::TENCENT_SECRET_KEY,
        fixtures::ALIBABA_ACCESS_KEY_SECRET,
        fixtures::HUAWEI_SK,
        "PRIVATE KEY",
    ] {
        assert!(!text.contains(secret), "a secret on stderr:\n{text}");
    }
}

#[test]
fn every_provider_writes_an_exec_user_that_kubectl_runs_from_the_cache() {
    let s = Sandbox::new();
    let kubeconfig = s.default_kubeconfig();
    let binary = assert_cmd::cargo::cargo_bin("kubefetch");
    for (provider, id, extra, region, ttl) in [
        ("tke", TKE, &[][..], Some(fixtures::TENCENT_REGION), None),
        (
            "ack",
            ACK,
            &[][..],
            Some(fixtures::ALIBABA_REGION),
            Some("60"),
        ),
        (
            "cce",
            CCE,
            &[][..],
            Some(fixtures::HUAWEI_REGION),
            Some("1440"),
        ),
        ("ucs", UCS, &["--private"][..], None, None),
    ] {
        let out = s
            .kubefetch()
            .args([provider, id, "--exec", "--no-switch"])
            .args(extra)
            .output()
            .unwrap();
        assert_code(&out, 0);
        assert_no_secret(&stderr(&out));
        let name = if extra.is_empty() {
            format!("{provider}-{id}")
        } else {
            format!("{provider}-{id}-private")
        };
        let config = yaml(&kubeconfig);
        let entry = user(&config, &name);
        assert!(
            entry.get("client-key-data").is_none()
                && entry.get("client-certificate-data").is_none(),
            "{entry}"
        );
        let exec = &entry["exec"];
        assert_eq!(exec["apiVersion"], "client.authentication.k8s.io/v1");
        assert_eq!(exec["command"], binary.to_str().unwrap());
        assert_eq!(exec["interactiveMode"], "Never");
        assert_eq!(exec["provideClusterInfo"], false);
        assert!(exec["installHint"].as_str().unwrap().contains("kubefetch"));
        assert!(
            exec.get("env").is_none(),
            "the identity comes from kubectl's environment"
        );
        let mut args = vec!["credential", provider, id];
        if let Some(region) = region {
            args.extend(["--region", region]);
        }
        args.extend(extra);
        if let Some(ttl) = ttl {
            args.extend(["--ttl", ttl]);
        }
        assert_eq!(exec["args"], serde_json::json!(args), "{provider}");
        let provenance = &context(&config, &name)["context"]["extensions"][0]["extension"];
        assert_eq!(provenance["exec"], true);
        assert_eq!(
            provenance["ttl"].as_u64().map(|t| t.to_string()).as_deref(),
            ttl,
            "{provider}: the effective ttl is recorded"
        );

        let before = s.cloud.requests().len();
        let Some(kubectl_path) = common::kubectl() else {
            continue;
        };
        let version = kubectl(&s, &kubectl_path, &kubeconfig, &name)
            .output()
            .unwrap();
        assert!(version.status.success(), "{provider}: {}", stderr(&version));
        assert!(
            stdout(&version).contains("gitVersion"),
            "{}",
            stdout(&version)
        );
        assert_eq!(
            s.cloud.requests().len(),
            before,
            "{provider}: the fetch filled the cache, so kubectl's call asks nothing"
        );
    }
    assert_eq!(entries(&s).len(), 4, "{:?}", entries(&s));
    assert_eq!(mode(&cache_dir(&s)), 0o700);
    for entry in entries(&s) {
        assert_eq!(mode(&cache_dir(&s).join(&entry)), 0o600, "{entry}");
    }

    // A re-run replaces kubefetch's own exec users in place.
    let out = s.run(&["ack", ACK, "--exec", "--ttl", "2h"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("Updated context ack-"),
        "{}",
        stderr(&out)
    );
    let config = yaml(&kubeconfig);
    assert_eq!(names(&config, "users").len(), 4);
    assert_eq!(
        user(&config, &format!("ack-{ACK}"))["exec"]["args"][6],
        "120"
    );
}

#[test]
fn credential_prints_one_exec_credential_and_serves_it_from_the_cache() {
    let s = Sandbox::new();
    let args = ["credential", "ack", ACK, "--ttl", "60", "-v"];
    let first = s.run(&args);
    assert_code(&first, 0);
    assert_no_secret(&stderr(&first));
    let credential: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(credential["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(credential["kind"], "ExecCredential");
    let status = &credential["status"];
    assert!(status["clientCertificateData"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(status["clientKeyData"]
        .as_str()
        .unwrap()
        .contains("PRIVATE KEY-----"));
    assert!(status["expirationTimestamp"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(requests_to(&s, Provider::Ack), 1);
    assert_eq!(entries(&s).len(), 1);

    let second = s
        .kubefetch()
        .args(args)
        .env(
            "KUBERNETES_EXEC_INFO",
            r#"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":false}}"#,
        )
        .output()
        .unwrap();
    assert_code(&second, 0);
    assert_eq!(requests_to(&s, Provider::Ack), 1, "served from the cache");
    let again: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(again["apiVersion"], "client.authentication.k8s.io/v1beta1");
    assert_eq!(again["status"], credential["status"]);
    assert!(
        stderr(&second).contains("served from"),
        "{}",
        stderr(&second)
    );
    assert_no_secret(&stderr(&second));
    assert!(
        !s.default_kubeconfig().exists(),
        "credential never touches a kubeconfig"
    );
}

#[test]
fn two_identities_on_one_cluster_get_two_entries() {
    let s = Sandbox::new();
    let first = s.run(&["credential", "tke", TKE]);
    assert_code(&first, 0);
    let second = s
        .kubefetch()
        .args(["credential", "tke", TKE])
        .env("TENCENTCLOUD_SECRET_ID", fixtures::TENCENT_TMP_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", fixtures::TENCENT_TMP_SECRET_KEY)
        .env("TENCENTCLOUD_TOKEN", fixtures::TENCENT_TMP_TOKEN)
        .output()
        .unwrap();
    assert_code(&second, 0);
    assert_eq!(
        requests_to(&s, Provider::Tke),
        2,
        "the other identity is a miss"
    );
    let files = entries(&s);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| f.starts_with(&format!("tke-{TKE}-"))));
    for file in &files {
        let text = std::fs::read_to_string(cache_dir(&s).join(file)).unwrap();
        for secret in [
            fixtures::TENCENT_SECRET_KEY,
            fixtures::TENCENT_TMP_SECRET_KEY,
            fixtures::TENCENT_TMP_TOKEN,
        ] {
            assert!(
                !text.contains(secret),
                "an entry holds the credential, not the keys"
            );
        }
    }
    // Each identity is served its own entry.
    assert_code(&s.run(&["credential", "tke", TKE]), 0);
    assert_eq!(requests_to(&s, Provider::Tke), 2);
}

#[test]
fn a_corrupt_entry_is_a_miss_and_is_replaced() {
    let s = Sandbox::new();
    assert_code(&s.run(&["credential", "tke", TKE]), 0);
    let path = cache_dir(&s).join(&entries(&s)[0]);
    std::fs::write(&path, "{\"clientCertificateData\": trunc").unwrap();
    let out = s.run(&["credential", "tke", TKE]);
    assert_code(&out, 0);
    assert_eq!(requests_to(&s, Provider::Tke), 2);
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(stored["expirationTimestamp"].is_string());
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn thirty_two_kubectl_calls_on_a_cold_cache_make_one_request() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("exec.yaml");
    let out = s.run(&[
        "ack",
        ACK,
        "--exec",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ]);
    assert_code(&out, 0);
    std::fs::remove_dir_all(cache_dir(&s)).unwrap();
    let before = requests_to(&s, Provider::Ack);
    let context = format!("ack-{ACK}");
    let kubectl_path = common::kubectl();
    let children: Vec<_> = (0..32)
        .map(|_| {
            let mut cmd = match &kubectl_path {
                Some(path) => kubectl(&s, path, &kubeconfig, &context),
                // Without kubectl, what it would run.
                None => {
                    let mut cmd = s.command();
                    cmd.args(["credential", "ack", ACK, "--ttl", "60"]);
                    cmd
                }
            };
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert_code(out, 0);
        assert_no_secret(&stderr(out));
    }
    assert_eq!(
        requests_to(&s, Provider::Ack) - before,
        1,
        "one fetch, the other 31 waited for its entry"
    );
    assert_eq!(entries(&s).len(), 1);
    assert_eq!(
        dir_entries(&cache_dir(&s)),
        entries(&s),
        "no lock or temporary file is left"
    );
}

#[test]
fn bad_input_fails_with_the_contract_code_empty_stdout_and_no_entry() {
    let s = Sandbox::new();
    for (args, env, code) in [
        // No credentials.
        (
            vec!["credential", "tke", TKE],
            vec![
                ("TENCENTCLOUD_SECRET_ID", ""),
                ("TENCENTCLOUD_SECRET_KEY", ""),
            ],
            3,
        ),
        // A wrong key.
        (
            vec!["credential", "tke", TKE],
            vec![("TENCENTCLOUD_SECRET_KEY", "wrong-key-000000000000000000000")],
            3,
        ),
        // An unknown cluster.
        (
            vec!["credential", "ack", "c0000000000000000000000000000"],
            vec![],
            4,
        ),
        // Usage: no request at all.
        (vec!["credential", "gke", "x"], vec![], 2),
        (vec!["credential", "tke", "../etc"], vec![], 2),
        (vec!["credential", "cce", "not-a-uuid"], vec![], 2),
        (vec!["credential", "tke", TKE, "--ttl", "60"], vec![], 2),
        (vec!["credential", "ack", ACK, "--ttl", "5"], vec![], 2),
    ] {
        let before = s.cloud.requests().len();
        let out = s.kubefetch().args(&args).envs(env).output().unwrap();
        assert_code(&out, code);
        assert_eq!(stdout(&out), "", "{args:?}");
        assert!(stderr(&out).contains("error"), "{args:?}: {}", stderr(&out));
        assert_no_secret(&stderr(&out));
        assert!(entries(&s).is_empty(), "{args:?}: {:?}", entries(&s));
        if code == 2 {
            assert_eq!(s.cloud.requests().len(), before, "{args:?} sent a request");
        }
    }
    let wrong = s
        .kubefetch()
        .args(["credential", "tke", TKE])
        .env("TENCENTCLOUD_SECRET_KEY", "wrong-key-000000000000000000000")
        .output()
        .unwrap();
    assert!(!stderr(&wrong).contains("wrong-key"), "{}", stderr(&wrong));
}

#[test]
fn an_unusable_cache_directory_still_prints_the_credential_with_a_warning() {
    let s = Sandbox::new();
    let blocker = s.home.path().join("not-a-directory");
    std::fs::write(&blocker, "").unwrap();
    let out = s
        .kubefetch()
        .args(["credential", "tke", TKE])
        .env("KUBECACHEDIR", &blocker)
        .output()
        .unwrap();
    assert_code(&out, 0);
    let credential: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(credential["kind"], "ExecCredential");
    assert!(
        stderr(&out).contains("warning: cannot use the credential cache"),
        "{}",
        stderr(&out)
    );
    assert_no_secret(&stderr(&out));
}

#[test]
fn the_cache_follows_kubecachedir_and_the_exec_command_its_variable() {
    let s = Sandbox::new();
    let cache = s.home.path().join("elsewhere");
    let out = s
        .kubefetch()
        .args(["tke", TKE, "--exec", "--kubeconfig", "-"])
        .env("KUBECACHEDIR", &cache)
        .env("KUBEFETCH_EXEC_COMMAND", "kubefetch")
        .output()
        .unwrap();
    assert_code(&out, 0);
    let printed = kubefetch::yaml::read_first(&stdout(&out)).unwrap();
    let entry = user(&printed, &format!("tke-{TKE}"));
    assert_eq!(entry["exec"]["command"], "kubefetch");
    assert!(entry.get("client-key-data").is_none());
    assert!(!stdout(&out).contains("PRIVATE KEY"));
    assert_eq!(dir_entries(&cache.join("kubefetch")).len(), 1);
    assert!(!cache_dir(&s).exists());
}

#[test]
fn list_refresh_and_remove_know_exec_contexts_and_their_cache() {
    let s = Sandbox::new();
    assert_code(&s.run(&["ack", ACK, "--exec", "--ttl", "3h"]), 0);
    let name = format!("ack-{ACK}");
    let listed = s.run(&["list", "--output", "json"]);
    assert_code(&listed, 0);
    let rows: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(rows[0]["exec"], true);
    let expires = rows[0]["expiresAt"].as_str().unwrap().to_string();
    let table = stdout(&s.run(&["list"]));
    assert!(
        table.lines().nth(1).unwrap().contains("   exec   "),
        "{table}"
    );

    // The cache entry is what list shows, and what refresh refills.
    std::fs::remove_dir_all(cache_dir(&s)).unwrap();
    let before = requests_to(&s, Provider::Ack);
    let out = s.run(&["refresh", &name]);
    assert_code(&out, 0);
    assert_eq!(requests_to(&s, Provider::Ack), before + 1);
    assert_eq!(entries(&s).len(), 1);
    let config = yaml(&s.default_kubeconfig());
    assert!(user(&config, &name)["exec"]["args"]
        .as_array()
        .unwrap()
        .contains(&"180".into()));
    assert!(user(&config, &name).get("client-key-data").is_none());
    let rows: serde_json::Value =
        serde_json::from_slice(&s.run(&["list", "--output", "json"]).stdout).unwrap();
    assert!(rows[0]["expiresAt"].as_str().unwrap() >= expires.as_str());

    let out = s.run(&["remove", &name]);
    assert_code(&out, 0);
    assert!(entries(&s).is_empty(), "{:?}", entries(&s));
}

#[test]
fn a_provider_answer_that_runs_a_command_stays_refused() {
    let s = Sandbox::new();
    for args in [vec!["tke", TKE, "--exec"], vec!["credential", "tke", TKE]] {
        s.cloud.inject(Fault {
            provider: Some(Provider::Tke),
            cluster_id: None,
            times: 1,
            kind: FaultKind::ExecUserKubeconfig,
        });
        let out = s.run(&args);
        assert_code(&out, 5);
        assert_eq!(stdout(&out), "", "{args:?}");
        assert!(stderr(&out).contains("runs a command"), "{}", stderr(&out));
        assert!(entries(&s).is_empty(), "{args:?}: {:?}", entries(&s));
    }
    assert!(!s.default_kubeconfig().exists());
}
