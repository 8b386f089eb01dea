//! UCS `POST /v1/clusters/{id}/kubeconfig` (201) and the one-time agent bundle of an
//! attached cluster, `GET /v1/clusters/{id}/accessinfo`.

use chrono::Utc;
use serde_json::{json, Value};

use super::{authenticate, reply, Caller};
use crate::fixtures::HUAWEI_DOMAIN_ID;
use crate::kubeconfig::{self, b64, Endpoints};
use crate::model::{FaultKind, Provider};
use crate::state::Shared;
use crate::wire::{ApiRequest, Reply};

/// UCS kubeconfig certificates: one year.
const CERT_DAYS: i64 = 365;
/// The agent's certificate: five years.
const AGENT_CERT_DAYS: i64 = 5 * 365;

enum Route {
    Kubeconfig(String),
    AccessInfo(String),
}

fn route(req: &ApiRequest) -> Option<Route> {
    match req.segments().as_slice() {
        ["v1", "clusters", id, "kubeconfig"] => Some(Route::Kubeconfig(id.to_string())),
        ["v1", "clusters", id, "accessinfo"] => Some(Route::AccessInfo(id.to_string())),
        _ => None,
    }
}

pub fn cluster_id(req: &ApiRequest) -> Option<String> {
    match route(req)? {
        Route::Kubeconfig(id) | Route::AccessInfo(id) => Some(id),
    }
}

pub fn error(status: u16, code: &str, message: &str) -> Reply {
    reply(status, &json!({"error_code": code, "error_msg": message}))
}

pub fn code_for_status(status: u16) -> String {
    format!("UCS.00{status:03}001")
}

pub fn handle(shared: &Shared, req: &ApiRequest, fault: Option<&FaultKind>) -> Reply {
    if req.segments() == ["v1", "clusters"] && req.method == "GET" {
        return match authenticate_global(shared, req) {
            Ok(()) => list_clusters(shared, req),
            Err(reply) => reply,
        };
    }
    let (route, method) = match route(req) {
        Some(route @ Route::Kubeconfig(_)) => (route, "POST"),
        Some(route @ Route::AccessInfo(_)) => (route, "GET"),
        None => return super::no_such_api(),
    };
    if req.method != method {
        return super::no_such_api();
    }
    if let Err(reply) = authenticate_global(shared, req) {
        return reply;
    }
    match route {
        Route::Kubeconfig(id) => kubeconfig(shared, &id, fault),
        Route::AccessInfo(id) => access_info(shared, req, &id, fault),
    }
}

/// UCS is a global service: AK/SK calls name the account with `X-Domain-Id`.
fn authenticate_global(shared: &Shared, req: &ApiRequest) -> Result<(), Reply> {
    match authenticate(shared, req)? {
        Caller::Token(_) => Ok(()),
        Caller::AkSk if req.header("x-domain-id") == Some(HUAWEI_DOMAIN_ID) => Ok(()),
        Caller::AkSk => Err(super::gateway_error(
            401,
            "APIGW.0301",
            "Incorrect IAM authentication information: X-Domain-Id is missing or wrong",
        )),
    }
}

/// `ShowClusterList`: `limit` (-1: all) and `offset`.
fn list_clusters(shared: &Shared, req: &ApiRequest) -> Reply {
    let limit = match req.query_param("limit").map(|v| v.parse::<i64>()) {
        None => -1,
        Some(Ok(n)) if n == -1 || n >= 1 => n,
        Some(_) => {
            return error(
                400,
                "UCS.00400001",
                "limit must be -1 or a positive integer",
            )
        }
    };
    let offset = match req.query_param("offset").map(|v| v.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return error(400, "UCS.00400001", "offset must be an integer"),
    };
    let all = shared.lock().listed(Provider::Ucs, None);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    let items: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(take)
        .map(|c| {
            let category = if c.agent_bundle {
                "attachedcluster"
            } else {
                "self"
            };
            json!({"kind": "Cluster", "apiVersion": "v1",
                   "metadata": {"uid": c.id, "name": c.name},
                   "spec": {"region": c.region, "provider": "huaweicloud", "category": category},
                   "status": {"phase": c.state}})
        })
        .collect();
    reply(200, &json!({"total": all.len(), "items": items}))
}

