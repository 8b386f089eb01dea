//! Alibaba Cloud keyless credentials end to end (DESIGN.md section 11): OIDC
//! (STS `AssumeRoleWithOIDC`), role assumption (STS `AssumeRole`) and the ECS
//! instance role (metadata), against the fake cloud.

mod common;

use std::path::{Path, PathBuf};

use chrono::Duration;
use common::*;
use fakecloud::fixtures::{
    ACK_CLUSTER, ALIBABA_ACCESS_KEY_ID, ALIBABA_ACCESS_KEY_SECRET, ALIBABA_ECS_ROLE,
    ALIBABA_OIDC_PROVIDER_ARN, ALIBABA_REGION, ALIBABA_ROLE_ARN, ALIBABA_SECOND_ROLE_ARN,
};
use fakecloud::{Cluster, Fault, FaultKind, Provider, Recorded, Temporary};

const ECS_METADATA: &str = "ALIBABA_CLOUD_ECS_METADATA";

/// kubefetch without the fixed Alibaba keys in its environment.
fn keyless(s: &Sandbox) -> assert_cmd::Command {
    let mut cmd = s.kubefetch();
    cmd.env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    cmd
}

/// A token file as CI writes it (with `echo`'s newline).
fn token_file(s: &Sandbox, token: &str) -> PathBuf {
    s.write_home_file("oidc/token", &format!("{token}\n"))
}

/// kubefetch set up for OIDC with `role` and the token file at `path`.
fn oidc(s: &Sandbox, role: &str, path: &Path) -> assert_cmd::Command {
    let mut cmd = keyless(s);
    cmd.env("ALIBABA_CLOUD_ROLE_ARN", role)
        .env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", ALIBABA_OIDC_PROVIDER_ARN)
        .env("ALIBABA_CLOUD_OIDC_TOKEN_FILE", path)
        .env("ALIBABA_CLOUD_ROLE_SESSION_NAME", "ci-run-7");
    cmd
}

fn run(mut cmd: assert_cmd::Command, args: &[&str]) -> std::process::Output {
    cmd.args(args).output().expect("run kubefetch")
}

fn fetch_into(kubeconfig: &Path) -> Vec<String> {
    vec![
        "ack".to_string(),
        ACK_CLUSTER.to_string(),
        "--ttl".to_string(),
        "60".to_string(),
        "-v".to_string(),
        "--kubeconfig".to_string(),
        kubeconfig.display().to_string(),
    ]
}

