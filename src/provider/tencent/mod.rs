//! Tencent Cloud TKE: DescribeClusterKubeconfig, TC3-signed.

pub mod api;
pub mod call;
pub mod credential;
pub mod exchange;
pub mod metadata;
pub mod sts;

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::credentials::Found;
use crate::env::Env;
use crate::error::ErrorKind;
use crate::http::{HttpClient, RateLimit, Request};
use crate::provider::error::ApiError;
use crate::provider::{every_page, Answer, Discovered, ProviderConfig, SetupError};
use crate::settings::UsageError;
use crate::ui::Ui;

use call::Call;
use credential::TencentCredential;
use exchange::Exchange;

/// TKE's documented limit for this action, shared by all concurrent fetches.
const REQUESTS_PER_SECOND: u32 = 20;

/// One limiter for every TKE client of the process: a fleet sets up a
/// provider per distinct options, and TKE counts the account's requests.
fn shared_limit() -> Arc<RateLimit> {
    static LIMIT: std::sync::OnceLock<Arc<RateLimit>> = std::sync::OnceLock::new();
    Arc::clone(LIMIT.get_or_init(|| Arc::new(RateLimit::per_second(REQUESTS_PER_SECOND))))
}

pub struct Tke {
    endpoint: Url,
    region: String,
    credentials: Exchange,
    http: HttpClient,
    env: Arc<Env>,
}

impl Tke {
    pub fn new(config: &ProviderConfig, env: Arc<Env>, ui: Ui) -> Result<Self, SetupError> {
        if let Some(ttl) = config.ttl_minutes {
            return Err(UsageError::new(format!(
                "tke does not support --ttl ({}): TKE issues client certificates valid for 20 years",
                crate::settings::format_minutes(ttl)
            ))
            .with_hint("drop --ttl; revoke a TKE credential in the console instead")
            .into());
        }
        let region = config
            .region
            .clone()
            .or_else(|| env.var("TENCENTCLOUD_REGION").map(str::to_string))
            .or_else(|| credential::profile_region(&env, config.profile.as_deref()))
            .ok_or_else(|| {
                UsageError::new("no region for tke")
                    .with_hint("pass --region (e.g. ap-guangzhou), set TENCENTCLOUD_REGION, or set one in the tccli profile")
            })?;
        validate_region(&region)?;
        let endpoint = config.endpoint_or(&env, &default_endpoint(&region))?;
        let Found { value, source } = credential::load(&env, config.profile.as_deref())?;
        ui.detail(&format!("credentials: {source}"));
        ui.detail(&format!("tke: region {region}, endpoint {endpoint}"));
        let http = HttpClient::new(&config.http, Some(shared_limit()), ui)?;
        let credentials = Exchange::new(value, &region, &config.http, Arc::clone(&env), ui)?;
        Ok(Tke {
            endpoint,
            region,
            credentials,
            http,
            env,
        })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// Who asks: the role acted as, else the SecretId (never a secret).
    pub fn identity(&self) -> String {
        self.credentials.identity()
    }

    pub async fn fetch(&self, cluster_id: &str, private: bool) -> Result<Answer, ApiError> {
        let body = encode(&api::DescribeClusterKubeconfig {
            cluster_id,
            is_extranet: !private,
        })?;
        let keys = self.credentials.keys().await?;
        let answer = self
            .http
            .send(
                || self.request(keys, api::ACTION, &body),
                |response| api::judge(response, cluster_id, &self.region),
            )
            .await?;
        Ok(Answer {
            kubeconfig_text: answer.text,
            source_context: None,
            expires_at: None,
            request_id: answer.request_id,
        })
    }

    /// `DescribeClusters` in the region, every page (Offset/Limit, 100 a page).
    pub async fn list(&self) -> Result<Vec<Discovered>, ApiError> {
        let keys = self.credentials.keys().await?;
        every_page(api::PAGE_SIZE as usize, |_, received| async move {
            let body = encode(&api::DescribeClusters {
                offset: received as u64,
                limit: api::PAGE_SIZE,
            })?;
            let page = self
                .http
                .send(
                    || self.request(keys, api::LIST_ACTION, &body),
                    |response| api::judge_clusters(response, &self.region),
                )
                .await?;
            let clusters = page
                .clusters
                .into_iter()
                .map(|(id, name, state)| Discovered {
                    cluster_id: id,
                    name,
                    region: Some(self.region.clone()),
                    state,
                })
                .collect();
            Ok((clusters, Some(page.total)))
        })
        .await
    }

    fn request(&self, keys: &TencentCredential, action: &str, body: &[u8]) -> Request {
        Call {
            endpoint: &self.endpoint,
            service: api::SERVICE,
            version: api::VERSION,
            action,
            region: &self.region,
            body,
            timestamp: self.env.now().timestamp(),
        }
        .signed(keys)
    }
}

fn encode(body: &impl serde::Serialize) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(body).map_err(|e| {
        ApiError::new(
            ErrorKind::Internal,
            format!("cannot encode the request: {e}"),
        )
    })
}

