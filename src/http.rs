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
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
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
    #[error("KUBEFETCH_CA_BUNDLE {path} is not a PEM certificate bundle")]
    CaBundleInvalid {
        path: PathBuf,
        #[source]
        source: reqwest::Error,
    },
    #[error("KUBEFETCH_CA_BUNDLE {path} holds no certificate")]
    CaBundleEmpty { path: PathBuf },
    #[error("cannot set up the HTTP client")]
    Build(#[source] reqwest::Error),
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
    #[error(
        "the provider's answer is larger than {} MiB; refusing it",
        MAX_BODY_BYTES / (1024 * 1024)
    )]
    TooLarge,
}

impl TransportError {
    fn from_reqwest(e: reqwest::Error) -> Self {
        let chain = error_chain(&e);
        if chain.contains("certificate") || chain.contains("tls handshake") {
            TransportError::Tls(e)
        } else if e.is_timeout() {
            TransportError::Timeout(e)
        } else if e.is_connect() {
            TransportError::Connect(e)
        } else {
            TransportError::Other(e)
        }
    }

    /// A failed certificate check or an oversized answer will not change on retry.
    fn retryable(&self) -> bool {
        !matches!(self, TransportError::Tls(_) | TransportError::TooLarge)
    }

    pub fn hint(&self) -> Option<&'static str> {
        match self {
            TransportError::Tls(_) => {
                Some("if a proxy inspects TLS, point KUBEFETCH_CA_BUNDLE at its root certificate")
            }
            TransportError::Timeout(_) => Some("check the network, or raise --timeout"),
            TransportError::Connect(_) => Some("check the network, proxy settings and --endpoint"),
            TransportError::Other(_) => Some("check the network and try again"),
            TransportError::TooLarge => None,
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
    client: reqwest::Client,
    retries: u32,
    limit: Option<Arc<RateLimit>>,
    ui: Ui,
}

impl HttpClient {
    /// `endpoints`: every base URL this client will talk to; when all are
    /// loopback, proxies are bypassed (a local fake must never go through one).
    pub fn new(
        settings: &HttpSettings,
        endpoints: &[&Url],
        limit: Option<RateLimit>,
        ui: Ui,
    ) -> Result<Self, ClientError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("kubefetch/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &settings.ca_bundle {
            let pem = std::fs::read(path).map_err(|source| ClientError::CaBundleUnreadable {
                path: path.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|source| {
                ClientError::CaBundleInvalid {
                    path: path.clone(),
                    source,
                }
            })?;
            if certs.is_empty() {
                return Err(ClientError::CaBundleEmpty { path: path.clone() });
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if !endpoints.is_empty() && endpoints.iter().all(|u| is_loopback(u)) {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(ClientError::Build)?;
        Ok(HttpClient {
            client,
            retries: settings.retries,
            limit: limit.map(Arc::new),
            ui,
        })
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
        let mut builder = self.client.request(request.method, request.url);
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
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}

/// The `Retry-After`-style header value in seconds, if positive.
pub fn retry_after(response: &Response, header: &str) -> Option<Duration> {
    let secs: f64 = response.header(header)?.trim().parse().ok()?;
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
