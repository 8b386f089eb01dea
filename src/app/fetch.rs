//! A fetch command: set up the provider, fetch every cluster concurrently,
//! write the successes in one locked write (or to stdout), report each
//! cluster, and exit with the first failure's code.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::env::Env;
use crate::error::{ErrorKind, Failure};
use crate::exec::ExecWriter;
use crate::kubeconfig::locate::locate;
use crate::kubeconfig::merge::{merge, MergeOptions};
use crate::kubeconfig::normalize::{standalone, Fetched};
use crate::kubeconfig::provenance::format_timestamp;
use crate::kubeconfig::store::{check_target as check_target_file, update, StoreOptions};
use std::collections::HashMap;

use crate::provider::{Discovered, Provider, ProviderConfig, ProviderKind};
use crate::report::{self, print_stdout, Row, Success};
use crate::settings::{Discovery, FetchInvocation, Target};

use super::discover;
use crate::ui::{Progress, Ui};

/// Fetches at once per fetch command; enough to hide latency, few enough to be polite.
pub const CONCURRENT_FETCHES: usize = 8;

/// One cluster to fetch, from which provider, and the name its entries get.
pub struct Job {
    pub provider: Arc<Provider>,
    pub cluster_id: String,
    pub name: String,
    /// `--exec`: cache the credential and write a user that runs kubefetch.
    pub exec: Option<Arc<ExecWriter>>,
}

pub struct Outcome {
    pub cluster_id: String,
    pub result: Result<Fetched, Failure>,
}

pub async fn run(invocation: FetchInvocation, env: Env) -> i32 {
    let ui = Ui::new(invocation.verbosity);
    let env = Arc::new(env);
    let command = invocation.provider.kind.name();
    let (jobs, skipped) = match plan(&invocation, &env, ui).await {
        Ok(plan) => plan,
        Err(failure) => {
            return report::fail_all(
                command,
                &invocation.cluster_ids,
                invocation.output,
                &failure,
            )
        }
    };
    if let Err(failure) = check_target(&invocation, &jobs, &env) {
        return report::fail_all(
            command,
            &invocation.cluster_ids,
            invocation.output,
            &failure,
        );
    }
    let switch = invocation.switch && jobs.len() == 1;
    // Progress as for `sync` while many clusters are fetched; one cluster
    // gets its result line only.
    let progress = Arc::new(match jobs.len() {
        0 | 1 => Progress::silent(),
        many => Progress::new(ui, many),
    });
    let outcomes = fetch_all(
        jobs,
        env.now(),
        ui,
        CONCURRENT_FETCHES,
        Arc::clone(&progress),
    )
    .await;
    progress.clear();
    let written = write(&outcomes, &invocation, switch, &env, ui);
    let mut rows: Vec<Row> = skipped
        .iter()
        .map(|cluster| skipped_row(command, cluster))
        .collect();
    rows.extend(
        outcomes
            .into_iter()
            .map(|outcome| row(command, outcome, &written, switch)),
    );
    if rows.is_empty() {
        // Only `--all` can ask for nothing; say so rather than stay silent.
        ui.info(&format!(
            "{command}: no clusters found, nothing fetched; `kubefetch discover {command}` lists what these credentials can see"
        ));
    }
    if !progress.stands_for_each() {
        return report::finish(&rows, invocation.output, ui);
    }
    report::say_failures_and_skips(&rows, ui);
    ui.info(&tally(&rows, &written));
    report::conclude(&rows, invocation.output)
}

/// The line that ends a fetch whose progress stood for each cluster:
/// `Fetched into PATH: 2 added, 1 updated, 1 skipped, 0 failed`.
fn tally(rows: &[Row], written: &Written) -> String {
    let status = |status: &str| {
        rows.iter()
            .filter(|row| row.outcome.as_ref().is_ok_and(|s| s.status == status))
            .count()
    };
    let (ok, skipped) = (status("ok"), status("skipped"));
    let others = format!("{skipped} skipped, {} failed", rows.len() - ok - skipped);
    match written {
        Ok(Some((path, added))) => format!(
            "Fetched into {}: {} added, {} updated, {others}",
            path.display(),
            added.len(),
            ok - added.len()
        ),
        Ok(None) if ok > 0 => format!("Fetched to stdout: {ok} written, {others}"),
        _ => format!("Nothing written: {others}"),
    }
}

