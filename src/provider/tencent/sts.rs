//! Tencent Cloud STS (2018-08-13): `AssumeRole`, TC3-signed with the
//! credential found, and `AssumeRoleWithWebIdentity`, unsigned, with a CI
//! job's OIDC token. Both answer temporary keys with a session token, in
//! the shape the CVM metadata service uses too.

use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::env::Env;
use crate::error::ErrorKind;
use crate::http::{HttpClient, Response};
use crate::keyless::{check_expiry, session_name};
use crate::provider::error::{ApiError, Verdict};
use crate::secret::Secret;

use super::api;
use super::call::Call;
use super::credential::{AssumeRole, TencentCredential, WebIdentity};

pub const DEFAULT_ENDPOINT: &str = "https://sts.tencentcloudapi.com";
pub const ENDPOINT_VAR: &str = "KUBEFETCH_TENCENT_STS_ENDPOINT";
const VERSION: &str = "2018-08-13";
const SERVICE: &str = "sts";
const ASSUME_ROLE: &str = "AssumeRole";
const WITH_WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";
/// DESIGN.md section 11: temporary keys for one hour.
const DURATION_SECONDS: u32 = 3600;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleBody<'a> {
    role_arn: &'a str,
    role_session_name: &'a str,
    duration_seconds: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WebIdentityBody<'a> {
    provider_id: &'a str,
    web_identity_token: &'a str,
    role_arn: &'a str,
    role_session_name: &'a str,
    duration_seconds: u32,
}

pub struct Sts<'a> {
    pub endpoint: &'a Url,
    pub http: &'a HttpClient,
    pub env: &'a Env,
}

impl Sts<'_> {
    /// Temporary keys of `role`, asked for with `keys`.
    pub async fn assume_role(
        &self,
        keys: &TencentCredential,
        role: &AssumeRole,
        region: &str,
    ) -> Result<TencentCredential, ApiError> {
        let session = role
            .session_name
            .clone()
            .unwrap_or_else(|| session_name(self.env, None));
        let body = super::encode(&AssumeRoleBody {
            role_arn: &role.role_arn,
            role_session_name: &session,
            duration_seconds: DURATION_SECONDS,
        })?;
        let hint = format!(
            "check {} and that the role's trust policy lets these credentials assume it",
            role.asked_by
        );
        self.exchange(ASSUME_ROLE, region, &body, Some(keys), &hint)
            .await
    }

    /// Temporary keys of the OIDC role, for the token read afresh from its file.
    pub async fn assume_role_with_web_identity(
        &self,
        web: &WebIdentity,
        region: &str,
    ) -> Result<TencentCredential, ApiError> {
        let token = web.token_file.read_for_exchange()?;
        let session = session_name(self.env, None);
        let body = super::encode(&WebIdentityBody {
            provider_id: &web.provider_id,
            web_identity_token: token.expose(),
            role_arn: &web.role_arn,
            role_session_name: &session,
            duration_seconds: DURATION_SECONDS,
        })?;
        let hint = "check TKE_ROLE_ARN, TKE_PROVIDER_ID and the token in TKE_WEB_IDENTITY_TOKEN_FILE (the CI job's OIDC settings and the role's trust policy)";
        self.exchange(WITH_WEB_IDENTITY, region, &body, None, hint)
            .await
    }

    async fn exchange(
        &self,
        action: &str,
        region: &str,
        body: &[u8],
        keys: Option<&TencentCredential>,
        hint: &str,
    ) -> Result<TencentCredential, ApiError> {
        let issued = self
            .http
            .send(
                || {
                    let call = Call {
                        endpoint: self.endpoint,
                        service: SERVICE,
                        version: VERSION,
                        action,
                        region,
                        body,
                        timestamp: self.env.now().timestamp(),
                    };
                    match keys {
                        Some(keys) => call.signed(keys),
                        None => call.unsigned(),
                    }
                },
                |response| judge(response, action, hint),
            )
            .await?;
        issued.into_credential(self.env.now(), "Tencent STS")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsData {
    credentials: Option<TmpKeys>,
    #[serde(flatten)]
    expiry: Expiry,
}

/// Temporary keys as STS and the CVM metadata service spell them.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TmpKeys {
    tmp_secret_id: Option<String>,
    tmp_secret_key: Option<String>,
    token: Option<String>,
}

