//! The kubeconfig file format. Every struct keeps the fields it does not
//! know in `other`, so a file written by a newer kubectl, a plugin or a
//! hand edit survives a read-modify-write by kubefetch.
//!
//! A file is read with kubectl's meaning (see [`crate::yaml`]): the model is
//! filled from the JSON tree kubectl itself would decode, and a JSON `null`
//! leaves a field empty, as Go's JSON decoder does.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::schema;
use crate::secret::Secret;
use crate::yaml::{self, ReadError};

type Mapping = Map<String, Value>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kubeconfig {
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferences: Option<Preferences>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub clusters: Vec<NamedCluster>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub users: Vec<NamedUser>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub contexts: Vec<NamedContext>,
    #[serde(
        rename = "current-context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub current_context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    #[serde(flatten)]
    pub other: Mapping,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Preferences {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colors: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    #[serde(flatten)]
    pub other: Mapping,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedCluster {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cluster: Cluster,
    #[serde(flatten)]
    pub other: Mapping,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cluster {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "bool_or_bool_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub insecure_skip_tls_verify: Option<bool>,
    /// A path to a CA file: never written by kubefetch, only kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    #[serde(flatten)]
    pub other: Mapping,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedUser {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub user: AuthInfo,
    #[serde(flatten)]
    pub other: Mapping,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AuthInfo {
    /// A path to a certificate file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_data: Option<String>,
    /// A path to a key file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_secret"
    )]
    pub client_key_data: Option<Secret>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_secret"
    )]
    pub token: Option<Secret>,
    /// kubectl spells this one in camel case.
    #[serde(rename = "tokenFile", default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_secret"
    )]
    pub password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_provider: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    #[serde(flatten)]
    pub other: Mapping,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedContext {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub context: Context,
    #[serde(flatten)]
    pub other: Mapping,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<NamedExtension>>,
    #[serde(flatten)]
    pub other: Mapping,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedExtension {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default)]
    pub extension: Value,
    #[serde(flatten)]
    pub other: Mapping,
}

/// Why a text is not a kubeconfig: where (line, column, key path) and
/// what, never the content (the file holds secrets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid kubeconfig: {0}")]
pub struct ModelError(pub ReadError);

impl Kubeconfig {
    /// An empty kubeconfig with the header kubectl writes.
    pub fn new() -> Self {
        Kubeconfig {
            api_version: Some("v1".to_owned()),
            kind: Some("Config".to_owned()),
            ..Kubeconfig::default()
        }
    }

    /// Reads a file's bytes: UTF-8, or UTF-16/32 with a byte-order mark.
    /// The bytes are freed once read, before the model is filled: a large
    /// file is held twice at most.
    pub fn parse_bytes(bytes: Vec<u8>) -> Result<Kubeconfig, ModelError> {
        let tree = {
            let text = yaml::decode(&bytes).map_err(|e| {
                ModelError(ReadError {
                    position: None,
                    path: Vec::new(),
                    reason: e.to_string(),
                    kubectl_refuses: true,
                })
            })?;
            checked_tree(&text)?
        };
        drop(bytes);
        from_tree(tree)
    }

    /// Reads YAML or JSON (JSON is YAML) with kubectl's meaning. An empty
    /// or `null` document is an empty kubeconfig, as kubectl treats it.
    pub fn parse(text: &str) -> Result<Kubeconfig, ModelError> {
        from_tree(checked_tree(text)?)
    }

    pub fn to_yaml(&self) -> String {
        yaml::to_block_yaml(&self.to_tree())
    }

    /// Writes `to_yaml`'s text to `sink` one list entry at a time, each
    /// freed once written: a large file is never in memory twice.
    pub fn write_yaml<W: std::io::Write>(mut self, sink: W) -> std::io::Result<W> {
        let mut clusters = std::mem::take(&mut self.clusters);
        let mut users = std::mem::take(&mut self.users);
        let mut contexts = std::mem::take(&mut self.contexts);
        // Everything else, in the order `to_yaml` writes it.
        let Value::Object(fields) = self.to_tree() else {
            unreachable!("a kubeconfig is a mapping");
        };
        drop(self);
        let mut writer = yaml::BlockWriter::new(sink);
        for (key, value) in &fields {
            match key.as_str() {
                "clusters" => writer.list_entry(key, as_values(std::mem::take(&mut clusters)))?,
                "users" => writer.list_entry(key, as_values(std::mem::take(&mut users)))?,
                "contexts" => writer.list_entry(key, as_values(std::mem::take(&mut contexts)))?,
                _ => writer.entry(key, value)?,
            }
        }
        writer.finish()
    }

    fn to_tree(&self) -> Value {
        // Strings, numbers, and maps with string keys: conversion cannot fail.
        serde_json::to_value(self).expect("a kubeconfig converts to a JSON value")
    }
}

