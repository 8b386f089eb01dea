//! Tencent Cloud STS (`AssumeRole`, `AssumeRoleWithWebIdentity`) and the CVM
//! metadata service. Both hand out temporary keys that TKE then accepts only
//! with their session token (`X-TC-Token`) and until they expire.
//!
//! Codes, from the SDK's lists for each action: an unknown role is
//! `ResourceNotFound.RoleNotFound` for `AssumeRole` and
//! `UnauthorizedOperation` for `AssumeRoleWithWebIdentity` (its list has no
//! role code); a malformed, unknown or expired OIDC token is
//! `InvalidParameter.WebIdentityTokenError` (the only token code listed),
//! with a message saying which; a duration past 43200 s is
//! `InvalidParameter.OverTimeError`.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::fixtures::{TENCENT_CVM_ROLE, TENCENT_PROVIDER_ID, TENCENT_ROLE_ARN};
use crate::state::{OidcRefusal, Shared, Temporary};
use crate::tencent::{check_version_and_region, error, fail, verify_signature, Failure};
use crate::wire::{random_uuid, ApiRequest, Reply};

const VERSION: &str = "2018-08-13";
const ASSUME_ROLE: &str = "AssumeRole";
const WITH_WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";
/// STS's default and largest `DurationSeconds`.
const DEFAULT_DURATION: i64 = 7200;
const MAX_DURATION: i64 = 43200;
/// How long the CVM's role keys live.
const CVM_KEYS_SECONDS: i64 = 7200;
/// The temporary SecretIds' prefix, as Tencent spells its own.
const KEY_PREFIX: &str = "AKIDtmp";
const METADATA_ROLES: &str = "/latest/meta-data/cam/security-credentials/";

/// The STS actions, which share TKE's path "/".
pub fn is_sts_action(action: &str) -> bool {
    matches!(action, ASSUME_ROLE | WITH_WEB_IDENTITY)
}

pub fn handle(shared: &Shared, req: &ApiRequest) -> Reply {
    match answer(shared, req, Utc::now()) {
        Ok(reply) => reply,
        Err(e) => error(200, e.code, &e.message),
    }
}

fn answer(shared: &Shared, req: &ApiRequest, now: DateTime<Utc>) -> Result<Reply, Failure> {
    if req.method != "POST" {
        return Err(fail("UnsupportedProtocol", "only POST is supported"));
    }
    check_version_and_region(req, VERSION)?;
    let action = req.header("x-tc-action").unwrap_or_default();
    if action == WITH_WEB_IDENTITY {
        // The one action that takes no credentials: the SDK sends "SKIP".
        if req.header("authorization") != Some("SKIP") {
            return Err(fail(
                "AuthFailure.InvalidAuthorization",
                "AssumeRoleWithWebIdentity is sent with Authorization: SKIP",
            ));
        }
    } else {
        verify_signature(shared, req, "sts", now)?;
    }
    let params: Value = serde_json::from_slice(&req.body).map_err(|_| {
        fail(
            "InvalidParameter.ParamError",
            "the request body is not JSON",
        )
    })?;
    let role_arn = text(&params, "RoleArn")?;
    session_name(&params)?;
    let seconds = duration(&params)?;
    if action == WITH_WEB_IDENTITY {
        if text(&params, "ProviderId")? != TENCENT_PROVIDER_ID {
            return Err(fail(
                "InvalidParameter.ParamError",
                "the identity provider does not exist",
            ));
        }
        let token = text(&params, "WebIdentityToken")?;
        if let Err(refusal) = shared.lock().check_oidc_token(token, now) {
            let why = match refusal {
                OidcRefusal::Malformed => "the WebIdentityToken is not a JWT",
                OidcRefusal::Unknown => "the WebIdentityToken's signature cannot be verified",
                OidcRefusal::Expired => "the WebIdentityToken has expired",
            };
            return Err(fail("InvalidParameter.WebIdentityTokenError", why));
        }
        if role_arn != TENCENT_ROLE_ARN {
            return Err(fail(
                "UnauthorizedOperation",
                "the role does not exist or does not trust this identity provider",
            ));
        }
    } else if role_arn != TENCENT_ROLE_ARN {
        return Err(fail(
            "ResourceNotFound.RoleNotFound",
            "the role does not exist",
        ));
    }
    let keys = shared
        .lock()
        .issue_temporary(KEY_PREFIX, TENCENT_ROLE_ARN, now, seconds);
    Ok(Reply::json(
        200,
        &json!({"Response": {
            "Credentials": {
                "Token": keys.token,
                "TmpSecretId": keys.access_key_id,
                "TmpSecretKey": keys.secret,
            },
            "ExpiredTime": keys.expires_at.timestamp(),
            "Expiration": expiration(&keys),
            "RequestId": random_uuid(),
        }}),
    ))
}

fn text<'a>(params: &'a Value, name: &str) -> Result<&'a str, Failure> {
    params
        .get(name)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            fail(
                "MissingParameter",
                format!("the parameter {name} is missing"),
            )
        })
}

