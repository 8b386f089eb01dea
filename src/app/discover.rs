//! `kubefetch discover`: the clusters the credentials can see, every page,
//! as a table or JSON on stdout; and the discovery behind `--all` and
//! `--name` of fetch commands and `all: true` of fleet entries.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::env::Env;
use crate::error::{ErrorKind, Failure};
use crate::provider::{Discovered, Provider, ProviderConfig};
use crate::report::{self, print_data, Output};
use crate::settings::DiscoverInvocation;
use crate::ui::{escape_controls, Ui};

const HEADER: [&str; 5] = ["PROVIDER", "CLUSTER", "NAME", "REGION", "STATE"];

pub async fn run(invocation: DiscoverInvocation, env: Env) -> i32 {
    let ui = Ui::new(invocation.verbosity);
    let kind = invocation.provider.kind;
    let found = match discover(invocation.provider, Arc::new(env), ui).await {
        Ok((_, found)) => found,
        Err(failure) => {
            eprintln!("{}", failure.render());
            return failure.kind.exit_code();
        }
    };
    let text = match invocation.output {
        Output::Json => {
            let objects: Vec<Value> = found
                .iter()
                .map(|c| {
                    json!({"provider": kind.name(), "clusterId": c.cluster_id, "name": c.name,
                           "region": c.region, "state": c.state})
                })
                .collect();
            format!("{}\n", Value::Array(objects))
        }
        Output::Text => {
            let mut cells = vec![HEADER.iter().map(|h| h.to_string()).collect()];
            cells.extend(found.iter().map(|c| {
                vec![
                    kind.name().to_string(),
                    escape_controls(&c.cluster_id).into_owned(),
                    escape_controls(&c.name).into_owned(),
                    escape_controls(c.region.as_deref().unwrap_or("-")).into_owned(),
                    escape_controls(&c.state).into_owned(),
                ]
            }));
            report::table(&cells)
        }
    };
    print_data("the cluster list", &text, 0)
}

/// Sets the provider up for discovery and lists every cluster it can see.
pub async fn discover(
    config: ProviderConfig,
    env: Arc<Env>,
    ui: Ui,
) -> Result<(Provider, Vec<Discovered>), Failure> {
    let command = config.kind.name();
    let provider =
        Provider::for_discovery(config, env, ui).map_err(|e| Failure::setup(command, e))?;
    let found = provider
        .list_clusters()
        .await
        .map_err(|e| Failure::discovery(command, e))?;
    Ok((provider, found))
}

/// The one cluster called `name`: none is exit 4, several exit 2 naming them.
pub fn by_name<'a>(
    command: &str,
    found: &'a [Discovered],
    name: &str,
    searched: &str,
) -> Result<&'a Discovered, Failure> {
    let matches: Vec<&Discovered> = found.iter().filter(|c| c.name == name).collect();
    match matches[..] {
        [one] => Ok(one),
        [] => Err(Failure::new(
            ErrorKind::NotFound,
            format!("{command}: no cluster named {name} in {searched}"),
        )
        .with_hint(Some(format!(
            "`kubefetch discover {command}` lists the clusters these credentials can see"
        )))),
        _ => {
            let ids: Vec<&str> = matches.iter().map(|c| c.cluster_id.as_str()).collect();
            Err(Failure::new(
                ErrorKind::Usage,
                format!(
                    "{command}: {} clusters are named {name} in {searched}: {}",
                    ids.len(),
                    ids.join(", ")
                ),
            )
            .with_hint(Some("fetch the one you mean by its cluster id".to_string())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(id: &str, name: &str) -> Discovered {
        Discovered {
            cluster_id: id.into(),
            name: name.into(),
            region: Some("ap-guangzhou".into()),
            state: "Running".into(),
        }
    }

    #[test]
    fn a_name_matches_one_cluster_or_fails_with_the_contracts_codes() {
        let found = [
            cluster("cls-a", "web"),
            cluster("cls-b", "db"),
            cluster("cls-c", "db"),
        ];
        assert_eq!(
            by_name("tke", &found, "web", "r").unwrap().cluster_id,
            "cls-a"
        );
        let none = by_name("tke", &found, "api", "r").unwrap_err();
        assert_eq!(none.kind.exit_code(), 4);
        let several = by_name("tke", &found, "db", "r").unwrap_err();
        assert_eq!(several.kind.exit_code(), 2);
        assert!(
            several.message.ends_with("cls-b, cls-c"),
            "{}",
            several.message
        );
    }
}