fn run_fetch(cmd: assert_cmd::Command, kubeconfig: &Path) -> std::process::Output {
    let args = fetch_into(kubeconfig);
    run(cmd, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The only temporary keys the fake issued.
fn only_temporary(s: &Sandbox) -> Temporary {
    let issued = s.cloud.temporaries();
    assert_eq!(issued.len(), 1, "{issued:?}");
    issued.into_iter().next().unwrap()
}

/// Every ACK request signed with the temporary keys and carrying their token.
fn assert_signed_with(requests: &[Recorded], keys: &Temporary) {
    assert!(!requests.is_empty());
    for r in requests {
        let auth = r.header("authorization").unwrap_or_default();
        assert!(
            auth.contains(&format!("Credential={},", keys.access_key_id)),
            "{auth}"
        );
        assert_eq!(r.header("x-acs-security-token"), Some(keys.token.as_str()));
        assert_eq!(r.status, 200);
    }
}

/// No secret of the run in `text`: the static secret, the OIDC token, and
/// the temporary secret and session token.
fn assert_no_secret(s: &Sandbox, text: &str, oidc_token: Option<&str>) {
    let mut secrets = vec![ALIBABA_ACCESS_KEY_SECRET.to_string()];
    secrets.extend(oidc_token.map(str::to_string));
    for keys in s.cloud.temporaries() {
        secrets.push(keys.secret);
        secrets.push(keys.token);
    }
    for secret in secrets {
        assert!(!text.contains(&secret), "a secret leaked:\n{text}");
    }
}

#[test]
fn oidc_exchanges_once_for_several_clusters_and_signs_with_the_temporary_keys() {
    let s = Sandbox::new();
    s.cloud.add_cluster(Cluster::new(Provider::Ack, "c2second"));
    let token = s.cloud.oidc_token(Duration::minutes(10));
    let path = token_file(&s, &token);
    let kubeconfig = s.home.path().join("ci.yaml");
    let out = run(
        oidc(&s, ALIBABA_ROLE_ARN, &path),
        &[
            "ack",
            ACK_CLUSTER,
            "c2second",
            "-v",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ],
    );
    assert_code(&out, 0);
    assert!(stderr(&out).contains(
        "credentials: OIDC (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE)"
    ), "{}", stderr(&out));

    let sts = s.requests_to(Provider::AlibabaSts);
    assert_eq!(sts.len(), 1, "one exchange for two clusters");
    let query: Vec<(String, String)> = url_pairs(&sts[0].query);
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(param("Action"), Some("AssumeRoleWithOIDC"));
    assert_eq!(param("Format"), Some("JSON"));
    assert_eq!(param("OIDCToken"), Some(token.as_str()), "newline stripped");
    assert_eq!(param("RoleSessionName"), Some("ci-run-7"));
    assert_eq!(param("DurationSeconds"), Some("3600"));
    assert_eq!(sts[0].header("authorization"), None, "not signed");

    let keys = only_temporary(&s);
    assert_eq!(keys.role, ALIBABA_ROLE_ARN);
    let ack = s.requests_to(Provider::Ack);
    assert_eq!(ack.len(), 2);
    assert_signed_with(&ack, &keys);
    assert_eq!(s.metadata_requests(), 0);

    let written = std::fs::read_to_string(&kubeconfig).unwrap();
    assert_eq!(names(&yaml(&kubeconfig), "contexts").len(), 2);
    for text in [stdout(&out), stderr(&out), written] {
        assert_no_secret(&s, &text, Some(&token));
    }
}

/// `name=value&...` decoded.
fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            let decode = |t: &str| {
                percent_encoding::percent_decode_str(t)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

#[test]
fn a_role_is_assumed_with_the_static_keys_when_no_oidc_provider_is_named() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("ci.yaml");
    let mut cmd = s.kubefetch();
    cmd.env("ALIBABA_CLOUD_ROLE_ARN", ALIBABA_ROLE_ARN);
    let out = run_fetch(cmd, &kubeconfig);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("assuming the role in ALIBABA_CLOUD_ROLE_ARN"),
        "{}",
        stderr(&out)
    );
    let sts = s.requests_to(Provider::AlibabaSts);
    assert_eq!(sts.len(), 1);
    assert_eq!(sts[0].header("x-acs-action"), Some("AssumeRole"));
    assert!(sts[0]
        .header("authorization")
        .unwrap()
        .contains(&format!("Credential={ALIBABA_ACCESS_KEY_ID},")));
    assert_eq!(sts[0].status, 200, "the fake verified the signature");
    assert_signed_with(&s.requests_to(Provider::Ack), &only_temporary(&s));
    assert_no_secret(&s, &stderr(&out), None);
}

#[test]
fn aliyun_role_profiles_assume_their_role_chained_through_source_profiles() {
    let s = Sandbox::new();
    s.write_home_file(
        ".aliyun/config.json",
        &format!(
            r#"{{"current": "deploy", "profiles": [
                {{"name": "ci", "mode": "RamRoleArn", "access_key_id": "{ALIBABA_ACCESS_KEY_ID}",
                  "access_key_secret": "{ALIBABA_ACCESS_KEY_SECRET}", "ram_role_arn": "{ALIBABA_ROLE_ARN}",
                  "ram_session_name": "from-profile", "expired_seconds": 900}},
                {{"name": "deploy", "mode": "ChainableRamRoleArn", "source_profile": "ci",
                  "ram_role_arn": "{ALIBABA_SECOND_ROLE_ARN}"}}]}}"#
        ),
    );
    let kubeconfig = s.home.path().join("ci.yaml");
    let out = run_fetch(keyless(&s), &kubeconfig);
    assert_code(&out, 0);
    let sts = s.requests_to(Provider::AlibabaSts);
    assert_eq!(
        sts.len(),
        2,
        "the source profile's role, then the chained one"
    );
    let first = url_pairs(&sts[0].query);
    assert!(first.contains(&("RoleSessionName".into(), "from-profile".into())));
    assert!(first.contains(&("DurationSeconds".into(), "900".into())));
    let mut issued = s.cloud.temporaries();
    issued.sort_by(|a, b| a.access_key_id.cmp(&b.access_key_id));
    assert_eq!(issued[0].role, ALIBABA_ROLE_ARN);
    assert_eq!(issued[1].role, ALIBABA_SECOND_ROLE_ARN);
    // The chained role is assumed with the first role's temporary keys.
    assert!(sts[1]
        .header("authorization")
        .unwrap()
        .contains(&format!("Credential={},", issued[0].access_key_id)));
    assert_eq!(
        sts[1].header("x-acs-security-token"),
        Some(issued[0].token.as_str())
    );
    assert_signed_with(&s.requests_to(Provider::Ack), &issued[1]);
}

