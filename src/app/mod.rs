//! One module per command, each from an [`Invocation`] to an exit code.
//! No clap types and no provider names here: those stay in `settings` and
//! `provider`.

mod fetch;
mod ucs_agent;

use crate::env::Env;
use crate::report;
use crate::settings::{resolve, Invocation};

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
    }
}
