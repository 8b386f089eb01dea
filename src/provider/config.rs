//! What a provider is built from: plain values, whether they came from
//! command-line flags, a context's provenance, a fleet entry or an exec
//! plugin's arguments.

use std::fmt;

use chrono::{DateTime, Utc};
use reqwest::Url;

use crate::env::Env;
use crate::kubeconfig::provenance::{Provenance, ROA_V2};
use crate::settings::{parse_endpoint, HttpSettings, UsageError};

use super::huawei::endpoints;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    Tke,
    Ack,
    Cce,
    Ucs,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] = [
        ProviderKind::Tke,
        ProviderKind::Ack,
        ProviderKind::Cce,
        ProviderKind::Ucs,
    ];

    /// The command name, the prefix of entry names and the provenance `provider`.
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Tke => "tke",
            ProviderKind::Ack => "ack",
            ProviderKind::Cce => "cce",
            ProviderKind::Ucs => "ucs",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Cluster ids end up in URL paths and file names: only plain ids pass,
    /// and Huawei's are UUIDs.
    pub fn validate_cluster_id(self, id: &str) -> Result<(), UsageError> {
        validate_plain_id(id)?;
        match self {
            ProviderKind::Cce | ProviderKind::Ucs => {
                endpoints::validate_cluster_id(self.name(), id)
            }
            ProviderKind::Tke | ProviderKind::Ack => Ok(()),
        }
    }

    /// The lifetime `--exec` asks for when `--ttl` is not given (DESIGN.md
    /// section 8): short, since the cache renews it unseen.
    pub fn exec_default_ttl(self) -> Option<u64> {
        match self {
            ProviderKind::Ack => Some(60),
            ProviderKind::Cce => Some(24 * 60),
            ProviderKind::Tke | ProviderKind::Ucs => None,
        }
    }

    /// The environment variable that overrides this provider's API endpoint.
    pub fn endpoint_var(self) -> &'static str {
        match self {
            ProviderKind::Tke => "KUBEFETCH_TKE_ENDPOINT",
            ProviderKind::Ack => "KUBEFETCH_ACK_ENDPOINT",
            ProviderKind::Cce => "KUBEFETCH_CCE_ENDPOINT",
            ProviderKind::Ucs => "KUBEFETCH_UCS_ENDPOINT",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How ACK requests are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signature {
    /// ACS3-HMAC-SHA256, the SDK's default.
    #[default]
    Acs3,
    /// Legacy ROA HMAC-SHA1, for old private deployments (`--signature-v2`).
    RoaV2,
}

/// Everything that selects what a fetch asks for and where, but not
/// credentials: those come from the environment when the provider is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// `None`: from the environment or the CLI profile (an error where required).
    pub region: Option<String>,
    /// An explicit API base URL (`--endpoint`); the environment's is looked up later.
    pub endpoint: Option<Url>,
    pub profile: Option<String>,
    pub project_id: Option<String>,
    pub signature: Signature,
    /// Take the endpoint without TLS verification (CCE, UCS).
    pub insecure: bool,
    pub private: bool,
    pub ttl_minutes: Option<u64>,
    pub http: HttpSettings,
}

impl ProviderConfig {
    /// A config with only the provider chosen and every option at its default.
    pub fn new(kind: ProviderKind, http: HttpSettings) -> Self {
        ProviderConfig {
            kind,
            region: None,
            endpoint: None,
            profile: None,
            project_id: None,
            signature: Signature::Acs3,
            insecure: false,
            private: false,
            ttl_minutes: None,
            http,
        }
    }

    /// The config that repeats the fetch a provenance records.
    pub fn from_provenance(p: &Provenance, http: HttpSettings) -> Result<Self, UsageError> {
        let kind = ProviderKind::from_name(&p.provider).ok_or_else(|| {
            UsageError::new(format!(
                "unknown provider '{}' (expected tke, ack, cce or ucs)",
                p.provider.escape_debug()
            ))
        })?;
        kind.validate_cluster_id(&p.cluster_id)?;
        let signature = match p.signature.as_deref() {
            None => Signature::Acs3,
            Some(ROA_V2) => Signature::RoaV2,
            Some(other) => {
                return Err(UsageError::new(format!(
                    "unknown signature '{}' (expected {ROA_V2})",
                    other.escape_debug()
                )))
            }
        };
        Ok(ProviderConfig {
            kind,
            region: p.region.clone(),
            endpoint: p
                .endpoint
                .as_deref()
                .map(|url| parse_endpoint(url, "the recorded endpoint"))
                .transpose()?,
            profile: p.profile.clone(),
            project_id: p.project_id.clone(),
            signature,
            insecure: p.insecure_skip_tls_verify,
            private: p.private,
            ttl_minutes: p.ttl,
            http,
        })
    }

