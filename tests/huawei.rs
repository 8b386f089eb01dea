//! `kubefetch cce`, `ucs` and `ucs-agent` against the fake Huawei Cloud:
//! every authentication mode, endpoint choice, TTL, error shape, and the
//! one-time agent bundle that must never be lost.

mod common;

use std::path::Path;

use common::*;
use fakecloud::fixtures::{
    CCE_CLUSTER, CCE_PRIVATE_CLUSTER, HUAWEI_DOMAIN_ID, HUAWEI_DOMAIN_NAME, HUAWEI_PASSWORD,
    HUAWEI_PROJECTS_AP_DUP, HUAWEI_PROJECT_CN_NORTH_4, HUAWEI_PROJECT_EU_DE, HUAWEI_USER,
    UCS_ATTACHED_CLUSTER, UCS_CLUSTER,
};
use fakecloud::{Fault, FaultKind, Provider};

const UNKNOWN: &str = "99999999-1a2b-11ee-8c90-0255ac1000ff";

/// kubefetch with the password login instead of the fake's default AK/SK.
fn with_password(s: &Sandbox, password: &str) -> assert_cmd::Command {
    let mut cmd = s.kubefetch();
    cmd.env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK")
        .env("OS_USERNAME", HUAWEI_USER)
        .env("OS_PASSWORD", password)
        .env("OS_DOMAIN_NAME", HUAWEI_DOMAIN_NAME);
    cmd
}

fn with_token(s: &Sandbox, token: &str) -> assert_cmd::Command {
    let mut cmd = s.kubefetch();
    cmd.env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK")
        .env("OS_AUTH_TOKEN", token);
    cmd
}

fn cluster<'a>(config: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    config["clusters"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"].as_str() == Some(name)))
        .map(|c| &c["cluster"])
        .unwrap_or_else(|| panic!("no cluster {name}"))
}

/// The names Huawei returns never reach the user's file.
fn assert_no_provider_names(path: &Path) {
    let config = yaml(path);
    for section in ["contexts", "clusters", "users"] {
        for name in names(&config, section) {
            assert!(
                ![
                    "user",
                    "internal",
                    "external",
                    "externalTLSVerify",
                    "internalCluster",
                    "externalCluster",
                    "externalClusterTLSVerify"
                ]
                .contains(&name.as_str()),
                "{section} has {name}"
            );
        }
    }
}

/// Asserts the command failed with `code` and changed no file and sent nothing to CCE.
fn assert_refused_before_sending(s: &Sandbox, out: &std::process::Output, code: i32) {
    assert_code(out, code);
    assert!(
        !s.default_kubeconfig().exists(),
        "no kubeconfig may be written"
    );
    assert!(s.requests_to(Provider::Cce).is_empty());
}

