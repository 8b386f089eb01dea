//! `kubefetch ucs-agent`: saves a one-time bundle instead of merging a kubeconfig.

use std::sync::Arc;

use crate::env::Env;
use crate::error::Failure;
use crate::provider::huawei::agent::{Agent, Destination};
use crate::report::{self, Row, Success};
use crate::settings::UcsAgentInvocation;
use crate::ui::Ui;

const COMMAND: &str = "ucs-agent";

pub async fn run(invocation: UcsAgentInvocation, env: Env) -> i32 {
    let UcsAgentInvocation {
        agent: settings,
        output,
        verbosity,
    } = invocation;
    let ui = Ui::new(verbosity);
    let ids = [settings.cluster_id.clone()];
    let destination = match Destination::prepare(&settings.out, settings.force) {
        Ok(destination) => destination,
        Err(failure) => return report::fail_all(COMMAND, &ids, output, &failure),
    };
    let agent = match Agent::new(&settings, Arc::new(env), ui) {
        Ok(agent) => agent,
        Err(e) => return report::fail_all(COMMAND, &ids, output, &Failure::setup(COMMAND, e)),
    };
    match agent.download(&settings, destination).await {
        Ok(saved) => {
            if saved.verbatim {
                ui.warn(&format!(
                    "the answer was not the expected list of manifests; saved it as received to {}",
                    saved.path.display()
                ));
            }
            let path = saved.path.display();
            let row = Row {
                provider: COMMAND.to_string(),
                cluster_id: settings.cluster_id.clone(),
                context: None,
                action: None,
                outcome: Ok(Success::ok(
                    format!(
                        "Saved the UCS agent bundle of {} to {path} (apply it with `kubectl apply -f {path}`)",
                        settings.cluster_id,
                    ),
                    vec![("file", path.to_string().into())],
                )),
            };
            report::finish(&[row], output, ui)
        }
        Err(failure) => report::fail_all(COMMAND, &ids, output, &failure),
    }
}
