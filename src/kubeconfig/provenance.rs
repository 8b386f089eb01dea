//! The `kubefetch` context extension: where a context came from and with
//! which options, so that `list` can show it and `refresh` can repeat the
//! fetch exactly (DESIGN.md section 3). Never a secret.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::model::{NamedContext, NamedExtension};

/// The name of the context extension that marks an entry as kubefetch's.
pub const EXTENSION_NAME: &str = "kubefetch";

/// `signature` of an ACK context fetched with `--signature-v2`.
pub const ROA_V2: &str = "roa-v2";

/// Where a fetched kubeconfig came from. Optional fields are written only
/// when they apply; readers ignore fields they do not know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    pub provider: String,
    pub cluster_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub private: bool,
    #[serde(with = "timestamp")]
    pub fetched_at: DateTime<Utc>,
    /// The API's expiry, else the client certificate's notAfter.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_timestamp"
    )]
    pub expires_at: Option<DateTime<Utc>>,
    /// The requested lifetime in minutes (`--ttl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub insecure_skip_tls_verify: bool,
    /// `--project-id` (cce).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// `--profile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// `--endpoint`, never the environment's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `roa-v2` for ack `--signature-v2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The user runs kubefetch as an exec credential plugin.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exec: bool,
    /// The fleet that declared the context (`kubefetch sync`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<String>,
}

/// A context's extension is kubefetch's but cannot be read as provenance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the kubefetch extension of context {context} cannot be read: {reason}")]
pub struct ProvenanceError {
    pub context: String,
    pub reason: String,
}

impl Provenance {
    /// The extension entry that carries this provenance.
    pub fn to_extension(&self) -> NamedExtension {
        NamedExtension {
            name: EXTENSION_NAME.to_owned(),
            extension: serde_json::to_value(self).expect("provenance is plain data"),
            other: Default::default(),
        }
    }

    /// The provenance of a context: `None` for a context kubefetch did not write.
    pub fn of(context: &NamedContext) -> Option<Result<Provenance, ProvenanceError>> {
        let value = owned_by_kubefetch(context)?;
        Some(Provenance::deserialize(value).map_err(|e| ProvenanceError {
            context: context.name.clone(),
            reason: e.to_string(),
        }))
    }
}

/// The raw provenance extension of a context kubefetch wrote, if it has one.
pub fn owned_by_kubefetch(ctx: &NamedContext) -> Option<&Value> {
    ctx.context
        .extensions
        .as_ref()?
        .iter()
        .find(|ext| ext.name == EXTENSION_NAME)
        .map(|ext| &ext.extension)
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Timestamps as the contract writes them: `2046-11-22T10:00:00Z`.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

mod timestamp {
    use super::*;

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_timestamp(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.to_utc())
            .map_err(serde::de::Error::custom)
    }
}

mod optional_timestamp {
    use super::*;

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => timestamp::serialize(at, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        timestamp::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfig::model::Kubeconfig;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn context_with(extension: &str) -> NamedContext {
        let config = Kubeconfig::parse(&format!(
            "contexts:\n- name: c\n  context:\n    cluster: c\n    user: c\n    extensions:\n    - name: kubefetch\n      extension: {extension}\n"
        ))
        .unwrap();
        config.contexts[0].clone()
    }

    #[test]
    fn the_required_fields_are_written_and_the_optional_ones_only_when_they_apply() {
        let plain = Provenance {
            provider: "tke".into(),
            cluster_id: "cls-a".into(),
            region: Some("ap-guangzhou".into()),
            fetched_at: at("2026-11-22T10:00:00.123456Z"),
            expires_at: Some(at("2046-11-22T10:00:00Z")),
            ..Provenance::default()
        };
        assert_eq!(
            plain.to_extension().extension,
            serde_json::json!({"provider":"tke","clusterId":"cls-a","region":"ap-guangzhou",
                "private":false,"fetchedAt":"2026-11-22T10:00:00Z","expiresAt":"2046-11-22T10:00:00Z"})
        );
        let every = Provenance {
            private: true,
            ttl: Some(60),
            insecure_skip_tls_verify: true,
            project_id: Some("p1".into()),
            profile: Some("work".into()),
            endpoint: Some("https://cs-vpc.example".into()),
            signature: Some(ROA_V2.into()),
            exec: true,
            fleet: Some("platform".into()),
            ..plain.clone()
        };
        let value = every.to_extension().extension;
        for (key, expected) in [
            ("ttl", serde_json::json!(60)),
            ("insecureSkipTlsVerify", true.into()),
            ("projectId", "p1".into()),
            ("profile", "work".into()),
            ("endpoint", "https://cs-vpc.example".into()),
            ("signature", "roa-v2".into()),
            ("exec", true.into()),
            ("fleet", "platform".into()),
        ] {
            assert_eq!(value[key], expected, "{key}");
        }
    }

    #[test]
    fn provenance_reads_back_what_was_written_and_ignores_unknown_fields() {
        let written = context_with(
            "{provider: ack, clusterId: c5b, region: cn-hangzhou, private: true, \
             fetchedAt: '2026-11-22T10:00:00Z', ttl: 90, signature: roa-v2, futureField: [1]}",
        );
        let read = Provenance::of(&written).unwrap().unwrap();
        assert_eq!(read.provider, "ack");
        assert_eq!(read.cluster_id, "c5b");
        assert!(read.private);
        assert_eq!(read.ttl, Some(90));
        assert_eq!(read.signature.as_deref(), Some(ROA_V2));
        assert_eq!(read.fetched_at, at("2026-11-22T10:00:00Z"));
        let mut context = written.clone();
        context.context.extensions = Some(vec![read.to_extension()]);
        assert_eq!(Provenance::of(&context).unwrap().unwrap(), read);
    }

    #[test]
    fn foreign_and_unreadable_extensions_are_told_apart() {
        let mut foreign = context_with("{x: 1}");
        foreign.context.extensions.as_mut().unwrap()[0].name = "other".into();
        assert!(Provenance::of(&foreign).is_none());
        let broken = context_with("{provider: tke}");
        let err = Provenance::of(&broken).unwrap().unwrap_err();
        assert!(err.to_string().contains("context c"), "{err}");
    }
}