/// The first document's tree, with every field the model types checked.
fn checked_tree(text: &str) -> Result<Value, ModelError> {
    let tree = yaml::read_first(text).map_err(ModelError)?;
    // kubectl refuses more than wrong types (bad base64, a name used
    // twice): check all of it first, to say where.
    if let Some((path, reason)) = schema::first_mismatch(&tree) {
        return Err(ModelError(ReadError {
            position: yaml::position_of(text, &path),
            path,
            reason,
            kubectl_refuses: true,
        }));
    }
    Ok(tree)
}

fn from_tree(tree: Value) -> Result<Kubeconfig, ModelError> {
    if tree.is_null() {
        return Ok(Kubeconfig::new());
    }
    // The schema covers every field the model types: this is a backstop
    // whose message must not quote the value (serde's would).
    serde_json::from_value(tree).map_err(|_| {
        ModelError(ReadError {
            position: None,
            path: Vec::new(),
            reason: "a field has the wrong type".to_owned(),
            kubectl_refuses: true,
        })
    })
}

/// List entries as trees, made one at a time and dropped as they go.
fn as_values<T: Serialize>(items: Vec<T>) -> impl Iterator<Item = Value> {
    items.into_iter().map(|item| {
        serde_json::to_value(item).expect("a kubeconfig entry converts to a JSON value")
    })
}

/// A JSON `null` leaves a field at its zero value, as in Go; kubectl
/// writes `clusters: null` for an empty list.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
/// Huawei UCS sends `insecure-skip-tls-verify: "true"`; kubectl's own files
/// have a bool. Both are read, a bool is written.
fn bool_or_bool_string<'de, D>(deserializer: D) -> Result<Option<bool>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BoolOrString {
        Bool(bool),
        String(String),
    }

    match Option::<BoolOrString>::deserialize(deserializer)? {
        None => Ok(None),
        Some(BoolOrString::Bool(value)) => Ok(Some(value)),
        Some(BoolOrString::String(text)) => match text.to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(serde::de::Error::custom(
                "insecure-skip-tls-verify must be true or false",
            )),
        },
    }
}

/// Secrets are plain strings in the file; in memory they are `Secret`.
mod optional_secret {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::secret::Secret;

