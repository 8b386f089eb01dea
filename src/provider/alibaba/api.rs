//! ACK DescribeClusterUserKubeconfig on the wire: the request's path and
//! query, the answer, and how each error is sorted.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ErrorKind;
use crate::http::{retry_after, Response};
use crate::provider::error::{ApiError, Verdict};

pub const ACTION: &str = "DescribeClusterUserKubeconfig";
pub const LIST_ACTION: &str = "DescribeClustersV1";
/// `DescribeClustersV1`'s largest page.
pub const PAGE_SIZE: u64 = 100;
pub const VERSION: &str = "2015-12-15";
pub const ACCEPT: &str = "application/json";
/// Positive on a throttled answer: seconds to wait before the next attempt.
pub(super) const RETRY_AFTER_HEADER: &str = "x-acs-retry-after";
pub(super) const REQUEST_ID_HEADER: &str = "x-acs-request-id";

/// `{base path}/k8s/{ClusterId}/user_config`; cluster ids are already
/// checked to be plain, so nothing needs encoding.
pub fn path(base_path: &str, cluster_id: &str) -> String {
    format!(
        "{}/k8s/{cluster_id}/user_config",
        base_path.trim_end_matches('/')
    )
}

/// The query, not yet encoded. `TemporaryDurationMinutes` is left out when
/// no `--ttl` was given: the API then issues its long default validity.
pub fn query(private: bool, ttl_minutes: Option<u64>) -> Vec<(String, String)> {
    let mut pairs = vec![("PrivateIpAddress".to_string(), private.to_string())];
    if let Some(minutes) = ttl_minutes {
        pairs.push(("TemporaryDurationMinutes".to_string(), minutes.to_string()));
    }
    pairs
}

#[derive(Deserialize)]
struct Body {
    config: Option<String>,
    expiration: Option<String>,
}

/// A successful answer.
#[derive(Debug)]
pub struct UserConfig {
    pub text: String,
    /// The API's `expiration`; `None` when absent or not a timestamp.
    pub expires_at: Option<DateTime<Utc>>,
    pub request_id: Option<String>,
}

/// Reads one answer: 200 with `{config, expiration}`, else an error body.
pub fn judge(response: Response, cluster_id: &str, region: &str) -> Verdict<UserConfig> {
    let header_request_id = response.header(REQUEST_ID_HEADER).map(str::to_string);
    if response.status == 200 && retry_after(&response, RETRY_AFTER_HEADER).is_none() {
        return success(&response.body, header_request_id);
    }
    failure(&response, cluster_id, region)
}

/// `GET {base}/api/v1/clusters`: page `page_number` (from 1), in `region`
/// or every region.
pub fn list_query(region: Option<&str>, page_number: u64) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("page_number".to_string(), page_number.to_string()),
        ("page_size".to_string(), PAGE_SIZE.to_string()),
    ];
    if let Some(region) = region {
        pairs.push(("region_id".to_string(), region.to_string()));
    }
    pairs
}

#[derive(Deserialize)]
struct ClustersBody {
    clusters: Vec<ListedCluster>,
    page_info: PageInfo,
}

#[derive(Deserialize)]
struct ListedCluster {
    cluster_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    region_id: Option<String>,
    #[serde(default)]
    state: String,
}

#[derive(Deserialize)]
struct PageInfo {
    total_count: u64,
}

/// One page of `DescribeClustersV1`: (id, name, region, state) and the total.
#[derive(Debug)]
pub struct ClusterPage {
    pub clusters: Vec<(String, String, Option<String>, String)>,
    pub total: u64,
}

pub fn judge_clusters(response: Response, region: &str) -> Verdict<ClusterPage> {
    let request_id = response.header(REQUEST_ID_HEADER).map(str::to_string);
    if response.status != 200 || retry_after(&response, RETRY_AFTER_HEADER).is_some() {
        return failure(&response, "", region);
    }
    match serde_json::from_slice::<ClustersBody>(&response.body) {
        Ok(body) => Verdict::Done(ClusterPage {
            clusters: body
                .clusters
                .into_iter()
                .map(|c| (c.cluster_id, c.name, c.region_id, c.state))
                .collect(),
            total: body.page_info.total_count,
        }),
        Err(e) => Verdict::Fail(
            ApiError::new(ErrorKind::Provider, "ACK sent a malformed cluster list")
                .message(Some(crate::provider::error::json_problem(&e)))
                .status(200)
                .request_id(request_id)
                .hint("try again; if it persists, check --endpoint and any proxy in between"),
        ),
    }
}