/// The SDK's default host, except finance regions, which are isolated.
fn default_endpoint(region: &str) -> String {
    if region.ends_with("-fsi") {
        format!("https://tke.{region}.tencentcloudapi.com")
    } else {
        "https://tke.tencentcloudapi.com".to_string()
    }
}

fn validate_region(region: &str) -> Result<(), UsageError> {
    if !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Ok(())
    } else {
        Err(
            UsageError::new(format!("invalid region '{}'", region.escape_debug()))
                .with_hint("regions look like ap-guangzhou or na-siliconvalley"),
        )
    }
}

/// TKE answers even when the requested access type is disabled, with a
/// default domain that does not resolve; say so instead of writing a dead
/// context silently.
pub async fn unresolvable_server_warning(
    server: &str,
    cluster_id: &str,
    private: bool,
) -> Option<String> {
    let url = Url::parse(server).ok()?;
    let Some(url::Host::Domain(host)) = url.host() else {
        return None;
    };
    if host.eq_ignore_ascii_case("localhost") {
        return None;
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::net::lookup_host((host.to_string(), port));
    let resolves = match tokio::time::timeout(Duration::from_secs(2), lookup).await {
        Ok(Ok(mut addrs)) => addrs.next().is_some(),
        _ => false,
    };
    if resolves {
        return None;
    }
    let (access, flag) = if private {
        (
            "private (intranet)",
            "drop --private to use the public endpoint",
        )
    } else {
        (
            "public (extranet)",
            "use --private for the intranet endpoint",
        )
    };
    Some(format!(
        "server {server} of {cluster_id} does not resolve: {access} access is probably not enabled on this cluster; enable it in the TKE console, or {flag}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finance_regions_get_their_own_host() {
        assert_eq!(
            default_endpoint("ap-guangzhou"),
            "https://tke.tencentcloudapi.com"
        );
        assert_eq!(
            default_endpoint("ap-shanghai-fsi"),
            "https://tke.ap-shanghai-fsi.tencentcloudapi.com"
        );
    }

    #[test]
    fn regions_are_checked() {
        validate_region("ap-guangzhou").unwrap();
        for bad in ["", "ap guangzhou", "AP/x", "../x"] {
            assert!(validate_region(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn ip_and_localhost_servers_are_not_looked_up() {
        assert!(
            unresolvable_server_warning("https://127.0.0.1:6443", "c", false)
                .await
                .is_none()
        );
        assert!(
            unresolvable_server_warning("https://localhost:6443", "c", false)
                .await
                .is_none()
        );
        let w =
            unresolvable_server_warning("https://cls-x.ccs.tencent-cloud.invalid", "cls-x", false)
                .await
                .unwrap();
        assert!(w.contains("--private"), "{w}");
    }
}
