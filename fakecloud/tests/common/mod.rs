//! Signed requests to the fake cloud, built with kubefetch's own signers, as the
//! clients under test build them.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use fakecloud::fixtures::*;
use fakecloud::FakeCloud;
use kubefetch::secret::Secret;
use kubefetch::sign::{acs3, roa, sdk_hmac, tc3};
use reqwest::Method;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a reqwest client")
}

pub fn host(cloud: &FakeCloud) -> String {
    cloud.api_url().trim_start_matches("http://").to_string()
}

/// Sends a request with exactly these headers; the answer's status and body.
pub async fn send(
    cloud: &FakeCloud,
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> (u16, Vec<u8>, reqwest::header::HeaderMap) {
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = client().request(method, format!("{}{path_and_query}", cloud.api_url()));
    for (k, v) in headers {
        request = request.header(k.as_str(), v.as_str());
    }
    let response = request.body(body).send().await.expect("an answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("a body").to_vec();
    (status, body, headers)
}

pub fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)))
}

pub struct Tencent<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    pub token: Option<&'a str>,
    pub timestamp: i64,
}

impl Default for Tencent<'_> {
    fn default() -> Self {
        Tencent {
            secret_id: TENCENT_SECRET_ID,
            secret_key: TENCENT_SECRET_KEY,
            token: None,
            timestamp: Utc::now().timestamp(),
        }
    }
}

/// A TKE DescribeClusterKubeconfig POST signed like the Tencent SDK.
pub fn tke_headers(cloud: &FakeCloud, body: &str, creds: &Tencent<'_>) -> Vec<(String, String)> {
    let host = host(cloud);
    let signed = tc3::sign(
        &tc3::Tc3Request {
            method: "POST",
            host: &host,
            query: "",
            content_type: "application/json",
            payload: body.as_bytes(),
            service: "tke",
            timestamp: creds.timestamp,
        },
        creds.secret_id,
        &Secret::new(creds.secret_key),
    );
    let mut headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("Host".into(), host),
        ("X-TC-Action".into(), "DescribeClusterKubeconfig".into()),
        ("X-TC-Version".into(), "2018-05-25".into()),
        ("X-TC-Region".into(), TENCENT_REGION.into()),
        ("X-TC-Timestamp".into(), creds.timestamp.to_string()),
        ("X-TC-Language".into(), "en-US".into()),
        ("Authorization".into(), signed.authorization),
    ];
    if let Some(token) = creds.token {
        headers.push(("X-TC-Token".into(), token.into()));
    }
    headers
}

pub async fn tke(cloud: &FakeCloud, cluster: &str, extranet: bool) -> (u16, serde_json::Value) {
    let body = format!(r#"{{"ClusterId":"{cluster}","IsExtranet":{extranet}}}"#);
    let headers = tke_headers(cloud, &body, &Tencent::default());
    let (status, body, _) = send(cloud, "POST", "/", &headers, body.into_bytes()).await;
    (status, json(&body))
}

pub struct Alibaba<'a> {
    pub id: &'a str,
    pub secret: &'a str,
    pub token: Option<&'a str>,
    pub date: DateTime<Utc>,
    pub nonce: String,
}

impl Default for Alibaba<'_> {
    fn default() -> Self {
        Alibaba {
            id: ALIBABA_ACCESS_KEY_ID,
            secret: ALIBABA_ACCESS_KEY_SECRET,
            token: None,
            date: Utc::now(),
            nonce: acs3::new_nonce(),
        }
    }
}

/// An ACK user_config GET signed with ACS3 like the Alibaba SDK (accept, user-agent
/// and x-acs-credentials-provider signed too).
pub fn ack_acs3_headers(
    cloud: &FakeCloud,
    path: &str,
    query: &[(String, String)],
    creds: &Alibaba<'_>,
) -> Vec<(String, String)> {
    let token = creds.token.map(Secret::new);
    let mut headers = acs3::standard_headers(
        &host(cloud),
        "DescribeClusterUserKubeconfig",
        "2015-12-15",
        creds.date,
        &creds.nonce,
        b"",
        token.as_ref(),
    );
    headers.push(("accept".into(), "application/json".into()));
    headers.push(("user-agent".into(), "fakecloud-tests/1.0".into()));
    headers.push(("x-acs-credentials-provider".into(), "static_ak".into()));
    let signed = acs3::sign(
        &acs3::Acs3Request {
            method: "GET",
            path,
            query,
            headers: &headers,
            body: b"",
        },
        creds.id,
        &Secret::new(creds.secret),
    );
    headers.push(("authorization".into(), signed.authorization));
    headers
}