fn success(body: &[u8], request_id: Option<String>) -> Verdict<UserConfig> {
    let body: Body = match serde_json::from_slice(body) {
        Ok(body) => body,
        Err(e) => {
            return Verdict::Fail(
                ApiError::new(ErrorKind::Provider, "ACK sent a malformed answer")
                    .message(Some(crate::provider::error::json_problem(&e)))
                    .status(200)
                    .request_id(request_id)
                    .hint("try again; if it persists, check --endpoint and any proxy in between"),
            )
        }
    };
    match body.config {
        Some(text) if !text.trim().is_empty() => Verdict::Done(UserConfig {
            text,
            expires_at: body.expiration.as_deref().and_then(parse_expiration),
            request_id,
        }),
        _ => Verdict::Fail(
            ApiError::new(ErrorKind::Provider, "ACK answered without a kubeconfig")
                .status(200)
                .request_id(request_id)
                .hint("nothing was written; try again, and check --endpoint if it persists"),
        ),
    }
}

/// An RFC 3339 timestamp as ACK, STS and the metadata service write them.
pub(super) fn parse_expiration(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// What an error answer says; ACK and STS use the same keys, in either case.
pub(super) struct ErrorAnswer {
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    /// The server's wish before another attempt.
    pub wait: Option<std::time::Duration>,
    pub throttled: bool,
}

impl ErrorAnswer {
    pub fn read(response: &Response) -> ErrorAnswer {
        let body: Option<Value> = serde_json::from_slice(&response.body).ok();
        let field = |names: &[&str]| {
            body.as_ref().and_then(|b| {
                names
                    .iter()
                    .find_map(|n| b.get(*n).and_then(Value::as_str))
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
            })
        };
        let code = field(&["code", "Code"]);
        let wait = retry_after(response, RETRY_AFTER_HEADER);
        let throttled = wait.is_some()
            || response.status == 429
            || code.as_deref().is_some_and(|c| c.starts_with("Throttling"));
        ErrorAnswer {
            message: field(&["message", "Message"]),
            request_id: field(&["requestId", "RequestId"])
                .or_else(|| response.header(REQUEST_ID_HEADER).map(str::to_string)),
            code,
            wait,
            throttled,
        }
    }

    /// `error` with the code, message, request id and status added.
    pub fn detail(&self, error: ApiError, status: u16) -> ApiError {
        error
            .code(self.code.clone())
            .message(self.message.clone())
            .request_id(self.request_id.clone())
            .status(status)
    }
}

fn failure<T>(response: &Response, cluster_id: &str, region: &str) -> Verdict<T> {
    let status = response.status;
    let answer = ErrorAnswer::read(response);
    let (error, retryable) = if answer.throttled {
        (
            ApiError::new(ErrorKind::Provider, "throttled by ACK")
                .hint("wait a moment and try again, or fetch fewer clusters at once"),
            true,
        )
    } else {
        classify(
            status,
            answer.code.as_deref().unwrap_or(""),
            cluster_id,
            region,
        )
    };
    let error = answer.detail(error, status);
    if retryable {
        Verdict::Retry {
            error,
            after: answer.wait,
        }
    } else {
        Verdict::Fail(error)
    }
}

/// Sorts a non-throttling error by code prefix, then by HTTP status;
/// the bool says whether another attempt may succeed.
fn classify(status: u16, code: &str, cluster_id: &str, region: &str) -> (ApiError, bool) {
    const KEYS_HINT: &str = "check ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET or the aliyun profile (--profile)";
    let rejected = |hint: &str| {
        (
            ApiError::new(ErrorKind::Auth, "credentials rejected").hint(hint),
            false,
        )
    };
    if code.starts_with("InvalidAccessKeyId")
        || code.starts_with("SignatureDoesNotMatch")
        || code.starts_with("IncompleteSignature")
        || code.starts_with("InvalidAccessKeySecret")
    {
        return rejected(KEYS_HINT);
    }
    if code.starts_with("InvalidSecurityToken") {
        return rejected("the STS token is invalid or expired: refresh ALIBABA_CLOUD_SECURITY_TOKEN or the StsToken profile");
    }
    if code.starts_with("InvalidTimeStamp") || code.starts_with("RequestTimeTooSkewed") {
        return rejected("the request's timestamp was refused: check this machine's clock (NTP)");
    }
    // Our nonce is fresh per attempt, so a repeat is a fluke another attempt clears.
    if code.starts_with("SignatureNonceUsed") {
        return (
            ApiError::new(ErrorKind::Provider, "ACK refused a repeated request nonce"),
            true,
        );
    }
    if code.starts_with("Forbidden")
        || code.starts_with("StatusForbidden")
        || code.starts_with("NoPermission")
        || code.contains("RamPolicy")
        || status == 401
        || status == 403
    {
        return (
            ApiError::new(ErrorKind::Auth, "not permitted").hint(
                "grant the RAM identity cs:DescribeClusterUserKubeconfig on this cluster (RAM policy), or check the keys",
            ),
            false,
        );
    }
    if code.contains("ClusterNotFound") {
        return (
            ApiError::new(ErrorKind::NotFound, format!("cluster {cluster_id} not found")).hint(
                format!(
                    "check the cluster id and the region ({region}); `aliyun cs GET /clusters` lists them"
                ),
            ),
            false,
        );
    }
    if code.contains("EndpointNotFound") {
        return (
            ApiError::new(
                ErrorKind::Provider,
                format!("cluster {cluster_id} has no API server endpoint of the requested type"),
            )
            .hint("drop --private for the public endpoint or pass it for the internal one, or enable the endpoint in the ACK console"),
            false,
        );
    }
    if code.starts_with("InvalidAction") {
        return (
            ApiError::new(ErrorKind::Provider, "the endpoint does not serve the ACK API")
                .hint("check --endpoint or KUBEFETCH_ACK_ENDPOINT (e.g. https://cs.cn-hangzhou.aliyuncs.com)"),
            false,
        );
    }
    if status >= 500 {
        return (
            ApiError::new(ErrorKind::Provider, "the ACK API failed").hint("try again later"),
            true,
        );
    }
    if code.is_empty() {
        return (
            ApiError::new(
                ErrorKind::Provider,
                "ACK answered with an unexpected status",
            )
            .hint("check --endpoint and any proxy in between"),
            false,
        );
    }
    (
        ApiError::new(ErrorKind::Provider, "ACK refused the request"),
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> Response {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        Response {
            status,
            headers: map,
            body: body.as_bytes().to_vec(),
        }
    }

    fn error(status: u16, code: &str) -> Response {
        answer(
            status,
            &[],
            &format!(r#"{{"code":"{code}","message":"m","requestId":"R-1"}}"#),
        )
    }

    fn outcome(v: Verdict<UserConfig>) -> (ApiError, bool, Option<std::time::Duration>) {
        match v {
            Verdict::Done(_) => panic!("expected an error"),
            Verdict::Fail(e) => (e, false, None),
            Verdict::Retry { error, after } => (error, true, after),
        }
    }

    #[test]
    fn path_and_query_follow_the_api() {
        assert_eq!(path("/", "c1"), "/k8s/c1/user_config");
        assert_eq!(path("/prefix/", "c1"), "/prefix/k8s/c1/user_config");
        let pairs = |p: Vec<(String, String)>| {
            p.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        };
        assert_eq!(pairs(query(false, None)), "PrivateIpAddress=false");
        assert_eq!(
            pairs(query(true, Some(60))),
            "PrivateIpAddress=true&TemporaryDurationMinutes=60"
        );
    }

    #[test]
    fn success_carries_config_expiration_and_request_id() {
        let v = judge(
            answer(
                200,
                &[("x-acs-request-id", "R-9")],
                r#"{"config":"apiVersion: v1","expiration":"2024-03-10T09:56:17Z"}"#,
            ),
            "c1",
            "cn-hangzhou",
        );
        match v {
            Verdict::Done(c) => {
                assert_eq!(c.text, "apiVersion: v1");
                assert_eq!(
                    c.expires_at.unwrap().to_rfc3339(),
                    "2024-03-10T09:56:17+00:00"
                );
                assert_eq!(c.request_id.as_deref(), Some("R-9"));
            }
            _ => panic!("expected success"),
        }
    }

    #[test]
    fn an_unreadable_expiration_is_dropped_not_fatal() {
        match judge(
            answer(
                200,
                &[],
                r#"{"config":"apiVersion: v1","expiration":"soon"}"#,
            ),
            "c",
            "r",
        ) {
            Verdict::Done(c) => assert!(c.expires_at.is_none()),
            _ => panic!("expected success"),
        }
    }

    #[test]
    fn answers_without_a_config_or_json_fail_without_retry() {
        for body in [
            r#"{"expiration":"2024-03-10T09:56:17Z"}"#,
            r#"{"config":"  "}"#,
            r#"{"conf"#,
            "",
        ] {
            let (e, retried, _) = outcome(judge(answer(200, &[], body), "c", "r"));
            assert_eq!(e.kind, ErrorKind::Provider, "{body}");
            assert!(!retried, "{body}");
        }
    }

    #[test]
    fn codes_and_statuses_map_to_kinds_and_retries() {
        let cases = [
            (400, "SignatureDoesNotMatch", ErrorKind::Auth, false),
            (404, "InvalidAccessKeyId.NotFound", ErrorKind::Auth, false),
            (400, "InvalidAccessKeyId.Inactive", ErrorKind::Auth, false),
            (400, "IncompleteSignature", ErrorKind::Auth, false),
            (400, "InvalidSecurityToken.Expired", ErrorKind::Auth, false),
            (400, "InvalidTimeStamp.Expired", ErrorKind::Auth, false),
            (403, "Forbidden.RAM", ErrorKind::Auth, false),
            (403, "StatusForbidden", ErrorKind::Auth, false),
            (403, "SomethingElse", ErrorKind::Auth, false),
            (404, "ErrorClusterNotFound", ErrorKind::NotFound, false),
            (400, "ErrorClusterNotFound", ErrorKind::NotFound, false),
            (404, "ClusterNotFound", ErrorKind::NotFound, false),
            (429, "Throttling.User", ErrorKind::Provider, true),
            (400, "Throttling", ErrorKind::Provider, true),
            (503, "Throttling.Api", ErrorKind::Provider, true),
            (500, "InternalError", ErrorKind::Provider, true),
            (503, "ServiceUnavailable", ErrorKind::Provider, true),
            (400, "SignatureNonceUsed", ErrorKind::Provider, true),
            (400, "InvalidParameter", ErrorKind::Provider, false),
            (404, "InvalidAction.NotFound", ErrorKind::Provider, false),
            (
                400,
                "ErrorClusterEndpointNotFound",
                ErrorKind::Provider,
                false,
            ),
        ];
        for (status, code, kind, retry) in cases {
            let (e, retried, _) = outcome(judge(error(status, code), "c1", "cn-hangzhou"));
            assert_eq!((e.kind, retried), (kind, retry), "{status} {code}");
            assert_eq!(e.code.as_deref(), Some(code));
            assert_eq!(e.message.as_deref(), Some("m"));
            assert_eq!(e.request_id.as_deref(), Some("R-1"));
            assert_eq!(e.http_status, Some(status));
        }
    }

    #[test]
    fn pascal_case_error_keys_and_header_request_ids_are_read() {
        let (e, _, _) = outcome(judge(
            answer(
                400,
                &[],
                r#"{"Code":"SignatureDoesNotMatch","Message":"bad","RequestId":"R-2"}"#,
            ),
            "c",
            "r",
        ));
        assert_eq!(e.code.as_deref(), Some("SignatureDoesNotMatch"));
        assert_eq!(e.message.as_deref(), Some("bad"));
        assert_eq!(e.request_id.as_deref(), Some("R-2"));
        let (e, _, _) = outcome(judge(
            answer(
                404,
                &[("x-acs-request-id", "R-3")],
                r#"{"code":"ErrorClusterNotFound"}"#,
            ),
            "c",
            "r",
        ));
        assert_eq!(e.request_id.as_deref(), Some("R-3"));
    }

    #[test]
    fn retry_after_header_is_honoured_even_on_200() {
        let (e, retried, after) = outcome(judge(
            answer(
                429,
                &[("x-acs-retry-after", "2")],
                r#"{"code":"Throttling.User"}"#,
            ),
            "c",
            "r",
        ));
        assert!(retried);
        assert_eq!(after, Some(std::time::Duration::from_secs(2)));
        assert_eq!(e.summary, "throttled by ACK");
        let (_, retried, after) = outcome(judge(
            answer(200, &[("x-acs-retry-after", "1")], "{}"),
            "c",
            "r",
        ));
        assert!(retried);
        assert_eq!(after, Some(std::time::Duration::from_secs(1)));
    }

    #[test]
    fn gateway_pages_retry_on_5xx_and_fail_otherwise() {
        assert!(outcome(judge(answer(502, &[], "<html>"), "c", "r")).1);
        let (e, retried, _) = outcome(judge(answer(404, &[], "<html>"), "c", "r"));
        assert!(!retried);
        assert_eq!(e.kind, ErrorKind::Provider);
    }
}
