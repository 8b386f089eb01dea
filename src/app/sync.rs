//! `kubefetch sync FILE` (DESIGN.md section 10): fetch every cluster a fleet
//! file lists, concurrently, and merge the successes in one locked write;
//! with `--prune`, remove this fleet's contexts the file no longer lists.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::env::Env;
use crate::error::{ErrorKind, Failure};
use crate::exec::ExecWriter;
use crate::fleet::{Clusters, FleetEntry};
use crate::kubeconfig::locate::locate;
use crate::kubeconfig::merge::{merge, refusal, MergeOptions, MergeReport};
use crate::kubeconfig::model::Kubeconfig;
use crate::kubeconfig::normalize::Fetched;
use crate::kubeconfig::provenance::Provenance;
use crate::kubeconfig::store::{self, check_target, update, StoreError, StoreOptions};
use crate::kubeconfig::MergeError;
use crate::provider::{Discovered, Provider, ProviderConfig, ProviderKind};
use crate::report::{self, print_data, Output, Row, Success};
use crate::settings::SyncInvocation;
use crate::ui::{Progress, Ui};

use super::discover;
use super::fetch::{fetch_all, success, Job, RegionalProviders};
use super::remove::{remove_cache_entries, remove_from, report_file};

const COMMAND: &str = "sync";

/// One line of the plan, in file order.
enum Item {
    /// To fetch: job `job` of the fetch.
    Fetch {
        job: usize,
        provider: &'static str,
        cluster_id: String,
        name: String,
    },
    /// Failed before any fetch request (set-up, discovery, exec).
    Failed {
        provider: &'static str,
        /// Empty for a failed discovery.
        cluster_id: String,
        name: Option<String>,
        failure: Failure,
    },
    /// Discovered, but not running.
    Skipped {
        provider: &'static str,
        cluster_id: String,
        name: String,
        state: String,
    },
}

/// What pruning must leave alone: every name the file yields (fetched,
/// failed or skipped), and whatever an `all: true` whose discovery failed
/// may have written.
#[derive(Default)]
struct Kept {
    names: HashSet<String>,
    undiscovered: Vec<(ProviderKind, Option<String>)>,
}

impl Kept {
    fn keeps(&self, name: &str, p: &Provenance) -> bool {
        self.names.contains(name)
            || self.undiscovered.iter().any(|(kind, region)| {
                kind.name() == p.provider
                    && (region.is_none() || region.as_deref() == p.region.as_deref())
            })
    }
}

pub async fn run(invocation: SyncInvocation, env: Env) -> i32 {
    let ui = Ui::new(invocation.verbosity);
    let env = Arc::new(env);
    let fail = |failure: Failure| report::fail_all(COMMAND, &[], invocation.output, &failure);
    let path = match target(&invocation, &env) {
        Ok(path) => path,
        Err(failure) => return fail(failure),
    };
    let existing = match store::read(&path) {
        Ok(existing) => existing.unwrap_or_default(),
        Err(e) => return fail(Failure::store(e)),
    };
    let (items, jobs, kept) = plan(&invocation, &env, ui).await;
    let fleet = invocation.fleet.name.clone();
    let prunable = |config: &Kubeconfig| -> Vec<(String, Provenance)> {
        if !invocation.prune {
            return Vec::new();
        }
        config
            .contexts
            .iter()
            .filter_map(|c| Some((c.name.clone(), Provenance::of(c)?.ok()?)))
            .filter(|(name, p)| p.fleet.is_some() && p.fleet == fleet && !kept.keeps(name, p))
            .collect()
    };
    if invocation.dry_run {
        return dry_run(&items, &prunable(&existing), &existing, invocation.output);
    }
    let progress = Arc::new(Progress::new(ui, jobs.len()));
    let outcomes = fetch_all(
        jobs,
        env.now(),
        ui,
        invocation.concurrency,
        Arc::clone(&progress),
    )
    .await;
    progress.clear();
    let fetched: Vec<Result<Fetched, Failure>> = outcomes
        .into_iter()
        .map(|o| o.result.map(|f| f.with_fleet(fleet.clone())))
        .collect();
    let successes: Vec<&Fetched> = fetched.iter().filter_map(|f| f.as_ref().ok()).collect();
    let written = if successes.is_empty() && prunable(&existing).is_empty() {
        Ok(Synced::default())
    } else {
        write(&path, &fetched, &invocation, &prunable)
    };
    if let Ok(synced) = &written {
        for warning in &synced.warnings {
            ui.warn(warning);
        }
        for (_, p) in &synced.pruned {
            remove_cache_entries(p, &env, ui);
        }
    }
    let rows = rows(&items, &fetched, &written, &path);
    say(&rows, &written, &path, ui);
    report::conclude(&rows, invocation.output)
}

