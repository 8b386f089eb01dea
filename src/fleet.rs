//! Fleet files (DESIGN.md section 10): which clusters a kubeconfig should
//! hold. Read with kubectl's YAML meaning and validated whole before any
//! request; every error names the file, the line and the key.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::kubeconfig::type_name;
use crate::provider::{ProviderConfig, ProviderKind, Signature};
use crate::settings::{parse_endpoint, parse_ttl_minutes, validate_context_name, HttpSettings};
use crate::yaml::{position_of, read_first, PathDisplay, Segment};

pub const API_VERSION: &str = "kubefetch/v1";
pub const KIND: &str = "Fleet";

/// A validated fleet file.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// Recorded as provenance `fleet`; what `--prune` goes by.
    pub name: Option<String>,
    pub entries: Vec<FleetEntry>,
}

/// One item of `clusters`, its defaults applied.
#[derive(Debug, Clone)]
pub struct FleetEntry {
    pub config: ProviderConfig,
    pub clusters: Clusters,
    /// `context`: only with one id.
    pub context: Option<String>,
    /// `exec: true`: the exec credential mode of fetch commands.
    pub exec: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clusters {
    Ids(Vec<String>),
    /// `all: true`: every running cluster discovery finds.
    All,
}

impl Fleet {
    /// The context names of the clusters listed by id.
    pub fn listed_names(&self) -> Vec<String> {
        self.entries
            .iter()
            .flat_map(|entry| match &entry.clusters {
                Clusters::Ids(ids) => ids.iter().map(|id| entry.entry_name(id)).collect(),
                Clusters::All => Vec::new(),
            })
            .collect()
    }
}

impl FleetEntry {
    /// The name of a cluster's context, cluster and user entries.
    pub fn entry_name(&self, cluster_id: &str) -> String {
        match &self.context {
            Some(name) => name.clone(),
            None => self.config.entry_name(cluster_id),
        }
    }
}

/// `FILE:LINE: KEY: what is wrong`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {reason}")]
pub struct FleetError {
    pub file: String,
    pub line: usize,
    pub key: String,
    pub reason: String,
}

/// Options an entry (or `defaults`) may set, by their long names.
const OPTIONS: [&str; 10] = [
    "region",
    "project-id",
    "private",
    "ttl",
    "profile",
    "endpoint",
    "exec",
    "insecure-skip-tls-verify",
    "signature-v2",
    "context",
];

/// The options each provider takes, as on its command line.
fn takes(kind: ProviderKind, option: &str) -> bool {
    match option {
        "private" | "endpoint" | "exec" | "context" => true,
        "region" => kind != ProviderKind::Ucs,
        "ttl" => matches!(kind, ProviderKind::Ack | ProviderKind::Cce),
        "profile" => matches!(kind, ProviderKind::Tke | ProviderKind::Ack),
        "project-id" => kind == ProviderKind::Cce,
        "insecure-skip-tls-verify" => matches!(kind, ProviderKind::Cce | ProviderKind::Ucs),
        "signature-v2" => kind == ProviderKind::Ack,
        _ => false,
    }
}

/// Reads and validates a fleet file; `file` is how errors name it.
pub fn parse(file: &str, text: &str, http: &HttpSettings) -> Result<Fleet, FleetError> {
    let reader = Reader { file, text };
    let tree = read_first(text).map_err(|e| FleetError {
        file: file.to_string(),
        line: e.position.map_or(1, |p| p.line),
        key: key_text(&e.path),
        reason: e.reason.clone(),
    })?;
    let top = reader.mapping(&tree, &[])?;
    reader.only_keys(
        top,
        &[],
        &["apiVersion", "kind", "name", "defaults", "clusters"],
    )?;
    for (key, want) in [("apiVersion", API_VERSION), ("kind", KIND)] {
        let path = [key_segment(key)];
        match top.get(key) {
            None => return Err(reader.error(&[], key, format!("missing; expected {want}"))),
            Some(Value::String(s)) if s == want => {}
            Some(_) => return Err(reader.at(&path, format!("expected {want}"))),
        }
    }
    let name = match top.get("name") {
        None => None,
        Some(value) => {
            let path = [key_segment("name")];
            let name = reader.string(value, &path)?;
            validate_context_name(&name).map_err(|_| {
                reader.at(
                    &path,
                    "a fleet name is non-empty, without '/' or control characters",
                )
            })?;
            Some(name)
        }
    };
    let defaults = match top.get("defaults") {
        None => Options::default(),
        Some(value) => {
            let path = vec![key_segment("defaults")];
            let map = reader.mapping(value, &path)?;
            if map.contains_key("context") {
                return Err(reader.at(
                    &[key_segment("defaults"), key_segment("context")],
                    "context names one cluster; set it on an entry with one id",
                ));
            }
            reader.options(map, &path, &OPTIONS)?
        }
    };
    let clusters_path = [key_segment("clusters")];
    let Some(clusters) = top.get("clusters") else {
        return Err(reader.error(&[], "clusters", "missing; list the clusters"));
    };
    let Value::Array(items) = clusters else {
        return Err(reader.at(&clusters_path, "expected a list of entries"));
    };
    let mut entries = Vec::with_capacity(items.len());
    let mut names: HashMap<String, Vec<Segment>> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        let path = vec![key_segment("clusters"), Segment::Index(index)];
        let entry = reader.entry(item, &path, &defaults, http)?;
        if let Clusters::Ids(ids) = &entry.clusters {
            for (i, id) in ids.iter().enumerate() {
                let name = entry.entry_name(id);
                let mut here = path.clone();
                here.extend([key_segment("ids"), Segment::Index(i)]);
                if let Some(first) = names.get(&name) {
                    return Err(reader.at(
                        &here,
                        format!(
                            "context name {name} is already yielded by {} (line {})",
                            PathDisplay(first),
                            reader.line(first)
                        ),
                    ));
                }
                names.insert(name, here);
            }
        }
        entries.push(entry);
    }
    Ok(Fleet { name, entries })
}