#[test]
fn a_duration_sts_refuses_is_exit_3_with_its_code() {
    let s = Sandbox::new();
    s.write_home_file(
        ".aliyun/config.json",
        &format!(
            r#"{{"current": "ci", "profiles": [
                {{"name": "ci", "mode": "RamRoleArn", "access_key_id": "{ALIBABA_ACCESS_KEY_ID}",
                  "access_key_secret": "{ALIBABA_ACCESS_KEY_SECRET}", "ram_role_arn": "{ALIBABA_ROLE_ARN}",
                  "expired_seconds": 43200}}]}}"#
        ),
    );
    let out = run_fetch(keyless(&s), &s.home.path().join("ci.yaml"));
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("InvalidParameter.DurationSeconds"),
        "{}",
        stderr(&out)
    );
    assert_request_id(&stderr(&out));
    assert!(s.requests_to(Provider::Ack).is_empty());
}

#[test]
fn the_ecs_instance_role_comes_from_the_metadata_service_token_first() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("ci.yaml");
    let mut cmd = keyless(&s);
    // Never asked, so never checked: the instance role needs no STS.
    cmd.env(ECS_METADATA, ALIBABA_ECS_ROLE).env(
        "KUBEFETCH_ALIBABA_STS_ENDPOINT",
        "http://10.0.0.1/not-loopback",
    );
    let out = run_fetch(cmd, &kubeconfig);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("credentials: ECS instance role (ALIBABA_CLOUD_ECS_METADATA)"));
    let metadata = s.requests_to(Provider::AlibabaMetadata);
    assert_eq!(metadata.len(), 2);
    assert_eq!(
        (metadata[0].method.as_str(), metadata[0].path.as_str()),
        ("PUT", "/latest/api/token")
    );
    assert_eq!(
        metadata[0].header("x-aliyun-ecs-metadata-token-ttl-seconds"),
        Some("21600")
    );
    assert_eq!(
        metadata[1].path,
        format!("/latest/meta-data/ram/security-credentials/{ALIBABA_ECS_ROLE}")
    );
    assert!(metadata[1].header("x-aliyun-ecs-metadata-token").is_some());
    let keys = only_temporary(&s);
    assert_eq!(keys.role, ALIBABA_ECS_ROLE);
    assert_signed_with(&s.requests_to(Provider::Ack), &keys);
    assert_no_secret(&s, &stderr(&out), None);
}

#[test]
fn a_refused_metadata_token_falls_back_to_imdsv1_unless_it_is_disabled() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("ci.yaml");
    let token_refused =
        || Fault::new(FaultKind::Status(403)).for_provider(Provider::AlibabaMetadata);
    s.cloud.inject(token_refused());
    let mut cmd = keyless(&s);
    cmd.env(ECS_METADATA, ALIBABA_ECS_ROLE);
    assert_code(&run_fetch(cmd, &kubeconfig), 0);
    let metadata = s.requests_to(Provider::AlibabaMetadata);
    assert_eq!(metadata.len(), 2);
    assert_eq!(metadata[1].header("x-aliyun-ecs-metadata-token"), None);

    s.cloud.inject(token_refused());
    let mut cmd = keyless(&s);
    cmd.env(ECS_METADATA, ALIBABA_ECS_ROLE)
        .env("ALIBABA_CLOUD_IMDSV1_DISABLED", "true");
    let out = run_fetch(cmd, &kubeconfig);
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("ALIBABA_CLOUD_IMDSV1_DISABLED"),
        "{}",
        stderr(&out)
    );
    assert_eq!(s.requests_to(Provider::AlibabaMetadata).len(), 3);
}

