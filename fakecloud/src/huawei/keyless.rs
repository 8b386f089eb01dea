//! Huawei IAM's keyless exchanges (`/v3.0/OS-AUTH/id-token/tokens`,
//! `/v3.0/OS-CREDENTIAL/securitytokens`) and the ECS metadata service. Every
//! exchange ends in temporary AK/SK that CCE, UCS and IAM accept only with
//! their security token, signed, until they expire.

use std::ops::RangeInclusive;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::iam::keystone_time;
use super::{authenticate, gateway_error, reply};
use crate::fixtures::{
    HUAWEI_AGENCY_NAME, HUAWEI_DOMAIN_ID, HUAWEI_DOMAIN_NAME, HUAWEI_IDP_ID, HUAWEI_PROJECTS,
};
use crate::state::{OidcRefusal, Shared, Temporary, Token};
use crate::wire::{random_hex, random_uuid, ApiRequest, Reply};

/// How the fake's temporary access keys start.
const KEY_PREFIX: &str = "HWFAKECLOUDTMP";
/// What IAM accepts as `duration_seconds`, and its default.
const DURATIONS: RangeInclusive<i64> = 900..=86400;
const DEFAULT_DURATION: i64 = 900;
const FEDERATED_TOKEN_HOURS: i64 = 24;
/// The user IAM maps the fixture identity provider's tokens to.
const FEDERATED_USER: &str = "FederationUser-github-actions";
/// The agency bound to the fake ECS, and how long its keys last.
const ECS_AGENCY: &str = "ecs-agency";
const ECS_KEY_SECONDS: i64 = 3600;
const METADATA_TOKEN_TTLS: RangeInclusive<i64> = 1..=21600;

pub fn handle(shared: &Shared, req: &ApiRequest) -> Reply {
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/v3.0/OS-AUTH/id-token/tokens") => id_token(shared, req),
        ("POST", "/v3.0/OS-CREDENTIAL/securitytokens") => security_tokens(shared, req),
        _ => super::no_such_api(),
    }
}

/// IAM 3.0 answers `{"error_msg","error_code"}` (with `X-Request-Id`) as the gateway does.
fn invalid_body(message: &str) -> Reply {
    gateway_error(400, "IAM.0011", message)
}

/// An OIDC id token for the fixture identity provider -> a token in
/// `X-Subject-Token`: unscoped unless the body asks for a project.
fn id_token(shared: &Shared, req: &ApiRequest) -> Reply {
    let idp = req.header("x-idp-id").unwrap_or_default();
    if idp != HUAWEI_IDP_ID {
        return gateway_error(
            404,
            "IAM.0004",
            &format!("Could not find identity provider: {idp}."),
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return invalid_body("Request body is invalid.");
    };
    let Some(id_token) = body["auth"]["id_token"]["id"].as_str() else {
        return invalid_body("Request body is invalid: auth.id_token.id is missing.");
    };
    let now = Utc::now();
    if let Err(refused) = shared.lock().check_oidc_token(id_token, now) {
        return match refused {
            OidcRefusal::Malformed => invalid_body("The id_token is not a well-formed JWT."),
            OidcRefusal::Unknown => {
                gateway_error(401, "IAM.0007", "The id_token failed verification.")
            }
            OidcRefusal::Expired => gateway_error(401, "IAM.0008", "The id_token has expired."),
        };
    }
    let project = &body["auth"]["scope"]["project"];
    let project = HUAWEI_PROJECTS
        .iter()
        .find(|(id, name)| project["id"] == *id || project["name"] == *name);
    let value = format!("MIIfakecloud{}", random_hex(48));
    let token = Token {
        expires_at: now + chrono::Duration::hours(FEDERATED_TOKEN_HOURS),
        project_id: project.map(|(id, _)| id.to_string()),
        unscoped: project.is_none(),
    };
    shared.lock().add_token(value.clone(), token.clone());
    let domain = json!({"id": HUAWEI_DOMAIN_ID, "name": HUAWEI_DOMAIN_NAME});
    let mut answer = json!({"token": {
        "methods": ["mapped"],
        "expires_at": keystone_time(token.expires_at),
        "issued_at": keystone_time(now),
        "user": {
            "id": random_hex(16),
            "name": FEDERATED_USER,
            "domain": domain,
            "OS-FEDERATION": {
                "identity_provider": {"id": HUAWEI_IDP_ID},
                "protocol": {"id": "oidc"},
                "groups": [],
            },
        },
    }});
    if let Some((id, name)) = project {
        answer["token"]["project"] = json!({"id": id, "name": name, "domain": domain});
    }
    reply(201, &answer).with_header("x-subject-token", value)
}

/// Temporary AK/SK for a token the fake issued (`token`) or for the fixture
/// agency, with credentials that may assume it (`assume_role`).
fn security_tokens(shared: &Shared, req: &ApiRequest) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return invalid_body("Request body is invalid.");
    };
    let identity = &body["auth"]["identity"];
    let method = match identity["methods"].as_array().map(Vec::as_slice) {
        Some([method]) => method.as_str().unwrap_or_default(),
        _ => return invalid_body("auth.identity.methods must name one method."),
    };
    let seconds = match duration(&identity[method]["duration_seconds"]) {
        Ok(seconds) => seconds,
        Err(reply) => return reply,
    };
    let now = Utc::now();
    let role = match method {
        "token" => token_holder(shared, req, &identity["token"], now),
        "assume_role" => agency(shared, req, &identity["assume_role"]),
        _ => return invalid_body("auth.identity.methods must be token or assume_role."),
    };
    match role {
        Ok(role) => {
            let keys = shared
                .lock()
                .issue_temporary(KEY_PREFIX, &role, now, seconds);
            reply(201, &credential(&keys))
        }
        Err(reply) => reply,
    }
}