/// The options of an entry or of `defaults`, as given.
#[derive(Debug, Clone, Default)]
struct Options {
    region: Option<String>,
    project_id: Option<String>,
    private: Option<bool>,
    ttl_minutes: Option<u64>,
    profile: Option<String>,
    endpoint: Option<reqwest::Url>,
    exec: Option<bool>,
    insecure: Option<bool>,
    signature_v2: Option<bool>,
    context: Option<String>,
}

impl Options {
    /// `self` over `defaults`, keeping only what `kind` takes from the defaults.
    fn over(self, defaults: &Options, kind: ProviderKind) -> Options {
        let d = |option: &str| takes(kind, option);
        Options {
            region: self
                .region
                .or(defaults.region.clone().filter(|_| d("region"))),
            project_id: self
                .project_id
                .or(defaults.project_id.clone().filter(|_| d("project-id"))),
            private: self.private.or(defaults.private),
            ttl_minutes: self
                .ttl_minutes
                .or(defaults.ttl_minutes.filter(|_| d("ttl"))),
            profile: self
                .profile
                .or(defaults.profile.clone().filter(|_| d("profile"))),
            endpoint: self.endpoint.or(defaults.endpoint.clone()),
            exec: self.exec.or(defaults.exec),
            insecure: self
                .insecure
                .or(defaults.insecure.filter(|_| d("insecure-skip-tls-verify"))),
            signature_v2: self
                .signature_v2
                .or(defaults.signature_v2.filter(|_| d("signature-v2"))),
            context: self.context,
        }
    }
}

struct Reader<'a> {
    file: &'a str,
    text: &'a str,
}

