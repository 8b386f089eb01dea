//! The fake Huawei IAM's keyless exchanges and ECS metadata service, spoken
//! to directly: what they accept, what they refuse, and that the unscoped
//! token of an OIDC exchange opens neither CCE nor UCS.

mod common;

use common::*;
use fakecloud::fixtures::*;
use fakecloud::FakeCloud;
use serde_json::json;

const ID_TOKEN: &str = "/v3.0/OS-AUTH/id-token/tokens";
const SECURITY_TOKENS: &str = "/v3.0/OS-CREDENTIAL/securitytokens";

async fn exchange_id_token(
    cloud: &FakeCloud,
    idp: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value, Option<String>) {
    let (status, answer, headers) = send(
        cloud,
        "POST",
        ID_TOKEN,
        &[("X-Idp-Id".into(), idp.into())],
        body.to_string().into_bytes(),
    )
    .await;
    assert!(headers.contains_key("x-request-id"));
    let token = headers
        .get("x-subject-token")
        .map(|t| t.to_str().unwrap().to_string());
    (status, json(&answer), token)
}

fn id_token_body(token: &str) -> serde_json::Value {
    json!({"auth": {"id_token": {"id": token}}})
}

#[tokio::test]
async fn an_id_token_gives_an_unscoped_token_that_cce_and_ucs_refuse() {
    let cloud = FakeCloud::start();
    let oidc = cloud.oidc_token(chrono::Duration::hours(1));
    let (status, answer, token) =
        exchange_id_token(&cloud, HUAWEI_IDP_ID, id_token_body(&oidc)).await;
    assert_eq!(status, 201, "{answer}");
    assert!(answer["token"]["project"].is_null());
    let unscoped = [("X-Auth-Token".to_string(), token.unwrap())];
    let cce = cce_path(HUAWEI_PROJECT_CN_NORTH_4, CCE_CLUSTER);
    assert_eq!(
        send(&cloud, "GET", &cce, &unscoped, Vec::new()).await.0,
        401
    );
    let ucs = format!("/v1/clusters/{UCS_CLUSTER}/kubeconfig");
    assert_eq!(
        send(&cloud, "POST", &ucs, &unscoped, Vec::new()).await.0,
        401
    );

    // Asked for a project, the same exchange gives a token CCE takes.
    let scoped_body = json!({"auth": {"id_token": {"id": oidc},
        "scope": {"project": {"id": HUAWEI_PROJECT_CN_NORTH_4}}}});
    let (status, _, token) = exchange_id_token(&cloud, HUAWEI_IDP_ID, scoped_body).await;
    assert_eq!(status, 201);
    let scoped = [("X-Auth-Token".to_string(), token.unwrap())];
    assert_eq!(send(&cloud, "GET", &cce, &scoped, Vec::new()).await.0, 200);
}

#[tokio::test]
async fn id_tokens_are_refused_with_iams_codes() {
    let cloud = FakeCloud::start();
    let valid = cloud.oidc_token(chrono::Duration::hours(1));
    let expired = cloud.oidc_token(chrono::Duration::minutes(-1));
    let never_written = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
    for (idp, token, status, code) in [
        ("other-idp", valid.as_str(), 404, "IAM.0004"),
        (HUAWEI_IDP_ID, "not a jwt", 400, "IAM.0011"),
        (HUAWEI_IDP_ID, never_written, 401, "IAM.0007"),
        (HUAWEI_IDP_ID, expired.as_str(), 401, "IAM.0008"),
    ] {
        let (got, answer, subject) = exchange_id_token(&cloud, idp, id_token_body(token)).await;
        assert_eq!((got, answer["error_code"].as_str()), (status, Some(code)));
        assert!(subject.is_none());
    }
}

async fn security_tokens(
    cloud: &FakeCloud,
    headers: &[(String, String)],
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let (status, answer, _) = send(
        cloud,
        "POST",
        SECURITY_TOKENS,
        headers,
        body.to_string().into_bytes(),
    )
    .await;
    (status, json(&answer))
}

