//! Which of the contexts CCE and UCS return to take. Both return the same
//! shape: `internal` (VPC address), `external` (public address, TLS not
//! verified) and, where the certificate covers the public address,
//! `externalTLSVerify`. Their `current-context` prefers the insecure one,
//! so it is never followed.

use crate::error::ErrorKind;
use crate::kubeconfig::model::Kubeconfig;
use crate::provider::error::ApiError;

const INTERNAL: &str = "internal";
const EXTERNAL: &str = "external";
const EXTERNAL_VERIFIED: &str = "externalTLSVerify";

/// The context name to normalise: `--private` -> `internal`; default ->
/// `externalTLSVerify`; `--insecure-skip-tls-verify` -> `external` (else
/// the verified one). A cluster without the requested endpoint is an error
/// that names the flag that would work.
pub fn choose(
    kubeconfig_text: &str,
    private: bool,
    allow_insecure: bool,
    cluster_id: &str,
) -> Result<String, ApiError> {
    let wanted = match (private, allow_insecure) {
        (true, _) => INTERNAL,
        (false, true) => EXTERNAL,
        (false, false) => EXTERNAL_VERIFIED,
    };
    // An answer that does not parse is refused later with the parser's reason.
    let Ok(config) = Kubeconfig::parse(kubeconfig_text) else {
        return Ok(wanted.to_string());
    };
    // No contexts at all is a broken answer, not a cluster without an endpoint:
    // normalisation refuses it as the provider's fault.
    if config.contexts.is_empty() {
        return Ok(wanted.to_string());
    }
    let has = |name: &str| config.contexts.iter().any(|c| c.name == name);
    if has(wanted) {
        return Ok(wanted.to_string());
    }
    if !private && allow_insecure && has(EXTERNAL_VERIFIED) {
        return Ok(EXTERNAL_VERIFIED.to_string());
    }
    let missing = |what: &str, hint: &str| {
        ApiError::new(
            ErrorKind::Usage,
            format!("cluster {cluster_id} has no {what}"),
        )
        .hint(hint)
    };
    Err(match (private, has(EXTERNAL), has(INTERNAL)) {
        (true, _, _) => missing(
            "internal endpoint in its kubeconfig",
            "drop --private to use the public endpoint",
        ),
        (false, true, true) => missing(
            "TLS-verified public endpoint",
            "pass --insecure-skip-tls-verify to accept its public endpoint without TLS verification, or --private for its internal endpoint",
        ),
        (false, true, false) => missing(
            "TLS-verified public endpoint",
            "pass --insecure-skip-tls-verify to accept its public endpoint without TLS verification",
        ),
        (false, false, _) => missing(
            "public endpoint (no EIP is bound)",
            "use --private for its internal endpoint, or bind an EIP to the cluster",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4d5e6f70-1a2b-11ee-8c90-0255ac100001";

    fn answer(contexts: &[&str]) -> String {
        let contexts: Vec<String> = contexts
            .iter()
            .map(|name| format!(r#"{{"name":"{name}","context":{{"cluster":"c","user":"user"}}}}"#))
            .collect();
        format!(
            r#"{{"kind":"Config","apiVersion":"v1","clusters":[],"users":[],"contexts":[{}],"current-context":"external"}}"#,
            contexts.join(",")
        )
    }

    #[test]
    fn each_flag_picks_its_context() {
        let all = answer(&["internal", "external", "externalTLSVerify"]);
        assert_eq!(choose(&all, false, false, ID).unwrap(), "externalTLSVerify");
        assert_eq!(choose(&all, true, false, ID).unwrap(), "internal");
        assert_eq!(choose(&all, true, true, ID).unwrap(), "internal");
        assert_eq!(choose(&all, false, true, ID).unwrap(), "external");
        let verified_only = answer(&["internal", "externalTLSVerify"]);
        assert_eq!(
            choose(&verified_only, false, true, ID).unwrap(),
            "externalTLSVerify"
        );
    }

    #[test]
    fn an_insecure_public_endpoint_is_never_the_default() {
        let err = choose(&answer(&["internal", "external"]), false, false, ID).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Usage);
        let hint = err.hint.unwrap();
        assert!(
            hint.contains("--insecure-skip-tls-verify") && hint.contains("--private"),
            "{hint}"
        );
    }

    #[test]
    fn a_private_only_cluster_points_at_private() {
        let err = choose(&answer(&["internal"]), false, false, ID).unwrap_err();
        assert!(
            err.summary.contains("no public endpoint"),
            "{}",
            err.summary
        );
        assert!(err.hint.unwrap().contains("--private"));
        let err = choose(&answer(&["internal"]), false, true, ID).unwrap_err();
        assert!(err.hint.unwrap().contains("--private"));
    }

    #[test]
    fn private_without_an_internal_context_says_so() {
        let err = choose(&answer(&["externalTLSVerify"]), true, false, ID).unwrap_err();
        assert!(err.summary.contains("no internal endpoint"));
        assert!(err.hint.unwrap().contains("drop --private"));
    }

    #[test]
    fn answers_without_contexts_are_left_to_normalisation() {
        let empty = r#"{"kind":"Config","apiVersion":"v1","preferences":{}}"#;
        assert_eq!(
            choose(empty, false, false, ID).unwrap(),
            "externalTLSVerify"
        );
        assert_eq!(choose(empty, true, false, ID).unwrap(), "internal");
    }

    #[test]
    fn unparsable_answers_are_left_to_normalisation() {
        assert_eq!(
            choose("{not json", false, false, ID).unwrap(),
            "externalTLSVerify"
        );
    }
}
