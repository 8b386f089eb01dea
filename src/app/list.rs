//! `kubefetch list`: the contexts of the set with where they came from and
//! when their credentials expire, as a table or JSON on stdout.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

use crate::cache::{self, Cache};
use crate::env::Env;
use crate::kubeconfig::certificate;
use crate::kubeconfig::provenance::format_timestamp;
use crate::kubeconfig::set::{Entry, KubeconfigSet};
use crate::report::{self, print_data, Output};
use crate::settings::ListInvocation;
use crate::ui::Ui;

use super::load_set;

/// One listed context; provenance fields are `None` for foreign contexts.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub context: String,
    pub provider: Option<String>,
    pub cluster_id: Option<String>,
    pub region: Option<String>,
    pub private: Option<bool>,
    pub exec: Option<bool>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub current: bool,
    pub kubeconfig: String,
}

pub fn run(invocation: ListInvocation, env: Env, ui: Ui) -> i32 {
    let set = match load_set(invocation.kubeconfig.as_deref(), &env) {
        Ok(set) => set,
        Err(failure) => {
            eprintln!("{}", failure.render());
            return failure.kind.exit_code();
        }
    };
    let now = env.now();
    let cache = Cache::locate(&env);
    let rows: Vec<Listed> = rows(&set, invocation.all, cache.as_ref(), ui)
        .into_iter()
        .filter(|row| {
            invocation
                .provider
                .is_none_or(|p| row.provider.as_deref() == Some(p.name()))
        })
        .filter(|row| {
            invocation
                .expiring_within
                .is_none_or(|within| row.expires_at.is_some_and(|at| at < now + within))
        })
        .collect();
    let text = match invocation.output {
        Output::Text => table(&rows, set.several_files(), now),
        Output::Json => format!(
            "{}\n",
            Value::Array(rows.iter().map(|r| object(r, now)).collect())
        ),
    };
    print_data("the list", &text, 0)
}

/// The set's contexts kubefetch wrote, or with `all` every context.
pub fn rows(set: &KubeconfigSet, all: bool, cache: Option<&Cache>, ui: Ui) -> Vec<Listed> {
    let current = set.current_context();
    set.entries()
        .into_iter()
        .filter(|entry| all || entry.provenance.is_some())
        .map(|entry| listed(set, &entry, current, cache, ui))
        .collect()
}

fn listed(
    set: &KubeconfigSet,
    entry: &Entry<'_>,
    current: Option<&str>,
    cache: Option<&Cache>,
    ui: Ui,
) -> Listed {
    let name = &entry.context.name;
    let mut row = Listed {
        context: name.clone(),
        provider: None,
        cluster_id: None,
        region: None,
        private: None,
        exec: None,
        fetched_at: None,
        expires_at: None,
        current: current == Some(name.as_str()),
        kubeconfig: entry.file.path.display().to_string(),
    };
    match &entry.provenance {
        Some(Ok(p)) => {
            row.provider = Some(p.provider.clone());
            row.cluster_id = Some(p.cluster_id.clone());
            row.region = p.region.clone();
            row.private = Some(p.private);
            row.exec = Some(p.exec);
            row.fetched_at = Some(p.fetched_at);
        }
        Some(Err(e)) => ui.warn(&e.to_string()),
        None => {}
    }
    row.expires_at = expiry(set, entry, cache);
    row
}

/// When a context's credential expires: for an exec context its cached
/// credential's (the latest of its entries), else as recorded, else the
/// notAfter of its user's client certificate.
pub fn expiry(
    set: &KubeconfigSet,
    entry: &Entry<'_>,
    cache: Option<&Cache>,
) -> Option<DateTime<Utc>> {
    match &entry.provenance {
        Some(Ok(p)) if p.exec => cache
            .and_then(|cache| cache.latest_expiry(&cache::entry_name(p)))
            .or(p.expires_at),
        Some(Ok(p)) if p.expires_at.is_some() => p.expires_at,
        _ => certificate_expiry(set, entry),
    }
}

fn certificate_expiry(set: &KubeconfigSet, entry: &Entry<'_>) -> Option<DateTime<Utc>> {
    let user = set.user(entry.context.context.user.as_deref()?)?;
    certificate::not_after(user.user.client_certificate_data.as_deref()?).ok()
}

fn object(row: &Listed, now: DateTime<Utc>) -> Value {
    json!({
        "context": row.context,
        "provider": row.provider,
        "clusterId": row.cluster_id,
        "region": row.region,
        "private": row.private,
        "exec": row.exec,
        "fetchedAt": row.fetched_at.map(format_timestamp),
        "expiresAt": row.expires_at.map(format_timestamp),
        "expired": row.expires_at.map(|at| at <= now),
        "current": row.current,
        "kubeconfig": row.kubeconfig,
    })
}