/// When they end: `ExpiredTime` (unix seconds), else `Expiration` (RFC 3339).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Expiry {
    expired_time: Option<i64>,
    expiration: Option<String>,
}

impl Expiry {
    fn at(&self) -> Option<DateTime<Utc>> {
        self.expired_time
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            .or_else(|| {
                let text = self.expiration.as_deref()?;
                DateTime::parse_from_rfc3339(text)
                    .ok()
                    .map(|at| at.with_timezone(&Utc))
            })
    }
}

/// An exchange's answer before it is checked.
pub(super) struct Issued {
    pub(super) keys: TmpKeys,
    pub(super) expiry: Expiry,
    pub(super) request_id: Option<String>,
}

impl Issued {
    /// The keys, when all three are there and they have not expired;
    /// otherwise the service's fault (exit 5), and nothing is used.
    pub(super) fn into_credential(
        self,
        now: DateTime<Utc>,
        service: &str,
    ) -> Result<TencentCredential, ApiError> {
        let non_empty = |v: Option<String>| v.filter(|v| !v.is_empty());
        let TmpKeys {
            tmp_secret_id,
            tmp_secret_key,
            token,
        } = self.keys;
        let (Some(secret_id), Some(secret_key), Some(token)) = (
            non_empty(tmp_secret_id),
            non_empty(tmp_secret_key),
            non_empty(token),
        ) else {
            return Err(ApiError::new(
                ErrorKind::Provider,
                format!("{service} answered without temporary credentials"),
            )
            .request_id(self.request_id)
            .hint("nothing was written; try again, and check the endpoint if it persists"));
        };
        check_expiry(self.expiry.at(), now, service, self.request_id)?;
        Ok(TencentCredential {
            secret_id,
            secret_key: Secret::new(secret_key),
            token: Some(Secret::new(token)),
        })
    }
}

fn judge(response: Response, action: &str, hint: &str) -> Verdict<Issued> {
    let status = response.status;
    let body = match api::open::<StsData, _>(&response, "Tencent STS", |code| {
        classify(code, action, hint)
    }) {
        Ok(body) => body,
        Err(verdict) => return verdict,
    };
    if status != 200 {
        return Verdict::Fail(
            ApiError::new(
                ErrorKind::Provider,
                format!("Tencent STS answered {action} with HTTP {status}"),
            )
            .status(status)
            .request_id(body.request_id),
        );
    }
    Verdict::Done(Issued {
        keys: body.data.credentials.unwrap_or_default(),
        expiry: body.data.expiry,
        request_id: body.request_id,
    })
}

