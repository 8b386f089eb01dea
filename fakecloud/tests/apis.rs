//! Each fake API accepts a request signed as the official SDKs sign it, answers in
//! the cloud's shape, and rejects a tampered one with the cloud's own error code.

mod common;

use chrono::Utc;
use common::*;
use fakecloud::fixtures::*;
use fakecloud::{Cluster, FakeCloud, Provider};
use serde_json::Value;

fn yaml(text: &str) -> Value {
    kubefetch::yaml::read_first(text).expect("YAML")
}

#[tokio::test]
async fn tke_answers_a_signed_request_with_a_twenty_year_kubeconfig() {
    let cloud = FakeCloud::start();
    let (status, body) = tke(&cloud, TKE_CLUSTER, true).await;
    assert_eq!(status, 200, "{body}");
    let config = yaml(body["Response"]["Kubeconfig"].as_str().expect("Kubeconfig"));
    assert!(body["Response"]["RequestId"].is_string());
    assert_eq!(config["clusters"][0]["name"], TKE_CLUSTER);
    assert_eq!(
        config["clusters"][0]["cluster"]["server"],
        cloud.kube_url(false)
    );
    assert_eq!(config["users"][0]["name"], TENCENT_UIN);
    let context = format!("{TKE_CLUSTER}-{TENCENT_UIN}-context-default");
    assert_eq!(config["current-context"], context.as_str());
    let cert = config["users"][0]["user"]["client-certificate-data"]
        .as_str()
        .unwrap();
    assert_eq!(common_name(cert), TENCENT_UIN);
    let (not_before, not_after) = validity(cert);
    assert!(not_after - not_before >= 20 * 365 * 86400);

    let (_, private) = tke(&cloud, TKE_CLUSTER, false).await;
    let config = yaml(private["Response"]["Kubeconfig"].as_str().unwrap());
    assert_eq!(
        config["clusters"][0]["cluster"]["server"],
        cloud.kube_url(true)
    );
}

#[tokio::test]
async fn tke_rejects_bad_credentials_stale_time_and_unknown_clusters() {
    let cloud = FakeCloud::start();
    let body = r#"{"ClusterId":"cls-a","IsExtranet":true}"#;
    let cases = [
        (
            Tencent {
                secret_key: "not-the-secret",
                ..Tencent::default()
            },
            "AuthFailure.SignatureFailure",
        ),
        (
            Tencent {
                secret_id: "AKIDunknown",
                ..Tencent::default()
            },
            "AuthFailure.SecretIdNotFound",
        ),
        (
            Tencent {
                timestamp: Utc::now().timestamp() - 301,
                ..Tencent::default()
            },
            "AuthFailure.SignatureExpire",
        ),
        (
            Tencent {
                secret_id: TENCENT_TMP_SECRET_ID,
                secret_key: TENCENT_TMP_SECRET_KEY,
                token: Some("wrong-token"),
                ..Tencent::default()
            },
            "AuthFailure.TokenFailure",
        ),
    ];
    for (creds, code) in cases {
        let headers = tke_headers(&cloud, body, &creds);
        let (status, answer, _) = send(&cloud, "POST", "/", &headers, body.into()).await;
        let answer = json(&answer);
        assert_eq!(status, 200, "Tencent errors come with HTTP 200");
        assert_eq!(answer["Response"]["Error"]["Code"], code, "{answer}");
    }
    let tmp = Tencent {
        secret_id: TENCENT_TMP_SECRET_ID,
        secret_key: TENCENT_TMP_SECRET_KEY,
        token: Some(TENCENT_TMP_TOKEN),
        ..Tencent::default()
    };
    let headers = tke_headers(&cloud, body, &tmp);
    let (_, answer, _) = send(&cloud, "POST", "/", &headers, body.into()).await;
    assert!(json(&answer)["Response"]["Kubeconfig"].is_string());

    let (_, answer) = tke(&cloud, "cls-nope", true).await;
    assert_eq!(
        answer["Response"]["Error"]["Code"],
        "ResourceNotFound.ClusterNotFound"
    );
}

#[tokio::test]
async fn tke_points_a_disabled_access_type_at_a_name_that_never_resolves() {
    let cloud = FakeCloud::start();
    cloud.add_cluster(Cluster {
        has_public: false,
        ..Cluster::new(Provider::Tke, "cls-intranet")
    });
    let (_, body) = tke(&cloud, "cls-intranet", true).await;
    let config = yaml(body["Response"]["Kubeconfig"].as_str().unwrap());
    assert_eq!(
        config["clusters"][0]["cluster"]["server"],
        "https://cls-intranet.ccs.tencent-cloud.invalid"
    );
}

