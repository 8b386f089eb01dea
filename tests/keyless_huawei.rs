//! Keyless Huawei credentials (DESIGN.md section 11) against the fake cloud:
//! an OIDC id token exchanged at IAM for temporary AK/SK, an agency assumed
//! with the credential found, and the ECS's agency keys from the metadata
//! service; each exchanged once, sent with its security token, refused with
//! IAM's code and request id, and never printed.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::*;
use fakecloud::fixtures::{
    CCE_CLUSTER, HUAWEI_AGENCY_NAME, HUAWEI_AK, HUAWEI_DOMAIN_ID, HUAWEI_DOMAIN_NAME,
    HUAWEI_IDP_ID, HUAWEI_PASSWORD, HUAWEI_PROJECT_CN_NORTH_4, HUAWEI_SK, HUAWEI_USER,
    UCS_ATTACHED_CLUSTER, UCS_CLUSTER,
};
use fakecloud::{Cluster, Fault, FaultKind, Provider, Recorded, Temporary};

const ID_TOKEN_PATH: &str = "/v3.0/OS-AUTH/id-token/tokens";
const SECURITY_TOKENS_PATH: &str = "/v3.0/OS-CREDENTIAL/securitytokens";
const METADATA_VAR: &str = "KUBEFETCH_HUAWEI_ECS_METADATA";

fn iam_posts_to(s: &Sandbox, path: &str) -> Vec<Recorded> {
    s.requests_to(Provider::Iam)
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .collect()
}

/// kubefetch without the fake's static keys.
fn keyless(s: &Sandbox) -> assert_cmd::Command {
    let mut cmd = s.kubefetch();
    cmd.env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK");
    cmd
}

/// Writes `token` (with the newline `echo` leaves) to the token file.
fn write_token(s: &Sandbox, token: &str) -> PathBuf {
    s.write_home_file("oidc/id-token", &format!("{token}\n"))
}

/// kubefetch with only an OIDC id token, valid an hour, as a CI job has it.
fn with_oidc(s: &Sandbox) -> (assert_cmd::Command, String) {
    let token = s.cloud.oidc_token(chrono::Duration::hours(1));
    let path = write_token(s, &token);
    let mut cmd = keyless(s);
    cmd.env("HUAWEICLOUD_SDK_IDP_ID", HUAWEI_IDP_ID)
        .env("HUAWEICLOUD_SDK_ID_TOKEN_FILE", path);
    (cmd, token)
}

fn with_agency(mut cmd: assert_cmd::Command) -> assert_cmd::Command {
    cmd.env("HW_ASSUME_ROLE_AGENCY_NAME", HUAWEI_AGENCY_NAME)
        .env("HW_ASSUME_ROLE_DOMAIN_NAME", HUAWEI_DOMAIN_NAME);
    cmd
}

fn with_metadata(s: &Sandbox) -> assert_cmd::Command {
    let mut cmd = keyless(s);
    cmd.env(METADATA_VAR, "1");
    cmd
}

fn run(mut cmd: assert_cmd::Command, args: &[&str]) -> Output {
    cmd.args(args).output().expect("run kubefetch")
}

fn cce(cluster: &str) -> Vec<&str> {
    vec!["cce", cluster, "--region", "cn-north-4"]
}

/// A second public CCE cluster, for runs that fetch two.
const SECOND_CLUSTER: &str = "4d5e6f70-1a2b-11ee-8c90-0255ac1000aa";

fn with_second_cluster(s: &Sandbox) {
    s.cloud
        .add_cluster(Cluster::new(Provider::Cce, SECOND_CLUSTER));
}

/// The one temporary credential the fake issued.
fn only_temporary(s: &Sandbox) -> Temporary {
    let issued = s.cloud.temporaries();
    assert_eq!(issued.len(), 1, "one exchange: {issued:?}");
    issued.into_iter().next().unwrap()
}