/// A refusal is a credentials failure (exit 3); throttling and internal
/// errors are STS's (exit 5, retried).
fn classify(code: &str, action: &str, hint: &str) -> ApiError {
    if code.starts_with("RequestLimitExceeded") {
        ApiError::new(ErrorKind::Provider, "throttled by Tencent STS")
            .hint("wait a moment and try again")
    } else if code.starts_with("InternalError") {
        ApiError::new(ErrorKind::Provider, "Tencent STS failed internally").hint("try again later")
    } else if code == "AuthFailure.SignatureExpire" {
        ApiError::new(ErrorKind::Auth, format!("Tencent STS refused {action}"))
            .hint("the request's timestamp was refused: check this machine's clock (NTP)")
    } else {
        ApiError::new(ErrorKind::Auth, format!("Tencent STS refused {action}")).hint(hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> Response {
        crate::testing::response(200, body)
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn issued(body: &str) -> Issued {
        match judge(answer(body), ASSUME_ROLE, "check X") {
            Verdict::Done(issued) => issued,
            _ => panic!("expected an answer"),
        }
    }

    #[test]
    fn request_bodies_use_the_api_names() {
        let body = serde_json::to_string(&WebIdentityBody {
            provider_id: "gh",
            web_identity_token: "a.b.c",
            role_arn: "qcs::cam::uin/1:roleName/r",
            role_session_name: "kubefetch-1",
            duration_seconds: DURATION_SECONDS,
        })
        .unwrap();
        assert_eq!(
            body,
            r#"{"ProviderId":"gh","WebIdentityToken":"a.b.c","RoleArn":"qcs::cam::uin/1:roleName/r","RoleSessionName":"kubefetch-1","DurationSeconds":3600}"#
        );
        let body = serde_json::to_string(&AssumeRoleBody {
            role_arn: "qcs::cam::uin/1:roleName/r",
            role_session_name: "s",
            duration_seconds: DURATION_SECONDS,
        })
        .unwrap();
        assert_eq!(
            body,
            r#"{"RoleArn":"qcs::cam::uin/1:roleName/r","RoleSessionName":"s","DurationSeconds":3600}"#
        );
    }

    #[test]
    fn an_answer_gives_temporary_keys_with_their_token() {
        let keys = issued(
            r#"{"Response":{"Credentials":{"TmpSecretId":"AKIDt","TmpSecretKey":"k","Token":"t"},
                "ExpiredTime":1700003600,"Expiration":"2023-11-14T23:13:20Z","RequestId":"r-1"}}"#,
        )
        .into_credential(now(), "Tencent STS")
        .unwrap();
        assert_eq!(keys.secret_id, "AKIDt");
        assert_eq!(keys.secret_key.expose(), "k");
        assert_eq!(keys.token.unwrap().expose(), "t");
    }

    #[test]
    fn the_rfc3339_expiration_serves_when_expired_time_is_missing() {
        let answer = issued(
            r#"{"Response":{"Credentials":{"TmpSecretId":"a","TmpSecretKey":"k","Token":"t"},
                "Expiration":"2023-11-14T22:13:19Z","RequestId":"r-2"}}"#,
        );
        let e = answer.into_credential(now(), "Tencent STS").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Provider);
        assert!(e.summary.contains("already past"), "{}", e.summary);
        assert_eq!(e.request_id.as_deref(), Some("r-2"));
    }

    #[test]
    fn an_answer_without_credentials_is_the_providers_fault() {
        let e = issued(r#"{"Response":{"RequestId":"r-3"}}"#)
            .into_credential(now(), "Tencent STS")
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Provider);
        assert!(e.summary.contains("without temporary credentials"));
        assert_eq!(e.request_id.as_deref(), Some("r-3"));
    }

    #[test]
    fn refusals_are_credential_failures_and_throttling_is_retried() {
        let refusal = r#"{"Response":{"Error":{"Code":"ResourceNotFound.RoleNotFound","Message":"m"},"RequestId":"r-4"}}"#;
        match judge(answer(refusal), ASSUME_ROLE, "check X") {
            Verdict::Fail(e) => {
                assert_eq!(e.kind, ErrorKind::Auth);
                assert_eq!(e.code.as_deref(), Some("ResourceNotFound.RoleNotFound"));
                assert_eq!(e.request_id.as_deref(), Some("r-4"));
                assert_eq!(e.hint.as_deref(), Some("check X"));
            }
            _ => panic!("expected a refusal"),
        }
        let clock = r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"m"},"RequestId":"r-6"}}"#;
        match judge(answer(clock), ASSUME_ROLE, "check X") {
            Verdict::Fail(e) => assert!(e.hint.unwrap().contains("clock"), "a clock, not the role"),
            _ => panic!("expected a refusal"),
        }
        let throttled = r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"m"},"RequestId":"r-5"}}"#;
        assert!(matches!(
            judge(answer(throttled), ASSUME_ROLE, "h"),
            Verdict::Retry { .. }
        ));
    }
}
