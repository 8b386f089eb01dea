//! The kubeconfigs the clouds hand out, in each cloud's own shape and naming, with
//! the faults that make them hostile or unusable.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use crate::model::FaultKind;
use crate::pki::Issued;

/// What a kubeconfig's `server` is, after any fault that changes it.
pub fn server_url(normal: String, unresolvable: String, fault: Option<&FaultKind>) -> String {
    match fault {
        Some(FaultKind::UnresolvableServer) => unresolvable,
        Some(FaultKind::HttpServerKubeconfig) => normal.replacen("https://", "http://", 1),
        _ => normal,
    }
}

/// Text that no kubeconfig parser accepts (an HTML error page, as a broken gateway sends).
const NOT_A_KUBECONFIG: &str =
    "<html><head><title>502 Bad Gateway</title></head><body>upstream: [unavailable</body></html>";

/// The names a YAML kubeconfig (TKE, ACK) gives its one cluster, user and context.
pub struct Names<'a> {
    pub cluster: &'a str,
    pub user: &'a str,
    pub context: &'a str,
}

/// A YAML kubeconfig with one cluster, user and context (TKE and ACK).
pub fn yaml(
    names: &Names<'_>,
    server: &str,
    ca_pem: &str,
    client: &Issued,
    fault: Option<&FaultKind>,
) -> String {
    if fault == Some(&FaultKind::NotYamlKubeconfig) {
        return NOT_A_KUBECONFIG.to_string();
    }
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{
            "name": names.cluster,
            "cluster": {
                "server": server,
                "certificate-authority-data": b64(ca_pem),
            },
        }],
        "users": [{"name": names.user, "user": user_entry(client, fault)}],
        "contexts": [{
            "name": names.context,
            "context": {"cluster": names.cluster, "user": names.user},
        }],
        "current-context": names.context,
        "preferences": {},
    });
    kubefetch::yaml::to_block_yaml(&config)
}

/// The endpoints of a CCE/UCS kubeconfig.
pub struct Endpoints {
    pub internal: String,
    /// Present when the cluster has a public address.
    pub external: Option<String>,
    /// UCS writes `insecure-skip-tls-verify` as the string "true", CCE as a bool.
    pub insecure_as_string: bool,
}

/// The kubeconfig-as-JSON that CCE and UCS answer: clusters `internalCluster`,
/// `externalCluster` (no CA, insecure) and `externalClusterTLSVerify`, user `user`,
/// contexts `internal`, `external`, `externalTLSVerify`.
pub fn json(
    endpoints: &Endpoints,
    ca_pem: &str,
    client: &Issued,
    fault: Option<&FaultKind>,
) -> Value {
    if fault == Some(&FaultKind::NotYamlKubeconfig) {
        return Value::String(NOT_A_KUBECONFIG.to_string());
    }
    let ca = b64(ca_pem);
    let mut clusters = vec![json!({
        "name": "internalCluster",
        "cluster": {"server": endpoints.internal, "certificate-authority-data": ca},
    })];
    let mut contexts = vec![json!({
        "name": "internal",
        "context": {"cluster": "internalCluster", "user": "user"},
    })];
    if let Some(external) = &endpoints.external {
        let insecure = if endpoints.insecure_as_string {
            json!("true")
        } else {
            json!(true)
        };
        clusters.push(json!({
            "name": "externalCluster",
            "cluster": {"server": external, "insecure-skip-tls-verify": insecure},
        }));
        clusters.push(json!({
            "name": "externalClusterTLSVerify",
            "cluster": {"server": external, "certificate-authority-data": ca},
        }));
        contexts.push(json!({
            "name": "external",
            "context": {"cluster": "externalCluster", "user": "user"},
        }));
        contexts.push(json!({
            "name": "externalTLSVerify",
            "context": {"cluster": "externalClusterTLSVerify", "user": "user"},
        }));
    }
    let current = if endpoints.external.is_some() {
        "external"
    } else {
        "internal"
    };
    json!({
        "kind": "Config",
        "apiVersion": "v1",
        "preferences": {},
        "clusters": clusters,
        "users": [{"name": "user", "user": user_entry(client, fault)}],
        "contexts": contexts,
        "current-context": current,
    })
}

fn user_entry(client: &Issued, fault: Option<&FaultKind>) -> Value {
    if fault == Some(&FaultKind::ExecUserKubeconfig) {
        // A program that does not exist: if anything ever ran it, nothing happens.
        return json!({"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "fakecloud-exec-must-never-run",
            "args": ["--steal", "credentials"],
            "interactiveMode": "Never",
        }});
    }
    json!({
        "client-certificate-data": b64(&client.cert_pem),
        "client-key-data": b64(client.key_pem.expose()),
    })
}

pub fn b64(text: &str) -> String {
    STANDARD.encode(text.as_bytes())
}