#[tokio::test]
async fn ack_issues_a_certificate_valid_exactly_the_requested_minutes() {
    let cloud = FakeCloud::start();
    let query = pairs(&[
        ("PrivateIpAddress", "false"),
        ("TemporaryDurationMinutes", "60"),
    ]);
    let (status, body) = ack(&cloud, ACK_CLUSTER, &query, &Alibaba::default()).await;
    assert_eq!(status, 200, "{body}");
    let config = yaml(body["config"].as_str().expect("config"));
    assert_eq!(config["clusters"][0]["name"], "kubernetes");
    assert_eq!(config["users"][0]["name"], ALIBABA_ACCOUNT_UID);
    assert_eq!(
        config["current-context"],
        format!("{ALIBABA_ACCOUNT_UID}-{ACK_CLUSTER}").as_str()
    );
    assert_eq!(
        config["clusters"][0]["cluster"]["server"],
        cloud.kube_url(false)
    );
    let cert = config["users"][0]["user"]["client-certificate-data"]
        .as_str()
        .unwrap();
    let (not_before, not_after) = validity(cert);
    assert_eq!(not_after - not_before, 60 * 60);
    let expiration =
        chrono::DateTime::parse_from_rfc3339(body["expiration"].as_str().unwrap()).unwrap();
    assert_eq!(expiration.timestamp(), not_after);

    let (_, body) = ack(
        &cloud,
        ACK_CLUSTER,
        &pairs(&[("PrivateIpAddress", "True")]),
        &Alibaba::default(),
    )
    .await;
    let config = yaml(body["config"].as_str().unwrap());
    assert_eq!(
        config["clusters"][0]["cluster"]["server"],
        cloud.kube_url(true)
    );
    let (not_before, not_after) = validity(
        config["users"][0]["user"]["client-certificate-data"]
            .as_str()
            .unwrap(),
    );
    assert!(
        not_after - not_before >= 3 * 365 * 86400,
        "the default is about three years"
    );
}

#[tokio::test]
async fn ack_accepts_sts_and_roa_and_rejects_tampering_and_replays() {
    let cloud = FakeCloud::start();
    let query = pairs(&[("TemporaryDurationMinutes", "15")]);
    let sts = Alibaba {
        id: ALIBABA_STS_ACCESS_KEY_ID,
        secret: ALIBABA_STS_ACCESS_KEY_SECRET,
        token: Some(ALIBABA_STS_TOKEN),
        ..Alibaba::default()
    };
    assert_eq!(ack(&cloud, ACK_CLUSTER, &query, &sts).await.0, 200);

    let path = format!("/k8s/{ACK_CLUSTER}/user_config");
    let roa = ack_roa_headers(&path, &query, &Alibaba::default());
    let (status, body, _) = send(
        &cloud,
        "GET",
        &format!("{path}{}", query_string(&query)),
        &roa,
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));

    let cases = [
        (
            Alibaba {
                secret: "wrong",
                ..Alibaba::default()
            },
            "SignatureDoesNotMatch",
        ),
        (
            Alibaba {
                id: "LTAIunknown",
                ..Alibaba::default()
            },
            "InvalidAccessKeyId.NotFound",
        ),
        (
            Alibaba {
                date: Utc::now() - chrono::Duration::minutes(16),
                ..Alibaba::default()
            },
            "InvalidTimeStamp.Expired",
        ),
        (
            Alibaba { token: None, ..sts },
            "InvalidSecurityToken.Malformed",
        ),
    ];
    for (creds, code) in cases {
        let (status, body) = ack(&cloud, ACK_CLUSTER, &query, &creds).await;
        assert_eq!((status, body["code"].as_str()), (400, Some(code)), "{body}");
        assert!(body["requestId"].is_string());
    }

    let replayed = ack_acs3_headers(&cloud, &path, &query, &Alibaba::default());
    let url = format!("{path}{}", query_string(&query));
    assert_eq!(
        send(&cloud, "GET", &url, &replayed, Vec::new()).await.0,
        200
    );
    let (status, body, _) = send(&cloud, "GET", &url, &replayed, Vec::new()).await;
    assert_eq!(
        (status, json(&body)["code"].as_str()),
        (400, Some("SignatureNonceUsed"))
    );
}

