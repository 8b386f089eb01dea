//! Command-line types (clap). Nothing outside `settings` sees them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ENV_HELP: &str = "\
Environment:
  KUBECONFIG                 ':'-separated kubeconfig list (target: the file holding the context, else the first)
  KUBEFETCH_TKE_ENDPOINT     TKE API base URL (same as --endpoint for tke)
  KUBEFETCH_ACK_ENDPOINT     ACK API base URL
  KUBEFETCH_CCE_ENDPOINT     CCE API base URL
  KUBEFETCH_UCS_ENDPOINT     UCS API base URL
  KUBEFETCH_IAM_ENDPOINT     Huawei IAM base URL
  KUBEFETCH_CA_BUNDLE        PEM file of extra root certificates trusted for API endpoints
  KUBEFETCH_LOCK_TIMEOUT     seconds to wait for the kubeconfig lock (default 10)
  KUBEFETCH_EXEC_COMMAND     command an --exec user runs (default: this kubefetch's absolute path)
  KUBECACHEDIR               cache directory of --exec credentials (default ~/.kube/cache)
  HTTPS_PROXY, NO_PROXY      proxy for API requests
  TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_TOKEN, TENCENTCLOUD_REGION,
  TCCLI_PROFILE              Tencent credentials, region and tccli profile
  HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN
                             Huawei Cloud / OTC AK/SK (signed requests), optional temporary token
  HUAWEICLOUD_SDK_PROJECT_ID, HUAWEICLOUD_SDK_DOMAIN_ID
                             Huawei project id (cce) and account domain id (ucs); else looked up at IAM
  HUAWEICLOUD_SDK_CREDENTIALS_FILE
                             Huawei credentials file (default ~/.huaweicloud/credentials, [basic]/[global])
  HUAWEICLOUD_SDK_IAM_ENDPOINT
                             Huawei IAM base URL (KUBEFETCH_IAM_ENDPOINT wins)
  OS_AUTH_TOKEN              Huawei/OTC IAM token, sent as X-Auth-Token
  OS_USERNAME, OS_PASSWORD, OS_DOMAIN_NAME
                             Huawei/OTC IAM user, password and account, exchanged at IAM for a token
  OS_REGION_NAME             Huawei/OTC region when --region is not given (cce)
  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN,
  ALIBABA_CLOUD_REGION_ID, ALIBABA_CLOUD_PROFILE
                             Alibaba credentials (STS token optional), region and aliyun CLI profile
  ALIBABA_CLOUD_CREDENTIALS_FILE
                             Alibaba SDK credentials file (default ~/.alibabacloud/credentials.ini)
Keyless (CI and cloud hosts; each exchange once per run, see the README):
  ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE,
  ALIBABA_CLOUD_ROLE_SESSION_NAME
                             Alibaba OIDC (AssumeRoleWithOIDC); the role alone is assumed with the keys found
  ALIBABA_CLOUD_ECS_METADATA, ALIBABA_CLOUD_IMDSV1_DISABLED, ALIBABA_CLOUD_ECS_METADATA_DISABLED
                             Alibaba ECS instance role (metadata service)
  TKE_ROLE_ARN, TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE, TKE_REGION
                             Tencent OIDC (AssumeRoleWithWebIdentity)
  TENCENTCLOUD_ASSUME_ROLE_ARN, TENCENTCLOUD_ASSUME_ROLE_SESSION_NAME
                             Tencent role assumed with the credential found
  TENCENTCLOUD_CAM_ROLE_NAME Tencent CVM instance role (metadata service)
  HUAWEICLOUD_SDK_IDP_ID, HUAWEICLOUD_SDK_ID_TOKEN_FILE
                             Huawei OIDC (id token exchanged at IAM for temporary keys)
  HW_ASSUME_ROLE_AGENCY_NAME, HW_ASSUME_ROLE_DOMAIN_NAME
                             Huawei agency assumed with the credential found
  KUBEFETCH_HUAWEI_ECS_METADATA
                             1 or true: the Huawei ECS instance's agency (metadata service); 0 or false: off
  KUBEFETCH_ALIBABA_STS_ENDPOINT, KUBEFETCH_TENCENT_STS_ENDPOINT, KUBEFETCH_ALIBABA_METADATA_ENDPOINT,
  KUBEFETCH_TENCENT_METADATA_ENDPOINT, KUBEFETCH_HUAWEI_METADATA_ENDPOINT
                             STS and metadata base URLs (tests, private clouds)

Credentials are never taken from the command line. Exit codes: 0 ok, 1 internal error,
2 usage, 3 credentials, 4 cluster not found, 5 provider or network, 6 local kubeconfig.";

#[derive(Debug, Parser)]
#[command(
    name = "kubefetch",
    version = crate::version::text(),
    about = "Fetch a managed cluster's kubeconfig, rename it so it never collides, and merge it safely",
    after_help = ENV_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: TopLevel,
}