fn kubeconfig(shared: &Shared, id: &str, fault: Option<&FaultKind>) -> Reply {
    let Some(cluster) = shared.lock().cluster(Provider::Ucs, id) else {
        return error(404, "UCS.00404001", &format!("cluster {id} not found"));
    };
    let now = Utc::now();
    let client = match shared
        .pki
        .issue_client("user", now, now + chrono::Duration::days(CERT_DAYS))
    {
        Ok(client) => client,
        Err(_) => return error(500, "UCS.00500001", "cannot issue a client certificate"),
    };
    let unresolvable = format!("https://{id}.ucs.invalid:5443");
    let endpoints = Endpoints {
        internal: kubeconfig::server_url(shared.kube_url(true), unresolvable.clone(), fault),
        external: cluster
            .has_public
            .then(|| kubeconfig::server_url(shared.kube_url(false), unresolvable, fault)),
        insecure_as_string: true,
    };
    reply(
        201,
        &kubeconfig::json(&endpoints, &shared.pki.ca_pem(), &client, fault),
    )
}

fn access_info(shared: &Shared, req: &ApiRequest, id: &str, fault: Option<&FaultKind>) -> Reply {
    let cluster = {
        let state = shared.lock();
        state
            .cluster(Provider::Ucs, id)
            .ok_or_else(|| state.any_cluster(id))
    };
    let cluster = match cluster {
        Ok(cluster) => cluster,
        Err(Some(_)) => return error(400, "UCS.00400001", "a CCE cluster has no access info"),
        Err(None) => return error(404, "UCS.00404001", &format!("cluster {id} not found")),
    };
    if !cluster.agent_bundle {
        return error(
            400,
            "UCS.00400001",
            "only attached clusters have access info",
        );
    }
    let endpoint = req.query_param("vpcendpoint").filter(|v| !v.is_empty());
    let region = req.query_param("region").filter(|v| !v.is_empty());
    if endpoint.is_some() != region.is_some() {
        return error(
            400,
            "UCS.00400001",
            "vpcendpoint and region are needed together for private access",
        );
    }
    if fault == Some(&FaultKind::DownloadedMarker) {
        return reply(200, &json!(["Downloaded"]));
    }
    if !shared.lock().mark_downloaded(id) {
        return reply(410, &json!("Downloaded"));
    }
    let now = Utc::now();
    let agent = match shared.pki.issue_client(
        &format!("proxy-agent-{id}"),
        now,
        now + chrono::Duration::days(AGENT_CERT_DAYS),
    ) {
        Ok(agent) => agent,
        Err(_) => return error(500, "UCS.00500001", "cannot issue the agent certificate"),
    };
    let tunnel = match &endpoint {
        Some(ip) => format!("wss://{ip}:30123"),
        None => "wss://ucs-tunnel.fakecloud.invalid:30123".to_string(),
    };
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "proxy-agent", "namespace": "kube-system", "labels": {"app": "proxy-agent"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "proxy-agent"}},
            "template": {
                "metadata": {"labels": {"app": "proxy-agent"}},
                "spec": {
                    "containers": [{
                        "name": "proxy-agent",
                        "image": "fakecloud.invalid/proxy-agent:v1.0.0",
                        "args": [format!("--proxy-server={tunnel}"), format!("--cluster-id={id}"),
                                 format!("--region={}", region.as_deref().unwrap_or(""))],
                        "volumeMounts": [{"name": "proxy-agent-cert", "mountPath": "/etc/proxy-agent", "readOnly": true}],
                    }],
                    "volumes": [{"name": "proxy-agent-cert", "secret": {"secretName": "proxy-agent-cert"}}],
                },
            },
        },
    });
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "proxy-agent-cert", "namespace": "kube-system"},
        "type": "Opaque",
        "data": {
            "ca.crt": b64(&shared.pki.ca_pem()),
            "tls.crt": b64(&agent.cert_pem),
            "tls.key": b64(agent.key_pem.expose()),
        },
    });
    reply(200, &Value::Array(vec![deployment, secret]))
}
