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
    /// Only for a recipe that asks STS: an ECS-role-only run never reads it.
    sts: Option<Url>,
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
        let sts = if credential.uses_sts() {
            let url = keyless::exchange_endpoint(&env, STS_ENDPOINT_VAR, sts_default)?;
            ui.detail(&format!("sts: {url}"));
            Some(url)
        } else {
            None
        };
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
        // Not keyed by the endpoints: they vary only by region within a
        // run, and keys from any region's STS serve every region.
        let exchanged = shared_exchange(credential.recipe());
        Ok(Session::Exchange(Box::new(Exchange {
            recipe: credential,
            exchanged,
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
    fn sts(&self) -> Result<&Url, ApiError> {
        self.sts.as_ref().ok_or_else(|| {
            ApiError::new(
                ErrorKind::Internal,
                "no STS endpoint was set up for this recipe",
            )
        })
    }

    /// Keys for `recipe`; a role to assume first gets the keys it is
    /// assumed with (boxed: the recipe nests).
    fn exchange<'a>(&'a self, recipe: &'a Credential) -> Exchanging<'a> {
        Box::pin(async move {
            let (issued, service) = match recipe {
                Credential::Keys(keys) => return Ok(keys.clone()),
                Credential::AssumeRole { from, role } => {
                    let keys = self.exchange(from).await?;
                    let endpoint = self.sts()?;
                    let issued = self
                        .http
                        .send(
                            || {
                                sts::assume_role_request(
                                    endpoint,
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
                    let endpoint = self.sts()?;
                    let token = oidc.token_file.read_for_exchange()?;
                    let issued = self
                        .http
                        .send(
                            || {
                                sts::oidc_request(
                                    endpoint,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyless::TokenFile;
    use crate::provider::alibaba::credential::{OidcRole, RoleToAssume};
    use crate::settings::Verbosity;
    use crate::testing::http_settings;

    fn session(role: &str, sts_default: &str) -> Session {
        let oidc = Credential::Oidc(OidcRole {
            role: RoleToAssume {
                arn: role.to_string(),
                session_name: "s".into(),
                duration_seconds: 3600,
                origin: "ALIBABA_CLOUD_ROLE_ARN".into(),
            },
            provider_arn: "acs:ram::1:oidc-provider/gh".into(),
            token_file: TokenFile {
                var: "T",
                path: "/session-tests/token".into(),
            },
        });
        let ui = Ui::new(Verbosity::Quiet);
        let http = HttpClient::new(&http_settings(), None, ui).unwrap();
        let env = Arc::new(Env::new(Vec::<(String, String)>::new(), None));
        Session::new(oidc, sts_default, &http_settings(), http, env, ui).unwrap()
    }

    fn exchanged(session: &Session) -> &Arc<Exchanged<AlibabaCredential>> {
        match session {
            Session::Exchange(exchange) => &exchange.exchanged,
            Session::Keys(_) => panic!("a recipe became keys"),
        }
    }

    #[test]
    fn clients_in_other_regions_share_the_exchange_of_their_recipe() {
        let role = "acs:ram::1:role/session-tests";
        let hangzhou = session(role, "https://sts.cn-hangzhou.aliyuncs.com");
        let beijing = session(role, "https://sts.cn-beijing.aliyuncs.com");
        assert!(Arc::ptr_eq(exchanged(&hangzhou), exchanged(&beijing)));
        let other = session(
            "acs:ram::1:role/session-tests-2",
            "https://sts.aliyuncs.com",
        );
        assert!(!Arc::ptr_eq(exchanged(&hangzhou), exchanged(&other)));
        assert_eq!(hangzhou.identity(), format!("role {role}"));
    }
}
