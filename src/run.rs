//! One fetch command from settings to exit code: set up the provider, fetch
//! every cluster concurrently, write the successes in one locked write (or
//! to stdout), report each cluster, and exit with the first failure's code.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use tokio::sync::Semaphore;

use crate::cli::{Command, OutputFormat, UcsAgentArgs};
use crate::credentials::CredentialError;
use crate::env::Env;
use crate::error::{ErrorKind, Failure};
use crate::kubeconfig::locate::locate;
use crate::kubeconfig::merge::{merge, MergeOptions};
use crate::kubeconfig::normalize::{standalone, Fetched};
use crate::kubeconfig::store::{update, StoreError, StoreOptions};
use crate::provider::error::ApiError;
use crate::provider::huawei::agent::{Agent, AgentSettings, Destination};
use crate::provider::{FetchCommand, Provider, SetupError};
use crate::settings::{FetchSettings, Target};
use crate::ui::Ui;

/// Fetches at once per command; enough to hide latency, few enough to be polite.
const CONCURRENT_FETCHES: usize = 8;

struct Outcome {
    cluster_id: String,
    result: Result<Fetched, Failure>,
}

/// How one cluster ended, for the report.
enum Status {
    Written { path: PathBuf, added: bool },
    Printed,
    Failed(Failure),
}

pub async fn run(command: Command, env: Env) -> i32 {
    let command = match FetchCommand::of(&command) {
        Ok(fetch) => fetch,
        Err(agent) => return run_ucs_agent(agent, env).await,
    };
    let (args, provider_name) = (command.fetch_args(), command.name());
    let settings = match FetchSettings::from_args(args, &env) {
        Ok(settings) => settings,
        Err(e) => {
            let failure = Failure::new(ErrorKind::Usage, format!("{provider_name}: {}", e.message))
                .with_hint(e.hint);
            return fail_all(
                &args.cluster_ids,
                provider_name,
                args.request.output,
                &failure,
            );
        }
    };
    let ui = Ui::new(settings.verbosity);
    let env = Arc::new(env);
    let provider = match Provider::setup(&command, &settings, env.clone(), ui) {
        Ok(provider) => Arc::new(provider),
        Err(e) => {
            let failure = setup_failure(provider_name, e);
            return fail_all(
                &settings.cluster_ids,
                provider_name,
                settings.output,
                &failure,
            );
        }
    };
    if let Err(failure) = check_target(&settings, provider.name(), &env) {
        return fail_all(
            &settings.cluster_ids,
            provider_name,
            settings.output,
            &failure,
        );
    }
    let outcomes = fetch_all(&provider, &settings, &env, ui).await;
    let statuses = write(&outcomes, &settings, &env, ui);
    report(&provider, &settings, &outcomes, &statuses, ui)
}

/// `ucs-agent` saves a one-time bundle instead of merging a kubeconfig.
async fn run_ucs_agent(args: &UcsAgentArgs, env: Env) -> i32 {
    let ids = [args.cluster_id.clone()];
    let settings = match AgentSettings::from_args(args, &env) {
        Ok(settings) => settings,
        Err(e) => {
            let failure = Failure::new(ErrorKind::Usage, format!("ucs-agent: {}", e.message))
                .with_hint(e.hint);
            return fail_all(&ids, "ucs-agent", args.request.output, &failure);
        }
    };
    let ui = Ui::new(settings.verbosity);
    let usage = |e: crate::settings::UsageError| {
        Failure::new(ErrorKind::Usage, format!("ucs-agent: {}", e.message)).with_hint(e.hint)
    };
    let destination = match Destination::prepare(&settings.out, settings.force) {
        Ok(destination) => destination,
        Err(e) => return fail_all(&ids, "ucs-agent", settings.output, &usage(e)),
    };
    let agent = match Agent::new(&settings, Arc::new(env), ui) {
        Ok(agent) => agent,
        Err(e) => {
            let failure = setup_failure("ucs-agent", e);
            return fail_all(&ids, "ucs-agent", settings.output, &failure);
        }
    };
    match agent.download(&settings, destination).await {
        Ok(saved) => {
            if saved.verbatim {
                ui.warn(&format!(
                    "the answer was not the expected list of manifests; saved it as received to {}",
                    saved.path.display()
                ));
            }
            ui.info(&format!(
                "Saved the UCS agent bundle of {} to {} (apply it with `kubectl apply -f {}`)",
                settings.cluster_id,
                saved.path.display(),
                saved.path.display()
            ));
            if settings.output == OutputFormat::Json {
                let summary = json!([{
                    "provider": "ucs-agent",
                    "clusterId": settings.cluster_id,
                    "status": "ok",
                    "file": saved.path.display().to_string(),
                }]);
                print_stdout(&format!("{summary}\n"));
            }
            0
        }
        Err(failure) => fail_all(&ids, "ucs-agent", settings.output, &failure),
    }
}

