//! Helpers for unit tests that read files from a home directory.

use chrono::{DateTime, Utc};

use crate::env::Env;
use crate::kubeconfig::model::Kubeconfig;
use crate::kubeconfig::normalize::{normalize, Fetched, NormalizeInput};
use crate::kubeconfig::provenance::Provenance;

/// A temporary home directory holding these files (relative path, content).
pub fn home_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    for (relative, content) in files {
        let path = home.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    home
}

/// The names in a directory, sorted.
pub fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// An environment of exactly these variables, with `home` as the home directory.
pub fn env_in(vars: &[(&str, &str)], home: &tempfile::TempDir) -> Env {
    Env::new(vars.iter().copied(), Some(home.path().to_path_buf()))
}

/// An HTTP answer with this status and body, as a provider's judge gets it.
pub fn response(status: u16, body: &str) -> crate::http::Response {
    crate::http::Response {
        status,
        headers: Default::default(),
        body: body.as_bytes().to_vec(),
    }
}

/// HTTP settings for providers built in unit tests: short, no retries.
pub fn http_settings() -> crate::settings::HttpSettings {
    crate::settings::HttpSettings {
        timeout: std::time::Duration::from_secs(1),
        retries: 0,
        ca_bundle: None,
    }
}

/// A fetched TKE entry named `name` whose cluster talks to `server`.
pub fn fetched(name: &str, server: &str) -> Fetched {
    fetched_of("tke", name, None, name, server)
}

/// A fetched entry `name` of this provider's cluster in this region.
pub fn fetched_of(
    provider: &str,
    cluster_id: &str,
    region: Option<&str>,
    name: &str,
    server: &str,
) -> Fetched {
    let raw = Kubeconfig::parse(&format!(
        "clusters: [{{name: kubernetes, cluster: {{server: '{server}'}}}}]\n\
         users: [{{name: u, user: {{token: new-token}}}}]\n\
         contexts: [{{name: c, context: {{cluster: kubernetes, user: u}}}}]\n"
    ))
    .unwrap();
    let fetched_at = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z").unwrap();
    normalize(
        &raw,
        NormalizeInput {
            source_context: None,
            name: name.into(),
            allow_insecure: false,
            provenance: Provenance {
                provider: provider.into(),
                cluster_id: cluster_id.into(),
                region: region.map(str::to_string),
                private: false,
                fetched_at: fetched_at.with_timezone(&Utc),
                expires_at: None,
                ..Provenance::default()
            },
        },
    )
    .unwrap()
}

/// Owned name/value pairs, as signers and URLs take them.
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
