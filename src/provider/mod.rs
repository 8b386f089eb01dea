//! The providers behind one interface: built from a plain [`ProviderConfig`]
//! (region, endpoint, credentials), fetch one cluster's kubeconfig, and hand
//! it on for normalisation.

pub mod alibaba;
pub mod config;
pub mod error;
pub mod huawei;
pub mod tencent;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::Url;

use crate::credentials::CredentialError;
use crate::env::Env;
use crate::error::ErrorKind;
use crate::http::ClientError;
use crate::kubeconfig::model::Kubeconfig;
use crate::kubeconfig::normalize::{normalize, Fetched, NormalizeInput};
use crate::settings::UsageError;
use crate::ui::Ui;

pub use config::{ProviderConfig, ProviderKind, Signature};
use error::ApiError;

/// Why a provider could not be set up: nothing was sent yet.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error(transparent)]
    Http(#[from] ClientError),
}

/// What a provider's API returned for one cluster, before normalisation.
#[derive(Debug)]
pub struct Answer {
    pub kubeconfig_text: String,
    /// The context to take; `None`: the returned current-context.
    pub source_context: Option<String>,
    /// The credential's end when the API states it.
    pub expires_at: Option<DateTime<Utc>>,
    pub request_id: Option<String>,
}

/// A cluster the credentials can see, as a list API names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub cluster_id: String,
    pub name: String,
    /// `None` where the provider has no regions in this sense (UCS without one given).
    pub region: Option<String>,
    /// The provider's own word, unchanged.
    pub state: String,
}

impl Discovered {
    /// Running (TKE, ACK) or available (CCE, UCS): a kubeconfig can be fetched.
    pub fn is_running(&self) -> bool {
        self.state.eq_ignore_ascii_case("running") || self.state.eq_ignore_ascii_case("available")
    }
}

/// Every page of a list API, asked one after another until a page comes
/// back short (or empty) or the total the API states is reached.
/// `ask(page_number, received)` asks one page (numbers from 1; `received`
/// clusters so far, the offset) and gives its clusters and the stated total.
pub async fn every_page<F, Fut>(page_size: usize, mut ask: F) -> Result<Vec<Discovered>, ApiError>
where
    F: FnMut(u64, usize) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<Discovered>, Option<u64>), ApiError>>,
{
    let mut found = Vec::new();
    for page_number in 1.. {
        let (page, total) = ask(page_number, found.len()).await?;
        let received = page.len();
        found.extend(page);
        if received < page_size || total.is_some_and(|total| found.len() as u64 >= total) {
            break;
        }
    }
    Ok(found)
}

enum Api {
    Tke(tencent::Tke),
    Cce(huawei::Cce),
    Ucs(huawei::Ucs),
    Ack(alibaba::Ack),
}

/// One provider, set up from a [`ProviderConfig`] with the credentials the
/// environment gives now.
pub struct Provider {
    config: ProviderConfig,
    api: Api,
}

impl Provider {
    /// Resolves region, endpoint and credentials; refuses options the provider does not take.
    pub fn new(config: ProviderConfig, env: Arc<Env>, ui: Ui) -> Result<Self, SetupError> {
        let api = match config.kind {
            ProviderKind::Tke => Api::Tke(tencent::Tke::new(&config, env, ui)?),
            ProviderKind::Cce => Api::Cce(huawei::Cce::new(&config, env, ui)?),
            ProviderKind::Ucs => Api::Ucs(huawei::Ucs::new(&config, env, ui)?),
            ProviderKind::Ack => Api::Ack(alibaba::Ack::new(&config, env, ui)?),
        };
        Ok(Provider { config, api })
    }

    /// A provider for discovery: as [`Provider::new`], except that ACK
    /// without an explicit region lists every region.
    pub fn for_discovery(
        config: ProviderConfig,
        env: Arc<Env>,
        ui: Ui,
    ) -> Result<Self, SetupError> {
        if config.kind == ProviderKind::Ack && config.region.is_none() {
            let api = Api::Ack(alibaba::Ack::every_region(&config, env, ui)?);
            return Ok(Provider { config, api });
        }
        Provider::new(config, env, ui)
    }

    /// The provider in `region`, for a cluster found by a discovery across
    /// every region: ACK shares the lister's credentials, so a keyless
    /// exchange happens once however many regions are fetched from.
    pub fn in_region(&self, region: &str, env: Arc<Env>, ui: Ui) -> Result<Self, SetupError> {
        let mut config = self.config.clone();
        config.region = Some(region.to_string());
        let api = match &self.api {
            Api::Ack(ack) => Api::Ack(ack.in_region(&config, region, ui)?),
            Api::Tke(_) | Api::Cce(_) | Api::Ucs(_) => return Provider::new(config, env, ui),
        };
        Ok(Provider { config, api })
    }