/// The request was signed with these temporary keys and carried their token.
fn assert_signed_with(request: &Recorded, keys: &Temporary) {
    let authorization = request.header("authorization").expect("signed");
    assert!(
        authorization.starts_with(&format!("SDK-HMAC-SHA256 Access={}, ", keys.access_key_id)),
        "{authorization}"
    );
    assert!(
        authorization.contains("x-security-token"),
        "{authorization}"
    );
    assert_eq!(
        request.header("x-security-token"),
        Some(keys.token.as_str())
    );
    assert!(request.header("x-auth-token").is_none());
}

/// No secret of any kind in the output or the kubeconfig.
fn assert_no_secrets(s: &Sandbox, out: &Output, extra: &[&str]) {
    let kubeconfig = std::fs::read_to_string(s.default_kubeconfig()).unwrap_or_default();
    let mut secrets: Vec<String> = vec![HUAWEI_SK.to_string(), HUAWEI_PASSWORD.to_string()];
    for keys in s.cloud.temporaries() {
        secrets.push(keys.secret);
        secrets.push(keys.token);
    }
    secrets.extend(extra.iter().map(|e| e.to_string()));
    for secret in &secrets {
        for (place, text) in [
            ("stdout", stdout(out)),
            ("stderr", stderr(out)),
            ("the kubeconfig", kubeconfig.clone()),
        ] {
            assert!(
                !text.contains(secret.as_str()),
                "a secret in {place}:\n{text}"
            );
        }
    }
}

#[test]
fn oidc_is_exchanged_once_for_temporary_keys_that_sign_every_request() {
    let s = Sandbox::new();
    with_second_cluster(&s);
    let (cmd, id_token) = with_oidc(&s);
    let out = run(
        cmd,
        &[
            "cce",
            CCE_CLUSTER,
            SECOND_CLUSTER,
            "--region",
            "cn-north-4",
            "-v",
        ],
    );
    assert_code(&out, 0);
    assert!(
        stderr(&out).lines().any(|l| l.ends_with(
            "credentials: OIDC (HUAWEICLOUD_SDK_IDP_ID, HUAWEICLOUD_SDK_ID_TOKEN_FILE)"
        )),
        "{}",
        stderr(&out)
    );

    let exchanges = iam_posts_to(&s, ID_TOKEN_PATH);
    assert_eq!(exchanges.len(), 1, "one id-token exchange for two clusters");
    assert_eq!(exchanges[0].header("x-idp-id"), Some(HUAWEI_IDP_ID));
    assert_eq!(
        body_json(&exchanges[0]),
        serde_json::json!({"auth": {"id_token": {"id": id_token}}}),
        "the token without its trailing newline, and no scope (an unscoped token)"
    );
    let grants = iam_posts_to(&s, SECURITY_TOKENS_PATH);
    assert_eq!(grants.len(), 1);
    let grant = body_json(&grants[0]);
    let identity = &grant["auth"]["identity"];
    assert_eq!(identity["methods"], serde_json::json!(["token"]));
    assert_eq!(identity["token"]["duration_seconds"], 3600);
    let unscoped = identity["token"]["id"].as_str().unwrap().to_string();

    let keys = only_temporary(&s);
    assert!(keys.access_key_id.starts_with("HWFAKECLOUDTMP"));
    let lookups: Vec<Recorded> = s
        .requests_to(Provider::Iam)
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(lookups.len(), 1, "the project id is looked up once");
    assert_eq!(lookups[0].path, "/v3/projects");
    assert_signed_with(&lookups[0], &keys);
    let cce = s.requests_to(Provider::Cce);
    assert_eq!(cce.len(), 2);
    for request in &cce {
        assert_signed_with(request, &keys);
        assert_eq!(
            request.header("x-project-id"),
            Some(HUAWEI_PROJECT_CN_NORTH_4)
        );
    }
    let config = yaml(&s.default_kubeconfig());
    assert_eq!(names(&config, "contexts").len(), 2);
    assert_no_secrets(&s, &out, &[&id_token, &unscoped]);
    assert_eq!(s.metadata_requests(), 0);
}

