//! `kubefetch remove`: contexts out of the set, with their cluster and user
//! entries once no remaining context in any file uses them, their exec
//! cache entries, and a `current-context` naming them unset everywhere.
//! One locked, atomic write per file.

use std::collections::HashSet;
use std::path::Path;

use crate::cache::{self, Cache};
use crate::env::Env;
use crate::error::Failure;
use crate::kubeconfig::model::Kubeconfig;
use crate::kubeconfig::provenance::Provenance;
use crate::kubeconfig::set::{Entry, KubeconfigSet};
use crate::kubeconfig::store::{update, StoreOptions};
use crate::report::print_data;
use crate::settings::RemoveInvocation;
use crate::ui::Ui;

use super::{foreign_context, list, load_set, unknown_context};

const COMMAND: &str = "remove";

/// One context to remove from one file.
struct Doomed {
    file: usize,
    name: String,
    cluster: Option<String>,
    user: Option<String>,
    provenance: Option<Provenance>,
}

/// What one file loses.
#[derive(Debug, Default)]
struct FilePlan {
    contexts: Vec<String>,
    clusters: Vec<String>,
    users: Vec<String>,
    unset_current: Option<String>,
}

impl FilePlan {
    fn is_empty(&self) -> bool {
        self.contexts.is_empty() && self.unset_current.is_none()
    }
}

pub fn run(invocation: RemoveInvocation, env: Env) -> i32 {
    let ui = Ui::new(invocation.verbosity);
    let fail = |failure: &Failure| {
        eprintln!("{}", failure.render());
        failure.kind.exit_code()
    };
    let set = match load_set(invocation.kubeconfig.as_deref(), &env) {
        Ok(set) => set,
        Err(failure) => return fail(&failure),
    };
    let doomed = match select(&set, &invocation, &env, ui) {
        Ok(doomed) => doomed,
        Err(failures) => {
            for failure in &failures[1..] {
                eprintln!("{}", failure.render());
            }
            return fail(&failures[0]);
        }
    };
    if doomed.is_empty() {
        ui.info("No context matched; nothing was removed");
        return 0;
    }
    let plans = plan(&set, &doomed);
    if invocation.dry_run {
        return print_data("the removal plan", &dry_run(&set, &plans), 0);
    }
    let mut code = 0;
    for (index, plan) in plans.iter().enumerate() {
        if plan.is_empty() {
            continue;
        }
        let path = &set.files[index].path;
        let written = update(
            path,
            &StoreOptions {
                lock_timeout: invocation.lock_timeout,
            },
            |config| Ok(apply(config, plan)),
        );
        match written {
            Ok(done) => {
                for warning in &done.warnings {
                    ui.warn(warning);
                }
                report_file(&done.path, &done.report, ui);
                for entry in doomed.iter().filter(|d| d.file == index) {
                    if let Some(provenance) = &entry.provenance {
                        remove_cache_entries(provenance, &env, ui);
                    }
                }
            }
            Err(e) => {
                let failure = Failure::store(e);
                eprintln!("{}", failure.render());
                if code == 0 {
                    code = failure.kind.exit_code();
                }
            }
        }
    }
    code
}

