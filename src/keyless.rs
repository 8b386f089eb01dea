//! What the keyless sources of every provider share (DESIGN.md section 11):
//! OIDC token files, the instance metadata services' endpoints and client,
//! role session names, and the check of an exchange's answer. Each provider
//! module builds its own exchanges from these.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Url;

use crate::credentials::Lookup;
use crate::env::Env;
use crate::error::ErrorKind;
use crate::http::{ClientError, HttpClient};
use crate::provider::error::ApiError;
use crate::secret::Secret;
use crate::settings::{parse_endpoint, HttpSettings, UsageError};
use crate::ui::Ui;

/// How long a metadata service may take to accept a connection, and to
/// answer in all: it is on the host's own link and answers in milliseconds,
/// so a slow one is an absent one (the SDKs give it 1 s and 1 s too).
pub const METADATA_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(2);

/// An OIDC token file named by a variable. It is checked when the chain is
/// resolved (a missing, empty or unreadable file fails before any request)
/// and read again for each exchange, since CI systems rotate it.
#[derive(Debug, Clone)]
pub struct TokenFile {
    pub var: &'static str,
    pub path: PathBuf,
}

/// Larger than any JWT a CI system issues (a few KiB): not a token.
pub const MAX_TOKEN_BYTES: u64 = 64 * 1024;

impl TokenFile {
    /// The file `var` names; `NotHere` when `var` is unset, `Broken` when the
    /// file is missing, a directory, empty, not text or too large.
    pub fn from_env(env: &Env, var: &'static str) -> Lookup<TokenFile> {
        let Some(path) = env.var(var) else {
            return Lookup::NotHere(format!("{var} is not set"));
        };
        let file = TokenFile {
            var,
            path: PathBuf::from(path),
        };
        match file.check() {
            Ok(()) => Lookup::Found(file),
            Err(reason) => Lookup::Broken(reason),
        }
    }

    /// A regular file is read (it can be read again); anything else (a
    /// FIFO, `/dev/stdin`) only looked at, so that its token is still there
    /// for the exchange.
    fn check(&self) -> Result<(), String> {
        let meta = std::fs::metadata(&self.path).map_err(|e| self.unreadable(&e))?;
        if meta.is_dir() {
            return Err(format!(
                "{} (named by {}) is a directory, not an OIDC token file",
                self.path.display(),
                self.var
            ));
        }
        if meta.is_file() {
            self.read()?;
        }
        Ok(())
    }

    /// The token, with one trailing newline stripped (files written with
    /// `echo` have it); never printed.
    pub fn read(&self) -> Result<Secret, String> {
        use std::io::Read;
        let file = std::fs::File::open(&self.path).map_err(|e| self.unreadable(&e))?;
        let mut bytes = Vec::new();
        file.take(MAX_TOKEN_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.unreadable(&e))?;
        if bytes.len() as u64 > MAX_TOKEN_BYTES {
            return Err(self.too_large());
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            format!(
                "the OIDC token file {} named by {} is not text",
                self.path.display(),
                self.var
            )
        })?;
        let token = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        if token.trim().is_empty() {
            return Err(self.empty());
        }
        Ok(Secret::new(token))
    }

    /// The token's `sub` claim, when the file is a regular file holding a
    /// JWT: who the token speaks for, which is not a secret. `None` for a
    /// file that can be read only once, or a token of another shape.
    pub fn subject(&self) -> Option<String> {
        use base64::Engine;
        if !std::fs::metadata(&self.path).ok()?.is_file() {
            return None;
        }
        let token = self.read().ok()?;
        let payload = token.expose().split('.').nth(1)?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        let claims: serde_json::Value = serde_json::from_slice(&json).ok()?;
        claims["sub"].as_str().map(str::to_string)
    }

    fn unreadable(&self, e: &std::io::Error) -> String {
        format!(
            "cannot read the OIDC token file {} named by {}: {e}",
            self.path.display(),
            self.var
        )
    }

    fn empty(&self) -> String {
        format!(
            "the OIDC token file {} named by {} is empty",
            self.path.display(),
            self.var
        )
    }

    fn too_large(&self) -> String {
        format!(
            "the OIDC token file {} named by {} is larger than {} KiB: not a token",
            self.path.display(),
            self.var,
            MAX_TOKEN_BYTES / 1024
        )
    }

    /// The token for an exchange about to be sent; a file that went missing
    /// since the chain was resolved is a credentials failure (exit 3).
    pub fn read_for_exchange(&self) -> Result<Secret, ApiError> {
        self.read().map_err(|reason| {
            ApiError::new(ErrorKind::Auth, reason)
                .hint(format!("check {} and the CI job's OIDC settings", self.var))
        })
    }
}