/// The clusters to fetch, by id or through discovery, and the discovered
/// ones skipped for their state.
async fn plan(
    invocation: &FetchInvocation,
    env: &Arc<Env>,
    ui: Ui,
) -> Result<(Vec<Job>, Vec<Discovered>), Failure> {
    let config = &invocation.provider;
    let command = config.kind.name();
    let exec = match invocation.exec.then(|| ExecWriter::new(env)).transpose() {
        Ok(exec) => exec.map(Arc::new),
        Err(reason) => {
            return Err(
                Failure::new(ErrorKind::Internal, format!("{command} --exec: {reason}")).with_hint(
                    Some(
                        "set KUBEFETCH_EXEC_COMMAND to the kubefetch command kubectl should run"
                            .into(),
                    ),
                ),
            )
        }
    };
    let Some(discovery) = &invocation.discovery else {
        let provider = Arc::new(
            Provider::new(config.clone(), env.clone(), ui)
                .map_err(|e| Failure::setup(command, e))?,
        );
        let jobs = invocation
            .cluster_ids
            .iter()
            .map(|id| Job {
                provider: Arc::clone(&provider),
                cluster_id: id.clone(),
                name: invocation.entry_name(id),
                exec: exec.clone(),
            })
            .collect();
        return Ok((jobs, Vec::new()));
    };
    let (lister, found) = discover::discover(config.clone(), env.clone(), ui).await?;
    let (chosen, skipped): (Vec<Discovered>, Vec<Discovered>) = match discovery {
        Discovery::All => found.into_iter().partition(Discovered::is_running),
        Discovery::Names(names) => {
            let searched = searched(config, lister.region());
            let chosen = names
                .iter()
                .map(|name| discover::by_name(command, &found, name, &searched).cloned())
                .collect::<Result<_, _>>()?;
            (chosen, Vec::new())
        }
    };
    let mut providers = RegionalProviders::new(config, Arc::new(lister), env, ui);
    let jobs = chosen
        .iter()
        .map(|cluster| {
            Ok(Job {
                provider: providers.get(cluster.region.as_deref())?,
                cluster_id: cluster.cluster_id.clone(),
                name: invocation.entry_name(&cluster.cluster_id),
                exec: exec.clone(),
            })
        })
        .collect::<Result<_, Failure>>()?;
    Ok((jobs, skipped))
}

/// Where discovery looked, for messages.
fn searched(config: &ProviderConfig, region: Option<&str>) -> String {
    match (config.kind, &config.region, region) {
        (ProviderKind::Ack, None, _) => "any region".to_string(),
        (_, _, Some(region)) => format!("region {region}"),
        (_, _, None) => "the account".to_string(),
    }
}

/// The provider that fetches a discovered cluster: the one that listed it,
/// except for ACK listed in every region, which needs one per region.
pub struct RegionalProviders<'a> {
    config: &'a ProviderConfig,
    lister: Arc<Provider>,
    by_region: HashMap<String, Arc<Provider>>,
    env: &'a Arc<Env>,
    ui: Ui,
}

impl<'a> RegionalProviders<'a> {
    pub fn new(
        config: &'a ProviderConfig,
        lister: Arc<Provider>,
        env: &'a Arc<Env>,
        ui: Ui,
    ) -> Self {
        RegionalProviders {
            config,
            lister,
            by_region: HashMap::new(),
            env,
            ui,
        }
    }

    pub fn get(&mut self, region: Option<&str>) -> Result<Arc<Provider>, Failure> {
        let every_region = self.config.kind == ProviderKind::Ack && self.config.region.is_none();
        let (true, Some(region)) = (every_region, region) else {
            return Ok(Arc::clone(&self.lister));
        };
        if let Some(provider) = self.by_region.get(region) {
            return Ok(Arc::clone(provider));
        }
        let provider = Arc::new(
            self.lister
                .in_region(region, self.env.clone(), self.ui)
                .map_err(|e| Failure::setup(self.config.kind.name(), e))?,
        );
        self.by_region
            .insert(region.to_string(), Arc::clone(&provider));
        Ok(provider)
    }
}

fn skipped_row(command: &str, cluster: &Discovered) -> Row {
    Row {
        provider: command.to_string(),
        cluster_id: cluster.cluster_id.clone(),
        context: None,
        action: None,
        outcome: Ok(Success::skipped(&cluster.cluster_id, &cluster.state)),
    }
}

/// Fetches every job, at most `concurrency` at once; outcomes in job order.
pub async fn fetch_all(
    jobs: Vec<Job>,
    now: DateTime<Utc>,
    ui: Ui,
    concurrency: usize,
    progress: Arc<Progress>,
) -> Vec<Outcome> {
    // A provider that spaces its requests out (TKE) gets a pool of its own,
    // half the slots: its fetches waiting on the rate limit must not hold
    // the slots of the others, nor wait behind them.
    let concurrency = concurrency.max(1);
    let mut pools: HashMap<&'static str, Arc<Semaphore>> = HashMap::new();
    for job in jobs.iter().filter(|job| job.provider.rate_limited()) {
        pools
            .entry(job.provider.name())
            .or_insert_with(|| Arc::new(Semaphore::new((concurrency / 2).max(1))));
    }
    let paced: usize = pools.values().map(|pool| pool.available_permits()).sum();
    let shared = Arc::new(Semaphore::new(concurrency.saturating_sub(paced).max(1)));
    let mut tasks = Vec::with_capacity(jobs.len());
    for job in jobs {
        let pool = pools
            .get(job.provider.name())
            .map_or_else(|| Arc::clone(&shared), Arc::clone);
        let progress = Arc::clone(&progress);
        tasks.push(tokio::spawn(async move {
            let _permit = pool.acquire_owned().await;
            let result = job
                .provider
                .fetch(&job.cluster_id, job.name, now)
                .await
                .map(|(fetched, mut warnings)| match &job.exec {
                    Some(exec) => {
                        let (fetched, more) = exec.convert(fetched, &job.provider, &job.cluster_id);
                        warnings.extend(more);
                        (fetched, warnings)
                    }
                    None => (fetched, warnings),
                });
            // The context and its expiry are known now; only added or updated waits for the write.
            let what = format!("{} {}", job.provider.name(), job.cluster_id);
            progress.finished(&match &result {
                Ok((fetched, _)) => {
                    format!("fetched {what} as {}{}", fetched.name, expiry_note(fetched))
                }
                Err(_) => format!("failed {what}"),
            });
            (job.provider, job.cluster_id, result)
        }));
    }
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (provider, cluster_id, result) = match task.await {
            Ok(done) => done,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        let result = match result {
            Ok((fetched, warnings)) => {
                for warning in warnings {
                    ui.warn(&warning);
                }
                Ok(fetched)
            }
            Err(e) => Err(Failure::api(provider.name(), &cluster_id, e)),
        };
        outcomes.push(Outcome { cluster_id, result });
    }
    outcomes
}