#[test]
fn cce_fetches_the_verified_public_context_with_the_project_from_iam() {
    let s = Sandbox::new();
    let out = s.run(&["cce", CCE_CLUSTER, "--region", "cn-north-4"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "");
    let name = format!("cce-{CCE_CLUSTER}");
    assert!(
        stderr(&out).contains(&format!("Added context {name}")),
        "{}",
        stderr(&out)
    );

    let path = s.default_kubeconfig();
    let config = yaml(&path);
    assert_eq!(names(&config, "contexts"), [name.as_str()]);
    assert_eq!(names(&config, "users"), [name.as_str()]);
    assert_eq!(config["current-context"].as_str(), Some(name.as_str()));
    let written = cluster(&config, &name);
    assert_eq!(
        written["server"].as_str(),
        Some(s.cloud.kube_url(false).as_str())
    );
    assert!(written["certificate-authority-data"].is_string());
    assert!(written.get("insecure-skip-tls-verify").is_none());
    let p = &context(&config, &name)["context"]["extensions"][0]["extension"];
    assert_eq!(p["provider"].as_str(), Some("cce"));
    assert_eq!(p["clusterId"].as_str(), Some(CCE_CLUSTER));
    assert_eq!(p["region"].as_str(), Some("cn-north-4"));
    let expires = p["expiresAt"].as_str().unwrap();
    let years = expires[..4].parse::<i32>().unwrap()
        - chrono::Utc::now()
            .format("%Y")
            .to_string()
            .parse::<i32>()
            .unwrap();
    assert!((4..=5).contains(&years), "the 5-year maximum: {expires}");
    assert_no_provider_names(&path);

    let iam = s.requests_to(Provider::Iam);
    assert_eq!(iam.len(), 1);
    assert_eq!(
        (iam[0].method.as_str(), iam[0].path.as_str()),
        ("GET", "/v3/projects")
    );
    assert_eq!(iam[0].query, "name=cn-north-4");
    let cce = s.requests_to(Provider::Cce);
    assert_eq!(cce.len(), 1);
    assert_eq!(cce[0].method, "POST");
    assert_eq!(
        cce[0].path,
        format!("/api/v3/projects/{HUAWEI_PROJECT_CN_NORTH_4}/clusters/{CCE_CLUSTER}/clustercert")
    );
    assert_eq!(body_json(&cce[0]), serde_json::json!({"duration": -1}));
    assert_eq!(
        cce[0].header("x-project-id"),
        Some(HUAWEI_PROJECT_CN_NORTH_4)
    );
    assert!(cce[0]
        .header("authorization")
        .unwrap()
        .starts_with("SDK-HMAC-SHA256 Access="));
    assert_kubectl_accepts(&path, &name);
}

#[test]
fn cce_private_takes_the_internal_context_under_its_own_name() {
    let s = Sandbox::new();
    assert_code(
        &s.run(&["cce", CCE_CLUSTER, "--region", "cn-north-4", "--private"]),
        0,
    );
    let name = format!("cce-{CCE_CLUSTER}-private");
    let config = yaml(&s.default_kubeconfig());
    assert_eq!(names(&config, "contexts"), [name.as_str()]);
    assert_eq!(cluster_server(&config, &name), s.cloud.kube_url(true));
    assert_no_provider_names(&s.default_kubeconfig());
    assert_kubectl_accepts(&s.default_kubeconfig(), &name);
}

#[test]
fn cce_insecure_public_only_when_asked() {
    let s = Sandbox::new();
    let out = s.run(&[
        "cce",
        CCE_CLUSTER,
        "--region",
        "cn-north-4",
        "--insecure-skip-tls-verify",
    ]);
    assert_code(&out, 0);
    let name = format!("cce-{CCE_CLUSTER}");
    let config = yaml(&s.default_kubeconfig());
    let written = cluster(&config, &name);
    assert_eq!(written["insecure-skip-tls-verify"].as_bool(), Some(true));
    assert!(written.get("certificate-authority-data").is_none());
    assert_kubectl_accepts(&s.default_kubeconfig(), &name);
}

#[test]
fn cce_cluster_without_a_public_endpoint_points_at_private() {
    let s = Sandbox::new();
    let out = s.run(&["cce", CCE_PRIVATE_CLUSTER, "--region", "cn-north-4"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("no public endpoint"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--private"), "{}", stderr(&out));
    assert!(!s.default_kubeconfig().exists());
    assert_code(
        &s.run(&[
            "cce",
            CCE_PRIVATE_CLUSTER,
            "--region",
            "cn-north-4",
            "--private",
        ]),
        0,
    );
}

#[test]
fn otc_regions_use_their_project_and_documented_maximum() {
    let s = Sandbox::new();
    assert_code(
        &s.run(&["cce", CCE_CLUSTER, "--region", "eu-de", "--private"]),
        0,
    );
    assert_eq!(s.requests_to(Provider::Iam)[0].query, "name=eu-de");
    let cce = s.requests_to(Provider::Cce);
    assert!(
        cce[0].path.contains(HUAWEI_PROJECT_EU_DE),
        "{}",
        cce[0].path
    );
    assert_eq!(body_json(&cce[0]), serde_json::json!({"duration": 1825}));
    let config = yaml(&s.default_kubeconfig());
    let p = &context(&config, &format!("cce-{CCE_CLUSTER}-private"))["context"]["extensions"][0]
        ["extension"];
    assert_eq!(p["region"].as_str(), Some("eu-de"));
}

#[test]
fn cce_ttl_in_days_sets_duration_and_expiry() {
    let s = Sandbox::new();
    let out = s.run(&[
        "cce",
        CCE_CLUSTER,
        "--region",
        "cn-north-4",
        "--ttl",
        "7d",
        "--output",
        "json",
    ]);
    assert_code(&out, 0);
    assert_eq!(
        body_json(&s.requests_to(Provider::Cce)[0]),
        serde_json::json!({"duration": 7})
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let expires: chrono::DateTime<chrono::Utc> =
        summary[0]["expiresAt"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!((6.9..=7.1).contains(&days), "{expires}");
}

#[test]
fn cce_ttl_outside_whole_days_or_range_is_a_usage_error() {
    let s = Sandbox::new();
    for ttl in ["90m", "2000d", "1828d"] {
        let out = s.run(&["cce", CCE_CLUSTER, "--region", "cn-north-4", "--ttl", ttl]);
        assert_refused_before_sending(&s, &out, 2);
        assert!(stderr(&out).contains("--ttl"), "{ttl}: {}", stderr(&out));
    }
    let out = s.run(&["cce", CCE_CLUSTER, "--region", "eu-de", "--ttl", "1826d"]);
    assert_refused_before_sending(&s, &out, 2);
}

#[test]
fn an_explicit_project_id_skips_iam() {
    let s = Sandbox::new();
    let out = s.run(&[
        "cce",
        CCE_CLUSTER,
        "--region",
        "cn-north-4",
        "--project-id",
        HUAWEI_PROJECT_CN_NORTH_4,
    ]);
    assert_code(&out, 0);
    assert!(s.requests_to(Provider::Iam).is_empty());
}

#[test]
fn an_iam_lookup_with_several_or_no_projects_is_a_clear_error() {
    let s = Sandbox::new();
    let out = s.run(&["cce", CCE_CLUSTER, "--region", "ap-dup"]);
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("2 projects named ap-dup"), "{err}");
    assert!(
        err.contains(HUAWEI_PROJECTS_AP_DUP[0]) && err.contains("--project-id"),
        "{err}"
    );
    let out = s.run(&["cce", CCE_CLUSTER, "--region", "xx-nowhere-1"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("no project named xx-nowhere-1"),
        "{}",
        stderr(&out)
    );
    assert!(s.requests_to(Provider::Cce).is_empty());
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn a_token_is_sent_as_x_auth_token() {
    let s = Sandbox::new();
    let token = s.cloud.issue_token();
    let out = with_token(&s, &token)
        .args([
            "cce",
            CCE_CLUSTER,
            "--region",
            "cn-north-4",
            "--project-id",
            HUAWEI_PROJECT_CN_NORTH_4,
        ])
        .output()
        .unwrap();
    assert_code(&out, 0);
    let cce = s.requests_to(Provider::Cce);
    assert_eq!(cce[0].header("x-auth-token"), Some(token.as_str()));
    assert!(cce[0].header("authorization").is_none());
    assert!(
        !stderr(&out).contains(&token),
        "the token must never be printed"
    );

    s.cloud.expire_tokens();
    let before = std::fs::read(s.default_kubeconfig()).unwrap();
    let out = with_token(&s, &token)
        .args([
            "cce",
            CCE_CLUSTER,
            "--region",
            "cn-north-4",
            "--project-id",
            HUAWEI_PROJECT_CN_NORTH_4,
            "--context",
            "other",
        ])
        .output()
        .unwrap();
    assert_code(&out, 3);
    assert!(stderr(&out).contains("APIGW.0307"), "{}", stderr(&out));
    assert_eq!(std::fs::read(s.default_kubeconfig()).unwrap(), before);
}

#[test]
fn a_password_is_exchanged_at_iam_for_a_project_token() {
    let s = Sandbox::new();
    let out = with_password(&s, HUAWEI_PASSWORD)
        .args(["cce", CCE_CLUSTER, "--region", "cn-north-4", "-v"])
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert!(
        !stderr(&out).contains(HUAWEI_PASSWORD),
        "the password must never be printed"
    );
    let iam = s.requests_to(Provider::Iam);
    assert_eq!(iam.len(), 1, "the token names its project: no lookup");
    assert_eq!(iam[0].path, "/v3/auth/tokens");
    assert_eq!(
        body_json(&iam[0])["auth"]["scope"],
        serde_json::json!({"project": {"name": "cn-north-4"}})
    );
    let cce = s.requests_to(Provider::Cce);
    assert!(cce[0].header("x-auth-token").is_some());
    assert_eq!(
        cce[0].header("x-project-id"),
        Some(HUAWEI_PROJECT_CN_NORTH_4)
    );
}

#[test]
fn a_wrong_password_is_asked_once_and_exits_3() {
    let s = Sandbox::new();
    let out = with_password(&s, "wrong")
        .args([
            "cce",
            CCE_CLUSTER,
            "4d5e6f70-1a2b-11ee-8c90-0255ac100002",
            "--region",
            "cn-north-4",
        ])
        .output()
        .unwrap();
    assert_code(&out, 3);
    assert!(stderr(&out).contains("OS_PASSWORD"), "{}", stderr(&out));
    assert_eq!(
        s.requests_to(Provider::Iam).len(),
        1,
        "never repeat a wrong password"
    );
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn a_wrong_secret_key_exits_3_and_names_the_request() {
    let s = Sandbox::new();
    let out = s
        .kubefetch()
        .env("HUAWEICLOUD_SDK_SK", "not-the-secret")
        .args([
            "cce",
            CCE_CLUSTER,
            "--region",
            "cn-north-4",
            "--project-id",
            HUAWEI_PROJECT_CN_NORTH_4,
        ])
        .output()
        .unwrap();
    assert_code(&out, 3);
    let err = stderr(&out);
    assert!(
        err.contains("APIGW.0301") && err.contains("request id"),
        "{err}"
    );
    assert!(!err.contains("not-the-secret"));
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn an_unknown_cluster_exits_4() {
    let s = Sandbox::new();
    let out = s.run(&["cce", UNKNOWN, "--region", "cn-north-4"]);
    assert_code(&out, 4);
    let err = stderr(&out);
    assert!(
        err.contains("CCE.01404001") && err.contains(UNKNOWN),
        "{err}"
    );
    let out = s.run(&["ucs", UNKNOWN]);
    assert_code(&out, 4);
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn bad_input_is_refused_before_any_request() {
    let s = Sandbox::new();
    let out = s
        .kubefetch()
        .env_remove("OS_REGION_NAME")
        .args(["cce", CCE_CLUSTER])
        .output()
        .unwrap();
    assert_refused_before_sending(&s, &out, 2);
    assert!(stderr(&out).contains("--region"), "{}", stderr(&out));
    for id in ["cls-65r1c5nu", "4d5e6f70-1a2b-11ee-8c90"] {
        let out = s.run(&["cce", id, "--region", "cn-north-4"]);
        assert_refused_before_sending(&s, &out, 2);
        assert!(stderr(&out).contains("expected a UUID"), "{}", stderr(&out));
        assert_code(&s.run(&["ucs", id]), 2);
    }
    assert_code(&s.run(&["ucs", UCS_CLUSTER, "--ttl", "1d"]), 2);
    assert!(s.cloud.requests().is_empty());
}

#[test]
fn a_deployment_with_only_the_legacy_get_is_used_once() {
    let s = Sandbox::new();
    s.cloud
        .inject(Fault::new(FaultKind::LegacyOnly).for_provider(Provider::Cce));
    assert_code(&s.run(&["cce", CCE_CLUSTER, "--region", "cn-north-4"]), 0);
    let methods: Vec<String> = s
        .requests_to(Provider::Cce)
        .into_iter()
        .map(|r| r.method)
        .collect();
    assert_eq!(methods, ["POST", "GET"]);
}

#[test]
fn throttling_and_server_errors_are_retried() {
    let s = Sandbox::new();
    s.cloud
        .inject(Fault::new(FaultKind::Throttle { retry_after: None }).for_provider(Provider::Cce));
    s.cloud
        .inject(Fault::new(FaultKind::Status(503)).for_provider(Provider::Cce));
    assert_code(&s.run(&["cce", CCE_CLUSTER, "--region", "cn-north-4"]), 0);
    let statuses: Vec<u16> = s
        .requests_to(Provider::Cce)
        .into_iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [429, 503, 200]);
}

#[test]
fn ucs_fetches_with_the_domain_id_from_iam() {
    let s = Sandbox::new();
    let out = s.run(&["ucs", UCS_CLUSTER]);
    assert_code(&out, 0);
    let name = format!("ucs-{UCS_CLUSTER}");
    let config = yaml(&s.default_kubeconfig());
    assert_eq!(names(&config, "contexts"), [name.as_str()]);
    assert!(cluster(&config, &name)
        .get("insecure-skip-tls-verify")
        .is_none());
    let p = &context(&config, &name)["context"]["extensions"][0]["extension"];
    assert_eq!(p["provider"].as_str(), Some("ucs"));
    let iam = s.requests_to(Provider::Iam);
    assert_eq!(iam[0].path, "/v3/auth/domains");
    let ucs = s.requests_to(Provider::Ucs);
    assert_eq!((ucs[0].method.as_str(), ucs[0].status), ("POST", 201));
    assert_eq!(ucs[0].header("x-domain-id"), Some(HUAWEI_DOMAIN_ID));
    assert_no_provider_names(&s.default_kubeconfig());
    assert_kubectl_accepts(&s.default_kubeconfig(), &name);
}

#[test]
fn ucs_insecure_accepts_the_string_true() {
    let s = Sandbox::new();
    let out = s
        .kubefetch()
        .env("HUAWEICLOUD_SDK_DOMAIN_ID", HUAWEI_DOMAIN_ID)
        .args([
            "ucs",
            UCS_CLUSTER,
            "--insecure-skip-tls-verify",
            "--kubeconfig",
            "-",
        ])
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert!(s.requests_to(Provider::Iam).is_empty());
    let printed: serde_json::Value = kubefetch::yaml::read_first(&stdout(&out)).unwrap();
    let name = format!("ucs-{UCS_CLUSTER}");
    assert_eq!(
        cluster(&printed, &name)["insecure-skip-tls-verify"].as_bool(),
        Some(true)
    );
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn ucs_with_a_password_uses_an_account_token() {
    let s = Sandbox::new();
    let out = with_password(&s, HUAWEI_PASSWORD)
        .args(["ucs", UCS_CLUSTER, "--private"])
        .output()
        .unwrap();
    assert_code(&out, 0);
    let iam = s.requests_to(Provider::Iam);
    assert_eq!(
        body_json(&iam[0])["auth"]["scope"],
        serde_json::json!({"domain": {"name": HUAWEI_DOMAIN_NAME}})
    );
    assert!(s.requests_to(Provider::Ucs)[0]
        .header("x-auth-token")
        .is_some());
}

fn agent_docs(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    kubefetch::yaml::read_all(&text).unwrap()
}

#[test]
fn ucs_agent_saves_the_bundle_once_as_private_yaml() {
    let s = Sandbox::new();
    let out_path = s.home.path().join("proxy-agent.yaml");
    let out = s.run(&[
        "ucs-agent",
        UCS_ATTACHED_CLUSTER,
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("kubectl apply -f"),
        "{}",
        stderr(&out)
    );
    let docs = agent_docs(&out_path);
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Deployment", "Secret"]);
    assert!(docs[1]["data"]["tls.key"].is_string());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(!stderr(&out).contains(docs[1]["data"]["tls.key"].as_str().unwrap()));

    let before = std::fs::read(&out_path).unwrap();
    let again = s.run(&[
        "ucs-agent",
        UCS_ATTACHED_CLUSTER,
        "--out",
        out_path.to_str().unwrap(),
        "--force",
    ]);
    assert_code(&again, 4);
    assert!(
        stderr(&again).contains("already downloaded"),
        "{}",
        stderr(&again)
    );
    assert!(stderr(&again).contains("re-register"), "{}", stderr(&again));
    assert_eq!(
        std::fs::read(&out_path).unwrap(),
        before,
        "the first bundle is untouched"
    );
    let leftovers = std::fs::read_dir(s.home.path()).unwrap().filter(|e| {
        e.as_ref()
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".kubefetch-ucs-agent")
    });
    assert_eq!(leftovers.count(), 0);
}

#[test]
fn ucs_agent_refuses_a_destination_it_cannot_use_before_downloading() {
    let s = Sandbox::new();
    let existing = s.write_home_file("agent.yaml", "mine\n");
    let out = s.run(&[
        "ucs-agent",
        UCS_ATTACHED_CLUSTER,
        "--out",
        existing.to_str().unwrap(),
    ]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "mine\n");
    let missing = s.home.path().join("no/such/dir/agent.yaml");
    let out = s.run(&[
        "ucs-agent",
        UCS_ATTACHED_CLUSTER,
        "--out",
        missing.to_str().unwrap(),
    ]);
    assert_code(&out, 2);
    assert!(
        s.requests_to(Provider::Ucs).is_empty(),
        "nothing may be downloaded"
    );

    let fresh = s.home.path().join("fresh.yaml");
    assert_code(
        &s.run(&[
            "ucs-agent",
            UCS_ATTACHED_CLUSTER,
            "--out",
            fresh.to_str().unwrap(),
        ]),
        0,
    );
}

#[test]
fn ucs_agent_reports_the_downloaded_marker_and_sends_private_access() {
    let s = Sandbox::new();
    s.cloud
        .inject(Fault::new(FaultKind::DownloadedMarker).for_provider(Provider::Ucs));
    let out_path = s.home.path().join("a.yaml");
    let out = s.run(&[
        "ucs-agent",
        UCS_ATTACHED_CLUSTER,
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert_code(&out, 4);
    assert!(stderr(&out).contains("re-register"), "{}", stderr(&out));
    assert!(!out_path.exists());

    let out = s.run(&[
        "ucs-agent",
        UCS_ATTACHED_CLUSTER,
        "--out",
        out_path.to_str().unwrap(),
        "--vpc-endpoint",
        "10.0.0.5",
    ]);
    assert_code(&out, 2);
    let out = s.run(&[
        "ucs-agent",
        UCS_ATTACHED_CLUSTER,
        "--out",
        out_path.to_str().unwrap(),
        "--vpc-endpoint",
        "10.0.0.5",
        "--region",
        "cn-north-4",
    ]);
    assert_code(&out, 0);
    let last = s.requests_to(Provider::Ucs).pop().unwrap();
    assert_eq!(last.query, "region=cn-north-4&vpcendpoint=10.0.0.5");
}

#[test]
fn ucs_agent_on_a_cce_cluster_points_at_cce() {
    let s = Sandbox::new();
    let out_path = s.home.path().join("a.yaml");
    let out = s.run(&[
        "ucs-agent",
        CCE_CLUSTER,
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert_code(&out, 5);
    assert!(stderr(&out).contains("kubefetch cce"), "{}", stderr(&out));
    assert!(!out_path.exists());
}
