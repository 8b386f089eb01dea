//! Tencent Cloud TKE `DescribeClusterKubeconfig`, signed with TC3-HMAC-SHA256.
//! Tencent answers errors with HTTP 200 and `Response.Error`.

use chrono::{DateTime, Utc};
use kubefetch::secret::Secret;
use kubefetch::sign::tc3;
use serde_json::{json, Value};

use crate::fixtures::{
    TENCENT_SECRET_ID, TENCENT_SECRET_KEY, TENCENT_TMP_SECRET_ID, TENCENT_TMP_SECRET_KEY,
    TENCENT_TMP_TOKEN, TENCENT_UIN,
};
use crate::kubeconfig::{self, Names};
use crate::model::{FaultKind, Provider};
use crate::state::Shared;
use crate::wire::{random_uuid, ApiRequest, Reply};

const ACTION: &str = "DescribeClusterKubeconfig";
const LIST_ACTION: &str = "DescribeClusters";
/// DescribeClusters' default and largest page.
const DEFAULT_LIMIT: u64 = 20;
const MAX_LIMIT: u64 = 100;
const VERSION: &str = "2018-05-25";
const MAX_CLOCK_SKEW_SECS: i64 = 300;
/// TKE's client certificates are valid 20 years.
const CERT_DAYS: i64 = 365 * 20;

/// The cluster a request names, from the JSON body (POST) or the query (GET).
pub fn cluster_id(req: &ApiRequest) -> Option<String> {
    Params::read(req).ok().map(|p| p.cluster_id)
}

pub fn handle(shared: &Shared, req: &ApiRequest, fault: Option<&FaultKind>) -> Reply {
    match answer(shared, req, fault) {
        Ok(reply) => reply,
        Err(e) => error(200, e.code, &e.message),
    }
}

pub(crate) struct Failure {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

pub(crate) fn fail(code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

fn answer(shared: &Shared, req: &ApiRequest, fault: Option<&FaultKind>) -> Result<Reply, Failure> {
    if req.method != "POST" && req.method != "GET" {
        return Err(fail(
            "UnsupportedProtocol",
            "only POST and GET are supported",
        ));
    }
    let list = match req.header("x-tc-action") {
        Some(ACTION) => false,
        Some(LIST_ACTION) => true,
        Some(other) => {
            return Err(fail(
                "InvalidAction",
                format!("the action {other} does not exist"),
            ))
        }
        None => {
            return Err(fail(
                "MissingParameter",
                "the request is missing the X-TC-Action header",
            ))
        }
    };
    check_version_and_region(req, VERSION)?;
    verify_signature(shared, req, "tke", Utc::now())?;
    if list {
        return describe_clusters(shared, req);
    }
    let params = Params::read(req)?;
    let Some(cluster) = shared.lock().cluster(Provider::Tke, &params.cluster_id) else {
        return Err(fail(
            "ResourceNotFound.ClusterNotFound",
            format!("cluster {} does not exist", params.cluster_id),
        ));
    };
    let enabled = if params.is_extranet {
        cluster.has_public
    } else {
        cluster.has_private
    };
    let unresolvable = format!("https://{}.ccs.tencent-cloud.invalid", cluster.id);
    // TKE answers even when the access type is not enabled, with a name that never resolves.
    let normal = if enabled {
        shared.kube_url(!params.is_extranet)
    } else {
        unresolvable.clone()
    };
    let server = kubeconfig::server_url(normal, unresolvable, fault);
    let now = Utc::now();
    let client = shared
        .pki
        .issue_client(TENCENT_UIN, now, now + chrono::Duration::days(CERT_DAYS))
        .map_err(|_| fail("InternalError", "cannot issue a client certificate"))?;
    let context = format!("{}-{TENCENT_UIN}-context-default", cluster.id);
    let names = Names {
        cluster: &cluster.id,
        user: TENCENT_UIN,
        context: &context,
    };
    let config = kubeconfig::yaml(&names, &server, &shared.pki.ca_pem(), &client, fault);
    Ok(Reply::json(
        200,
        &json!({"Response": {"Kubeconfig": config, "RequestId": random_uuid()}}),
    ))
}

/// `DescribeClusters`: one page (`Offset`/`Limit`) of the region's clusters.
fn describe_clusters(shared: &Shared, req: &ApiRequest) -> Result<Reply, Failure> {
    let body: Value = serde_json::from_slice(&req.body)
        .map_err(|_| fail("InvalidParameter.Param", "the request body is not JSON"))?;
    let number = |key: &str, default: u64| match body.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_u64().ok_or_else(|| {
            fail(
                "InvalidParameter.Param",
                format!("{key} must be an integer"),
            )
        }),
    };
    let offset = number("Offset", 0)?;
    let limit = number("Limit", DEFAULT_LIMIT)?;
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(fail(
            "InvalidParameter.Param",
            "Limit must be from 1 to 100",
        ));
    }
    let region = req.header("x-tc-region").unwrap_or_default();
    let all = shared.lock().listed(Provider::Tke, Some(region));
    let page: Vec<Value> = all
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|c| {
            json!({"ClusterId": c.id, "ClusterName": c.name, "ClusterStatus": c.state,
                         "ClusterType": "MANAGED_CLUSTER"})
        })
        .collect();
    Ok(Reply::json(
        200,
        &json!({"Response": {"TotalCount": all.len(), "Clusters": page, "RequestId": random_uuid()}}),
    ))
}

/// Every Tencent Cloud API 3.0 request names its API version and a region.
pub(crate) fn check_version_and_region(req: &ApiRequest, version: &str) -> Result<(), Failure> {
    if req.header("x-tc-version") != Some(version) {
        return Err(fail(
            "NoSuchVersion",
            "the X-TC-Version is missing or not supported",
        ));
    }
    if req.header("x-tc-region").is_none_or(str::is_empty) {
        return Err(fail(
            "MissingParameter",
            "the request is missing a region (X-TC-Region)",
        ));
    }
    Ok(())
}

