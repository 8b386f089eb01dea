//! Huawei Cloud and Open Telekom Cloud: CCE cluster certificates, UCS
//! cluster kubeconfigs and the one-time UCS agent bundle, with AK/SK
//! signatures, IAM tokens or a password exchanged at IAM.

pub mod agent;
pub mod api;
pub mod auth;
pub mod context;
pub mod credential;
pub mod endpoints;
pub mod iam;
pub mod temporary;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::credentials::{shared_exchange, Exchanged, Found};
use crate::env::Env;
use crate::error::ErrorKind;
use crate::http::{HttpClient, Request};
use crate::keyless;
use crate::provider::error::ApiError;
use crate::provider::{every_page, Answer, Discovered, ProviderConfig, SetupError};
use crate::settings::{format_minutes, HttpSettings, UsageError};
use crate::ui::Ui;
use reqwest::{Method, Url};

use api::{CertAnswer, CertDuration, Subject};
use auth::{url_with, Authorizer, Unsigned};
use credential::HuaweiCredential;
use iam::{Grant, Iam, TokenScope};
use temporary::Metadata;

const MINUTES_PER_DAY: u64 = 24 * 60;
/// CCE's documented maximum certificate lifetimes in days.
const HUAWEI_MAX_DAYS: u64 = 1827;
const OTC_MAX_DAYS: u64 = 1825;

/// What a session's credentials are scoped to.
#[derive(Debug, Clone)]
enum Scope {
    /// A regional project (CCE): `X-Project-Id`.
    Project {
        region: String,
        project_id: Option<String>,
    },
    /// The account (UCS): `X-Domain-Id` with AK/SK.
    Global,
}

/// Credentials made ready to send: a signer or a token, and the scope header.
#[derive(Debug)]
struct Session {
    auth: Authorizer,
    scope_header: Option<(&'static str, String)>,
    credential_hint: &'static str,
}

impl Session {
    fn request(&self, method: Method, url: &Url, body: &[u8], env: &Env) -> Request {
        let headers = self
            .scope_header
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect();
        self.auth.authorize(
            Unsigned {
                method,
                url,
                headers,
                body,
            },
            env.now(),
        )
    }
}

/// One service endpoint with its credentials; IAM is asked at most once
/// per command, and a refusal is remembered so that several cluster ids
/// never repeat a wrong password (accounts lock after a few).
struct Client {
    endpoint: Url,
    iam_endpoint: Url,
    credential: HuaweiCredential,
    scope: Scope,
    http: HttpClient,
    env: Arc<Env>,
    ui: Ui,
    /// The ECS metadata service and its client, when the credential asks it.
    metadata: Option<(Url, HttpClient)>,
    session: Exchanged<Session>,
}

/// Where a client talks to and with what, before any request.
struct ClientSetup<'a> {
    endpoint: Url,
    iam_endpoint: Url,
    scope: Scope,
    http: &'a HttpSettings,
    env: Arc<Env>,
    ui: Ui,
    label: &'static str,
}

impl Client {
    fn new(setup: ClientSetup<'_>) -> Result<Self, SetupError> {
        let credential_scope = match setup.scope {
            Scope::Project { .. } => credential::Scope::Project,
            Scope::Global => credential::Scope::Global,
        };
        let Found { value, source } = credential::load(&setup.env, credential_scope)?;
        setup.ui.detail(&format!("credentials: {source}"));
        setup.ui.detail(&format!(
            "{}: endpoint {}, IAM {}",
            setup.label, setup.endpoint, setup.iam_endpoint
        ));
        let http = HttpClient::new(setup.http, None, setup.ui)?;
        let metadata = if value.uses_metadata() {
            let base = keyless::metadata_endpoint(
                &setup.env,
                temporary::METADATA_ENDPOINT_VAR,
                temporary::METADATA_DEFAULT,
            )?;
            Some((base, keyless::metadata_client(setup.http, setup.ui)?))
        } else {
            None
        };
        Ok(Client {
            endpoint: setup.endpoint,
            iam_endpoint: setup.iam_endpoint,
            credential: value,
            scope: setup.scope,
            http,
            env: setup.env,
            ui: setup.ui,
            metadata,
            session: Exchanged::default(),
        })
    }