/// Every subcommand: kubefetch's work, then shell integration, which needs
/// no provider and no kubeconfig.
#[derive(Debug, Subcommand)]
pub enum TopLevel {
    #[command(flatten)]
    Work(Box<Command>),
    /// Print a shell completion script on stdout (see the README to install it)
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout, e.g. `kubefetch man > kubefetch.1`
    Man,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tencent Cloud TKE (DescribeClusterKubeconfig)
    #[command(after_help = ENV_HELP)]
    Tke(TkeArgs),
    /// Huawei Cloud / Open Telekom Cloud CCE (cluster certificate)
    #[command(after_help = ENV_HELP)]
    Cce(CceArgs),
    /// Huawei Cloud UCS (cluster kubeconfig)
    #[command(after_help = ENV_HELP)]
    Ucs(UcsArgs),
    /// Huawei Cloud UCS: save the one-time proxy-agent bundle of an attached cluster
    #[command(after_help = ENV_HELP)]
    UcsAgent(UcsAgentArgs),
    /// Alibaba Cloud ACK (DescribeClusterUserKubeconfig)
    #[command(after_help = ENV_HELP)]
    Ack(AckArgs),
    /// List the contexts kubefetch wrote, with when their credentials expire
    #[command(after_help = SET_HELP)]
    List(ListArgs),
    /// Fetch contexts again with the options recorded when they were fetched
    #[command(after_help = ENV_HELP)]
    Refresh(RefreshArgs),
    /// Remove contexts, and their cluster and user entries once nothing else uses them
    #[command(after_help = SET_HELP)]
    Remove(RemoveArgs),
    /// Print a cluster's ExecCredential for kubectl (what an --exec user runs), from a cache
    #[command(after_help = CREDENTIAL_HELP)]
    Credential {
        #[command(subcommand)]
        provider: CredentialProvider,
    },
    /// List the clusters the credentials can see (every page), as a table or JSON on stdout
    #[command(after_help = ENV_HELP)]
    Discover(DiscoverArgs),
    /// Make the kubeconfig hold the clusters a fleet file declares (one locked write)
    #[command(after_help = ENV_HELP)]
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The fleet file (apiVersion: kubefetch/v1, kind: Fleet; see the README)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Also remove this fleet's contexts that the file no longer lists
    #[arg(long)]
    pub prune: bool,

    /// Print the plan (ACTION CONTEXT PROVIDER CLUSTER) on stdout; send no fetch request
    #[arg(long)]
    pub dry_run: bool,

    /// Kubeconfig to sync (default: as for fetch commands)
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// Clusters fetched at once (each provider's request-rate limit still holds)
    #[arg(long, default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    #[command(flatten)]
    pub call: CallArgs,
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The provider to ask
    #[arg(value_enum, value_name = "PROVIDER")]
    pub provider: ProviderName,

    /// Region to list (tke, cce: else as for fetch commands; ack: else every region; not for ucs)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Project id (cce) [default: HUAWEICLOUD_SDK_PROJECT_ID, the credentials file, else looked up at IAM]
    #[arg(long, value_name = "ID")]
    pub project_id: Option<String>,

    /// Profile in the provider's own CLI configuration (tke, ack)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    #[command(flatten)]
    pub request: RequestArgs,
}

const CREDENTIAL_HELP: &str = "\
stdout: one ExecCredential (JSON; apiVersion from KUBERNETES_EXEC_INFO, else v1). Credentials
come from the environment kubectl runs in, as for the fetch commands. Cached in
KUBECACHEDIR/kubefetch (else ~/.kube/cache/kubefetch), one 0600 file per cluster and identity.
Environment: KUBECACHEDIR, KUBEFETCH_EXEC_COMMAND (the command --exec writes).

Exit codes: 0 ok, 1 internal error, 2 usage, 3 credentials, 4 cluster not found, 5 provider or network.";