    pub fn serialize<S: Serializer>(
        value: &Option<Secret>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(secret) => serializer.serialize_str(secret.expose()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Secret>, D::Error> {
        Ok(Option::<String>::deserialize(deserializer)?.map(Secret::new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REALISTIC: &str = r#"
apiVersion: v1
kind: Config
preferences:
  colors: true
  futurePreference: 3
  extensions:
  - name: pref-ext
    extension: {a: 1}
clusters:
- name: zeta
  cluster:
    server: https://zeta.example:6443
    certificate-authority-data: Q0EtWkVUQQ==
    disable-compression: true
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: zeta}
      extraOnExtension: yes-kept
  futureClusterEntryField: kept
- name: alpha
  cluster:
    server: https://alpha.example
    insecure-skip-tls-verify: true
    proxy-url: socks5://127.0.0.1:1080
users:
- name: zeta
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
    as: admin
    as-groups: [ops, dev]
  futureUserEntryField: [1, 2]
- name: alpha
  user:
    token: tok-alpha
    username: bob
    password: hunter2
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: aws
      args: [eks, get-token]
contexts:
- name: zeta
  context:
    cluster: zeta
    user: zeta
    namespace: prod
    futureContextField: {deep: [x]}
    extensions:
    - name: kubefetch
      extension: {provider: tke, clusterId: cls-1}
  futureContextEntryField: 7
- name: alpha
  context: {cluster: alpha, user: alpha}
current-context: zeta
extensions:
- name: top-ext
  extension: [1, 2, 3]
futureTopLevel:
  nested: {list: [a, b]}
"#;

    fn as_value(text: &str) -> Value {
        yaml::read_first(text).unwrap()
    }

    #[test]
    fn writing_to_a_sink_writes_the_same_text() {
        for text in [REALISTIC, "", "clusters: null\nfuture: 1\n"] {
            let parsed = Kubeconfig::parse(text).unwrap();
            let streamed = parsed.clone().write_yaml(Vec::new()).unwrap();
            assert_eq!(String::from_utf8(streamed).unwrap(), parsed.to_yaml());
        }
    }

    #[test]
    fn round_trip_keeps_every_field_and_order() {
        let parsed = Kubeconfig::parse(REALISTIC).unwrap();
        let written = parsed.to_yaml();
        assert_eq!(as_value(&written), as_value(REALISTIC));
        let names: Vec<&str> = parsed.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha"]);
        assert_eq!(Kubeconfig::parse(&written).unwrap(), parsed);
    }

    /// Found by fuzzing: an unknown field with a key over 1024 characters
    /// was written in a form that does not parse back.
    #[test]
    fn long_keys_round_trip() {
        let key = "k".repeat(2000);
        // `? ` marks an explicit key, which may be longer than 1024 characters.
        let text =
            format!("clusters:\n- name: c\n  cluster:\n    ? {key}\n    : v\n? {key}\n: top\n");
        let parsed = Kubeconfig::parse(&text).unwrap();
        let written = parsed.to_yaml();
        assert_eq!(Kubeconfig::parse(&written).unwrap(), parsed, "{written}");
    }

    /// Found by fuzzing: a string escaped as `\uFFFE` in the file was
    /// written back raw, and the written file did not parse.
    #[test]
    fn escaped_noncharacters_round_trip() {
        let parsed = Kubeconfig::parse("futureField: \"a\\uFFFEb\\uFFFF\"\n").unwrap();
        let written = parsed.to_yaml();
        assert_eq!(Kubeconfig::parse(&written).unwrap(), parsed, "{written}");
    }

    /// Found by fuzzing: a mapping used as a key made the writer panic.
    /// kubectl cannot read such keys either: the file is refused.
    #[test]
    fn list_and_mapping_keys_are_refused() {
        for text in [
            "-:\n ? me:\n",
            "futureField: {? [a, b] : v}\n",
            "clusters:\n- name: c\n  cluster:\n    extensions:\n    - name: e\n      extension: [{? {a: 1} : v}]\n",
            "users:\n- name: u\n  user:\n    exec: {args: [{? !t [x] : y}]}\n",
        ] {
            let err = Kubeconfig::parse(text).unwrap_err();
            assert!(err.0.reason.contains("a key is a list or a mapping"), "{text}: {err}");
        }
        let scalar_keys = Kubeconfig::parse("futureField: {1: a, true: b, 1.5: d}\n").unwrap();
        assert_eq!(
            scalar_keys.other["futureField"],
            serde_json::json!({"1": "a", "true": "b", "1.5": "d"})
        );
        assert_eq!(
            Kubeconfig::parse(&scalar_keys.to_yaml()).unwrap(),
            scalar_keys
        );
    }

    /// The files of issue 14: kubectl loads each; after a read-modify-write
    /// every value must keep kubectl's meaning (written in canonical form).
    #[test]
    fn kubectl_meaning_survives_a_read_modify_write() {
        let text = r#"
apiVersion: v1
kind: Config
preferences: {colors: on}
base: &base
  server: "https://34.1.2.3"
  certificate-authority-data: Q0E=
clusters:
- name: gke
  cluster:
    <<: *base
    disable-compression: yes
    insecure-skip-tls-verify: no
    extensions:
    - name: e
      extension: [x, y, 0755, 1_000, 0x1F, "0755", !!binary aGVsbG8=, ~]
contexts:
- name: gke
  context: {cluster: gke, user: gke, namespace: a}
  context: {cluster: gke, user: gke, namespace: last}
users:
- name: gke
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      provideClusterInfo: yes
current-context: gke
---
second: document
"#;
        let parsed = Kubeconfig::parse(text).unwrap();
        assert_eq!(parsed.preferences.as_ref().unwrap().colors, Some(true));
        assert_eq!(
            parsed.clusters[0].cluster.insecure_skip_tls_verify,
            Some(false)
        );
        assert_eq!(
            parsed.contexts[0].context.namespace.as_deref(),
            Some("last")
        );
        let written = as_value(&parsed.to_yaml());
        let cluster = &written["clusters"][0]["cluster"];
        assert_eq!(cluster["server"], "https://34.1.2.3");
        assert_eq!(cluster["certificate-authority-data"], "Q0E=");
        assert_eq!(cluster["disable-compression"], true);
        assert_eq!(
            cluster["extensions"][0]["extension"],
            serde_json::json!(["x", true, 493, 1000, 31, "0755", "hello", null])
        );
        assert_eq!(
            written["users"][0]["user"]["exec"]["provideClusterInfo"],
            true
        );
        assert_eq!(written["preferences"]["colors"], true);
        assert!(written.get("second").is_none());
        assert_eq!(Kubeconfig::parse(&parsed.to_yaml()).unwrap(), parsed);
    }

    #[test]
    fn utf16_files_with_a_byte_order_mark_are_read() {
        let text = "contexts:\n- name: é\n  context: {cluster: c, user: u}\n";
        for big_endian in [false, true] {
            let mut bytes = if big_endian {
                vec![0xFE, 0xFF]
            } else {
                vec![0xFF, 0xFE]
            };
            for unit in text.encode_utf16() {
                bytes.extend(if big_endian {
                    unit.to_be_bytes()
                } else {
                    unit.to_le_bytes()
                });
            }
            assert_eq!(
                Kubeconfig::parse_bytes(bytes).unwrap().contexts[0].name,
                "é"
            );
        }
        let err = Kubeconfig::parse_bytes(b"kind: \xff\n".to_vec()).unwrap_err();
        assert_eq!(err.to_string(), "not a valid kubeconfig: not UTF-8 text (invalid at byte 6) (kubectl cannot load it either)");
    }

    #[test]
    fn known_fields_are_typed() {
        let parsed = Kubeconfig::parse(REALISTIC).unwrap();
        assert_eq!(parsed.current_context.as_deref(), Some("zeta"));
        assert_eq!(
            parsed.clusters[1].cluster.insecure_skip_tls_verify,
            Some(true)
        );
        assert_eq!(
            parsed.contexts[0].context.namespace.as_deref(),
            Some("prod")
        );
        assert!(parsed.users[1].user.exec.is_some());
        assert_eq!(
            parsed.users[0]
                .user
                .client_key_data
                .as_ref()
                .unwrap()
                .expose(),
            "S0VZ"
        );
        assert!(parsed.other.contains_key("futureTopLevel"));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let parsed = Kubeconfig::parse(REALISTIC).unwrap();
        let debug = format!("{parsed:?}");
        for secret in ["S0VZ", "tok-alpha", "hunter2"] {
            assert!(!debug.contains(secret), "{secret} leaked into Debug");
        }
    }

    #[test]
    fn json_text_is_accepted() {
        let json = r#"{"kind":"Config","apiVersion":"v1","preferences":{},
            "clusters":[{"name":"externalCluster","cluster":{"server":"https://1.2.3.4:5443",
              "insecure-skip-tls-verify":"true"}}],
            "users":[{"name":"user","user":{"client-certificate-data":"Q0VSVA==","client-key-data":"S0VZ"}}],
            "contexts":[{"name":"external","context":{"cluster":"externalCluster","user":"user"}}],
            "current-context":"external"}"#;
        let parsed = Kubeconfig::parse(json).unwrap();
        assert_eq!(parsed.contexts[0].name, "external");
        assert_eq!(
            parsed.clusters[0].cluster.insecure_skip_tls_verify,
            Some(true)
        );

        let pretty = "{\n\t\"contexts\": [\n\t\t{\"name\": \"a\\/b\", \"context\": {}}\n\t]\n}\n";
        assert_eq!(Kubeconfig::parse(pretty).unwrap().contexts[0].name, "a/b");
    }

    #[test]
    fn insecure_flag_reads_bool_or_string_and_writes_bool() {
        for (raw, expected) in [
            ("true", true),
            ("false", false),
            ("\"true\"", true),
            ("\"false\"", false),
        ] {
            let text =
                format!("clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: {raw}\n");
            let parsed = Kubeconfig::parse(&text).unwrap();
            assert_eq!(
                parsed.clusters[0].cluster.insecure_skip_tls_verify,
                Some(expected)
            );
            let written = as_value(&parsed.to_yaml());
            assert_eq!(
                written["clusters"][0]["cluster"]["insecure-skip-tls-verify"],
                Value::Bool(expected)
            );
        }
        let bad = "clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: maybe\n";
        assert!(Kubeconfig::parse(bad).is_err());
    }

    #[test]
    fn null_lists_read_as_empty_and_absent_fields_are_not_written() {
        let parsed = Kubeconfig::parse("clusters: null\nusers: ~\ncontexts:\n").unwrap();
        assert!(
            parsed.clusters.is_empty() && parsed.users.is_empty() && parsed.contexts.is_empty()
        );
        let written = as_value(&parsed.to_yaml());
        let keys: Vec<&str> = written
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["clusters", "users", "contexts"]);
    }

    #[test]
    fn empty_text_is_an_empty_kubeconfig() {
        for text in ["", "\n", "null\n", "# only a comment\n"] {
            assert_eq!(Kubeconfig::parse(text).unwrap(), Kubeconfig::new());
        }
    }

    #[test]
    fn errors_give_the_position_but_never_the_content() {
        let text = "clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: s3cr3t-value\n";
        let err = Kubeconfig::parse(text).unwrap_err();
        let shown = err.to_string();
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert_eq!(
            shown,
            "not a valid kubeconfig: line 4, column 31, at clusters[0].cluster.insecure-skip-tls-verify: \
             expected true or false, found a string (kubectl cannot load it either)"
        );

        let err = Kubeconfig::parse("clusters: [\n  {name: \"unterminated\n").unwrap_err();
        assert!(
            matches!(err.0.position, Some(yaml::Position { line: 2 | 3, .. })),
            "{err:?}"
        );
        assert!(!err.to_string().contains("unterminated"));
    }
}
