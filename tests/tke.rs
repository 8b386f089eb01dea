//! `kubefetch tke` end to end against the fake cloud.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use fakecloud::{Fault, FaultKind, Provider};

const CLUSTER: &str = "cls-65r1c5nu";
const REGION: &str = "ap-guangzhou";

fn tke_fault(kind: FaultKind, times: u32) -> Fault {
    Fault {
        provider: Some(Provider::Tke),
        cluster_id: None,
        times,
        kind,
    }
}

fn tke_requests(s: &Sandbox) -> usize {
    s.cloud
        .requests()
        .iter()
        .filter(|r| matches!(r.provider, Provider::Tke))
        .count()
}

#[test]
fn fetch_merges_renames_switches_and_records_provenance() {
    let s = Sandbox::new();
    let out = s.run(&["tke", CLUSTER, "--region", REGION]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "", "stdout carries only data");
    assert!(
        stderr(&out).contains("Added context tke-cls-65r1c5nu"),
        "{}",
        stderr(&out)
    );

    let path = s.default_kubeconfig();
    let config = yaml(&path);
    let name = "tke-cls-65r1c5nu";
    assert_eq!(names(&config, "contexts"), [name]);
    assert_eq!(names(&config, "clusters"), [name]);
    assert_eq!(names(&config, "users"), [name]);
    assert_eq!(config["current-context"].as_str(), Some(name));
    assert_eq!(cluster_server(&config, name), s.cloud.kube_url(false));

    let ctx = context(&config, name);
    let ext = &ctx["context"]["extensions"][0];
    assert_eq!(ext["name"].as_str(), Some("kubefetch"));
    let p = &ext["extension"];
    assert_eq!(p["provider"].as_str(), Some("tke"));
    assert_eq!(p["clusterId"].as_str(), Some(CLUSTER));
    assert_eq!(p["region"].as_str(), Some(REGION));
    assert_eq!(p["private"].as_bool(), Some(false));
    assert!(p["fetchedAt"].as_str().unwrap().ends_with('Z'));
    // TKE certificates live 20 years; expiresAt comes from the certificate.
    let expires = p["expiresAt"].as_str().unwrap();
    let year: i32 = expires[..4].parse().unwrap();
    assert!(year >= 2045, "{expires}");

    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    assert!(!path.with_extension("lock").exists());

    // The request said which endpoint it wanted, explicitly.
    let request = s
        .cloud
        .requests()
        .into_iter()
        .find(|r| matches!(r.provider, Provider::Tke))
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"ClusterId": CLUSTER, "IsExtranet": true})
    );

    assert_kubectl_accepts(&path, name);
}

#[test]
fn a_rerun_is_idempotent() {
    let s = Sandbox::new();
    assert_code(&s.run(&["tke", CLUSTER, "--region", REGION]), 0);
    let out = s.run(&["tke", CLUSTER, "--region", REGION]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("Updated context tke-cls-65r1c5nu"),
        "{}",
        stderr(&out)
    );
    let config = yaml(&s.default_kubeconfig());
    assert_eq!(names(&config, "contexts"), ["tke-cls-65r1c5nu"]);
    assert_eq!(names(&config, "clusters"), ["tke-cls-65r1c5nu"]);
    assert_eq!(names(&config, "users"), ["tke-cls-65r1c5nu"]);
}

#[test]
fn private_fetches_the_intranet_kubeconfig_under_its_own_name() {
    let s = Sandbox::new();
    assert_code(&s.run(&["tke", CLUSTER, "--region", REGION]), 0);
    assert_code(
        &s.run(&["tke", CLUSTER, "--region", REGION, "--private"]),
        0,
    );
    let config = yaml(&s.default_kubeconfig());
    assert_eq!(
        names(&config, "contexts"),
        ["tke-cls-65r1c5nu", "tke-cls-65r1c5nu-private"]
    );
    assert_eq!(
        cluster_server(&config, "tke-cls-65r1c5nu-private"),
        s.cloud.kube_url(true)
    );
    assert_eq!(
        config["current-context"].as_str(),
        Some("tke-cls-65r1c5nu-private")
    );
    let last = s
        .cloud
        .requests()
        .into_iter()
        .rev()
        .find(|r| matches!(r.provider, Provider::Tke))
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&last.body).unwrap();
    assert_eq!(body["IsExtranet"], serde_json::json!(false));
    assert_kubectl_accepts(&s.default_kubeconfig(), "tke-cls-65r1c5nu-private");
}