/// The kubeconfig to sync, refused before any request when it cannot be written.
fn target(invocation: &SyncInvocation, env: &Env) -> Result<PathBuf, Failure> {
    let names = invocation.fleet.listed_names();
    let path = locate(invocation.kubeconfig.as_deref(), env, &names)
        .map_err(|e| Failure::new(ErrorKind::Kubeconfig, e.to_string()))?;
    check_target(&path).map_err(Failure::store)?;
    Ok(path)
}

/// A provider set up for listing, and what it found.
type Discovery = tokio::task::JoinHandle<Result<(Provider, Vec<Discovered>), Failure>>;

/// Starts every `all: true` entry's discovery at once, so that one
/// provider's pages (each a round trip) do not wait for another's; the
/// fetches start once every discovery has ended. An exec entry is not
/// listed when the exec writer cannot be built (`exec_ok` false): it fails.
fn discover_all(
    entries: &[FleetEntry],
    exec_ok: bool,
    env: &Arc<Env>,
    ui: Ui,
) -> Vec<Option<Discovery>> {
    entries
        .iter()
        .map(|entry| {
            let wanted = matches!(entry.clusters, Clusters::All) && (exec_ok || !entry.exec);
            wanted.then(|| tokio::spawn(discover::discover(entry.config.clone(), env.clone(), ui)))
        })
        .collect()
}

