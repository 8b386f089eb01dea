//! `kubefetch credential`: what kubectl runs for an `--exec` user. One
//! ExecCredential on stdout, served from the cache while it is fresh; on a
//! miss, fetched under the entry's lock so that concurrent calls make one
//! request. Never prompts, never touches a kubeconfig.

use std::sync::Arc;

use crate::cache::{Cache, Credential, LOCK_WAIT};
use crate::env::Env;
use crate::error::{ErrorKind, Failure};
use crate::exec::api_version;
use crate::provider::Provider;
use crate::report::print_data;
use crate::settings::CredentialInvocation;
use crate::ui::Ui;

pub async fn run(invocation: CredentialInvocation, env: Env) -> i32 {
    let ui = Ui::new(invocation.verbosity);
    let env = Arc::new(env);
    match credential(&invocation, &env, ui).await {
        Ok(credential) => print_data(
            "the credential",
            &credential.exec_credential(api_version(&env)),
            0,
        ),
        Err(failure) => {
            eprintln!("{}", failure.render());
            failure.kind.exit_code()
        }
    }
}

async fn credential(
    invocation: &CredentialInvocation,
    env: &Arc<Env>,
    ui: Ui,
) -> Result<Credential, Failure> {
    let kind = invocation.provider.kind.name();
    let cluster_id = &invocation.cluster_id;
    let provider = Provider::new(invocation.provider.clone(), Arc::clone(env), ui)
        .map_err(|e| Failure::setup(kind, e))?;
    let key = provider.cache_key(cluster_id);
    let cache = Cache::locate(env);
    let cached = |cache: &Cache| cache.read(&key).filter(|c| c.is_fresh(env.now()));
    if let Some((cache, hit)) = cache.as_ref().and_then(|c| Some((c, cached(c)?))) {
        ui.detail(&format!(
            "credential: served from {}",
            cache.path(&key).display()
        ));
        return Ok(hit);
    }
    // Held until the new entry is written: the others waiting then find it.
    let lock = match &cache {
        None => {
            ui.warn("no home directory for the credential cache: fetching without it");
            None
        }
        Some(cache) => match cache.lock(&key, LOCK_WAIT) {
            Ok(acquired) => {
                if let Some(warning) = &acquired.warning {
                    ui.warn(warning);
                }
                Some(acquired.guard)
            }
            Err(e) => {
                ui.warn(&format!(
                    "cannot use the credential cache: {}; fetching without it",
                    crate::http::error_chain(&e)
                ));
                None
            }
        },
    };
    if let (Some(_), Some(hit)) = (&lock, cache.as_ref().and_then(cached)) {
        ui.detail("credential: fetched meanwhile by another call");
        return Ok(hit);
    }
    let now = env.now();
    let (fetched, warnings) = provider
        .fetch(cluster_id, invocation.provider.entry_name(cluster_id), now)
        .await
        .map_err(|e| Failure::api(kind, cluster_id, e))?;
    for warning in warnings {
        ui.warn(&warning);
    }
    let credential =
        Credential::from_user(&fetched.user.user, now, fetched.expires_at).map_err(|reason| {
            Failure::new(
                ErrorKind::Provider,
                format!(
                    "{kind} {cluster_id}: the provider returned an unusable credential: {reason}"
                ),
            )
        })?;
    if let (Some(cache), Some(_)) = (&cache, &lock) {
        if let Err(e) = cache.store(&key, &credential) {
            ui.warn(&format!(
                "the credential was not cached: {}",
                crate::http::error_chain(&e)
            ));
        }
    }
    drop(lock);
    Ok(credential)
}