impl Reader<'_> {
    fn line(&self, path: &[Segment]) -> usize {
        position_of(self.text, path).map_or(1, |p| p.line)
    }

    /// An error placed at `path` and named by it.
    fn at(&self, path: &[Segment], reason: impl Into<String>) -> FleetError {
        FleetError {
            file: self.file.to_string(),
            line: self.line(path),
            key: key_text(path),
            reason: reason.into(),
        }
    }

    /// An error about `key` of the mapping at `parent` (a missing key: the parent's line).
    fn error(&self, parent: &[Segment], key: &str, reason: impl Into<String>) -> FleetError {
        let mut named = parent.to_vec();
        named.push(key_segment(key));
        FleetError {
            file: self.file.to_string(),
            line: self.line(parent),
            key: key_text(&named),
            reason: reason.into(),
        }
    }

    fn mapping<'v>(
        &self,
        value: &'v Value,
        path: &[Segment],
    ) -> Result<&'v Map<String, Value>, FleetError> {
        match value {
            Value::Object(map) => Ok(map),
            other => Err(self.at(
                path,
                format!("expected a mapping, not {}", type_name(other)),
            )),
        }
    }

    fn string(&self, value: &Value, path: &[Segment]) -> Result<String, FleetError> {
        match value {
            Value::String(s) => Ok(s.clone()),
            other => Err(self.at(path, format!("expected a string, not {}", type_name(other)))),
        }
    }

    fn boolean(&self, value: &Value, path: &[Segment]) -> Result<bool, FleetError> {
        match value {
            Value::Bool(b) => Ok(*b),
            other => Err(self.at(
                path,
                format!("expected true or false, not {}", type_name(other)),
            )),
        }
    }

    fn only_keys(
        &self,
        map: &Map<String, Value>,
        path: &[Segment],
        allowed: &[&str],
    ) -> Result<(), FleetError> {
        match map.keys().find(|key| !allowed.contains(&key.as_str())) {
            Some(key) => {
                let mut here = path.to_vec();
                here.push(key_segment(key));
                Err(self.at(
                    &here,
                    format!("unknown key (expected one of: {})", allowed.join(", ")),
                ))
            }
            None => Ok(()),
        }
    }

    /// The options in `map` (other keys are the caller's), each checked for its type.
    fn options(
        &self,
        map: &Map<String, Value>,
        path: &[Segment],
        allowed: &[&str],
    ) -> Result<Options, FleetError> {
        self.only_keys(map, path, allowed)?;
        let mut options = Options::default();
        for (key, value) in map {
            let mut here = path.to_vec();
            here.push(key_segment(key));
            let here = &here[..];
            match key.as_str() {
                "region" => options.region = Some(self.string(value, here)?),
                "project-id" => options.project_id = Some(self.string(value, here)?),
                "profile" => options.profile = Some(self.string(value, here)?),
                "context" => {
                    let name = self.string(value, here)?;
                    validate_context_name(&name).map_err(|e| self.at(here, e.message))?;
                    options.context = Some(name);
                }
                "private" => options.private = Some(self.boolean(value, here)?),
                "exec" => options.exec = Some(self.boolean(value, here)?),
                "insecure-skip-tls-verify" => options.insecure = Some(self.boolean(value, here)?),
                "signature-v2" => options.signature_v2 = Some(self.boolean(value, here)?),
                "ttl" => {
                    let text = match value {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        other => {
                            return Err(self.at(
                                here,
                                format!(
                                    "expected a duration (60, 90m, 3h, 2d), not {}",
                                    type_name(other)
                                ),
                            ))
                        }
                    };
                    options.ttl_minutes =
                        Some(parse_ttl_minutes(&text).map_err(|e| self.at(here, e.message))?);
                }
                "endpoint" => {
                    let url = self.string(value, here)?;
                    options.endpoint = Some(
                        parse_endpoint(&url, "the fleet file")
                            .map_err(|e| self.at(here, e.message))?,
                    );
                }
                _ => {}
            }
        }
        Ok(options)
    }

    fn entry(
        &self,
        item: &Value,
        path: &[Segment],
        defaults: &Options,
        http: &HttpSettings,
    ) -> Result<FleetEntry, FleetError> {
        let map = self.mapping(item, path)?;
        let mut allowed = vec!["provider", "ids", "all"];
        allowed.extend(OPTIONS);
        self.only_keys(map, path, &allowed)?;
        let here = |key: &str| {
            let mut p = path.to_vec();
            p.push(key_segment(key));
            p
        };
        let Some(provider) = map.get("provider") else {
            return Err(self.error(path, "provider", "missing; one of tke, ack, cce, ucs"));
        };
        let kind = ProviderKind::from_name(&self.string(provider, &here("provider"))?).ok_or_else(
            || {
                self.at(
                    &here("provider"),
                    "unknown provider (expected tke, ack, cce or ucs)",
                )
            },
        )?;
        if let Some(key) = map
            .keys()
            .find(|key| OPTIONS.contains(&key.as_str()) && !takes(kind, key))
        {
            return Err(self.at(&here(key), format!("{kind} does not take {key}")));
        }
        let mut options_only = map.clone();
        for key in ["provider", "ids", "all"] {
            options_only.remove(key);
        }
        let options = self
            .options(&options_only, path, &OPTIONS)?
            .over(defaults, kind);
        let all = match map.get("all") {
            None => false,
            Some(value) => self.boolean(value, &here("all"))?,
        };
        let clusters = match (map.get("ids"), all) {
            (Some(_), true) => {
                return Err(self.at(&here("all"), "give either ids or all: true, not both"))
            }
            (None, true) => Clusters::All,
            (None, false) => {
                return Err(self.error(
                    path,
                    "ids",
                    "missing; list the cluster ids, or set all: true",
                ))
            }
            (Some(ids), false) => Clusters::Ids(self.ids(kind, ids, &here("ids"))?),
        };
        if options.context.is_some() {
            let several = match &clusters {
                Clusters::All => true,
                Clusters::Ids(ids) => ids.len() > 1,
            };
            if several {
                return Err(self.at(
                    &here("context"),
                    "context names one cluster; this entry has several",
                ));
            }
        }
        let mut config = ProviderConfig::new(kind, http.clone());
        config.region = options.region;
        config.project_id = options.project_id;
        config.private = options.private.unwrap_or(false);
        config.ttl_minutes = options.ttl_minutes;
        config.profile = options.profile;
        config.endpoint = options.endpoint;
        config.insecure = options.insecure.unwrap_or(false);
        if options.signature_v2 == Some(true) {
            config.signature = Signature::RoaV2;
        }
        let exec = options.exec.unwrap_or(false);
        if exec && config.ttl_minutes.is_none() {
            config.ttl_minutes = kind.exec_default_ttl();
        }
        Ok(FleetEntry {
            config,
            clusters,
            context: options.context,
            exec,
        })
    }

    fn ids(
        &self,
        kind: ProviderKind,
        value: &Value,
        path: &[Segment],
    ) -> Result<Vec<String>, FleetError> {
        let Value::Array(items) = value else {
            return Err(self.at(
                path,
                format!("expected a list of cluster ids, not {}", type_name(value)),
            ));
        };
        if items.is_empty() {
            return Err(self.at(
                path,
                "empty; list at least one cluster id, or set all: true",
            ));
        }
        let mut ids: Vec<String> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let mut here = path.to_vec();
            here.push(Segment::Index(i));
            let id = self.string(item, &here)?;
            kind.validate_cluster_id(&id)
                .map_err(|e| self.at(&here, e.message))?;
            if ids.contains(&id) {
                return Err(self.at(&here, format!("{id} is listed twice")));
            }
            ids.push(id);
        }
        Ok(ids)
    }
}

