//! Alibaba Cloud STS (`AssumeRole`, `AssumeRoleWithOIDC`) and the ECS metadata
//! service. STS answers errors as `{RequestId, HostId, Code, Message}` with the
//! codes of its error list; the metadata service answers them as plain text.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::alibaba::{fail, verify, Failure};
use crate::fixtures::{
    ALIBABA_ECS_ROLE, ALIBABA_OIDC_PROVIDER_ARN, ALIBABA_ROLE_ARN, ALIBABA_SECOND_ROLE_ARN,
};
use crate::state::{OidcRefusal, Shared};
use crate::wire::{random_uuid, ApiRequest, Reply};

const VERSION: &str = "2015-04-01";
const DURATION_SECONDS: std::ops::RangeInclusive<i64> = 900..=3600;
/// ECS instance role keys live six hours; the SDK refreshes them well before.
const INSTANCE_KEYS_SECONDS: i64 = 6 * 3600;
const METADATA_TOKEN_TTL: std::ops::RangeInclusive<i64> = 1..=21600;

/// The roles the fake's STS lets CI assume.
fn assumable(role: &str) -> bool {
    role == ALIBABA_ROLE_ARN || role == ALIBABA_SECOND_ROLE_ARN
}

pub fn handle(shared: &Shared, req: &ApiRequest) -> Reply {
    match answer(shared, req, Utc::now()) {
        Ok(reply) => reply,
        Err(e) => error(e.status, e.code, &e.message),
    }
}

/// An STS error as STS writes it.
fn error(status: u16, code: &str, message: &str) -> Reply {
    let request_id = random_uuid();
    Reply::json(
        status,
        &json!({"RequestId": request_id, "HostId": "sts.aliyuncs.com",
                "Code": code, "Message": message}),
    )
    .with_header("x-acs-request-id", request_id)
}

fn answer(shared: &Shared, req: &ApiRequest, now: DateTime<Utc>) -> Result<Reply, Failure> {
    let action = req
        .header("x-acs-action")
        .map(str::to_string)
        .or_else(|| req.query_param("Action"))
        .unwrap_or_default();
    let version = req
        .header("x-acs-version")
        .map(str::to_string)
        .or_else(|| req.query_param("Version"));
    match action.as_str() {
        "AssumeRole" | "AssumeRoleWithOIDC" if version.as_deref() != Some(VERSION) => Err(fail(
            400,
            "InvalidVersion",
            "the specified API version is not supported",
        )),
        "AssumeRole" => assume_role(shared, req, now),
        "AssumeRoleWithOIDC" => assume_role_with_oidc(shared, req, now),
        _ => Err(fail(
            404,
            "InvalidAction.NotFound",
            "the specified API does not exist",
        )),
    }
}

/// `AssumeRole`, signed (ACS3 RPC style or ROA) with any key the fake knows.
fn assume_role(shared: &Shared, req: &ApiRequest, now: DateTime<Utc>) -> Result<Reply, Failure> {
    verify(shared, req, now)?;
    json_format(req)?;
    let role = required(req, "RoleArn")?;
    required(req, "RoleSessionName")?;
    let seconds = duration(req)?;
    if !assumable(&role) {
        return Err(fail(
            403,
            "NoPermission",
            "You are not authorized to do this action. You should be authorized by RAM.",
        ));
    }
    Ok(issue(shared, &role, now, seconds))
}

/// STS answers XML unless asked for JSON; the fake answers JSON only.
fn json_format(req: &ApiRequest) -> Result<(), Failure> {
    if req.query_param("Format").as_deref() == Some("JSON") {
        return Ok(());
    }
    Err(fail(
        400,
        "MissingParameter.Format",
        "the fake answers JSON only: send Format=JSON",
    ))
}

