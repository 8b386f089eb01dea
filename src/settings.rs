//! Turns parsed command-line arguments and the environment into plain,
//! validated settings. Every usage error is found here, before any request.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::cli::{FetchArgs, OutputFormat, RequestArgs};
use crate::env::Env;

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    pub hint: Option<String>,
}

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        UsageError {
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Where the fetched entries go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `--kubeconfig -`: a self-contained kubeconfig on stdout, no file touched.
    Stdout,
    /// A kubeconfig file: explicit, or located from `$KUBECONFIG` / the default.
    File(Option<PathBuf>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

impl Verbosity {
    pub fn from_args(args: &RequestArgs) -> Self {
        if args.quiet {
            Verbosity::Quiet
        } else if args.verbose > 0 {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub timeout: Duration,
    pub retries: u32,
    /// Extra roots for API endpoints (`KUBEFETCH_CA_BUNDLE`).
    pub ca_bundle: Option<PathBuf>,
}

impl HttpSettings {
    pub fn from_args(args: &RequestArgs, env: &Env) -> Self {
        HttpSettings {
            timeout: Duration::from_secs(args.timeout),
            retries: args.retries,
            ca_bundle: env.var("KUBEFETCH_CA_BUNDLE").map(PathBuf::from),
        }
    }
}

/// What every fetch command shares, validated.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub cluster_ids: Vec<String>,
    pub private: bool,
    /// `--ttl` in minutes; each provider checks its own range.
    pub ttl_minutes: Option<u64>,
    pub target: Target,
    pub context_name: Option<String>,
    pub switch: bool,
    pub force: bool,
    pub profile: Option<String>,
    pub endpoint: Option<Url>,
    pub output: OutputFormat,
    pub http: HttpSettings,
    pub verbosity: Verbosity,
    pub lock_timeout: Duration,
}

const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

impl FetchSettings {
    pub fn from_args(args: &FetchArgs, env: &Env) -> Result<Self, UsageError> {
        let mut cluster_ids: Vec<String> = Vec::with_capacity(args.cluster_ids.len());
        for id in &args.cluster_ids {
            validate_cluster_id(id)?;
            if !cluster_ids.contains(id) {
                cluster_ids.push(id.clone());
            }
        }
        if let Some(name) = &args.context_name {
            if cluster_ids.len() > 1 {
                return Err(UsageError::new("--context can name only one cluster")
                    .with_hint("fetch the clusters one at a time to name each, or drop --context to get <provider>-<cluster id> names"));
            }
            validate_context_name(name)?;
        }
        let target = match &args.kubeconfig {
            Some(path) if path.as_os_str() == "-" => Target::Stdout,
            Some(path) if path.as_os_str().is_empty() => {
                return Err(UsageError::new(
                    "--kubeconfig needs a path, or '-' for stdout",
                ))
            }
            Some(path) => Target::File(Some(path.clone())),
            None => Target::File(None),
        };
        let lock_timeout = match env.var("KUBEFETCH_LOCK_TIMEOUT") {
            None => DEFAULT_LOCK_TIMEOUT,
            Some(text) => text
                .parse::<f64>()
                .ok()
                .filter(|secs| secs.is_finite() && *secs >= 0.0 && *secs <= 3600.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    UsageError::new(format!(
                        "KUBEFETCH_LOCK_TIMEOUT must be a number of seconds from 0 to 3600, not '{text}'"
                    ))
                })?,
        };
        Ok(FetchSettings {
            switch: !args.no_switch && cluster_ids.len() == 1,
            cluster_ids,
            private: args.private,
            ttl_minutes: args.ttl.as_deref().map(parse_ttl_minutes).transpose()?,
            target,
            context_name: args.context_name.clone(),
            force: args.force,
            profile: args.profile.clone(),
            endpoint: args
                .request
                .endpoint
                .as_deref()
                .map(|url| parse_endpoint(url, "--endpoint"))
                .transpose()?,
            output: args.request.output,
            http: HttpSettings::from_args(&args.request, env),
            verbosity: Verbosity::from_args(&args.request),
            lock_timeout,
        })
    }

    /// The API base URL: `--endpoint`, else the provider's env var, else `default`.
    pub fn endpoint_or(&self, env: &Env, var: &str, default: &str) -> Result<Url, UsageError> {
        if let Some(url) = &self.endpoint {
            return Ok(url.clone());
        }
        match env.var(var) {
            Some(url) => parse_endpoint(url, var),
            None => parse_endpoint(default, "the default endpoint"),
        }
    }

    /// The name for a cluster's context, cluster and user entries.
    pub fn entry_name(&self, provider: &str, cluster_id: &str) -> String {
        match &self.context_name {
            Some(name) => name.clone(),
            None if self.private => format!("{provider}-{cluster_id}-private"),
            None => format!("{provider}-{cluster_id}"),
        }
    }
}

/// Cluster ids end up in URL paths and file names: only plain ids pass.
fn validate_cluster_id(id: &str) -> Result<(), UsageError> {
    let plain = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !id.starts_with('-');
    if plain {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "malformed cluster id '{}': only letters, digits, '-' and '_' are allowed",
            id.escape_debug()
        ))
        .with_hint("copy the id from the console or the provider's CLI, e.g. cls-65r1c5nu"))
    }
}

fn validate_context_name(name: &str) -> Result<(), UsageError> {
    if name.is_empty() || name.len() > 253 || name.chars().any(|c| c.is_control() || c == '/') {
        return Err(UsageError::new(format!(
            "invalid --context name '{}': use a non-empty name without '/' or control characters",
            name.escape_debug()
        )));
    }
    Ok(())
}