/// `var`'s value, else `kubefetch-<unix seconds>`: the role session name STS
/// records in the provider's audit log.
pub fn session_name(env: &Env, var: Option<&str>) -> String {
    var.and_then(|name| env.var(name))
        .map(str::to_string)
        .unwrap_or_else(|| format!("kubefetch-{}", env.now().timestamp()))
}

/// An STS or IAM endpoint: `override_var` if set, else `default` (https).
pub fn exchange_endpoint(env: &Env, override_var: &str, default: &str) -> Result<Url, UsageError> {
    match env.var(override_var) {
        Some(url) => parse_endpoint(url, override_var),
        None => parse_endpoint(default, "the default endpoint"),
    }
}

/// A metadata service's base URL: `override_var` if set, else `default`.
/// Plain http is allowed to the default's own host (the providers'
/// link-local addresses) and to loopback, as for every other endpoint.
pub fn metadata_endpoint(env: &Env, override_var: &str, default: &str) -> Result<Url, UsageError> {
    let (text, origin) = match env.var(override_var) {
        Some(url) => (url, override_var),
        None => (default, "the default metadata address"),
    };
    let default_host = Url::parse(default)
        .ok()
        .and_then(|url| url.host_str().map(str::to_string));
    match Url::parse(text) {
        Ok(url)
            if url.scheme() == "http"
                && url.host_str().is_some()
                && url.host_str() == default_host.as_deref() =>
        {
            Ok(url)
        }
        _ => parse_endpoint(text, origin),
    }
}

/// A metadata service's documented path under its base URL, each segment
/// escaped (a role name is one), without any query.
pub fn metadata_url(base: &Url, path: &[&str]) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(path);
    }
    url
}

/// The client for a metadata service: a 1 s connect timeout, 2 s in all
/// (or `--timeout` when shorter) and no retry.
pub fn metadata_client(settings: &HttpSettings, ui: Ui) -> Result<HttpClient, ClientError> {
    let settings = HttpSettings {
        timeout: settings.timeout.min(METADATA_TIMEOUT),
        retries: 0,
        ca_bundle: None,
    };
    HttpClient::with_connect_timeout(&settings, None, ui, METADATA_CONNECT_TIMEOUT)
}

/// A metadata service that did not answer is a credentials failure (exit 3):
/// the variable that asked for it is named, since on a workstation it is
/// most likely set by mistake.
pub fn metadata_failure(error: ApiError, var: &str) -> ApiError {
    if error.kind != ErrorKind::Provider || error.code.is_some() || error.http_status.is_some() {
        return error;
    }
    let mut failure = ApiError::new(
        ErrorKind::Auth,
        format!(
            "the instance metadata service did not answer: {}",
            error.summary
        ),
    )
    .hint(format!(
        "{var} asks for the instance's role: unset it when not running on a cloud host"
    ));
    failure.causes = error.causes;
    failure
}