    /// Who asks, never a secret: the AK, the IAM user, or for a bare token
    /// a digest of it (a token names no user kubefetch could read offline);
    /// for an exchange, what it is exchanged for (the agency, the identity
    /// provider, the ECS's agency), not the keys it starts from.
    fn identity(&self) -> String {
        identity_of(&self.credential)
    }

    /// Everything that decides what exchanging `credential` gives, never a
    /// secret: the key under which one exchange serves the whole process.
    /// Every regional IAM of a cloud issues keys valid in all its regions,
    /// so the region is left out; the ECS metadata service asks no IAM.
    fn recipe(&self, credential: &HuaweiCredential) -> String {
        match credential {
            HuaweiCredential::Agency { with, .. } => format!(
                "huawei {} at IAM {} with {}",
                identity_of(credential),
                iam_realm(&self.iam_endpoint),
                self.recipe(with)
            ),
            HuaweiCredential::Oidc { .. } => format!(
                "huawei {} at IAM {}",
                identity_of(credential),
                iam_realm(&self.iam_endpoint)
            ),
            HuaweiCredential::EcsMetadata => {
                let metadata = self.metadata.as_ref().map(|(url, _)| url.as_str());
                format!("huawei ecs-metadata at {}", metadata.unwrap_or("-"))
            }
            other => format!("huawei {}", identity_of(other)),
        }
    }

    async fn session(&self) -> Result<&Session, ApiError> {
        self.session.get(|| self.open_session()).await
    }

    /// The credential made ready (exchanged if it is a recipe), then its scope.
    async fn open_session(&self) -> Result<Session, ApiError> {
        let iam = Iam {
            endpoint: &self.iam_endpoint,
            http: &self.http,
            env: &self.env,
        };
        let keys = self.keys(&self.credential, &iam, false).await?;
        let scope_header = match (&keys.auth, &self.scope) {
            (_, Scope::Project { region, .. }) => {
                let known = self.explicit_project_id().or(keys.project_id);
                let id = match known {
                    Some(id) => id,
                    None => iam.project_id(&keys.auth, region, keys.hint).await?,
                };
                Some(("X-Project-Id", id))
            }
            (Authorizer::AkSk { .. }, Scope::Global) => {
                let known = self
                    .env
                    .var("HUAWEICLOUD_SDK_DOMAIN_ID")
                    .map(str::to_string)
                    .or(keys.domain_id);
                let id = match known {
                    Some(id) => id,
                    None => iam.domain_id(&keys.auth, keys.hint).await?,
                };
                Some(("X-Domain-Id", id))
            }
            (Authorizer::Token(_), Scope::Global) => None,
        };
        if let Some((name, value)) = &scope_header {
            self.ui.detail(&format!("{name}: {value}"));
        }
        Ok(Session {
            auth: keys.auth,
            scope_header,
            credential_hint: keys.hint,
        })
    }

    /// `--project-id`, else `HUAWEICLOUD_SDK_PROJECT_ID`.
    fn explicit_project_id(&self) -> Option<String> {
        match &self.scope {
            Scope::Project { project_id, .. } => project_id.clone().or_else(|| {
                self.env
                    .var("HUAWEICLOUD_SDK_PROJECT_ID")
                    .map(str::to_string)
            }),
            Scope::Global => None,
        }
    }

