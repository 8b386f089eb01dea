//! TKE DescribeClusterKubeconfig on the wire: the request body, the
//! answer, and how each error code is sorted.

use serde::{Deserialize, Serialize};

use crate::error::ErrorKind;
use crate::http::Response;
use crate::provider::error::{ApiError, Verdict};

pub const ACTION: &str = "DescribeClusterKubeconfig";
pub const LIST_ACTION: &str = "DescribeClusters";
pub const VERSION: &str = "2018-05-25";
pub const SERVICE: &str = "tke";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeClusterKubeconfig<'a> {
    pub cluster_id: &'a str,
    /// Always sent: the API's own default is the intranet kubeconfig.
    pub is_extranet: bool,
}

#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(rename = "Response")]
    response: Body<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Body<T> {
    #[serde(flatten)]
    pub(super) data: T,
    pub(super) request_id: Option<String>,
    error: Option<TcError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TcError {
    code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KubeconfigData {
    kubeconfig: Option<String>,
}

/// A successful answer.
#[derive(Debug)]
pub struct Kubeconfig {
    pub text: String,
    pub request_id: Option<String>,
}

/// Reads one answer. Errors come with HTTP 200 in TKE's envelope; other
/// statuses are the gateway's.
pub fn judge(response: Response, cluster_id: &str, region: &str) -> Verdict<Kubeconfig> {
    let status = response.status;
    let body = match open::<KubeconfigData, _>(&response, "TKE", |code| {
        classify(code, Some(cluster_id), region)
    }) {
        Ok(body) => body,
        Err(verdict) => return verdict,
    };
    match body.data.kubeconfig {
        Some(text) if status == 200 && !text.trim().is_empty() => Verdict::Done(Kubeconfig {
            text,
            request_id: body.request_id,
        }),
        _ => Verdict::Fail(
            ApiError::new(ErrorKind::Provider, "TKE answered without a kubeconfig")
                .status(status)
                .request_id(body.request_id),
        ),
    }
}

/// `DescribeClusters` body: one page of at most [`PAGE_SIZE`].
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeClusters {
    pub offset: u64,
    pub limit: u64,
}

/// DescribeClusters' largest page.
pub const PAGE_SIZE: u64 = 100;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClustersData {
    total_count: Option<u64>,
    clusters: Option<Vec<ListedCluster>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedCluster {
    cluster_id: String,
    #[serde(default)]
    cluster_name: String,
    #[serde(default)]
    cluster_status: String,
}

/// One page of `DescribeClusters`: (id, name, state) and the total.
#[derive(Debug)]
pub struct ClusterPage {
    pub clusters: Vec<(String, String, String)>,
    pub total: u64,
}

pub fn judge_clusters(response: Response, region: &str) -> Verdict<ClusterPage> {
    let status = response.status;
    let body = match open::<ClustersData, _>(&response, "TKE", |code| classify(code, None, region))
    {
        Ok(body) => body,
        Err(verdict) => return verdict,
    };
    match (body.data.clusters, body.data.total_count) {
        (Some(clusters), Some(total)) if status == 200 => Verdict::Done(ClusterPage {
            clusters: clusters
                .into_iter()
                .map(|c| (c.cluster_id, c.cluster_name, c.cluster_status))
                .collect(),
            total,
        }),
        _ => Verdict::Fail(
            ApiError::new(ErrorKind::Provider, "TKE answered without a cluster list")
                .status(status)
                .request_id(body.request_id),
        ),
    }
}

/// The envelope of any Tencent Cloud API 3.0 answer (TKE's and STS's), or
/// the verdict on its error, sorted by `classify` from the error code.
pub(super) fn open<T: serde::de::DeserializeOwned, U>(
    response: &Response,
    service: &str,
    classify: impl FnOnce(&str) -> ApiError,
) -> Result<Body<T>, Verdict<U>> {
    let status = response.status;
    let body = match serde_json::from_slice::<Envelope<T>>(&response.body) {
        Ok(envelope) => envelope.response,
        Err(_) if status >= 500 || status == 429 => {
            return Err(Verdict::Retry {
                error: ApiError::new(ErrorKind::Provider, format!("the {service} API failed"))
                    .status(status),
                after: crate::http::retry_after(response, "retry-after"),
            })
        }
        Err(e) => {
            return Err(Verdict::Fail(
                ApiError::new(
                    ErrorKind::Provider,
                    format!("{service} sent a malformed answer"),
                )
                .message(Some(crate::provider::error::json_problem(&e)))
                .status(status)
                .hint("try again; if it persists, check --endpoint and any proxy in between"),
            ))
        }
    };
    let Some(error) = body.error else {
        return Ok(body);
    };
    let code = error.code.unwrap_or_default();
    let e = classify(&code)
        .code(Some(code).filter(|c| !c.is_empty()))
        .message(error.message)
        .request_id(body.request_id);
    let gateway_failure = (status >= 500 || status == 429)
        && matches!(e.kind, ErrorKind::Provider | ErrorKind::Internal);
    Err(
        if gateway_failure || is_retryable(e.code.as_deref().unwrap_or("")) {
            Verdict::Retry {
                error: e,
                after: None,
            }
        } else {
            Verdict::Fail(e)
        },
    )
}

fn is_retryable(code: &str) -> bool {
    code.starts_with("RequestLimitExceeded")
        || (code.starts_with("InternalError") && code != "InternalError.CamNoAuth")
}

fn classify(code: &str, cluster_id: Option<&str>, region: &str) -> ApiError {
    let prefix = code.split('.').next().unwrap_or("");
    if code.contains("ClusterNotFound") || prefix == "ResourceNotFound" {
        let what = cluster_id.map_or("the resource".to_string(), |id| format!("cluster {id}"));
        return ApiError::new(ErrorKind::NotFound, format!("{what} not found"))
            .hint(format!(
                "check the cluster id and the region ({region}); `tccli tke DescribeClusters --region {region}` lists them"
            ));
    }
    match prefix {
        "AuthFailure" => {
            let hint = match code {
                "AuthFailure.SignatureExpire" => {
                    "the request's timestamp was refused: check this machine's clock (NTP)"
                }
                "AuthFailure.TokenFailure" => {
                    "the temporary token is invalid or expired: refresh TENCENTCLOUD_TOKEN (keys from STS or a CVM role are fetched anew on the next run)"
                }
                _ => "check TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY or the tccli profile (--profile)",
            };
            ApiError::new(ErrorKind::Auth, "credentials rejected").hint(hint)
        }
        "UnauthorizedOperation" | "OperationDenied" => {
            ApiError::new(ErrorKind::Auth, "not permitted").hint(
                "grant the sub-account tke:DescribeClusterKubeconfig on this cluster (CAM policy)",
            )
        }
        "InternalError" if code == "InternalError.CamNoAuth" => {
            ApiError::new(ErrorKind::Auth, "not permitted").hint(
                "grant the sub-account tke:DescribeClusterKubeconfig on this cluster (CAM policy)",
            )
        }
        "RequestLimitExceeded" => ApiError::new(ErrorKind::Provider, "throttled by TKE")
            .hint("TKE allows 20 requests/s for this action; wait a moment and try again"),
        "InternalError" => {
            ApiError::new(ErrorKind::Provider, "TKE failed internally").hint("try again later")
        }
        "UnsupportedRegion" => ApiError::new(
            ErrorKind::Usage,
            format!("region {region} is not supported"),
        )
        .hint("check --region, e.g. ap-guangzhou"),
        _ => ApiError::new(ErrorKind::Provider, "TKE refused the request"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::response as answer;

    fn error(code: &str) -> Response {
        answer(
            200,
            &format!(
                r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"m"}},"RequestId":"r-1"}}}}"#
            ),
        )
    }

    fn failure(v: Verdict<Kubeconfig>) -> (ApiError, bool) {
        match v {
            Verdict::Done(_) => panic!("expected an error"),
            Verdict::Fail(e) => (e, false),
            Verdict::Retry { error, .. } => (error, true),
        }
    }

    #[test]
    fn request_always_states_the_access_type() {
        let body = serde_json::to_string(&DescribeClusterKubeconfig {
            cluster_id: "cls-1",
            is_extranet: false,
        })
        .unwrap();
        assert_eq!(body, r#"{"ClusterId":"cls-1","IsExtranet":false}"#);
    }

    #[test]
    fn success_carries_the_kubeconfig_and_request_id() {
        let v = judge(
            answer(
                200,
                r#"{"Response":{"Kubeconfig":"apiVersion: v1","RequestId":"r-9"}}"#,
            ),
            "cls-1",
            "ap-guangzhou",
        );
        match v {
            Verdict::Done(k) => {
                assert_eq!(k.text, "apiVersion: v1");
                assert_eq!(k.request_id.as_deref(), Some("r-9"));
            }
            _ => panic!("expected success"),
        }
    }

    #[test]
    fn codes_map_to_kinds_and_retries() {
        let cases = [
            ("AuthFailure.SecretIdNotFound", ErrorKind::Auth, false),
            ("AuthFailure.SignatureFailure", ErrorKind::Auth, false),
            ("AuthFailure.SignatureExpire", ErrorKind::Auth, false),
            ("AuthFailure.TokenFailure", ErrorKind::Auth, false),
            ("UnauthorizedOperation.CamNoAuth", ErrorKind::Auth, false),
            ("InternalError.CamNoAuth", ErrorKind::Auth, false),
            (
                "ResourceNotFound.ClusterNotFound",
                ErrorKind::NotFound,
                false,
            ),
            (
                "InvalidParameter.ClusterNotFound",
                ErrorKind::NotFound,
                false,
            ),
            ("RequestLimitExceeded", ErrorKind::Provider, true),
            (
                "RequestLimitExceeded.UinLimitExceeded",
                ErrorKind::Provider,
                true,
            ),
            (
                "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
                ErrorKind::Provider,
                true,
            ),
            ("InternalError", ErrorKind::Provider, true),
            (
                "InternalError.UnexpectedInternal",
                ErrorKind::Provider,
                true,
            ),
            ("InvalidParameter.Param", ErrorKind::Provider, false),
            ("UnsupportedRegion", ErrorKind::Usage, false),
        ];
        for (code, kind, retry) in cases {
            let (e, retried) = failure(judge(error(code), "cls-1", "ap-guangzhou"));
            assert_eq!((e.kind, retried), (kind, retry), "{code}");
            assert_eq!(e.code.as_deref(), Some(code));
            assert_eq!(e.request_id.as_deref(), Some("r-1"));
        }
    }

    #[test]
    fn gateway_failures_retry_and_garbage_fails() {
        assert!(failure(judge(answer(502, "<html>"), "c", "r")).1);
        let enveloped_503 =
            r#"{"Response":{"Error":{"Code":"ServiceUnavailable","Message":"m"},"RequestId":"r"}}"#;
        assert!(failure(judge(answer(503, enveloped_503), "c", "r")).1);
        let (e, retried) = failure(judge(answer(200, r#"{"Response":{"Kubecon"#), "c", "r"));
        assert!(!retried);
        assert_eq!(e.kind, ErrorKind::Provider);
        let (e, _) = failure(judge(
            answer(200, r#"{"Response":{"RequestId":"x"}}"#),
            "c",
            "r",
        ));
        assert_eq!(e.summary, "TKE answered without a kubeconfig");
    }
}
