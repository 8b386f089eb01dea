//! Turns parsed command-line arguments and the environment into one plain,
//! validated [`Invocation`]. The only module that sees clap's types; every
//! usage error of the command line is found here, before any request.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::TimeDelta;
use reqwest::Url;

use crate::cli::{
    AckOptions, CceOptions, Command, CredentialArgs, CredentialProvider, DiscoverArgs, FetchArgs,
    HttpArgs, ListArgs, OutputFormat, ProviderName, RefreshArgs, RemoveArgs, RequestArgs, SyncArgs,
    TkeOptions, UcsAgentArgs, UcsOptions, VerbosityArgs,
};
use crate::env::Env;
use crate::error::Failure;
use crate::provider::huawei::agent::AgentSettings;
use crate::provider::huawei::endpoints;
use crate::provider::{ProviderConfig, ProviderKind, Signature};
use crate::report::Output;

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
    pub fn from_args(args: &VerbosityArgs) -> Self {
        if args.quiet {
            Verbosity::Quiet
        } else if args.verbose > 0 {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    pub timeout: Duration,
    pub retries: u32,
    /// Extra roots for API endpoints (`KUBEFETCH_CA_BUNDLE`).
    pub ca_bundle: Option<PathBuf>,
}

impl HttpSettings {
    pub fn from_args(args: &HttpArgs, env: &Env) -> Self {
        HttpSettings {
            timeout: Duration::from_secs(args.timeout),
            retries: args.retries,
            ca_bundle: env.var("KUBEFETCH_CA_BUNDLE").map(PathBuf::from),
        }
    }
}

/// One command, resolved.
#[derive(Debug)]
pub enum Invocation {
    Fetch(FetchInvocation),
    UcsAgent(UcsAgentInvocation),
    List(ListInvocation),
    Refresh(RefreshInvocation),
    Remove(RemoveInvocation),
    Credential(CredentialInvocation),
    Discover(DiscoverInvocation),
    Sync(SyncInvocation),
}

/// `sync`, with its fleet file read and validated.
#[derive(Debug, Clone)]
pub struct SyncInvocation {
    pub fleet: crate::fleet::Fleet,
    pub prune: bool,
    pub dry_run: bool,
    pub kubeconfig: Option<PathBuf>,
    pub concurrency: usize,
    pub output: Output,
    pub verbosity: Verbosity,
    pub lock_timeout: Duration,
}

/// `discover`, validated.
#[derive(Debug, Clone)]
pub struct DiscoverInvocation {
    pub provider: ProviderConfig,
    pub output: Output,
    pub verbosity: Verbosity,
}

/// Clusters a fetch command finds through discovery instead of by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discovery {
    /// `--all`: every running cluster; the others are reported as skipped.
    All,
    /// `--name`: the one cluster of each name.
    Names(Vec<String>),
}

/// `credential`, validated: one cluster's credential, as the fetch with the
/// same options would get it.
#[derive(Debug, Clone)]
pub struct CredentialInvocation {
    pub provider: ProviderConfig,
    pub cluster_id: String,
    pub verbosity: Verbosity,
}

/// `list`, validated.
#[derive(Debug, Clone)]
pub struct ListInvocation {
    /// `--kubeconfig PATH`; `None`: `$KUBECONFIG`'s files, else the default.
    pub kubeconfig: Option<PathBuf>,
    pub all: bool,
    pub provider: Option<ProviderKind>,
    pub expiring_within: Option<TimeDelta>,
    pub output: Output,
}

/// Which contexts `refresh` re-fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Named(Vec<String>),
    /// Every kubefetch context (of `--provider`, when given).
    All,
    /// The kubefetch contexts expiring before now + this (of `--provider`, when given).
    ExpiringWithin(TimeDelta),
}

/// `refresh`, validated.
#[derive(Debug, Clone)]
pub struct RefreshInvocation {
    pub kubeconfig: Option<PathBuf>,
    pub selection: Selection,
    pub provider: Option<ProviderKind>,
    pub dry_run: bool,
    pub http: HttpSettings,
    pub output: Output,
    pub verbosity: Verbosity,
    pub lock_timeout: Duration,
}

/// `remove`, validated: either names, or selectors.
#[derive(Debug, Clone)]
pub struct RemoveInvocation {
    pub kubeconfig: Option<PathBuf>,
    pub names: Vec<String>,
    pub provider: Option<ProviderKind>,
    pub expired: bool,
    pub force: bool,
    pub dry_run: bool,
    pub verbosity: Verbosity,
    pub lock_timeout: Duration,
}