fn key_segment(key: &str) -> Segment {
    Segment::Key(key.to_string())
}

fn key_text(path: &[Segment]) -> String {
    if path.is_empty() {
        "(document)".to_string()
    } else {
        PathDisplay(path).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http() -> HttpSettings {
        crate::testing::http_settings()
    }

    const GOOD: &str = "\
apiVersion: kubefetch/v1
kind: Fleet
name: platform
defaults: {private: false, exec: false, ttl: 3h}
clusters:
- {provider: tke, region: ap-guangzhou, ids: [cls-a, cls-b]}
- {provider: ack, region: cn-hangzhou, ids: [c5b5e80b], ttl: 60, private: yes}
- {provider: ack, region: cn-beijing, ids: [c7d], context: prod-bj}
- {provider: cce, region: eu-de, all: true}
- {provider: ucs, ids: [5e6f7081-2b3c-11ee-9da1-0255ac100011], exec: true}
";

    #[test]
    fn a_fleet_becomes_provider_configs_as_flags_would() {
        let fleet = parse("f.yaml", GOOD, &http()).unwrap();
        assert_eq!(fleet.name.as_deref(), Some("platform"));
        let e = &fleet.entries;
        assert_eq!(e.len(), 5);
        assert_eq!(
            e[0].config.ttl_minutes, None,
            "tke takes no ttl from defaults"
        );
        assert_eq!(
            e[0].clusters,
            Clusters::Ids(vec!["cls-a".into(), "cls-b".into()])
        );
        assert_eq!(e[1].config.ttl_minutes, Some(60));
        assert!(e[1].config.private, "YAML 1.1 yes is true");
        assert_eq!(e[1].entry_name("c5b5e80b"), "ack-c5b5e80b-private");
        assert_eq!(e[2].entry_name("c7d"), "prod-bj");
        assert_eq!(e[3].clusters, Clusters::All);
        assert_eq!(e[3].config.ttl_minutes, Some(180));
        assert!(e[4].exec);
        assert_eq!(e[4].config.ttl_minutes, None, "ucs sets its own lifetime");
        let exec_ack = "apiVersion: kubefetch/v1\nkind: Fleet\nclusters:\n- {provider: ack, ids: [c1], exec: true}\n";
        let fleet = parse("f.yaml", exec_ack, &http()).unwrap();
        assert_eq!(
            fleet.entries[0].config.ttl_minutes,
            Some(60),
            "exec's default, as --exec"
        );
    }

    fn error(text: &str) -> String {
        parse("fleet.yaml", text, &http()).unwrap_err().to_string()
    }

    const HEAD: &str = "apiVersion: kubefetch/v1\nkind: Fleet\nname: p\nclusters:\n";

    #[test]
    fn every_invalid_file_names_the_line_and_the_key() {
        let cases = [
            ("- {provider: tke, ids: [cls-a], colour: red}\n", "fleet.yaml:5: clusters[0].colour: unknown key"),
            ("- {provider: tke, ids: [cls-a], private: maybe}\n", "fleet.yaml:5: clusters[0].private: expected true or false"),
            ("- {provider: gke, ids: [cls-a]}\n", "fleet.yaml:5: clusters[0].provider: unknown provider"),
            ("- provider: tke\n  ids: [cls-a, cls-b]\n  context: x\n", "fleet.yaml:7: clusters[0].context: context names one cluster"),
            ("- {provider: tke, ids: [cls-a]}\n- {provider: tke, ids: [cls-b, cls-a]}\n", "fleet.yaml:6: clusters[1].ids[1]: context name tke-cls-a is already yielded by clusters[0].ids[0] (line 5)"),
            ("- {provider: tke, ids: [../x]}\n", "fleet.yaml:5: clusters[0].ids[0]: malformed cluster id"),
            ("- {provider: tke, ids: [cls-a], ttl: 3h}\n", "fleet.yaml:5: clusters[0].ttl: tke does not take ttl"),
            ("- {provider: ucs, ids: [5e6f7081-2b3c-11ee-9da1-0255ac100011], region: x}\n", "fleet.yaml:5: clusters[0].region: ucs does not take region"),
            ("- {provider: tke, ids: [cls-a], all: true}\n", "fleet.yaml:5: clusters[0].all: give either ids or all"),
            ("- {provider: tke}\n", "fleet.yaml:5: clusters[0].ids: missing"),
            ("-\n  region: x\n  ids: [cls-a]\n", "fleet.yaml:6: clusters[0].provider: missing"),
            ("- {provider: ack, ids: [c1], ttl: soon}\n", "fleet.yaml:5: clusters[0].ttl: invalid --ttl"),
            ("- {provider: cce, ids: [not-a-uuid]}\n", "fleet.yaml:5: clusters[0].ids[0]: malformed cce cluster id"),
            ("- {provider: tke, ids: [cls-a], endpoint: 'http://10.0.0.1'}\n", "fleet.yaml:5: clusters[0].endpoint: refusing plain http"),
        ];
        for (entries, expected) in cases {
            let message = error(&format!("{HEAD}{entries}"));
            assert!(
                message.starts_with(expected),
                "{message}\n  expected {expected}"
            );
        }
        let head = error("kind: Fleet\nclusters: []\n");
        assert!(
            head.starts_with("fleet.yaml:1: apiVersion: missing"),
            "{head}"
        );
        let kind = error("apiVersion: kubefetch/v1\nkind: Flotilla\nclusters: []\n");
        assert!(
            kind.starts_with("fleet.yaml:2: kind: expected Fleet"),
            "{kind}"
        );
        let defaults =
            error("apiVersion: kubefetch/v1\nkind: Fleet\ndefaults:\n  context: x\nclusters: []\n");
        assert!(
            defaults.starts_with("fleet.yaml:4: defaults.context:"),
            "{defaults}"
        );
        let broken = error("apiVersion: kubefetch/v1\nclusters: [\n");
        assert!(broken.starts_with("fleet.yaml:"), "{broken}");
    }
}
