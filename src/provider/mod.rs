//! The providers behind one interface: set up (region, endpoint,
//! credentials), fetch one cluster's kubeconfig, and hand it on for
//! normalisation.

pub mod alibaba;
pub mod error;
pub mod huawei;
pub mod tencent;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::Url;

use crate::cli::{AckArgs, CceArgs, Command, FetchArgs, TkeArgs, UcsAgentArgs, UcsArgs};
use crate::credentials::CredentialError;
use crate::env::Env;
use crate::error::ErrorKind;
use crate::kubeconfig::model::Kubeconfig;
use crate::kubeconfig::normalize::{normalize, Fetched, NormalizeInput, Provenance};
use crate::settings::{FetchSettings, UsageError};
use crate::ui::Ui;

use error::ApiError;

/// Why a provider could not be set up: nothing was sent yet.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error(transparent)]
    Credentials(#[from] CredentialError),
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

/// A command that fetches kubeconfigs (every command but `ucs-agent`).
pub enum FetchCommand<'a> {
    Tke(&'a TkeArgs),
    Ack(&'a AckArgs),
    Cce(&'a CceArgs),
    Ucs(&'a UcsArgs),
}

impl<'a> FetchCommand<'a> {
    /// The fetch command, or the arguments of `ucs-agent`, which saves a bundle instead.
    pub fn of(command: &'a Command) -> Result<Self, &'a UcsAgentArgs> {
        match command {
            Command::Tke(args) => Ok(FetchCommand::Tke(args)),
            Command::Ack(args) => Ok(FetchCommand::Ack(args)),
            Command::Cce(args) => Ok(FetchCommand::Cce(args)),
            Command::Ucs(args) => Ok(FetchCommand::Ucs(args)),
            Command::UcsAgent(args) => Err(args),
        }
    }

    pub fn fetch_args(&self) -> &'a FetchArgs {
        match self {
            FetchCommand::Tke(args) => &args.fetch,
            FetchCommand::Ack(args) => &args.fetch,
            FetchCommand::Cce(args) => &args.fetch,
            FetchCommand::Ucs(args) => &args.fetch,
        }
    }

    /// The prefix of entry names and the `provider` of the provenance.
    pub fn name(&self) -> &'static str {
        match self {
            FetchCommand::Tke(_) => "tke",
            FetchCommand::Ack(_) => "ack",
            FetchCommand::Cce(_) => "cce",
            FetchCommand::Ucs(_) => "ucs",
        }
    }
}

pub enum Provider {
    Tke(tencent::Tke),
    Cce(huawei::Cce),
    Ucs(huawei::Ucs),
    Ack(alibaba::Ack),
}

impl Provider {
    /// Resolves region, endpoint and credentials for a fetch command.
    pub fn setup(
        command: &FetchCommand<'_>,
        settings: &FetchSettings,
        env: Arc<Env>,
        ui: Ui,
    ) -> Result<Self, SetupError> {
        match command {
            FetchCommand::Tke(args) => Ok(Provider::Tke(tencent::Tke::new(
                settings,
                args.region.as_deref(),
                env,
                ui,
            )?)),
            FetchCommand::Cce(args) => Ok(Provider::Cce(huawei::Cce::new(
                settings,
                args.region.as_deref(),
                args.project_id.as_deref(),
                args.insecure_skip_tls_verify,
                env,
                ui,
            )?)),
            FetchCommand::Ucs(args) => Ok(Provider::Ucs(huawei::Ucs::new(
                settings,
                args.insecure_skip_tls_verify,
                env,
                ui,
            )?)),
            FetchCommand::Ack(args) => Ok(Provider::Ack(alibaba::Ack::new(
                settings,
                args.region.as_deref(),
                if args.signature_v2 {
                    alibaba::Signature::RoaV2
                } else {
                    alibaba::Signature::V3
                },
                env,
                ui,
            )?)),
        }
    }

    /// The prefix of entry names and the `provider` of the provenance.
    pub fn name(&self) -> &'static str {
        match self {
            Provider::Tke(_) => "tke",
            Provider::Cce(_) => "cce",
            Provider::Ucs(_) => "ucs",
            Provider::Ack(_) => "ack",
        }
    }

    pub fn region(&self) -> Option<&str> {
        match self {
            Provider::Tke(tke) => Some(tke.region()),
            Provider::Cce(cce) => Some(cce.region()),
            Provider::Ucs(_) => None,
            Provider::Ack(ack) => Some(ack.region()),
        }
    }

    /// `--insecure-skip-tls-verify` was given (only CCE and UCS have it).
    fn allow_insecure(&self) -> bool {
        match self {
            Provider::Cce(cce) => cce.allow_insecure(),
            Provider::Ucs(ucs) => ucs.allow_insecure(),
            Provider::Tke(_) | Provider::Ack(_) => false,
        }
    }

    /// Fetches one cluster and turns the answer into safe, renamed entries.
    pub async fn fetch(
        &self,
        cluster_id: &str,
        settings: &FetchSettings,
        now: DateTime<Utc>,
    ) -> Result<(Fetched, Vec<String>), ApiError> {
        let answer = match self {
            Provider::Tke(tke) => tke.fetch(cluster_id, settings.private).await?,
            Provider::Cce(cce) => cce.fetch(cluster_id, settings.private).await?,
            Provider::Ucs(ucs) => ucs.fetch(cluster_id, settings.private).await?,
            Provider::Ack(ack) => ack.fetch(cluster_id, settings.private).await?,
        };
        let fetched = finish(
            answer,
            NormalizeInput {
                source_context: None,
                name: settings.entry_name(self.name(), cluster_id),
                allow_insecure: self.allow_insecure(),
                provenance: Provenance {
                    provider: self.name().to_string(),
                    cluster_id: cluster_id.to_string(),
                    region: self.region().map(str::to_string),
                    private: settings.private,
                    fetched_at: now,
                    expires_at: None,
                },
            },
        )?;
        let warnings = match self {
            Provider::Tke(_) => {
                tencent::unresolvable_server_warning(&fetched.server, cluster_id, settings.private)
                    .await
                    .into_iter()
                    .collect()
            }
            // CCE and UCS answer for a missing endpoint by omitting its context.
            Provider::Cce(_) | Provider::Ucs(_) | Provider::Ack(_) => Vec::new(),
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
