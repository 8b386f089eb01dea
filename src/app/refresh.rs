//! `kubefetch refresh`: fetch contexts again from their provenance, with
//! every recorded option and today's credentials, and write each back
//! under its names, in its own file, at its place (one locked write per
//! file). `current-context` is never changed.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cache::Cache;
use crate::env::Env;
use crate::error::{ErrorKind, Failure};
use crate::exec::ExecWriter;
use crate::kubeconfig::merge::{merge, MergeOptions};
use crate::kubeconfig::model::AuthInfo;
use crate::kubeconfig::normalize::Fetched;
use crate::kubeconfig::provenance::{owned_by_kubefetch, Provenance};
use crate::kubeconfig::set::{Entry, KubeconfigSet};
use crate::kubeconfig::store::{update, StoreOptions};
use crate::provider::{Provider, ProviderConfig};
use crate::report::{self, print_data, Row, Success};
use crate::settings::{RefreshInvocation, Selection};
use crate::ui::{Progress, Ui};

use super::fetch::{expiry_note, fetch_all, summary_fields, Job, CONCURRENT_FETCHES};
use super::{foreign_context, list, load_set, unknown_context};

const COMMAND: &str = "refresh";

/// One context to fetch again.
struct Target {
    context: String,
    file: PathBuf,
    provenance: Provenance,
    /// The user an exec context runs: kept as it is.
    exec_user: Option<AuthInfo>,
}

pub async fn run(invocation: RefreshInvocation, env: Env) -> i32 {
    let ui = Ui::new(invocation.verbosity);
    let output = invocation.output;
    let set = match load_set(invocation.kubeconfig.as_deref(), &env) {
        Ok(set) => set,
        Err(failure) => return report::fail_all(COMMAND, &[], output, &failure),
    };
    let (targets, unreadable) = match select(&set, &invocation, &env) {
        Ok(selected) => selected,
        // Nothing is sent: each bad name is reported, the first sets the exit code.
        Err(refused) => return report::finish(&refused, output, ui),
    };
    if invocation.dry_run {
        let lines: String = targets
            .iter()
            .map(|t| {
                format!(
                    "would refresh {} ({} {}) in {}\n",
                    t.context,
                    t.provenance.provider,
                    t.provenance.cluster_id,
                    t.file.display()
                )
            })
            .collect();
        return print_data("the refresh plan", &lines, report::exit_code(&unreadable));
    }
    if targets.is_empty() && unreadable.is_empty() {
        ui.info("No context to refresh");
    }
    let env = Arc::new(env);
    let mut rows = unreadable;
    rows.extend(refresh(&targets, &invocation, &env, ui).await);
    report::finish(&rows, output, ui)
}

/// The contexts to refresh, and a failed row for each selected context whose
/// provenance cannot be read. A bad name fails the whole command before
/// any request, with a failed row for each bad name.
fn select(
    set: &KubeconfigSet,
    invocation: &RefreshInvocation,
    env: &Env,
) -> Result<(Vec<Target>, Vec<Row>), Vec<Row>> {
    let (now, cache) = (env.now(), Cache::locate(env));
    let entries = set.entries();
    let chosen: Vec<&Entry<'_>> = match &invocation.selection {
        Selection::Named(names) => {
            let mut chosen = Vec::new();
            let mut failures = Vec::new();
            for name in names {
                match entries.iter().find(|e| &e.context.name == name) {
                    None => failures.push(failed_row(name, unknown_context(
                        COMMAND,
                        name,
                        set,
                        "`kubefetch list` shows the contexts kubefetch wrote",
                    ))),
                    Some(entry) if entry.provenance.is_none() => failures.push(failed_row(name, foreign_context(
                        COMMAND,
                        name,
                        &entry.file.path,
                        "only contexts with a kubefetch extension can be refreshed; fetch the cluster with its fetch command",
                    ))),
                    Some(entry) => chosen.push(entry),
                }
            }
            if !failures.is_empty() {
                return Err(failures);
            }
            chosen
        }
        Selection::All => entries.iter().filter(|e| e.provenance.is_some()).collect(),
        Selection::ExpiringWithin(within) => entries
            .iter()
            .filter(|e| e.provenance.is_some())
            .filter(|e| list::expiry(set, e, cache.as_ref()).is_some_and(|at| at < now + *within))
            .collect(),
    };
    let mut targets = Vec::new();
    let mut unreadable = Vec::new();
    for entry in chosen {
        match entry.provenance.clone() {
            Some(Ok(provenance))
                if invocation
                    .provider
                    .is_none_or(|p| p.name() == provenance.provider) =>
            {
                let exec_user = entry
                    .context
                    .context
                    .user
                    .as_deref()
                    .and_then(|name| set.user(name))
                    .map(|user| user.user.clone())
                    .filter(|user| provenance.exec && user.exec.is_some());
                targets.push(Target {
                    context: entry.context.name.clone(),
                    file: entry.file.path.clone(),
                    provenance,
                    exec_user,
                });
            }
            Some(Err(e)) => unreadable.push(Row {
                provider: String::new(),
                cluster_id: String::new(),
                context: Some(entry.context.name.clone()),
                action: None,
                outcome: Err(
                    Failure::new(ErrorKind::Kubeconfig, e.to_string()).with_hint(Some(
                        "fetch the cluster again with its fetch command, or remove the context"
                            .into(),
                    )),
                ),
            }),
            Some(Ok(_)) | None => {}
        }
    }
    Ok((targets, unreadable))
}

