//! Alibaba Cloud STS on the wire (version 2015-04-01, RPC style):
//! `AssumeRole`, signed with ACS3-HMAC-SHA256 and its parameters in the
//! query, and `AssumeRoleWithOIDC`, not signed, every parameter in the query
//! as the official SDKs send it. Both answer
//! `{RequestId, Credentials{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}}`.

use chrono::{DateTime, Utc};
use reqwest::{Method, Url};
use serde::Deserialize;

use super::api::{parse_expiration, ErrorAnswer, REQUEST_ID_HEADER, RETRY_AFTER_HEADER};
use super::credential::{AlibabaCredential, OidcRole, RoleToAssume};
use super::signed_headers;
use crate::error::ErrorKind;
use crate::http::{retry_after, Request, Response};
use crate::provider::error::{ApiError, Verdict};
use crate::provider::host_header;
use crate::secret::Secret;
use crate::sign::canonical_query;

pub const VERSION: &str = "2015-04-01";
pub const ASSUME_ROLE: &str = "AssumeRole";
pub const ASSUME_ROLE_WITH_OIDC: &str = "AssumeRoleWithOIDC";

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The URL with `query` encoded exactly as it is signed.
fn url_with(endpoint: &Url, query: &[(String, String)]) -> Url {
    let mut url = endpoint.clone();
    url.set_query(Some(&canonical_query(query)));
    url
}

/// `AssumeRole` with `keys`, one attempt (fresh date and nonce).
pub fn assume_role_request(
    endpoint: &Url,
    keys: &AlibabaCredential,
    role: &RoleToAssume,
    now: DateTime<Utc>,
    nonce: &str,
) -> Request {
    let duration = role.duration_seconds.to_string();
    // RPC answers are XML unless JSON is asked for.
    let query = pairs(&[
        ("DurationSeconds", &duration),
        ("Format", "JSON"),
        ("RoleArn", &role.arn),
        ("RoleSessionName", &role.session_name),
    ]);
    let headers = signed_headers(
        &super::SignedCall {
            method: "POST",
            host: &host_header(endpoint),
            path: endpoint.path(),
            query: &query,
            action: ASSUME_ROLE,
            version: VERSION,
        },
        keys,
        now,
        nonce,
    );
    Request {
        method: Method::POST,
        url: url_with(endpoint, &query),
        headers,
        body: Vec::new(),
    }
}

/// `AssumeRoleWithOIDC`: no signature, the token in the query (never logged:
/// logs drop queries).
pub fn oidc_request(
    endpoint: &Url,
    oidc: &OidcRole,
    token: &Secret,
    now: DateTime<Utc>,
    nonce: &str,
) -> Request {
    let duration = oidc.role.duration_seconds.to_string();
    let timestamp = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let query = pairs(&[
        ("Action", ASSUME_ROLE_WITH_OIDC),
        ("DurationSeconds", &duration),
        ("Format", "JSON"),
        ("OIDCProviderArn", &oidc.provider_arn),
        ("OIDCToken", token.expose()),
        ("RoleArn", &oidc.role.arn),
        ("RoleSessionName", &oidc.role.session_name),
        ("SignatureNonce", nonce),
        ("Timestamp", &timestamp),
        ("Version", VERSION),
    ]);
    Request {
        method: Method::POST,
        url: url_with(endpoint, &query),
        headers: vec![("accept".to_string(), "application/json".to_string())],
        body: Vec::new(),
    }
}