/// `--ttl`: a plain number of minutes, or a number with `m`, `h` or `d`.
pub fn parse_ttl_minutes(text: &str) -> Result<u64, UsageError> {
    let bad = || {
        UsageError::new(format!(
            "invalid --ttl '{}': expected minutes, or a number with m, h or d (90m, 3h, 2d)",
            text.escape_debug()
        ))
    };
    let trimmed = text.trim();
    let (digits, per_unit) = match trimmed.char_indices().last() {
        Some((i, 'm')) => (&trimmed[..i], 1),
        Some((i, 'h')) => (&trimmed[..i], 60),
        Some((i, 'd')) => (&trimmed[..i], 24 * 60),
        _ => (trimmed, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let minutes = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(per_unit))
        .ok_or_else(bad)?;
    if minutes == 0 {
        return Err(UsageError::new("--ttl must be longer than zero"));
    }
    Ok(minutes)
}

/// Renders minutes the way a person would write them back.
pub fn format_minutes(minutes: u64) -> String {
    match minutes {
        m if m % (24 * 60) == 0 => format!("{}d", m / (24 * 60)),
        m if m % 60 == 0 => format!("{}h", m / 60),
        m => format!("{m}m"),
    }
}

/// API endpoints must be https, except plain http to this machine (tests,
/// local proxies): a credential-signed request must not cross a network in clear.
pub fn parse_endpoint(text: &str, origin: &str) -> Result<Url, UsageError> {
    let url = Url::parse(text).map_err(|e| {
        UsageError::new(format!(
            "invalid endpoint URL '{}' from {origin}: {e}",
            text.escape_debug()
        ))
    })?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(UsageError::new(format!(
            "refusing plain http endpoint {url} from {origin}: signed requests must use https"
        ))
        .with_hint(
            "use https://, or http:// only to a loopback address (127.0.0.1, ::1, localhost)",
        )),
        _ => Err(UsageError::new(format!(
            "invalid endpoint URL '{}' from {origin}: expected https://host",
            text.escape_debug()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn fetch_args(argv: &[&str]) -> FetchArgs {
        let mut full = vec!["kubefetch", "tke"];
        full.extend_from_slice(argv);
        let crate::cli::TopLevel::Work(command) =
            crate::cli::Cli::try_parse_from(full).unwrap().command
        else {
            panic!("not a fetch command")
        };
        match *command {
            crate::cli::Command::Tke(a) => a.fetch,
            other => panic!("parsed as {other:?}"),
        }
    }

    fn settings(argv: &[&str]) -> Result<FetchSettings, UsageError> {
        FetchSettings::from_args(
            &fetch_args(argv),
            &Env::new(Vec::<(String, String)>::new(), None),
        )
    }

    #[test]
    fn ttl_accepts_minutes_and_units() {
        assert_eq!(parse_ttl_minutes("60").unwrap(), 60);
        assert_eq!(parse_ttl_minutes("90m").unwrap(), 90);
        assert_eq!(parse_ttl_minutes("3h").unwrap(), 180);
        assert_eq!(parse_ttl_minutes("2d").unwrap(), 2880);
        for bad in [
            "",
            "abc",
            "5x",
            "-5",
            "1.5h",
            "h",
            "0",
            "99999999999999999999d",
        ] {
            assert!(parse_ttl_minutes(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn minutes_format_back_to_the_largest_whole_unit() {
        assert_eq!(format_minutes(15), "15m");
        assert_eq!(format_minutes(180), "3h");
        assert_eq!(format_minutes(4320), "3d");
    }

    #[test]
    fn endpoints_must_be_https_or_loopback_http() {
        for ok in [
            "https://tke.tencentcloudapi.com",
            "http://127.0.0.1:8080",
            "http://127.3.2.1",
            "http://[::1]:9000/",
            "http://localhost:1",
        ] {
            assert!(parse_endpoint(ok, "test").is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1",
            "http://example.com",
            "ftp://x",
            "not a url",
            "https://",
        ] {
            assert!(parse_endpoint(bad, "test").is_err(), "{bad}");
        }
    }

    #[test]
    fn cluster_ids_with_path_tricks_are_usage_errors() {
        for bad in ["../x", "a/b", "..", "", "-rf", "a b", "cls\u{0}"] {
            assert!(validate_cluster_id(bad).is_err(), "{bad:?}");
        }
        validate_cluster_id("cls-65r1c5nu").unwrap();
        validate_cluster_id("4d5e6f70-1a2b-11ee-8c90-0255ac100001").unwrap();
    }

    #[test]
    fn names_follow_the_contract() {
        let s = settings(&["cls-1"]).unwrap();
        assert_eq!(s.entry_name("tke", "cls-1"), "tke-cls-1");
        assert!(s.switch);
        let s = settings(&["cls-1", "--private"]).unwrap();
        assert_eq!(s.entry_name("tke", "cls-1"), "tke-cls-1-private");
        let s = settings(&["cls-1", "--context", "prod"]).unwrap();
        assert_eq!(s.entry_name("tke", "cls-1"), "prod");
    }

    #[test]
    fn several_ids_do_not_switch_and_cannot_share_a_context_name() {
        let s = settings(&["cls-1", "cls-2", "cls-1"]).unwrap();
        assert_eq!(s.cluster_ids, ["cls-1", "cls-2"]);
        assert!(!s.switch);
        assert!(settings(&["cls-1", "cls-2", "--context", "x"]).is_err());
        assert!(!settings(&["cls-1", "--no-switch"]).unwrap().switch);
    }

    #[test]
    fn dash_means_stdout() {
        assert_eq!(
            settings(&["c", "--kubeconfig", "-"]).unwrap().target,
            Target::Stdout
        );
        assert_eq!(settings(&["c"]).unwrap().target, Target::File(None));
    }
}