/// When temporary keys from an exchange end; an answer without an expiry, or
/// with one in the past, is the provider's fault (exit 5) and nothing is used.
pub fn check_expiry(
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    service: &str,
    request_id: Option<String>,
) -> Result<DateTime<Utc>, ApiError> {
    let problem = match expires_at {
        Some(at) if at > now => return Ok(at),
        Some(at) => format!("its expiry {} is already past", at.to_rfc3339()),
        None => "it has no expiry".to_string(),
    };
    Err(ApiError::new(
        ErrorKind::Provider,
        format!("{service} returned unusable temporary credentials: {problem}"),
    )
    .request_id(request_id)
    .hint("nothing was written; check this machine's clock, and retry"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{env_in as env, home_with};

    #[test]
    fn a_token_file_loses_one_trailing_newline_only() {
        let home = home_with(&[
            ("crlf", "a.b.c\r\n"),
            ("lf", "a.b.c\n\n"),
            ("none", "a.b.c"),
        ]);
        for (name, expected) in [("crlf", "a.b.c"), ("lf", "a.b.c\n"), ("none", "a.b.c")] {
            let path = home.path().join(name);
            let e = env(&[("TOKEN_FILE", path.to_str().unwrap())], &home);
            let Lookup::Found(file) = TokenFile::from_env(&e, "TOKEN_FILE") else {
                panic!("{name} not found");
            };
            assert_eq!(file.read().unwrap().expose(), expected, "{name}");
        }
    }

    #[test]
    fn a_missing_empty_or_oversized_token_file_names_the_variable_and_path() {
        let big = "x".repeat(MAX_TOKEN_BYTES as usize + 1);
        let home = home_with(&[
            ("empty", ""),
            ("blank", " \n\n"),
            ("big", &big),
            ("dir/token", "a.b.c"),
        ]);
        for name in ["empty", "blank", "missing", "big", "dir"] {
            let path = home.path().join(name);
            let e = env(&[("TOKEN_FILE", path.to_str().unwrap())], &home);
            let Lookup::Broken(reason) = TokenFile::from_env(&e, "TOKEN_FILE") else {
                panic!("{name} accepted");
            };
            assert!(reason.contains("TOKEN_FILE"), "{reason}");
            assert!(reason.contains(path.to_str().unwrap()), "{reason}");
        }
        let e = env(&[], &home);
        assert!(matches!(
            TokenFile::from_env(&e, "TOKEN_FILE"),
            Lookup::NotHere(_)
        ));
    }

    #[test]
    fn a_jwt_names_its_subject() {
        // {"sub":"repo:org/app:ref:refs/heads/main","exp":1}
        let jwt = "e30.eyJzdWIiOiJyZXBvOm9yZy9hcHA6cmVmOnJlZnMvaGVhZHMvbWFpbiIsImV4cCI6MX0.c2ln";
        let home = home_with(&[("jwt", jwt), ("opaque", "not-a-jwt")]);
        let file = |name: &str| TokenFile {
            var: "TOKEN_FILE",
            path: home.path().join(name),
        };
        assert_eq!(
            file("jwt").subject().as_deref(),
            Some("repo:org/app:ref:refs/heads/main")
        );
        assert_eq!(file("opaque").subject(), None);
    }

    #[test]
    fn a_token_that_can_be_read_once_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("token");
        let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path and mode.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, "a.b.c\n").unwrap())
        };
        let e = env(&[("TOKEN_FILE", fifo.to_str().unwrap())], &home_with(&[]));
        let Lookup::Found(file) = TokenFile::from_env(&e, "TOKEN_FILE") else {
            panic!("a FIFO is found without being read");
        };
        assert_eq!(file.read().unwrap().expose(), "a.b.c");
        writer.join().unwrap();
    }

    #[test]
    fn session_names_default_to_the_unix_time() {
        let home = home_with(&[]);
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let e = env(&[("NAME", "ci-42")], &home).with_now(now);
        assert_eq!(session_name(&e, Some("NAME")), "ci-42");
        assert_eq!(session_name(&e, Some("UNSET")), "kubefetch-1700000000");
        assert_eq!(session_name(&e, None), "kubefetch-1700000000");
    }

    #[test]
    fn metadata_endpoints_allow_plain_http_to_their_own_address_only() {
        let home = home_with(&[]);
        let none = env(&[], &home);
        let url = metadata_endpoint(&none, "OVERRIDE", "http://100.100.100.200").unwrap();
        assert_eq!(url.as_str(), "http://100.100.100.200/");
        let local = env(&[("OVERRIDE", "http://127.0.0.1:9/")], &home);
        metadata_endpoint(&local, "OVERRIDE", "http://100.100.100.200").unwrap();
        let elsewhere = env(&[("OVERRIDE", "http://10.0.0.1/")], &home);
        assert!(metadata_endpoint(&elsewhere, "OVERRIDE", "http://100.100.100.200").is_err());
    }

    #[test]
    fn metadata_paths_follow_the_base_and_escape_each_segment() {
        let base = Url::parse("http://127.0.0.1:9/prefix/?x=1").unwrap();
        assert_eq!(
            metadata_url(&base, &["latest", "meta-data", "role a/b"]).as_str(),
            "http://127.0.0.1:9/prefix/latest/meta-data/role%20a%2Fb"
        );
        let bare = Url::parse("http://100.100.100.200").unwrap();
        assert_eq!(
            metadata_url(&bare, &["latest", "api", "token"]).as_str(),
            "http://100.100.100.200/latest/api/token"
        );
    }

    #[test]
    fn an_expiry_must_lie_ahead() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let later = now + chrono::Duration::seconds(60);
        assert_eq!(check_expiry(Some(later), now, "STS", None).unwrap(), later);
        for bad in [Some(now), None] {
            let e = check_expiry(bad, now, "STS", Some("R".into())).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Provider);
            assert_eq!(e.request_id.as_deref(), Some("R"));
        }
    }

    #[test]
    fn an_unreachable_metadata_service_is_a_credentials_failure_naming_the_variable() {
        let transport = ApiError::new(ErrorKind::Provider, "connection refused");
        let e = metadata_failure(transport, "ALIBABA_CLOUD_ECS_METADATA");
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(e.hint.unwrap().contains("ALIBABA_CLOUD_ECS_METADATA"));
        let answered = ApiError::new(ErrorKind::Provider, "bad").status(500);
        assert_eq!(metadata_failure(answered, "X").kind, ErrorKind::Provider);
    }
}
