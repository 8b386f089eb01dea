//! Temporary AK/SK: the `credential` answer IAM's `securitytokens` and the
//! ECS metadata service share, and the metadata exchange itself (a session
//! token first, then the agency's keys).

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::{Method, Url};
use serde::Deserialize;

use crate::env::Env;
use crate::error::ErrorKind;
use crate::http::{HttpClient, Request, Response};
use crate::keyless::{check_expiry, metadata_failure, metadata_url};
use crate::provider::error::{ApiError, Verdict};
use crate::secret::Secret;

use super::api::request_id;
use super::auth::Authorizer;
use super::credential::ECS_METADATA_VAR;

/// The metadata service's own link-local address.
pub const METADATA_DEFAULT: &str = "http://169.254.169.254";
pub const METADATA_ENDPOINT_VAR: &str = "KUBEFETCH_HUAWEI_METADATA_ENDPOINT";
/// How long the metadata session token lives: it is used at once.
const METADATA_TOKEN_TTL_SECONDS: &str = "21600";

/// Keys an exchange handed out, valid with their security token until they expire.
#[derive(Debug)]
pub struct TemporaryKeys {
    pub access: String,
    pub secret: Secret,
    pub security_token: Secret,
    pub expires_at: DateTime<Utc>,
}

impl TemporaryKeys {
    pub fn authorizer(self) -> Authorizer {
        Authorizer::AkSk {
            ak: self.access,
            sk: self.secret,
            security_token: Some(self.security_token),
        }
    }
}

/// `{"credential":{"access","secret","securitytoken","expires_at"}}`, checked:
/// no keys or an expiry that is missing or past is the service's fault (exit 5).
pub fn temporary_keys(
    response: &Response,
    service: &str,
    now: DateTime<Utc>,
) -> Result<TemporaryKeys, ApiError> {
    #[derive(Deserialize)]
    struct Answer {
        credential: Option<Credential>,
    }
    #[derive(Deserialize)]
    struct Credential {
        access: Option<String>,
        secret: Option<String>,
        securitytoken: Option<String>,
        expires_at: Option<String>,
    }
    let id = request_id(response);
    let credential = serde_json::from_slice::<Answer>(&response.body)
        .ok()
        .and_then(|answer| answer.credential);
    let keys = credential.and_then(|c| {
        let nonempty = |v: Option<String>| v.filter(|v| !v.is_empty());
        Some((
            nonempty(c.access)?,
            nonempty(c.secret)?,
            nonempty(c.securitytoken)?,
            c.expires_at,
        ))
    });
    let Some((access, secret, security_token, expires_at)) = keys else {
        return Err(ApiError::new(
            ErrorKind::Provider,
            format!("{service} returned no temporary credentials"),
        )
        .status(response.status)
        .request_id(id)
        .hint("nothing was written; try again, and check any proxy in between"));
    };
    let expires_at = check_expiry(
        expires_at.as_deref().and_then(parse_expiry),
        now,
        service,
        id,
    )?;
    Ok(TemporaryKeys {
        access,
        secret: Secret::new(secret),
        security_token: Secret::new(security_token),
        expires_at,
    })
}

/// Huawei writes `2026-11-27T10:00:00.000000Z`; plain RFC 3339 is accepted too.
fn parse_expiry(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.fZ")
        .map(|t| t.and_utc())
        .or_else(|_| DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)))
        .ok()
}

/// The ECS metadata service (instance agency keys).
pub struct Metadata<'a> {
    pub base: &'a Url,
    pub http: &'a HttpClient,
    pub env: &'a Env,
}

