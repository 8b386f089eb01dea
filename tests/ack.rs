//! `kubefetch ack` end to end against the fake cloud.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use fakecloud::fixtures::{
    ACK_CLUSTER, ALIBABA_ACCESS_KEY_ID, ALIBABA_ACCESS_KEY_SECRET, ALIBABA_REGION,
    ALIBABA_STS_ACCESS_KEY_ID, ALIBABA_STS_ACCESS_KEY_SECRET, ALIBABA_STS_TOKEN,
};
use fakecloud::{Fault, FaultKind, Provider, Recorded};

const NAME: &str = "ack-c5b5e80b0b64a4bf6939d2d8fbbc5";

fn ack_fault(kind: FaultKind, times: u32) -> Fault {
    Fault::new(kind).for_provider(Provider::Ack).times(times)
}

fn ack_requests(s: &Sandbox) -> Vec<Recorded> {
    s.cloud
        .requests()
        .into_iter()
        .filter(|r| r.provider == Provider::Ack)
        .collect()
}

fn provenance<'a>(config: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let ext = &context(config, name)["context"]["extensions"][0];
    assert_eq!(ext["name"].as_str(), Some("kubefetch"));
    &ext["extension"]
}

fn time(value: &serde_json::Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a timestamp"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// Runs kubefetch without any Alibaba credentials in the environment.
fn without_env_keys(s: &Sandbox) -> assert_cmd::Command {
    let mut cmd = s.kubefetch();
    cmd.env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .env_remove("ALIBABA_CLOUD_REGION_ID");
    cmd
}

#[test]
fn fetch_merges_renames_switches_and_records_the_api_expiration() {
    let s = Sandbox::new();
    let before = Utc::now();
    let out = s.run(&["ack", ACK_CLUSTER, "--region", ALIBABA_REGION]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "", "stdout carries only data");
    assert!(
        stderr(&out).contains(&format!("Added context {NAME}")),
        "{}",
        stderr(&out)
    );

    let path = s.default_kubeconfig();
    let config = yaml(&path);
    assert_eq!(names(&config, "contexts"), [NAME]);
    assert_eq!(names(&config, "clusters"), [NAME]);
    assert_eq!(names(&config, "users"), [NAME]);
    assert_eq!(config["current-context"].as_str(), Some(NAME));
    assert_eq!(cluster_server(&config, NAME), s.cloud.kube_url(false));

    let p = provenance(&config, NAME);
    assert_eq!(p["provider"].as_str(), Some("ack"));
    assert_eq!(p["clusterId"].as_str(), Some(ACK_CLUSTER));
    assert_eq!(p["region"].as_str(), Some(ALIBABA_REGION));
    assert_eq!(p["private"].as_bool(), Some(false));
    // Without --ttl ACK issues its long default validity (about three years).
    let expires = time(&p["expiresAt"]);
    assert!(expires > before + Duration::days(365 * 2), "{expires}");

    let requests = ack_requests(&s);
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, format!("/k8s/{ACK_CLUSTER}/user_config"));
    assert_eq!(r.query, "PrivateIpAddress=false");
    let auth = r.header("authorization").unwrap();
    assert!(
        auth.starts_with(&format!(
            "ACS3-HMAC-SHA256 Credential={ALIBABA_ACCESS_KEY_ID},"
        )),
        "{auth}"
    );
    assert_eq!(
        r.header("x-acs-action"),
        Some("DescribeClusterUserKubeconfig")
    );
    assert_eq!(r.header("x-acs-version"), Some("2015-12-15"));
    assert!(r.header("x-acs-security-token").is_none());

    assert_kubectl_accepts(&path, NAME);
}

#[test]
fn private_with_a_ttl_asks_for_both_and_records_the_expiration() {
    let s = Sandbox::new();
    let before = Utc::now();
    let out = s.run(&["ack", ACK_CLUSTER, "--private", "--ttl", "60"]);
    assert_code(&out, 0);
    let after = Utc::now();
    let name = format!("{NAME}-private");
    let config = yaml(&s.default_kubeconfig());
    assert_eq!(names(&config, "contexts"), [name.as_str()]);
    assert_eq!(cluster_server(&config, &name), s.cloud.kube_url(true));
    let p = provenance(&config, &name);
    assert_eq!(p["private"].as_bool(), Some(true));
    let expires = time(&p["expiresAt"]);
    // The API's `expiration` is the fetch time plus 60 minutes, in whole seconds.
    assert!(
        expires >= before + Duration::minutes(60) - Duration::seconds(1),
        "{expires}"
    );
    assert!(expires <= after + Duration::minutes(60), "{expires}");
    let r = &ack_requests(&s)[0];
    assert_eq!(r.query, "PrivateIpAddress=true&TemporaryDurationMinutes=60");
    assert_kubectl_accepts(&s.default_kubeconfig(), &name);
}