#[test]
fn ucs_and_its_agent_use_the_oidc_keys_with_the_domain_they_look_up() {
    let s = Sandbox::new();
    let (cmd, id_token) = with_oidc(&s);
    let out = run(cmd, &["ucs", UCS_CLUSTER, "-v"]);
    assert_code(&out, 0);
    let keys = only_temporary(&s);
    let domains: Vec<Recorded> = s
        .requests_to(Provider::Iam)
        .into_iter()
        .filter(|r| r.path == "/v3/auth/domains")
        .collect();
    assert_eq!(domains.len(), 1);
    assert_signed_with(&domains[0], &keys);
    let ucs = s.requests_to(Provider::Ucs);
    assert_signed_with(&ucs[0], &keys);
    assert_eq!(ucs[0].header("x-domain-id"), Some(HUAWEI_DOMAIN_ID));
    assert_no_secrets(&s, &out, &[&id_token]);

    let bundle = s.home.path().join("agent.yaml");
    let (cmd, id_token) = with_oidc(&s);
    let out = run(
        cmd,
        &[
            "ucs-agent",
            UCS_ATTACHED_CLUSTER,
            "--out",
            bundle.to_str().unwrap(),
        ],
    );
    assert_code(&out, 0);
    assert!(bundle.exists());
    let agent = s.requests_to(Provider::Ucs).pop().unwrap();
    assert!(agent.path.ends_with("/accessinfo"));
    let latest = s
        .cloud
        .temporaries()
        .into_iter()
        .find(|t| Some(t.token.as_str()) == agent.header("x-security-token"))
        .expect("the agent request carries the second run's keys");
    assert_signed_with(&agent, &latest);
    assert_eq!(iam_posts_to(&s, ID_TOKEN_PATH).len(), 2, "one per run");
    assert_no_secrets(&s, &out, &[&id_token]);
}

#[test]
fn an_agency_is_assumed_with_static_keys() {
    let s = Sandbox::new();
    let out = run(
        with_agency(s.kubefetch()),
        &[&cce(CCE_CLUSTER)[..], &["-v"]].concat(),
    );
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains(
            "credentials: environment (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK), assuming the agency (HW_ASSUME_ROLE_AGENCY_NAME, HW_ASSUME_ROLE_DOMAIN_NAME)"
        ),
        "{}",
        stderr(&out)
    );
    let grants = iam_posts_to(&s, SECURITY_TOKENS_PATH);
    assert_eq!(grants.len(), 1);
    assert_eq!(
        body_json(&grants[0]),
        serde_json::json!({"auth": {"identity": {
            "methods": ["assume_role"],
            "assume_role": {
                "agency_name": HUAWEI_AGENCY_NAME,
                "domain_name": HUAWEI_DOMAIN_NAME,
                "duration_seconds": 3600,
            },
        }}})
    );
    assert!(grants[0]
        .header("authorization")
        .unwrap()
        .starts_with(&format!("SDK-HMAC-SHA256 Access={HUAWEI_AK}, ")));
    let keys = only_temporary(&s);
    assert_eq!(
        keys.role,
        format!("agency {HUAWEI_DOMAIN_NAME}/{HUAWEI_AGENCY_NAME}")
    );
    assert_signed_with(&s.requests_to(Provider::Cce)[0], &keys);
    assert_no_secrets(&s, &out, &[]);
}

