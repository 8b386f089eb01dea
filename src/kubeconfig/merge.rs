//! Merges fetched entries into a kubeconfig. Entries kubefetch wrote before
//! are replaced where they stand, so a re-run is idempotent; entries it did
//! not write are never overwritten without `force`. Nothing else changes.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::model::Kubeconfig;
use super::normalize::Fetched;
use super::provenance::{owned_by_kubefetch, Provenance};

#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// Replace same-named entries that kubefetch did not write.
    pub force: bool,
    /// The context to make current.
    pub switch_to: Option<String>,
}

/// Context names, in the order they were merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    pub added: Vec<String>,
    pub replaced: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Context,
    Cluster,
    User,
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryKind::Context => "context",
            EntryKind::Cluster => "cluster",
            EntryKind::User => "user",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("a {what} named {name} already exists and was not written by kubefetch")]
    Foreign { name: String, what: EntryKind },
    #[error("context {name} already points at the {existing}; replacing it with the {fetched} would silently repoint it")]
    Repointed {
        name: String,
        existing: String,
        fetched: String,
    },
}

/// Where one fetched cluster's entries go: the index of the entry they
/// replace, or `None` to append.
struct Placement<'f> {
    fetched: &'f Fetched,
    context: Option<usize>,
    cluster: Option<usize>,
    user: Option<usize>,
}

pub fn merge(
    target: &mut Kubeconfig,
    fetched: &[Fetched],
    opts: &MergeOptions,
) -> Result<MergeReport, MergeError> {
    // Every check runs before the first change, so a refusal changes nothing.
    let placements = plan(target, fetched, opts.force)?;
    let mut report = MergeReport::default();
    for placement in placements {
        let f = placement.fetched;
        match placement.context {
            Some(i) => {
                let kept_namespace = target.contexts[i].context.namespace.take();
                target.contexts[i] = f.context.clone();
                target.contexts[i].context.namespace = kept_namespace;
                report.replaced.push(f.name.clone());
            }
            None => {
                target.contexts.push(f.context.clone());
                report.added.push(f.name.clone());
            }
        }
        match placement.cluster {
            Some(i) => target.clusters[i] = f.cluster.clone(),
            None => target.clusters.push(f.cluster.clone()),
        }
        match placement.user {
            Some(i) => target.users[i] = f.user.clone(),
            None => target.users.push(f.user.clone()),
        }
    }
    if let Some(name) = &opts.switch_to {
        target.current_context = Some(name.clone());
    }
    Ok(report)
}

/// Why `fetched` cannot be merged into `target` without `force`, if it
/// cannot: `sync` fails that one entry and merges the others.
pub fn refusal(target: &Kubeconfig, fetched: &Fetched) -> Option<MergeError> {
    plan(target, std::slice::from_ref(fetched), false).err()
}

fn plan<'f>(
    target: &Kubeconfig,
    fetched: &'f [Fetched],
    force: bool,
) -> Result<Vec<Placement<'f>>, MergeError> {
    let contexts = first_index(target.contexts.iter().map(|c| c.name.as_str()));
    let clusters = first_index(target.clusters.iter().map(|c| c.name.as_str()));
    let users = first_index(target.users.iter().map(|u| u.name.as_str()));

    let mut placements = Vec::with_capacity(fetched.len());
    for f in last_of_each_name(fetched) {
        let name = f.name.as_str();
        let context = contexts.get(name).copied();
        let provenance = context.and_then(|i| owned_by_kubefetch(&target.contexts[i]));
        let ours = provenance.is_some();
        if let (Some(existing), false) = (provenance, force) {
            check_same_cluster(name, existing, &f.provenance)?;
        }
        let placement = Placement {
            fetched: f,
            context,
            cluster: clusters.get(name).copied(),
            user: users.get(name).copied(),
        };
        if !force && !ours {
            for (index, what) in [
                (placement.context, EntryKind::Context),
                (placement.cluster, EntryKind::Cluster),
                (placement.user, EntryKind::User),
            ] {
                if index.is_some() {
                    return Err(MergeError::Foreign {
                        name: name.to_owned(),
                        what,
                    });
                }
            }
        }
        placements.push(placement);
    }
    Ok(placements)
}

/// A name kubefetch wrote for one cluster is not reused for another
/// without `force`: commands run against it would reach the wrong cluster.
fn check_same_cluster(
    name: &str,
    existing: &serde_json::Value,
    fetched: &Provenance,
) -> Result<(), MergeError> {
    let field = |key: &str| existing.get(key).and_then(serde_json::Value::as_str);
    let same = field("provider") == Some(fetched.provider.as_str())
        && field("clusterId") == Some(fetched.cluster_id.as_str())
        && (field("region").is_none()
            || fetched.region.is_none()
            || field("region") == fetched.region.as_deref());
    if same {
        return Ok(());
    }
    let describe = |provider: Option<&str>, cluster_id: Option<&str>, region: Option<&str>| {
        let mut text = format!(
            "{} cluster {}",
            provider.unwrap_or("unknown provider's"),
            cluster_id.unwrap_or("(unknown id)")
        );
        if let Some(region) = region {
            text.push_str(&format!(" in {region}"));
        }
        text
    };
    Err(MergeError::Repointed {
        name: name.to_owned(),
        existing: describe(field("provider"), field("clusterId"), field("region")),
        fetched: describe(
            Some(&fetched.provider),
            Some(&fetched.cluster_id),
            fetched.region.as_deref(),
        ),
    })
}