/// Temporary keys as STS issued them, before their expiry is checked.
#[derive(Debug)]
pub struct Issued {
    pub keys: AlibabaCredential,
    pub expires_at: Option<DateTime<Utc>>,
    pub request_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    request_id: Option<String>,
    credentials: Option<Credentials>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Credentials {
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    security_token: Option<String>,
    expiration: Option<String>,
}

/// Reads one STS answer. A refusal is a credentials failure (exit 3) whose
/// hint names `origin`; an answer without keys is STS's fault (exit 5).
pub fn judge(response: Response, action: &str, origin: &str) -> Verdict<Issued> {
    let header_request_id = response.header(REQUEST_ID_HEADER).map(str::to_string);
    if response.status == 200 && retry_after(&response, RETRY_AFTER_HEADER).is_none() {
        let answer: Option<Answer> = serde_json::from_slice(&response.body).ok();
        let request_id = answer
            .as_ref()
            .and_then(|a| a.request_id.clone())
            .or(header_request_id);
        let issued = answer.and_then(|a| a.credentials).and_then(|c| {
            Some(Issued {
                keys: AlibabaCredential {
                    access_key_id: c.access_key_id.filter(|v| !v.is_empty())?,
                    access_key_secret: Secret::new(c.access_key_secret.filter(|v| !v.is_empty())?),
                    security_token: Some(Secret::new(c.security_token.filter(|v| !v.is_empty())?)),
                },
                expires_at: c.expiration.as_deref().and_then(parse_expiration),
                request_id: request_id.clone(),
            })
        });
        return match issued {
            Some(issued) => Verdict::Done(issued),
            None => Verdict::Fail(
                ApiError::new(
                    ErrorKind::Provider,
                    format!("Alibaba Cloud STS answered {action} without credentials"),
                )
                .status(200)
                .request_id(request_id)
                .hint("nothing was written; try again, and check KUBEFETCH_ALIBABA_STS_ENDPOINT if it persists"),
            ),
        };
    }
    failure(&response, action, origin)
}

fn failure(response: &Response, action: &str, origin: &str) -> Verdict<Issued> {
    let status = response.status;
    let answer = ErrorAnswer::read(response);
    if answer.throttled || status >= 500 {
        let error = ApiError::new(
            ErrorKind::Provider,
            format!("Alibaba Cloud STS could not answer {action}"),
        )
        .hint("try again later");
        return Verdict::Retry {
            error: answer.detail(error, status),
            after: answer.wait,
        };
    }
    let error = match answer.code {
        None => ApiError::new(
            ErrorKind::Provider,
            format!("Alibaba Cloud STS answered {action} with an unexpected status"),
        )
        .hint("check KUBEFETCH_ALIBABA_STS_ENDPOINT and any proxy in between"),
        Some(_) => ApiError::new(
            ErrorKind::Auth,
            format!("Alibaba Cloud STS refused {action}"),
        )
        .hint(if action == ASSUME_ROLE_WITH_OIDC {
            format!("check {origin}: the role must exist and trust the OIDC provider, and the token must be current")
        } else {
            format!("check {origin}: the role must exist and let the keys it is assumed with assume it")
        }),
    };
    Verdict::Fail(answer.detail(error, status))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{answer, header};
    use super::*;
    use crate::keyless::TokenFile;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn role() -> RoleToAssume {
        RoleToAssume {
            arn: "acs:ram::123:role/ci".into(),
            session_name: "kubefetch ci".into(),
            duration_seconds: 3600,
            origin: "ALIBABA_CLOUD_ROLE_ARN".into(),
        }
    }

    #[test]
    fn oidc_requests_carry_every_parameter_in_the_query_unsigned() {
        let endpoint = Url::parse("https://sts.cn-hangzhou.aliyuncs.com").unwrap();
        let oidc = OidcRole {
            role: role(),
            provider_arn: "acs:ram::123:oidc-provider/gh".into(),
            token_file: TokenFile {
                var: "T",
                path: "/nowhere".into(),
            },
        };
        let request = oidc_request(&endpoint, &oidc, &Secret::new("a.b.c"), now(), "n1");
        assert_eq!(request.method, Method::POST);
        assert_eq!(
            request.url.as_str(),
            "https://sts.cn-hangzhou.aliyuncs.com/?Action=AssumeRoleWithOIDC&DurationSeconds=3600&Format=JSON\
             &OIDCProviderArn=acs%3Aram%3A%3A123%3Aoidc-provider%2Fgh&OIDCToken=a.b.c\
             &RoleArn=acs%3Aram%3A%3A123%3Arole%2Fci&RoleSessionName=kubefetch%20ci\
             &SignatureNonce=n1&Timestamp=2023-11-14T22%3A13%3A20Z&Version=2015-04-01"
        );
        assert_eq!(header(&request, "authorization"), None);
    }

    #[test]
    fn assume_role_is_signed_over_the_query_with_the_source_token() {
        let endpoint = Url::parse("https://sts.aliyuncs.com").unwrap();
        let keys = AlibabaCredential {
            access_key_id: "STS.src".into(),
            access_key_secret: Secret::new("s"),
            security_token: Some(Secret::new("src-token")),
        };
        let request = assume_role_request(&endpoint, &keys, &role(), now(), "n2");
        assert_eq!(
            request.url.query(),
            Some("DurationSeconds=3600&Format=JSON&RoleArn=acs%3Aram%3A%3A123%3Arole%2Fci&RoleSessionName=kubefetch%20ci")
        );
        assert_eq!(header(&request, "x-acs-action"), Some("AssumeRole"));
        assert_eq!(header(&request, "x-acs-version"), Some("2015-04-01"));
        assert_eq!(header(&request, "x-acs-security-token"), Some("src-token"));
        assert_eq!(header(&request, "host"), None, "reqwest sets Host");
        let auth = header(&request, "authorization").unwrap();
        assert!(
            auth.starts_with("ACS3-HMAC-SHA256 Credential=STS.src,SignedHeaders=accept;host;"),
            "{auth}"
        );
    }

    #[test]
    fn an_answer_gives_keys_token_expiry_and_request_id() {
        let body = r#"{"RequestId":"R-1","Credentials":{"AccessKeyId":"STS.x","AccessKeySecret":"sx",
            "SecurityToken":"tok","Expiration":"2030-01-01T00:00:00Z"}}"#;
        let Verdict::Done(issued) = judge(answer(200, body), ASSUME_ROLE, "X") else {
            panic!("refused");
        };
        assert_eq!(issued.keys.access_key_id, "STS.x");
        assert_eq!(issued.keys.security_token.unwrap().expose(), "tok");
        assert_eq!(
            issued.expires_at.unwrap().to_rfc3339(),
            "2030-01-01T00:00:00+00:00"
        );
        assert_eq!(issued.request_id.as_deref(), Some("R-1"));
    }

    #[test]
    fn an_answer_without_credentials_is_the_providers_fault() {
        for body in [
            r#"{"RequestId":"R-2"}"#,
            r#"{"RequestId":"R-2","Credentials":{"AccessKeyId":"x"}}"#,
        ] {
            let Verdict::Fail(e) = judge(answer(200, body), ASSUME_ROLE, "X") else {
                panic!("accepted {body}");
            };
            assert_eq!(e.kind, ErrorKind::Provider);
            assert_eq!(e.request_id.as_deref(), Some("R-2"));
        }
    }

    #[test]
    fn refusals_are_credential_failures_naming_the_origin_and_5xx_retries() {
        let body =
            r#"{"RequestId":"R-3","Code":"AuthenticationFail.OIDCToken.Expired","Message":"m"}"#;
        let Verdict::Fail(e) = judge(
            answer(401, body),
            ASSUME_ROLE_WITH_OIDC,
            "ALIBABA_CLOUD_ROLE_ARN",
        ) else {
            panic!("not refused");
        };
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(
            e.code.as_deref(),
            Some("AuthenticationFail.OIDCToken.Expired")
        );
        assert_eq!(e.request_id.as_deref(), Some("R-3"));
        assert!(e.hint.unwrap().contains("ALIBABA_CLOUD_ROLE_ARN"));
        assert!(matches!(
            judge(answer(503, "{}"), ASSUME_ROLE, "X"),
            Verdict::Retry { .. }
        ));
        assert!(matches!(
            judge(answer(404, "<html>"), ASSUME_ROLE, "X"),
            Verdict::Fail(ApiError {
                kind: ErrorKind::Provider,
                ..
            })
        ));
    }
}