#[test]
fn a_ci_credential_goes_to_stdout_and_touches_no_file() {
    let s = Sandbox::new();
    let out = s.run(&["ack", ACK_CLUSTER, "--ttl", "3h", "--kubeconfig", "-"]);
    assert_code(&out, 0);
    let printed: serde_json::Value = kubefetch::yaml::read_first(&stdout(&out)).unwrap();
    assert_eq!(names(&printed, "contexts"), [NAME]);
    assert_eq!(printed["current-context"].as_str(), Some(NAME));
    assert!(!s.home.path().join(".kube").exists());
    assert_eq!(
        ack_requests(&s)[0].query,
        "PrivateIpAddress=false&TemporaryDurationMinutes=180"
    );

    let file = s.home.path().join("ci-kubeconfig.yaml");
    std::fs::write(&file, stdout(&out)).unwrap();
    assert_kubectl_accepts(&file, NAME);
}

#[test]
fn aliyun_cli_profile_supplies_keys_and_region() {
    let s = Sandbox::new();
    let config = serde_json::json!({
        "current": "default",
        "profiles": [
            {"name": "default", "mode": "AK", "access_key_id": "LTAIunused", "access_key_secret": "unused", "region_id": "cn-beijing"},
            {"name": "prod", "mode": "AK", "access_key_id": ALIBABA_ACCESS_KEY_ID,
             "access_key_secret": ALIBABA_ACCESS_KEY_SECRET, "sts_token": "", "region_id": "cn-shanghai"},
            {"name": "temp", "mode": "StsToken", "access_key_id": ALIBABA_STS_ACCESS_KEY_ID,
             "access_key_secret": ALIBABA_STS_ACCESS_KEY_SECRET, "sts_token": ALIBABA_STS_TOKEN, "region_id": "cn-hangzhou"},
            {"name": "sso", "mode": "CloudSSO", "region_id": "cn-hangzhou"}
        ]
    });
    s.write_home_file(".aliyun/config.json", &config.to_string());

    let out = without_env_keys(&s)
        .args(["ack", ACK_CLUSTER, "--profile", "prod"])
        .output()
        .unwrap();
    assert_code(&out, 0);
    let config = yaml(&s.default_kubeconfig());
    assert_eq!(
        provenance(&config, NAME)["region"].as_str(),
        Some("cn-shanghai")
    );

    let out = without_env_keys(&s)
        .args(["ack", ACK_CLUSTER, "--profile", "temp", "--kubeconfig", "-"])
        .output()
        .unwrap();
    assert_code(&out, 0);
    let last = ack_requests(&s).pop().unwrap();
    assert_eq!(last.header("x-acs-security-token"), Some(ALIBABA_STS_TOKEN));
    assert!(last
        .header("authorization")
        .unwrap()
        .contains("x-acs-security-token"));

    let sent = ack_requests(&s).len();
    let out = without_env_keys(&s)
        .args(["ack", ACK_CLUSTER, "--profile", "sso"])
        .output()
        .unwrap();
    assert_code(&out, 3);
    let err = stderr(&out);
    assert!(
        err.contains("CloudSSO") && err.contains("not support yet"),
        "{err}"
    );
    assert_eq!(
        ack_requests(&s).len(),
        sent,
        "nothing is sent without usable credentials"
    );
}

#[test]
fn sts_credentials_from_the_environment_send_the_token() {
    let s = Sandbox::new();
    let out = s
        .kubefetch()
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ALIBABA_STS_ACCESS_KEY_ID)
        .env(
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            ALIBABA_STS_ACCESS_KEY_SECRET,
        )
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", ALIBABA_STS_TOKEN)
        .args(["ack", ACK_CLUSTER])
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert_eq!(
        ack_requests(&s)[0].header("x-acs-security-token"),
        Some(ALIBABA_STS_TOKEN)
    );
}