/// A fetch command (`tke`, `ack`, `cce`, `ucs`), validated.
#[derive(Debug, Clone)]
pub struct FetchInvocation {
    pub provider: ProviderConfig,
    /// Empty when the clusters come from `discovery`.
    pub cluster_ids: Vec<String>,
    pub discovery: Option<Discovery>,
    pub target: Target,
    pub context_name: Option<String>,
    /// Switch `current-context` when exactly one cluster is fetched.
    pub switch: bool,
    pub force: bool,
    pub output: Output,
    pub verbosity: Verbosity,
    pub lock_timeout: Duration,
    /// `--exec`: the user runs `kubefetch credential` instead of holding a key.
    pub exec: bool,
}

impl FetchInvocation {
    /// The name for a cluster's context, cluster and user entries.
    pub fn entry_name(&self, cluster_id: &str) -> String {
        match &self.context_name {
            Some(name) => name.clone(),
            None => self.provider.entry_name(cluster_id),
        }
    }
}

/// `ucs-agent`, validated.
#[derive(Debug, Clone)]
pub struct UcsAgentInvocation {
    pub agent: AgentSettings,
    pub output: Output,
    pub verbosity: Verbosity,
}

/// A command line refused before anything ran, with what its report needs.
#[derive(Debug)]
pub struct Refused {
    pub command: &'static str,
    pub cluster_ids: Vec<String>,
    pub output: Output,
    pub failure: Failure,
}

const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The one place a command line becomes an [`Invocation`].
pub fn resolve(command: Command, env: &Env) -> Result<Invocation, Refused> {
    match command {
        Command::UcsAgent(args) => ucs_agent(&args, env)
            .map(Invocation::UcsAgent)
            .map_err(|e| Refused {
                command: "ucs-agent",
                cluster_ids: vec![args.cluster_id.clone()],
                output: output(args.request.call.output),
                failure: Failure::usage("ucs-agent", e),
            }),
        Command::Tke(args) => fetch_command(ProviderKind::Tke, &args.shared, env, |config| {
            tke_options(args.options, config)
        }),
        Command::Ack(args) => fetch_command(ProviderKind::Ack, &args.shared, env, |config| {
            ack_options(args.options, config)
        }),
        Command::Cce(args) => fetch_command(ProviderKind::Cce, &args.shared, env, |config| {
            cce_options(args.options, config)
        }),
        Command::Ucs(args) => fetch_command(ProviderKind::Ucs, &args.shared, env, |config| {
            ucs_options(args.options, config)
        }),
        Command::Credential { provider } => match provider {
            CredentialProvider::Tke(args) => {
                credential(ProviderKind::Tke, &args.shared, env, |c| {
                    tke_options(args.options, c)
                })
            }
            CredentialProvider::Ack(args) => {
                credential(ProviderKind::Ack, &args.shared, env, |c| {
                    ack_options(args.options, c)
                })
            }
            CredentialProvider::Cce(args) => {
                credential(ProviderKind::Cce, &args.shared, env, |c| {
                    cce_options(args.options, c)
                })
            }
            CredentialProvider::Ucs(args) => {
                credential(ProviderKind::Ucs, &args.shared, env, |c| {
                    ucs_options(args.options, c)
                })
            }
        },
        Command::List(args) => list(&args)
            .map(Invocation::List)
            .map_err(|e| refused("list", output(args.output), e)),
        Command::Refresh(args) => refresh(&args, env)
            .map(Invocation::Refresh)
            .map_err(|e| refused("refresh", output(args.call.output), e)),
        Command::Remove(args) => remove(&args, env)
            .map(Invocation::Remove)
            .map_err(|e| refused("remove", Output::Text, e)),
        Command::Sync(args) => sync(&args, env)
            .map(Invocation::Sync)
            .map_err(|failure| Refused {
                command: "sync",
                cluster_ids: Vec::new(),
                output: output(args.call.output),
                failure,
            }),
        Command::Discover(args) => discover(&args, env)
            .map(Invocation::Discover)
            .map_err(|e| refused("discover", output(args.request.call.output), e)),
    }
}

fn tke_options(options: TkeOptions, config: &mut ProviderConfig) {
    config.region = options.region;
}

