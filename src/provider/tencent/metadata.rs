//! The CVM instance metadata service: the temporary keys of the CAM role
//! attached to the instance. Asked only when `TENCENTCLOUD_CAM_ROLE_NAME`
//! names the role (PROVIDERS.md section 6 documents no token step).

use chrono::{DateTime, Utc};
use reqwest::{Method, Url};
use serde::Deserialize;

use crate::error::ErrorKind;
use crate::http::{HttpClient, Request, Response};
use crate::keyless::{metadata_failure, metadata_url};
use crate::provider::error::{ApiError, Verdict};

use super::credential::TencentCredential;
use super::sts::{Expiry, Issued, TmpKeys};

pub const DEFAULT_ENDPOINT: &str = "http://metadata.tencentyun.com";
pub const ENDPOINT_VAR: &str = "KUBEFETCH_TENCENT_METADATA_ENDPOINT";
pub const ROLE_VAR: &str = "TENCENTCLOUD_CAM_ROLE_NAME";
const SERVICE: &str = "the CVM metadata service";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    #[serde(flatten)]
    keys: TmpKeys,
    #[serde(flatten)]
    expiry: Expiry,
    code: Option<String>,
}

/// The role's temporary keys; a service that does not answer names
/// [`ROLE_VAR`], which asked for it.
pub async fn role_credentials(
    base: &Url,
    http: &HttpClient,
    role: &str,
    now: DateTime<Utc>,
) -> Result<TencentCredential, ApiError> {
    let url = role_url(base, role);
    let issued = http
        .send(
            || Request {
                method: Method::GET,
                url: url.clone(),
                headers: Vec::new(),
                body: Vec::new(),
            },
            |response| judge(response, role),
        )
        .await
        .map_err(|e| metadata_failure(e.into(), ROLE_VAR))?;
    issued.into_credential(now, SERVICE)
}

/// `<base>/latest/meta-data/cam/security-credentials/<role>`.
fn role_url(base: &Url, role: &str) -> Url {
    metadata_url(
        base,
        &["latest", "meta-data", "cam", "security-credentials", role],
    )
}

fn judge(response: Response, role: &str) -> Verdict<Issued> {
    match response.status {
        200 => {}
        404 => {
            return Verdict::Fail(
                ApiError::new(
                    ErrorKind::Auth,
                    format!("this CVM has no CAM role '{role}'"),
                )
                .status(404)
                .hint(format!(
                    "{ROLE_VAR} must name the role attached to the instance (the metadata path cam/security-credentials/ lists it)"
                )),
            )
        }
        status => {
            return Verdict::Fail(
                ApiError::new(ErrorKind::Provider, format!("{SERVICE} answered HTTP {status}"))
                    .status(status)
                    .hint("try again; if it persists, check the instance's role in the CVM console"),
            )
        }
    }
    let answer: Answer = match serde_json::from_slice(&response.body) {
        Ok(answer) => answer,
        Err(e) => {
            return Verdict::Fail(
                ApiError::new(
                    ErrorKind::Provider,
                    format!("{SERVICE} sent a malformed answer"),
                )
                .message(Some(crate::provider::error::json_problem(&e)))
                .status(200),
            )
        }
    };
    if let Some(code) = answer.code.filter(|code| code != "Success") {
        return Verdict::Fail(
            ApiError::new(
                ErrorKind::Auth,
                format!("{SERVICE} gave no credentials for the role '{role}'"),
            )
            .code(Some(code))
            .hint(format!(
                "check the role {ROLE_VAR} names and the instance's role in the CVM console"
            )),
        );
    }
    Verdict::Done(Issued {
        keys: answer.keys,
        expiry: answer.expiry,
        request_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::response as answer;

    #[test]
    fn the_role_path_follows_the_base_url() {
        let plain = Url::parse("http://metadata.tencentyun.com").unwrap();
        assert_eq!(
            role_url(&plain, "ci").as_str(),
            "http://metadata.tencentyun.com/latest/meta-data/cam/security-credentials/ci"
        );
        let prefixed = Url::parse("http://127.0.0.1:9/proxy/").unwrap();
        assert_eq!(
            role_url(&prefixed, "ci").as_str(),
            "http://127.0.0.1:9/proxy/latest/meta-data/cam/security-credentials/ci"
        );
    }

    #[test]
    fn an_answer_gives_the_roles_keys() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let body = r#"{"TmpSecretId":"AKIDm","TmpSecretKey":"k","Token":"t","ExpiredTime":1700007200,
                       "Expiration":"2023-11-15T00:13:20Z","Code":"Success"}"#;
        let Verdict::Done(issued) = judge(answer(200, body), "ci") else {
            panic!("expected keys");
        };
        let keys = issued.into_credential(now, SERVICE).unwrap();
        assert_eq!(keys.secret_id, "AKIDm");
        assert_eq!(keys.token.unwrap().expose(), "t");
    }

    #[test]
    fn an_unknown_role_or_a_failed_code_is_a_credentials_failure() {
        for (status, body) in [(404, "not found"), (200, r#"{"Code":"Failed"}"#)] {
            let Verdict::Fail(e) = judge(answer(status, body), "ci") else {
                panic!("{status} accepted");
            };
            assert_eq!(e.kind, ErrorKind::Auth, "{status}");
            assert!(e.hint.unwrap().contains(ROLE_VAR));
        }
        let Verdict::Fail(e) = judge(answer(500, "oops"), "ci") else {
            panic!("500 accepted");
        };
        assert_eq!(e.kind, ErrorKind::Provider);
    }
}