/// `AssumeRoleWithOIDC`: not signed; every parameter in the query.
fn assume_role_with_oidc(
    shared: &Shared,
    req: &ApiRequest,
    now: DateTime<Utc>,
) -> Result<Reply, Failure> {
    json_format(req)?;
    required(req, "Timestamp")?;
    let nonce = required(req, "SignatureNonce")?;
    if !shared.lock().use_nonce(&nonce) {
        return Err(fail(
            400,
            "SignatureNonceUsed",
            "the signature nonce has been used",
        ));
    }
    let provider = required(req, "OIDCProviderArn")?;
    let role = required(req, "RoleArn")?;
    let token = required(req, "OIDCToken")?;
    required(req, "RoleSessionName")?;
    let seconds = duration(req)?;
    if provider != ALIBABA_OIDC_PROVIDER_ARN {
        return Err(fail(
            401,
            "AuthenticationFail.NoPermission",
            "No such OIDC Provider registered.",
        ));
    }
    if let Err(refusal) = shared.lock().check_oidc_token(&token, now) {
        return Err(match refusal {
            OidcRefusal::Malformed => fail(
                401,
                "AuthenticationFail.OIDCToken.Invalid",
                "The number of Jwt field should be divided into 3 parts with '.' .",
            ),
            OidcRefusal::Unknown => fail(
                401,
                "AuthenticationFail.OIDCToken.InvalidSignature",
                "OIDC token validate failed: invalid signature.",
            ),
            OidcRefusal::Expired => fail(
                401,
                "AuthenticationFail.OIDCToken.Expired",
                "This JsonWebToken is expired.",
            ),
        });
    }
    if !assumable(&role) {
        return Err(fail(
            401,
            "AuthenticationFail.NoPermission",
            "There is no permission",
        ));
    }
    Ok(issue(shared, &role, now, seconds))
}

fn required(req: &ApiRequest, name: &str) -> Result<String, Failure> {
    req.query_param(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            fail(
                400,
                "MissingParameter",
                format!("the input parameter {name} that is mandatory for processing this request is not supplied"),
            )
        })
}

/// `DurationSeconds`: 3600 when absent, else 900 to 3600 (the roles' maximum here).
fn duration(req: &ApiRequest) -> Result<i64, Failure> {
    match req.query_param("DurationSeconds") {
        None => Ok(3600),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|s| DURATION_SECONDS.contains(s))
            .ok_or_else(|| {
                fail(
                    400,
                    "InvalidParameter.DurationSeconds",
                    "The parameter DurationSeconds is wrong.",
                )
            }),
    }
}

/// Temporary keys for `role`, as STS answers them.
fn issue(shared: &Shared, role: &str, now: DateTime<Utc>, seconds: i64) -> Reply {
    let keys = shared.lock().issue_temporary("STS.", role, now, seconds);
    let request_id = random_uuid();
    Reply::json(
        200,
        &json!({
            "RequestId": request_id,
            "AssumedRoleUser": {"Arn": format!("{role}/session"), "AssumedRoleId": "300000000000000001:session"},
            "Credentials": {
                "AccessKeyId": keys.access_key_id,
                "AccessKeySecret": keys.secret,
                "SecurityToken": keys.token,
                "Expiration": keys.expires_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            },
        }),
    )
    .with_header("x-acs-request-id", request_id)
}

/// The ECS metadata service: `PUT /latest/api/token`, then
/// `GET /latest/meta-data/ram/security-credentials/[<role>]`, with or without
/// the token (IMDSv1 is allowed, as on an instance that does not enforce v2).
pub fn metadata(shared: &Shared, req: &ApiRequest) -> Reply {
    let now = Utc::now();
    match (req.method.as_str(), req.segments().as_slice()) {
        ("PUT", ["latest", "api", "token"]) => {
            let ttl = req
                .header("x-aliyun-ecs-metadata-token-ttl-seconds")
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|s| METADATA_TOKEN_TTL.contains(s));
            match ttl {
                Some(ttl) => Reply::text(200, &shared.lock().issue_metadata_token(now, ttl)),
                None => Reply::text(400, "invalid x-aliyun-ecs-metadata-token-ttl-seconds"),
            }
        }
        ("GET", ["latest", "meta-data", "ram", "security-credentials", rest @ ..]) => {
            if let Some(token) = req.header("x-aliyun-ecs-metadata-token") {
                if !shared.lock().metadata_token_valid(token, now) {
                    return Reply::text(401, "invalid or expired metadata token");
                }
            }
            match rest {
                [] | [""] => Reply::text(200, ALIBABA_ECS_ROLE),
                [role] if *role == ALIBABA_ECS_ROLE => instance_keys(shared, role, now),
                _ => Reply::text(404, "Not Found"),
            }
        }
        _ => Reply::text(404, "Not Found"),
    }
}

fn instance_keys(shared: &Shared, role: &str, now: DateTime<Utc>) -> Reply {
    let keys = shared
        .lock()
        .issue_temporary("STS.", role, now, INSTANCE_KEYS_SECONDS);
    let stamp = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    Reply::json(
        200,
        &json!({
            "AccessKeyId": keys.access_key_id,
            "AccessKeySecret": keys.secret,
            "SecurityToken": keys.token,
            "Expiration": stamp(keys.expires_at),
            "LastUpdated": stamp(now),
            "Code": "Success",
        }),
    )
}
