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

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, Utc};
    use fakecloud::{fixtures, FakeCloud, Provider as Api};

    use super::*;
    use crate::provider::{ProviderConfig, ProviderKind};
    use crate::settings::{HttpSettings, Verbosity};

    /// `credential ack <id> --ttl 60` with the clock at `now`.
    async fn ask(
        cloud: &FakeCloud,
        cache: &std::path::Path,
        now: chrono::DateTime<Utc>,
    ) -> Result<Credential, Failure> {
        let mut vars = cloud.env();
        vars.push(("KUBECACHEDIR".into(), cache.display().to_string()));
        let env = Arc::new(Env::new(vars, None).with_now(now));
        let mut provider = ProviderConfig::new(
            ProviderKind::Ack,
            HttpSettings {
                timeout: std::time::Duration::from_secs(5),
                retries: 0,
                ca_bundle: None,
            },
        );
        provider.ttl_minutes = Some(60);
        let invocation = CredentialInvocation {
            provider,
            cluster_id: fixtures::ACK_CLUSTER.into(),
            verbosity: Verbosity::Quiet,
        };
        credential(&invocation, &env, Ui::new(Verbosity::Quiet)).await
    }

    fn ack_requests(cloud: &FakeCloud) -> usize {
        cloud
            .requests()
            .iter()
            .filter(|r| r.provider == Api::Ack)
            .count()
    }

    #[tokio::test]
    async fn a_cached_credential_is_served_until_its_threshold_and_never_after() {
        let cloud = FakeCloud::start();
        let cache = tempfile::tempdir().unwrap();
        let start = Utc::now();
        let fetched = ask(&cloud, cache.path(), start).await.unwrap();
        assert_eq!(ack_requests(&cloud), 1, "a cold cache is a miss");
        // A 60-minute credential is served while more than 12 minutes remain.
        let later = ask(&cloud, cache.path(), start + TimeDelta::minutes(47))
            .await
            .unwrap();
        assert_eq!(later, fetched);
        assert_eq!(ack_requests(&cloud), 1, "a hit asks nothing");
        // Past the threshold it is fetched again. The fake cloud refuses a
        // request signed 49 minutes ahead of its clock, and that failure is
        // the answer: the old credential is not served.
        let expired = ask(&cloud, cache.path(), start + TimeDelta::minutes(49)).await;
        assert_eq!(ack_requests(&cloud), 2, "past the threshold is a miss");
        assert!(expired.is_err(), "{expired:?}");
        assert_eq!(
            ask(&cloud, cache.path(), start + TimeDelta::minutes(1))
                .await
                .unwrap(),
            fetched,
            "a failed refill leaves the entry as it was"
        );
    }
}