/// A context that failed before its provider was known.
fn failed_row(context: &str, failure: Failure) -> Row {
    Row {
        provider: String::new(),
        cluster_id: String::new(),
        context: Some(context.to_string()),
        action: None,
        outcome: Err(failure),
    }
}

/// Fetches every target (providers shared by targets with the same options)
/// and writes the successes back, one locked write per file.
async fn refresh(
    targets: &[Target],
    invocation: &RefreshInvocation,
    env: &Arc<Env>,
    ui: Ui,
) -> Vec<Row> {
    let mut providers: Vec<(ProviderConfig, Result<Arc<Provider>, Failure>)> = Vec::new();
    let mut jobs = Vec::new();
    let mut results: Vec<Option<Result<Fetched, Failure>>> = Vec::with_capacity(targets.len());
    let exec = targets
        .iter()
        .any(|t| t.provenance.exec)
        .then(|| ExecWriter::new(env).map(Arc::new));
    for target in targets {
        let provider = provider_for(target, invocation, env, ui, &mut providers);
        let exec = match (&exec, target.provenance.exec) {
            (Some(Err(reason)), true) => Err(Failure::new(
                ErrorKind::Internal,
                format!("{COMMAND} {}: {reason}", target.context),
            )),
            (Some(Ok(writer)), true) => Ok(Some(Arc::clone(writer))),
            _ => Ok(None),
        };
        match provider.and_then(|provider| Ok((provider, exec?))) {
            Ok((provider, exec)) => {
                jobs.push(Job {
                    provider,
                    cluster_id: target.provenance.cluster_id.clone(),
                    name: target.context.clone(),
                    exec,
                });
                results.push(None);
            }
            Err(failure) => results.push(Some(Err(failure))),
        }
    }
    let progress = Arc::new(Progress::silent());
    let mut outcomes = fetch_all(jobs, env.now(), ui, CONCURRENT_FETCHES, progress)
        .await
        .into_iter();
    let fetched: Vec<Result<Fetched, Failure>> = results
        .into_iter()
        .zip(targets)
        .map(|(result, target)| {
            result.unwrap_or_else(|| {
                let outcome = outcomes.next().expect("one outcome per job");
                outcome.result.map(|f| keep_recorded_fields(f, target))
            })
        })
        .collect();
    let written = write_back(targets, &fetched, invocation, ui);
    targets
        .iter()
        .zip(fetched)
        .zip(written)
        .map(|((target, fetched), written)| Row {
            provider: target.provenance.provider.clone(),
            cluster_id: target.provenance.cluster_id.clone(),
            context: Some(target.context.clone()),
            action: None,
            outcome: fetched.and_then(|fetched| {
                written.map(|path| {
                    Success::ok(
                        format!(
                            "Refreshed context {} in {}{}",
                            fetched.name,
                            path.display(),
                            expiry_note(&fetched)
                        ),
                        summary_fields(&fetched, path.display().to_string()),
                    )
                })
            }),
        })
        .collect()
}