async fn fetch_all(
    provider: &Arc<Provider>,
    settings: &FetchSettings,
    env: &Env,
    ui: Ui,
) -> Vec<Outcome> {
    let permits = Arc::new(Semaphore::new(CONCURRENT_FETCHES));
    let settings = Arc::new(settings.clone());
    let now = env.now();
    let mut tasks = Vec::with_capacity(settings.cluster_ids.len());
    for cluster_id in settings.cluster_ids.iter().cloned() {
        let provider = Arc::clone(provider);
        let settings = Arc::clone(&settings);
        let permits = Arc::clone(&permits);
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            let result = provider.fetch(&cluster_id, &settings, now).await;
            (cluster_id, result)
        }));
    }
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (cluster_id, result) = match task.await {
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
            Err(e) => Err(api_failure(provider.name(), &cluster_id, e)),
        };
        outcomes.push(Outcome { cluster_id, result });
    }
    outcomes
}

/// Writes every success at once; a failed write fails each of them.
fn write(outcomes: &[Outcome], settings: &FetchSettings, env: &Env, ui: Ui) -> Vec<Status> {
    let fetched: Vec<Fetched> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok().cloned())
        .collect();
    let written: Result<Option<(PathBuf, Vec<String>)>, Failure> = if fetched.is_empty() {
        Ok(None)
    } else {
        match &settings.target {
            Target::Stdout => {
                print_stdout(&standalone(&fetched).to_yaml());
                Ok(None)
            }
            Target::File(explicit) => {
                write_file(explicit.as_deref(), &fetched, settings, env, ui).map(Some)
            }
        }
    };
    outcomes
        .iter()
        .map(|outcome| match (&outcome.result, &written) {
            (Err(failure), _) => Status::Failed(failure.clone()),
            (Ok(_), Err(failure)) => Status::Failed(failure.clone()),
            (Ok(_), Ok(None)) => Status::Printed,
            (Ok(f), Ok(Some((path, added)))) => Status::Written {
                path: path.clone(),
                added: added.contains(&f.name),
            },
        })
        .collect()
}

/// A target file that cannot be written is refused before any request:
/// a fetched credential must not be spent on it.
fn check_target(settings: &FetchSettings, provider: &str, env: &Env) -> Result<(), Failure> {
    let Target::File(explicit) = &settings.target else {
        return Ok(());
    };
    let names: Vec<String> = settings
        .cluster_ids
        .iter()
        .map(|id| settings.entry_name(provider, id))
        .collect();
    let path = locate(explicit.as_deref(), env, &names)
        .map_err(|e| Failure::new(ErrorKind::Kubeconfig, e.to_string()))?;
    crate::kubeconfig::store::check_target(&path).map_err(store_failure)
}

fn write_file(
    explicit: Option<&std::path::Path>,
    fetched: &[Fetched],
    settings: &FetchSettings,
    env: &Env,
    ui: Ui,
) -> Result<(PathBuf, Vec<String>), Failure> {
    let names: Vec<String> = fetched.iter().map(|f| f.name.clone()).collect();
    let path = locate(explicit, env, &names)
        .map_err(|e| Failure::new(ErrorKind::Kubeconfig, e.to_string()))?;
    let options = MergeOptions {
        force: settings.force,
        switch_to: settings.switch.then(|| names[0].clone()),
    };
    let written = update(
        &path,
        &StoreOptions {
            lock_timeout: settings.lock_timeout,
        },
        |config| merge(config, fetched, &options),
    )
    .map_err(store_failure)?;
    for warning in &written.warnings {
        ui.warn(warning);
    }
    Ok((written.path, written.report.added))
}

