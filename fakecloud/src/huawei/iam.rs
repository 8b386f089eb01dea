//! IAM (Keystone v3): tokens by password, projects by region name, the account's domain.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{authenticate, reply};
use crate::fixtures::{
    HUAWEI_DOMAIN_ID, HUAWEI_DOMAIN_NAME, HUAWEI_PASSWORD, HUAWEI_PROJECTS, HUAWEI_USER,
    HUAWEI_USER_ID,
};
use crate::state::{Shared, Token};
use crate::wire::{random_hex, ApiRequest, Reply};

const TOKEN_HOURS: i64 = 24;

/// Keystone's `{"error":{"code","message","title"}}` shape.
pub fn error(status: u16, message: &str) -> Reply {
    let title = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    reply(
        status,
        &json!({"error": {"code": status, "message": message, "title": title}}),
    )
}

pub fn handle(shared: &Shared, req: &ApiRequest) -> Reply {
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/v3/auth/tokens") => issue(shared, req),
        ("GET", "/v3/projects") => projects(shared, req),
        ("GET", "/v3/auth/domains") => domains(shared, req),
        (_, path) if path.starts_with("/v3.0/") => super::keyless::handle(shared, req),
        _ => super::no_such_api(),
    }
}

/// A fresh token scoped to a project, stored so the other APIs accept it.
pub fn new_token(shared: &Shared, project_id: Option<&str>, now: DateTime<Utc>) -> (String, Token) {
    let value = format!("MIIfakecloud{}", random_hex(48));
    let token = Token {
        expires_at: now + chrono::Duration::hours(TOKEN_HOURS),
        project_id: project_id.map(str::to_string),
        unscoped: false,
    };
    shared.lock().add_token(value.clone(), token.clone());
    (value, token)
}

fn issue(shared: &Shared, req: &ApiRequest) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return error(400, "the request body is not JSON");
    };
    let identity = &body["auth"]["identity"];
    let uses_password = identity["methods"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m == "password"));
    let user = &identity["password"]["user"];
    let domain = &user["domain"];
    let domain_ok = domain["name"] == HUAWEI_DOMAIN_NAME || domain["id"] == HUAWEI_DOMAIN_ID;
    if !uses_password
        || user["name"] != HUAWEI_USER
        || user["password"] != HUAWEI_PASSWORD
        || !domain_ok
    {
        return error(401, "The username or password is wrong.");
    }
    let scope = &body["auth"]["scope"];
    let project = if scope["project"].is_object() {
        let matches: Vec<(&str, &str)> = HUAWEI_PROJECTS
            .iter()
            .copied()
            .filter(|(id, name)| scope["project"]["id"] == *id || scope["project"]["name"] == *name)
            .collect();
        match matches.as_slice() {
            [one] => Some(*one),
            [] => return error(401, "The project in the scope does not exist."),
            _ => return error(400, "More than one project matches the scope's name."),
        }
    } else {
        None
    };
    let now = Utc::now();
    let (value, token) = new_token(shared, project.map(|(id, _)| id), now);
    let domain = json!({"id": HUAWEI_DOMAIN_ID, "name": HUAWEI_DOMAIN_NAME});
    let mut body = json!({"token": {
        "methods": ["password"],
        "expires_at": keystone_time(token.expires_at),
        "issued_at": keystone_time(now),
        "user": {"id": HUAWEI_USER_ID, "name": HUAWEI_USER, "domain": domain},
        "catalog": [],
    }});
    match project {
        Some((id, name)) => {
            body["token"]["project"] = json!({"id": id, "name": name, "domain": domain});
        }
        None => body["token"]["domain"] = domain,
    }
    reply(201, &body).with_header("x-subject-token", value)
}

fn projects(shared: &Shared, req: &ApiRequest) -> Reply {
    if let Err(reply) = authenticate(shared, req) {
        return reply;
    }
    let name = req.query_param("name");
    let projects: Vec<Value> = HUAWEI_PROJECTS
        .iter()
        .filter(|(_, region)| name.as_deref().is_none_or(|n| n == *region))
        .map(|(id, region)| {
            json!({"id": id, "name": region, "domain_id": HUAWEI_DOMAIN_ID,
                   "enabled": true, "is_domain": false, "parent_id": HUAWEI_DOMAIN_ID,
                   "description": ""})
        })
        .collect();
    reply(200, &json!({"projects": projects}))
}

fn domains(shared: &Shared, req: &ApiRequest) -> Reply {
    if let Err(reply) = authenticate(shared, req) {
        return reply;
    }
    reply(
        200,
        &json!({"domains": [{"id": HUAWEI_DOMAIN_ID, "name": HUAWEI_DOMAIN_NAME,
                             "enabled": true, "description": ""}]}),
    )
}

pub fn keystone_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
