//! Faults are used up in order, only by the requests they match, and each changes
//! the answer the way its name says.

mod common;

use std::time::Duration;

use common::*;
use fakecloud::fixtures::*;
use fakecloud::{FakeCloud, Fault, FaultKind, Provider};

async fn tke_raw(cloud: &FakeCloud, cluster: &str) -> Result<(u16, Vec<u8>), reqwest::Error> {
    let body = format!(r#"{{"ClusterId":"{cluster}","IsExtranet":true}}"#);
    let headers = tke_headers(cloud, &body, &Tencent::default());
    let mut request = client().post(format!("{}/", cloud.api_url()));
    for (k, v) in &headers {
        request = request.header(k.as_str(), v.as_str());
    }
    let response = request.body(body).send().await?;
    let status = response.status().as_u16();
    Ok((status, response.bytes().await?.to_vec()))
}

#[tokio::test]
async fn faults_apply_in_order_and_only_to_matching_requests() {
    let cloud = FakeCloud::start();
    cloud.inject(
        Fault::new(FaultKind::Status(500))
            .for_cluster("cls-a")
            .times(2),
    );
    cloud.inject(Fault::new(FaultKind::Status(503)).for_provider(Provider::Tke));
    cloud.inject(Fault::new(FaultKind::Status(502)).for_provider(Provider::Ack));

    let mut statuses = Vec::new();
    for cluster in ["cls-b", "cls-a", "cls-b", "cls-a", "cls-a"] {
        statuses.push(tke(&cloud, cluster).await.0);
    }
    // cls-b takes the TKE-wide fault, cls-a its own two, then everything answers normally.
    assert_eq!(statuses, [503, 500, 200, 500, 200]);

    let (status, body) = ack(&cloud, ACK_CLUSTER, &[], &Alibaba::default()).await;
    assert_eq!(status, 502, "{body}");
    assert!(body["code"].is_string(), "ACK's error shape");

    let recorded = cloud.requests();
    let seen: Vec<(Provider, Option<&str>, u16)> = recorded
        .iter()
        .map(|r| (r.provider, r.cluster_id.as_deref(), r.status))
        .collect();
    assert_eq!(
        seen,
        [
            (Provider::Tke, Some("cls-b"), 503),
            (Provider::Tke, Some("cls-a"), 500),
            (Provider::Tke, Some("cls-b"), 200),
            (Provider::Tke, Some("cls-a"), 500),
            (Provider::Tke, Some("cls-a"), 200),
            (Provider::Ack, Some(ACK_CLUSTER), 502),
        ]
    );
    assert_eq!(
        recorded[0].header("x-tc-action"),
        Some("DescribeClusterKubeconfig")
    );
    assert_eq!(recorded[0].method, "POST");
}

async fn tke(cloud: &FakeCloud, cluster: &str) -> (u16, serde_json::Value) {
    common::tke(cloud, cluster, true).await
}

#[tokio::test]
async fn throttling_uses_each_providers_own_answer() {
    let cloud = FakeCloud::start();
    let throttle = |p| {
        Fault::new(FaultKind::Throttle {
            retry_after: Some(3),
        })
        .for_provider(p)
    };
    cloud.inject(throttle(Provider::Tke));
    cloud.inject(throttle(Provider::Ack));
    cloud.inject(throttle(Provider::Cce));

    let (status, body) = tke(&cloud, TKE_CLUSTER).await;
    assert_eq!(
        (status, body["Response"]["Error"]["Code"].as_str()),
        (200, Some("RequestLimitExceeded"))
    );

    let path = format!("/k8s/{ACK_CLUSTER}/user_config");
    let headers = ack_acs3_headers(&cloud, &path, &[], &Alibaba::default());
    let (status, body, response_headers) = send(&cloud, "GET", &path, &headers, Vec::new()).await;
    assert_eq!(
        (status, json(&body)["code"].as_str()),
        (429, Some("Throttling.User"))
    );
    assert_eq!(response_headers["x-acs-retry-after"], "3");

    let (status, body) = cce(&cloud, CCE_CLUSTER, r#"{"duration": 1}"#).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (429, Some("APIGW.0308"))
    );
}

#[tokio::test]
async fn broken_answers_and_connections() {
    let cloud = FakeCloud::start();
    cloud.inject(Fault::new(FaultKind::ResetConnection));
    assert!(
        tke_raw(&cloud, TKE_CLUSTER).await.is_err(),
        "no answer at all"
    );

    cloud.inject(Fault::new(FaultKind::TruncatedBody));
    let (status, body) = tke_raw(&cloud, TKE_CLUSTER).await.unwrap();
    assert_eq!(status, 200);
    assert!(!body.is_empty());
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());

    cloud.inject(Fault::new(FaultKind::EmptyBody));
    assert_eq!(
        tke_raw(&cloud, TKE_CLUSTER).await.unwrap(),
        (200, Vec::new())
    );

    cloud.inject(Fault::new(FaultKind::Oversized(5 * 1024 * 1024)));
    assert_eq!(
        tke_raw(&cloud, TKE_CLUSTER).await.unwrap().1.len(),
        5 * 1024 * 1024
    );

    cloud.inject(Fault::new(FaultKind::MissingFields));
    let (status, body) = tke(&cloud, TKE_CLUSTER).await;
    assert_eq!(status, 200);
    assert!(body["Response"].get("Kubeconfig").is_none());

    cloud.inject(Fault::new(FaultKind::Delay(Duration::from_millis(20))));
    assert_eq!(
        tke(&cloud, TKE_CLUSTER).await.0,
        200,
        "a delay then the normal answer"
    );

    let statuses: Vec<u16> = cloud.requests().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [0, 200, 200, 200, 200, 200],
        "a reset connection records status 0"
    );
}

