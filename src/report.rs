//! How a command that acts on clusters reports: one row per cluster, as a
//! human line (stderr) or an object of the JSON summary (stdout), and the
//! exit code of the first failure (DESIGN.md sections 2 and 4).

use serde_json::{Map, Value};

use crate::error::{ErrorKind, Failure};
use crate::ui::{redact_userinfo, Ui};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Human lines on stderr, nothing on stdout.
    Text,
    /// The summary array on stdout.
    Json,
}

/// One cluster's outcome.
#[derive(Debug, Clone)]
pub struct Row {
    pub provider: String,
    pub cluster_id: String,
    /// For commands that act on existing contexts (refresh): named in the
    /// summary whatever the outcome.
    pub context: Option<String>,
    /// What `sync` did (`added`, `updated`, `pruned`, `failed`); with it, an
    /// empty cluster id (a failed discovery) is `null` in the summary.
    pub action: Option<&'static str>,
    pub outcome: Result<Success, Failure>,
}

#[derive(Debug, Clone)]
pub struct Success {
    /// The line for people, on stderr unless `-q`.
    pub line: String,
    /// `ok`, or `skipped` for a discovered cluster that is not running.
    pub status: &'static str,
    /// The summary fields after `"status"`, in order.
    pub fields: Vec<(&'static str, Value)>,
}

impl Success {
    pub fn ok(line: String, fields: Vec<(&'static str, Value)>) -> Self {
        Success {
            line,
            status: "ok",
            fields,
        }
    }

    /// A discovered cluster not fetched because of its state.
    pub fn skipped(cluster_id: &str, state: &str) -> Self {
        Success {
            line: format!("skipped {cluster_id} ({state})"),
            status: "skipped",
            fields: vec![("state", state.into())],
        }
    }
}

/// Reports every row in order and returns the exit code: 0, or the first failure's.
pub fn finish(rows: &[Row], output: Output, ui: Ui) -> i32 {
    for row in rows {
        match &row.outcome {
            Ok(success) => ui.info(&success.line),
            Err(failure) => eprintln!("{}", failure.render()),
        }
    }
    conclude(rows, output)
}

/// What a progress bar or progress lines did not stand for: every failure
/// in full (one that several clusters share, such as a failed write, once)
/// and every skipped cluster, in order.
pub fn say_failures_and_skips(rows: &[Row], ui: Ui) {
    // One failed write fails every cluster it would have written: said once.
    let mut said = std::collections::HashSet::new();
    for row in rows {
        match &row.outcome {
            Err(failure) => {
                let text = failure.render();
                if said.insert(text.clone()) {
                    eprintln!("{text}");
                }
            }
            Ok(success) if success.status == "skipped" => ui.info(&success.line),
            Ok(_) => {}
        }
    }
}

/// The exit code, and the JSON summary when asked for, without the lines
/// for people (for a command that says them its own way).
pub fn conclude(rows: &[Row], output: Output) -> i32 {
    let code = exit_code(rows);
    match output {
        Output::Json => print_json(rows, code),
        Output::Text => code,
    }
}

/// A failure before any cluster was asked for: said once on stderr, and
/// once per cluster in the JSON summary.
pub fn fail_all(provider: &str, cluster_ids: &[String], output: Output, failure: &Failure) -> i32 {
    eprintln!("{}", failure.render());
    if output == Output::Json {
        let rows: Vec<Row> = cluster_ids
            .iter()
            .map(|id| Row {
                provider: provider.to_string(),
                cluster_id: id.clone(),
                context: None,
                action: None,
                outcome: Err(failure.clone()),
            })
            .collect();
        return print_json(&rows, failure.kind.exit_code());
    }
    failure.kind.exit_code()
}

pub fn exit_code(rows: &[Row]) -> i32 {
    rows.iter()
        .find_map(|row| row.outcome.as_ref().err())
        .map_or(0, |failure| failure.kind.exit_code())
}

/// Prints the summary. The exit code stays the first failure's `code`;
/// when all succeeded, a summary that could not be printed is the failure.
fn print_json(rows: &[Row], code: i32) -> i32 {
    let summary: Vec<Value> = rows.iter().map(summary_object).collect();
    let printed = print_data(
        "the JSON summary",
        &format!("{}\n", Value::Array(summary)),
        code,
    );
    if code != 0 {
        code
    } else {
        printed
    }
}

fn summary_object(row: &Row) -> Value {
    let mut object = Map::new();
    object.insert("provider".into(), row.provider.clone().into());
    let cluster_id = if row.action.is_some() && row.cluster_id.is_empty() {
        Value::Null
    } else {
        row.cluster_id.clone().into()
    };
    object.insert("clusterId".into(), cluster_id);
    if let Some(context) = &row.context {
        object.insert("context".into(), context.clone().into());
    }
    if let Some(action) = row.action {
        object.insert("action".into(), action.into());
    }
    match &row.outcome {
        Ok(success) => {
            object.insert("status".into(), success.status.into());
            for (key, value) in &success.fields {
                object.insert((*key).into(), value.clone());
            }
        }
        Err(failure) => {
            object.insert("status".into(), "error".into());
            object.insert(
                "error".into(),
                serde_json::json!({
                    "kind": failure.kind,
                    "code": failure.code,
                    "message": redact_userinfo(&failure.message),
                    "requestId": failure.request_id,
                    "hint": failure.hint.as_deref().map(redact_userinfo),
                }),
            );
        }
    }
    Value::Object(object)
}

/// Columns padded to their widest cell, three spaces apart, as kubectl
/// prints tables; the first line is the header.
pub fn table(cells: &[Vec<String>]) -> String {
    let columns = cells.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            cells
                .iter()
                .map(|line| line[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in cells {
        let mut text = String::new();
        for (c, cell) in line.iter().enumerate() {
            text.push_str(cell);
            if c + 1 < columns {
                let pad = widths[c] - cell.chars().count() + 3;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

/// stdout is data: one write. One that fails (a full disk, a closed
/// pipe) is a failure: a CI job must not go on with an empty kubeconfig.
pub fn print_stdout(what: &str, text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| {
            Failure::new(ErrorKind::Kubeconfig, format!("cannot write {what} to stdout: {e}")).with_hint(
                Some(
                    "what stdout is redirected to did not take it (check its free disk space); the output there is incomplete"
                        .to_string(),
                ),
            )
        })
}

/// A command's data (`what`) on stdout, then `code`; or the failure to write it,
/// said on stderr, and its exit code.
pub fn print_data(what: &str, text: &str, code: i32) -> i32 {
    match print_stdout(what, text) {
        Ok(()) => code,
        Err(failure) => {
            eprintln!("{}", failure.render());
            failure.kind.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(outcome: Result<Success, Failure>, context: Option<&str>) -> Row {
        Row {
            provider: "tke".into(),
            cluster_id: "cls-a".into(),
            context: context.map(str::to_string),
            action: None,
            outcome,
        }
    }

    #[test]
    fn the_first_failure_sets_the_exit_code() {
        let ok = || {
            Ok(Success::ok(
                "Added".into(),
                vec![("context", "tke-cls-a".into())],
            ))
        };
        let auth = Err(Failure::new(ErrorKind::Auth, "no"));
        let gone = Err(Failure::new(ErrorKind::NotFound, "gone"));
        assert_eq!(exit_code(&[row(ok(), None)]), 0);
        assert_eq!(
            exit_code(&[row(ok(), None), row(gone, None), row(auth, None)]),
            4
        );
    }

    #[test]
    fn summary_objects_keep_the_documented_keys() {
        let ok = summary_object(&row(
            Ok(Success::ok(
                String::new(),
                vec![
                    ("context", "tke-cls-a".into()),
                    ("server", "https://s".into()),
                ],
            )),
            None,
        ));
        assert_eq!(
            ok,
            serde_json::json!({"provider":"tke","clusterId":"cls-a","status":"ok",
                               "context":"tke-cls-a","server":"https://s"})
        );
        let failed = summary_object(&row(
            Err(Failure::new(ErrorKind::NotFound, "gone")),
            Some("prod"),
        ));
        assert_eq!(failed["context"], "prod");
        assert_eq!(failed["status"], "error");
        assert_eq!(failed["error"]["kind"], "not_found");
        assert_eq!(failed["error"]["message"], "gone");
        let skipped = summary_object(&row(Ok(Success::skipped("cls-a", "Idling")), None));
        assert_eq!(
            skipped,
            serde_json::json!({"provider":"tke","clusterId":"cls-a","status":"skipped","state":"Idling"})
        );
        let mut discovery = row(Err(Failure::new(ErrorKind::Auth, "no")), None);
        discovery.cluster_id = String::new();
        discovery.action = Some("failed");
        let failed_discovery = summary_object(&discovery);
        assert_eq!(failed_discovery["clusterId"], serde_json::Value::Null);
        assert_eq!(failed_discovery["action"], "failed");
    }
}