    /// What to send for `credential`: keys to sign with or a token, after
    /// whatever exchange it needs. A password that is only the first step to
    /// an agency gets an account token, whatever the command's scope.
    fn keys<'a>(
        &'a self,
        credential: &'a HuaweiCredential,
        iam: &'a Iam<'a>,
        for_agency: bool,
    ) -> Pin<Box<dyn Future<Output = Result<Keys, ApiError>> + Send + 'a>> {
        Box::pin(async move {
            let keys = match credential {
                HuaweiCredential::AkSk(keys) => Keys {
                    auth: Authorizer::AkSk {
                        ak: keys.ak.clone(),
                        sk: keys.sk.clone(),
                        security_token: keys.security_token.clone(),
                    },
                    project_id: keys.project_id.clone(),
                    domain_id: keys.domain_id.clone(),
                    hint: "check HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or ~/.huaweicloud/credentials), and this machine's clock",
                },
                HuaweiCredential::Token(token) => Keys::new(
                    Authorizer::Token(token.clone()),
                    "the token (OS_AUTH_TOKEN) is invalid or expired: get a new one",
                ),
                HuaweiCredential::Password {
                    user,
                    password,
                    domain,
                } => {
                    let explicit = self.explicit_project_id();
                    let token_scope = match (&self.scope, &explicit) {
                        _ if for_agency => TokenScope::Domain,
                        (Scope::Global, _) => TokenScope::Domain,
                        (Scope::Project { .. }, Some(id)) => TokenScope::ProjectId(id),
                        (Scope::Project { region, .. }, None) => TokenScope::ProjectName(region),
                    };
                    let issued = iam
                        .password_token(user, password, domain, token_scope)
                        .await?;
                    Keys {
                        project_id: issued.project_id,
                        ..Keys::new(
                            Authorizer::Token(issued.token),
                            "the IAM token issued for OS_USERNAME was refused: check the user's permissions",
                        )
                    }
                }
                HuaweiCredential::Oidc { idp_id, token_file } => {
                    let auth = self
                        .temporary(credential, || async {
                            let id_token = token_file.read_for_exchange()?;
                            let unscoped = iam.federated_token(idp_id, &id_token).await?;
                            let keys = iam.temporary_keys(Grant::Token(&unscoped)).await?;
                            Ok(keys.authorizer())
                        })
                        .await?;
                    Keys::new(
                        auth,
                        "the temporary keys IAM issued for the OIDC id token were refused: check the permissions of the identity provider's mapped user (HUAWEICLOUD_SDK_IDP_ID)",
                    )
                }
                HuaweiCredential::EcsMetadata => {
                    let auth = self
                        .temporary(credential, || async {
                            let (base, http) = self.metadata.as_ref().ok_or_else(|| {
                                ApiError::new(ErrorKind::Internal, "no metadata client was set up")
                            })?;
                            let metadata = Metadata {
                                base,
                                http,
                                env: &self.env,
                            };
                            Ok(metadata.security_key().await?.authorizer())
                        })
                        .await?;
                    Keys::new(
                        auth,
                        "the ECS agency's temporary keys were refused: check the agency's permissions",
                    )
                }
                HuaweiCredential::Agency { agency, with } => {
                    let auth = self
                        .temporary(credential, || async {
                            let source = self.keys(with, iam, true).await?;
                            let grant = Grant::Agency {
                                auth: &source.auth,
                                agency,
                            };
                            Ok(iam.temporary_keys(grant).await?.authorizer())
                        })
                        .await?;
                    Keys::new(
                        auth,
                        "the agency's temporary keys were refused: check the agency's permissions (HW_ASSUME_ROLE_AGENCY_NAME)",
                    )
                }
            };
            Ok(keys)
        })
    }

    /// Temporary AK/SK from `exchange`, made once for the whole process:
    /// they fit every scope, so CCE, UCS and every region share them.
    async fn temporary<F>(
        &self,
        credential: &HuaweiCredential,
        exchange: impl FnOnce() -> F,
    ) -> Result<Authorizer, ApiError>
    where
        F: Future<Output = Result<Authorizer, ApiError>>,
    {
        let shared = shared_exchange::<Authorizer>(self.recipe(credential));
        shared.get(exchange).await.cloned()
    }
}

/// The IAM an endpoint belongs to, without its region:
/// `iam.cn-north-4.myhuaweicloud.com` and `iam.myhuaweicloud.com` are both
/// `myhuaweicloud.com`; an endpoint of another shape is itself.
fn iam_realm(endpoint: &Url) -> String {
    let host = endpoint.host_str().unwrap_or_default();
    let Some(rest) = host.strip_prefix("iam.") else {
        return endpoint.to_string();
    };
    match rest.split_once('.') {
        Some((region, domain)) if region.contains('-') => domain.to_string(),
        _ => rest.to_string(),
    }
}