#[test]
fn several_clusters_to_stdout_touch_no_file() {
    let s = Sandbox::new();
    let out = s.run(&[
        "tke",
        "cls-a",
        "cls-b",
        "--region",
        REGION,
        "--kubeconfig",
        "-",
    ]);
    assert_code(&out, 0);
    let printed: serde_json::Value = kubefetch::yaml::read_first(&stdout(&out)).unwrap();
    assert_eq!(names(&printed, "contexts"), ["tke-cls-a", "tke-cls-b"]);
    assert_eq!(printed["current-context"].as_str(), Some("tke-cls-a"));
    assert_eq!(
        context(&printed, "tke-cls-b")["context"]["extensions"][0]["extension"]["clusterId"]
            .as_str(),
        Some("cls-b")
    );
    assert!(!s.default_kubeconfig().exists());
    assert!(!s.home.path().join(".kube").exists());

    // The printed kubeconfig is self-contained: kubectl can use it as it is.
    let file = s.home.path().join("ci.yaml");
    std::fs::write(&file, stdout(&out)).unwrap();
    assert_kubectl_accepts(&file, "tke-cls-b");
}

#[test]
fn json_summary_with_a_chosen_name_and_no_switch() {
    let s = Sandbox::new();
    assert_code(&s.run(&["tke", "cls-a", "--region", REGION]), 0);
    let out = s.run(&[
        "tke",
        "cls-b",
        "--region",
        REGION,
        "--output",
        "json",
        "--no-switch",
        "--context",
        "prod",
    ]);
    assert_code(&out, 0);
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let path = s.default_kubeconfig();
    assert_eq!(summary[0]["provider"], "tke");
    assert_eq!(summary[0]["clusterId"], "cls-b");
    assert_eq!(summary[0]["status"], "ok");
    assert_eq!(summary[0]["context"], "prod");
    assert_eq!(summary[0]["kubeconfig"], path.display().to_string());
    assert_eq!(summary[0]["server"], s.cloud.kube_url(false));
    assert!(summary[0]["expiresAt"].as_str().unwrap().ends_with('Z'));
    let config = yaml(&path);
    assert_eq!(config["current-context"].as_str(), Some("tke-cls-a"));
    assert_eq!(names(&config, "contexts"), ["tke-cls-a", "prod"]);
}

#[test]
fn tccli_profile_supplies_credentials_and_region() {
    let s = Sandbox::new();
    let env: std::collections::HashMap<String, String> = s.cloud.env().into_iter().collect();
    s.write_home_file(
        ".tccli/work.credential",
        &serde_json::json!({
            "secretId": env["TENCENTCLOUD_SECRET_ID"],
            "secretKey": env["TENCENTCLOUD_SECRET_KEY"],
        })
        .to_string(),
    );
    s.write_home_file(
        ".tccli/work.configure",
        r#"{"_sys_param":{"region":"ap-shanghai"}}"#,
    );
    let out = s
        .kubefetch()
        .env_remove("TENCENTCLOUD_SECRET_ID")
        .env_remove("TENCENTCLOUD_SECRET_KEY")
        .env_remove("TENCENTCLOUD_REGION")
        .args(["tke", "cls-a", "--profile", "work"])
        .output()
        .unwrap();
    assert_code(&out, 0);
    let request = s
        .cloud
        .requests()
        .into_iter()
        .find(|r| matches!(r.provider, Provider::Tke))
        .unwrap();
    let region = request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-tc-region"))
        .unwrap();
    assert_eq!(region.1, "ap-shanghai");
    let config = yaml(&s.default_kubeconfig());
    assert_eq!(
        context(&config, "tke-cls-a")["context"]["extensions"][0]["extension"]["region"].as_str(),
        Some("ap-shanghai")
    );
}

