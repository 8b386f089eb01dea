//! The categories every failure is sorted into once, at the top, and the
//! exit codes and JSON `kind` names they map to (DESIGN.md sections 2 and 4).

use serde::Serialize;

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
}