impl Metadata<'_> {
    /// `PUT /meta-data/latest/api/token`, then `GET /openstack/latest/securitykey`
    /// with that token. A service that does not answer names the variable.
    pub async fn security_key(&self) -> Result<TemporaryKeys, ApiError> {
        self.exchange()
            .await
            .map_err(|e| metadata_failure(e, ECS_METADATA_VAR))
    }

    async fn exchange(&self) -> Result<TemporaryKeys, ApiError> {
        let token_url = metadata_url(self.base, &["meta-data", "latest", "api", "token"]);
        let token = self
            .http
            .send(
                || Request {
                    method: Method::PUT,
                    url: token_url.clone(),
                    headers: vec![(
                        "X-Metadata-Token-Ttl-Seconds".to_string(),
                        METADATA_TOKEN_TTL_SECONDS.to_string(),
                    )],
                    body: Vec::new(),
                },
                |response| match String::from_utf8(response.body.clone()) {
                    Ok(token) if response.status == 200 && !token.trim().is_empty() => {
                        Verdict::Done(Secret::new(token.trim()))
                    }
                    _ => Verdict::Fail(refused(&response, "a metadata session token")),
                },
            )
            .await?;
        let key_url = metadata_url(self.base, &["openstack", "latest", "securitykey"]);
        let now = self.env.now();
        self.http
            .send(
                || Request {
                    method: Method::GET,
                    url: key_url.clone(),
                    headers: vec![("X-Metadata-Token".to_string(), token.expose().to_string())],
                    body: Vec::new(),
                },
                |response| {
                    if response.status != 200 {
                        return Verdict::Fail(refused(&response, "the ECS agency's keys"));
                    }
                    match temporary_keys(&response, "the ECS metadata service", now) {
                        Ok(keys) => Verdict::Done(keys),
                        Err(e) => Verdict::Fail(e),
                    }
                },
            )
            .await
            .map_err(ApiError::from)
    }
}

/// A metadata answer other than the one asked for: a 4xx means this host
/// gives no keys (no agency bound to the ECS), a 5xx the service failed.
fn refused(response: &Response, what: &str) -> ApiError {
    let kind = if response.status >= 500 {
        ErrorKind::Provider
    } else {
        ErrorKind::Auth
    };
    ApiError::new(
        kind,
        format!("the ECS metadata service did not give {what}"),
    )
    .status(response.status)
    .hint(format!(
        "bind an agency to this ECS (console: ECS > Management Information > Agency), or unset {ECS_METADATA_VAR}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::huawei::api::tests::answer;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn huaweis_expiry_format_and_rfc3339_parse() {
        let at = parse_expiry("2027-01-15T08:00:00.000000Z").unwrap();
        assert_eq!(at.to_rfc3339(), "2027-01-15T08:00:00+00:00");
        assert_eq!(parse_expiry("2027-01-15T08:00:00Z"), Some(at));
        assert_eq!(parse_expiry("2027-01-15T09:00:00+01:00"), Some(at));
        assert_eq!(parse_expiry("tomorrow"), None);
    }

    #[test]
    fn a_credential_answer_gives_keys_with_their_token() {
        let ok = answer(
            201,
            &[("X-Request-Id", "r1")],
            r#"{"credential":{"access":"TMPAK","secret":"tmpsk","securitytoken":"st","expires_at":"2027-01-15T08:00:00.000000Z"}}"#,
        );
        let keys = temporary_keys(&ok, "IAM", now()).unwrap();
        assert_eq!(keys.access, "TMPAK");
        assert_eq!(
            (keys.secret.expose(), keys.security_token.expose()),
            ("tmpsk", "st")
        );
        match keys.authorizer() {
            Authorizer::AkSk { security_token, .. } => {
                assert_eq!(security_token.unwrap().expose(), "st")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_keys_or_a_past_or_missing_expiry_is_the_services_fault() {
        for body in [
            r#"{}"#,
            r#"{"credential":{"access":"A","secret":"","securitytoken":"t","expires_at":"2027-01-15T08:00:00Z"}}"#,
            r#"{"credential":{"access":"A","secret":"s","securitytoken":"t"}}"#,
            r#"{"credential":{"access":"A","secret":"s","securitytoken":"t","expires_at":"2020-01-01T00:00:00.000000Z"}}"#,
        ] {
            let e = temporary_keys(&answer(201, &[("X-Request-Id", "r2")], body), "IAM", now())
                .unwrap_err();
            assert_eq!(e.kind, ErrorKind::Provider, "{body}");
            assert_eq!(e.request_id.as_deref(), Some("r2"), "{body}");
            assert!(!e.to_string().contains("tmpsk"));
        }
    }

    #[test]
    fn a_refusing_metadata_service_names_the_variable() {
        let e = refused(&answer(404, &[], "not found"), "the ECS agency's keys");
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(e.hint.unwrap().contains(ECS_METADATA_VAR));
        let e = refused(&answer(503, &[], ""), "a metadata session token");
        assert_eq!(e.kind, ErrorKind::Provider);
    }
}