/// The provider for a target's recorded options, built once per distinct options.
fn provider_for(
    target: &Target,
    invocation: &RefreshInvocation,
    env: &Arc<Env>,
    ui: Ui,
    built: &mut Vec<(ProviderConfig, Result<Arc<Provider>, Failure>)>,
) -> Result<Arc<Provider>, Failure> {
    let label = format!("{COMMAND} {}", target.context);
    let config = ProviderConfig::from_provenance(&target.provenance, invocation.http.clone())
        .map_err(|e| {
            Failure::new(
                ErrorKind::Kubeconfig,
                format!(
                    "{label}: its kubefetch extension cannot be used: {}",
                    e.message
                ),
            )
            .with_hint(Some(
                "fetch the cluster again with its fetch command, or remove the context".into(),
            ))
        })?;
    if let Some((_, provider)) = built.iter().find(|(c, _)| *c == config) {
        return provider.clone();
    }
    let name = config.kind.name();
    let provider = Provider::new(config.clone(), Arc::clone(env), ui)
        .map(Arc::new)
        .map_err(|e| Failure::setup(name, e));
    built.push((config, provider.clone()));
    provider
}

/// A refresh keeps what the fetch itself does not know: the fleet, and the
/// exec user as it was written (its command may be `KUBEFETCH_EXEC_COMMAND`'s).
fn keep_recorded_fields(mut fetched: Fetched, target: &Target) -> Fetched {
    if let Some(user) = &target.exec_user {
        fetched.user.user = user.clone();
    }
    fetched.with_fleet(target.provenance.fleet.clone())
}

/// One locked write per file; the file each target was written to, or why not.
fn write_back(
    targets: &[Target],
    fetched: &[Result<Fetched, Failure>],
    invocation: &RefreshInvocation,
    ui: Ui,
) -> Vec<Result<PathBuf, Failure>> {
    let mut written: Vec<Result<PathBuf, Failure>> =
        targets.iter().map(|t| Ok(t.file.clone())).collect();
    let mut files: Vec<&PathBuf> = Vec::new();
    for target in targets {
        if !files.contains(&&target.file) {
            files.push(&target.file);
        }
    }
    for file in files {
        let indexes: Vec<usize> = (0..targets.len())
            .filter(|&i| &targets[i].file == file && fetched[i].is_ok())
            .collect();
        if indexes.is_empty() {
            continue;
        }
        let entries: Vec<Fetched> = indexes
            .iter()
            .filter_map(|&i| fetched[i].as_ref().ok().cloned())
            .collect();
        let result = update(
            file,
            &StoreOptions {
                lock_timeout: invocation.lock_timeout,
            },
            |config| {
                // A context removed or replaced by someone else meanwhile is not brought back.
                let (present, gone): (Vec<Fetched>, Vec<Fetched>) =
                    entries.iter().cloned().partition(|f| {
                        config
                            .contexts
                            .iter()
                            .find(|c| c.name == f.name)
                            .is_some_and(|c| owned_by_kubefetch(c).is_some())
                    });
                merge(
                    config,
                    &present,
                    &MergeOptions {
                        force: false,
                        switch_to: None,
                    },
                )?;
                Ok(gone.into_iter().map(|f| f.name).collect::<Vec<String>>())
            },
        );
        match result {
            Ok(done) => {
                for warning in &done.warnings {
                    ui.warn(warning);
                }
                for &i in &indexes {
                    written[i] = if done.report.contains(&targets[i].context) {
                        Err(Failure::new(
                            ErrorKind::Kubeconfig,
                            format!(
                                "{COMMAND} {}: the context left {} while it was refreshed; not written back",
                                targets[i].context,
                                file.display()
                            ),
                        ))
                    } else {
                        Ok(done.path.clone())
                    };
                }
            }
            Err(e) => {
                let failure = Failure::store(e);
                for &i in &indexes {
                    written[i] = Err(failure.clone());
                }
            }
        }
    }
    written
}
