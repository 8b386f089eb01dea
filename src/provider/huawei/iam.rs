//! Huawei IAM (Keystone v3): a token for a password, the project id of a
//! region, and the account's domain id; and IAM 3.0's keyless exchanges: an
//! unscoped token for an OIDC id token, temporary AK/SK for a token or for an
//! agency.

use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::json;

use crate::env::Env;
use crate::error::ErrorKind;
use crate::http::{HttpClient, Response};
use crate::provider::error::{ApiError, Verdict};
use crate::secret::Secret;

use super::api::{failure, request_id, Subject};
use super::auth::{url_with, Authorizer, Unsigned};
use super::credential::Agency;
use super::temporary::{temporary_keys, TemporaryKeys};

const PASSWORD_HINT: &str = "check OS_USERNAME, OS_PASSWORD and OS_DOMAIN_NAME (the account name)";
pub const OIDC_HINT: &str = "check HUAWEICLOUD_SDK_IDP_ID and the id token in HUAWEICLOUD_SDK_ID_TOKEN_FILE (the identity provider's settings in IAM, the CI job's OIDC settings)";
pub const AGENCY_HINT: &str = "check HW_ASSUME_ROLE_AGENCY_NAME and HW_ASSUME_ROLE_DOMAIN_NAME, and that the credentials found may assume that agency";
/// How long temporary keys are asked for (DESIGN.md section 11: one hour).
const TEMPORARY_KEY_SECONDS: u32 = 3600;

/// What temporary keys are granted for.
#[derive(Debug, Clone, Copy)]
pub enum Grant<'a> {
    /// The holder of this token (an unscoped federated token), as itself.
    Token(&'a Secret),
    /// An agency, assumed with these credentials.
    Agency {
        auth: &'a Authorizer,
        agency: &'a Agency,
    },
}

/// What a password token is valid for.
#[derive(Debug, Clone, Copy)]
pub enum TokenScope<'a> {
    /// A regional project, by its region name (or by id when known).
    ProjectName(&'a str),
    ProjectId(&'a str),
    /// The whole account, for global services such as UCS.
    Domain,
}

#[derive(Debug)]
pub struct IssuedToken {
    pub token: Secret,
    /// The project the token is scoped to, when it is.
    pub project_id: Option<String>,
}

pub struct Iam<'a> {
    pub endpoint: &'a Url,
    pub http: &'a HttpClient,
    pub env: &'a Env,
}