#[test]
fn an_agency_is_assumed_with_oidc_or_ecs_keys_too() {
    let s = Sandbox::new();
    let (cmd, id_token) = with_oidc(&s);
    let out = run(with_agency(cmd), &cce(CCE_CLUSTER));
    assert_code(&out, 0);
    let grants = iam_posts_to(&s, SECURITY_TOKENS_PATH);
    let methods: Vec<serde_json::Value> = grants
        .iter()
        .map(|g| body_json(g)["auth"]["identity"]["methods"][0].clone())
        .collect();
    assert_eq!(methods, ["token", "assume_role"]);
    let issued = s.cloud.temporaries();
    let federated = issued
        .iter()
        .find(|t| !t.role.starts_with("agency "))
        .expect("the OIDC user's keys");
    let agency = issued
        .iter()
        .find(|t| t.role.starts_with("agency "))
        .expect("the agency's keys");
    assert_signed_with(&grants[1], federated);
    assert_signed_with(&s.requests_to(Provider::Cce)[0], agency);
    assert_no_secrets(&s, &out, &[&id_token]);

    let out = run(with_agency(with_metadata(&s)), &cce(CCE_CLUSTER));
    assert_code(&out, 0);
    assert_eq!(s.requests_to(Provider::HuaweiMetadata).len(), 2);
    let grants = iam_posts_to(&s, SECURITY_TOKENS_PATH);
    assert_eq!(grants.len(), 3);
    let ecs = s
        .cloud
        .temporaries()
        .into_iter()
        .find(|t| t.role == "ecs-agency")
        .expect("the ECS agency's keys");
    assert_signed_with(&grants[2], &ecs);
}

#[test]
fn a_password_is_exchanged_for_an_account_token_before_the_agency() {
    let s = Sandbox::new();
    let mut cmd = with_agency(keyless(&s));
    cmd.env("OS_USERNAME", HUAWEI_USER)
        .env("OS_PASSWORD", HUAWEI_PASSWORD)
        .env("OS_DOMAIN_NAME", HUAWEI_DOMAIN_NAME);
    let out = run(cmd, &["ucs", UCS_CLUSTER]);
    assert_code(&out, 0);
    let login = iam_posts_to(&s, "/v3/auth/tokens");
    assert_eq!(login.len(), 1);
    assert_eq!(
        body_json(&login[0])["auth"]["scope"],
        serde_json::json!({"domain": {"name": HUAWEI_DOMAIN_NAME}})
    );
    let grants = iam_posts_to(&s, SECURITY_TOKENS_PATH);
    assert_eq!(grants.len(), 1);
    assert!(grants[0].header("x-auth-token").is_some());
    assert!(grants[0].header("authorization").is_none());
    assert_signed_with(&s.requests_to(Provider::Ucs)[0], &only_temporary(&s));
    assert_no_secrets(&s, &out, &[]);
}

#[test]
fn ecs_metadata_gives_the_agency_keys_after_a_session_token() {
    let s = Sandbox::new();
    let out = run(
        with_metadata(&s),
        &[&cce(CCE_CLUSTER)[..], &["-v"]].concat(),
    );
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("credentials: ECS metadata (KUBEFETCH_HUAWEI_ECS_METADATA)"),
        "{}",
        stderr(&out)
    );
    let metadata = s.requests_to(Provider::HuaweiMetadata);
    assert_eq!(metadata.len(), 2);
    assert_eq!(
        (metadata[0].method.as_str(), metadata[0].path.as_str()),
        ("PUT", "/meta-data/latest/api/token")
    );
    assert!(metadata[0].header("x-metadata-token-ttl-seconds").is_some());
    assert_eq!(
        (metadata[1].method.as_str(), metadata[1].path.as_str()),
        ("GET", "/openstack/latest/securitykey")
    );
    let session = metadata[1]
        .header("x-metadata-token")
        .expect("the session token");
    let keys = only_temporary(&s);
    assert_signed_with(&s.requests_to(Provider::Cce)[0], &keys);
    assert_no_secrets(&s, &out, &[session]);
}