fn ack_options(options: AckOptions, config: &mut ProviderConfig) {
    config.region = options.region;
    if options.signature_v2 {
        config.signature = Signature::RoaV2;
    }
}

fn cce_options(options: CceOptions, config: &mut ProviderConfig) {
    config.region = options.region;
    config.project_id = options.project_id;
    config.insecure = options.insecure_skip_tls_verify;
}

fn ucs_options(options: UcsOptions, config: &mut ProviderConfig) {
    config.insecure = options.insecure_skip_tls_verify;
}

/// `credential <provider> <id>`: refused before any request, with nothing on stdout.
fn credential(
    kind: ProviderKind,
    args: &CredentialArgs,
    env: &Env,
    provider_flags: impl FnOnce(&mut ProviderConfig),
) -> Result<Invocation, Refused> {
    let resolved = (|| {
        kind.validate_cluster_id(&args.cluster_id)?;
        let mut provider = ProviderConfig::new(kind, HttpSettings::from_args(&args.http, env));
        provider.private = args.private;
        provider.ttl_minutes = args.ttl.as_deref().map(parse_ttl_minutes).transpose()?;
        provider.profile = args.profile.clone();
        provider.endpoint = args
            .endpoint
            .as_deref()
            .map(|url| parse_endpoint(url, "--endpoint"))
            .transpose()?;
        provider_flags(&mut provider);
        Ok(CredentialInvocation {
            provider,
            cluster_id: args.cluster_id.clone(),
            verbosity: Verbosity::from_args(&args.verbosity),
        })
    })();
    resolved
        .map(Invocation::Credential)
        .map_err(|e| refused("credential", Output::Text, e))
}

/// A command on contexts refused: there is no cluster id to report.
fn refused(command: &'static str, output: Output, e: UsageError) -> Refused {
    Refused {
        command,
        cluster_ids: Vec::new(),
        output,
        failure: Failure::usage(command, e),
    }
}

/// A fleet file that cannot be read or is invalid is refused before any
/// request, its error in the contract's `FILE:LINE: KEY: what` form.
fn sync(args: &SyncArgs, env: &Env) -> Result<SyncInvocation, Failure> {
    let usage = |e: UsageError| Failure::usage("sync", e);
    let kubeconfig = set_path(args.kubeconfig.as_deref()).map_err(usage)?;
    let shown = args.file.display().to_string();
    let text = std::fs::read(&args.file).map_err(|e| {
        usage(UsageError::new(format!(
            "cannot read the fleet file {shown}: {e}"
        )))
    })?;
    let text =
        crate::yaml::decode(&text).map_err(|e| usage(UsageError::new(format!("{shown}: {e}"))))?;
    let http = HttpSettings::from_args(&args.call.http, env);
    let fleet = crate::fleet::parse(&shown, &text, &http).map_err(|e| {
        Failure::new(crate::error::ErrorKind::Usage, e.to_string()).with_hint(Some(
            "fix the fleet file; nothing was sent or written".to_string(),
        ))
    })?;
    if args.prune && fleet.name.is_none() {
        return Err(usage(
            UsageError::new(format!("--prune needs a fleet name: {shown} has no name")).with_hint(
                "add `name: <fleet>` to the file; prune removes only that fleet's contexts",
            ),
        ));
    }
    Ok(SyncInvocation {
        fleet,
        prune: args.prune,
        dry_run: args.dry_run,
        kubeconfig,
        concurrency: usize::from(args.concurrency),
        output: output(args.call.output),
        verbosity: Verbosity::from_args(&args.call.verbosity),
        lock_timeout: lock_timeout(env).map_err(usage)?,
    })
}

fn discover(args: &DiscoverArgs, env: &Env) -> Result<DiscoverInvocation, UsageError> {
    let kind = provider_kind(args.provider);
    if args.region.is_some() && kind == ProviderKind::Ucs {
        return Err(
            UsageError::new("ucs has no --region: UCS lists every cluster of the account")
                .with_hint("drop --region"),
        );
    }
    if args.project_id.is_some() && kind != ProviderKind::Cce {
        return Err(UsageError::new(format!(
            "{kind} has no --project-id (only cce)"
        )));
    }
    let mut provider =
        ProviderConfig::new(kind, HttpSettings::from_args(&args.request.call.http, env));
    provider.region = args.region.clone();
    provider.project_id = args.project_id.clone();
    provider.profile = args.profile.clone();
    provider.endpoint = explicit_endpoint(&args.request)?;
    Ok(DiscoverInvocation {
        provider,
        output: output(args.request.call.output),
        verbosity: Verbosity::from_args(&args.request.call.verbosity),
    })
}