#[tokio::test]
async fn hostile_kubeconfigs() {
    let cloud = FakeCloud::start();
    let kubeconfig_of = |body: &serde_json::Value| -> String {
        body["Response"]["Kubeconfig"]
            .as_str()
            .expect("a kubeconfig field")
            .to_string()
    };
    cloud.inject(Fault::new(FaultKind::NotYamlKubeconfig));
    let text = kubeconfig_of(&tke(&cloud, TKE_CLUSTER).await.1);
    assert!(kubefetch::yaml::read_first(&text).map_or(true, |v| !v.is_object()));

    cloud.inject(Fault::new(FaultKind::ExecUserKubeconfig));
    let config: serde_json::Value =
        kubefetch::yaml::read_first(&kubeconfig_of(&tke(&cloud, TKE_CLUSTER).await.1)).unwrap();
    assert!(config["users"][0]["user"]["exec"]["command"].is_string());
    assert!(config["users"][0]["user"]
        .get("client-certificate-data")
        .is_none());

    cloud.inject(Fault::new(FaultKind::HttpServerKubeconfig));
    let config: serde_json::Value =
        kubefetch::yaml::read_first(&kubeconfig_of(&tke(&cloud, TKE_CLUSTER).await.1)).unwrap();
    let server = config["clusters"][0]["cluster"]["server"].as_str().unwrap();
    assert_eq!(server, cloud.kube_url(false).replace("https://", "http://"));

    cloud.inject(Fault::new(FaultKind::UnresolvableServer));
    let config: serde_json::Value =
        kubefetch::yaml::read_first(&kubeconfig_of(&tke(&cloud, TKE_CLUSTER).await.1)).unwrap();
    assert_eq!(
        config["clusters"][0]["cluster"]["server"],
        format!("https://{TKE_CLUSTER}.ccs.tencent-cloud.invalid")
    );
}

#[tokio::test]
async fn cce_legacy_only_answers_the_post_404_and_the_get_normally() {
    let cloud = FakeCloud::start();
    cloud.inject(Fault::new(FaultKind::LegacyOnly).for_provider(Provider::Cce));
    let (status, body) = cce(&cloud, CCE_CLUSTER, r#"{"duration": 1}"#).await;
    assert_eq!(status, 404, "{body}");

    let path = cce_path(HUAWEI_PROJECT_CN_NORTH_4, CCE_CLUSTER);
    let project = [("X-Project-Id", HUAWEI_PROJECT_CN_NORTH_4)];
    let headers = huawei_headers(&cloud, "GET", &path, &[], &project, b"", &Huawei::default());
    let (status, body, _) = send(&cloud, "GET", &path, &headers, Vec::new()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        cce(&cloud, CCE_CLUSTER, r#"{"duration": 1}"#).await.0,
        200,
        "used up"
    );
}

#[tokio::test]
async fn ucs_downloaded_marker_replaces_the_bundle() {
    let cloud = FakeCloud::start();
    cloud.inject(Fault::new(FaultKind::DownloadedMarker).for_cluster(UCS_ATTACHED_CLUSTER));
    let kubeconfig = format!("/v1/clusters/{UCS_ATTACHED_CLUSTER}/kubeconfig");
    assert_eq!(
        ucs(&cloud, "POST", &kubeconfig).await.0,
        201,
        "the marker skips other requests"
    );
    let accessinfo = format!("/v1/clusters/{UCS_ATTACHED_CLUSTER}/accessinfo");
    let (status, body) = ucs(&cloud, "GET", &accessinfo).await;
    assert_eq!((status, body), (200, serde_json::json!(["Downloaded"])));
}

#[tokio::test]
async fn error_faults_carry_the_given_code() {
    let cloud = FakeCloud::start();
    cloud.inject(Fault::new(FaultKind::Error {
        status: 200,
        code: "InternalError.CamNoAuth".into(),
    }));
    let (status, body) = tke(&cloud, TKE_CLUSTER).await;
    assert_eq!(
        (status, body["Response"]["Error"]["Code"].as_str()),
        (200, Some("InternalError.CamNoAuth"))
    );
}
