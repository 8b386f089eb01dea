//! Huawei Cloud behind its API gateway: CCE, UCS and IAM share AK/SK signing
//! (SDK-HMAC-SHA256), IAM tokens and the gateway's error codes.

pub mod cce;
pub mod iam;
pub mod keyless;
pub mod ucs;

use chrono::{DateTime, NaiveDateTime, Utc};
use kubefetch::secret::Secret;
use kubefetch::sign::sdk_hmac;
use serde_json::{json, Value};

use crate::fixtures::{HUAWEI_AK, HUAWEI_SK};
use crate::state::{Shared, Token};
use crate::wire::{random_uuid, ApiRequest, Reply};

const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// Who a request authenticated as.
pub enum Caller {
    AkSk,
    Token(Token),
}

/// Every Huawei answer carries `X-Request-Id`.
pub fn reply(status: u16, body: &Value) -> Reply {
    Reply::json(status, body).with_header("x-request-id", random_uuid())
}

/// The gateway's `{"error_code","error_msg"}` shape.
pub fn gateway_error(status: u16, code: &str, message: &str) -> Reply {
    reply(status, &json!({"error_code": code, "error_msg": message}))
}

fn unauthorized(message: &str) -> Reply {
    gateway_error(
        401,
        "APIGW.0301",
        &format!("Incorrect IAM authentication information: {message}"),
    )
}

/// Checks an `X-Auth-Token` (scoped) or an AK/SK signature; the error answer
/// when neither holds.
pub fn authenticate(shared: &Shared, req: &ApiRequest) -> Result<Caller, Reply> {
    let now = Utc::now();
    if let Some(value) = req.header("x-auth-token") {
        let Some(token) = shared.lock().token(value) else {
            return Err(unauthorized("token is invalid"));
        };
        if token.expires_at <= now {
            return Err(gateway_error(
                401,
                "APIGW.0307",
                "The token must be updated.",
            ));
        }
        // A federated token before its exchange is scoped to nothing: the
        // services behind the gateway take only project or domain tokens.
        if token.unscoped {
            return Err(unauthorized("the token is unscoped"));
        }
        return Ok(Caller::Token(token));
    }
    let Some(authorization) = req.header("authorization") else {
        return Err(unauthorized("x-auth-token not found"));
    };
    let Some(parsed) = SdkAuthorization::parse(authorization) else {
        return Err(unauthorized("the authorization header is malformed"));
    };
    let secret = match parsed.access.as_str() {
        HUAWEI_AK => HUAWEI_SK.to_string(),
        other => temporary_secret(shared, req, other, now)?,
    };
    let signed: Vec<&str> = parsed.signed_headers.split(';').collect();
    if !signed.contains(&"host") || !signed.contains(&"x-sdk-date") {
        return Err(unauthorized("host and x-sdk-date must be signed"));
    }
    if parsed.access != HUAWEI_AK && !signed.contains(&"x-security-token") {
        return Err(unauthorized("x-security-token must be signed"));
    }
    let date = req
        .header("x-sdk-date")
        .and_then(|d| NaiveDateTime::parse_from_str(d, "%Y%m%dT%H%M%SZ").ok())
        .map(|d| d.and_utc())
        .ok_or_else(|| unauthorized("x-sdk-date is missing or malformed"))?;
    if (now - date).num_seconds().abs() > MAX_CLOCK_SKEW_SECS {
        return Err(unauthorized("request expired"));
    }
    verify_signature(req, &parsed, &secret)?;
    Ok(Caller::AkSk)
}

/// Temporary keys sign with their own secret and must send (and sign) their
/// security token until they expire.
fn temporary_secret(
    shared: &Shared,
    req: &ApiRequest,
    access: &str,
    now: DateTime<Utc>,
) -> Result<String, Reply> {
    let Some(keys) = shared.lock().temporary(access) else {
        return Err(unauthorized("ak not exist"));
    };
    if req.header("x-security-token") != Some(keys.token.as_str()) {
        return Err(unauthorized(
            "the security token is missing or does not match the ak",
        ));
    }
    if keys.expires_at <= now {
        return Err(unauthorized("the security token has expired"));
    }
    Ok(keys.secret)
}

fn verify_signature(
    req: &ApiRequest,
    parsed: &SdkAuthorization,
    secret: &str,
) -> Result<(), Reply> {
    let headers = req.signed_headers(&parsed.signed_headers);
    let query = req.query_pairs();
    let expected = sdk_hmac::sign(
        &sdk_hmac::SdkHmacRequest {
            method: &req.method,
            path: &req.decoded_path(),
            query: &query,
            headers: &headers,
            body: &req.body,
        },
        &parsed.access,
        &Secret::new(secret),
    );
    if expected.signature != parsed.signature {
        return Err(unauthorized("verify aksk signature fail"));
    }
    Ok(())
}

/// `SDK-HMAC-SHA256 Access=<ak>, SignedHeaders=<list>, Signature=<hex>`
struct SdkAuthorization {
    access: String,
    signed_headers: String,
    signature: String,
}

impl SdkAuthorization {
    fn parse(value: &str) -> Option<SdkAuthorization> {
        let rest = value.strip_prefix("SDK-HMAC-SHA256 ")?;
        let mut access = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            match part.trim().split_once('=')? {
                ("Access", v) => access = Some(v.to_string()),
                ("SignedHeaders", v) => signed_headers = Some(v.to_string()),
                ("Signature", v) => signature = Some(v.to_string()),
                _ => {}
            }
        }
        Some(SdkAuthorization {
            access: access?,
            signed_headers: signed_headers?,
            signature: signature?,
        })
    }
}

pub fn throttle(retry_after: Option<u32>) -> Reply {
    let reply = gateway_error(
        429,
        "APIGW.0308",
        "The throttling threshold has been reached: policy user over ratelimit",
    );
    match retry_after {
        Some(after) => reply.with_header("retry-after", after.to_string()),
        None => reply,
    }
}

/// The answer when no API exists at a path.
pub fn no_such_api() -> Reply {
    gateway_error(
        404,
        "APIGW.0101",
        "The API does not exist or has not been published in the environment",
    )
}
