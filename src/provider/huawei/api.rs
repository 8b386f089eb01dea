//! Huawei answers on the wire: the error shapes every service uses, how
//! each status and code is sorted into an exit code, and the kubeconfig
//! answers of CCE and UCS.

use serde::Serialize;
use serde_json::Value;

use crate::error::ErrorKind;
use crate::http::{retry_after, Response};
use crate::provider::error::{ApiError, Verdict};

/// The API gateway's throttling code (sent with 429).
const THROTTLED: &str = "APIGW.0308";
/// The API gateway's "the token must be updated".
const TOKEN_EXPIRED: &str = "APIGW.0307";

/// What a request was about, for messages and hints.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// "CCE", "UCS" or "IAM".
    pub service: &'static str,
    pub cluster_id: Option<&'a str>,
    /// What to check when the credentials are refused.
    pub credential_hint: &'static str,
}

/// `POST .../clustercert` body: `duration` in days, -1 = the maximum.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct CertDuration {
    pub duration: i64,
}

/// A kubeconfig-as-JSON answer.
#[derive(Debug)]
pub struct KubeconfigAnswer {
    pub text: String,
    pub request_id: Option<String>,
}

/// CCE's answer to the current `POST`: the kubeconfig, or a sign that
/// this deployment only knows the legacy `GET`.
#[derive(Debug)]
pub enum CertAnswer {
    Kubeconfig(KubeconfigAnswer),
    OnlyLegacy,
}

/// `X-Request-Id`, else a `request_id` in the body.
pub fn request_id(response: &Response) -> Option<String> {
    response
        .header("x-request-id")
        .map(str::to_string)
        .or_else(|| {
            let body: Value = serde_json::from_slice(&response.body).ok()?;
            text(body.get("request_id")?)
        })
}

/// Code and message from any of Huawei's shapes: `error_code`/`error_msg`,
/// `errorCode`/`errorMessage`, `code`/`message`, each possibly nested
/// under `error` (IAM's code is a number there).
pub fn error_details(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return (None, None);
    };
    let levels = [Some(&value), value.get("error")];
    let pick = |keys: &[&str]| {
        levels
            .iter()
            .flatten()
            .find_map(|level| keys.iter().find_map(|k| level.get(*k).and_then(text)))
    };
    (
        pick(&["error_code", "errorCode", "code"]),
        pick(&["error_msg", "errorMessage", "message"]),
    )
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A failed answer, sorted: throttling and 5xx are worth another attempt.
pub fn failure<T>(response: &Response, subject: &Subject<'_>) -> Verdict<T> {
    let status = response.status;
    let (code, message) = error_details(&response.body);
    let service = subject.service;
    let throttled = status == 429 || code.as_deref() == Some(THROTTLED);
    let error = if throttled {
        ApiError::new(ErrorKind::Provider, format!("throttled by {service}"))
            .hint("wait a moment and try again, or raise --retries")
    } else if status >= 500 {
        ApiError::new(ErrorKind::Provider, format!("{service} failed"))
            .hint("try again later; if it persists, give the request id to Huawei support")
    } else {
        classify(status, code.as_deref(), subject)
    };
    let error = error
        .code(code)
        .message(message)
        .request_id(request_id(response))
        .status(status);
    if throttled || status >= 500 {
        Verdict::Retry {
            error,
            after: retry_after(response, "retry-after"),
        }
    } else {
        Verdict::Fail(error)
    }
}

fn classify(status: u16, code: Option<&str>, subject: &Subject<'_>) -> ApiError {
    let service = subject.service;
    match (status, subject.cluster_id) {
        (401, _) if code == Some(TOKEN_EXPIRED) => {
            ApiError::new(ErrorKind::Auth, "the token has expired")
                .hint("get a new token (OS_AUTH_TOKEN), or use AK/SK (HUAWEICLOUD_SDK_AK/SK)")
        }
        (401, _) => ApiError::new(ErrorKind::Auth, "credentials rejected")
            .hint(subject.credential_hint),
        (403, _) => ApiError::new(ErrorKind::Auth, "not permitted").hint(format!(
            "grant the IAM user {service} permissions on this cluster (an IAM policy)"
        )),
        (404, Some(cluster_id)) => {
            ApiError::new(ErrorKind::NotFound, format!("cluster {cluster_id} not found")).hint(
                format!("check the cluster id (and for CCE --region and --project-id); the {service} console lists them"),
            )
        }
        _ => ApiError::new(ErrorKind::Provider, format!("{service} refused the request")),
    }
}

