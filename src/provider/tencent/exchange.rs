//! What the chain found, made into keys to sign with: ready keys as they
//! are; an OIDC token, the CVM's role and a role to assume through STS and
//! the metadata service, once per run and before the first TKE request
//! (DESIGN.md section 11). STS and the metadata service have clients of
//! their own: TKE's rate limit is not spent on them.

use std::sync::Arc;

use reqwest::Url;

use crate::credentials::{shared_exchange, Exchanged};
use crate::env::Env;
use crate::http::HttpClient;
use crate::keyless::{exchange_endpoint, metadata_client, metadata_endpoint};
use crate::provider::error::ApiError;
use crate::provider::SetupError;
use crate::settings::HttpSettings;
use crate::ui::Ui;

use super::credential::{Origin, TencentCredential, TencentSource};
use super::metadata;
use super::sts::{self, Sts};

pub struct Exchange {
    source: TencentSource,
    /// The command's region: STS's too, unless `TKE_REGION` says otherwise.
    region: String,
    sts: Option<(Url, HttpClient)>,
    metadata: Option<(Url, HttpClient)>,
    env: Arc<Env>,
    keys: Arc<Exchanged<TencentCredential>>,
}

impl Exchange {
    /// Resolves the endpoints the source needs; nothing is sent yet.
    pub fn new(
        source: TencentSource,
        region: &str,
        settings: &HttpSettings,
        env: Arc<Env>,
        ui: Ui,
    ) -> Result<Self, SetupError> {
        let needs_sts = source.assume.is_some() || matches!(source.origin, Origin::WebIdentity(_));
        let sts = if needs_sts {
            let url = exchange_endpoint(&env, sts::ENDPOINT_VAR, sts::DEFAULT_ENDPOINT)?;
            ui.detail(&format!("tencent sts: endpoint {url}"));
            Some((url, HttpClient::new(settings, None, ui)?))
        } else {
            None
        };
        let metadata = if matches!(source.origin, Origin::CvmRole(_)) {
            let url = metadata_endpoint(&env, metadata::ENDPOINT_VAR, metadata::DEFAULT_ENDPOINT)?;
            ui.detail(&format!("cvm metadata: endpoint {url}"));
            Some((url, metadata_client(settings, ui)?))
        } else {
            None
        };
        let recipe = recipe(&source, [&sts, &metadata]);
        Ok(Exchange {
            source,
            region: region.to_string(),
            sts,
            metadata,
            env,
            keys: shared_exchange(recipe),
        })
    }

    /// Who asks, never a secret: the role acted as, else the SecretId.
    pub fn identity(&self) -> String {
        self.source.identity()
    }

    /// The keys to sign TKE requests with, exchanged on first use.
    pub async fn keys(&self) -> Result<&TencentCredential, ApiError> {
        if let (Origin::Keys(keys), None) = (&self.source.origin, &self.source.assume) {
            return Ok(keys);
        }
        self.keys.get(|| self.exchange()).await
    }

    async fn exchange(&self) -> Result<TencentCredential, ApiError> {
        let found = match &self.source.origin {
            Origin::Keys(keys) => keys.clone(),
            Origin::WebIdentity(web) => {
                self.sts()
                    .assume_role_with_web_identity(web, self.sts_region())
                    .await?
            }
            Origin::CvmRole(role) => {
                let (url, http) = self
                    .metadata
                    .as_ref()
                    .expect("a metadata client for a CVM role");
                metadata::role_credentials(url, http, role, self.env.now()).await?
            }
        };
        match &self.source.assume {
            Some(role) => {
                self.sts()
                    .assume_role(&found, role, self.sts_region())
                    .await
            }
            None => Ok(found),
        }
    }

    /// `TKE_REGION` (read with the OIDC variables), else the command's region.
    fn sts_region(&self) -> &str {
        match &self.source.origin {
            Origin::WebIdentity(web) => web.region.as_deref().unwrap_or(&self.region),
            _ => &self.region,
        }
    }

    fn sts(&self) -> Sts<'_> {
        let (endpoint, http) = self.sts.as_ref().expect("an STS client for an exchange");
        Sts {
            endpoint,
            http,
            env: &self.env,
        }
    }
}

/// Everything that decides what an exchange gives (never a secret): two
/// clients with the same recipe share one exchange.
fn recipe(source: &TencentSource, endpoints: [&Option<(Url, HttpClient)>; 2]) -> String {
    let origin = match &source.origin {
        Origin::Keys(keys) => format!("keys {}", keys.secret_id),
        Origin::WebIdentity(web) => format!(
            "oidc {} {} {} {:?}",
            web.role_arn,
            web.provider_id,
            web.token_file.path.display(),
            web.region
        ),
        Origin::CvmRole(role) => format!("cvm-role {role}"),
    };
    let assume = source
        .assume
        .as_ref()
        .map(|role| format!("assume {} {:?}", role.role_arn, role.session_name));
    let endpoints = endpoints.map(|e| e.as_ref().map(|(url, _)| url.to_string()));
    format!("{origin} {assume:?} {endpoints:?}")
}