#[test]
fn static_keys_beat_oidc_and_oidc_beats_metadata() {
    let s = Sandbox::new();
    let (mut cmd, _) = with_oidc(&s);
    cmd.env(METADATA_VAR, "1")
        .env("HUAWEICLOUD_SDK_AK", HUAWEI_AK)
        .env("HUAWEICLOUD_SDK_SK", HUAWEI_SK);
    assert_code(&run(cmd, &cce(CCE_CLUSTER)), 0);
    assert!(
        s.cloud.temporaries().is_empty(),
        "the static keys were used"
    );
    assert_eq!(s.metadata_requests(), 0);

    let (mut cmd, _) = with_oidc(&s);
    cmd.env(METADATA_VAR, "1");
    assert_code(&run(cmd, &cce(CCE_CLUSTER)), 0);
    assert_eq!(iam_posts_to(&s, ID_TOKEN_PATH).len(), 1);
    assert_eq!(s.metadata_requests(), 0, "OIDC came first");
}

/// The run exits 3 naming IAM's code and the request id, and writes nothing.
fn assert_refused(s: &Sandbox, out: &Output, code: &str) {
    assert_code(out, 3);
    let err = stderr(out);
    assert!(err.contains(code), "{err}");
    assert!(err.contains("request id "), "{err}");
    assert!(!s.default_kubeconfig().exists());
    assert!(s.requests_to(Provider::Cce).is_empty());
}

#[test]
fn a_refused_oidc_exchange_exits_3_with_iams_code_and_request_id() {
    let s = Sandbox::new();
    let (mut cmd, _) = with_oidc(&s);
    cmd.env("HUAWEICLOUD_SDK_IDP_ID", "someone-else");
    let out = run(cmd, &cce(CCE_CLUSTER));
    assert_refused(&s, &out, "IAM.0004");
    assert!(
        stderr(&out).contains("HUAWEICLOUD_SDK_IDP_ID"),
        "{}",
        stderr(&out)
    );

    let expired = s.cloud.oidc_token(chrono::Duration::minutes(-5));
    let mut cmd = keyless(&s);
    cmd.env("HUAWEICLOUD_SDK_IDP_ID", HUAWEI_IDP_ID)
        .env("HUAWEICLOUD_SDK_ID_TOKEN_FILE", write_token(&s, &expired));
    assert_refused(&s, &run(cmd, &cce(CCE_CLUSTER)), "IAM.0008");

    let mut cmd = keyless(&s);
    cmd.env("HUAWEICLOUD_SDK_IDP_ID", HUAWEI_IDP_ID).env(
        "HUAWEICLOUD_SDK_ID_TOKEN_FILE",
        write_token(&s, "not-a-jwt"),
    );
    let out = run(cmd, &cce(CCE_CLUSTER));
    assert_refused(&s, &out, "IAM.0011");
    assert!(!stderr(&out).contains("not-a-jwt"), "{}", stderr(&out));
    assert!(s.cloud.temporaries().is_empty());
}