const SET_HELP: &str = "\
Files: --kubeconfig PATH, else every file of KUBECONFIG (':'-separated; missing files are
skipped), else ~/.kube/config.
Environment:
  KUBECONFIG                 ':'-separated kubeconfig list
  KUBEFETCH_LOCK_TIMEOUT     seconds to wait for a kubeconfig's lock (default 10)

Exit codes: 0 ok, 1 internal error, 2 usage, 4 context not found, 6 local kubeconfig.";

/// A provider, for selecting contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderName {
    Tke,
    Ack,
    Cce,
    Ucs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Every context, also those kubefetch did not write (expiry from the client certificate)
    #[arg(long)]
    pub all: bool,

    /// Only the contexts of this provider
    #[arg(long, value_enum, value_name = "PROVIDER")]
    pub provider: Option<ProviderName>,

    /// Only credentials expiring within DURATION (7d, 12h; a number is minutes), expired ones too
    #[arg(long, value_name = "DURATION")]
    pub expiring_within: Option<String>,

    /// One kubeconfig to read instead of KUBECONFIG's files
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// text: a table on stdout; json: an array of objects on stdout
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, value_name = "FORMAT")]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Contexts to refresh (else --all or --expiring-within)
    #[arg(value_name = "CONTEXT")]
    pub contexts: Vec<String>,

    /// Every context kubefetch wrote
    #[arg(long, conflicts_with_all = ["expiring_within", "contexts"])]
    pub all: bool,

    /// The contexts whose credentials expire within DURATION (7d, 12h; a number is minutes)
    #[arg(long, value_name = "DURATION", conflicts_with = "contexts")]
    pub expiring_within: Option<String>,

    /// Only the contexts of this provider (with --all or --expiring-within)
    #[arg(long, value_enum, value_name = "PROVIDER", conflicts_with = "contexts")]
    pub provider: Option<ProviderName>,

    /// Print the contexts that would be refreshed on stdout; send nothing
    #[arg(long)]
    pub dry_run: bool,

    /// One kubeconfig instead of KUBECONFIG's files
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    #[command(flatten)]
    pub call: CallArgs,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Contexts to remove (else --provider and/or --expired)
    #[arg(value_name = "CONTEXT")]
    pub contexts: Vec<String>,

    /// Every context kubefetch wrote for this provider
    #[arg(long, value_enum, value_name = "PROVIDER", conflicts_with = "contexts")]
    pub provider: Option<ProviderName>,

    /// Every context kubefetch wrote whose credential has expired
    #[arg(long, conflicts_with = "contexts")]
    pub expired: bool,

    /// Also remove named contexts that kubefetch did not write
    #[arg(long)]
    pub force: bool,

    /// Print what would be removed on stdout; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// One kubeconfig instead of KUBECONFIG's files
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    #[command(flatten)]
    pub verbosity: VerbosityArgs,
}

/// A provider's command: its own options, then the shared ones (`FetchArgs`
/// for a fetch command, `CredentialArgs` for `credential`).
#[derive(Debug, Args)]
pub struct ProviderArgs<O: Args, S: Args> {
    #[command(flatten)]
    pub options: O,

    #[command(flatten)]
    pub shared: S,
}

pub type TkeArgs = ProviderArgs<TkeOptions, FetchArgs>;
pub type AckArgs = ProviderArgs<AckOptions, FetchArgs>;
pub type CceArgs = ProviderArgs<CceOptions, FetchArgs>;
pub type UcsArgs = ProviderArgs<UcsOptions, FetchArgs>;

#[derive(Debug, Args)]
pub struct TkeOptions {
    /// Region of the clusters, e.g. ap-guangzhou [env: TENCENTCLOUD_REGION, else the tccli profile]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

#[derive(Debug, Args)]
pub struct CceOptions {
    /// Region of the clusters, e.g. cn-north-4, or eu-de / eu-nl (Open Telekom Cloud) [env: OS_REGION_NAME]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Project id [default: HUAWEICLOUD_SDK_PROJECT_ID, the credentials file, else looked up at IAM]
    #[arg(long, value_name = "ID")]
    pub project_id: Option<String>,