/// The same request signed with the legacy ROA HMAC-SHA1 scheme.
pub fn ack_roa_headers(
    path: &str,
    query: &[(String, String)],
    creds: &Alibaba<'_>,
) -> Vec<(String, String)> {
    let date = roa::http_date(creds.date);
    let mut headers = vec![
        ("date".to_string(), date.clone()),
        ("accept".into(), "application/json".into()),
        ("x-acs-signature-nonce".into(), creds.nonce.clone()),
        ("x-acs-signature-method".into(), "HMAC-SHA1".into()),
        ("x-acs-signature-version".into(), "1.0".into()),
        ("x-acs-version".into(), "2015-12-15".into()),
    ];
    if let Some(token) = creds.token {
        headers.push(("x-acs-security-token".into(), token.into()));
    }
    let signed = roa::sign(
        &roa::RoaRequest {
            method: "GET",
            accept: "application/json",
            content_md5: "",
            content_type: "",
            date: &date,
            headers: &headers,
            path,
            query,
        },
        creds.id,
        &Secret::new(creds.secret),
    );
    headers.push(("authorization".into(), signed.authorization));
    headers
}

pub fn query_string(query: &[(String, String)]) -> String {
    if query.is_empty() {
        String::new()
    } else {
        format!("?{}", kubefetch::sign::canonical_query(query))
    }
}

pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub async fn ack(
    cloud: &FakeCloud,
    cluster: &str,
    query: &[(String, String)],
    creds: &Alibaba<'_>,
) -> (u16, serde_json::Value) {
    let path = format!("/k8s/{cluster}/user_config");
    let headers = ack_acs3_headers(cloud, &path, query, creds);
    let (status, body, _) = send(
        cloud,
        "GET",
        &format!("{path}{}", query_string(query)),
        &headers,
        Vec::new(),
    )
    .await;
    (status, json(&body))
}

pub struct Huawei<'a> {
    pub sk: &'a str,
    pub date: DateTime<Utc>,
}

impl Default for Huawei<'_> {
    fn default() -> Self {
        Huawei {
            sk: HUAWEI_SK,
            date: Utc::now(),
        }
    }
}

/// Headers of an AK/SK-signed Huawei request, signed like the Huawei SDK (every header
/// it sends, incl. user-agent). `extra` are sent and signed as well.
pub fn huawei_headers(
    cloud: &FakeCloud,
    method: &str,
    path: &str,
    query: &[(String, String)],
    extra: &[(&str, &str)],
    body: &[u8],
    creds: &Huawei<'_>,
) -> Vec<(String, String)> {
    let mut headers = vec![
        ("Host".to_string(), host(cloud)),
        ("X-Sdk-Date".into(), sdk_hmac::sdk_date(creds.date)),
        (
            "User-Agent".into(),
            "huaweicloud-usdk-python/3.0; fakecloud-tests".into(),
        ),
    ];
    if !body.is_empty() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let signed = sdk_hmac::sign(
        &sdk_hmac::SdkHmacRequest {
            method,
            path,
            query,
            headers: &headers,
            body,
        },
        HUAWEI_AK,
        &Secret::new(creds.sk),
    );
    headers.push(("Authorization".into(), signed.authorization));
    headers
}

pub fn cce_path(project: &str, cluster: &str) -> String {
    format!("/api/v3/projects/{project}/clusters/{cluster}/clustercert")
}

pub async fn cce(cloud: &FakeCloud, cluster: &str, body: &str) -> (u16, serde_json::Value) {
    let path = cce_path(HUAWEI_PROJECT_CN_NORTH_4, cluster);
    let headers = huawei_headers(
        cloud,
        "POST",
        &path,
        &[],
        &[("X-Project-Id", HUAWEI_PROJECT_CN_NORTH_4)],
        body.as_bytes(),
        &Huawei::default(),
    );
    let (status, body, _) = send(cloud, "POST", &path, &headers, body.as_bytes().to_vec()).await;
    (status, json(&body))
}

pub async fn ucs(
    cloud: &FakeCloud,
    method: &str,
    path_and_query: &str,
) -> (u16, serde_json::Value) {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (
            p,
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        None => (path_and_query, Vec::new()),
    };
    let headers = huawei_headers(
        cloud,
        method,
        path,
        &query,
        &[("X-Domain-Id", HUAWEI_DOMAIN_ID)],
        b"",
        &Huawei::default(),
    );
    let (status, body, _) = send(cloud, method, path_and_query, &headers, Vec::new()).await;
    (status, json(&body))
}

/// The (notBefore, notAfter) of a base64 PEM certificate as kubeconfigs carry it.
pub fn validity(cert_data_b64: &str) -> (i64, i64) {
    use base64::Engine;
    let pem = base64::engine::general_purpose::STANDARD
        .decode(cert_data_b64)
        .expect("base64");
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).expect("PEM");
    let cert = pem.parse_x509().expect("a certificate");
    (
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
    )
}

/// The common name of a base64 PEM certificate.
pub fn common_name(cert_data_b64: &str) -> String {
    use base64::Engine;
    let pem = base64::engine::general_purpose::STANDARD
        .decode(cert_data_b64)
        .expect("base64");
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).expect("PEM");
    let cert = pem.parse_x509().expect("a certificate");
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_string();
    cn
}