/// 2 to 128 of letters, digits and `=,.@_-`, as STS documents.
fn session_name(params: &Value) -> Result<(), Failure> {
    let name = text(params, "RoleSessionName")?;
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"=,.@_-".contains(&b);
    if (2..=128).contains(&name.len()) && name.bytes().all(allowed) {
        Ok(())
    } else {
        Err(fail(
            "InvalidParameter.ParamError",
            "RoleSessionName must be 2 to 128 of letters, digits and =,.@_-",
        ))
    }
}

fn duration(params: &Value) -> Result<i64, Failure> {
    let seconds = match params.get("DurationSeconds") {
        None | Some(Value::Null) => return Ok(DEFAULT_DURATION),
        Some(value) => value.as_i64().ok_or_else(|| {
            fail(
                "InvalidParameter.ParamError",
                "DurationSeconds must be an integer",
            )
        })?,
    };
    if (1..=MAX_DURATION).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(fail(
            "InvalidParameter.OverTimeError",
            "DurationSeconds must be from 1 to 43200",
        ))
    }
}

fn expiration(keys: &Temporary) -> String {
    keys.expires_at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `GET .../cam/security-credentials/` lists the instance's role;
/// `.../<role>` gives its keys; anything else is 404, as on a CVM.
pub fn metadata(shared: &Shared, req: &ApiRequest) -> Reply {
    let role = req.path.strip_prefix(METADATA_ROLES);
    match (req.method.as_str(), role) {
        ("GET", Some("")) => Reply::text(200, TENCENT_CVM_ROLE),
        ("GET", Some(TENCENT_CVM_ROLE)) => {
            let keys = shared.lock().issue_temporary(
                KEY_PREFIX,
                TENCENT_CVM_ROLE,
                Utc::now(),
                CVM_KEYS_SECONDS,
            );
            Reply::json(
                200,
                &json!({
                    "TmpSecretId": keys.access_key_id,
                    "TmpSecretKey": keys.secret,
                    "Token": keys.token,
                    "ExpiredTime": keys.expires_at.timestamp(),
                    "Expiration": expiration(&keys),
                    "Code": "Success",
                }),
            )
        }
        _ => Reply::text(404, "404 Not Found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::Pki;

    fn shared() -> Shared {
        Shared::new(Pki::new().unwrap(), 0, Vec::new())
    }

    fn web_identity(body: Value) -> ApiRequest {
        ApiRequest {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            headers: vec![
                ("x-tc-action".into(), WITH_WEB_IDENTITY.into()),
                ("x-tc-version".into(), VERSION.into()),
                ("x-tc-region".into(), "ap-guangzhou".into()),
                ("authorization".into(), "SKIP".into()),
                ("content-type".into(), "application/json".into()),
            ],
            body: body.to_string().into_bytes(),
        }
    }

    fn code(reply: &Reply) -> String {
        let body: Value = serde_json::from_slice(&reply.body).unwrap();
        body["Response"]["Error"]["Code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn web_identity_takes_only_tokens_the_test_wrote_and_issues_keys() {
        let shared = shared();
        let now = Utc::now();
        shared
            .lock()
            .accept_oidc_token("a.b.c".into(), now + chrono::Duration::minutes(5));
        let params = |token: &str, seconds: i64| {
            json!({"ProviderId": TENCENT_PROVIDER_ID, "WebIdentityToken": token,
                   "RoleArn": TENCENT_ROLE_ARN, "RoleSessionName": "kubefetch-1",
                   "DurationSeconds": seconds})
        };
        let reply = handle(&shared, &web_identity(params("a.b.c", 3600)));
        let body: Value = serde_json::from_slice(&reply.body).unwrap();
        let id = body["Response"]["Credentials"]["TmpSecretId"]
            .as_str()
            .unwrap();
        let issued = shared.lock().temporary(id).unwrap();
        assert_eq!(issued.role, TENCENT_ROLE_ARN);
        assert_eq!(
            body["Response"]["ExpiredTime"].as_i64(),
            Some(issued.expires_at.timestamp())
        );
        for (token, seconds, expected) in [
            ("not-a-jwt", 3600, "InvalidParameter.WebIdentityTokenError"),
            ("x.y.z", 3600, "InvalidParameter.WebIdentityTokenError"),
            ("a.b.c", 43201, "InvalidParameter.OverTimeError"),
        ] {
            let reply = handle(&shared, &web_identity(params(token, seconds)));
            assert_eq!(code(&reply), expected, "{token} {seconds}");
        }
    }

    #[test]
    fn metadata_lists_and_serves_only_the_instances_role() {
        let shared = shared();
        let get = |path: &str| ApiRequest {
            method: "GET".into(),
            path: path.into(),
            query: String::new(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        let listed = metadata(&shared, &get(METADATA_ROLES));
        assert_eq!(listed.body, TENCENT_CVM_ROLE.as_bytes());
        let keys = metadata(
            &shared,
            &get(&format!("{METADATA_ROLES}{TENCENT_CVM_ROLE}")),
        );
        let body: Value = serde_json::from_slice(&keys.body).unwrap();
        assert_eq!(body["Code"], "Success");
        let other = metadata(&shared, &get(&format!("{METADATA_ROLES}someone-else")));
        assert_eq!(other.status, 404);
    }
}