impl Iam<'_> {
    /// `POST /v3/auth/tokens` with a password -> `X-Subject-Token`.
    pub async fn password_token(
        &self,
        user: &str,
        password: &Secret,
        domain: &str,
        scope: TokenScope<'_>,
    ) -> Result<IssuedToken, ApiError> {
        let body = token_request(user, password, domain, scope);
        let url = url_with(self.endpoint, "/v3/auth/tokens", &[]);
        let subject = Subject {
            service: "IAM",
            cluster_id: None,
            credential_hint: PASSWORD_HINT,
        };
        self.http
            .send(
                || crate::http::Request {
                    method: Method::POST,
                    url: url.clone(),
                    headers: vec![(
                        "Content-Type".to_string(),
                        super::auth::CONTENT_TYPE.to_string(),
                    )],
                    body: body.clone(),
                },
                |response| judge_token(response, &subject),
            )
            .await
            .map_err(ApiError::from)
    }

    /// `POST /v3.0/OS-AUTH/id-token/tokens`: the unscoped token of the user
    /// the identity provider maps this OIDC id token to.
    pub async fn federated_token(
        &self,
        idp_id: &str,
        id_token: &Secret,
    ) -> Result<Secret, ApiError> {
        let url = url_with(self.endpoint, "/v3.0/OS-AUTH/id-token/tokens", &[]);
        let body = json!({"auth": {"id_token": {"id": id_token.expose()}}})
            .to_string()
            .into_bytes();
        let subject = Subject {
            service: "IAM",
            cluster_id: None,
            credential_hint: OIDC_HINT,
        };
        let issued = self
            .http
            .send(
                || crate::http::Request {
                    method: Method::POST,
                    url: url.clone(),
                    headers: vec![
                        (
                            "Content-Type".to_string(),
                            super::auth::CONTENT_TYPE.to_string(),
                        ),
                        ("X-Idp-Id".to_string(), idp_id.to_string()),
                    ],
                    body: body.clone(),
                },
                |response| match response.status {
                    200 | 201 => judge_token(response, &subject),
                    _ => refused(&response, &subject, "IAM refused the OIDC id token"),
                },
            )
            .await?;
        Ok(issued.token)
    }

    /// `POST /v3.0/OS-CREDENTIAL/securitytokens`: temporary AK/SK and their
    /// security token.
    pub async fn temporary_keys(&self, grant: Grant<'_>) -> Result<TemporaryKeys, ApiError> {
        let url = url_with(self.endpoint, "/v3.0/OS-CREDENTIAL/securitytokens", &[]);
        let body = security_token_request(grant, TEMPORARY_KEY_SECONDS);
        let (auth, hint, summary) = match grant {
            Grant::Token(token) => (
                Authorizer::Token(token.clone()),
                OIDC_HINT,
                "IAM refused temporary keys for the OIDC user",
            ),
            Grant::Agency { auth, .. } => (
                auth.clone(),
                AGENCY_HINT,
                "IAM refused to assume the agency",
            ),
        };
        let subject = Subject {
            service: "IAM",
            cluster_id: None,
            credential_hint: hint,
        };
        let now = self.env.now();
        self.http
            .send(
                || {
                    auth.authorize(
                        Unsigned {
                            method: Method::POST,
                            url: &url,
                            headers: Vec::new(),
                            body: &body,
                        },
                        self.env.now(),
                    )
                },
                |response| match response.status {
                    200 | 201 => match temporary_keys(&response, "IAM", now) {
                        Ok(keys) => Verdict::Done(keys),
                        Err(e) => Verdict::Fail(e),
                    },
                    _ => refused(&response, &subject, summary),
                },
            )
            .await
            .map_err(ApiError::from)
    }

    /// `GET /v3/projects?name=<region>`: exactly one project expected.
    pub async fn project_id(
        &self,
        auth: &Authorizer,
        region: &str,
        credential_hint: &'static str,
    ) -> Result<String, ApiError> {
        let url = url_with(
            self.endpoint,
            "/v3/projects",
            &[("name".to_string(), region.to_string())],
        );
        let subject = Subject {
            service: "IAM",
            cluster_id: None,
            credential_hint,
        };
        let body = self.get(auth, &url, &subject).await?;
        project_in(&body, region)
    }

    /// `GET /v3/auth/domains`: the account's domain id, for `X-Domain-Id`.
    pub async fn domain_id(
        &self,
        auth: &Authorizer,
        credential_hint: &'static str,
    ) -> Result<String, ApiError> {
        let url = url_with(self.endpoint, "/v3/auth/domains", &[]);
        let subject = Subject {
            service: "IAM",
            cluster_id: None,
            credential_hint,
        };
        let body = self.get(auth, &url, &subject).await?;
        domain_in(&body)
    }

    async fn get(
        &self,
        auth: &Authorizer,
        url: &Url,
        subject: &Subject<'_>,
    ) -> Result<Vec<u8>, ApiError> {
        self.http
            .send(
                || {
                    auth.authorize(
                        Unsigned {
                            method: Method::GET,
                            url,
                            headers: Vec::new(),
                            body: b"",
                        },
                        self.env.now(),
                    )
                },
                |response| {
                    if response.status == 200 {
                        Verdict::Done(response.body)
                    } else {
                        failure(&response, subject)
                    }
                },
            )
            .await
            .map_err(ApiError::from)
    }
}

/// The Keystone password request; the password is only ever in this body.
fn token_request(user: &str, password: &Secret, domain: &str, scope: TokenScope<'_>) -> Vec<u8> {
    let scope = match scope {
        TokenScope::ProjectName(name) => json!({"project": {"name": name}}),
        TokenScope::ProjectId(id) => json!({"project": {"id": id}}),
        TokenScope::Domain => json!({"domain": {"name": domain}}),
    };
    json!({"auth": {
        "identity": {
            "methods": ["password"],
            "password": {"user": {
                "name": user,
                "password": password.expose(),
                "domain": {"name": domain},
            }},
        },
        "scope": scope,
    }})
    .to_string()
    .into_bytes()
}

/// `securitytokens`' body: by token (the SDK's federated flow) or by agency.
fn security_token_request(grant: Grant<'_>, seconds: u32) -> Vec<u8> {
    let identity = match grant {
        Grant::Token(token) => json!({
            "methods": ["token"],
            "token": {"id": token.expose(), "duration_seconds": seconds},
        }),
        Grant::Agency { agency, .. } => json!({
            "methods": ["assume_role"],
            "assume_role": {
                "agency_name": agency.name,
                "domain_name": agency.domain,
                "duration_seconds": seconds,
            },
        }),
    };
    json!({"auth": {"identity": identity}})
        .to_string()
        .into_bytes()
}

