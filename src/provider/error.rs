//! What a provider's API said when a fetch failed, already sorted into an
//! [`ErrorKind`]; the provider modules build these from each cloud's shapes.

use std::fmt;

use crate::error::ErrorKind;

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

#[cfg(test)]
mod tests {
    use super::*;

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
