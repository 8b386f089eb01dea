//! CCE `POST /api/v3/projects/{project_id}/clusters/{cluster_id}/clustercert`
//! (`{"duration": days}`) and the legacy `GET` on the same path.

use chrono::Utc;
use serde_json::{json, Value};

use super::{authenticate, reply, Caller};
use crate::fixtures::HUAWEI_PROJECTS;
use crate::kubeconfig::{self, Endpoints};
use crate::model::{FaultKind, Provider};
use crate::state::Shared;
use crate::wire::{ApiRequest, Reply};

const MAX_DAYS: i64 = 1827;
/// `duration: -1` (and the legacy GET) mean the 5-year maximum.
const MAXIMUM_DAYS: i64 = 5 * 365;

/// `/api/v3/projects/{pid}/clusters/{id}/clustercert` -> (pid, id).
fn route(req: &ApiRequest) -> Option<(String, String)> {
    match req.segments().as_slice() {
        ["api", "v3", "projects", pid, "clusters", id, "clustercert"] => {
            Some((pid.to_string(), id.to_string()))
        }
        _ => None,
    }
}

pub fn cluster_id(req: &ApiRequest) -> Option<String> {
    route(req).map(|(_, id)| id)
}

/// CCE's own `{"errorCode","errorMessage"}` shape.
pub fn error(status: u16, code: &str, message: &str) -> Reply {
    reply(status, &json!({"errorCode": code, "errorMessage": message}))
}

/// CCE's codes embed the status: `CCE.01404001`.
pub fn code_for_status(status: u16) -> String {
    format!("CCE.01{status:03}001")
}

pub fn handle(shared: &Shared, req: &ApiRequest, fault: Option<&FaultKind>) -> Reply {
    if let ["api", "v3", "projects", pid, "clusters"] = req.segments().as_slice() {
        return list_clusters(shared, req, pid);
    }
    let Some((project_id, id)) = route(req) else {
        return super::no_such_api();
    };
    let legacy_only = fault == Some(&FaultKind::LegacyOnly);
    if req.method != "GET" && (req.method != "POST" || legacy_only) {
        return super::no_such_api();
    }
    let caller = match authenticate(shared, req) {
        Ok(caller) => caller,
        Err(reply) => return reply,
    };
    if let Err(reply) = check_scope(req, &caller, &project_id) {
        return reply;
    }
    let days = if req.method == "POST" {
        match requested_days(&req.body) {
            Some(days) => days,
            None => {
                return error(
                    400,
                    "CCE.01400001",
                    "Invalid request: duration must be -1 or from 1 to 1827",
                )
            }
        }
    } else {
        MAXIMUM_DAYS
    };
    let Some(cluster) = shared.lock().cluster(Provider::Cce, &id) else {
        return error(
            404,
            "CCE.01404001",
            &format!("Resource not found: cluster {id}"),
        );
    };
    let now = Utc::now();
    let client = match shared
        .pki
        .issue_client("user", now, now + chrono::Duration::days(days))
    {
        Ok(client) => client,
        Err(_) => return error(500, "CCE.01500001", "cannot issue a client certificate"),
    };
    let unresolvable = format!("https://{id}.cce.invalid:5443");
    let endpoints = Endpoints {
        internal: kubeconfig::server_url(shared.kube_url(true), unresolvable.clone(), fault),
        external: cluster
            .has_public
            .then(|| kubeconfig::server_url(shared.kube_url(false), unresolvable, fault)),
        insecure_as_string: false,
    };
    reply(
        200,
        &kubeconfig::json(&endpoints, &shared.pki.ca_pem(), &client, fault),
    )
}

/// The credentials must be scoped to the project in the path; its region.
fn check_scope(req: &ApiRequest, caller: &Caller, project_id: &str) -> Result<&'static str, Reply> {
    let scoped_to = match caller {
        Caller::AkSk => req.header("x-project-id").map(str::to_string),
        Caller::Token(token) => token.project_id.clone(),
    };
    let region = HUAWEI_PROJECTS
        .iter()
        .find(|(pid, _)| *pid == project_id)
        .map(|(_, region)| *region);
    match region {
        Some(region) if scoped_to.as_deref() == Some(project_id) => Ok(region),
        _ => Err(error(
            403,
            "CCE.01403001",
            "the credentials are not scoped to the project in the path",
        )),
    }
}

/// `ListClusters`: every cluster of the project's region in one answer.
fn list_clusters(shared: &Shared, req: &ApiRequest, project_id: &str) -> Reply {
    if req.method != "GET" {
        return super::no_such_api();
    }
    let caller = match authenticate(shared, req) {
        Ok(caller) => caller,
        Err(reply) => return reply,
    };
    let region = match check_scope(req, &caller, project_id) {
        Ok(region) => region,
        Err(reply) => return reply,
    };
    let items: Vec<Value> = shared
        .lock()
        .listed(Provider::Cce, Some(region))
        .iter()
        .map(|c| {
            json!({"kind": "Cluster", "apiVersion": "v3",
                         "metadata": {"uid": c.id, "name": c.name},
                         "spec": {"type": "VirtualMachine"},
                         "status": {"phase": c.state}})
        })
        .collect();
    reply(
        200,
        &json!({"kind": "Cluster", "apiVersion": "v3", "items": items}),
    )
}

fn requested_days(body: &[u8]) -> Option<i64> {
    let body: Value = serde_json::from_slice(body).ok()?;
    match body.get("duration")?.as_i64()? {
        -1 => Some(MAXIMUM_DAYS),
        days @ 1..=MAX_DAYS => Some(days),
        _ => None,
    }
}
