//! The categories every failure is sorted into once, at the top, and the
//! exit codes and JSON `kind` names they map to (DESIGN.md sections 2 and 4).

use serde::Serialize;

use crate::credentials::CredentialError;
use crate::kubeconfig::StoreError;
use crate::provider::error::ApiError;
use crate::provider::SetupError;
use crate::settings::UsageError;
use crate::ui::for_people;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad flag, bad value, missing region, malformed cluster id.
    Usage,
    /// Credentials missing, rejected, or not permitted.
    Auth,
    /// The cluster does not exist (or is not visible to these credentials).
    NotFound,
    /// The provider or the network failed after retries, or answered nonsense.
    Provider,
    /// The local kubeconfig cannot be used.
    Kubeconfig,
    /// A bug or an unclassified error.
    Internal,
}

impl ErrorKind {
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Internal => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Auth => 3,
            ErrorKind::NotFound => 4,
            ErrorKind::Provider => 5,
            ErrorKind::Kubeconfig => 6,
        }
    }
}

/// A failure as the user sees it: categorised once, with everything the
/// provider said and what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: ErrorKind,
    /// One line: what failed, with the provider's code and request id.
    pub message: String,
    pub code: Option<String>,
    pub request_id: Option<String>,
    /// Supporting lines (e.g. each credential source tried).
    pub causes: Vec<String>,
    pub hint: Option<String>,
}

impl Failure {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
            code: None,
            request_id: None,
            causes: Vec::new(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    /// Bad input for `command`, found before anything was sent or written.
    pub fn usage(command: &str, e: UsageError) -> Self {
        Failure::new(ErrorKind::Usage, format!("{command}: {}", e.message)).with_hint(e.hint)
    }

    /// A provider that could not be set up for `command`.
    pub fn setup(command: &str, e: SetupError) -> Self {
        match e {
            SetupError::Usage(e) => Failure::usage(command, e),
            SetupError::Http(e) => {
                let mut failure = Failure::new(ErrorKind::Usage, format!("{command}: {e}"))
                    .with_hint(e.hint().map(str::to_string));
                failure.causes = sources(&e);
                failure
            }
            SetupError::Credentials(CredentialError::NotFound {
                provider: cloud,
                tried,
            }) => {
                let mut failure = Failure::new(
                    ErrorKind::Auth,
                    format!("{command}: no {cloud} credentials found"),
                )
                .with_hint(Some(credentials_hint(command).to_string()));
                failure.causes = tried.iter().map(|t| format!("tried {t}")).collect();
                failure
            }
            // A source that is set but unusable stops the chain: say how to go on.
            SetupError::Credentials(e @ CredentialError::Broken { .. }) => {
                Failure::new(ErrorKind::Auth, format!("{command}: {e}")).with_hint(Some(
                    "fix what is named above, or unset it to let kubefetch look at the next source"
                        .to_string(),
                ))
            }
        }
    }

    /// What a provider's API said about one cluster.
    pub fn api(command: &str, cluster_id: &str, e: ApiError) -> Self {
        Failure::from_api(format!("{command} {cluster_id}: {e}"), e)
    }

    /// A list API that failed: no cluster to name.
    pub fn discovery(command: &str, e: ApiError) -> Self {
        Failure::from_api(format!("{command}: cannot list clusters: {e}"), e)
    }

    fn from_api(message: String, e: ApiError) -> Self {
        Failure {
            kind: e.kind,
            message,
            code: e.code,
            request_id: e.request_id,
            causes: e.causes,
            hint: e.hint,
        }
    }

    /// A kubeconfig that could not be read, merged or written.
    pub fn store(e: StoreError) -> Self {
        let hint = e.hint();
        let mut failure =
            Failure::new(ErrorKind::Kubeconfig, e.to_string()).with_hint(Some(hint.to_string()));
        failure.causes = sources(&e);
        failure
    }

    /// `error: ...`, `caused by: ...` lines and a `hint: ...`, for stderr.
    /// Each part is one line whatever the provider put in it.
    pub fn render(&self) -> String {
        let mut out = format!("error: {}", for_people(&self.message));
        for cause in &self.causes {
            out.push_str("\n  caused by: ");
            out.push_str(&for_people(cause));
        }
        if let Some(hint) = &self.hint {
            out.push_str("\nhint: ");
            out.push_str(&for_people(hint));
        }
        out
    }
}

/// The source chain below an error, one line each.
fn sources(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut causes = Vec::new();
    let mut source = e.source();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    causes
}

fn credentials_hint(command: &str) -> &'static str {
    match command {
        "tke" => "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or run `tccli configure` (use --profile for a named profile); in CI set TKE_ROLE_ARN, TKE_PROVIDER_ID and TKE_WEB_IDENTITY_TOKEN_FILE, on a CVM TENCENTCLOUD_CAM_ROLE_NAME",
        "cce" | "ucs" | "ucs-agent" => "set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or write ~/.huaweicloud/credentials), or OS_AUTH_TOKEN, or OS_USERNAME, OS_PASSWORD and OS_DOMAIN_NAME, or HUAWEICLOUD_SDK_IDP_ID and HUAWEICLOUD_SDK_ID_TOKEN_FILE (OIDC), or KUBEFETCH_HUAWEI_ECS_METADATA=1 on an ECS",
        "ack" => "set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or run `aliyun configure` (use --profile for a named profile), or ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE (OIDC), or ALIBABA_CLOUD_ECS_METADATA=<role> on an ECS",
        _ => "see `kubefetch --help` for where credentials are read from",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_match_the_contract() {
        let all = [
            (ErrorKind::Internal, 1, "internal"),
            (ErrorKind::Usage, 2, "usage"),
            (ErrorKind::Auth, 3, "auth"),
            (ErrorKind::NotFound, 4, "not_found"),
            (ErrorKind::Provider, 5, "provider"),
            (ErrorKind::Kubeconfig, 6, "kubeconfig"),
        ];
        for (kind, code, name) in all {
            assert_eq!(kind.exit_code(), code);
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
        }
    }

    #[test]
    fn render_puts_causes_then_the_hint() {
        let mut f = Failure::new(ErrorKind::Auth, "tke: no credentials")
            .with_hint(Some("set TENCENTCLOUD_SECRET_ID".into()));
        f.causes.push("env: not set".into());
        assert_eq!(
            f.render(),
            "error: tke: no credentials\n  caused by: env: not set\nhint: set TENCENTCLOUD_SECRET_ID"
        );
    }
}
