//! Tencent Cloud's keyless credentials (DESIGN.md section 11) end to end
//! against the fake cloud: a CI job's OIDC token exchanged at STS
//! (`AssumeRoleWithWebIdentity`), a role assumed with the credential found
//! (`AssumeRole`), and the CVM's role from the metadata service.

mod common;

use std::path::PathBuf;

use common::*;
use fakecloud::{fixtures, Fault, FaultKind, Provider, Recorded};

const CLUSTER: &str = fixtures::TKE_CLUSTER;
const REGION: &str = fixtures::TENCENT_REGION;
const CONTEXT: &str = "tke-cls-65r1c5nu";
const OTHER_ROLE: &str = "qcs::cam::uin/100012345678:roleName/someone-else";

/// kubefetch without the fake's static Tencent keys.
fn command(s: &Sandbox) -> assert_cmd::Command {
    let mut cmd = s.kubefetch();
    cmd.env_remove("TENCENTCLOUD_SECRET_ID")
        .env_remove("TENCENTCLOUD_SECRET_KEY");
    cmd
}

/// A token file holding `token` (with the newline `echo` writes).
fn token_file(s: &Sandbox, token: &str) -> PathBuf {
    s.write_home_file("oidc/token", &format!("{token}\n"))
}

/// kubefetch with the TKE OIDC variables, the token file given.
fn oidc(s: &Sandbox, file: &PathBuf) -> assert_cmd::Command {
    let mut cmd = command(s);
    cmd.env("TKE_ROLE_ARN", fixtures::TENCENT_ROLE_ARN)
        .env("TKE_PROVIDER_ID", fixtures::TENCENT_PROVIDER_ID)
        .env("TKE_WEB_IDENTITY_TOKEN_FILE", file);
    cmd
}

fn fetch(mut cmd: assert_cmd::Command) -> std::process::Output {
    cmd.args(["tke", CLUSTER, "--region", REGION, "-v"])
        .output()
        .unwrap()
}

/// Runs a fetch that must exit with `exit`; its stderr must mention `needle`.
fn fails(cmd: assert_cmd::Command, exit: i32, needle: &str) -> String {
    let out = fetch(cmd);
    assert_code(&out, exit);
    let err = stderr(&out);
    assert!(err.contains(needle), "{needle} not in: {err}");
    err
}

fn header<'a>(request: &'a Recorded, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn body(request: &Recorded) -> serde_json::Value {
    serde_json::from_slice(&request.body).expect("a JSON body")
}

/// The TKE requests all carried the one temporary credential issued for
/// `role`: its SecretId in the signature and its token in `X-TC-Token`.
fn assert_tke_used_temporary_keys_of(s: &Sandbox, role: &str) {
    let issued: Vec<_> = s
        .cloud
        .temporaries()
        .into_iter()
        .filter(|t| t.role == role)
        .collect();
    assert_eq!(issued.len(), 1, "one exchange for {role}");
    let tke = s.requests_to(Provider::Tke);
    assert!(!tke.is_empty());
    for request in &tke {
        assert_eq!(request.status, 200);
        assert_eq!(
            header(request, "x-tc-token"),
            Some(issued[0].token.as_str())
        );
        let authorization = header(request, "authorization").unwrap();
        assert!(
            authorization.contains(&format!("Credential={}/", issued[0].access_key_id)),
            "{authorization}"
        );
    }
}

fn assert_fetched(s: &Sandbox, out: &std::process::Output) {
    assert_code(out, 0);
    let config = yaml(&s.default_kubeconfig());
    assert_eq!(names(&config, "contexts"), [CONTEXT]);
}