/// Who a credential is, never a secret: the AK, the IAM user, the role
/// acted as, or for a bare token a digest of it (a token names no user
/// kubefetch could read offline).
fn identity_of(credential: &HuaweiCredential) -> String {
    match credential {
        HuaweiCredential::AkSk(keys) => format!("ak {}", keys.ak),
        HuaweiCredential::Password { user, domain, .. } => format!("user {domain}/{user}"),
        HuaweiCredential::Token(token) => {
            use sha2::{Digest, Sha256};
            format!(
                "token-sha256 {}",
                hex::encode(Sha256::digest(token.expose()))
            )
        }
        // The identity provider maps claims to users and groups: tokens of
        // two subjects may act with different permissions.
        HuaweiCredential::Oidc { idp_id, token_file } => match token_file.subject() {
            Some(subject) => format!("oidc {idp_id} sub {subject}"),
            None => format!("oidc {idp_id} token {}", token_file.path.display()),
        },
        HuaweiCredential::EcsMetadata => "ecs-metadata".to_string(),
        HuaweiCredential::Agency { agency, .. } => {
            format!("agency {}/{}", agency.domain, agency.name)
        }
    }
}

/// Credentials ready to send, with the ids they came with.
struct Keys {
    auth: Authorizer,
    project_id: Option<String>,
    domain_id: Option<String>,
    /// What to check when the API refuses them.
    hint: &'static str,
}

impl Keys {
    fn new(auth: Authorizer, hint: &'static str) -> Self {
        Keys {
            auth,
            project_id: None,
            domain_id: None,
            hint,
        }
    }
}

/// `kubefetch cce`.
pub struct Cce {
    client: Client,
    region: String,
    duration_days: i64,
    allow_insecure: bool,
}

impl Cce {
    pub fn new(config: &ProviderConfig, env: Arc<Env>, ui: Ui) -> Result<Self, SetupError> {
        refuse_profile("cce", config)?;
        let region = config
            .region
            .clone()
            .or_else(|| env.var("OS_REGION_NAME").map(str::to_string))
            .ok_or_else(|| {
                UsageError::new("no region for cce").with_hint(
                    "pass --region (e.g. cn-north-4, or eu-de for Open Telekom Cloud), or set OS_REGION_NAME",
                )
            })?;
        endpoints::validate_region(&region)?;
        if let Some(id) = &config.project_id {
            validate_project_id(id)?;
        }
        let duration_days = duration_days(config.ttl_minutes, endpoints::is_otc(&region))?;
        let endpoint = config.endpoint_or(&env, &endpoints::regional("cce", &region))?;
        let client = Client::new(ClientSetup {
            endpoint,
            iam_endpoint: endpoints::iam(&env, Some(&region))?,
            scope: Scope::Project {
                region: region.clone(),
                project_id: config.project_id.clone(),
            },
            http: &config.http,
            env,
            ui,
            label: "cce",
        })?;
        Ok(Cce {
            client,
            region,
            duration_days,
            allow_insecure: config.insecure,
        })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn endpoint(&self) -> &Url {
        &self.client.endpoint
    }

    pub fn identity(&self) -> String {
        self.client.identity()
    }

    pub async fn fetch(&self, cluster_id: &str, private: bool) -> Result<Answer, ApiError> {
        let client = &self.client;
        let (session, url) = self
            .project_url(&format!("/clusters/{cluster_id}/clustercert"))
            .await?;
        let body = serde_json::to_vec(&CertDuration {
            duration: self.duration_days,
        })
        .map_err(|e| {
            ApiError::new(
                ErrorKind::Internal,
                format!("cannot encode the request: {e}"),
            )
        })?;
        let subject = Subject {
            service: "CCE",
            cluster_id: Some(cluster_id),
            credential_hint: session.credential_hint,
        };
        let posted = client
            .http
            .send(
                || session.request(Method::POST, &url, &body, &client.env),
                |response| api::judge_cert_post(response, &subject),
            )
            .await?;
        let answer = match posted {
            CertAnswer::Kubeconfig(answer) => answer,
            CertAnswer::OnlyLegacy => {
                client.ui.detail(
                    "cce: the clustercert POST is not available here; using the legacy GET",
                );
                client
                    .http
                    .send(
                        || session.request(Method::GET, &url, b"", &client.env),
                        |response| api::judge_kubeconfig(response, &subject, &[200]),
                    )
                    .await?
            }
        };
        let source = context::choose(&answer.text, private, self.allow_insecure, cluster_id)
            .map_err(|e| e.request_id(answer.request_id.clone()))?;
        Ok(Answer {
            kubeconfig_text: answer.text,
            source_context: Some(source),
            expires_at: None,
            request_id: answer.request_id,
        })
    }
}

impl Cce {
    /// The session and `/api/v3/projects/{project id}{rest}` of the region's project.
    async fn project_url(&self, rest: &str) -> Result<(&Session, Url), ApiError> {
        let session = self.client.session().await?;
        let project_id = session
            .scope_header
            .as_ref()
            .map(|(_, id)| id.as_str())
            .unwrap_or_default();
        let url = url_with(
            &self.client.endpoint,
            &format!("/api/v3/projects/{project_id}{rest}"),
            &[],
        );
        Ok((session, url))
    }

