//! What a provider's API said when a fetch failed, already sorted into an
//! [`ErrorKind`]; the provider modules build these from each cloud's shapes.

use std::fmt;
use std::time::Duration;

use crate::error::ErrorKind;
use crate::http::{SendError, TransportError};

/// A provider's judgement of one answer.
pub type Verdict<T> = crate::http::Verdict<T, ApiError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// What failed, in our words ("cluster not found", "credentials rejected").
    pub summary: String,
    /// The provider's error code, e.g. `ResourceNotFound.ClusterNotFound`.
    pub code: Option<String>,
    /// The provider's own message.
    pub message: Option<String>,
    pub request_id: Option<String>,
    pub http_status: Option<u16>,
    /// What to do next.
    pub hint: Option<String>,
    /// Why, below the summary: a transport failure's chain of sources.
    pub causes: Vec<String>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, summary: impl Into<String>) -> Self {
        ApiError {
            kind,
            summary: summary.into(),
            code: None,
            message: None,
            request_id: None,
            http_status: None,
            hint: None,
            causes: Vec::new(),
        }
    }

    pub fn code(mut self, code: Option<String>) -> Self {
        self.code = code;
        self
    }

    pub fn message(mut self, message: Option<String>) -> Self {
        self.message = message;
        self
    }

    pub fn request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    pub fn status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl From<SendError<ApiError>> for ApiError {
    fn from(e: SendError<ApiError>) -> Self {
        match e {
            SendError::Refused { error, attempts } => with_attempts(error, attempts),
            SendError::WaitTooLong { error, wait } => error.hint(waited_too_long(wait)),
            SendError::Transport { error, attempts } => {
                with_attempts(transport_failure(&error), attempts)
            }
        }
    }
}

fn waited_too_long(wait: Duration) -> String {
    format!(
        "the provider asked to wait {} s before retrying; try again later",
        wait.as_secs()
    )
}

/// A transport failure is the provider's side (exit 5); its sources become causes.
fn transport_failure(error: &TransportError) -> ApiError {
    let mut failure = ApiError::new(ErrorKind::Provider, error.to_string());
    failure.hint = error.hint().map(str::to_string);
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !failure.causes.iter().any(|seen| seen.contains(&text)) {
            failure.causes.push(text);
        }
        source = cause.source();
    }
    failure
}

fn with_attempts(mut error: ApiError, attempts: u32) -> ApiError {
    if attempts > 1 {
        error.summary = format!("{} after {attempts} attempts", error.summary);
    }
    error
}

impl fmt::Display for ApiError {
    /// `credentials rejected (AuthFailure.SignatureFailure: bad sig; HTTP 403; request id 1a2b)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)?;
        let mut details = Vec::new();
        match (&self.code, &self.message) {
            (Some(code), Some(message)) => details.push(format!("{code}: {message}")),
            (Some(code), None) => details.push(code.clone()),
            (None, Some(message)) => details.push(message.clone()),
            (None, None) => {}
        }
        if let Some(status) = self.http_status {
            details.push(format!("HTTP {status}"));
        }
        if let Some(id) = &self.request_id {
            details.push(format!("request id {id}"));
        }
        if !details.is_empty() {
            write!(f, " ({})", details.join("; "))?;
        }
        Ok(())
    }
}

/// What is wrong with a JSON answer, never echoing a value of it: serde's
/// own text quotes a wrong-typed value, which can be a key or a token.
pub fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Data => {
            let text = e.to_string();
            match text.split_once(" at line ") {
                Some((missing, _)) if missing.starts_with("missing field") => missing.to_string(),
                _ => "a field has an unexpected type or value".to_string(),
            }
        }
        Category::Syntax => "not valid JSON".to_string(),
        Category::Eof => "cut short".to_string(),
        Category::Io => "unreadable".to_string(),
    };
    format!(
        "not the expected JSON: {what} (line {}, column {})",
        e.line(),
        e.column()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_problems_never_echo_a_value() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Keys {
            secret: u64,
            token: String,
        }
        let wrong =
            serde_json::from_str::<Keys>(r#"{"secret": "s3cr3t", "token": "t"}"#).unwrap_err();
        let shown = json_problem(&wrong);
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("unexpected type"), "{shown}");
        let missing = serde_json::from_str::<Keys>(r#"{"secret": 1}"#).unwrap_err();
        assert_eq!(
            json_problem(&missing),
            "not the expected JSON: missing field `token` (line 1, column 13)"
        );
    }

    #[test]
    fn display_names_code_message_status_and_request_id() {
        let e = ApiError::new(ErrorKind::Auth, "credentials rejected")
            .code(Some("SignatureDoesNotMatch".into()))
            .message(Some("bad signature".into()))
            .request_id(Some("R-1".into()))
            .status(400);
        assert_eq!(
            e.to_string(),
            "credentials rejected (SignatureDoesNotMatch: bad signature; HTTP 400; request id R-1)"
        );
        assert_eq!(ApiError::new(ErrorKind::Provider, "x").to_string(), "x");
    }
}