/// A keyless exchange IAM turned down: whatever the 4xx, the credentials
/// given were not good for it (exit 3); throttling and 5xx stay retryable.
fn refused<T>(response: &Response, subject: &Subject<'_>, summary: &str) -> Verdict<T> {
    match failure(response, subject) {
        Verdict::Fail(mut error) => {
            error.kind = ErrorKind::Auth;
            error.summary = summary.to_string();
            error.hint = Some(subject.credential_hint.to_string());
            Verdict::Fail(error)
        }
        other => other,
    }
}

fn judge_token(response: Response, subject: &Subject<'_>) -> Verdict<IssuedToken> {
    #[derive(Deserialize)]
    struct Body {
        token: Option<TokenBody>,
    }
    #[derive(Deserialize)]
    struct TokenBody {
        project: Option<Named>,
    }
    if response.status != 201 && response.status != 200 {
        return failure(&response, subject);
    }
    let token = response.header("x-subject-token").filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Verdict::Fail(malformed(&response, "no X-Subject-Token header"));
    };
    let project_id = serde_json::from_slice::<Body>(&response.body)
        .ok()
        .and_then(|body| body.token?.project)
        .map(|project| project.id);
    Verdict::Done(IssuedToken {
        token: Secret::new(token),
        project_id,
    })
}

#[derive(Deserialize)]
struct Named {
    id: String,
    #[serde(default)]
    name: String,
}

