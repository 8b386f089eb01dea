//! One module per command, each from an [`Invocation`] to an exit code.
//! No clap types and no provider names here: those stay in `settings` and
//! `provider`.

mod credential;
mod discover;
mod fetch;
mod list;
mod refresh;
mod remove;
mod sync;
mod ucs_agent;

use std::path::Path;

use crate::env::Env;
use crate::error::{ErrorKind, Failure};
use crate::kubeconfig::set::{paths, KubeconfigSet};
use crate::report;
use crate::settings::{resolve, Invocation, Verbosity};
use crate::ui::Ui;

/// Resolves the command line and runs it; the exit code of the contract.
pub async fn run(command: crate::cli::Command, env: Env) -> i32 {
    match resolve(command, &env) {
        Ok(invocation) => dispatch(invocation, env).await,
        Err(refused) => report::fail_all(
            refused.command,
            &refused.cluster_ids,
            refused.output,
            &refused.failure,
        ),
    }
}

async fn dispatch(invocation: Invocation, env: Env) -> i32 {
    match invocation {
        Invocation::Fetch(fetch) => fetch::run(fetch, env).await,
        Invocation::UcsAgent(agent) => ucs_agent::run(agent, env).await,
        Invocation::List(list) => list::run(list, env, Ui::new(Verbosity::Normal)),
        Invocation::Refresh(refresh) => refresh::run(refresh, env).await,
        Invocation::Remove(remove) => remove::run(remove, env),
        Invocation::Credential(credential) => credential::run(credential, env).await,
        Invocation::Discover(discover) => discover::run(discover, env).await,
        Invocation::Sync(sync) => sync::run(sync, env).await,
    }
}

/// The kubeconfig files `list`, `refresh` and `remove` work on, read.
fn load_set(explicit: Option<&Path>, env: &Env) -> Result<KubeconfigSet, Failure> {
    let paths =
        paths(explicit, env).map_err(|e| Failure::new(ErrorKind::Kubeconfig, e.to_string()))?;
    KubeconfigSet::load(&paths).map_err(Failure::store)
}

/// A named context in no file of the set (exit 4).
fn unknown_context(command: &str, name: &str, set: &KubeconfigSet, hint: &str) -> Failure {
    let files: Vec<String> = set
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    let place = if files.is_empty() {
        "any kubeconfig (none exists)".to_string()
    } else {
        files.join(", ")
    };
    Failure::new(
        ErrorKind::NotFound,
        format!("{command}: no context named {name} in {place}"),
    )
    .with_hint(Some(hint.to_string()))
}

/// A named context kubefetch did not write (exit 6).
fn foreign_context(command: &str, name: &str, file: &Path, hint: &str) -> Failure {
    Failure::new(
        ErrorKind::Kubeconfig,
        format!(
            "{command}: context {name} in {} was not written by kubefetch",
            file.display()
        ),
    )
    .with_hint(Some(hint.to_string()))
}