#[test]
fn static_keys_beat_oidc_and_oidc_beats_the_instance_role() {
    let s = Sandbox::new();
    let token = s.cloud.oidc_token(Duration::minutes(10));
    let path = token_file(&s, &token);
    let kubeconfig = s.home.path().join("ci.yaml");
    let mut with_keys = oidc(&s, ALIBABA_ROLE_ARN, &path);
    with_keys
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ALIBABA_ACCESS_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ALIBABA_ACCESS_KEY_SECRET)
        .env(ECS_METADATA, ALIBABA_ECS_ROLE);
    assert_code(&run_fetch(with_keys, &kubeconfig), 0);
    assert!(s.requests_to(Provider::AlibabaSts).is_empty());
    assert!(s.cloud.temporaries().is_empty());

    let mut with_instance = oidc(&s, ALIBABA_ROLE_ARN, &path);
    with_instance.env(ECS_METADATA, ALIBABA_ECS_ROLE);
    assert_code(&run_fetch(with_instance, &kubeconfig), 0);
    assert_eq!(s.requests_to(Provider::AlibabaSts).len(), 1);
    assert_eq!(only_temporary(&s).role, ALIBABA_ROLE_ARN);
    assert_eq!(s.metadata_requests(), 0);
}

#[test]
fn refused_exchanges_exit_3_with_the_sts_code_and_request_id() {
    let s = Sandbox::new();
    let valid = s.cloud.oidc_token(Duration::minutes(10));
    let expired = s.cloud.oidc_token(-Duration::minutes(1));
    let other_role = "acs:ram::2718281828459045:role/someone-else";
    let cases = [
        (
            other_role,
            valid.as_str(),
            "AuthenticationFail.NoPermission",
        ),
        (
            ALIBABA_ROLE_ARN,
            expired.as_str(),
            "AuthenticationFail.OIDCToken.Expired",
        ),
        (
            ALIBABA_ROLE_ARN,
            "not-a-jwt",
            "AuthenticationFail.OIDCToken.Invalid",
        ),
    ];
    let kubeconfig = s.home.path().join("ci.yaml");
    for (role, token, code) in cases {
        let path = token_file(&s, token);
        let out = run_fetch(oidc(&s, role, &path), &kubeconfig);
        assert_code(&out, 3);
        let err = stderr(&out);
        assert!(err.contains(code), "{code}: {err}");
        assert_eq!(
            s.requests_to(Provider::AlibabaSts).pop().unwrap().status,
            401
        );
        assert_request_id(&err);
        assert!(err.contains("hint: check ALIBABA_CLOUD_ROLE_ARN"), "{err}");
        assert!(!err.contains(token), "{err}");
    }
    assert!(s.requests_to(Provider::Ack).is_empty());
    assert!(!kubeconfig.exists());

    let mut assume = s.kubefetch();
    assume.env("ALIBABA_CLOUD_ROLE_ARN", other_role);
    let out = run_fetch(assume, &kubeconfig);
    assert_code(&out, 3);
    assert!(stderr(&out).contains("NoPermission"), "{}", stderr(&out));
    assert_request_id(&stderr(&out));
}

/// The message names STS's request id (a UUID).
fn assert_request_id(err: &str) {
    let id = err
        .split_once("request id ")
        .map(|(_, rest)| &rest[..36.min(rest.len())])
        .unwrap_or_default();
    let groups: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "no request id in: {err}");
}

#[test]
fn missing_or_empty_token_files_and_malformed_arns_fail_before_any_request() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("ci.yaml");
    let empty = s.write_home_file("oidc/empty", "\n");
    let missing = s.home.path().join("oidc/missing");
    for path in [&empty, &missing] {
        let out = run_fetch(oidc(&s, ALIBABA_ROLE_ARN, path), &kubeconfig);
        assert_code(&out, 3);
        let err = stderr(&out);
        assert!(err.contains("ALIBABA_CLOUD_OIDC_TOKEN_FILE"), "{err}");
        assert!(err.contains(path.to_str().unwrap()), "{err}");
    }
    let token = token_file(&s, &s.cloud.oidc_token(Duration::minutes(10)));
    let out = run_fetch(oidc(&s, "kubefetch-ci", &token), &kubeconfig);
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("ALIBABA_CLOUD_ROLE_ARN"),
        "{}",
        stderr(&out)
    );
    let mut assume = s.kubefetch();
    assume.env("ALIBABA_CLOUD_ROLE_ARN", "arn:aws:iam::1:role/x");
    let out = run_fetch(assume, &kubeconfig);
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("ALIBABA_CLOUD_ROLE_ARN"),
        "{}",
        stderr(&out)
    );
    assert!(s.cloud.requests().is_empty());
}