#[test]
fn wrong_secret_is_an_auth_error_with_code_and_request_id() {
    let s = Sandbox::new();
    let before = s.write_home_file(
        ".kube/config",
        "apiVersion: v1\nkind: Config\npreferences: {}\n",
    );
    let original = std::fs::read(&before).unwrap();
    let out = s
        .kubefetch()
        .env("TENCENTCLOUD_SECRET_KEY", "not-the-right-key")
        .args(["tke", CLUSTER, "--region", REGION])
        .output()
        .unwrap();
    assert_code(&out, 3);
    let err = stderr(&out);
    assert!(err.contains("AuthFailure.Signature"), "{err}");
    assert!(err.contains("request id"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(!err.contains("not-the-right-key"));
    assert_eq!(std::fs::read(&before).unwrap(), original);
    assert_eq!(tke_requests(&s), 1, "auth failures are not retried");
}

#[test]
fn unknown_cluster_is_not_found() {
    let s = Sandbox::new();
    let out = s.run(&["tke", "cls-nope", "--region", REGION, "--output", "json"]);
    assert_code(&out, 4);
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary[0]["status"], "error");
    assert_eq!(summary[0]["error"]["kind"], "not_found");
    assert_eq!(
        summary[0]["error"]["code"],
        "ResourceNotFound.ClusterNotFound"
    );
    assert!(summary[0]["error"]["requestId"].is_string());
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn one_failure_among_several_still_writes_the_others() {
    let s = Sandbox::new();
    let out = s.run(&["tke", "cls-a", "cls-nope", "cls-b", "--region", REGION]);
    assert_code(&out, 4);
    let config = yaml(&s.default_kubeconfig());
    assert_eq!(names(&config, "contexts"), ["tke-cls-a", "tke-cls-b"]);
    assert!(
        config["current-context"].is_null(),
        "several clusters never switch"
    );
    assert!(stderr(&out).contains("cls-nope"));
}

/// Several ids without a terminal: a line per cluster as its fetch ends (the
/// delayed one last, though asked for first), then every failure in full and
/// one summary line, no success said twice; `-q` leaves the failure only; the
/// JSON summary keeps the order of the ids.
#[test]
fn several_clusters_get_a_line_each_as_they_are_fetched() {
    let s = Sandbox::new();
    let ids = [
        "tke", "cls-a", "cls-b", "cls-nope", "cls-c", "--region", REGION,
    ];
    s.answer_late("cls-a");
    let out = s.run(&ids);
    assert_code(&out, 4);
    assert_eq!(stdout(&out), "");
    let text = stderr(&out);
    assert_eq!(
        progress_ending_with(&text, 4, "fetched tke cls-a"),
        [
            "failed tke cls-nope",
            "fetched tke cls-b",
            "fetched tke cls-c"
        ],
        "{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[3].starts_with("[4/4] fetched tke cls-a as tke-cls-a (credential expires 20"),
        "the context and its expiry, known before the write: {text}"
    );
    assert!(lines[4].starts_with("error: tke cls-nope: "), "{text}");
    assert!(lines[5].starts_with("hint: "), "{text}");
    assert_eq!(
        lines[6..],
        [format!(
            "Fetched into {}: 3 added, 0 updated, 0 skipped, 1 failed",
            s.default_kubeconfig().display()
        )],
        "the progress lines stood for each success"
    );

    let quiet = s.run(&[&ids[..], &["-q"]].concat());
    assert_code(&quiet, 4);
    let text = stderr(&quiet);
    assert!(text.starts_with("error: tke cls-nope: "), "{text}");
    assert!(
        !text.contains("fetched") && !text.contains("Fetched"),
        "{text}"
    );

    s.answer_late("cls-a");
    let out = s.run(&[&ids[..], &["--output", "json"]].concat());
    assert_code(&out, 4);
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let order: Vec<&str> = summary
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["clusterId"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["cls-a", "cls-b", "cls-nope", "cls-c"]);
    assert!(
        stderr(&out).ends_with(": 0 added, 3 updated, 0 skipped, 1 failed\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn usage_errors_send_nothing() {
    let s = Sandbox::new();
    let cases: &[(&[&str], &str)] = &[
        (&["tke", CLUSTER], "no region"),
        (
            &["tke", "../etc", "--region", REGION],
            "malformed cluster id",
        ),
        (
            &["tke", "cls/x", "--region", REGION],
            "malformed cluster id",
        ),
        (
            &["tke", CLUSTER, "--region", REGION, "--ttl", "60"],
            "--ttl",
        ),
        (
            &[
                "tke",
                CLUSTER,
                "--region",
                REGION,
                "--endpoint",
                "http://203.0.113.9",
            ],
            "plain http",
        ),
        (
            &[
                "tke",
                "cls-a",
                "cls-b",
                "--region",
                REGION,
                "--context",
                "x",
            ],
            "only one cluster",
        ),
    ];
    for (args, message) in cases {
        let out = s
            .kubefetch()
            .env_remove("TENCENTCLOUD_REGION")
            .args(*args)
            .output()
            .unwrap();
        assert_code(&out, 2);
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(tke_requests(&s), 0);
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn missing_credentials_list_every_source() {
    let s = Sandbox::new();
    let out = s
        .kubefetch()
        .env_remove("TENCENTCLOUD_SECRET_ID")
        .env_remove("TENCENTCLOUD_SECRET_KEY")
        .args(["tke", CLUSTER, "--region", REGION])
        .output()
        .unwrap();
    assert_code(&out, 3);
    let err = stderr(&out);
    for source in [
        "TENCENTCLOUD_SECRET_ID",
        "~/.tccli/default.credential",
        "~/.tencentcloud/credentials",
    ] {
        assert!(err.contains(source), "{err}");
    }
    assert_eq!(tke_requests(&s), 0);
}

#[test]
fn an_invalid_existing_kubeconfig_is_left_byte_identical() {
    let s = Sandbox::new();
    let path = s.write_home_file(".kube/config", "clusters: [ this is: not yaml\n  - {");
    let original = std::fs::read(&path).unwrap();
    let out = s.run(&["tke", CLUSTER, "--region", REGION]);
    assert_code(&out, 6);
    assert_eq!(std::fs::read(&path).unwrap(), original);
    assert!(
        stderr(&out).contains(&path.display().to_string()),
        "{}",
        stderr(&out)
    );
}

/// A pid that is certainly not running: a child that has been reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// The lock line a kubefetch process `pid` of this host, boot and PID
/// namespace writes.
fn lock_line_of(pid: u32) -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap().trim().to_string();
    let pid_namespace = std::fs::read_link("/proc/self/ns/pid").unwrap();
    format!(
        "kubefetch pid={pid} host={} boot={} pidns={}\n",
        read("/proc/sys/kernel/hostname"),
        read("/proc/sys/kernel/random/boot_id"),
        pid_namespace.display()
    )
}

#[test]
fn a_held_lock_times_out_and_a_dead_ones_is_recovered() {
    let s = Sandbox::new();
    let path = s.default_kubeconfig();
    let lock = s.write_home_file(".kube/config.lock", "");
    let waiting_briefly = || {
        s.kubefetch()
            .env("KUBEFETCH_LOCK_TIMEOUT", "0.3")
            .args(["tke", CLUSTER, "--region", REGION])
            .output()
            .unwrap()
    };
    let out = waiting_briefly();
    assert_code(&out, 6);
    assert!(stderr(&out).contains("config.lock"), "{}", stderr(&out));
    assert!(!path.exists());

    // A lock whose pid alone is known proves nothing (another PID
    // namespace may have that pid): it is waited for, never taken.
    let dead = dead_pid();
    std::fs::write(&lock, format!("kubefetch pid={dead}\n")).unwrap();
    let out = waiting_briefly();
    assert_code(&out, 6);
    assert!(stderr(&out).contains("cannot tell"), "{}", stderr(&out));

    // A lock left by a kubefetch process of this host and PID namespace
    // that no longer exists is taken over.
    let dead = dead_pid();
    std::fs::write(&lock, lock_line_of(dead)).unwrap();
    let out = s.run(&["tke", CLUSTER, "--region", REGION]);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("stale"), "{}", stderr(&out));
    assert!(!lock.exists());
}

#[test]
fn foreign_entries_are_not_overwritten_without_force() {
    let s = Sandbox::new();
    let existing = "apiVersion: v1\nkind: Config\nclusters:\n- name: tke-cls-a\n  cluster:\n    server: https://mine.example:6443\ncontexts: []\nusers: []\n";
    let path = s.write_home_file(".kube/config", existing);
    let out = s.run(&["tke", "cls-a", "--region", REGION]);
    assert_code(&out, 6);
    let err = stderr(&out);
    assert!(
        err.contains("--force") && err.contains("--context"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), existing);

    assert_code(&s.run(&["tke", "cls-a", "--region", REGION, "--force"]), 0);
    assert_eq!(
        cluster_server(&yaml(&path), "tke-cls-a"),
        s.cloud.kube_url(false)
    );
}

#[test]
fn unknown_fields_namespace_and_other_entries_survive() {
    let s = Sandbox::new();
    assert_code(&s.run(&["tke", "cls-a", "--region", REGION]), 0);
    let path = s.default_kubeconfig();
    let mut config = yaml(&path);
    config["preferences"] = kubefetch::yaml::read_first("{colors: true}").unwrap();
    config["x-custom"] = serde_json::Value::from("kept");
    let contexts = config["contexts"].as_array_mut().unwrap();
    contexts[0]["context"]["namespace"] = serde_json::Value::from("team-a");
    contexts.insert(
        0,
        kubefetch::yaml::read_first(
            "{name: other, context: {cluster: other, user: other, x-field: 1}}",
        )
        .unwrap(),
    );
    std::fs::write(&path, kubefetch::yaml::to_block_yaml(&config)).unwrap();

    assert_code(&s.run(&["tke", "cls-a", "--region", REGION]), 0);
    let after = yaml(&path);
    assert_eq!(names(&after, "contexts"), ["other", "tke-cls-a"]);
    assert_eq!(
        context(&after, "tke-cls-a")["context"]["namespace"].as_str(),
        Some("team-a")
    );
    assert_eq!(
        context(&after, "other")["context"]["x-field"].as_i64(),
        Some(1)
    );
    assert_eq!(after["x-custom"].as_str(), Some("kept"));
    assert_eq!(after["preferences"]["colors"].as_bool(), Some(true));
}

#[test]
fn kubeconfig_env_list_targets_the_file_holding_the_context() {
    let s = Sandbox::new();
    let first = s.home.path().join("first.yaml");
    let second = s.home.path().join("second.yaml");
    let out = s
        .kubefetch()
        .env("KUBECONFIG", &second)
        .args(["tke", "cls-a", "--region", REGION])
        .output()
        .unwrap();
    assert_code(&out, 0);
    let list = format!("{}:{}", first.display(), second.display());
    let out = s
        .kubefetch()
        .env("KUBECONFIG", &list)
        .args(["tke", "cls-a", "--region", REGION])
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert!(
        !first.exists(),
        "the context already lived in the second file"
    );
    let out = s
        .kubefetch()
        .env("KUBECONFIG", &list)
        .args(["tke", "cls-b", "--region", REGION])
        .output()
        .unwrap();
    assert_code(&out, 0);
    // A new context goes where kubectl would put it: the first file that exists.
    assert!(!first.exists());
    assert_eq!(
        names(&yaml(&second), "contexts"),
        ["tke-cls-a", "tke-cls-b"]
    );
}

#[test]
fn a_symlinked_kubeconfig_stays_a_symlink() {
    let s = Sandbox::new();
    let real = s.write_home_file("dotfiles/kubeconfig", "apiVersion: v1\nkind: Config\n");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = s.default_kubeconfig();
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = s.run(&["tke", "cls-a", "--region", REGION]);
    assert_code(&out, 0);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(names(&yaml(&real), "contexts"), ["tke-cls-a"]);
    assert_eq!(
        std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert!(
        stderr(&out).contains("readable by"),
        "group-readable files are warned about: {}",
        stderr(&out)
    );
}

#[test]
fn persistent_server_errors_are_retried_then_fail() {
    let s = Sandbox::new();
    s.cloud.inject(tke_fault(FaultKind::Status(503), 10));
    let out = s.run(&["tke", CLUSTER, "--region", REGION, "--retries", "2"]);
    assert_code(&out, 5);
    assert_eq!(tke_requests(&s), 3);
    assert!(
        stderr(&out).contains("after 3 attempts"),
        "{}",
        stderr(&out)
    );
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn throttling_is_retried_until_it_clears() {
    let s = Sandbox::new();
    s.cloud
        .inject(tke_fault(FaultKind::Throttle { retry_after: None }, 2));
    let out = s.run(&["tke", CLUSTER, "--region", REGION]);
    assert_code(&out, 0);
    assert_eq!(tke_requests(&s), 3);
}

#[test]
fn malformed_and_hostile_answers_are_refused_and_nothing_is_written() {
    for kind in [
        FaultKind::TruncatedBody,
        FaultKind::EmptyBody,
        FaultKind::MissingFields,
        FaultKind::NotYamlKubeconfig,
        FaultKind::ExecUserKubeconfig,
        FaultKind::HttpServerKubeconfig,
        FaultKind::Oversized(6 * 1024 * 1024),
    ] {
        let s = Sandbox::new();
        let label = format!("{kind:?}");
        s.cloud.inject(tke_fault(kind, 10));
        let out = s.run(&["tke", CLUSTER, "--region", REGION, "--retries", "1"]);
        assert_code(&out, 5);
        assert!(!s.default_kubeconfig().exists(), "{label}");
        assert!(
            stderr(&out).starts_with("error: tke cls-65r1c5nu:"),
            "{label}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_disabled_access_type_is_warned_about() {
    let s = Sandbox::new();
    s.cloud.inject(tke_fault(FaultKind::UnresolvableServer, 1));
    let out = s.run(&["tke", CLUSTER, "--region", REGION]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("does not resolve"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn verbose_output_never_shows_secrets() {
    let s = Sandbox::new();
    let env: std::collections::HashMap<String, String> = s.cloud.env().into_iter().collect();
    let out = s
        .kubefetch()
        .env("TENCENTCLOUD_TOKEN", "session-token-must-not-leak")
        .args([
            "tke",
            CLUSTER,
            "--region",
            REGION,
            "-vv",
            "--kubeconfig",
            "-",
        ])
        .output()
        .unwrap();
    // The fake rejects the unknown token; what matters is what was printed.
    let err = stderr(&out);
    assert!(err.contains("debug:"), "{err}");
    assert!(!err.contains(&env["TENCENTCLOUD_SECRET_KEY"]));
    assert!(!err.contains("session-token-must-not-leak"));

    let out = s.run(&["tke", CLUSTER, "--region", REGION, "-v"]);
    assert_code(&out, 0);
    let err = stderr(&out);
    let config = yaml(&s.default_kubeconfig());
    let key = config["users"][0]["user"]["client-key-data"]
        .as_str()
        .unwrap();
    assert!(!err.contains(key));
    assert!(!err.contains(&env["TENCENTCLOUD_SECRET_KEY"]));
}

#[test]
fn help_documents_every_flag_and_env_var() {
    let s = Sandbox::new();
    let out = s.run(&["tke", "--help"]);
    assert_code(&out, 0);
    let help = stdout(&out);
    for item in [
        "--region",
        "--private",
        "--ttl",
        "--kubeconfig",
        "--context",
        "--no-switch",
        "--force",
        "--profile",
        "--endpoint",
        "--output",
        "--timeout",
        "--retries",
        "--quiet",
        "--verbose",
        "KUBEFETCH_TKE_ENDPOINT",
        "KUBEFETCH_CA_BUNDLE",
        "HTTPS_PROXY",
        "TENCENTCLOUD_SECRET_ID",
        "TCCLI_PROFILE",
        "KUBECONFIG",
    ] {
        assert!(help.contains(item), "--help lacks {item}");
    }
}

/// A write that fails (a foreign entry in the way) fails every cluster: the
/// error is said once, the summary counts each.
#[test]
fn a_failed_write_is_said_once_for_all_its_clusters() {
    let s = Sandbox::new();
    let foreign = "apiVersion: v1\nkind: Config\nclusters:\n- name: tke-cls-a\n  cluster: {server: 'https://1.2.3.4'}\ncontexts: []\nusers: []\n";
    let path = s.write_home_file(".kube/config", foreign);
    let out = s.run(&["tke", "cls-a", "cls-b", "cls-c", "--region", REGION]);
    assert_code(&out, 6);
    let text = stderr(&out);
    assert_eq!(
        text.matches("error: cannot merge into").count(),
        1,
        "{text}"
    );
    assert!(text.contains("--force"), "{text}");
    assert!(
        text.ends_with("Nothing written: 0 skipped, 3 failed\n"),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(path).unwrap(), foreign);
}
