//! The ECS metadata service on the wire: a session token first (IMDSv2,
//! `PUT /latest/api/token`), then the instance role's temporary keys
//! (`GET /latest/meta-data/ram/security-credentials/<role>`). As the SDK
//! does, a service that answers the token request with an error is read
//! without a token (IMDSv1) unless `ALIBABA_CLOUD_IMDSV1_DISABLED` is set;
//! one that does not answer at all is not asked again.

use reqwest::{Method, Url};
use serde::Deserialize;

use super::api::parse_expiration;
use super::credential::{AlibabaCredential, InstanceRole};
use super::sts::Issued;
use crate::error::ErrorKind;
use crate::http::{Request, Response};
use crate::keyless::metadata_url;
use crate::provider::error::{ApiError, Verdict};
use crate::secret::Secret;

pub const DEFAULT_ENDPOINT: &str = "http://100.100.100.200";
const TOKEN_TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";
/// The longest metadata token the service issues; one run needs seconds.
const TOKEN_TTL_SECONDS: &str = "21600";

pub fn token_request(base: &Url) -> Request {
    Request {
        method: Method::PUT,
        url: metadata_url(base, &["latest", "api", "token"]),
        headers: vec![(TOKEN_TTL_HEADER.to_string(), TOKEN_TTL_SECONDS.to_string())],
        body: Vec::new(),
    }
}

/// The token, or `None` to read without one (IMDSv1).
pub fn judge_token(response: Response, role: &InstanceRole) -> Verdict<Option<Secret>> {
    let token = String::from_utf8_lossy(&response.body).trim().to_string();
    if response.status == 200 && !token.is_empty() {
        return Verdict::Done(Some(Secret::new(token)));
    }
    if !role.imdsv1_disabled {
        return Verdict::Done(None);
    }
    Verdict::Fail(
        ApiError::new(
            ErrorKind::Auth,
            "the ECS metadata service gave no session token",
        )
        .status(response.status)
        .hint(format!(
            "ALIBABA_CLOUD_IMDSV1_DISABLED forbids reading {} without one: unset it, or check the instance's metadata options",
            role.origin
        )),
    )
}

pub fn credentials_request(base: &Url, role: &InstanceRole, token: Option<&Secret>) -> Request {
    Request {
        method: Method::GET,
        url: metadata_url(
            base,
            &[
                "latest",
                "meta-data",
                "ram",
                "security-credentials",
                &role.name,
            ],
        ),
        headers: token
            .map(|t| (TOKEN_HEADER.to_string(), t.expose().to_string()))
            .into_iter()
            .collect(),
        body: Vec::new(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: Option<String>,
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    security_token: Option<String>,
    expiration: Option<String>,
}

pub fn judge_credentials(response: Response, role: &InstanceRole) -> Verdict<Issued> {
    let status = response.status;
    match status {
        200 => {}
        404 => {
            return Verdict::Fail(
                ApiError::new(
                    ErrorKind::Auth,
                    format!("this ECS instance has no RAM role named {}", role.name),
                )
                .status(status)
                .hint(format!(
                    "check {}: it must name the RAM role attached to the instance",
                    role.origin
                )),
            )
        }
        401 | 403 => {
            return Verdict::Fail(
                ApiError::new(ErrorKind::Auth, "the ECS metadata service refused the request")
                    .status(status)
                    .hint("the instance may require a metadata token (IMDSv2) that was not accepted; try again"),
            )
        }
        _ => {
            return Verdict::Fail(
                ApiError::new(
                    ErrorKind::Provider,
                    "the ECS metadata service answered with an unexpected status",
                )
                .status(status)
                .hint("try again; check KUBEFETCH_ALIBABA_METADATA_ENDPOINT if it is set"),
            )
        }
    }
    let answer: Option<Answer> = serde_json::from_slice(&response.body).ok();
    let issued = answer
        .filter(|a| a.code.as_deref().is_none_or(|c| c == "Success"))
        .and_then(|a| {
            Some(Issued {
                keys: AlibabaCredential {
                    access_key_id: a.access_key_id.filter(|v| !v.is_empty())?,
                    access_key_secret: Secret::new(a.access_key_secret.filter(|v| !v.is_empty())?),
                    security_token: Some(Secret::new(a.security_token.filter(|v| !v.is_empty())?)),
                },
                expires_at: a.expiration.as_deref().and_then(parse_expiration),
                request_id: None,
            })
        });
    match issued {
        Some(issued) => Verdict::Done(issued),
        None => Verdict::Fail(
            ApiError::new(
                ErrorKind::Provider,
                "the ECS metadata service answered without credentials",
            )
            .status(200)
            .hint("nothing was written; try again"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::answer;
    use super::*;

    fn role(imdsv1_disabled: bool) -> InstanceRole {
        InstanceRole {
            name: "ecs-role".into(),
            origin: "ALIBABA_CLOUD_ECS_METADATA".into(),
            imdsv1_disabled,
        }
    }

    #[test]
    fn requests_follow_the_documented_paths_and_headers() {
        let base = Url::parse("http://100.100.100.200").unwrap();
        let token = token_request(&base);
        assert_eq!(token.method, Method::PUT);
        assert_eq!(
            token.url.as_str(),
            "http://100.100.100.200/latest/api/token"
        );
        assert_eq!(
            token.headers,
            [(TOKEN_TTL_HEADER.to_string(), "21600".to_string())]
        );
        let prefixed = Url::parse("http://127.0.0.1:9/meta/").unwrap();
        let get = credentials_request(&prefixed, &role(false), Some(&Secret::new("t")));
        assert_eq!(
            get.url.as_str(),
            "http://127.0.0.1:9/meta/latest/meta-data/ram/security-credentials/ecs-role"
        );
        assert_eq!(get.headers, [(TOKEN_HEADER.to_string(), "t".to_string())]);
        assert!(credentials_request(&base, &role(false), None)
            .headers
            .is_empty());
    }

    #[test]
    fn a_refused_token_falls_back_to_imdsv1_unless_disabled() {
        assert!(matches!(
            judge_token(answer(200, "tok\n"), &role(true)),
            Verdict::Done(Some(t)) if t.expose() == "tok"
        ));
        assert!(matches!(
            judge_token(answer(404, ""), &role(false)),
            Verdict::Done(None)
        ));
        let Verdict::Fail(e) = judge_token(answer(403, ""), &role(true)) else {
            panic!("fell back although IMDSv1 is disabled");
        };
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(e.hint.unwrap().contains("ALIBABA_CLOUD_IMDSV1_DISABLED"));
    }

    #[test]
    fn credentials_are_read_and_incomplete_answers_refused() {
        let body = r#"{"AccessKeyId":"STS.e","AccessKeySecret":"s","SecurityToken":"t",
            "Expiration":"2030-01-01T00:00:00Z","Code":"Success"}"#;
        let Verdict::Done(issued) = judge_credentials(answer(200, body), &role(false)) else {
            panic!("refused");
        };
        assert_eq!(issued.keys.access_key_id, "STS.e");
        assert!(issued.expires_at.is_some());
        for bad in ["{}", r#"{"Code":"Failed","AccessKeyId":"a"}"#, "not json"] {
            let Verdict::Fail(e) = judge_credentials(answer(200, bad), &role(false)) else {
                panic!("accepted {bad}");
            };
            assert_eq!(e.kind, ErrorKind::Provider, "{bad}");
        }
        let Verdict::Fail(e) = judge_credentials(answer(404, ""), &role(false)) else {
            panic!("accepted 404");
        };
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(e.hint.unwrap().contains("ALIBABA_CLOUD_ECS_METADATA"));
    }
}