#[test]
fn metadata_is_asked_only_when_a_variable_says_so_and_its_silence_names_it() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("ci.yaml");
    assert_code(&run_fetch(s.kubefetch(), &kubeconfig), 0);
    let nothing = run_fetch(keyless(&s), &kubeconfig);
    assert_code(&nothing, 3);
    assert_eq!(s.metadata_requests(), 0);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut cmd = keyless(&s);
    cmd.env(ECS_METADATA, ALIBABA_ECS_ROLE).env(
        "KUBEFETCH_ALIBABA_METADATA_ENDPOINT",
        format!("http://127.0.0.1:{port}"),
    );
    let out = run_fetch(cmd, &kubeconfig);
    assert_code(&out, 3);
    let err = stderr(&out);
    assert!(err.contains("metadata service did not answer"), "{err}");
    assert!(err.contains(ECS_METADATA), "{err}");
}

#[test]
fn an_answer_without_credentials_exits_5_and_writes_nothing() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("ci.yaml");
    assert_code(&run_fetch(s.kubefetch(), &kubeconfig), 0);
    let before = std::fs::read(&kubeconfig).unwrap();
    let token = token_file(&s, &s.cloud.oidc_token(Duration::minutes(10)));
    s.cloud
        .inject(Fault::new(FaultKind::MissingFields).for_provider(Provider::AlibabaSts));
    let out = run_fetch(oidc(&s, ALIBABA_ROLE_ARN, &token), &kubeconfig);
    assert_code(&out, 5);
    assert!(
        stderr(&out).contains("without credentials"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&kubeconfig).unwrap(), before);

    // The metadata service's token step and answer, both without credentials.
    s.cloud.inject(
        Fault::new(FaultKind::MissingFields)
            .for_provider(Provider::AlibabaMetadata)
            .times(2),
    );
    let mut cmd = keyless(&s);
    cmd.env(ECS_METADATA, ALIBABA_ECS_ROLE);
    let out = run_fetch(cmd, &kubeconfig);
    assert_code(&out, 5);
    assert!(
        stderr(&out).contains("metadata service answered without credentials"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&kubeconfig).unwrap(), before);
    assert_eq!(
        s.requests_to(Provider::Ack).len(),
        1,
        "only the first run's"
    );
}

#[test]
fn the_token_file_is_read_fresh_for_each_run() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("ci.yaml");
    let first = s.cloud.oidc_token(Duration::minutes(10));
    let path = token_file(&s, &first);
    assert_code(
        &run_fetch(oidc(&s, ALIBABA_ROLE_ARN, &path), &kubeconfig),
        0,
    );
    let second = s.cloud.oidc_token(Duration::minutes(10));
    token_file(&s, &second);
    assert_code(
        &run_fetch(oidc(&s, ALIBABA_ROLE_ARN, &path), &kubeconfig),
        0,
    );
    let sent: Vec<String> = s
        .requests_to(Provider::AlibabaSts)
        .iter()
        .map(|r| {
            url_pairs(&r.query)
                .into_iter()
                .find(|(k, _)| k == "OIDCToken")
                .unwrap()
                .1
        })
        .collect();
    assert_eq!(sent, [first, second]);
}