    /// `ListClusters` of the region's project: one answer holds them all.
    pub async fn list(&self) -> Result<Vec<Discovered>, ApiError> {
        let client = &self.client;
        let (session, url) = self.project_url("/clusters").await?;
        let subject = Subject {
            service: "CCE",
            cluster_id: None,
            credential_hint: session.credential_hint,
        };
        let list = client
            .http
            .send(
                || session.request(Method::GET, &url, b"", &client.env),
                |response| api::judge_cluster_list(response, &subject),
            )
            .await?;
        Ok(list
            .clusters
            .into_iter()
            .map(|(id, name, _, state)| Discovered {
                cluster_id: id,
                name,
                region: Some(self.region.clone()),
                state,
            })
            .collect())
    }
}

/// `ShowClusterList` pages.
const UCS_PAGE_SIZE: usize = 100;

/// `kubefetch ucs`.
pub struct Ucs {
    client: Client,
    allow_insecure: bool,
}

impl Ucs {
    pub fn new(config: &ProviderConfig, env: Arc<Env>, ui: Ui) -> Result<Self, SetupError> {
        refuse_profile("ucs", config)?;
        if let Some(ttl) = config.ttl_minutes {
            return Err(UsageError::new(format!(
                "ucs does not support --ttl ({}): UCS sets the credential's lifetime itself",
                format_minutes(ttl)
            ))
            .with_hint("drop --ttl")
            .into());
        }
        let endpoint = config.endpoint_or(&env, endpoints::UCS_DEFAULT)?;
        Ok(Ucs {
            client: ucs_client(endpoint, &config.http, env, ui)?,
            allow_insecure: config.insecure,
        })
    }

    pub fn endpoint(&self) -> &Url {
        &self.client.endpoint
    }

    pub fn identity(&self) -> String {
        self.client.identity()
    }