/// Checks a TC3 signature for `service`, and the token of temporary keys.
pub(crate) fn verify_signature(
    shared: &Shared,
    req: &ApiRequest,
    service: &str,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let authorization = req.header("authorization").ok_or_else(|| {
        fail(
            "AuthFailure.InvalidAuthorization",
            "the Authorization header is missing",
        )
    })?;
    let parsed = Authorization::parse(authorization).ok_or_else(|| {
        fail(
            "AuthFailure.InvalidAuthorization",
            "the Authorization header is malformed",
        )
    })?;
    let timestamp: i64 = req
        .header("x-tc-timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| {
            fail(
                "MissingParameter",
                "X-TC-Timestamp is missing or not a number",
            )
        })?;
    let (secret_key, token) = match parsed.secret_id.as_str() {
        TENCENT_SECRET_ID => (TENCENT_SECRET_KEY.to_string(), None),
        TENCENT_TMP_SECRET_ID => (
            TENCENT_TMP_SECRET_KEY.to_string(),
            Some(TENCENT_TMP_TOKEN.to_string()),
        ),
        other => match shared.lock().temporary(other) {
            Some(keys) if keys.expires_at <= now => {
                return Err(fail(
                    "AuthFailure.TokenFailure",
                    "the temporary credential has expired",
                ))
            }
            Some(keys) => (keys.secret, Some(keys.token)),
            None => {
                return Err(fail(
                    "AuthFailure.SecretIdNotFound",
                    "the SecretId does not exist",
                ))
            }
        },
    };
    if (now.timestamp() - timestamp).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(fail(
            "AuthFailure.SignatureExpire",
            "the request's timestamp is more than 5 minutes off the server time",
        ));
    }
    if let Some(expected) = token.as_deref() {
        if req.header("x-tc-token") != Some(expected) {
            return Err(fail(
                "AuthFailure.TokenFailure",
                "the temporary credential's token is invalid",
            ));
        }
    }
    let signed = tc3::sign(
        &tc3::Tc3Request {
            method: &req.method,
            host: req.header("host").unwrap_or_default(),
            query: if req.method == "GET" { &req.query } else { "" },
            content_type: req.header("content-type").unwrap_or_default(),
            payload: &req.body,
            service,
            timestamp,
        },
        &parsed.secret_id,
        &Secret::new(secret_key),
    );
    if parsed.signed_headers != signed.signed_headers || parsed.signature != signed.signature {
        return Err(fail(
            "AuthFailure.SignatureFailure",
            "the request signature does not match",
        ));
    }
    Ok(())
}

/// `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=..., Signature=...`
struct Authorization {
    secret_id: String,
    signed_headers: String,
    signature: String,
}

impl Authorization {
    fn parse(value: &str) -> Option<Authorization> {
        let rest = value.strip_prefix("TC3-HMAC-SHA256 ")?;
        let mut credential = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            match part.trim().split_once('=')? {
                ("Credential", v) => credential = Some(v),
                ("SignedHeaders", v) => signed_headers = Some(v.to_string()),
                ("Signature", v) => signature = Some(v.to_string()),
                _ => {}
            }
        }
        let secret_id = credential?.split('/').next()?.to_string();
        Some(Authorization {
            secret_id,
            signed_headers: signed_headers?,
            signature: signature?,
        })
    }
}

struct Params {
    cluster_id: String,
    is_extranet: bool,
}

impl Params {
    fn read(req: &ApiRequest) -> Result<Params, Failure> {
        let (cluster_id, is_extranet) = if req.method == "GET" {
            let extranet = match req.query_param("IsExtranet").as_deref() {
                None => None,
                Some("true" | "True") => Some(true),
                Some("false" | "False") => Some(false),
                Some(_) => {
                    return Err(fail(
                        "InvalidParameter.Param",
                        "IsExtranet must be a boolean",
                    ))
                }
            };
            (req.query_param("ClusterId"), extranet)
        } else {
            let body: Value = serde_json::from_slice(&req.body)
                .map_err(|_| fail("InvalidParameter.Param", "the request body is not JSON"))?;
            let extranet = match body.get("IsExtranet") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => {
                    return Err(fail(
                        "InvalidParameter.Param",
                        "IsExtranet must be a boolean",
                    ))
                }
            };
            let id = body
                .get("ClusterId")
                .and_then(Value::as_str)
                .map(str::to_string);
            (id, extranet)
        };
        let cluster_id = cluster_id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| fail("MissingParameter", "the parameter ClusterId is missing"))?;
        Ok(Params {
            cluster_id,
            // The API's own default is the intranet kubeconfig.
            is_extranet: is_extranet.unwrap_or(false),
        })
    }
}

/// Tencent's error shape, at any HTTP status.
pub fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": random_uuid()}}),
    )
}

/// The error code TKE would use for a status a gateway answered.
pub fn code_for_status(status: u16) -> &'static str {
    match status {
        400 => "InvalidParameter",
        401 => "AuthFailure",
        403 => "UnauthorizedOperation.CamNoAuth",
        404 => "ResourceNotFound.ClusterNotFound",
        429 => "RequestLimitExceeded",
        503 => "ResourceUnavailable",
        _ => "InternalError",
    }
}

pub fn throttle() -> Reply {
    error(
        200,
        "RequestLimitExceeded",
        "your current request times equals to the limit, please try again later",
    )
}

pub fn missing_fields() -> Reply {
    Reply::json(200, &json!({"Response": {"RequestId": random_uuid()}}))
}
