//! `--exec` (DESIGN.md section 8): the user entry that makes kubectl run
//! `kubefetch credential` instead of holding a key, and which apiVersion
//! of ExecCredential kubectl asks for.

use serde_json::{json, Value};

use crate::cache::{Cache, Credential};
use crate::env::Env;
use crate::kubeconfig::model::AuthInfo;
use crate::kubeconfig::normalize::Fetched;
use crate::provider::Provider;

pub const API_V1: &str = "client.authentication.k8s.io/v1";
pub const API_V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

const INSTALL_HINT: &str = "kubefetch gets this cluster's credentials: install it \
(https://github.com/kubefetch/kubefetch), or set KUBEFETCH_EXEC_COMMAND and fetch the cluster again";

/// The apiVersion kubectl asks for in `KUBERNETES_EXEC_INFO`: v1beta1 when
/// it says so; missing, invalid or another version: v1.
pub fn api_version(env: &Env) -> &'static str {
    let asked = env
        .var("KUBERNETES_EXEC_INFO")
        .and_then(|info| serde_json::from_str::<Value>(info).ok())
        .and_then(|info| info.get("apiVersion")?.as_str().map(str::to_string));
    match asked.as_deref() {
        Some(API_V1BETA1) => API_V1BETA1,
        _ => API_V1,
    }
}

/// Turns fetched entries into exec ones, filling the cache on the way.
#[derive(Debug, Clone)]
pub struct ExecWriter {
    command: String,
    cache: Option<Cache>,
}

impl ExecWriter {
    /// `KUBEFETCH_EXEC_COMMAND`, else the absolute path of this kubefetch.
    pub fn new(env: &Env) -> Result<ExecWriter, String> {
        let command = match env.var("KUBEFETCH_EXEC_COMMAND") {
            Some(command) => command.to_string(),
            None => std::env::current_exe()
                .map_err(|e| format!("cannot tell where this kubefetch is: {e}"))?
                .to_str()
                .ok_or("the path of this kubefetch is not UTF-8")?
                .to_string(),
        };
        Ok(ExecWriter {
            command,
            cache: Cache::locate(env),
        })
    }

    /// Caches the fetched credential, then replaces the user by one that runs
    /// `kubefetch credential` with the options of this fetch. Returns the
    /// warnings for a cache that could not be filled.
    pub fn convert(
        &self,
        mut fetched: Fetched,
        provider: &Provider,
        cluster_id: &str,
    ) -> (Fetched, Vec<String>) {
        let mut warnings = Vec::new();
        let credential = Credential::from_user(
            &fetched.user.user,
            fetched.provenance.fetched_at,
            fetched.expires_at,
        );
        let stored = match (&self.cache, credential) {
            (None, _) => Err("there is no home directory for it".to_string()),
            (_, Err(e)) => Err(e),
            (Some(cache), Ok(credential)) => cache
                .store(&provider.cache_key(cluster_id), &credential)
                .map_err(|e| crate::http::error_chain(&e)),
        };
        if let Err(reason) = stored {
            warnings.push(format!(
                "{}: the credential was not cached ({reason}); kubectl's first call fetches it",
                fetched.name
            ));
        }
        fetched.user.user = exec_user(&self.command, provider.credential_args(cluster_id));
        fetched.provenance.exec = true;
        fetched.context.context.extensions = Some(vec![fetched.provenance.to_extension()]);
        (fetched, warnings)
    }
}

/// A user that runs `command args...` for its credential, and nothing else.
fn exec_user(command: &str, args: Vec<String>) -> AuthInfo {
    let exec = json!({
        "apiVersion": API_V1,
        "command": command,
        "args": args,
        "interactiveMode": "Never",
        "provideClusterInfo": false,
        "installHint": INSTALL_HINT,
    });
    AuthInfo {
        exec: Some(exec),
        ..AuthInfo::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_gets_the_api_version_it_asks_for_else_v1() {
        let env = |info: Option<&str>| {
            Env::new(info.map(|i| ("KUBERNETES_EXEC_INFO", i.to_string())), None)
        };
        let v1beta1 = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}"#;
        assert_eq!(api_version(&env(Some(v1beta1))), API_V1BETA1);
        let v1 = r#"{"apiVersion":"client.authentication.k8s.io/v1","spec":{}}"#;
        assert_eq!(api_version(&env(Some(v1))), API_V1);
        for other in [
            None,
            Some("not json"),
            Some(r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#),
            Some(r#"{"apiVersion":7}"#),
        ] {
            assert_eq!(api_version(&env(other)), API_V1, "{other:?}");
        }
    }

    #[test]
    fn the_exec_user_runs_kubefetch_and_never_prompts() {
        let user = exec_user(
            "/usr/bin/kubefetch",
            vec!["credential".into(), "tke".into(), "cls-a".into()],
        );
        let exec = user.exec.unwrap();
        assert_eq!(exec["apiVersion"], API_V1);
        assert_eq!(exec["command"], "/usr/bin/kubefetch");
        assert_eq!(exec["args"], json!(["credential", "tke", "cls-a"]));
        assert_eq!(exec["interactiveMode"], "Never");
        assert_eq!(exec["provideClusterInfo"], false);
        assert!(exec.get("env").is_none());
        assert!(user.client_key_data.is_none() && user.client_certificate_data.is_none());
    }
}