/// A kubeconfig-as-JSON answer with one of the `ok` statuses.
pub fn judge_kubeconfig(
    response: Response,
    subject: &Subject<'_>,
    ok: &[u16],
) -> Verdict<KubeconfigAnswer> {
    if !ok.contains(&response.status) {
        return failure(&response, subject);
    }
    let request_id = request_id(&response);
    let json_object = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .filter(Value::is_object);
    match (json_object, String::from_utf8(response.body)) {
        (Some(_), Ok(text)) => Verdict::Done(KubeconfigAnswer { text, request_id }),
        _ => Verdict::Fail(
            ApiError::new(
                ErrorKind::Provider,
                format!("{} sent a malformed answer", subject.service),
            )
            .message(Some("not a kubeconfig as a JSON object".into()))
            .status(response.status)
            .request_id(request_id)
            .hint("try again; if it persists, check --endpoint and any proxy in between"),
        ),
    }
}

/// CCE `POST .../clustercert`: 404 and 405 may mean a deployment that has
/// only the legacy `GET`, tried once before calling the cluster missing.
pub fn judge_cert_post(response: Response, subject: &Subject<'_>) -> Verdict<CertAnswer> {
    if matches!(response.status, 404 | 405) {
        return Verdict::Done(CertAnswer::OnlyLegacy);
    }
    match judge_kubeconfig(response, subject, &[200, 201]) {
        Verdict::Done(answer) => Verdict::Done(CertAnswer::Kubeconfig(answer)),
        Verdict::Retry { error, after } => Verdict::Retry { error, after },
        Verdict::Fail(error) => Verdict::Fail(error),
    }
}

/// One answer of CCE `ListClusters` or UCS `ShowClusterList`: `items[]`
/// with `metadata.uid`, `metadata.name`, `spec.region` (UCS) and
/// `status.phase`, and UCS's `total`.
#[derive(Debug)]
pub struct ClusterList {
    /// (id, name, region, phase)
    pub clusters: Vec<(String, String, Option<String>, String)>,
    pub total: Option<u64>,
}

