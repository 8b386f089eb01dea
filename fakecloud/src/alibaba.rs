//! Alibaba Cloud ACK `DescribeClusterUserKubeconfig`
//! (`GET /k8s/{ClusterId}/user_config`), signed with ACS3-HMAC-SHA256 or the legacy
//! ROA HMAC-SHA1. Errors are 4xx/5xx with `{"code","message","requestId"}`.

use chrono::{DateTime, NaiveDateTime, Utc};
use kubefetch::secret::Secret;
use kubefetch::sign::{acs3, roa};
use serde_json::json;

use crate::fixtures::{
    ALIBABA_ACCESS_KEY_ID, ALIBABA_ACCESS_KEY_SECRET, ALIBABA_ACCOUNT_UID,
    ALIBABA_STS_ACCESS_KEY_ID, ALIBABA_STS_ACCESS_KEY_SECRET, ALIBABA_STS_TOKEN,
};
use crate::kubeconfig::{self, Names};
use crate::model::{FaultKind, Provider};
use crate::state::Shared;
use crate::wire::{random_uuid, ApiRequest, Reply};

const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;
const MIN_TTL_MINUTES: i64 = 15;
const MAX_TTL_MINUTES: i64 = 4320;
/// Without `TemporaryDurationMinutes` the certificate lives about three years.
const DEFAULT_TTL_MINUTES: i64 = 3 * 365 * 24 * 60;

/// `/k8s/{id}/user_config` -> the id.
pub fn cluster_id(req: &ApiRequest) -> Option<String> {
    match req.segments().as_slice() {
        ["k8s", id, "user_config"] => Some(id.to_string()),
        _ => None,
    }
}

pub fn handle(shared: &Shared, req: &ApiRequest, fault: Option<&FaultKind>) -> Reply {
    match answer(shared, req, fault) {
        Ok(reply) => reply,
        Err(e) => error(e.status, e.code, &e.message),
    }
}

pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

pub(crate) fn fail(status: u16, code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        status,
        code,
        message: message.into(),
    }
}

/// `DescribeClustersV1` pages: `page_size` at most 100.
const MAX_PAGE_SIZE: u64 = 100;
const DEFAULT_PAGE_SIZE: u64 = 10;

fn answer(shared: &Shared, req: &ApiRequest, fault: Option<&FaultKind>) -> Result<Reply, Failure> {
    if req.method == "GET" && req.segments() == ["api", "v1", "clusters"] {
        verify(shared, req, Utc::now())?;
        return describe_clusters(shared, req);
    }
    let Some(id) = cluster_id(req).filter(|_| req.method == "GET") else {
        return Err(fail(
            404,
            "InvalidAction.NotFound",
            "the specified API does not exist",
        ));
    };
    verify(shared, req, Utc::now())?;
    let private = match req.query_param("PrivateIpAddress").as_deref() {
        None | Some("false" | "False") => false,
        Some("true" | "True") => true,
        Some(_) => {
            return Err(fail(
                400,
                "InvalidParameter",
                "PrivateIpAddress must be true or false",
            ))
        }
    };
    let minutes = match req.query_param("TemporaryDurationMinutes") {
        None => DEFAULT_TTL_MINUTES,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|m| (MIN_TTL_MINUTES..=MAX_TTL_MINUTES).contains(m))
            .ok_or_else(|| {
                fail(
                    400,
                    "InvalidParameter.TemporaryDurationMinutes",
                    "TemporaryDurationMinutes must be an integer from 15 to 4320",
                )
            })?,
    };
    let Some(cluster) = shared.lock().cluster(Provider::Ack, &id) else {
        return Err(fail(
            404,
            "ErrorClusterNotFound",
            format!("cluster {id} not found"),
        ));
    };
    if (private && !cluster.has_private) || (!private && !cluster.has_public) {
        return Err(fail(
            400,
            "ErrorClusterEndpointNotFound",
            "the cluster has no API server endpoint of the requested type",
        ));
    }
    let server = kubeconfig::server_url(
        shared.kube_url(private),
        format!("https://{id}.cs.aliyuncs.invalid:6443"),
        fault,
    );
    // Whole seconds, so the certificate's notAfter and `expiration` are the same instant.
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_default();
    let not_after = now + chrono::Duration::minutes(minutes);
    let client = shared
        .pki
        .issue_client(ALIBABA_ACCOUNT_UID, now, not_after)
        .map_err(|_| fail(500, "InternalError", "cannot issue a client certificate"))?;
    let context = format!("{ALIBABA_ACCOUNT_UID}-{id}");
    let names = Names {
        cluster: "kubernetes",
        user: ALIBABA_ACCOUNT_UID,
        context: &context,
    };
    let config = kubeconfig::yaml(&names, &server, &shared.pki.ca_pem(), &client, fault);
    Ok(Reply::json(
        200,
        &json!({"config": config, "expiration": not_after.format("%Y-%m-%dT%H:%M:%SZ").to_string()}),
    )
    .with_header("x-acs-request-id", random_uuid()))
}