#[test]
fn a_refused_agency_exits_3_with_iams_code_and_request_id() {
    let s = Sandbox::new();
    let mut cmd = with_agency(s.kubefetch());
    cmd.env("HW_ASSUME_ROLE_AGENCY_NAME", "not-ours");
    let out = run(cmd, &cce(CCE_CLUSTER));
    assert_refused(&s, &out, "IAM.0003");
    assert!(
        stderr(&out).contains("HW_ASSUME_ROLE_AGENCY_NAME"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        iam_posts_to(&s, SECURITY_TOKENS_PATH).len(),
        1,
        "asked once"
    );
}

#[test]
fn bad_keyless_settings_exit_3_before_any_request() {
    let s = Sandbox::new();
    let empty = s.write_home_file("oidc/empty", "\n");
    let missing = s.home.path().join("oidc/missing");
    let token = s.write_home_file("oidc/token", "a.b.c\n");
    // (the variables set, what stderr must name)
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            vec![
                ("HUAWEICLOUD_SDK_IDP_ID", HUAWEI_IDP_ID),
                ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", empty.to_str().unwrap()),
            ],
            vec![
                "HUAWEICLOUD_SDK_ID_TOKEN_FILE",
                empty.to_str().unwrap(),
                "empty",
            ],
        ),
        (
            vec![
                ("HUAWEICLOUD_SDK_IDP_ID", HUAWEI_IDP_ID),
                ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", missing.to_str().unwrap()),
            ],
            vec!["HUAWEICLOUD_SDK_ID_TOKEN_FILE", missing.to_str().unwrap()],
        ),
        (
            vec![("HUAWEICLOUD_SDK_IDP_ID", HUAWEI_IDP_ID)],
            vec!["HUAWEICLOUD_SDK_IDP_ID is set but HUAWEICLOUD_SDK_ID_TOKEN_FILE is not"],
        ),
        (
            vec![
                ("HUAWEICLOUD_SDK_IDP_ID", "../github"),
                ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", token.to_str().unwrap()),
            ],
            vec!["HUAWEICLOUD_SDK_IDP_ID '../github' is not an IAM name"],
        ),
        (
            vec![("HW_ASSUME_ROLE_AGENCY_NAME", HUAWEI_AGENCY_NAME)],
            vec!["HW_ASSUME_ROLE_DOMAIN_NAME is not"],
        ),
        (
            vec![
                ("HW_ASSUME_ROLE_AGENCY_NAME", "ci/agency"),
                ("HW_ASSUME_ROLE_DOMAIN_NAME", HUAWEI_DOMAIN_NAME),
            ],
            vec!["HW_ASSUME_ROLE_AGENCY_NAME 'ci/agency' is not an IAM name"],
        ),
        (
            vec![(METADATA_VAR, "yes")],
            vec!["KUBEFETCH_HUAWEI_ECS_METADATA must be 1 or true"],
        ),
    ];
    for (vars, expected) in cases {
        let mut cmd = keyless(&s);
        cmd.envs(vars.iter().copied());
        let out = run(cmd, &cce(CCE_CLUSTER));
        assert_code(&out, 3);
        for text in expected {
            assert!(stderr(&out).contains(text), "{text}: {}", stderr(&out));
        }
    }
    assert!(s.cloud.requests().is_empty(), "nothing was sent");
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn an_unreachable_metadata_service_exits_3_naming_the_variable() {
    let s = Sandbox::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut cmd = with_metadata(&s);
    cmd.env(
        "KUBEFETCH_HUAWEI_METADATA_ENDPOINT",
        format!("http://127.0.0.1:{port}"),
    );
    let out = run(cmd, &cce(CCE_CLUSTER));
    assert_code(&out, 3);
    assert!(stderr(&out).contains(METADATA_VAR), "{}", stderr(&out));
    assert!(s.cloud.requests().is_empty());
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn an_answer_without_keys_exits_5_and_writes_nothing() {
    let s = Sandbox::new();
    with_second_cluster(&s);
    assert_code(&s.run(&cce(CCE_CLUSTER)), 0);
    let before = std::fs::read(s.default_kubeconfig()).unwrap();
    s.cloud
        .inject(Fault::new(FaultKind::MissingFields).for_provider(Provider::Iam));
    let out = run(
        with_agency(s.kubefetch()),
        &[
            &cce(SECOND_CLUSTER)[..],
            &["--project-id", HUAWEI_PROJECT_CN_NORTH_4],
        ]
        .concat(),
    );
    assert_code(&out, 5);
    assert!(
        stderr(&out).contains("IAM returned no temporary credentials"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(s.default_kubeconfig()).unwrap(), before);
    assert_eq!(
        s.requests_to(Provider::Cce).len(),
        1,
        "only the first run's"
    );
}

#[test]
fn the_token_file_is_read_afresh_for_each_exchange() {
    let s = Sandbox::new();
    with_second_cluster(&s);
    let (cmd, first) = with_oidc(&s);
    assert_code(&run(cmd, &cce(CCE_CLUSTER)), 0);
    let (cmd, second) = with_oidc(&s);
    assert_ne!(first, second);
    assert_code(&run(cmd, &cce(SECOND_CLUSTER)), 0);
    let sent: Vec<serde_json::Value> = iam_posts_to(&s, ID_TOKEN_PATH)
        .iter()
        .map(|r| body_json(r)["auth"]["id_token"]["id"].clone())
        .collect();
    assert_eq!(sent, [first, second]);
}

#[test]
fn exec_entries_are_keyed_by_the_oidc_identity_provider_or_the_agency() {
    let s = Sandbox::new();
    let cache = s.home.path().join(".kube/cache/kubefetch");
    let (cmd, id_token) = with_oidc(&s);
    let out = run(cmd, &[&cce(CCE_CLUSTER)[..], &["--exec", "-v"]].concat());
    assert_code(&out, 0);
    assert_eq!(
        dir_entries(&cache)
            .iter()
            .filter(|f| f.ends_with(".json"))
            .count(),
        1
    );
    assert_no_secrets(&s, &out, &[&id_token]);

    // The exec user's own arguments, with the same identity provider: served
    // from the cache, no exchange.
    let config = yaml(&s.default_kubeconfig());
    let args: Vec<String> = config["users"][0]["user"]["exec"]["args"]
        .as_array()
        .expect("an exec user")
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(args[..2], ["credential", "cce"]);
    let (cmd, _) = with_oidc(&s);
    let out = run(cmd, &args);
    assert_code(&out, 0);
    assert_eq!(iam_posts_to(&s, ID_TOKEN_PATH).len(), 1);
    assert!(stdout(&out).contains("ExecCredential"));

    // An agency is another identity: another entry, another exchange.
    let out = run(with_agency(s.kubefetch()), &args);
    assert_code(&out, 0);
    assert_eq!(iam_posts_to(&s, SECURITY_TOKENS_PATH).len(), 2);
    let entries: Vec<String> = dir_entries(&cache)
        .into_iter()
        .filter(|f| f.ends_with(".json"))
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    for entry in entries {
        let text = std::fs::read_to_string(cache.join(entry)).unwrap();
        for keys in s.cloud.temporaries() {
            assert!(!text.contains(&keys.secret) && !text.contains(&keys.token));
        }
        assert!(!text.contains(&id_token));
    }
}

#[test]
fn a_fleet_of_cce_and_ucs_clusters_exchanges_once() {
    let s = Sandbox::new();
    let fleet = s.write_home_file(
        "fleet.yaml",
        &format!(
            "apiVersion: kubefetch/v1\nkind: Fleet\nname: ci\nclusters:\n\
             - {{provider: cce, region: cn-north-4, ids: [{CCE_CLUSTER}]}}\n\
             - {{provider: ucs, ids: [{UCS_CLUSTER}]}}\n"
        ),
    );
    let (mut cmd, _) = with_oidc(&s);
    cmd.arg("sync").arg(&fleet);
    assert_code(&cmd.output().unwrap(), 0);
    assert_eq!(iam_posts_to(&s, ID_TOKEN_PATH).len(), 1);
    assert_eq!(iam_posts_to(&s, SECURITY_TOKENS_PATH).len(), 1);
    let keys = only_temporary(&s);
    for request in s
        .requests_to(Provider::Cce)
        .iter()
        .chain(&s.requests_to(Provider::Ucs))
    {
        assert_signed_with(request, &keys);
    }
    assert_eq!(names(&yaml(&s.default_kubeconfig()), "contexts").len(), 2);
}

#[test]
fn keys_that_have_already_expired_exit_5_and_write_nothing() {
    let s = Sandbox::new();
    let (cmd, _) = with_oidc(&s);
    s.cloud.issue_expired_keys(1);
    let out = run(cmd, &cce(CCE_CLUSTER));
    assert_code(&out, 5);
    assert!(stderr(&out).contains("already past"), "{}", stderr(&out));
    assert!(!s.default_kubeconfig().exists());
    assert!(s.requests_to(Provider::Cce).is_empty());
}