pub fn judge_cluster_list(response: Response, subject: &Subject<'_>) -> Verdict<ClusterList> {
    if response.status != 200 {
        return failure(&response, subject);
    }
    let malformed = || {
        Verdict::Fail(
            ApiError::new(
                ErrorKind::Provider,
                format!("{} sent a malformed cluster list", subject.service),
            )
            .status(response.status)
            .request_id(request_id(&response))
            .hint("try again; if it persists, check --endpoint and any proxy in between"),
        )
    };
    let Ok(body) = serde_json::from_slice::<Value>(&response.body) else {
        return malformed();
    };
    let Some(items) = body.get("items").and_then(Value::as_array) else {
        return malformed();
    };
    let field = |item: &Value, path: &[&str]| {
        path.iter()
            .try_fold(item, |v, key| v.get(*key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut clusters = Vec::with_capacity(items.len());
    for item in items {
        let Some(id) = field(item, &["metadata", "uid"]) else {
            return malformed();
        };
        clusters.push((
            id,
            field(item, &["metadata", "name"]).unwrap_or_default(),
            field(item, &["spec", "region"]),
            field(item, &["status", "phase"]).unwrap_or_default(),
        ));
    }
    Verdict::Done(ClusterList {
        clusters,
        total: body.get("total").and_then(Value::as_u64),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        Response {
            status,
            headers: map,
            body: body.as_bytes().to_vec(),
        }
    }

    const CCE: Subject<'static> = Subject {
        service: "CCE",
        cluster_id: Some("4d5e6f70-1a2b-11ee-8c90-0255ac100001"),
        credential_hint: "check HUAWEICLOUD_SDK_AK/SK",
    };

    fn error_of<T: std::fmt::Debug>(v: Verdict<T>) -> (ApiError, bool) {
        match v {
            Verdict::Done(x) => panic!("expected an error, got {x:?}"),
            Verdict::Fail(e) => (e, false),
            Verdict::Retry { error, .. } => (error, true),
        }
    }

    #[test]
    fn every_error_shape_gives_code_and_message() {
        for body in [
            r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}"#,
            r#"{"errorCode":"APIGW.0301","errorMessage":"Incorrect IAM authentication information"}"#,
            r#"{"code":"APIGW.0301","message":"Incorrect IAM authentication information"}"#,
            r#"{"error":{"code":"APIGW.0301","message":"Incorrect IAM authentication information"}}"#,
            r#"{"error":{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}}"#,
        ] {
            assert_eq!(
                error_details(body.as_bytes()),
                (
                    Some("APIGW.0301".to_string()),
                    Some("Incorrect IAM authentication information".to_string())
                ),
                "{body}"
            );
        }
        assert_eq!(
            error_details(br#"{"error":{"code":401,"title":"Unauthorized","message":"bad"}}"#),
            (Some("401".into()), Some("bad".into()))
        );
        assert_eq!(error_details(b"<html>"), (None, None));
    }

    #[test]
    fn statuses_map_to_kinds_and_retries() {
        let cases = [
            (
                401,
                r#"{"error_code":"APIGW.0301","error_msg":"m"}"#,
                ErrorKind::Auth,
                false,
            ),
            (
                401,
                r#"{"error_code":"APIGW.0307","error_msg":"m"}"#,
                ErrorKind::Auth,
                false,
            ),
            (
                403,
                r#"{"errorCode":"CCE.01403001","errorMessage":"m"}"#,
                ErrorKind::Auth,
                false,
            ),
            (
                404,
                r#"{"errorCode":"CCE.01404001","errorMessage":"m"}"#,
                ErrorKind::NotFound,
                false,
            ),
            (
                400,
                r#"{"errorCode":"CCE.01400001","errorMessage":"m"}"#,
                ErrorKind::Provider,
                false,
            ),
            (
                429,
                r#"{"error_code":"APIGW.0308","error_msg":"m"}"#,
                ErrorKind::Provider,
                true,
            ),
            (
                500,
                r#"{"code":"CCE.01500001","message":"m"}"#,
                ErrorKind::Provider,
                true,
            ),
            (503, "", ErrorKind::Provider, true),
        ];
        for (status, body, kind, retry) in cases {
            let (e, retried) = error_of(failure::<()>(
                &answer(status, &[("X-Request-Id", "req-1")], body),
                &CCE,
            ));
            assert_eq!((e.kind, retried), (kind, retry), "{status} {body}");
            assert_eq!(e.request_id.as_deref(), Some("req-1"));
            assert_eq!(e.http_status, Some(status));
        }
    }

    #[test]
    fn throttling_by_code_retries_after_the_servers_wish() {
        let response = answer(
            400,
            &[("Retry-After", "2")],
            r#"{"error_code":"APIGW.0308","error_msg":"throttled"}"#,
        );
        match failure::<()>(&response, &CCE) {
            Verdict::Retry { error, after } => {
                assert_eq!(error.summary, "throttled by CCE");
                assert_eq!(after, Some(std::time::Duration::from_secs(2)));
            }
            _ => panic!("expected a retry"),
        }
    }

    #[test]
    fn hints_name_what_to_do() {
        let (e, _) = error_of(failure::<()>(
            &answer(401, &[], r#"{"error_code":"APIGW.0307","error_msg":"m"}"#),
            &CCE,
        ));
        assert!(e.hint.unwrap().contains("OS_AUTH_TOKEN"));
        let (e, _) = error_of(failure::<()>(&answer(401, &[], "{}"), &CCE));
        assert_eq!(e.hint.as_deref(), Some("check HUAWEICLOUD_SDK_AK/SK"));
        let (e, _) = error_of(failure::<()>(&answer(404, &[], "{}"), &CCE));
        assert_eq!(
            e.summary,
            "cluster 4d5e6f70-1a2b-11ee-8c90-0255ac100001 not found"
        );
    }

    #[test]
    fn request_id_falls_back_to_the_body() {
        let response = answer(400, &[], r#"{"request_id":"body-id"}"#);
        assert_eq!(request_id(&response).as_deref(), Some("body-id"));
    }

    #[test]
    fn kubeconfig_answers_must_be_json_objects() {
        match judge_kubeconfig(
            answer(201, &[("x-request-id", "r")], r#"{"kind":"Config"}"#),
            &CCE,
            &[201],
        ) {
            Verdict::Done(k) => {
                assert_eq!(k.text, r#"{"kind":"Config"}"#);
                assert_eq!(k.request_id.as_deref(), Some("r"));
            }
            _ => panic!("expected success"),
        }
        for body in ["", r#"{"kind":"Con"#, "[1]", "apiVersion: v1"] {
            let (e, retried) = error_of(judge_kubeconfig(answer(201, &[], body), &CCE, &[201]));
            assert!(!retried);
            assert_eq!(e.summary, "CCE sent a malformed answer", "{body:?}");
        }
        let (e, _) = error_of(judge_kubeconfig(answer(200, &[], "{}"), &CCE, &[201]));
        assert_eq!(e.kind, ErrorKind::Provider);
    }

    #[test]
    fn the_post_asks_for_the_legacy_get_on_404_and_405() {
        for status in [404, 405] {
            assert!(matches!(
                judge_cert_post(answer(status, &[], "{}"), &CCE),
                Verdict::Done(CertAnswer::OnlyLegacy)
            ));
        }
        assert!(matches!(
            judge_cert_post(answer(200, &[], "{}"), &CCE),
            Verdict::Done(CertAnswer::Kubeconfig(_))
        ));
        assert_eq!(
            error_of(judge_cert_post(answer(401, &[], "{}"), &CCE))
                .0
                .kind,
            ErrorKind::Auth
        );
    }

    #[test]
    fn duration_body_has_the_api_shape() {
        assert_eq!(
            serde_json::to_string(&CertDuration { duration: -1 }).unwrap(),
            r#"{"duration":-1}"#
        );
    }
}