fn assume_role(agency: &str, seconds: i64) -> serde_json::Value {
    json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
        "agency_name": agency, "domain_name": HUAWEI_DOMAIN_NAME, "duration_seconds": seconds}}}})
}

fn signed(cloud: &FakeCloud, body: &serde_json::Value) -> Vec<(String, String)> {
    huawei_headers(
        cloud,
        "POST",
        SECURITY_TOKENS,
        &[],
        &[],
        body.to_string().as_bytes(),
        &Huawei::default(),
    )
}

#[tokio::test]
async fn the_fixture_agency_is_assumed_by_signed_callers_for_a_valid_duration() {
    let cloud = FakeCloud::start();
    let body = assume_role(HUAWEI_AGENCY_NAME, 3600);
    let (status, answer) = security_tokens(&cloud, &signed(&cloud, &body), &body).await;
    assert_eq!(status, 201, "{answer}");
    let credential = &answer["credential"];
    let issued = cloud.temporaries();
    assert_eq!(issued.len(), 1);
    assert_eq!(credential["access"], issued[0].access_key_id.as_str());
    assert_eq!(credential["securitytoken"], issued[0].token.as_str());
    assert!(credential["expires_at"].as_str().unwrap().ends_with('Z'));
    let lasts = issued[0].expires_at - chrono::Utc::now();
    assert!((3500..=3600).contains(&lasts.num_seconds()), "{lasts}");

    let (status, answer) = security_tokens(&cloud, &[], &body).await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (401, Some("APIGW.0301"))
    );
    let wrong = assume_role("not-ours", 3600);
    let (status, answer) = security_tokens(&cloud, &signed(&cloud, &wrong), &wrong).await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (403, Some("IAM.0003"))
    );
    for seconds in [899, 86401] {
        let body = assume_role(HUAWEI_AGENCY_NAME, seconds);
        let (status, answer) = security_tokens(&cloud, &signed(&cloud, &body), &body).await;
        assert_eq!(
            (status, answer["error_code"].as_str()),
            (400, Some("IAM.0011"))
        );
    }
    let token = [("X-Auth-Token".to_string(), cloud.issue_token())];
    assert_eq!(security_tokens(&cloud, &token, &body).await.0, 201);
}

#[tokio::test]
async fn a_token_the_fake_issued_buys_temporary_keys() {
    let cloud = FakeCloud::start();
    let by_token = |id: &str| {
        json!({"auth": {"identity": {"methods": ["token"],
            "token": {"id": id, "duration_seconds": 900}}}})
    };
    let token = cloud.issue_token();
    let (status, answer) = security_tokens(&cloud, &[], &by_token(&token)).await;
    assert_eq!(status, 201, "{answer}");
    assert!(answer["credential"]["secret"].is_string());
    let (status, answer) = security_tokens(&cloud, &[], &by_token("MIIunknown")).await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (401, Some("IAM.0007"))
    );
}

#[tokio::test]
async fn the_metadata_service_wants_its_session_token_first() {
    let cloud = FakeCloud::start();
    let key = "/openstack/latest/securitykey";
    assert_eq!(send(&cloud, "GET", key, &[], Vec::new()).await.0, 401);
    let bogus = [("X-Metadata-Token".to_string(), "made-up".to_string())];
    assert_eq!(send(&cloud, "GET", key, &bogus, Vec::new()).await.0, 401);
    assert!(cloud.temporaries().is_empty());

    let token_path = "/meta-data/latest/api/token";
    assert_eq!(
        send(&cloud, "PUT", token_path, &[], Vec::new()).await.0,
        400
    );
    let ttl = [("X-Metadata-Token-Ttl-Seconds".to_string(), "60".to_string())];
    let (status, token, _) = send(&cloud, "PUT", token_path, &ttl, Vec::new()).await;
    assert_eq!(status, 200);
    let session = [(
        "X-Metadata-Token".to_string(),
        String::from_utf8(token).unwrap(),
    )];
    let (status, answer, _) = send(&cloud, "GET", key, &session, Vec::new()).await;
    assert_eq!(status, 200);
    let credential = &json(&answer)["credential"];
    assert_eq!(
        credential["access"],
        cloud.temporaries()[0].access_key_id.as_str()
    );
}