/// Where the successes went: `None` for stdout.
type Written = Result<Option<(PathBuf, Vec<String>)>, Failure>;

/// Writes every success at once; a failed write fails each of them.
fn write(
    outcomes: &[Outcome],
    invocation: &FetchInvocation,
    switch: bool,
    env: &Env,
    ui: Ui,
) -> Written {
    let fetched: Vec<Fetched> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok().cloned())
        .collect();
    if fetched.is_empty() {
        return Ok(None);
    }
    match &invocation.target {
        Target::Stdout => {
            print_stdout("the kubeconfig", &standalone(&fetched).to_yaml()).map(|()| None)
        }
        Target::File(explicit) => {
            write_file(explicit.as_deref(), &fetched, invocation, switch, env, ui).map(Some)
        }
    }
}

/// A target file that cannot be written is refused before any request:
/// a fetched credential must not be spent on it.
fn check_target(invocation: &FetchInvocation, jobs: &[Job], env: &Env) -> Result<(), Failure> {
    let Target::File(explicit) = &invocation.target else {
        return Ok(());
    };
    let names: Vec<String> = jobs.iter().map(|job| job.name.clone()).collect();
    let path = locate(explicit.as_deref(), env, &names)
        .map_err(|e| Failure::new(ErrorKind::Kubeconfig, e.to_string()))?;
    check_target_file(&path).map_err(Failure::store)
}

fn write_file(
    explicit: Option<&Path>,
    fetched: &[Fetched],
    invocation: &FetchInvocation,
    switch: bool,
    env: &Env,
    ui: Ui,
) -> Result<(PathBuf, Vec<String>), Failure> {
    let names: Vec<String> = fetched.iter().map(|f| f.name.clone()).collect();
    let path = locate(explicit, env, &names)
        .map_err(|e| Failure::new(ErrorKind::Kubeconfig, e.to_string()))?;
    let options = MergeOptions {
        force: invocation.force,
        switch_to: switch.then(|| names[0].clone()),
    };
    let written = update(
        &path,
        &StoreOptions {
            lock_timeout: invocation.lock_timeout,
        },
        |config| merge(config, fetched, &options),
    )
    .map_err(Failure::store)?;
    for warning in &written.warnings {
        ui.warn(warning);
    }
    Ok((written.path, written.report.added))
}

fn row(command: &str, outcome: Outcome, written: &Written, switched: bool) -> Row {
    let result = outcome.result.and_then(|fetched| {
        written
            .clone()
            .map(|place| success(&fetched, place, switched))
    });
    Row {
        provider: command.to_string(),
        cluster_id: outcome.cluster_id,
        context: None,
        action: None,
        outcome: result,
    }
}

pub fn success(
    fetched: &Fetched,
    place: Option<(PathBuf, Vec<String>)>,
    switched: bool,
) -> Success {
    let (target, line) = match place {
        Some((path, added)) => (
            path.display().to_string(),
            format!(
                "{} context {} to {}{}",
                if added.contains(&fetched.name) {
                    "Added"
                } else {
                    "Updated"
                },
                fetched.name,
                path.display(),
                if switched { " and switched to it" } else { "" }
            ),
        ),
        None => (
            "-".to_string(),
            format!("Wrote context {} to stdout", fetched.name),
        ),
    };
    Success::ok(
        format!("{line}{}", expiry_note(fetched)),
        summary_fields(fetched, target),
    )
}

/// ` (credential expires 2026-11-27 10:00 UTC)`, or nothing when unknown.
pub fn expiry_note(fetched: &Fetched) -> String {
    fetched
        .expires_at
        .map(|t| format!(" (credential expires {})", t.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_default()
}

/// The summary fields of a fetched context written to `target`.
pub fn summary_fields(fetched: &Fetched, target: String) -> Vec<(&'static str, Value)> {
    vec![
        ("context", fetched.name.clone().into()),
        ("kubeconfig", target.into()),
        ("server", fetched.server.clone().into()),
        ("expiresAt", fetched.expires_at.map(format_timestamp).into()),
    ]
}