/// Name -> position of its first entry (the one kubectl uses).
fn first_index<'a>(names: impl Iterator<Item = &'a str>) -> HashMap<&'a str, usize> {
    let mut index = HashMap::new();
    for (i, name) in names.enumerate() {
        index.entry(name).or_insert(i);
    }
    index
}

/// The same cluster asked for twice is merged once, with its latest fetch.
fn last_of_each_name(fetched: &[Fetched]) -> Vec<&Fetched> {
    let mut seen = HashSet::new();
    let mut kept: Vec<&Fetched> = fetched
        .iter()
        .rev()
        .filter(|f| seen.insert(f.name.as_str()))
        .collect();
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::testing::{fetched, fetched_of};

    const EXISTING: &str = r#"
apiVersion: v1
kind: Config
preferences: {colors: true}
clusters:
- name: first
  cluster: {server: https://first.example, futureField: x}
- name: tke-a
  cluster: {server: https://old-a.example}
- name: last
  cluster: {server: https://last.example}
users:
- name: first
  user: {token: first-token}
- name: tke-a
  user: {token: old-a}
- name: last
  user: {token: last-token}
contexts:
- name: first
  context: {cluster: first, user: first}
- name: tke-a
  context:
    cluster: tke-a
    user: tke-a
    namespace: team-a
    extensions:
    - name: kubefetch
      extension: {provider: tke, clusterId: tke-a}
- name: last
  context: {cluster: last, user: last}
current-context: first
extensions:
- name: mine
  extension: {keep: me}
futureTopLevel: [1, 2]
"#;

    fn existing() -> Kubeconfig {
        Kubeconfig::parse(EXISTING).unwrap()
    }

    fn names<'a>(items: impl Iterator<Item = &'a String>) -> Vec<&'a str> {
        items.map(String::as_str).collect()
    }

    fn context_names(config: &Kubeconfig) -> Vec<&str> {
        names(config.contexts.iter().map(|c| &c.name))
    }

    fn no_switch() -> MergeOptions {
        MergeOptions::default()
    }

    #[test]
    fn new_names_are_appended() {
        let mut config = existing();
        let report = merge(&mut config, &[fetched("tke-b", "https://b")], &no_switch()).unwrap();
        assert_eq!(report.added, ["tke-b"]);
        assert!(report.replaced.is_empty());
        assert_eq!(context_names(&config), ["first", "tke-a", "last", "tke-b"]);
        assert_eq!(
            names(config.clusters.iter().map(|c| &c.name)),
            ["first", "tke-a", "last", "tke-b"]
        );
        assert_eq!(
            names(config.users.iter().map(|u| &u.name)),
            ["first", "tke-a", "last", "tke-b"]
        );
        assert_eq!(config.current_context.as_deref(), Some("first"));
    }

    #[test]
    fn our_entries_are_replaced_in_place_keeping_the_namespace() {
        let mut config = existing();
        let report = merge(
            &mut config,
            &[fetched("tke-a", "https://new-a")],
            &no_switch(),
        )
        .unwrap();
        assert_eq!(report.replaced, ["tke-a"]);
        assert_eq!(context_names(&config), ["first", "tke-a", "last"]);
        assert_eq!(
            config.clusters[1].cluster.server.as_deref(),
            Some("https://new-a")
        );
        assert_eq!(
            config.users[1].user.token.as_ref().unwrap().expose(),
            "new-token"
        );
        let context = &config.contexts[1];
        assert_eq!(context.context.namespace.as_deref(), Some("team-a"));
        assert_eq!(
            owned_by_kubefetch(context).unwrap()["clusterId"],
            Value::from("tke-a")
        );
    }

    #[test]
    fn a_name_kubefetch_wrote_for_another_cluster_is_not_repointed_without_force() {
        let region = fetched_of("tke", "tke-a", Some("ap-beijing"), "tke-a", "https://a");
        let mut with_region = existing();
        merge(
            &mut with_region,
            std::slice::from_ref(&region),
            &no_switch(),
        )
        .unwrap();
        let other_region = fetched_of("tke", "tke-a", Some("ap-shanghai"), "tke-a", "https://a");
        let other_id = fetched_of("tke", "cls-b", None, "tke-a", "https://b");
        let other_provider = fetched_of("ack", "tke-a", None, "tke-a", "https://c");
        for (new, existing_text, fetched_text) in [
            (&other_id, "tke cluster tke-a", "tke cluster cls-b"),
            (&other_provider, "tke cluster tke-a", "ack cluster tke-a"),
            (
                &other_region,
                "tke cluster tke-a in ap-beijing",
                "tke cluster tke-a in ap-shanghai",
            ),
        ] {
            let mut config = with_region.clone();
            let err = merge(&mut config, std::slice::from_ref(new), &no_switch()).unwrap_err();
            let message = err.to_string();
            assert!(
                message.contains(existing_text) && message.contains(fetched_text),
                "{message}"
            );
            assert_eq!(config, with_region, "a refusal changes nothing");
            let forced = MergeOptions {
                force: true,
                switch_to: None,
            };
            let report = merge(&mut config, std::slice::from_ref(new), &forced).unwrap();
            assert_eq!(report.replaced, ["tke-a"]);
        }
        // The same cluster again is a plain update.
        let mut config = with_region.clone();
        merge(&mut config, &[region], &no_switch()).unwrap();
    }

    #[test]
    fn a_rerun_is_idempotent() {
        let mut once = existing();
        let new = [fetched("tke-b", "https://b")];
        merge(&mut once, &new, &no_switch()).unwrap();
        let mut twice = once.clone();
        let report = merge(&mut twice, &new, &no_switch()).unwrap();
        assert_eq!(report.replaced, ["tke-b"]);
        assert_eq!(twice, once);
    }

    #[test]
    fn foreign_names_are_refused_and_nothing_changes() {
        for (name, what) in [("first", EntryKind::Context), ("last", EntryKind::Context)] {
            let mut config = existing();
            let err = merge(
                &mut config,
                &[fetched("tke-new", "https://n"), fetched(name, "https://x")],
                &no_switch(),
            )
            .unwrap_err();
            assert_eq!(
                err,
                MergeError::Foreign {
                    name: name.into(),
                    what
                }
            );
            assert_eq!(config, existing(), "a refused merge must change nothing");
        }
    }

    #[test]
    fn a_cluster_or_user_without_our_context_is_foreign() {
        let mut config = existing();
        config.contexts.retain(|c| c.name != "last");
        let before = config.clone();
        let err = merge(&mut config, &[fetched("last", "https://x")], &no_switch()).unwrap_err();
        assert_eq!(
            err,
            MergeError::Foreign {
                name: "last".into(),
                what: EntryKind::Cluster
            }
        );
        assert_eq!(config, before);

        config.clusters.retain(|c| c.name != "last");
        let err = merge(&mut config, &[fetched("last", "https://x")], &no_switch()).unwrap_err();
        assert_eq!(
            err,
            MergeError::Foreign {
                name: "last".into(),
                what: EntryKind::User
            }
        );
    }

    #[test]
    fn force_replaces_foreign_entries() {
        let mut config = existing();
        let opts = MergeOptions {
            force: true,
            switch_to: None,
        };
        let report = merge(&mut config, &[fetched("first", "https://forced")], &opts).unwrap();
        assert_eq!(report.replaced, ["first"]);
        assert_eq!(context_names(&config), ["first", "tke-a", "last"]);
        assert_eq!(
            config.clusters[0].cluster.server.as_deref(),
            Some("https://forced")
        );
        assert!(owned_by_kubefetch(&config.contexts[0]).is_some());
    }

    #[test]
    fn switch_to_sets_the_current_context() {
        let mut config = existing();
        let opts = MergeOptions {
            force: false,
            switch_to: Some("tke-b".into()),
        };
        merge(&mut config, &[fetched("tke-b", "https://b")], &opts).unwrap();
        assert_eq!(config.current_context.as_deref(), Some("tke-b"));
    }

    #[test]
    fn everything_else_is_untouched() {
        let mut config = existing();
        merge(
            &mut config,
            &[
                fetched("tke-a", "https://new-a"),
                fetched("tke-b", "https://b"),
            ],
            &no_switch(),
        )
        .unwrap();
        let mut written: Value = crate::yaml::read_first(&config.to_yaml()).unwrap();
        let mut original: Value = crate::yaml::read_first(EXISTING).unwrap();
        for list in ["clusters", "users", "contexts"] {
            let written_list = written[list].as_array_mut().unwrap();
            assert_eq!(written_list.len(), 4);
            written_list.remove(3);
            written_list.remove(1);
            original[list].as_array_mut().unwrap().remove(1);
        }
        assert_eq!(written, original);
    }

    #[test]
    fn the_same_name_twice_is_merged_once_with_the_last_fetch() {
        let mut config = existing();
        let report = merge(
            &mut config,
            &[
                fetched("tke-b", "https://one"),
                fetched("tke-b", "https://two"),
            ],
            &no_switch(),
        )
        .unwrap();
        assert_eq!(report.added, ["tke-b"]);
        assert_eq!(context_names(&config), ["first", "tke-a", "last", "tke-b"]);
        assert_eq!(
            config.clusters[3].cluster.server.as_deref(),
            Some("https://two")
        );
    }
}