    /// The prefix of entry names and the `provider` of the provenance.
    pub fn name(&self) -> &'static str {
        self.config.kind.name()
    }

    /// Whether the provider spaces its requests out to a documented rate
    /// (TKE): its fetches wait on it rather than on the network.
    pub fn rate_limited(&self) -> bool {
        matches!(self.api, Api::Tke(_))
    }

    /// The region in use, wherever it came from.
    pub fn region(&self) -> Option<&str> {
        match &self.api {
            Api::Tke(tke) => Some(tke.region()),
            Api::Cce(cce) => Some(cce.region()),
            Api::Ucs(_) => None,
            Api::Ack(ack) => Some(ack.region()),
        }
    }

    /// The API base URL in use.
    pub fn endpoint(&self) -> &Url {
        match &self.api {
            Api::Tke(tke) => tke.endpoint(),
            Api::Cce(cce) => cce.endpoint(),
            Api::Ucs(ucs) => ucs.endpoint(),
            Api::Ack(ack) => ack.endpoint(),
        }
    }

    /// Who the credentials are, never a secret: what tells two identities'
    /// cached credentials apart.
    pub fn identity(&self) -> String {
        match &self.api {
            Api::Tke(tke) => tke.identity(),
            Api::Cce(cce) => cce.identity(),
            Api::Ucs(ucs) => ucs.identity(),
            Api::Ack(ack) => ack.identity(),
        }
    }

    /// The `kubefetch credential` arguments that fetch this cluster again.
    pub fn credential_args(&self, cluster_id: &str) -> Vec<String> {
        self.config.credential_args(cluster_id, self.region())
    }

    /// The exec-credential cache entry of a cluster for these options and credentials.
    pub fn cache_key(&self, cluster_id: &str) -> crate::cache::Key {
        crate::cache::Key::new(
            &self.config,
            cluster_id,
            self.region(),
            self.endpoint(),
            &self.identity(),
        )
    }

    /// Every cluster these credentials can see, following every page.
    pub async fn list_clusters(&self) -> Result<Vec<Discovered>, ApiError> {
        match &self.api {
            Api::Tke(tke) => tke.list().await,
            Api::Cce(cce) => cce.list().await,
            Api::Ucs(ucs) => ucs.list().await,
            Api::Ack(ack) => ack.list().await,
        }
    }

    /// Fetches one cluster and turns the answer into safe entries named `name`.
    pub async fn fetch(
        &self,
        cluster_id: &str,
        name: String,
        now: DateTime<Utc>,
    ) -> Result<(Fetched, Vec<String>), ApiError> {
        let private = self.config.private;
        let answer = match &self.api {
            Api::Tke(tke) => tke.fetch(cluster_id, private).await?,
            Api::Cce(cce) => cce.fetch(cluster_id, private).await?,
            Api::Ucs(ucs) => ucs.fetch(cluster_id, private).await?,
            Api::Ack(ack) => ack.fetch(cluster_id, private).await?,
        };
        let fetched = finish(
            answer,
            NormalizeInput {
                source_context: None,
                name,
                allow_insecure: self.config.insecure,
                provenance: self.config.provenance(cluster_id, self.region(), now),
            },
        )?;
        let warnings = match &self.api {
            Api::Tke(_) => {
                tencent::unresolvable_server_warning(&fetched.server, cluster_id, private)
                    .await
                    .into_iter()
                    .collect()
            }
            // CCE and UCS answer for a missing endpoint by omitting its context.
            Api::Cce(_) | Api::Ucs(_) | Api::Ack(_) => Vec::new(),
        };
        Ok((fetched, warnings))
    }
}

/// Parses and normalises an answer; anything refused is the provider's
/// fault (exit 5) and nothing of it is written.
fn finish(answer: Answer, mut input: NormalizeInput) -> Result<Fetched, ApiError> {
    let unusable = |detail: String| {
        ApiError::new(
            ErrorKind::Provider,
            "the provider returned an unusable kubeconfig",
        )
        .message(Some(detail))
        .request_id(answer.request_id.clone())
        .hint(
            "nothing was written; if this persists, check --endpoint and report it to the provider",
        )
    };
    let raw = Kubeconfig::parse(&answer.kubeconfig_text).map_err(|e| unusable(e.to_string()))?;
    if input.source_context.is_none() {
        input.source_context = answer.source_context.clone();
    }
    input.provenance.expires_at = answer.expires_at;
    normalize(&raw, input).map_err(|e| unusable(e.to_string()))
}

/// The Host header exactly as reqwest sends it (port only when not the default).
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(n: usize) -> Discovered {
        Discovered {
            cluster_id: format!("c{n}"),
            name: format!("c{n}"),
            region: None,
            state: "running".into(),
        }
    }

    /// Asks `pages` in turn, recording what each ask was given.
    async fn paged(
        page_size: usize,
        pages: Vec<(usize, Option<u64>)>,
    ) -> (usize, Vec<(u64, usize)>) {
        let asked = std::sync::Mutex::new(Vec::new());
        let found = every_page(page_size, |number, received| {
            asked.lock().unwrap().push((number, received));
            let (len, total) = pages[number as usize - 1];
            async move { Ok(((received..received + len).map(cluster).collect(), total)) }
        })
        .await
        .unwrap();
        (found.len(), asked.into_inner().unwrap())
    }

    #[tokio::test]
    async fn paging_stops_at_a_short_page_or_the_stated_total() {
        let (found, asked) = paged(2, vec![(2, None), (2, None), (1, None)]).await;
        assert_eq!((found, asked), (5, vec![(1, 0), (2, 2), (3, 4)]));
        let (found, asked) = paged(2, vec![(2, Some(4)), (2, Some(4))]).await;
        assert_eq!(
            (found, asked.len()),
            (4, 2),
            "a full last page ends at the total"
        );
        let (found, asked) = paged(2, vec![(2, None), (0, None)]).await;
        assert_eq!((found, asked.len()), (2, 2), "an empty page ends it");
    }

    #[test]
    fn host_header_has_the_port_only_when_it_is_not_the_default() {
        let h = |u: &str| host_header(&Url::parse(u).unwrap());
        assert_eq!(
            h("https://tke.tencentcloudapi.com/"),
            "tke.tencentcloudapi.com"
        );
        assert_eq!(
            h("https://tke.tencentcloudapi.com:443/"),
            "tke.tencentcloudapi.com"
        );
        assert_eq!(h("http://127.0.0.1:8443/"), "127.0.0.1:8443");
        assert_eq!(h("http://[::1]:80/"), "[::1]");
    }
}
