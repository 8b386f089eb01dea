//! The kubeconfig file format. Every struct keeps the fields it does not
//! know in `other`, so a file written by a newer kubectl, a plugin or a
//! hand edit survives a read-modify-write by kubefetch.

use serde::{Deserialize, Deserializer, Serialize};
use serde_yaml::{Mapping, Value};

use super::emit;
use crate::secret::Secret;

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
    #[serde(default, deserialize_with = "null_as_empty")]
    pub clusters: Vec<NamedCluster>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub users: Vec<NamedUser>,
    #[serde(default, deserialize_with = "null_as_empty")]
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
    #[serde(default)]
    pub name: String,
    #[serde(default)]
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
    #[serde(default)]
    pub name: String,
    #[serde(default)]
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
    #[serde(default)]
    pub name: String,
    #[serde(default)]
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
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub extension: Value,
    #[serde(flatten)]
    pub other: Mapping,
}

/// Why a text is not a kubeconfig. Only the position is reported: the
/// parser's own message may quote the file, and the file holds secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("not a valid kubeconfig (line {line}, column {column})")]
    At { line: usize, column: usize },
    #[error("not a valid kubeconfig")]
    Unplaced,
    #[error("not a valid kubeconfig: a key is a list or a mapping")]
    ComplexKey,
}

impl Kubeconfig {
    /// An empty kubeconfig with the header kubectl writes.
    pub fn new() -> Self {
        Kubeconfig {
            api_version: Some("v1".to_owned()),
            kind: Some("Config".to_owned()),
            ..Kubeconfig::default()
        }
    }

    /// Reads YAML or JSON (JSON is YAML). An empty or `null` document is an
    /// empty kubeconfig, as kubectl treats it.
    pub fn parse(text: &str) -> Result<Kubeconfig, ModelError> {
        match serde_yaml::from_str::<Option<Kubeconfig>>(text) {
            Ok(Some(parsed)) if parsed.has_complex_key() => Err(ModelError::ComplexKey),
            Ok(parsed) => Ok(parsed.unwrap_or_else(Kubeconfig::new)),
            Err(err) => Err(match err.location() {
                Some(at) => ModelError::At {
                    line: at.line(),
                    column: at.column(),
                },
                None => ModelError::Unplaced,
            }),
        }
    }

    /// kubectl reads only scalar keys, and serde_yaml cannot write a list
    /// or mapping key in block style: such a file is refused, never rewritten.
    fn has_complex_key(&self) -> bool {
        let extensions = |list: &Option<Vec<NamedExtension>>| {
            list.iter()
                .flatten()
                .any(|ext| has_complex_key(&ext.extension) || mapping_has_complex_key(&ext.other))
        };
        let preferences = self
            .preferences
            .as_ref()
            .is_some_and(|p| mapping_has_complex_key(&p.other) || extensions(&p.extensions));
        let clusters = self.clusters.iter().any(|c| {
            mapping_has_complex_key(&c.other)
                || mapping_has_complex_key(&c.cluster.other)
                || extensions(&c.cluster.extensions)
        });
        let users = self.users.iter().any(|u| {
            let user = &u.user;
            mapping_has_complex_key(&u.other)
                || mapping_has_complex_key(&user.other)
                || extensions(&user.extensions)
                || [&user.exec, &user.auth_provider]
                    .into_iter()
                    .flatten()
                    .any(has_complex_key)
        });
        let contexts = self.contexts.iter().any(|c| {
            mapping_has_complex_key(&c.other)
                || mapping_has_complex_key(&c.context.other)
                || extensions(&c.context.extensions)
        });
        preferences
            || clusters
            || users
            || contexts
            || extensions(&self.extensions)
            || mapping_has_complex_key(&self.other)
    }

    pub fn to_yaml(&self) -> String {
        // Every key is a string or a value that came from YAML, so
        // conversion and serialization cannot fail.
        let value = serde_yaml::to_value(self).expect("a kubeconfig converts to a YAML value");
        emit::to_block_yaml(&value)
            .unwrap_or_else(|_| serde_yaml::to_string(&value).expect("a YAML value serializes"))
    }
}

fn has_complex_key(value: &Value) -> bool {
    match value {
        Value::Mapping(map) => mapping_has_complex_key(map),
        Value::Sequence(items) => items.iter().any(has_complex_key),
        Value::Tagged(tagged) => has_complex_key(&tagged.value),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => false,
    }
}

fn mapping_has_complex_key(map: &Mapping) -> bool {
    map.iter().any(|(key, value)| {
        let key = match key {
            Value::Tagged(tagged) => &tagged.value,
            plain => plain,
        };
        matches!(key, Value::Mapping(_) | Value::Sequence(_)) || has_complex_key(value)
    })
}

/// kubectl writes `clusters: null` for an empty list.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
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
        serde_yaml::from_str(text).unwrap()
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

    /// Found by fuzzing: a mapping used as a key made `to_yaml` panic,
    /// since serde_yaml cannot write one in block style.
    #[test]
    fn list_and_mapping_keys_are_refused() {
        for text in [
            "-:\n ? me:\n",
            "futureField: {? [a, b] : v}\n",
            "clusters:\n- name: c\n  cluster:\n    extensions:\n    - name: e\n      extension: [{? {a: 1} : v}]\n",
            "users:\n- name: u\n  user:\n    exec: {args: [{? !t [x] : y}]}\n",
        ] {
            assert_eq!(Kubeconfig::parse(text), Err(ModelError::ComplexKey), "{text}");
        }
        let scalar_keys =
            Kubeconfig::parse("futureField: {1: a, true: b, ~: c, 1.5: d}\n").unwrap();
        assert_eq!(
            Kubeconfig::parse(&scalar_keys.to_yaml()).unwrap(),
            scalar_keys
        );
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
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap())
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
        assert!(matches!(err, ModelError::At { .. }), "{err:?}");

        let err = Kubeconfig::parse("clusters: [\n  {name: \"unterminated\n").unwrap_err();
        assert!(matches!(err, ModelError::At { line: 2 | 3, .. }), "{err:?}");
        assert!(!err.to_string().contains("unterminated"));
    }
}