    /// What a fetch with this config records: everything needed to repeat it.
    /// `region` is the one in use, wherever it came from.
    pub fn provenance(
        &self,
        cluster_id: &str,
        region: Option<&str>,
        fetched_at: DateTime<Utc>,
    ) -> Provenance {
        Provenance {
            provider: self.kind.name().to_string(),
            cluster_id: cluster_id.to_string(),
            region: region.map(str::to_string),
            private: self.private,
            fetched_at,
            expires_at: None,
            ttl: self.ttl_minutes,
            insecure_skip_tls_verify: self.insecure,
            project_id: self.project_id.clone(),
            profile: self.profile.clone(),
            // Never a secret, even one an endpoint URL carries.
            endpoint: self
                .endpoint
                .as_ref()
                .map(|url| crate::http::without_userinfo(url).to_string()),
            signature: (self.signature == Signature::RoaV2).then(|| ROA_V2.to_string()),
            exec: false,
            fleet: None,
        }
    }

    /// The arguments of `kubefetch credential` that repeat this fetch: the
    /// region in use wherever it came from, and every option that applies.
    pub fn credential_args(&self, cluster_id: &str, region: Option<&str>) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "credential".into(),
            self.kind.name().into(),
            cluster_id.into(),
        ];
        let mut option = |flag: &str, value: Option<String>| {
            args.push(flag.into());
            args.extend(value);
        };
        if let Some(region) = region {
            option("--region", Some(region.to_string()));
        }
        if self.private {
            option("--private", None);
        }
        if let Some(ttl) = self.ttl_minutes {
            option("--ttl", Some(ttl.to_string()));
        }
        if let Some(profile) = &self.profile {
            option("--profile", Some(profile.clone()));
        }
        // As in the provenance: a password in the URL is never written down.
        if let Some(endpoint) = &self.endpoint {
            option(
                "--endpoint",
                Some(crate::http::without_userinfo(endpoint).to_string()),
            );
        }
        if let Some(project_id) = &self.project_id {
            option("--project-id", Some(project_id.clone()));
        }
        if self.insecure {
            option("--insecure-skip-tls-verify", None);
        }
        if self.signature == Signature::RoaV2 {
            option("--signature-v2", None);
        }
        args
    }

    /// The API base URL: the explicit endpoint, else the provider's env var, else `default`.
    pub fn endpoint_or(&self, env: &Env, default: &str) -> Result<Url, UsageError> {
        if let Some(url) = &self.endpoint {
            return Ok(url.clone());
        }
        let var = self.kind.endpoint_var();
        match env.var(var) {
            Some(url) => parse_endpoint(url, var),
            None => parse_endpoint(default, "the default endpoint"),
        }
    }

    /// The default name of a cluster's context, cluster and user entries.
    pub fn entry_name(&self, cluster_id: &str) -> String {
        if self.private {
            format!("{}-{cluster_id}-private", self.kind)
        } else {
            format!("{}-{cluster_id}", self.kind)
        }
    }
}