#[test]
fn sdk_credentials_file_is_read() {
    let s = Sandbox::new();
    let file = s.write_home_file(
        "secrets/alibaba.ini",
        &format!(
            "[default]\ntype = access_key\naccess_key_id = {ALIBABA_ACCESS_KEY_ID}\naccess_key_secret = {ALIBABA_ACCESS_KEY_SECRET}\n"
        ),
    );
    let out = without_env_keys(&s)
        .env("ALIBABA_CLOUD_CREDENTIALS_FILE", &file)
        .args(["ack", ACK_CLUSTER, "--region", ALIBABA_REGION, "-v"])
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("ALIBABA_CLOUD_CREDENTIALS_FILE"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn legacy_roa_signature_on_request() {
    let s = Sandbox::new();
    let out = s.run(&["ack", ACK_CLUSTER, "--signature-v2", "--ttl", "90m"]);
    assert_code(&out, 0);
    let r = &ack_requests(&s)[0];
    let auth = r.header("authorization").unwrap();
    assert!(
        auth.starts_with(&format!("acs {ALIBABA_ACCESS_KEY_ID}:")),
        "{auth}"
    );
    assert_eq!(r.header("x-acs-signature-method"), Some("HMAC-SHA1"));
    assert_eq!(
        r.query,
        "PrivateIpAddress=false&TemporaryDurationMinutes=90"
    );
    assert_kubectl_accepts(&s.default_kubeconfig(), NAME);
}

#[test]
fn throttling_honours_retry_after_and_every_attempt_has_a_fresh_nonce() {
    for signature in [None, Some("--signature-v2")] {
        let s = Sandbox::new();
        s.cloud.inject(ack_fault(
            FaultKind::Throttle {
                retry_after: Some(1),
            },
            1,
        ));
        s.cloud.inject(ack_fault(FaultKind::Status(503), 1));
        let mut args = vec!["ack", ACK_CLUSTER];
        args.extend(signature);
        let out = s.run(&args);
        assert_code(&out, 0);
        let requests = ack_requests(&s);
        assert_eq!(
            requests.iter().map(|r| r.status).collect::<Vec<_>>(),
            [429, 503, 200]
        );
        let mut nonces: Vec<&str> = requests
            .iter()
            .map(|r| r.header("x-acs-signature-nonce").unwrap())
            .collect();
        nonces.sort_unstable();
        nonces.dedup();
        assert_eq!(nonces.len(), 3, "{signature:?}");
    }
}

#[test]
fn bad_ttls_and_missing_region_are_usage_errors_before_any_request() {
    let s = Sandbox::new();
    let path = s.write_home_file(".kube/config", "apiVersion: v1\nkind: Config\n");
    let original = std::fs::read(&path).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["ack", ACK_CLUSTER, "--ttl", "5"], "15m to 3d"),
        (&["ack", ACK_CLUSTER, "--ttl", "5000"], "15m to 3d"),
        (&["ack", ACK_CLUSTER, "--ttl", "73h"], "15..4320 minutes"),
        (&["ack", ACK_CLUSTER, "--ttl", "abc"], "invalid --ttl"),
        (&["ack", "../etc"], "malformed cluster id"),
        (
            &["ack", ACK_CLUSTER, "--region", "cn.evil.com/x"],
            "invalid region",
        ),
    ];
    for (args, message) in cases {
        let out = s.run(args);
        assert_code(&out, 2);
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    let out = s
        .kubefetch()
        .env_remove("ALIBABA_CLOUD_REGION_ID")
        .args(["ack", ACK_CLUSTER])
        .output()
        .unwrap();
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("no region for ack"),
        "{}",
        stderr(&out)
    );
    assert!(ack_requests(&s).is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), original);
}

#[test]
fn wrong_secret_is_an_auth_error_with_code_and_request_id() {
    let s = Sandbox::new();
    let path = s.write_home_file(
        ".kube/config",
        "apiVersion: v1\nkind: Config\npreferences: {}\n",
    );
    let original = std::fs::read(&path).unwrap();
    let out = s
        .kubefetch()
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-right-secret")
        .args(["ack", ACK_CLUSTER, "--output", "json"])
        .output()
        .unwrap();
    assert_code(&out, 3);
    let err = stderr(&out);
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(err.contains("request id"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(!err.contains("not-the-right-secret"));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary[0]["error"]["kind"], "auth");
    assert_eq!(summary[0]["error"]["code"], "SignatureDoesNotMatch");
    assert!(summary[0]["error"]["requestId"].is_string());
    assert_eq!(std::fs::read(&path).unwrap(), original);
    assert_eq!(ack_requests(&s).len(), 1, "auth failures are not retried");
}

#[test]
fn unknown_cluster_is_not_found() {
    let s = Sandbox::new();
    let out = s.run(&["ack", "cnope0000000000000000000000", "--output", "json"]);
    assert_code(&out, 4);
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary[0]["error"]["kind"], "not_found");
    assert_eq!(summary[0]["error"]["code"], "ErrorClusterNotFound");
    assert!(summary[0]["error"]["requestId"].is_string());
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn missing_credentials_list_every_source() {
    let s = Sandbox::new();
    let out = without_env_keys(&s)
        .args(["ack", ACK_CLUSTER, "--region", ALIBABA_REGION])
        .output()
        .unwrap();
    assert_code(&out, 3);
    let err = stderr(&out);
    for source in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "~/.aliyun/config.json",
        "~/.alibabacloud/credentials.ini",
    ] {
        assert!(err.contains(source), "{err}");
    }
    assert!(ack_requests(&s).is_empty());
}