/// `GET /api/v1/clusters`: one page of the region's clusters, or of every
/// region without `region_id`.
fn describe_clusters(shared: &Shared, req: &ApiRequest) -> Result<Reply, Failure> {
    let number = |key: &str, default: u64| match req.query_param(key) {
        None => Ok(default),
        Some(v) => v.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            fail(
                400,
                "InvalidParameter",
                format!("{key} must be a positive integer"),
            )
        }),
    };
    let page_number = number("page_number", 1)?;
    let page_size = number("page_size", DEFAULT_PAGE_SIZE)?;
    if page_size > MAX_PAGE_SIZE {
        return Err(fail(
            400,
            "InvalidParameter",
            "page_size must be at most 100",
        ));
    }
    let region = req.query_param("region_id").filter(|r| !r.is_empty());
    let all = shared.lock().listed(Provider::Ack, region.as_deref());
    let page: Vec<_> = all
        .iter()
        .skip(((page_number - 1) * page_size) as usize)
        .take(page_size as usize)
        .map(|c| {
            json!({"cluster_id": c.id, "name": c.name, "region_id": c.region,
                         "state": c.state, "cluster_type": "ManagedKubernetes"})
        })
        .collect();
    Ok(Reply::json(
        200,
        &json!({"clusters": page, "page_info": {"page_number": page_number,
                 "page_size": page_size, "total_count": all.len()}}),
    )
    .with_header("x-acs-request-id", random_uuid()))
}

/// The secret and (for STS) the security token that belong to an access key id:
/// the fixed keys, or temporary keys an exchange issued and that have not expired.
fn credential(
    shared: &Shared,
    access_key_id: &str,
    now: DateTime<Utc>,
) -> Result<(String, Option<String>), Failure> {
    match access_key_id {
        ALIBABA_ACCESS_KEY_ID => return Ok((ALIBABA_ACCESS_KEY_SECRET.to_string(), None)),
        ALIBABA_STS_ACCESS_KEY_ID => {
            return Ok((
                ALIBABA_STS_ACCESS_KEY_SECRET.to_string(),
                Some(ALIBABA_STS_TOKEN.to_string()),
            ))
        }
        _ => {}
    }
    match shared.lock().temporary(access_key_id) {
        Some(keys) if keys.expires_at <= now => Err(fail(
            400,
            "InvalidSecurityToken.Expired",
            "the security token has expired",
        )),
        Some(keys) => Ok((keys.secret, Some(keys.token))),
        None => Err(fail(
            400,
            "InvalidAccessKeyId.NotFound",
            "the specified access key is not found",
        )),
    }
}

/// Checks an ACS3 or ROA signature, the temporary keys' token and the nonce.
pub(crate) fn verify(shared: &Shared, req: &ApiRequest, now: DateTime<Utc>) -> Result<(), Failure> {
    let authorization = req.header("authorization").ok_or_else(|| {
        fail(
            400,
            "MissingAuthorization",
            "the Authorization header is missing",
        )
    })?;
    if let Some(rest) = authorization.strip_prefix("ACS3-HMAC-SHA256 ") {
        verify_acs3(shared, req, rest, now)?;
    } else if let Some(rest) = authorization.strip_prefix("acs ") {
        verify_roa(shared, req, rest, now)?;
    } else {
        return Err(fail(
            400,
            "IncompleteSignature",
            "the Authorization header is malformed",
        ));
    }
    let nonce = req
        .header("x-acs-signature-nonce")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            fail(
                400,
                "MissingSignatureNonce",
                "x-acs-signature-nonce is missing",
            )
        })?;
    if !shared.lock().use_nonce(nonce) {
        return Err(fail(
            400,
            "SignatureNonceUsed",
            "the signature nonce has been used",
        ));
    }
    Ok(())
}