/// The contexts to remove: every occurrence of each name, or every kubefetch
/// context matching the selectors. A bad name fails before anything changes.
fn select(
    set: &KubeconfigSet,
    invocation: &RemoveInvocation,
    env: &Env,
    ui: Ui,
) -> Result<Vec<Doomed>, Vec<Failure>> {
    let every: Vec<(usize, Entry<'_>)> = set
        .files
        .iter()
        .enumerate()
        .flat_map(|(index, file)| {
            file.config.contexts.iter().map(move |context| {
                (
                    index,
                    Entry {
                        file,
                        context,
                        provenance: Provenance::of(context),
                    },
                )
            })
        })
        .collect();
    let chosen: Vec<&(usize, Entry<'_>)> = if invocation.names.is_empty() {
        let (now, cache) = (env.now(), Cache::locate(env));
        every
            .iter()
            .filter(|(_, entry)| match &entry.provenance {
                Some(Ok(p)) => invocation
                    .provider
                    .is_none_or(|want| want.name() == p.provider),
                Some(Err(e)) => {
                    ui.warn(&format!("{e}; skipped"));
                    false
                }
                None => false,
            })
            .filter(|(_, entry)| {
                !invocation.expired
                    || list::expiry(set, entry, cache.as_ref()).is_some_and(|at| at <= now)
            })
            .collect()
    } else {
        let mut chosen = Vec::new();
        let mut failures = Vec::new();
        for name in &invocation.names {
            let found: Vec<_> = every
                .iter()
                .filter(|(_, e)| &e.context.name == name)
                .collect();
            if found.is_empty() {
                failures.push(unknown_context(
                    COMMAND,
                    name,
                    set,
                    "`kubefetch list --all` shows every context; nothing was removed",
                ));
            }
            for occurrence in found {
                let (_, entry) = occurrence;
                if entry.provenance.is_none() && !invocation.force {
                    failures.push(foreign_context(
                        COMMAND,
                        name,
                        &entry.file.path,
                        "pass --force to remove it anyway; nothing was removed",
                    ));
                }
                chosen.push(occurrence);
            }
        }
        if !failures.is_empty() {
            return Err(failures);
        }
        chosen
    };
    Ok(chosen
        .into_iter()
        .map(|(index, entry)| Doomed {
            file: *index,
            name: entry.context.name.clone(),
            cluster: entry.context.context.cluster.clone(),
            user: entry.context.context.user.clone(),
            provenance: entry.provenance.clone().and_then(Result::ok),
        })
        .collect())
}

/// Per file of the set: what it loses. A cluster or user goes, from the
/// file of the removed context, only when no remaining context of any
/// file uses it; a current-context naming a removed context is unset in
/// every file.
fn plan(set: &KubeconfigSet, doomed: &[Doomed]) -> Vec<FilePlan> {
    let gone: HashSet<(usize, &str)> = doomed.iter().map(|d| (d.file, d.name.as_str())).collect();
    let mut used_clusters = HashSet::new();
    let mut used_users = HashSet::new();
    let mut remaining_names = HashSet::new();
    for (index, file) in set.files.iter().enumerate() {
        for context in &file.config.contexts {
            if gone.contains(&(index, context.name.as_str())) {
                continue;
            }
            remaining_names.insert(context.name.as_str());
            used_clusters.extend(context.context.cluster.as_deref());
            used_users.extend(context.context.user.as_deref());
        }
    }
    let mut plans: Vec<FilePlan> = set.files.iter().map(|_| FilePlan::default()).collect();
    for d in doomed {
        let file = &set.files[d.file].config;
        let plan = &mut plans[d.file];
        if !plan.contexts.contains(&d.name) {
            plan.contexts.push(d.name.clone());
        }
        if let Some(cluster) = &d.cluster {
            if !used_clusters.contains(cluster.as_str())
                && file.clusters.iter().any(|c| &c.name == cluster)
                && !plan.clusters.contains(cluster)
            {
                plan.clusters.push(cluster.clone());
            }
        }
        if let Some(user) = &d.user {
            if !used_users.contains(user.as_str())
                && file.users.iter().any(|u| &u.name == user)
                && !plan.users.contains(user)
            {
                plan.users.push(user.clone());
            }
        }
    }
    for (index, file) in set.files.iter().enumerate() {
        if let Some(current) = file.config.current_context.as_deref() {
            let removed = doomed.iter().any(|d| d.name == current);
            if removed && !remaining_names.contains(current) {
                plans[index].unset_current = Some(current.to_string());
            }
        }
    }
    plans
}

/// Removes the contexts `names` from one kubeconfig, as read under its
/// lock, by `remove`'s rules: a cluster or user goes only when no remaining
/// context uses it, a `current-context` naming one is unset.
pub fn remove_from(config: &mut Kubeconfig, names: &[String]) -> Removed {
    let mut plan = FilePlan::default();
    for context in config.contexts.iter().filter(|c| names.contains(&c.name)) {
        if !plan.contexts.contains(&context.name) {
            plan.contexts.push(context.name.clone());
        }
        plan.clusters.extend(context.context.cluster.clone());
        plan.users.extend(context.context.user.clone());
    }
    plan.unset_current = config
        .current_context
        .clone()
        .filter(|current| names.contains(current));
    apply(config, &plan)
}

/// What was removed from one file, for the report.
#[derive(Debug, Default)]
pub struct Removed {
    pub contexts: Vec<String>,
    pub clusters: Vec<String>,
    pub users: Vec<String>,
    pub unset_current: Option<String>,
}

/// Applies a plan to the file as read under its lock: a cluster or user is
/// kept if a context of this file took it up meanwhile.
fn apply(config: &mut Kubeconfig, plan: &FilePlan) -> Removed {
    let mut removed = Removed::default();
    config.contexts.retain(|c| {
        let doomed = plan.contexts.contains(&c.name);
        if doomed && !removed.contexts.contains(&c.name) {
            removed.contexts.push(c.name.clone());
        }
        !doomed
    });
    let still_used = |config: &Kubeconfig, cluster: Option<&str>, user: Option<&str>| {
        config.contexts.iter().any(|c| {
            (cluster.is_some() && c.context.cluster.as_deref() == cluster)
                || (user.is_some() && c.context.user.as_deref() == user)
        })
    };
    for cluster in &plan.clusters {
        if !still_used(config, Some(cluster), None) {
            let before = config.clusters.len();
            config.clusters.retain(|c| &c.name != cluster);
            if config.clusters.len() < before {
                removed.clusters.push(cluster.clone());
            }
        }
    }
    for user in &plan.users {
        if !still_used(config, None, Some(user)) {
            let before = config.users.len();
            config.users.retain(|u| &u.name != user);
            if config.users.len() < before {
                removed.users.push(user.clone());
            }
        }
    }
    if let Some(name) = &plan.unset_current {
        if config.current_context.as_deref() == Some(name.as_str()) {
            config.current_context = None;
            removed.unset_current = Some(name.clone());
        }
    }
    removed
}

pub fn report_file(path: &Path, removed: &Removed, ui: Ui) {
    let file = path.display();
    for context in &removed.contexts {
        ui.info(&format!("Removed context {context} from {file}"));
    }
    for cluster in &removed.clusters {
        ui.info(&format!("Removed cluster {cluster} from {file}"));
    }
    for user in &removed.users {
        ui.info(&format!("Removed user {user} from {file}"));
    }
    if let Some(name) = &removed.unset_current {
        ui.note(&format!(
            "current-context was {name}, which was removed; unset it in {file}"
        ));
    }
}

fn dry_run(set: &KubeconfigSet, plans: &[FilePlan]) -> String {
    let mut out = String::new();
    for (file, plan) in set.files.iter().zip(plans) {
        let path = file.path.display();
        for (what, names) in [
            ("context", &plan.contexts),
            ("cluster", &plan.clusters),
            ("user", &plan.users),
        ] {
            for name in names {
                out.push_str(&format!("would remove {what} {name} from {path}\n"));
            }
        }
        if let Some(name) = &plan.unset_current {
            out.push_str(&format!("would unset current-context {name} in {path}\n"));
        }
    }
    out
}

/// The exec credential cache entries of a removed exec context (a context
/// with a key has none: the entries of its cluster are another context's).
pub fn remove_cache_entries(p: &Provenance, env: &Env, ui: Ui) {
    let Some(cache) = Cache::locate(env) else {
        return;
    };
    if !p.exec {
        return;
    }
    for (path, removed) in cache.remove_entries_of(&cache::entry_name(p)) {
        match removed {
            Ok(()) => ui.detail(&format!("removed the cached credential {}", path.display())),
            Err(e) => ui.warn(&format!(
                "cannot remove the cached credential {}: {e}",
                path.display()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::kubeconfig::set::SetFile;

    fn set(files: &[&str]) -> KubeconfigSet {
        KubeconfigSet {
            files: files
                .iter()
                .enumerate()
                .map(|(i, text)| SetFile {
                    path: PathBuf::from(format!("/k/{i}")),
                    config: Kubeconfig::parse(text).unwrap(),
                })
                .collect(),
        }
    }

    fn doomed(file: usize, name: &str, cluster: &str, user: &str) -> Doomed {
        Doomed {
            file,
            name: name.into(),
            cluster: Some(cluster.into()),
            user: Some(user.into()),
            provenance: None,
        }
    }

    #[test]
    fn shared_entries_stay_until_no_context_of_any_file_uses_them() {
        let set = set(&[
            "current-context: a\ncontexts:\n- {name: a, context: {cluster: shared, user: ua}}\n- {name: b, context: {cluster: shared, user: ub}}\nclusters:\n- {name: shared, cluster: {server: 'https://s'}}\nusers:\n- {name: ua, user: {token: ta}}\n- {name: ub, user: {token: tb}}\n",
            "current-context: a\ncontexts:\n- {name: c, context: {cluster: other, user: ub}}\n",
        ]);
        let plans = plan(&set, &[doomed(0, "a", "shared", "ua")]);
        assert_eq!(plans[0].contexts, ["a"]);
        assert!(plans[0].clusters.is_empty(), "b still uses the cluster");
        assert_eq!(plans[0].users, ["ua"]);
        assert_eq!(plans[0].unset_current.as_deref(), Some("a"));
        assert_eq!(plans[1].unset_current.as_deref(), Some("a"));
        assert!(plans[1].contexts.is_empty());

        let plans = plan(
            &set,
            &[
                doomed(0, "a", "shared", "ua"),
                doomed(0, "b", "shared", "ub"),
            ],
        );
        assert_eq!(plans[0].clusters, ["shared"]);
        assert_eq!(plans[0].users, ["ua"], "c in the other file still uses ub");
    }

    #[test]
    fn applying_under_the_lock_keeps_what_a_new_context_took_up() {
        let mut config = Kubeconfig::parse(
            "current-context: a\ncontexts:\n- {name: a, context: {cluster: a, user: a}}\n- {name: new, context: {cluster: a, user: other}}\nclusters:\n- {name: a}\nusers:\n- {name: a}\n",
        )
        .unwrap();
        let removed = apply(
            &mut config,
            &FilePlan {
                contexts: vec!["a".into()],
                clusters: vec!["a".into()],
                users: vec!["a".into()],
                unset_current: Some("a".into()),
            },
        );
        assert_eq!(removed.contexts, ["a"]);
        assert!(removed.clusters.is_empty());
        assert_eq!(removed.users, ["a"]);
        assert_eq!(config.current_context, None);
        assert_eq!(config.clusters.len(), 1);
        assert!(config.users.is_empty());
    }
}