fn report(
    provider: &Provider,
    settings: &FetchSettings,
    outcomes: &[Outcome],
    statuses: &[Status],
    ui: Ui,
) -> i32 {
    let mut summary = Vec::with_capacity(outcomes.len());
    for (outcome, status) in outcomes.iter().zip(statuses) {
        let ok = outcome.result.as_ref().ok();
        match (status, ok) {
            (Status::Failed(failure), _) => {
                eprintln!("{}", failure.render());
                summary.push(error_object(provider.name(), &outcome.cluster_id, failure));
            }
            (status, Some(fetched)) => {
                let (target, line) = match status {
                    Status::Written { path, added } => (
                        path.display().to_string(),
                        format!(
                            "{} context {} to {}{}",
                            if *added { "Added" } else { "Updated" },
                            fetched.name,
                            path.display(),
                            if settings.switch {
                                " and switched to it"
                            } else {
                                ""
                            }
                        ),
                    ),
                    _ => (
                        "-".to_string(),
                        format!("Wrote context {} to stdout", fetched.name),
                    ),
                };
                let expiry = fetched
                    .expires_at
                    .map(|t| format!(" (credential expires {})", t.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default();
                ui.info(&format!("{line}{expiry}"));
                summary.push(json!({
                    "provider": provider.name(),
                    "clusterId": outcome.cluster_id,
                    "status": "ok",
                    "context": fetched.name,
                    "kubeconfig": target,
                    "server": fetched.server,
                    "expiresAt": fetched.expires_at.map(rfc3339),
                }));
            }
            (_, None) => unreachable!("a cluster without a result is always a failure"),
        }
    }
    if settings.output == OutputFormat::Json {
        print_stdout(&format!("{}\n", serde_json::Value::Array(summary)));
    }
    statuses
        .iter()
        .find_map(|s| match s {
            Status::Failed(f) => Some(f.kind.exit_code()),
            _ => None,
        })
        .unwrap_or(0)
}

/// A failure before any fetch: reported once, and per cluster in JSON.
fn fail_all(
    cluster_ids: &[String],
    provider: &str,
    output: OutputFormat,
    failure: &Failure,
) -> i32 {
    eprintln!("{}", failure.render());
    if output == OutputFormat::Json {
        let summary: Vec<_> = cluster_ids
            .iter()
            .map(|id| error_object(provider, id, failure))
            .collect();
        print_stdout(&format!("{}\n", serde_json::Value::Array(summary)));
    }
    failure.kind.exit_code()
}

fn error_object(provider: &str, cluster_id: &str, failure: &Failure) -> serde_json::Value {
    json!({
        "provider": provider,
        "clusterId": cluster_id,
        "status": "error",
        "error": {
            "kind": failure.kind,
            "code": failure.code,
            "message": failure.message,
            "requestId": failure.request_id,
            "hint": failure.hint,
        }
    })
}

fn setup_failure(provider: &str, error: SetupError) -> Failure {
    match error {
        SetupError::Usage(e) => {
            Failure::new(ErrorKind::Usage, format!("{provider}: {}", e.message)).with_hint(e.hint)
        }
        SetupError::Credentials(CredentialError::NotFound {
            provider: cloud,
            tried,
        }) => {
            let mut failure = Failure::new(
                ErrorKind::Auth,
                format!("{provider}: no {cloud} credentials found"),
            )
            .with_hint(Some(credentials_hint(provider).to_string()));
            failure.causes = tried.iter().map(|t| format!("tried {t}")).collect();
            failure
        }
        SetupError::Credentials(e @ CredentialError::Broken { .. }) => {
            Failure::new(ErrorKind::Auth, format!("{provider}: {e}"))
                .with_hint(Some(credentials_hint(provider).to_string()))
        }
    }
}

fn credentials_hint(provider: &str) -> &'static str {
    match provider {
        "tke" => "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or run `tccli configure` (use --profile for a named profile)",
        "cce" | "ucs" | "ucs-agent" => "set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or write ~/.huaweicloud/credentials), or OS_AUTH_TOKEN, or OS_USERNAME, OS_PASSWORD and OS_DOMAIN_NAME",
        "ack" => "set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or run `aliyun configure` (use --profile for a named profile)",
        _ => "see `kubefetch --help` for where credentials are read from",
    }
}

fn api_failure(provider: &str, cluster_id: &str, e: ApiError) -> Failure {
    Failure {
        kind: e.kind,
        message: format!("{provider} {cluster_id}: {e}"),
        code: e.code.clone(),
        request_id: e.request_id.clone(),
        causes: Vec::new(),
        hint: e.hint.clone(),
    }
}

fn store_failure(e: StoreError) -> Failure {
    let hint = e.hint();
    let mut failure =
        Failure::new(ErrorKind::Kubeconfig, e.to_string()).with_hint(Some(hint.to_string()));
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        failure.causes.push(cause.to_string());
        source = cause.source();
    }
    failure
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// stdout is data: one write, and a closed pipe is not a panic.
fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