fn validate_plain_id(id: &str) -> Result<(), UsageError> {
    let plain = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !id.starts_with('-');
    if plain {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "malformed cluster id '{}': only letters, digits, '-' and '_' are allowed",
            id.escape_debug()
        ))
        .with_hint("copy the id from the console or the provider's CLI, e.g. cls-65r1c5nu"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http() -> HttpSettings {
        crate::testing::http_settings()
    }

    #[test]
    fn cluster_ids_with_path_tricks_are_usage_errors() {
        for bad in ["../x", "a/b", "..", "", "-rf", "a b", "cls\u{0}"] {
            assert!(
                ProviderKind::Tke.validate_cluster_id(bad).is_err(),
                "{bad:?}"
            );
        }
        ProviderKind::Tke
            .validate_cluster_id("cls-65r1c5nu")
            .unwrap();
        ProviderKind::Cce
            .validate_cluster_id("4d5e6f70-1a2b-11ee-8c90-0255ac100001")
            .unwrap();
        assert!(ProviderKind::Cce.validate_cluster_id("cls-1").is_err());
    }

    #[test]
    fn a_password_in_the_endpoint_is_not_recorded() {
        let mut config = ProviderConfig::new(ProviderKind::Tke, http());
        config.endpoint = Some(Url::parse("https://u:s3cret@tke.example/").unwrap());
        let now = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .to_utc();
        let recorded = config.provenance("cls-1", None, now);
        assert_eq!(recorded.endpoint.as_deref(), Some("https://tke.example/"));
    }

    #[test]
    fn a_provenance_repeats_every_option_of_the_fetch() {
        let mut config = ProviderConfig::new(ProviderKind::Ack, http());
        config.region = Some("cn-beijing".into());
        config.endpoint = Some(Url::parse("http://127.0.0.1:9/").unwrap());
        config.profile = Some("work".into());
        config.signature = Signature::RoaV2;
        config.private = true;
        config.ttl_minutes = Some(90);
        let now = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .to_utc();
        let recorded = config.provenance("c5b", Some("cn-hangzhou"), now);
        assert_eq!(recorded.region.as_deref(), Some("cn-hangzhou"));
        let again = ProviderConfig::from_provenance(&recorded, http()).unwrap();
        assert_eq!(
            again,
            ProviderConfig {
                region: Some("cn-hangzhou".into()),
                ..config
            }
        );
        let mut cce = ProviderConfig::new(ProviderKind::Cce, http());
        cce.project_id = Some("p1".into());
        cce.insecure = true;
        let recorded = cce.provenance("4d5e6f70-1a2b-11ee-8c90-0255ac100001", Some("eu-de"), now);
        assert!(recorded.insecure_skip_tls_verify);
        let again = ProviderConfig::from_provenance(&recorded, http()).unwrap();
        assert_eq!(again.project_id.as_deref(), Some("p1"));
        assert!(again.insecure);
    }

    #[test]
    fn credential_args_repeat_every_option_and_no_password() {
        let mut ack = ProviderConfig::new(ProviderKind::Ack, http());
        ack.private = true;
        ack.ttl_minutes = Some(60);
        ack.profile = Some("work".into());
        ack.endpoint = Some(Url::parse("http://u:s3cret@127.0.0.1:9/").unwrap());
        ack.signature = Signature::RoaV2;
        assert_eq!(
            ack.credential_args("c5b", Some("cn-hangzhou")),
            [
                "credential",
                "ack",
                "c5b",
                "--region",
                "cn-hangzhou",
                "--private",
                "--ttl",
                "60",
                "--profile",
                "work",
                "--endpoint",
                "http://127.0.0.1:9/",
                "--signature-v2"
            ]
        );
        let mut cce = ProviderConfig::new(ProviderKind::Cce, http());
        cce.project_id = Some("p1".into());
        cce.insecure = true;
        assert_eq!(
            cce.credential_args("4d5e", Some("eu-de")),
            [
                "credential",
                "cce",
                "4d5e",
                "--region",
                "eu-de",
                "--project-id",
                "p1",
                "--insecure-skip-tls-verify"
            ]
        );
        let ucs = ProviderConfig::new(ProviderKind::Ucs, http());
        assert_eq!(
            ucs.credential_args("5e6f", None),
            ["credential", "ucs", "5e6f"]
        );
    }

    #[test]
    fn a_provenance_that_cannot_be_repeated_is_refused() {
        let base = Provenance {
            provider: "tke".into(),
            cluster_id: "cls-a".into(),
            ..Provenance::default()
        };
        for broken in [
            Provenance {
                provider: "gke".into(),
                ..base.clone()
            },
            Provenance {
                cluster_id: "../x".into(),
                ..base.clone()
            },
            Provenance {
                signature: Some("v9".into()),
                ..base.clone()
            },
            Provenance {
                endpoint: Some("http://10.0.0.1".into()),
                ..base.clone()
            },
        ] {
            assert!(
                ProviderConfig::from_provenance(&broken, http()).is_err(),
                "{broken:?}"
            );
        }
        ProviderConfig::from_provenance(&base, http()).unwrap();
    }

    #[test]
    fn names_follow_the_contract() {
        let mut config = ProviderConfig::new(ProviderKind::Tke, http());
        assert_eq!(config.entry_name("cls-1"), "tke-cls-1");
        config.private = true;
        assert_eq!(config.entry_name("cls-1"), "tke-cls-1-private");
        for kind in ProviderKind::ALL {
            assert_eq!(ProviderKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ProviderKind::from_name("gke"), None);
    }
}