    /// Take the public endpoint without TLS verification (CCE's `external` context)
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
}

#[derive(Debug, Args)]
pub struct AckOptions {
    /// Region of the clusters, e.g. cn-hangzhou [env: ALIBABA_CLOUD_REGION_ID, else the aliyun profile]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Sign with the legacy ROA HMAC-SHA1 signature (old private deployments) instead of ACS3
    #[arg(long)]
    pub signature_v2: bool,
}

#[derive(Debug, Args)]
pub struct UcsOptions {
    /// Take the public endpoint without TLS verification (UCS's `external` context)
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
}

/// `kubefetch credential <provider>`: what kubectl runs for an `--exec` user.
#[derive(Debug, Subcommand)]
pub enum CredentialProvider {
    /// Tencent Cloud TKE
    Tke(ProviderArgs<TkeOptions, CredentialArgs>),
    /// Alibaba Cloud ACK
    Ack(ProviderArgs<AckOptions, CredentialArgs>),
    /// Huawei Cloud / Open Telekom Cloud CCE
    Cce(ProviderArgs<CceOptions, CredentialArgs>),
    /// Huawei Cloud UCS
    Ucs(ProviderArgs<UcsOptions, CredentialArgs>),
}

/// The options of `credential`: those of a fetch command that select the credential.
#[derive(Debug, Args)]
pub struct CredentialArgs {
    /// The cluster's id
    #[arg(value_name = "CLUSTER_ID")]
    pub cluster_id: String,

    /// The credential for the cluster's internal/VPC endpoint
    #[arg(long)]
    pub private: bool,

    /// Credential lifetime where the provider supports it: minutes, or 90m, 3h, 2d
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,

    /// Profile in the provider's own CLI configuration
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// API base URL override (https://, or http:// to a loopback host)
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,

    #[command(flatten)]
    pub http: HttpArgs,

    #[command(flatten)]
    pub verbosity: VerbosityArgs,
}

#[derive(Debug, Args)]
pub struct UcsAgentArgs {
    /// The attached cluster's id
    #[arg(value_name = "CLUSTER_ID")]
    pub cluster_id: String,

    /// File for the bundle (multi-document YAML for `kubectl apply -f`, mode 0600)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// VPC endpoint IP for private-network access (with --region)
    #[arg(long, value_name = "IP")]
    pub vpc_endpoint: Option<String>,

    /// Region of the VPC endpoint (with --vpc-endpoint)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Replace an existing --out file
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub request: RequestArgs,
}

/// Options every fetch command takes.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Cluster ids to fetch
    #[arg(value_name = "CLUSTER_ID", required_unless_present_any = ["all", "names"])]
    pub cluster_ids: Vec<String>,

    /// Every running cluster in the region (ack without --region: every region); others are skipped
    #[arg(long, conflicts_with_all = ["cluster_ids", "names"])]
    pub all: bool,

    /// The cluster of this name, found through discovery (repeatable)
    #[arg(long = "name", value_name = "NAME", conflicts_with = "cluster_ids")]
    pub names: Vec<String>,

    /// Fetch the kubeconfig for the cluster's internal/VPC endpoint (default: public)
    #[arg(long)]
    pub private: bool,

    /// Credential lifetime where the provider supports it: minutes, or 90m, 3h, 2d
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,

    /// Kubeconfig to merge into; '-' prints the fetched kubeconfig to stdout and touches no file
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// Name for the new context, cluster and user (only with one cluster id)
    #[arg(long = "context", value_name = "NAME")]
    pub context_name: Option<String>,

    /// Leave current-context alone (default: switch when exactly one cluster was fetched)
    #[arg(long)]
    pub no_switch: bool,

    /// Replace same-named entries that kubefetch did not write
    #[arg(long)]
    pub force: bool,

    /// Profile in the provider's own CLI configuration
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Write no key: the user runs `kubefetch credential`, which serves a cached short-lived credential
    #[arg(long)]
    pub exec: bool,

    #[command(flatten)]
    pub request: RequestArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// Where requests go, how they are made and reported; every fetch command takes these.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// API base URL override (https://, or http:// to a loopback host)
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,

    #[command(flatten)]
    pub call: CallArgs,
}

/// How requests are made and reported.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// text: human lines on stderr; json: a summary array on stdout
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, value_name = "FORMAT")]
    pub output: OutputFormat,

    #[command(flatten)]
    pub http: HttpArgs,

    #[command(flatten)]
    pub verbosity: VerbosityArgs,
}

/// Per-request limits.
#[derive(Debug, Args)]
pub struct HttpArgs {
    /// Per-request timeout in seconds
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Retries of retryable failures (5xx, throttling, timeouts)
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
}

#[derive(Debug, Args)]
pub struct VerbosityArgs {
    /// Quieter: only errors on stderr
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More detail on stderr (repeatable; secrets are always redacted)
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}