/// Every entry in file order: providers set up (one per distinct options),
/// `all: true` discovered, and what each cluster becomes.
async fn plan(invocation: &SyncInvocation, env: &Arc<Env>, ui: Ui) -> (Vec<Item>, Vec<Job>, Kept) {
    let mut items = Vec::new();
    let mut jobs = Vec::new();
    let mut kept = Kept::default();
    let mut built: Vec<(ProviderConfig, Result<Arc<Provider>, Failure>)> = Vec::new();
    // One writer of exec users for every `exec: true` entry.
    let exec = ExecWriter::new(env).map(Arc::new).map_err(|reason| {
        Failure::new(ErrorKind::Internal, format!("{COMMAND}: exec: {reason}")).with_hint(Some(
            "set KUBEFETCH_EXEC_COMMAND to the kubefetch command kubectl should run".into(),
        ))
    });
    // A cluster an entry lists by id wins over the same cluster found by
    // `all: true`; another cluster found under a listed context's name is a
    // conflict, reported.
    let listed: HashSet<(ProviderKind, bool, &str)> = invocation
        .fleet
        .entries
        .iter()
        .flat_map(|entry| match &entry.clusters {
            Clusters::Ids(ids) => ids
                .iter()
                .map(|id| (entry.config.kind, entry.config.private, id.as_str()))
                .collect(),
            Clusters::All => Vec::new(),
        })
        .collect();
    let listed_names: HashSet<String> = invocation.fleet.listed_names().into_iter().collect();
    let mut discoveries = discover_all(&invocation.fleet.entries, exec.is_ok(), env, ui);
    for (entry, discovery) in invocation.fleet.entries.iter().zip(discoveries.iter_mut()) {
        let provider = entry.config.kind.name();
        let exec = match (entry.exec, &exec) {
            (false, _) => Ok(None),
            (true, Ok(writer)) => Ok(Some(Arc::clone(writer))),
            (true, Err(failure)) => Err(failure.clone()),
        };
        let chosen: Vec<(String, Arc<Provider>)> = match (&entry.clusters, &exec) {
            (Clusters::Ids(ids), Err(failure)) => {
                fail_each(&mut items, provider, entry, ids, failure);
                Vec::new()
            }
            (Clusters::All, Err(failure)) => {
                kept.undiscovered
                    .push((entry.config.kind, entry.config.region.clone()));
                items.push(failed(provider, "", None, failure.clone()));
                Vec::new()
            }
            (Clusters::Ids(ids), Ok(_)) => match provider_for(&entry.config, env, ui, &mut built) {
                Ok(built) => ids
                    .iter()
                    .map(|id| (id.clone(), Arc::clone(&built)))
                    .collect(),
                Err(failure) => {
                    fail_each(&mut items, provider, entry, ids, &failure);
                    Vec::new()
                }
            },
            (Clusters::All, Ok(_)) => {
                let discovery = discovery
                    .take()
                    .expect("discover_all starts every entry this arm handles");
                let found = match discovery.await {
                    Ok(found) => found,
                    Err(e) => std::panic::resume_unwind(e.into_panic()),
                };
                match found {
                    Err(failure) => {
                        kept.undiscovered
                            .push((entry.config.kind, entry.config.region.clone()));
                        items.push(failed(provider, "", None, failure));
                        Vec::new()
                    }
                    Ok((lister, found)) => {
                        let mut regional =
                            RegionalProviders::new(&entry.config, Arc::new(lister), env, ui);
                        let mut chosen = Vec::new();
                        for cluster in found {
                            let name = entry.entry_name(&cluster.cluster_id);
                            let this = (
                                entry.config.kind,
                                entry.config.private,
                                cluster.cluster_id.as_str(),
                            );
                            if listed.contains(&this) || !kept.names.insert(name.clone()) {
                                continue;
                            }
                            if listed_names.contains(&name) {
                                items.push(failed(
                                    provider,
                                    &cluster.cluster_id,
                                    Some(name.clone()),
                                    name_taken(provider, &cluster.cluster_id, &name),
                                ));
                                continue;
                            }
                            if !cluster.is_running() {
                                items.push(Item::Skipped {
                                    provider,
                                    cluster_id: cluster.cluster_id,
                                    name,
                                    state: cluster.state,
                                });
                                continue;
                            }
                            match regional.get(cluster.region.as_deref()) {
                                Ok(p) => chosen.push((cluster.cluster_id, p)),
                                Err(failure) => items.push(failed(
                                    provider,
                                    &cluster.cluster_id,
                                    Some(name),
                                    failure,
                                )),
                            }
                        }
                        chosen
                    }
                }
            }
        };
        for (cluster_id, provider_of_it) in chosen {
            let name = entry.entry_name(&cluster_id);
            items.push(Item::Fetch {
                job: jobs.len(),
                provider,
                cluster_id: cluster_id.clone(),
                name: name.clone(),
            });
            jobs.push(Job {
                provider: provider_of_it,
                cluster_id,
                name,
                exec: exec.clone().ok().flatten(),
            });
        }
    }
    for item in &items {
        match item {
            Item::Fetch { name, .. } | Item::Skipped { name, .. } => {
                kept.names.insert(name.clone());
            }
            Item::Failed {
                name: Some(name), ..
            } => {
                kept.names.insert(name.clone());
            }
            Item::Failed { name: None, .. } => {}
        }
    }
    (items, jobs, kept)
}

/// Every listed id of an entry fails with the same failure.
fn fail_each(
    items: &mut Vec<Item>,
    provider: &'static str,
    entry: &crate::fleet::FleetEntry,
    ids: &[String],
    failure: &Failure,
) {
    for id in ids {
        items.push(failed(
            provider,
            id,
            Some(entry.entry_name(id)),
            failure.clone(),
        ));
    }
}

/// A discovered cluster whose context name an entry gives a listed cluster.
fn name_taken(provider: &str, cluster_id: &str, name: &str) -> Failure {
    Failure::new(
        ErrorKind::Usage,
        format!(
            "{COMMAND}: {provider} {cluster_id}: found by `all: true`, but its context name {name} is the `context` another entry gives its listed cluster"
        ),
    )
    .with_hint(Some("give that entry another `context`".to_string()))
}

