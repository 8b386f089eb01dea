//! The one HTTP client: timeouts, retries with exponential backoff and
//! jitter, an optional client-side rate limit, a response size cap, and
//! request logging without secrets.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, Url};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::settings::HttpSettings;
use crate::ui::Ui;

/// No kubeconfig or agent bundle comes near this; a larger answer is hostile or broken.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(8);
/// A server asking us to wait longer than this is treated as a failure now.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// One request, built afresh for every attempt so that signatures, dates
/// and nonces are always new.
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Method, URL without its query and header names only: headers carry
/// signatures and tokens, queries and bodies can carry them too.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &redacted_url(&self.url))
            .field("headers", &names)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A provider's judgement of one answer, with the provider's own error type.
pub enum Verdict<T, E> {
    Done(T),
    /// Worth another attempt (throttled, 5xx); `after` is the server's wish.
    Retry {
        error: E,
        after: Option<Duration>,
    },
    Fail(E),
}

/// Why the client could not be built; nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read KUBEFETCH_CA_BUNDLE {path}")]
    CaBundleUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("KUBEFETCH_CA_BUNDLE {path} is not a usable PEM certificate bundle: {detail}")]
    CaBundleInvalid { path: PathBuf, detail: String },
    #[error("KUBEFETCH_CA_BUNDLE {path} holds no certificate")]
    CaBundleEmpty { path: PathBuf },
    #[error("cannot set up the HTTP client")]
    Build(#[source] reqwest::Error),
}

impl ClientError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ClientError::Build(_) => None,
            _ => Some("point KUBEFETCH_CA_BUNDLE at a PEM file of CA certificates (-----BEGIN CERTIFICATE-----), or unset it"),
        }
    }
}