/// `duration_seconds`: absent is IAM's default; otherwise 900..86400.
fn duration(value: &Value) -> Result<i64, Reply> {
    match value {
        Value::Null => Ok(DEFAULT_DURATION),
        value => value
            .as_i64()
            .filter(|seconds| DURATIONS.contains(seconds))
            .ok_or_else(|| invalid_body("duration_seconds must be from 900 to 86400.")),
    }
}

/// The token in the body (else `X-Auth-Token`) must be one the fake issued,
/// unexpired; scoped or not.
fn token_holder(
    shared: &Shared,
    req: &ApiRequest,
    token: &Value,
    now: DateTime<Utc>,
) -> Result<String, Reply> {
    let value = token["id"]
        .as_str()
        .or_else(|| req.header("x-auth-token"))
        .unwrap_or_default();
    match shared.lock().token(value) {
        Some(token) if token.expires_at > now => Ok(FEDERATED_USER.to_string()),
        Some(_) => Err(gateway_error(401, "IAM.0008", "The token has expired.")),
        None => Err(gateway_error(401, "IAM.0007", "The token is invalid.")),
    }
}

/// The caller (AK/SK or `X-Auth-Token`) assumes the fixture agency of the fixture account.
fn agency(shared: &Shared, req: &ApiRequest, assume: &Value) -> Result<String, Reply> {
    authenticate(shared, req)?;
    let name = assume["agency_name"].as_str().unwrap_or_default();
    let domain_known =
        assume["domain_name"] == HUAWEI_DOMAIN_NAME || assume["domain_id"] == HUAWEI_DOMAIN_ID;
    if name != HUAWEI_AGENCY_NAME || !domain_known {
        return Err(gateway_error(
            403,
            "IAM.0003",
            &format!("Policy doesn't allow iam:agencies:assume to be performed on agency {name}."),
        ));
    }
    Ok(format!("agency {HUAWEI_DOMAIN_NAME}/{HUAWEI_AGENCY_NAME}"))
}

fn credential(keys: &Temporary) -> Value {
    json!({"credential": {
        "access": keys.access_key_id,
        "secret": keys.secret,
        "securitytoken": keys.token,
        "expires_at": keystone_time(keys.expires_at),
    }})
}

/// The ECS metadata service: a session token first (`PUT
/// /meta-data/latest/api/token`), then the ECS agency's keys (`GET
/// /openstack/latest/securitykey` with `X-Metadata-Token`).
pub fn metadata(shared: &Shared, req: &ApiRequest) -> Reply {
    let now = Utc::now();
    match (req.method.as_str(), req.path.as_str()) {
        ("PUT", "/meta-data/latest/api/token") => {
            let ttl = req
                .header("x-metadata-token-ttl-seconds")
                .and_then(|ttl| ttl.parse::<i64>().ok())
                .filter(|ttl| METADATA_TOKEN_TTLS.contains(ttl));
            match ttl {
                Some(ttl) => text(200, &shared.lock().issue_metadata_token(now, ttl)),
                None => text(400, "X-Metadata-Token-Ttl-Seconds must be from 1 to 21600"),
            }
        }
        ("GET", "/openstack/latest/securitykey") => {
            let token = req.header("x-metadata-token").unwrap_or_default();
            if !shared.lock().metadata_token_valid(token, now) {
                return text(401, "Unauthorized");
            }
            let keys = shared
                .lock()
                .issue_temporary(KEY_PREFIX, ECS_AGENCY, now, ECS_KEY_SECONDS);
            Reply::json(200, &credential(&keys))
        }
        _ => text(404, "Not Found"),
    }
}

/// Metadata answers are plain text, as the real service's.
fn text(status: u16, body: &str) -> Reply {
    Reply::text(status, body).with_header("x-request-id", random_uuid())
}