const HEADER: [&str; 8] = [
    "CURRENT", "NAME", "PROVIDER", "CLUSTER", "REGION", "ACCESS", "EXPIRES", "FILE",
];

/// Columns padded to their widest cell, three spaces apart, as kubectl
/// prints tables; FILE only when the set holds several files.
fn table(rows: &[Listed], with_file: bool, now: DateTime<Utc>) -> String {
    let columns = if with_file { 8 } else { 7 };
    let mut cells: Vec<Vec<String>> =
        vec![HEADER[..columns].iter().map(|h| h.to_string()).collect()];
    for row in rows {
        let mut line = vec![
            if row.current { "*" } else { "" }.to_string(),
            row.context.clone(),
            row.provider.clone().unwrap_or_default(),
            row.cluster_id.clone().unwrap_or_default(),
            row.region.clone().unwrap_or_default(),
            access(row).to_string(),
            row.expires_at
                .map_or("-".to_string(), |at| expires(at, now)),
        ];
        if with_file {
            line.push(row.kubeconfig.clone());
        }
        cells.push(line);
    }
    report::table(&cells)
}

fn access(row: &Listed) -> &'static str {
    match (row.exec, row.private) {
        (Some(true), _) => "exec",
        (_, Some(true)) => "private",
        (_, Some(false)) => "public",
        _ => "",
    }
}

/// `2026-11-27 10:00 (in 3h)`, `2026-11-20 10:00 (expired 7d ago)`.
pub fn expires(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let date = at.format("%Y-%m-%d %H:%M");
    if at > now {
        format!("{date} (in {})", span(at - now))
    } else {
        format!("{date} (expired {} ago)", span(now - at))
    }
}

/// The largest whole unit: days, else hours, else minutes.
fn span(delta: TimeDelta) -> String {
    if delta.num_days() > 0 {
        format!("{}d", delta.num_days())
    } else if delta.num_hours() > 0 {
        format!("{}h", delta.num_hours())
    } else if delta.num_minutes() > 0 {
        format!("{}m", delta.num_minutes())
    } else {
        "<1m".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn expiry_has_a_relative_form() {
        let now = at("2026-11-27T07:00:00Z");
        assert_eq!(
            expires(at("2026-11-27T10:00:00Z"), now),
            "2026-11-27 10:00 (in 3h)"
        );
        assert_eq!(
            expires(at("2026-11-20T10:00:00Z"), now),
            "2026-11-20 10:00 (expired 6d ago)"
        );
        assert_eq!(
            expires(at("2026-11-27T07:45:30Z"), now),
            "2026-11-27 07:45 (in 45m)"
        );
        assert_eq!(expires(now, now), "2026-11-27 07:00 (expired <1m ago)");
    }

    fn row(context: &str, provider: Option<&str>, current: bool) -> Listed {
        Listed {
            context: context.into(),
            provider: provider.map(str::to_string),
            cluster_id: provider.map(|_| "cls-a".to_string()),
            region: provider.map(|_| "ap-guangzhou".to_string()),
            private: provider.map(|_| false),
            exec: provider.map(|_| false),
            fetched_at: None,
            expires_at: provider.map(|_| at("2026-11-27T10:00:00Z")),
            current,
            kubeconfig: "/k/config".into(),
        }
    }

    #[test]
    fn the_table_aligns_columns_and_adds_file_only_for_several_files() {
        let now = at("2026-11-27T07:00:00Z");
        let rows = [
            row("tke-cls-a", Some("tke"), true),
            row("mine", None, false),
        ];
        assert_eq!(
            table(&rows, false, now),
            "CURRENT   NAME        PROVIDER   CLUSTER   REGION         ACCESS   EXPIRES\n\
             *         tke-cls-a   tke        cls-a     ap-guangzhou   public   2026-11-27 10:00 (in 3h)\n\
             \x20         mine                                                     -\n"
        );
        let with_file = table(&rows, true, now);
        assert!(with_file
            .lines()
            .next()
            .unwrap()
            .ends_with("EXPIRES                    FILE"));
        assert!(with_file
            .lines()
            .nth(1)
            .unwrap()
            .ends_with("(in 3h)   /k/config"));
    }

    #[test]
    fn json_rows_have_every_key_with_nulls_for_foreign_contexts() {
        let now = at("2026-11-27T07:00:00Z");
        let ours = object(&row("tke-cls-a", Some("tke"), true), now);
        assert_eq!(ours["expired"], false);
        assert_eq!(ours["expiresAt"], "2026-11-27T10:00:00Z");
        let foreign = object(&row("mine", None, false), now);
        for key in [
            "provider",
            "clusterId",
            "region",
            "private",
            "exec",
            "fetchedAt",
            "expiresAt",
            "expired",
        ] {
            assert_eq!(foreign[key], Value::Null, "{key}");
        }
        assert_eq!(foreign["current"], false);
        assert_eq!(foreign.as_object().unwrap().len(), 11);
    }
}