fn project_in(body: &[u8], region: &str) -> Result<String, ApiError> {
    #[derive(Deserialize)]
    struct Projects {
        projects: Vec<Named>,
    }
    let projects = serde_json::from_slice::<Projects>(body)
        .map_err(|_| malformed_body("not the expected projects list"))?
        .projects;
    // IAM filters by name already; filtering again guards against a proxy
    // or an old IAM that ignores the query.
    let matching: Vec<&Named> = projects.iter().filter(|p| p.name == region).collect();
    match matching.as_slice() {
        [only] => Ok(only.id.clone()),
        [] => Err(ApiError::new(
            ErrorKind::Usage,
            format!("IAM knows no project named {region}"),
        )
        .hint("check --region (e.g. cn-north-4, eu-de), or pass --project-id")),
        several => Err(ApiError::new(
            ErrorKind::Usage,
            format!(
                "IAM has {} projects named {region} ({})",
                several.len(),
                several
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .hint("pass --project-id (or HUAWEICLOUD_SDK_PROJECT_ID) to choose one")),
    }
}

fn domain_in(body: &[u8]) -> Result<String, ApiError> {
    #[derive(Deserialize)]
    struct Domains {
        domains: Vec<Named>,
    }
    let domains = serde_json::from_slice::<Domains>(body)
        .map_err(|_| malformed_body("not the expected domains list"))?
        .domains;
    match domains.as_slice() {
        [only] => Ok(only.id.clone()),
        _ => Err(ApiError::new(
            ErrorKind::Usage,
            format!("IAM lists {} domains for these credentials", domains.len()),
        )
        .hint("set HUAWEICLOUD_SDK_DOMAIN_ID (or domain_id in [global] of ~/.huaweicloud/credentials)")),
    }
}

fn malformed(response: &Response, detail: &str) -> ApiError {
    malformed_body(detail)
        .status(response.status)
        .request_id(request_id(response))
}

fn malformed_body(detail: &str) -> ApiError {
    ApiError::new(ErrorKind::Provider, "IAM sent a malformed answer")
        .message(Some(detail.to_string()))
        .hint("check KUBEFETCH_IAM_ENDPOINT and any proxy in between")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::huawei::api::tests::answer;

    const SUBJECT: Subject<'static> = Subject {
        service: "IAM",
        cluster_id: None,
        credential_hint: PASSWORD_HINT,
    };

    #[test]
    fn the_password_request_has_keystones_shape() {
        let body = token_request(
            "u",
            &Secret::new("pw"),
            "acct",
            TokenScope::ProjectName("eu-de"),
        );
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            value,
            json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": "u", "password": "pw", "domain": {"name": "acct"}}}},
                "scope": {"project": {"name": "eu-de"}}}})
        );
        let by_id = token_request("u", &Secret::new("pw"), "acct", TokenScope::ProjectId("p1"));
        assert!(String::from_utf8(by_id)
            .unwrap()
            .contains(r#""scope":{"project":{"id":"p1"}}"#));
        let global = token_request("u", &Secret::new("pw"), "acct", TokenScope::Domain);
        assert!(String::from_utf8(global)
            .unwrap()
            .contains(r#""scope":{"domain":{"name":"acct"}}"#));
    }

    #[test]
    fn a_token_comes_from_the_subject_token_header() {
        let ok = answer(
            201,
            &[("X-Subject-Token", "tok-1")],
            r#"{"token":{"expires_at":"2026-11-23T10:00:00Z","project":{"id":"p1","name":"eu-de"}}}"#,
        );
        match judge_token(ok, &SUBJECT) {
            Verdict::Done(issued) => {
                assert_eq!(issued.token.expose(), "tok-1");
                assert_eq!(issued.project_id.as_deref(), Some("p1"));
            }
            _ => panic!("expected a token"),
        }
        match judge_token(answer(201, &[], "{}"), &SUBJECT) {
            Verdict::Fail(e) => assert_eq!(e.summary, "IAM sent a malformed answer"),
            _ => panic!("expected a failure"),
        }
    }

    #[test]
    fn a_wrong_password_is_a_credential_error() {
        let refused = answer(
            401,
            &[("X-Request-Id", "r1")],
            r#"{"error":{"code":401,"title":"Unauthorized","message":"The username or password is wrong."}}"#,
        );
        match judge_token(refused, &SUBJECT) {
            Verdict::Fail(e) => {
                assert_eq!(e.kind, ErrorKind::Auth);
                assert_eq!(e.hint.as_deref(), Some(PASSWORD_HINT));
                assert_eq!(e.request_id.as_deref(), Some("r1"));
            }
            _ => panic!("expected a failure"),
        }
    }

    #[test]
    fn securitytokens_requests_have_iams_shape() {
        let token = Secret::new("unscoped");
        let by_token: serde_json::Value =
            serde_json::from_slice(&security_token_request(Grant::Token(&token), 3600)).unwrap();
        assert_eq!(
            by_token,
            json!({"auth": {"identity": {"methods": ["token"],
                "token": {"id": "unscoped", "duration_seconds": 3600}}}})
        );
        let agency = Agency {
            name: "ci".into(),
            domain: "acct".into(),
        };
        let auth = Authorizer::Token(Secret::new("t"));
        let by_agency: serde_json::Value = serde_json::from_slice(&security_token_request(
            Grant::Agency {
                auth: &auth,
                agency: &agency,
            },
            900,
        ))
        .unwrap();
        assert_eq!(
            by_agency,
            json!({"auth": {"identity": {"methods": ["assume_role"],
                "assume_role": {"agency_name": "ci", "domain_name": "acct", "duration_seconds": 900}}}})
        );
    }

    #[test]
    fn a_refused_exchange_is_a_credentials_error_with_iams_code() {
        let subject = Subject {
            service: "IAM",
            cluster_id: None,
            credential_hint: AGENCY_HINT,
        };
        for status in [400, 403, 404] {
            let answer = answer(
                status,
                &[("X-Request-Id", "r3")],
                r#"{"error_msg":"Could not find agency.","error_code":"IAM.0004"}"#,
            );
            match refused::<()>(&answer, &subject, "IAM refused to assume the agency") {
                Verdict::Fail(e) => {
                    assert_eq!(e.kind, ErrorKind::Auth);
                    assert_eq!(e.code.as_deref(), Some("IAM.0004"));
                    assert_eq!(e.request_id.as_deref(), Some("r3"));
                    assert_eq!(e.hint.as_deref(), Some(AGENCY_HINT));
                }
                _ => panic!("{status}: expected a failure"),
            }
        }
        assert!(matches!(
            refused::<()>(&answer(503, &[], "{}"), &subject, "x"),
            Verdict::Retry { .. }
        ));
    }

    #[test]
    fn exactly_one_project_must_match() {
        let one = br#"{"projects":[{"id":"p1","name":"cn-north-4"},{"id":"p2","name":"cn-north-4_sub"}]}"#;
        assert_eq!(project_in(one, "cn-north-4").unwrap(), "p1");
        let none = project_in(br#"{"projects":[]}"#, "xx-nowhere-1").unwrap_err();
        assert_eq!(none.kind, ErrorKind::Usage);
        assert!(none.to_string().contains("no project named xx-nowhere-1"));
        assert!(none.hint.unwrap().contains("--project-id"));
        let two = br#"{"projects":[{"id":"a","name":"ap-dup"},{"id":"b","name":"ap-dup"}]}"#;
        let several = project_in(two, "ap-dup").unwrap_err();
        assert!(
            several
                .to_string()
                .contains("2 projects named ap-dup (a, b)"),
            "{several}"
        );
        assert!(several.hint.unwrap().contains("--project-id"));
        assert_eq!(
            project_in(b"[]", "x").unwrap_err().kind,
            ErrorKind::Provider
        );
    }

    #[test]
    fn the_domain_id_is_the_only_domain() {
        assert_eq!(
            domain_in(br#"{"domains":[{"id":"d1","name":"acct"}]}"#).unwrap(),
            "d1"
        );
        assert!(domain_in(br#"{"domains":[]}"#).is_err());
    }
}