fn failed(
    provider: &'static str,
    cluster_id: &str,
    name: Option<String>,
    failure: Failure,
) -> Item {
    Item::Failed {
        provider,
        cluster_id: cluster_id.to_string(),
        name,
        failure,
    }
}

/// The provider for an entry's options, set up once per distinct options.
fn provider_for(
    config: &ProviderConfig,
    env: &Arc<Env>,
    ui: Ui,
    built: &mut Vec<(ProviderConfig, Result<Arc<Provider>, Failure>)>,
) -> Result<Arc<Provider>, Failure> {
    if let Some((_, provider)) = built.iter().find(|(c, _)| c == config) {
        return provider.clone();
    }
    let provider = Provider::new(config.clone(), Arc::clone(env), ui)
        .map(Arc::new)
        .map_err(|e| Failure::setup(config.kind.name(), e));
    built.push((config.clone(), provider.clone()));
    provider
}

/// What the one locked write did.
#[derive(Default)]
struct Synced {
    merged: MergeReport,
    /// Per job: why its entries were not merged (a foreign or repointed name).
    refused: Vec<Option<MergeError>>,
    pruned: Vec<(String, Provenance)>,
    removed: Option<super::remove::Removed>,
    warnings: Vec<String>,
}

/// Merges every success that may be merged and prunes, under one lock.
fn write(
    path: &Path,
    fetched: &[Result<Fetched, Failure>],
    invocation: &SyncInvocation,
    prunable: &dyn Fn(&Kubeconfig) -> Vec<(String, Provenance)>,
) -> Result<Synced, Failure> {
    let written = update(
        path,
        &StoreOptions {
            lock_timeout: invocation.lock_timeout,
        },
        |config| {
            let refused: Vec<Option<MergeError>> = fetched
                .iter()
                .map(|f| f.as_ref().ok().and_then(|f| refusal(config, f)))
                .collect();
            let accepted: Vec<Fetched> = fetched
                .iter()
                .zip(&refused)
                .filter_map(|(f, refused)| match (f, refused) {
                    (Ok(f), None) => Some(f.clone()),
                    _ => None,
                })
                .collect();
            let merged = merge(config, &accepted, &MergeOptions::default())?;
            let pruned = prunable(config);
            let names: Vec<String> = pruned.iter().map(|(name, _)| name.clone()).collect();
            let removed = remove_from(config, &names);
            Ok(Synced {
                merged,
                refused,
                pruned,
                removed: Some(removed),
                warnings: Vec::new(),
            })
        },
    )
    .map_err(Failure::store)?;
    Ok(Synced {
        warnings: written.warnings,
        ..written.report
    })
}

/// One row per item in file order, then one per pruned context.
fn rows(
    items: &[Item],
    fetched: &[Result<Fetched, Failure>],
    written: &Result<Synced, Failure>,
    path: &Path,
) -> Vec<Row> {
    let row = |provider: &str, cluster_id: &str, name: Option<&String>, action, outcome| Row {
        provider: provider.to_string(),
        cluster_id: cluster_id.to_string(),
        context: name.cloned(),
        action,
        outcome,
    };
    let mut rows: Vec<Row> = items
        .iter()
        .map(|item| match item {
            Item::Failed {
                provider,
                cluster_id,
                name,
                failure,
            } => row(
                provider,
                cluster_id,
                name.as_ref(),
                Some("failed"),
                Err(failure.clone()),
            ),
            Item::Skipped {
                provider,
                cluster_id,
                name,
                state,
            } => row(
                provider,
                cluster_id,
                Some(name),
                None,
                Ok(Success::skipped(cluster_id, state)),
            ),
            Item::Fetch {
                job,
                provider,
                cluster_id,
                name,
            } => {
                let outcome = fetched[*job]
                    .clone()
                    .and_then(|f| merged(f, *job, written, path));
                let action = match &outcome {
                    Err(_) => "failed",
                    Ok(_)
                        if written
                            .as_ref()
                            .is_ok_and(|s| s.merged.added.contains(name)) =>
                    {
                        "added"
                    }
                    Ok(_) => "updated",
                };
                row(provider, cluster_id, Some(name), Some(action), outcome)
            }
        })
        .collect();
    if let Ok(synced) = written {
        rows.extend(synced.pruned.iter().map(|(name, p)| Row {
            provider: p.provider.clone(),
            cluster_id: p.cluster_id.clone(),
            context: Some(name.clone()),
            action: Some("pruned"),
            outcome: Ok(Success::ok(
                format!("Pruned context {name} from {}", path.display()),
                vec![("kubeconfig", path.display().to_string().into())],
            )),
        }));
    }
    rows
}