    pub async fn fetch(&self, cluster_id: &str, private: bool) -> Result<Answer, ApiError> {
        let client = &self.client;
        let session = client.session().await?;
        let url = url_with(
            &client.endpoint,
            &format!("/v1/clusters/{cluster_id}/kubeconfig"),
            &[],
        );
        let subject = Subject {
            service: "UCS",
            cluster_id: Some(cluster_id),
            credential_hint: session.credential_hint,
        };
        let answer = client
            .http
            .send(
                || session.request(Method::POST, &url, b"", &client.env),
                |response| api::judge_kubeconfig(response, &subject, &[200, 201]),
            )
            .await?;
        let source = context::choose(&answer.text, private, self.allow_insecure, cluster_id)
            .map_err(|e| e.request_id(answer.request_id.clone()))?;
        Ok(Answer {
            kubeconfig_text: answer.text,
            source_context: Some(source),
            expires_at: None,
            request_id: answer.request_id,
        })
    }
}

impl Ucs {
    /// `ShowClusterList`, every page (limit/offset).
    pub async fn list(&self) -> Result<Vec<Discovered>, ApiError> {
        let client = &self.client;
        let session = client.session().await?;
        let subject = Subject {
            service: "UCS",
            cluster_id: None,
            credential_hint: session.credential_hint,
        };
        every_page(UCS_PAGE_SIZE, |_, received| {
            let query = [
                ("limit".to_string(), UCS_PAGE_SIZE.to_string()),
                ("offset".to_string(), received.to_string()),
            ];
            let url = url_with(&client.endpoint, "/v1/clusters", &query);
            let subject = &subject;
            async move {
                let page = client
                    .http
                    .send(
                        || session.request(Method::GET, &url, b"", &client.env),
                        |response| api::judge_cluster_list(response, subject),
                    )
                    .await?;
                let clusters = page
                    .clusters
                    .into_iter()
                    .map(|(id, name, region, state)| Discovered {
                        cluster_id: id,
                        name,
                        region,
                        state,
                    })
                    .collect();
                Ok((clusters, page.total))
            }
        })
        .await
    }
}

/// UCS is global: account-scoped credentials and the global IAM.
fn ucs_client(
    endpoint: Url,
    http: &HttpSettings,
    env: Arc<Env>,
    ui: Ui,
) -> Result<Client, SetupError> {
    let iam_endpoint = endpoints::iam(&env, None)?;
    Client::new(ClientSetup {
        endpoint,
        iam_endpoint,
        scope: Scope::Global,
        http,
        env,
        ui,
        label: "ucs",
    })
}

/// Huawei's tools have no profile convention to follow: `--profile` is refused.
fn refuse_profile(command: &str, config: &ProviderConfig) -> Result<(), UsageError> {
    if config.profile.is_some() {
        return Err(UsageError::new(format!("{command} does not support --profile"))
            .with_hint("Huawei credentials come from HUAWEICLOUD_SDK_AK/SK, HUAWEICLOUD_SDK_CREDENTIALS_FILE, ~/.huaweicloud/credentials, OS_AUTH_TOKEN, OS_USERNAME/OS_PASSWORD/OS_DOMAIN_NAME, HUAWEICLOUD_SDK_IDP_ID/HUAWEICLOUD_SDK_ID_TOKEN_FILE or KUBEFETCH_HUAWEI_ECS_METADATA"));
    }
    Ok(())
}

fn validate_project_id(id: &str) -> Result<(), UsageError> {
    if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "invalid --project-id '{}': expected letters and digits only",
            id.escape_debug()
        ))
        .with_hint("project ids look like 0a1b2c3d4e5f60718293a4b5c6d7e8f9 (IAM > Projects)"))
    }
}