fn list(args: &ListArgs) -> Result<ListInvocation, UsageError> {
    Ok(ListInvocation {
        kubeconfig: set_path(args.kubeconfig.as_deref())?,
        all: args.all,
        provider: args.provider.map(provider_kind),
        expiring_within: args.expiring_within.as_deref().map(within).transpose()?,
        output: output(args.output),
    })
}

fn refresh(args: &RefreshArgs, env: &Env) -> Result<RefreshInvocation, UsageError> {
    let selection = match (&args.contexts[..], args.all, &args.expiring_within) {
        ([], false, None) => {
            return Err(UsageError::new("name the contexts to refresh, or pass --all or --expiring-within")
                .with_hint("name them, or pass --all (every context kubefetch wrote) or --expiring-within DURATION (e.g. 7d)"))
        }
        ([], true, _) => Selection::All,
        ([], false, Some(text)) => Selection::ExpiringWithin(within(text)?),
        (names, _, _) => Selection::Named(unique(names)),
    };
    Ok(RefreshInvocation {
        kubeconfig: set_path(args.kubeconfig.as_deref())?,
        selection,
        provider: args.provider.map(provider_kind),
        dry_run: args.dry_run,
        http: HttpSettings::from_args(&args.call.http, env),
        output: output(args.call.output),
        verbosity: Verbosity::from_args(&args.call.verbosity),
        lock_timeout: lock_timeout(env)?,
    })
}

fn remove(args: &RemoveArgs, env: &Env) -> Result<RemoveInvocation, UsageError> {
    if args.contexts.is_empty() && args.provider.is_none() && !args.expired {
        return Err(UsageError::new("name the contexts to remove, or pass --provider or --expired").with_hint(
            "name them, or pass --provider P and/or --expired to remove every matching context kubefetch wrote",
        ));
    }
    Ok(RemoveInvocation {
        kubeconfig: set_path(args.kubeconfig.as_deref())?,
        names: unique(&args.contexts),
        provider: args.provider.map(provider_kind),
        expired: args.expired,
        force: args.force,
        dry_run: args.dry_run,
        verbosity: Verbosity::from_args(&args.verbosity),
        lock_timeout: lock_timeout(env)?,
    })
}

/// `--kubeconfig` of a command on the set: one file; `-` means nothing here.
fn set_path(path: Option<&std::path::Path>) -> Result<Option<PathBuf>, UsageError> {
    match path {
        Some(path) if path.as_os_str() == "-" => Err(UsageError::new(
            "--kubeconfig - (stdout) is only for fetch commands",
        )
        .with_hint("name a kubeconfig file, or leave --kubeconfig out to use KUBECONFIG's files")),
        Some(path) if path.as_os_str().is_empty() => {
            Err(UsageError::new("--kubeconfig needs a path"))
        }
        other => Ok(other.map(std::path::Path::to_path_buf)),
    }
}

fn within(text: &str) -> Result<TimeDelta, UsageError> {
    let minutes = parse_minutes(text, "--expiring-within")?;
    i64::try_from(minutes)
        .ok()
        .and_then(TimeDelta::try_minutes)
        .ok_or_else(|| UsageError::new(format!("--expiring-within {text} is too long")))
}

fn unique(names: &[String]) -> Vec<String> {
    let mut kept: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        if !kept.contains(name) {
            kept.push(name.clone());
        }
    }
    kept
}

fn provider_kind(name: ProviderName) -> ProviderKind {
    match name {
        ProviderName::Tke => ProviderKind::Tke,
        ProviderName::Ack => ProviderKind::Ack,
        ProviderName::Cce => ProviderKind::Cce,
        ProviderName::Ucs => ProviderKind::Ucs,
    }
}

/// A fetch command: the shared flags, then `provider_flags` sets what only
/// this provider takes.
fn fetch_command(
    kind: ProviderKind,
    args: &FetchArgs,
    env: &Env,
    provider_flags: impl FnOnce(&mut ProviderConfig),
) -> Result<Invocation, Refused> {
    fetch(kind, args, env, provider_flags)
        .map(Invocation::Fetch)
        .map_err(|e| Refused {
            command: kind.name(),
            cluster_ids: args.cluster_ids.clone(),
            output: output(args.request.call.output),
            failure: Failure::usage(kind.name(), e),
        })
}