/// A fetched cluster's fate in the write.
fn merged(
    fetched: Fetched,
    job: usize,
    written: &Result<Synced, Failure>,
    path: &Path,
) -> Result<Success, Failure> {
    let synced = written.as_ref().map_err(Clone::clone)?;
    if let Some(Some(e)) = synced.refused.get(job) {
        return Err(Failure::store(StoreError::Merge {
            path: path.to_path_buf(),
            source: e.clone(),
        }));
    }
    Ok(success(
        &fetched,
        Some((path.to_path_buf(), synced.merged.added.clone())),
        false,
    ))
}

/// stderr: every failure, what was pruned and skipped, and one summary
/// line; the bar or the progress lines already stood for each cluster.
fn say(rows: &[Row], written: &Result<Synced, Failure>, path: &Path, ui: Ui) {
    report::say_failures_and_skips(rows, ui);
    if let Ok(Synced {
        removed: Some(removed),
        ..
    }) = written
    {
        report_file(path, removed, ui);
    }
    let count = |action: &str| rows.iter().filter(|r| r.action == Some(action)).count();
    let skipped = rows.iter().filter(|r| r.action.is_none()).count();
    ui.info(&format!(
        "Synced {}: {} added, {} updated, {} pruned, {} skipped, {} failed",
        path.display(),
        count("added"),
        count("updated"),
        count("pruned"),
        skipped,
        count("failed"),
    ));
}

/// `--dry-run`: the plan on stdout, failures on stderr, nothing fetched.
fn dry_run(
    items: &[Item],
    prunable: &[(String, Provenance)],
    existing: &Kubeconfig,
    output: Output,
) -> i32 {
    let mut plan: Vec<(&str, String, String, String)> = Vec::new();
    let mut code = 0;
    for item in items {
        match item {
            Item::Fetch {
                provider,
                cluster_id,
                name,
                ..
            } => {
                let action = if existing.contexts.iter().any(|c| &c.name == name) {
                    "update"
                } else {
                    "add"
                };
                plan.push((
                    action,
                    name.clone(),
                    provider.to_string(),
                    cluster_id.clone(),
                ));
            }
            Item::Failed { failure, .. } => {
                eprintln!("{}", failure.render());
                if code == 0 {
                    code = failure.kind.exit_code();
                }
            }
            Item::Skipped { .. } => {}
        }
    }
    for (name, p) in prunable {
        plan.push((
            "prune",
            name.clone(),
            p.provider.clone(),
            p.cluster_id.clone(),
        ));
    }
    let text = match output {
        Output::Json => {
            let objects: Vec<Value> = plan
                .iter()
                .map(|(action, context, provider, id)| {
                    json!({"context": context, "provider": provider, "clusterId": id, "action": action})
                })
                .collect();
            format!("{}\n", Value::Array(objects))
        }
        Output::Text => {
            let mut cells = vec![["ACTION", "CONTEXT", "PROVIDER", "CLUSTER"]
                .iter()
                .map(|h| h.to_string())
                .collect()];
            cells.extend(plan.iter().map(|(action, context, provider, id)| {
                vec![
                    action.to_string(),
                    context.clone(),
                    provider.clone(),
                    id.clone(),
                ]
            }));
            report::table(&cells)
        }
    };
    print_data("the sync plan", &text, code)
}