/// `--ttl` as CCE's `duration`: whole days in the cloud's range; without
/// `--ttl` the maximum (-1 on Huawei Cloud; OTC documents no -1).
fn duration_days(ttl_minutes: Option<u64>, otc: bool) -> Result<i64, UsageError> {
    let max_days = if otc { OTC_MAX_DAYS } else { HUAWEI_MAX_DAYS };
    let Some(minutes) = ttl_minutes else {
        return Ok(if otc { OTC_MAX_DAYS as i64 } else { -1 });
    };
    if minutes % MINUTES_PER_DAY != 0 {
        return Err(UsageError::new(format!(
            "cce certificates last whole days; --ttl {} is not a whole number of days",
            format_minutes(minutes)
        ))
        .with_hint(format!("use e.g. --ttl 1d, up to --ttl {max_days}d")));
    }
    let days = minutes / MINUTES_PER_DAY;
    if days > max_days {
        return Err(UsageError::new(format!(
            "--ttl {} is beyond what cce allows (1d to {max_days}d)",
            format_minutes(minutes)
        ))
        .with_hint("drop --ttl for the longest lifetime"));
    }
    Ok(days as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_becomes_whole_days_within_the_clouds_range() {
        assert_eq!(duration_days(None, false).unwrap(), -1);
        assert_eq!(duration_days(None, true).unwrap(), 1825);
        assert_eq!(duration_days(Some(7 * 1440), false).unwrap(), 7);
        assert_eq!(duration_days(Some(1827 * 1440), false).unwrap(), 1827);
        assert!(duration_days(Some(1827 * 1440), true).is_err());
        assert!(duration_days(Some(1828 * 1440), false)
            .unwrap_err()
            .message
            .contains("beyond"));
        let sub_day = duration_days(Some(90), false).unwrap_err();
        assert!(
            sub_day.message.contains("whole days"),
            "{}",
            sub_day.message
        );
    }

    #[test]
    fn project_ids_are_plain() {
        validate_project_id("0a1b2c3d4e5f60718293a4b5c6d7e8f9").unwrap();
        for bad in ["", "../x", "a b", "a/b"] {
            assert!(validate_project_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn iam_realms_leave_the_region_out() {
        let realm = |u: &str| iam_realm(&Url::parse(u).unwrap());
        assert_eq!(
            realm("https://iam.cn-north-4.myhuaweicloud.com"),
            "myhuaweicloud.com"
        );
        assert_eq!(realm("https://iam.myhuaweicloud.com"), "myhuaweicloud.com");
        assert_eq!(
            realm("https://iam.eu-de.otc.t-systems.com"),
            "otc.t-systems.com"
        );
        assert_eq!(realm("http://127.0.0.1:9/"), "http://127.0.0.1:9/");
    }

    /// One exchange for CCE in every region and for UCS: the recipes agree.
    #[test]
    fn temporary_keys_are_one_recipe_across_regions_and_services() {
        let home = crate::testing::home_with(&[("token", "a.b.c")]);
        let token = home.path().join("token");
        let settings = crate::testing::http_settings();
        for vars in [
            vec![("KUBEFETCH_HUAWEI_ECS_METADATA", "1")],
            vec![
                ("HUAWEICLOUD_SDK_IDP_ID", "idp"),
                ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", token.to_str().unwrap()),
            ],
        ] {
            let env = Arc::new(crate::testing::env_in(&vars, &home));
            let client = |scope: Scope, region: Option<&str>| {
                Client::new(ClientSetup {
                    endpoint: Url::parse("https://cce.example").unwrap(),
                    iam_endpoint: endpoints::iam(&env, region).unwrap(),
                    scope,
                    http: &settings,
                    env: Arc::clone(&env),
                    ui: Ui::new(crate::settings::Verbosity::Quiet),
                    label: "test",
                })
                .unwrap()
            };
            let project = |region: &str| Scope::Project {
                region: region.to_string(),
                project_id: None,
            };
            let recipes: Vec<String> = [
                client(project("cn-north-4"), Some("cn-north-4")),
                client(project("ap-southeast-1"), Some("ap-southeast-1")),
                client(Scope::Global, None),
            ]
            .iter()
            .map(|c| c.recipe(&c.credential))
            .collect();
            assert_eq!(recipes[0], recipes[1], "{vars:?}");
            assert_eq!(recipes[0], recipes[2], "{vars:?}");
        }
    }

    /// Tokens of two subjects may map to different IAM users: two cache entries.
    #[test]
    fn an_oidc_identity_names_the_tokens_subject() {
        use base64::Engine;
        let jwt = |sub: &str| {
            let claims = format!(r#"{{"sub":"{sub}"}}"#);
            let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims);
            format!("e30.{payload}.c2ln")
        };
        let (main, fork) = (jwt("repo:org/app:main"), jwt("repo:fork/app:main"));
        let home = crate::testing::home_with(&[("main", &main), ("fork", &fork)]);
        let identity = |name: &str| {
            identity_of(&HuaweiCredential::Oidc {
                idp_id: "idp".into(),
                token_file: crate::keyless::TokenFile {
                    var: "HUAWEICLOUD_SDK_ID_TOKEN_FILE",
                    path: home.path().join(name),
                },
            })
        };
        assert_eq!(identity("main"), "oidc idp sub repo:org/app:main");
        assert_ne!(identity("main"), identity("fork"));
    }
}