#[test]
fn an_oidc_token_is_exchanged_once_and_its_keys_sign_tke() {
    let s = Sandbox::new();
    let token = s.cloud.oidc_token(chrono::Duration::hours(1));
    let file = token_file(&s, &token);
    let out = fetch(oidc(&s, &file));
    assert_fetched(&s, &out);

    let sts = s.requests_to(Provider::TencentSts);
    assert_eq!(sts.len(), 1, "one exchange per run");
    let exchange = &sts[0];
    assert_eq!(
        header(exchange, "x-tc-action"),
        Some("AssumeRoleWithWebIdentity")
    );
    assert_eq!(header(exchange, "authorization"), Some("SKIP"));
    assert_eq!(header(exchange, "x-tc-version"), Some("2018-08-13"));
    assert_eq!(header(exchange, "x-tc-region"), Some(REGION));
    assert_eq!(header(exchange, "x-tc-token"), None);
    let params = body(exchange);
    assert_eq!(
        params["WebIdentityToken"],
        token.as_str(),
        "newline stripped"
    );
    assert_eq!(params["RoleArn"], fixtures::TENCENT_ROLE_ARN);
    assert_eq!(params["ProviderId"], fixtures::TENCENT_PROVIDER_ID);
    assert_eq!(params["DurationSeconds"], 3600);
    assert!(params["RoleSessionName"]
        .as_str()
        .unwrap()
        .starts_with("kubefetch-"));
    assert_tke_used_temporary_keys_of(&s, fixtures::TENCENT_ROLE_ARN);
    assert_eq!(s.metadata_requests(), 0);
    assert!(
        stderr(&out).contains(
            "credentials: OIDC (TKE_ROLE_ARN, TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE)"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn tke_region_picks_the_sts_region_and_discovery_exchanges_first() {
    let s = Sandbox::new();
    let file = token_file(&s, &s.cloud.oidc_token(chrono::Duration::hours(1)));
    let mut cmd = oidc(&s, &file);
    cmd.env("TKE_REGION", "ap-shanghai")
        .args(["discover", "tke", "--region", REGION]);
    let out = cmd.output().unwrap();
    assert_code(&out, 0);
    let sts = s.requests_to(Provider::TencentSts);
    assert_eq!(sts.len(), 1);
    assert_eq!(header(&sts[0], "x-tc-region"), Some("ap-shanghai"));
    assert_tke_used_temporary_keys_of(&s, fixtures::TENCENT_ROLE_ARN);
    assert_eq!(
        header(&s.requests_to(Provider::Tke)[0], "x-tc-region"),
        Some(REGION),
        "TKE keeps the command's region"
    );
}

#[test]
fn the_cvm_role_comes_from_the_metadata_service() {
    let s = Sandbox::new();
    let mut cmd = command(&s);
    cmd.env("TENCENTCLOUD_CAM_ROLE_NAME", fixtures::TENCENT_CVM_ROLE);
    let out = fetch(cmd);
    assert_fetched(&s, &out);
    let asked = s.requests_to(Provider::TencentMetadata);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].method, "GET");
    assert_eq!(
        asked[0].path,
        format!(
            "/latest/meta-data/cam/security-credentials/{}",
            fixtures::TENCENT_CVM_ROLE
        )
    );
    assert!(s.requests_to(Provider::TencentSts).is_empty());
    assert_tke_used_temporary_keys_of(&s, fixtures::TENCENT_CVM_ROLE);
    assert!(stderr(&out).contains("credentials: CVM role (TENCENTCLOUD_CAM_ROLE_NAME)"));
}

#[test]
fn a_role_is_assumed_with_static_keys() {
    let s = Sandbox::new();
    let mut cmd = s.kubefetch();
    cmd.env("TENCENTCLOUD_ASSUME_ROLE_ARN", fixtures::TENCENT_ROLE_ARN)
        .env("TENCENTCLOUD_ASSUME_ROLE_SESSION_NAME", "deploy-42");
    let out = fetch(cmd);
    assert_fetched(&s, &out);
    let sts = s.requests_to(Provider::TencentSts);
    assert_eq!(sts.len(), 1);
    assert_eq!(header(&sts[0], "x-tc-action"), Some("AssumeRole"));
    let authorization = header(&sts[0], "authorization").unwrap();
    assert!(
        authorization.contains(&format!("Credential={}/", fixtures::TENCENT_SECRET_ID))
            && authorization.contains("/sts/tc3_request"),
        "{authorization}"
    );
    let params = body(&sts[0]);
    assert_eq!(params["RoleArn"], fixtures::TENCENT_ROLE_ARN);
    assert_eq!(params["RoleSessionName"], "deploy-42");
    assert_eq!(params["DurationSeconds"], 3600);
    assert_tke_used_temporary_keys_of(&s, fixtures::TENCENT_ROLE_ARN);
    assert!(stderr(&out).contains(
        "credentials: environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY), assuming the role in TENCENTCLOUD_ASSUME_ROLE_ARN"
    ));
}

#[test]
fn a_tccli_profiles_role_arn_is_assumed_with_its_keys() {
    let s = Sandbox::new();
    s.write_home_file(
        ".tccli/ci.credential",
        &serde_json::json!({
            "secretId": fixtures::TENCENT_SECRET_ID,
            "secretKey": fixtures::TENCENT_SECRET_KEY,
            "role-arn": fixtures::TENCENT_ROLE_ARN,
            "role-session-name": "tccli-session",
        })
        .to_string(),
    );
    let mut cmd = command(&s);
    cmd.env("TCCLI_PROFILE", "ci");
    let out = fetch(cmd);
    assert_fetched(&s, &out);
    let sts = s.requests_to(Provider::TencentSts);
    assert_eq!(sts.len(), 1);
    assert_eq!(body(&sts[0])["RoleSessionName"], "tccli-session");
    assert_tke_used_temporary_keys_of(&s, fixtures::TENCENT_ROLE_ARN);
}

#[test]
fn a_role_is_assumed_on_top_of_the_oidc_keys() {
    let s = Sandbox::new();
    let file = token_file(&s, &s.cloud.oidc_token(chrono::Duration::hours(1)));
    let mut cmd = oidc(&s, &file);
    cmd.env("TENCENTCLOUD_ASSUME_ROLE_ARN", fixtures::TENCENT_ROLE_ARN);
    let out = fetch(cmd);
    assert_fetched(&s, &out);
    let sts = s.requests_to(Provider::TencentSts);
    let actions: Vec<_> = sts.iter().map(|r| header(r, "x-tc-action")).collect();
    assert_eq!(
        actions,
        [Some("AssumeRoleWithWebIdentity"), Some("AssumeRole")]
    );
    let oidc_keys = s
        .cloud
        .temporaries()
        .into_iter()
        .find(|t| {
            header(&sts[1], "authorization")
                .unwrap()
                .contains(&format!("Credential={}/", t.access_key_id))
        })
        .expect("AssumeRole signed with the OIDC exchange's keys");
    assert_eq!(
        header(&sts[1], "x-tc-token"),
        Some(oidc_keys.token.as_str())
    );
    let assumed = s
        .cloud
        .temporaries()
        .into_iter()
        .find(|t| t.access_key_id != oidc_keys.access_key_id)
        .expect("the assumed role's keys");
    let tke = &s.requests_to(Provider::Tke)[0];
    assert_eq!(header(tke, "x-tc-token"), Some(assumed.token.as_str()));
}

#[test]
fn static_keys_beat_oidc_and_oidc_beats_the_cvm_role() {
    let s = Sandbox::new();
    let file = token_file(&s, &s.cloud.oidc_token(chrono::Duration::hours(1)));
    let mut cmd = oidc(&s, &file);
    cmd.env("TENCENTCLOUD_SECRET_ID", fixtures::TENCENT_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", fixtures::TENCENT_SECRET_KEY)
        .env("TENCENTCLOUD_CAM_ROLE_NAME", fixtures::TENCENT_CVM_ROLE);
    assert_fetched(&s, &fetch(cmd));
    assert!(s.requests_to(Provider::TencentSts).is_empty());
    assert_eq!(s.metadata_requests(), 0);
    assert_eq!(header(&s.requests_to(Provider::Tke)[0], "x-tc-token"), None);

    let mut cmd = oidc(&s, &file);
    cmd.env("TENCENTCLOUD_CAM_ROLE_NAME", fixtures::TENCENT_CVM_ROLE);
    assert_fetched(&s, &fetch(cmd));
    assert_eq!(s.requests_to(Provider::TencentSts).len(), 1);
    assert_eq!(s.metadata_requests(), 0);
}

#[test]
fn refused_exchanges_exit_3_with_the_code_and_request_id() {
    let s = Sandbox::new();
    let valid = s.cloud.oidc_token(chrono::Duration::hours(1));
    let expired = s.cloud.oidc_token(-chrono::Duration::minutes(1));
    let cases = [
        (valid.as_str(), OTHER_ROLE, "UnauthorizedOperation"),
        (
            expired.as_str(),
            fixtures::TENCENT_ROLE_ARN,
            "InvalidParameter.WebIdentityTokenError",
        ),
        (
            "not-a-jwt",
            fixtures::TENCENT_ROLE_ARN,
            "InvalidParameter.WebIdentityTokenError",
        ),
    ];
    for (token, role, code) in cases {
        let file = token_file(&s, token);
        let mut cmd = oidc(&s, &file);
        cmd.env("TKE_ROLE_ARN", role);
        let err = fails(cmd, 3, code);
        assert!(err.contains("request id"), "{err}");
        assert!(err.contains("TKE_WEB_IDENTITY_TOKEN_FILE"), "hint: {err}");
        assert!(!err.contains(token) || token == "not-a-jwt", "{err}");
    }

    let mut cmd = s.kubefetch();
    cmd.env("TENCENTCLOUD_ASSUME_ROLE_ARN", OTHER_ROLE);
    let err = fails(cmd, 3, "ResourceNotFound.RoleNotFound");
    assert!(err.contains("request id"), "{err}");
    assert!(err.contains("TENCENTCLOUD_ASSUME_ROLE_ARN"), "{err}");

    assert!(s.requests_to(Provider::Tke).is_empty());
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn a_missing_or_empty_token_file_fails_before_any_request() {
    let s = Sandbox::new();
    let empty = s.write_home_file("oidc/empty", "\n");
    let missing = s.home.path().join("oidc/missing");
    for file in [empty, missing] {
        let err = fails(oidc(&s, &file), 3, "TKE_WEB_IDENTITY_TOKEN_FILE");
        assert!(err.contains(file.to_str().unwrap()), "{err}");
        assert!(
            err.contains("hint: fix what is named above, or unset it"),
            "{err}"
        );
    }
    assert!(s.cloud.requests().is_empty());
}

#[test]
fn malformed_role_arns_fail_before_any_request() {
    let s = Sandbox::new();
    let file = token_file(&s, &s.cloud.oidc_token(chrono::Duration::hours(1)));
    let mut cmd = oidc(&s, &file);
    cmd.env("TKE_ROLE_ARN", "roleName/kubefetch-ci");
    fails(
        cmd,
        3,
        "TKE_ROLE_ARN 'roleName/kubefetch-ci' is not a CAM role ARN",
    );

    let mut cmd = s.kubefetch();
    cmd.env("TENCENTCLOUD_ASSUME_ROLE_ARN", "qcs::cam::uin/x:roleName/y");
    fails(
        cmd,
        3,
        "TENCENTCLOUD_ASSUME_ROLE_ARN 'qcs::cam::uin/x:roleName/y'",
    );
    assert!(s.cloud.requests().is_empty());
}

#[test]
fn without_its_variable_the_metadata_service_is_never_asked() {
    let s = Sandbox::new();
    assert_fetched(&s, &fetch(s.kubefetch()));
    fails(command(&s), 3, "TENCENTCLOUD_CAM_ROLE_NAME is not set");
    assert_eq!(s.metadata_requests(), 0);
}

#[test]
fn an_unreachable_metadata_service_names_the_variable() {
    let s = Sandbox::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut cmd = command(&s);
    cmd.env("TENCENTCLOUD_CAM_ROLE_NAME", fixtures::TENCENT_CVM_ROLE)
        .env(
            "KUBEFETCH_TENCENT_METADATA_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        );
    let err = fails(cmd, 3, "metadata service did not answer");
    assert!(err.contains("TENCENTCLOUD_CAM_ROLE_NAME"), "{err}");
    assert!(!s.default_kubeconfig().exists());
}

#[test]
fn a_metadata_service_that_connects_but_never_answers_names_the_variable() {
    let s = Sandbox::new();
    s.cloud.inject(
        Fault::new(FaultKind::Delay(std::time::Duration::from_secs(30)))
            .for_provider(Provider::TencentMetadata),
    );
    let mut cmd = command(&s);
    cmd.env("TENCENTCLOUD_CAM_ROLE_NAME", fixtures::TENCENT_CVM_ROLE)
        .args(["tke", CLUSTER, "--region", REGION, "--timeout", "60"]);
    let out = cmd.output().unwrap();
    assert_code(&out, 3);
    let err = stderr(&out);
    assert!(err.contains("metadata service did not answer"), "{err}");
    assert!(err.contains("TENCENTCLOUD_CAM_ROLE_NAME"), "{err}");
    assert_eq!(
        s.requests_to(Provider::TencentMetadata).len(),
        1,
        "no retry"
    );
    assert!(s.requests_to(Provider::Tke).is_empty());
}

#[test]
fn an_unknown_cvm_role_is_a_credentials_failure() {
    let s = Sandbox::new();
    let mut cmd = command(&s);
    cmd.env("TENCENTCLOUD_CAM_ROLE_NAME", "not-attached");
    fails(cmd, 3, "this CVM has no CAM role 'not-attached'");
    assert!(s.requests_to(Provider::Tke).is_empty());
}

#[test]
fn answers_without_credentials_exit_5_and_write_nothing() {
    let s = Sandbox::new();
    let before = s.write_home_file(
        ".kube/config",
        "apiVersion: v1\nkind: Config\npreferences: {}\n",
    );
    let original = std::fs::read(&before).unwrap();
    let file = token_file(&s, &s.cloud.oidc_token(chrono::Duration::hours(1)));
    for provider in [Provider::TencentSts, Provider::TencentMetadata] {
        s.cloud.inject(Fault {
            provider: Some(provider),
            cluster_id: None,
            times: 1,
            kind: FaultKind::MissingFields,
        });
        let mut cmd = match provider {
            Provider::TencentSts => oidc(&s, &file),
            _ => command(&s),
        };
        cmd.env("TENCENTCLOUD_CAM_ROLE_NAME", fixtures::TENCENT_CVM_ROLE);
        fails(cmd, 5, "without temporary credentials");
        assert_eq!(std::fs::read(&before).unwrap(), original);
    }
    assert!(s.requests_to(Provider::Tke).is_empty());
}

#[test]
fn the_token_file_is_read_afresh_for_each_run() {
    let s = Sandbox::new();
    let first = s.cloud.oidc_token(chrono::Duration::hours(1));
    let file = token_file(&s, &first);
    assert_fetched(&s, &fetch(oidc(&s, &file)));
    let second = s.cloud.oidc_token(chrono::Duration::hours(1));
    token_file(&s, &second);
    assert_fetched(&s, &fetch(oidc(&s, &file)));
    let sent: Vec<_> = s
        .requests_to(Provider::TencentSts)
        .iter()
        .map(|r| body(r)["WebIdentityToken"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent, [first, second]);
}

#[test]
fn exec_entries_are_keyed_by_the_role() {
    let s = Sandbox::new();
    let file = token_file(&s, &s.cloud.oidc_token(chrono::Duration::hours(1)));
    let mut cmd = oidc(&s, &file);
    cmd.args(["tke", CLUSTER, "--region", REGION, "--exec"]);
    assert_code(&cmd.output().unwrap(), 0);
    let cache = s.home.path().join(".kube/cache/kubefetch");
    let entries = || {
        dir_entries(&cache)
            .into_iter()
            .filter(|n| n.ends_with(".json"))
            .count()
    };
    assert_eq!(entries(), 1);

    // Served from the entry: no exchange, no TKE request.
    let mut cmd = oidc(&s, &file);
    cmd.args(["credential", "tke", CLUSTER, "--region", REGION]);
    let out = cmd.output().unwrap();
    assert_code(&out, 0);
    assert!(stdout(&out).contains("ExecCredential"));
    assert_eq!(s.requests_to(Provider::TencentSts).len(), 1);
    assert_eq!(s.requests_to(Provider::Tke).len(), 1);

    // Another role is another entry.
    let mut cmd = command(&s);
    cmd.env("TENCENTCLOUD_CAM_ROLE_NAME", fixtures::TENCENT_CVM_ROLE)
        .args(["credential", "tke", CLUSTER, "--region", REGION]);
    assert_code(&cmd.output().unwrap(), 0);
    assert_eq!(entries(), 2);
    assert_eq!(s.requests_to(Provider::Tke).len(), 2);
}

#[test]
fn no_secret_reaches_the_output_or_the_kubeconfig() {
    let s = Sandbox::new();
    let token = s.cloud.oidc_token(chrono::Duration::hours(1));
    let file = token_file(&s, &token);
    let mut outputs = Vec::new();
    let mut cmd = oidc(&s, &file);
    cmd.env("TENCENTCLOUD_ASSUME_ROLE_ARN", fixtures::TENCENT_ROLE_ARN);
    outputs.push(fetch(cmd));
    let mut cmd = command(&s);
    cmd.env("TENCENTCLOUD_CAM_ROLE_NAME", fixtures::TENCENT_CVM_ROLE);
    outputs.push(fetch(cmd));
    let mut cmd = s.kubefetch();
    cmd.env("TENCENTCLOUD_ASSUME_ROLE_ARN", fixtures::TENCENT_ROLE_ARN);
    outputs.push(fetch(cmd));
    let mut cmd = oidc(&s, &file);
    cmd.env("TKE_ROLE_ARN", OTHER_ROLE);
    outputs.push(fetch(cmd));

    let temporaries = s.cloud.temporaries();
    assert_eq!(temporaries.len(), 4);
    let mut secrets = vec![token.clone(), fixtures::TENCENT_SECRET_KEY.to_string()];
    for t in &temporaries {
        secrets.push(t.secret.clone());
        secrets.push(t.token.clone());
    }
    let kubeconfig = std::fs::read_to_string(s.default_kubeconfig()).unwrap();
    for out in &outputs {
        let text = format!("{}{}", stdout(out), stderr(out));
        assert!(text.contains("credentials: "), "-v is on: {text}");
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret in the output: {text}"
            );
        }
    }
    for secret in &secrets {
        assert!(
            !kubeconfig.contains(secret.as_str()),
            "a secret in the kubeconfig"
        );
    }
}

#[test]
fn a_fleet_over_two_regions_exchanges_once() {
    let s = Sandbox::new();
    let file = token_file(&s, &s.cloud.oidc_token(chrono::Duration::hours(1)));
    let fleet = s.write_home_file(
        "fleet.yaml",
        "apiVersion: kubefetch/v1\nkind: Fleet\nname: ci\nclusters:\n\
         - {provider: tke, region: ap-guangzhou, ids: [cls-a]}\n\
         - {provider: tke, region: ap-shanghai, ids: [cls-b]}\n",
    );
    let mut cmd = oidc(&s, &file);
    cmd.arg("sync").arg(&fleet);
    assert_code(&cmd.output().unwrap(), 0);
    assert_eq!(s.requests_to(Provider::TencentSts).len(), 1);
    let tke = s.requests_to(Provider::Tke);
    let regions: Vec<_> = tke.iter().map(|r| header(r, "x-tc-region")).collect();
    assert_eq!(regions.len(), 2);
    assert!(regions.contains(&Some("ap-shanghai")), "{regions:?}");
    assert_tke_used_temporary_keys_of(&s, fixtures::TENCENT_ROLE_ARN);
}

#[test]
fn keys_that_have_already_expired_exit_5_and_write_nothing() {
    let s = Sandbox::new();
    let file = token_file(&s, &s.cloud.oidc_token(chrono::Duration::hours(1)));
    s.cloud.issue_expired_keys(1);
    fails(oidc(&s, &file), 5, "already past");
    assert!(!s.default_kubeconfig().exists());
    assert!(s.requests_to(Provider::Tke).is_empty());
}
