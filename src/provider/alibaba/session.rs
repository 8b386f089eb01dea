//! The keys ACK requests are signed with: the ones found, or those a recipe
//! (OIDC, an instance role, a role to assume) is exchanged for, once per
//! run and on first use: every client with the same recipe (a discovery
//! across regions, a fleet, a refresh) shares the exchange.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use reqwest::Url;

use super::credential::{AlibabaCredential, Credential};
use super::{metadata, sts};
use crate::credentials::{shared_exchange, Exchanged};
use crate::env::Env;
use crate::error::ErrorKind;
use crate::http::HttpClient;
use crate::keyless::{self, check_expiry};
use crate::provider::error::ApiError;
use crate::provider::SetupError;
use crate::settings::HttpSettings;
use crate::sign::acs3;
use crate::ui::Ui;

const STS_ENDPOINT_VAR: &str = "KUBEFETCH_ALIBABA_STS_ENDPOINT";
const METADATA_ENDPOINT_VAR: &str = "KUBEFETCH_ALIBABA_METADATA_ENDPOINT";
const STS: &str = "Alibaba Cloud STS";

pub enum Session {
    Keys(AlibabaCredential),
    Exchange(Box<Exchange>),
}

pub struct Exchange {
    recipe: Credential,
    exchanged: Arc<Exchanged<AlibabaCredential>>,
    sts: Url,
    /// The metadata service and its client (1 s to connect, no retry),
    /// only when the recipe asks for the instance's role.
    metadata: Option<(Url, HttpClient)>,
    http: HttpClient,
    env: Arc<Env>,
}

type Exchanging<'a> =
    Pin<Box<dyn Future<Output = Result<AlibabaCredential, ApiError>> + Send + 'a>>;

impl Session {
    /// Checks the endpoints a recipe will use, before any request. `sts_default`
    /// is the STS endpoint of the command's region.
    pub fn new(
        credential: Credential,
        sts_default: &str,
        settings: &HttpSettings,
        http: HttpClient,
        env: Arc<Env>,
        ui: Ui,
    ) -> Result<Session, SetupError> {
        if let Credential::Keys(keys) = credential {
            return Ok(Session::Keys(keys));
        }
        let sts = keyless::exchange_endpoint(&env, STS_ENDPOINT_VAR, sts_default)?;
        if credential.uses_sts() {
            ui.detail(&format!("sts: {sts}"));
        }
        let metadata = if credential.uses_metadata() {
            let url = keyless::metadata_endpoint(
                &env,
                METADATA_ENDPOINT_VAR,
                metadata::DEFAULT_ENDPOINT,
            )?;
            ui.detail(&format!("ecs metadata: {url}"));
            Some((url, keyless::metadata_client(settings, ui)?))
        } else {
            None
        };
        let metadata_url = metadata.as_ref().map(|(url, _)| url.as_str());
        let recipe = format!(
            "{} sts {sts} metadata {metadata_url:?}",
            credential.recipe()
        );
        Ok(Session::Exchange(Box::new(Exchange {
            recipe: credential,
            exchanged: shared_exchange(recipe),
            sts,
            metadata,
            http,
            env,
        })))
    }

    pub fn identity(&self) -> String {
        match self {
            Session::Keys(keys) => keys.identity(),
            Session::Exchange(exchange) => exchange.recipe.identity(),
        }
    }

    /// The keys to sign with, exchanging the recipe if this is the first ask.
    pub async fn keys(&self) -> Result<&AlibabaCredential, ApiError> {
        match self {
            Session::Keys(keys) => Ok(keys),
            Session::Exchange(exchange) => {
                exchange
                    .exchanged
                    .get(|| exchange.exchange(&exchange.recipe))
                    .await
            }
        }
    }
}

impl Exchange {
    /// Keys for `recipe`; a role to assume first gets the keys it is
    /// assumed with (boxed: the recipe nests).
    fn exchange<'a>(&'a self, recipe: &'a Credential) -> Exchanging<'a> {
        Box::pin(async move {
            let (issued, service) = match recipe {
                Credential::Keys(keys) => return Ok(keys.clone()),
                Credential::AssumeRole { from, role } => {
                    let keys = self.exchange(from).await?;
                    let issued = self
                        .http
                        .send(
                            || {
                                sts::assume_role_request(
                                    &self.sts,
                                    &keys,
                                    role,
                                    self.env.now(),
                                    &acs3::new_nonce(),
                                )
                            },
                            |response| sts::judge(response, sts::ASSUME_ROLE, &role.origin),
                        )
                        .await?;
                    (issued, STS)
                }
                Credential::Oidc(oidc) => {
                    let token = oidc.token_file.read_for_exchange()?;
                    let issued = self
                        .http
                        .send(
                            || {
                                sts::oidc_request(
                                    &self.sts,
                                    oidc,
                                    &token,
                                    self.env.now(),
                                    &acs3::new_nonce(),
                                )
                            },
                            |response| {
                                sts::judge(response, sts::ASSUME_ROLE_WITH_OIDC, &oidc.role.origin)
                            },
                        )
                        .await?;
                    (issued, STS)
                }
                Credential::Instance(role) => {
                    let Some((base, client)) = &self.metadata else {
                        return Err(ApiError::new(
                            ErrorKind::Internal,
                            "the ECS metadata client was not set up",
                        ));
                    };
                    let asked = |e: ApiError| keyless::metadata_failure(e, &role.origin);
                    let token = client
                        .send(
                            || metadata::token_request(base),
                            |response| metadata::judge_token(response, role),
                        )
                        .await
                        .map_err(|e| asked(e.into()))?;
                    let issued = client
                        .send(
                            || metadata::credentials_request(base, role, token.as_ref()),
                            |response| metadata::judge_credentials(response, role),
                        )
                        .await
                        .map_err(|e| asked(e.into()))?;
                    (issued, "the ECS metadata service")
                }
            };
            check_expiry(
                issued.expires_at,
                self.env.now(),
                service,
                issued.request_id,
            )?;
            Ok(issued.keys)
        })
    }
}