#[test]
fn persistent_server_errors_and_throttling_fail_after_retries() {
    for kind in [
        FaultKind::Status(503),
        FaultKind::Throttle { retry_after: None },
    ] {
        let s = Sandbox::new();
        let label = format!("{kind:?}");
        s.cloud.inject(ack_fault(kind, 10));
        let out = s.run(&["ack", ACK_CLUSTER, "--retries", "2"]);
        assert_code(&out, 5);
        assert_eq!(ack_requests(&s).len(), 3, "{label}");
        assert!(
            stderr(&out).contains("after 3 attempts"),
            "{label}: {}",
            stderr(&out)
        );
        assert!(!s.default_kubeconfig().exists(), "{label}");
    }
}

#[test]
fn malformed_and_hostile_answers_are_refused_and_files_stay_untouched() {
    for kind in [
        FaultKind::MissingFields,
        FaultKind::NotYamlKubeconfig,
        FaultKind::TruncatedBody,
        FaultKind::EmptyBody,
        FaultKind::ExecUserKubeconfig,
        FaultKind::HttpServerKubeconfig,
    ] {
        let s = Sandbox::new();
        let label = format!("{kind:?}");
        let path = s.write_home_file(
            ".kube/config",
            "apiVersion: v1\nkind: Config\ncontexts: []\n",
        );
        let original = std::fs::read(&path).unwrap();
        s.cloud.inject(ack_fault(kind, 10));
        let out = s.run(&["ack", ACK_CLUSTER, "--retries", "1"]);
        assert_code(&out, 5);
        assert!(
            stderr(&out).starts_with(&format!("error: ack {ACK_CLUSTER}:")),
            "{label}: {}",
            stderr(&out)
        );
        assert_eq!(std::fs::read(&path).unwrap(), original, "{label}");
    }
}

#[test]
fn verbose_output_never_shows_secrets() {
    let s = Sandbox::new();
    let out = s
        .kubefetch()
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ALIBABA_STS_ACCESS_KEY_ID)
        .env(
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            ALIBABA_STS_ACCESS_KEY_SECRET,
        )
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", ALIBABA_STS_TOKEN)
        .args(["ack", ACK_CLUSTER, "-vv"])
        .output()
        .unwrap();
    assert_code(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("debug:"), "{err}");
    assert!(!err.contains(ALIBABA_STS_ACCESS_KEY_SECRET));
    assert!(!err.contains(ALIBABA_STS_TOKEN));
    let config = yaml(&s.default_kubeconfig());
    let key = config["users"][0]["user"]["client-key-data"]
        .as_str()
        .unwrap();
    assert!(!err.contains(key));
}

#[test]
fn help_documents_the_ack_flags_and_env_vars() {
    let s = Sandbox::new();
    let out = s.run(&["ack", "--help"]);
    assert_code(&out, 0);
    let help = stdout(&out);
    for item in [
        "--region",
        "--signature-v2",
        "--ttl",
        "--private",
        "--profile",
        "--endpoint",
        "KUBEFETCH_ACK_ENDPOINT",
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "ALIBABA_CLOUD_REGION_ID",
        "ALIBABA_CLOUD_PROFILE",
        "ALIBABA_CLOUD_CREDENTIALS_FILE",
    ] {
        assert!(help.contains(item), "--help lacks {item}");
    }
}

#[test]
fn a_cluster_without_the_requested_endpoint_says_which_flag_to_use() {
    let s = Sandbox::new();
    let id = "cprivateonly000000000000000";
    s.cloud.add_cluster(fakecloud::Cluster {
        has_public: false,
        ..fakecloud::Cluster::new(Provider::Ack, id)
    });
    let out = s.run(&["ack", id]);
    assert_code(&out, 5);
    let err = stderr(&out);
    assert!(
        err.contains("ErrorClusterEndpointNotFound") && err.contains("--private"),
        "{err}"
    );
    assert_eq!(ack_requests(&s).len(), 1, "not retried");
    assert_code(&s.run(&["ack", id, "--private"]), 0);
}