fn verify_acs3(
    shared: &Shared,
    req: &ApiRequest,
    fields: &str,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let mut credential_id = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in fields.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential_id = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let (Some(id), Some(signed_headers), Some(signature)) =
        (credential_id, signed_headers, signature)
    else {
        return Err(fail(
            400,
            "IncompleteSignature",
            "the Authorization header is malformed",
        ));
    };
    let (secret, token) = credential(shared, id, now)?;
    let signed_list: Vec<&str> = signed_headers.split(';').collect();
    for required in ["host", "x-acs-date", "x-acs-signature-nonce"] {
        if !signed_list.contains(&required) {
            return Err(fail(
                400,
                "IncompleteSignature",
                format!("the header {required} must be signed"),
            ));
        }
    }
    check_token(
        req,
        token.as_deref(),
        signed_list.contains(&"x-acs-security-token"),
    )?;
    let date = req
        .header("x-acs-date")
        .and_then(|d| NaiveDateTime::parse_from_str(d, "%Y-%m-%dT%H:%M:%SZ").ok())
        .ok_or_else(|| {
            fail(
                400,
                "InvalidTimeStamp.Format",
                "x-acs-date is missing or malformed",
            )
        })?
        .and_utc();
    check_fresh(date, now)?;
    let headers = req.signed_headers(signed_headers);
    let query = req.query_pairs();
    let expected = acs3::sign(
        &acs3::Acs3Request {
            method: &req.method,
            path: &req.decoded_path(),
            query: &query,
            headers: &headers,
            body: &req.body,
        },
        id,
        &Secret::new(secret),
    );
    if expected.signature != signature {
        return Err(fail(
            400,
            "SignatureDoesNotMatch",
            "the request signature does not conform to Alibaba Cloud standards",
        ));
    }
    Ok(())
}

fn verify_roa(
    shared: &Shared,
    req: &ApiRequest,
    fields: &str,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let Some((id, signature)) = fields.trim().split_once(':') else {
        return Err(fail(
            400,
            "IncompleteSignature",
            "the Authorization header is malformed",
        ));
    };
    let (secret, token) = credential(shared, id, now)?;
    check_token(req, token.as_deref(), token.is_some())?;
    let date_header = req
        .header("date")
        .ok_or_else(|| fail(400, "InvalidTimeStamp.Format", "the Date header is missing"))?;
    let date = DateTime::parse_from_rfc2822(date_header)
        .map_err(|_| {
            fail(
                400,
                "InvalidTimeStamp.Format",
                "the Date header is malformed",
            )
        })?
        .with_timezone(&Utc);
    check_fresh(date, now)?;
    let query = req.query_pairs();
    let expected = roa::sign(
        &roa::RoaRequest {
            method: &req.method,
            accept: req.header("accept").unwrap_or_default(),
            content_md5: req.header("content-md5").unwrap_or_default(),
            content_type: req.header("content-type").unwrap_or_default(),
            date: date_header,
            headers: &req.headers,
            path: &req.decoded_path(),
            query: &query,
        },
        id,
        &Secret::new(secret),
    );
    if expected.signature != signature {
        return Err(fail(
            400,
            "SignatureDoesNotMatch",
            "the request signature does not conform to Alibaba Cloud standards",
        ));
    }
    Ok(())
}

/// An STS key is only valid with its own security token, and the token must be signed.
fn check_token(req: &ApiRequest, expected: Option<&str>, signed: bool) -> Result<(), Failure> {
    let Some(expected) = expected else {
        return Ok(());
    };
    match req.header("x-acs-security-token") {
        None => Err(fail(
            400,
            "InvalidSecurityToken.Malformed",
            "the security token is missing",
        )),
        Some(sent) if sent != expected => Err(fail(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "the security token does not match the access key",
        )),
        Some(_) if !signed => Err(fail(
            400,
            "IncompleteSignature",
            "the header x-acs-security-token must be signed",
        )),
        Some(_) => Ok(()),
    }
}

fn check_fresh(date: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Failure> {
    if (now - date).num_seconds().abs() > MAX_CLOCK_SKEW_SECS {
        return Err(fail(
            400,
            "InvalidTimeStamp.Expired",
            "the request time is more than 15 minutes off the server time",
        ));
    }
    Ok(())
}

pub fn error(status: u16, code: &str, message: &str) -> Reply {
    let request_id = random_uuid();
    Reply::json(
        status,
        &json!({"code": code, "message": message, "requestId": request_id}),
    )
    .with_header("x-acs-request-id", request_id)
}

/// The error code ACK would use for a status a gateway answered.
pub fn code_for_status(status: u16) -> &'static str {
    match status {
        400 => "InvalidParameter",
        401 | 403 => "Forbidden.RAM",
        404 => "ErrorClusterNotFound",
        429 => "Throttling",
        503 => "ServiceUnavailable",
        _ => "InternalError",
    }
}

pub fn throttle(retry_after: Option<u32>) -> Reply {
    let reply = error(
        429,
        "Throttling.User",
        "Request was denied due to user flow control.",
    );
    match retry_after {
        Some(after) => reply.with_header("x-acs-retry-after", after.to_string()),
        None => reply,
    }
}

pub fn missing_fields() -> Reply {
    Reply::json(200, &json!({"expiration": "2030-01-01T00:00:00Z"}))
        .with_header("x-acs-request-id", random_uuid())
}