#[test]
fn discovery_across_every_region_exchanges_once() {
    let s = Sandbox::new();
    s.cloud
        .add_cluster(Cluster::new(Provider::Ack, "cbeijing1").in_region("cn-beijing"));
    let token = token_file(&s, &s.cloud.oidc_token(Duration::minutes(10)));
    let kubeconfig = s.home.path().join("ci.yaml");
    let mut cmd = oidc(&s, ALIBABA_ROLE_ARN, &token);
    cmd.env_remove("ALIBABA_CLOUD_REGION_ID");
    let out = run(
        cmd,
        &["ack", "--all", "--kubeconfig", kubeconfig.to_str().unwrap()],
    );
    assert_code(&out, 0);
    assert_eq!(names(&yaml(&kubeconfig), "contexts").len(), 2);
    assert_eq!(s.requests_to(Provider::AlibabaSts).len(), 1);
    assert_signed_with(&s.requests_to(Provider::Ack), &only_temporary(&s));
}

#[test]
fn a_refresh_of_contexts_with_different_options_exchanges_once() {
    let s = Sandbox::new();
    let token = token_file(&s, &s.cloud.oidc_token(Duration::minutes(10)));
    let kubeconfig = s.home.path().join("ci.yaml");
    let path = kubeconfig.to_str().unwrap();
    for (ttl, context) in [("60", "short"), ("90", "long")] {
        let args = [
            "ack",
            ACK_CLUSTER,
            "--ttl",
            ttl,
            "--context",
            context,
            "--kubeconfig",
            path,
        ];
        assert_code(&run(oidc(&s, ALIBABA_ROLE_ARN, &token), &args), 0);
    }
    assert_eq!(s.requests_to(Provider::AlibabaSts).len(), 2, "one per run");
    let out = run(
        oidc(&s, ALIBABA_ROLE_ARN, &token),
        &["refresh", "--all", "--kubeconfig", path],
    );
    assert_code(&out, 0);
    assert_eq!(
        s.requests_to(Provider::AlibabaSts).len(),
        3,
        "one for both contexts"
    );
    assert_eq!(s.requests_to(Provider::Ack).len(), 4);
}

#[test]
fn exec_credentials_are_cached_per_role() {
    let s = Sandbox::new();
    let token = token_file(&s, &s.cloud.oidc_token(Duration::minutes(10)));
    let cache = s.home.path().join(".kube/cache/kubefetch");
    let credential = [
        "credential",
        "ack",
        ACK_CLUSTER,
        "--region",
        ALIBABA_REGION,
        "--ttl",
        "60",
    ];
    let out = run(oidc(&s, ALIBABA_ROLE_ARN, &token), &credential);
    assert_code(&out, 0);
    let exec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exec["kind"], "ExecCredential");
    assert_eq!(
        dir_entries(&cache)
            .iter()
            .filter(|e| e.ends_with(".json"))
            .count(),
        1
    );

    assert_code(
        &run(oidc(&s, ALIBABA_SECOND_ROLE_ARN, &token), &credential),
        0,
    );
    assert_eq!(
        dir_entries(&cache)
            .iter()
            .filter(|e| e.ends_with(".json"))
            .count(),
        2
    );
    // The first role's entry is served from the cache: no new exchange.
    assert_code(&run(oidc(&s, ALIBABA_ROLE_ARN, &token), &credential), 0);
    assert_eq!(s.requests_to(Provider::AlibabaSts).len(), 2);
    assert_eq!(s.requests_to(Provider::Ack).len(), 2);

    let kubeconfig = s.home.path().join("exec.yaml");
    let out = run(
        oidc(&s, ALIBABA_ROLE_ARN, &token),
        &[
            "ack",
            ACK_CLUSTER,
            "--exec",
            "-v",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ],
    );
    assert_code(&out, 0);
    let written = std::fs::read_to_string(&kubeconfig).unwrap();
    for text in [stdout(&out), stderr(&out), written] {
        assert_no_secret(
            &s,
            &text,
            Some(std::fs::read_to_string(&token).unwrap().trim()),
        );
    }
}

#[test]
fn keys_that_have_already_expired_exit_5_and_write_nothing() {
    let s = Sandbox::new();
    let kubeconfig = s.home.path().join("ci.yaml");
    let token = token_file(&s, &s.cloud.oidc_token(Duration::minutes(10)));
    s.cloud.issue_expired_keys(1);
    let out = run_fetch(oidc(&s, ALIBABA_ROLE_ARN, &token), &kubeconfig);
    assert_code(&out, 5);
    assert!(stderr(&out).contains("already past"), "{}", stderr(&out));
    assert!(!kubeconfig.exists());
    assert!(s.requests_to(Provider::Ack).is_empty());
}