fn fetch(
    kind: ProviderKind,
    args: &FetchArgs,
    env: &Env,
    provider_flags: impl FnOnce(&mut ProviderConfig),
) -> Result<FetchInvocation, UsageError> {
    for id in &args.cluster_ids {
        kind.validate_cluster_id(id)?;
    }
    let cluster_ids = unique(&args.cluster_ids);
    let discovery = match (args.all, &args.names[..]) {
        (true, _) => Some(Discovery::All),
        (false, []) => None,
        (false, names) => Some(Discovery::Names(unique(names))),
    };
    let many = match &discovery {
        None => cluster_ids.len() > 1,
        Some(Discovery::All) => true,
        Some(Discovery::Names(names)) => names.len() > 1,
    };
    if let Some(name) = &args.context_name {
        if many {
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
    let output = output(args.request.call.output);
    if target == Target::Stdout && output == Output::Json {
        return Err(UsageError::new(
            "--kubeconfig - and --output json would both write to stdout",
        )
        .with_hint("write the kubeconfig to a file with --kubeconfig FILE (created 0600), or drop --output json"));
    }
    let mut provider =
        ProviderConfig::new(kind, HttpSettings::from_args(&args.request.call.http, env));
    provider.private = args.private;
    provider.ttl_minutes = args.ttl.as_deref().map(parse_ttl_minutes).transpose()?;
    provider.profile = args.profile.clone();
    provider.endpoint = explicit_endpoint(&args.request)?;
    provider_flags(&mut provider);
    if args.exec && provider.ttl_minutes.is_none() {
        provider.ttl_minutes = kind.exec_default_ttl();
    }
    Ok(FetchInvocation {
        provider,
        switch: !args.no_switch && !many,
        cluster_ids,
        discovery,
        target,
        context_name: args.context_name.clone(),
        force: args.force,
        output,
        verbosity: Verbosity::from_args(&args.request.call.verbosity),
        lock_timeout: lock_timeout(env)?,
        exec: args.exec,
    })
}

fn ucs_agent(args: &UcsAgentArgs, env: &Env) -> Result<UcsAgentInvocation, UsageError> {
    endpoints::validate_cluster_id("ucs-agent", &args.cluster_id)?;
    let private_access = match (&args.vpc_endpoint, &args.region) {
        (None, None) => None,
        (Some(ip), Some(region)) => {
            let ip = ip.parse::<IpAddr>().map_err(|_| {
                UsageError::new(format!(
                    "invalid --vpc-endpoint '{}': expected an IP address",
                    ip.escape_debug()
                ))
            })?;
            endpoints::validate_region(region)?;
            Some((ip, region.clone()))
        }
        _ => {
            return Err(UsageError::new(
                "--vpc-endpoint and --region go together (private-network access)",
            )
            .with_hint("pass both, or neither for access over the internet"))
        }
    };
    let mut ucs = ProviderConfig::new(
        ProviderKind::Ucs,
        HttpSettings::from_args(&args.request.call.http, env),
    );
    ucs.endpoint = explicit_endpoint(&args.request)?;
    Ok(UcsAgentInvocation {
        agent: AgentSettings {
            cluster_id: args.cluster_id.clone(),
            out: args.out.clone(),
            force: args.force,
            private_access,
            endpoint: ucs.endpoint_or(env, endpoints::UCS_DEFAULT)?,
            http: ucs.http,
        },
        output: output(args.request.call.output),
        verbosity: Verbosity::from_args(&args.request.call.verbosity),
    })
}

fn explicit_endpoint(args: &RequestArgs) -> Result<Option<Url>, UsageError> {
    args.endpoint
        .as_deref()
        .map(|url| parse_endpoint(url, "--endpoint"))
        .transpose()
}

fn output(format: OutputFormat) -> Output {
    match format {
        OutputFormat::Text => Output::Text,
        OutputFormat::Json => Output::Json,
    }
}

/// `KUBEFETCH_LOCK_TIMEOUT`: how long to wait for a kubeconfig's lock.
fn lock_timeout(env: &Env) -> Result<Duration, UsageError> {
    match env.var("KUBEFETCH_LOCK_TIMEOUT") {
        None => Ok(DEFAULT_LOCK_TIMEOUT),
        Some(text) => text
            .parse::<f64>()
            .ok()
            .filter(|secs| secs.is_finite() && *secs >= 0.0 && *secs <= 3600.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| {
                UsageError::new(format!(
                    "KUBEFETCH_LOCK_TIMEOUT must be a number of seconds from 0 to 3600, not '{text}'"
                ))
            }),
    }
}

pub fn validate_context_name(name: &str) -> Result<(), UsageError> {
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
    parse_minutes(text, "--ttl")
}

/// A duration flag in `--ttl`'s syntax, in minutes.
fn parse_minutes(text: &str, flag: &str) -> Result<u64, UsageError> {
    let bad = || {
        UsageError::new(format!(
            "invalid {flag} '{}': expected minutes, or a number with m, h or d (90m, 3h, 2d)",
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
        return Err(UsageError::new(format!("{flag} must be longer than zero")));
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

    fn invocation(argv: &[&str]) -> Result<Invocation, Refused> {
        let mut full = vec!["kubefetch"];
        full.extend_from_slice(argv);
        let crate::cli::TopLevel::Work(command) =
            crate::cli::Cli::try_parse_from(full).unwrap().command
        else {
            panic!("not a command that works on clusters")
        };
        resolve(*command, &Env::new(Vec::<(String, String)>::new(), None))
    }

    fn settings(argv: &[&str]) -> Result<FetchInvocation, Refused> {
        let mut full = vec!["tke"];
        full.extend_from_slice(argv);
        match invocation(&full)? {
            Invocation::Fetch(fetch) => Ok(fetch),
            other => panic!("resolved as {other:?}"),
        }
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
    fn each_provider_gets_its_own_flags_and_nothing_else() {
        let Invocation::Fetch(ack) =
            invocation(&["ack", "c1", "--signature-v2", "--region", "r1"]).unwrap()
        else {
            panic!("ack is a fetch")
        };
        assert_eq!(ack.provider.kind, ProviderKind::Ack);
        assert_eq!(ack.provider.signature, Signature::RoaV2);
        assert_eq!(ack.provider.region.as_deref(), Some("r1"));
        let id = "4d5e6f70-1a2b-11ee-8c90-0255ac100001";
        let Invocation::Fetch(cce) = invocation(&[
            "cce",
            id,
            "--project-id",
            "p1",
            "--insecure-skip-tls-verify",
            "--ttl",
            "2d",
            "--private",
            "--endpoint",
            "http://127.0.0.1:1",
        ])
        .unwrap() else {
            panic!("cce is a fetch")
        };
        assert_eq!(cce.provider.project_id.as_deref(), Some("p1"));
        assert!(cce.provider.insecure && cce.provider.private);
        assert_eq!(cce.provider.ttl_minutes, Some(2880));
        assert_eq!(cce.provider.signature, Signature::Acs3);
        assert_eq!(
            cce.provider.endpoint.as_ref().map(Url::as_str),
            Some("http://127.0.0.1:1/")
        );
    }

    #[test]
    fn a_refusal_names_the_command_and_its_cluster_ids() {
        let refused = invocation(&["cce", "not-a-uuid", "--output", "json"]).unwrap_err();
        assert_eq!(refused.command, "cce");
        assert_eq!(refused.cluster_ids, ["not-a-uuid"]);
        assert_eq!(refused.output, Output::Json);
        assert!(
            refused.failure.message.starts_with("cce: malformed"),
            "{}",
            refused.failure.message
        );
    }

    #[test]
    fn names_follow_the_contract() {
        let s = settings(&["cls-1"]).unwrap();
        assert_eq!(s.entry_name("cls-1"), "tke-cls-1");
        assert!(s.switch);
        let s = settings(&["cls-1", "--private"]).unwrap();
        assert_eq!(s.entry_name("cls-1"), "tke-cls-1-private");
        let s = settings(&["cls-1", "--context", "prod"]).unwrap();
        assert_eq!(s.entry_name("cls-1"), "prod");
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

    #[test]
    fn the_kubeconfig_and_the_json_summary_cannot_share_stdout() {
        let refused = settings(&["c", "--kubeconfig", "-", "--output", "json"]).unwrap_err();
        assert_eq!(refused.failure.kind, crate::error::ErrorKind::Usage);
        let message = &refused.failure.message;
        assert!(message.contains("both write to stdout"), "{message}");
        assert!(refused.failure.hint.unwrap().contains("--kubeconfig FILE"));
        assert!(settings(&["c", "--kubeconfig", "f", "--output", "json"]).is_ok());
    }
}