#[tokio::test]
async fn ack_rejects_a_ttl_out_of_range_and_unknown_clusters() {
    let cloud = FakeCloud::start();
    for ttl in ["14", "4321", "sixty"] {
        let query = pairs(&[("TemporaryDurationMinutes", ttl)]);
        let (status, body) = ack(&cloud, ACK_CLUSTER, &query, &Alibaba::default()).await;
        assert_eq!(status, 400, "{ttl}: {body}");
        assert!(body["code"]
            .as_str()
            .unwrap()
            .starts_with("InvalidParameter"));
    }
    let (status, body) = ack(&cloud, "cnope", &[], &Alibaba::default()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("ErrorClusterNotFound"))
    );
}

#[tokio::test]
async fn cce_answers_a_kubeconfig_as_json_with_cce_names() {
    let cloud = FakeCloud::start();
    let (status, config) = cce(&cloud, CCE_CLUSTER, r#"{"duration": 30}"#).await;
    assert_eq!(status, 200, "{config}");
    let names = |key: &str| -> Vec<String> {
        config[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names("clusters"),
        [
            "internalCluster",
            "externalCluster",
            "externalClusterTLSVerify"
        ]
    );
    assert_eq!(
        names("contexts"),
        ["internal", "external", "externalTLSVerify"]
    );
    assert_eq!(names("users"), ["user"]);
    assert_eq!(config["current-context"], "external");
    assert_eq!(
        config["clusters"][1]["cluster"]["insecure-skip-tls-verify"],
        true
    );
    assert!(config["clusters"][1]["cluster"]
        .get("certificate-authority-data")
        .is_none());
    assert_eq!(
        config["clusters"][2]["cluster"]["server"],
        cloud.kube_url(false)
    );
    assert_eq!(
        config["clusters"][0]["cluster"]["server"],
        cloud.kube_url(true)
    );
    let (not_before, not_after) = validity(
        config["users"][0]["user"]["client-certificate-data"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(not_after - not_before, 30 * 86400);

    let (_, private) = cce(&cloud, CCE_PRIVATE_CLUSTER, r#"{"duration": -1}"#).await;
    assert_eq!(private["clusters"].as_array().unwrap().len(), 1);
    assert_eq!(private["current-context"], "internal");
}

#[tokio::test]
async fn cce_rejects_bad_durations_signatures_and_unknown_clusters() {
    let cloud = FakeCloud::start();
    for duration in ["0", "1828", "-2"] {
        let (status, body) = cce(
            &cloud,
            CCE_CLUSTER,
            &format!(r#"{{"duration": {duration}}}"#),
        )
        .await;
        assert_eq!(
            (status, body["errorCode"].as_str()),
            (400, Some("CCE.01400001"))
        );
    }
    let (status, body) = cce(
        &cloud,
        "4d5e6f70-0000-0000-0000-000000000000",
        r#"{"duration": 1}"#,
    )
    .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("CCE.01404001"))
    );

    let path = cce_path(HUAWEI_PROJECT_CN_NORTH_4, CCE_CLUSTER);
    let body = br#"{"duration": 1}"#;
    let project = [("X-Project-Id", HUAWEI_PROJECT_CN_NORTH_4)];
    for creds in [
        Huawei {
            sk: "wrong",
            ..Huawei::default()
        },
        Huawei {
            date: Utc::now() - chrono::Duration::minutes(16),
            ..Huawei::default()
        },
    ] {
        let headers = huawei_headers(&cloud, "POST", &path, &[], &project, body, &creds);
        let (status, answer, response_headers) =
            send(&cloud, "POST", &path, &headers, body.to_vec()).await;
        assert_eq!(
            (status, json(&answer)["error_code"].as_str()),
            (401, Some("APIGW.0301"))
        );
        assert!(response_headers.contains_key("x-request-id"));
    }
}

#[tokio::test]
async fn cce_accepts_iam_tokens_until_they_expire_and_the_legacy_get() {
    let cloud = FakeCloud::start();
    let token_body = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": HUAWEI_USER, "password": HUAWEI_PASSWORD, "domain": {"name": HUAWEI_DOMAIN_NAME}}}},
        "scope": {"project": {"name": HUAWEI_REGION}}}});
    let (status, body, headers) = send(
        &cloud,
        "POST",
        "/v3/auth/tokens",
        &[("Content-Type".into(), "application/json".into())],
        token_body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 201);
    assert!(json(&body)["token"]["expires_at"].is_string());
    let token = headers["x-subject-token"].to_str().unwrap().to_string();

    let path = cce_path(HUAWEI_PROJECT_CN_NORTH_4, CCE_CLUSTER);
    let auth = [("X-Auth-Token".to_string(), token.clone())];
    let (status, _, _) = send(&cloud, "GET", &path, &auth, Vec::new()).await;
    assert_eq!(status, 200, "the legacy GET still works");
    cloud.expire_tokens();
    let (status, body, _) = send(&cloud, "GET", &path, &auth, Vec::new()).await;
    assert_eq!(status, 401, "{}", String::from_utf8_lossy(&body));
    let unknown = [("X-Auth-Token".to_string(), "MIIunknown".to_string())];
    assert_eq!(
        send(&cloud, "GET", &path, &unknown, Vec::new()).await.0,
        401
    );
}

#[tokio::test]
async fn iam_issues_tokens_and_lists_projects_and_domains() {
    let cloud = FakeCloud::start();
    let body = |password: &str| {
        serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": HUAWEI_USER, "password": password, "domain": {"name": HUAWEI_DOMAIN_NAME}}}},
        "scope": {"project": {"name": "eu-de"}}}})
        .to_string()
        .into_bytes()
    };
    let (status, _, _) = send(&cloud, "POST", "/v3/auth/tokens", &[], body("wrong")).await;
    assert_eq!(status, 401);
    let (status, answer, _) = send(
        &cloud,
        "POST",
        "/v3/auth/tokens",
        &[],
        body(HUAWEI_PASSWORD),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        json(&answer)["token"]["project"]["id"],
        HUAWEI_PROJECT_EU_DE
    );

    let query = pairs(&[("name", HUAWEI_AMBIGUOUS_REGION)]);
    let headers = huawei_headers(
        &cloud,
        "GET",
        "/v3/projects",
        &query,
        &[],
        b"",
        &Huawei::default(),
    );
    let (status, answer, _) = send(
        &cloud,
        "GET",
        "/v3/projects?name=ap-dup",
        &headers,
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    let projects = json(&answer);
    let ids: Vec<&str> = projects["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, HUAWEI_PROJECTS_AP_DUP);

    let token = [("X-Auth-Token".to_string(), cloud.issue_token())];
    let (status, answer, _) = send(&cloud, "GET", "/v3/auth/domains", &token, Vec::new()).await;
    assert_eq!(status, 200);
    assert_eq!(json(&answer)["domains"][0]["id"], HUAWEI_DOMAIN_ID);
    assert_eq!(
        send(&cloud, "GET", "/v3/auth/domains", &[], Vec::new())
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn ucs_answers_201_with_a_string_insecure_flag() {
    let cloud = FakeCloud::start();
    let (status, config) = ucs(
        &cloud,
        "POST",
        &format!("/v1/clusters/{UCS_CLUSTER}/kubeconfig"),
    )
    .await;
    assert_eq!(status, 201, "{config}");
    assert_eq!(config["clusters"][1]["name"], "externalCluster");
    assert_eq!(
        config["clusters"][1]["cluster"]["insecure-skip-tls-verify"],
        "true"
    );
    let (status, _) = ucs(
        &cloud,
        "POST",
        &format!("/v1/clusters/{CCE_CLUSTER}/kubeconfig"),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn ucs_hands_out_the_agent_bundle_once() {
    let cloud = FakeCloud::start();
    let path = format!(
        "/v1/clusters/{UCS_ATTACHED_CLUSTER}/accessinfo?vpcendpoint=10.0.0.5&region=cn-north-4"
    );
    let (status, bundle) = ucs(&cloud, "GET", &path).await;
    assert_eq!(status, 200, "{bundle}");
    let kinds: Vec<&str> = bundle
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Deployment", "Secret"]);
    assert_eq!(bundle[1]["metadata"]["name"], "proxy-agent-cert");
    assert_eq!(ucs(&cloud, "GET", &path).await.0, 410);
    let (status, _) = ucs(
        &cloud,
        "GET",
        &format!("/v1/clusters/{CCE_CLUSTER}/accessinfo"),
    )
    .await;
    assert_eq!(status, 400, "a CCE cluster has no access info");
}