/// The request did not get a whole answer; the source chain says why.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("TLS verification of the API endpoint failed")]
    Tls(#[source] reqwest::Error),
    #[error("the API request timed out")]
    Timeout(#[source] reqwest::Error),
    #[error("could not connect to the API endpoint")]
    Connect(#[source] reqwest::Error),
    #[error("the API connection failed")]
    Other(#[source] reqwest::Error),
    #[error("the request could not be sent as built")]
    Build(#[source] reqwest::Error),
    #[error(
        "the provider's answer is larger than {} MiB; refusing it",
        MAX_BODY_BYTES / (1024 * 1024)
    )]
    TooLarge,
    #[error("the API endpoint answered with a redirect (HTTP {status}{}), which kubefetch does not follow", .location.as_deref().map(|l| format!(" to {l}")).unwrap_or_default())]
    Redirect {
        status: u16,
        /// Where to, without user info or query.
        location: Option<String>,
    },
}

impl TransportError {
    fn from_reqwest(mut e: reqwest::Error) -> Self {
        // Shown in messages: without the query, which can carry a token
        // (STS AssumeRoleWithOIDC sends the OIDC token there).
        if let Some(url) = e.url_mut() {
            url.set_query(None);
        }
        let chain = error_chain(&e);
        if e.is_builder() {
            TransportError::Build(e)
        } else if chain.contains("certificate") || chain.contains("tls handshake") {
            TransportError::Tls(e)
        } else if e.is_timeout() {
            TransportError::Timeout(e)
        } else if e.is_connect() {
            TransportError::Connect(e)
        } else {
            TransportError::Other(e)
        }
    }

    /// A failed certificate check, a request that cannot be built, an
    /// oversized answer or a redirect will not change on retry.
    fn retryable(&self) -> bool {
        !matches!(
            self,
            TransportError::Tls(_)
                | TransportError::Build(_)
                | TransportError::TooLarge
                | TransportError::Redirect { .. }
        )
    }

    pub fn hint(&self) -> Option<&'static str> {
        match self {
            TransportError::Tls(_) => {
                Some("if a proxy inspects TLS, point KUBEFETCH_CA_BUNDLE at its root certificate")
            }
            TransportError::Timeout(_) => Some("check the network, or raise --timeout"),
            TransportError::Connect(_) => Some("check the network, proxy settings and --endpoint"),
            TransportError::Other(_) => Some("check the network and try again"),
            TransportError::Build(_) => Some(
                "a value in the request is not valid there: check the endpoint variables and the token file",
            ),
            TransportError::TooLarge => None,
            // Following it would resend signed requests and credentials
            // to wherever the answer says.
            TransportError::Redirect { .. } => Some(
                "check --endpoint and the KUBEFETCH_*_ENDPOINT variables: give the API's own https:// address",
            ),
        }
    }
}

/// How `send` ended without a value.
#[derive(Debug)]
pub enum SendError<E> {
    /// The provider's answer was judged a failure, after `attempts` attempts.
    Refused { error: E, attempts: u32 },
    /// The provider asked to wait longer than is reasonable before a retry.
    WaitTooLong { error: E, wait: Duration },
    /// No whole answer arrived, after `attempts` attempts.
    Transport {
        error: TransportError,
        attempts: u32,
    },
}

/// Spaces requests out to at most `per_second`, shared by concurrent fetches.
#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimit {
    pub fn per_second(per_second: u32) -> Self {
        RateLimit {
            interval: Duration::from_secs(1) / per_second.max(1),
            next: Mutex::new(None),
        }
    }

    async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[derive(Clone)]
pub struct HttpClient {
    /// For https:// endpoints: through the environment's proxy, if any
    /// (a CONNECT tunnel: the proxy sees only the host name).
    proxied: reqwest::Client,
    /// For loopback and plain http:// endpoints: never through a proxy,
    /// where credentials would cross a hop in clear.
    direct: reqwest::Client,
    retries: u32,
    limit: Option<Arc<RateLimit>>,
    ui: Ui,
}

impl HttpClient {
    /// `limit` may be shared with other clients: a provider's rate limit
    /// holds for the account, whatever number of clients ask.
    pub fn new(
        settings: &HttpSettings,
        limit: Option<Arc<RateLimit>>,
        ui: Ui,
    ) -> Result<Self, ClientError> {
        let connect_timeout = settings.timeout.min(Duration::from_secs(10));
        HttpClient::with_connect_timeout(settings, limit, ui, connect_timeout)
    }

    /// As [`HttpClient::new`], giving up on a connection after `connect_timeout`.
    pub fn with_connect_timeout(
        settings: &HttpSettings,
        limit: Option<Arc<RateLimit>>,
        ui: Ui,
        connect_timeout: Duration,
    ) -> Result<Self, ClientError> {
        let roots = match &settings.ca_bundle {
            Some(path) => ca_roots(path)?,
            None => Vec::new(),
        };
        let build = |proxy: bool| {
            let mut builder = reqwest::Client::builder()
                .use_rustls_tls()
                .timeout(settings.timeout)
                .connect_timeout(connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("kubefetch/", env!("CARGO_PKG_VERSION")));
            for root in &roots {
                builder = builder.add_root_certificate(root.clone());
            }
            if !proxy {
                builder = builder.no_proxy();
            }
            builder.build().map_err(ClientError::Build)
        };
        Ok(HttpClient {
            proxied: build(true)?,
            direct: build(false)?,
            retries: settings.retries,
            limit,
            ui,
        })
    }

    /// The proxy decision, per request: only https:// to a host that is
    /// not loopback may go through a proxy.
    fn client_for(&self, url: &Url) -> &reqwest::Client {
        if url.scheme() == "https" && !is_loopback(url) {
            &self.proxied
        } else {
            &self.direct
        }
    }

    /// Sends `build()` until `judge` accepts or refuses the answer, retrying
    /// transport failures and `Verdict::Retry` up to the configured count.
    pub async fn send<T, E: std::fmt::Display>(
        &self,
        mut build: impl FnMut() -> Request,
        mut judge: impl FnMut(Response) -> Verdict<T, E>,
    ) -> Result<T, SendError<E>> {
        let mut attempt = 0;
        loop {
            if let Some(limit) = &self.limit {
                limit.wait().await;
            }
            let request = build();
            let label = format!("{} {}", request.method, redacted_url(&request.url));
            let started = Instant::now();
            let attempts = attempt + 1;
            let (failed, after) = match self.attempt(request).await {
                Ok(response) => {
                    self.ui.detail(&format!(
                        "{label} -> {} in {} ms",
                        response.status,
                        started.elapsed().as_millis()
                    ));
                    match judge(response) {
                        Verdict::Done(value) => return Ok(value),
                        Verdict::Fail(error) => return Err(SendError::Refused { error, attempts }),
                        Verdict::Retry {
                            error,
                            after: Some(wait),
                        } if wait > MAX_RETRY_AFTER => {
                            return Err(SendError::WaitTooLong { error, wait })
                        }
                        Verdict::Retry { error, after } => {
                            (SendError::Refused { error, attempts }, after)
                        }
                    }
                }
                Err(error) => {
                    self.ui
                        .detail(&format!("{label} failed: {}", error_chain(&error)));
                    let retryable = error.retryable();
                    let failed = SendError::Transport { error, attempts };
                    if !retryable {
                        return Err(failed);
                    }
                    (failed, None)
                }
            };
            if attempt >= self.retries {
                return Err(failed);
            }
            let delay = after.unwrap_or_else(|| backoff(attempt));
            attempt += 1;
            let reason = match &failed {
                SendError::Refused { error, .. } | SendError::WaitTooLong { error, .. } => {
                    error.to_string()
                }
                SendError::Transport { error, .. } => error.to_string(),
            };
            self.ui.detail(&format!(
                "retry {attempt}/{} in {} ms: {reason}",
                self.retries,
                delay.as_millis()
            ));
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, request: Request) -> Result<Response, TransportError> {
        let mut builder = self
            .client_for(&request.url)
            .request(request.method, request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut response = builder
            .body(request.body)
            .send()
            .await
            .map_err(TransportError::from_reqwest)?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        if (300..400).contains(&status) && status != 304 {
            let location = headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|l| match Url::parse(l) {
                    Ok(url) => redacted_url(&url),
                    Err(_) => crate::ui::redact_userinfo(l).into_owned(),
                });
            return Err(TransportError::Redirect { status, location });
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_BODY_BYTES as u64)
        {
            return Err(TransportError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(TransportError::from_reqwest)?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(TransportError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// The roots of a PEM bundle, each checked to be a readable X.509
/// certificate, so that a bad one is named here rather than failing the
/// client's set-up with "builder error".
fn ca_roots(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, ClientError> {
    let invalid = |detail: String| ClientError::CaBundleInvalid {
        path: path.to_path_buf(),
        detail,
    };
    let pem = std::fs::read(path).map_err(|source| ClientError::CaBundleUnreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let mut roots = Vec::new();
    for (index, block) in x509_parser::pem::Pem::iter_from_buffer(&pem).enumerate() {
        let number = index + 1;
        let block = block.map_err(|e| invalid(format!("PEM block {number}: {e}")))?;
        if block.label != "CERTIFICATE" {
            continue;
        }
        block
            .parse_x509()
            .map_err(|e| invalid(format!("certificate {number} cannot be read: {e}")))?;
        let root = reqwest::Certificate::from_der(&block.contents)
            .map_err(|e| invalid(format!("certificate {number}: {e}")))?;
        roots.push(root);
    }
    if roots.is_empty() {
        return Err(ClientError::CaBundleEmpty {
            path: path.to_path_buf(),
        });
    }
    Ok(roots)
}

/// An error and its sources on one line, without repeating itself.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(e);
    while let Some(err) = current {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = err.source();
    }
    parts.join(": ")
}

/// Exponential backoff with "equal jitter": half fixed, half random, so
/// concurrent fetches that failed together do not retry together.
fn backoff(attempt: u32) -> Duration {
    let full = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_CAP);
    let half = full / 2;
    half + half.mul_f64(random_unit())
}

fn random_unit() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The URL for logs: no userinfo, no query (queries can carry tokens).
fn redacted_url(url: &Url) -> String {
    let mut shown = without_userinfo(url);
    shown.set_query(None);
    shown.to_string()
}

/// The URL without user name and password: how a URL is kept or shown.
pub fn without_userinfo(url: &Url) -> Url {
    let mut bare = url.clone();
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    bare
}

/// The `Retry-After`-style header value in seconds, if positive.
pub fn retry_after(response: &Response, header: &str) -> Option<Duration> {
    let secs: f64 = response.header(header)?.trim().parse().ok()?;
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_transport_error_never_shows_the_query() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let e = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/?OIDCToken=a.secret.jwt"))
            .send()
            .await
            .unwrap_err();
        let shown = error_chain(&TransportError::from_reqwest(e));
        assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[tokio::test]
    async fn a_request_that_cannot_be_built_is_not_retried() {
        let client = HttpClient::new(
            &settings(None),
            None,
            Ui::new(crate::settings::Verbosity::Quiet),
        )
        .unwrap();
        let mut built = 0;
        let sent = client
            .send(
                || {
                    built += 1;
                    Request {
                        method: Method::GET,
                        url: Url::parse("http://127.0.0.1:1/").unwrap(),
                        headers: vec![("X-Token".into(), "line\nbreak".into())],
                        body: Vec::new(),
                    }
                },
                |_| Verdict::<(), String>::Done(()),
            )
            .await;
        match sent {
            Err(SendError::Transport {
                error: TransportError::Build(_),
                attempts: 1,
            }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(built, 1);
    }

    #[test]
    fn a_request_shows_no_header_value_query_or_body() {
        let request = Request {
            method: Method::POST,
            url: Url::parse("https://sts.example/?OIDCToken=a.secret.jwt").unwrap(),
            headers: vec![("X-TC-Token".into(), "session-secret".into())],
            body: b"{\"WebIdentityToken\":\"secret\"}".to_vec(),
        };
        let shown = format!("{request:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("X-TC-Token"), "{shown}");
    }

    #[test]
    fn backoff_grows_and_stays_capped_with_jitter() {
        for attempt in 0..20 {
            let d = backoff(attempt);
            let full = BACKOFF_BASE
                .saturating_mul(1u32 << attempt.min(16))
                .min(BACKOFF_CAP);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn loopback_detection() {
        for (url, expected) in [
            ("http://127.0.0.1:1/", true),
            ("http://localhost/", true),
            ("http://[::1]/", true),
            ("https://tke.tencentcloudapi.com/", false),
            ("http://10.1.1.1/", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(url).unwrap()), expected, "{url}");
        }
    }

    #[test]
    fn logged_urls_drop_queries_and_userinfo() {
        let url = Url::parse("https://u:p@h.example/k8s/c/user_config?token=x").unwrap();
        assert_eq!(redacted_url(&url), "https://h.example/k8s/c/user_config");
    }

    fn settings(ca_bundle: Option<PathBuf>) -> HttpSettings {
        HttpSettings {
            timeout: Duration::from_secs(5),
            retries: 2,
            ca_bundle,
        }
    }

    #[test]
    fn a_ca_bundle_certificate_that_cannot_be_read_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let good = include_str!("kubeconfig/testdata/client-cert.pem");
        let bad = "-----BEGIN CERTIFICATE-----\nMIIBCgKCAQEA\n-----END CERTIFICATE-----\n";
        let path = dir.path().join("bundle.pem");
        std::fs::write(&path, format!("{good}{bad}")).unwrap();
        let err = ca_roots(&path).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("certificate 2 cannot be read"),
            "{message}"
        );
        assert!(err.hint().unwrap().contains("BEGIN CERTIFICATE"));
        let quiet = Ui::new(crate::settings::Verbosity::Quiet);
        assert!(matches!(
            HttpClient::new(&settings(Some(path.clone())), None, quiet),
            Err(ClientError::CaBundleInvalid { .. })
        ));

        std::fs::write(&path, good).unwrap();
        assert_eq!(ca_roots(&path).unwrap().len(), 1);
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        assert!(matches!(
            ca_roots(&path),
            Err(ClientError::CaBundleEmpty { .. })
        ));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_redirect_is_reported_as_one_and_not_retried() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/x", listener.local_addr().unwrap())).unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            stream
                .write_all(
                    b"HTTP/1.1 301 Moved Permanently\r\nlocation: https://u:pw@evil.example/k?token=t\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .unwrap();
            listener.set_nonblocking(true).unwrap();
            // A retry would be a second connection.
            std::thread::sleep(Duration::from_millis(300));
            listener.accept().is_ok()
        });
        let client = HttpClient::new(
            &settings(None),
            None,
            Ui::new(crate::settings::Verbosity::Quiet),
        )
        .unwrap();
        let request = || Request {
            method: Method::GET,
            url: url.clone(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        let result = client
            .send(request, |_| Verdict::<(), String>::Fail("judged".into()))
            .await;
        match result {
            Err(SendError::Transport { error, attempts }) => {
                assert_eq!(attempts, 1);
                let message = error.to_string();
                assert!(
                    message.contains("redirect (HTTP 301 to https://evil.example/k)"),
                    "{message}"
                );
                assert!(!message.contains("pw"), "{message}");
                assert!(error.hint().unwrap().contains("--endpoint"));
            }
            Err(other) => panic!("{other:?}"),
            Ok(()) => panic!("a redirect is not an answer"),
        }
        assert!(!server.join().unwrap(), "a redirect must not be retried");
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn rate_limit_spaces_requests() {
        let limit = RateLimit::per_second(20);
        let start = tokio::time::Instant::now();
        for _ in 0..5 {
            limit.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }
}
