//! The values tests hand to the fake cloud and get back from it.

use std::fmt;
use std::time::Duration;

/// The API a request was addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Tke,
    Ack,
    Cce,
    Ucs,
    Iam,
    /// Alibaba STS: `AssumeRole`, `AssumeRoleWithOIDC`.
    AlibabaSts,
    /// Tencent STS: `AssumeRole`, `AssumeRoleWithWebIdentity`.
    TencentSts,
    /// The ECS instance metadata service of Alibaba Cloud (100.100.100.200).
    AlibabaMetadata,
    /// The CVM instance metadata service of Tencent Cloud (metadata.tencentyun.com).
    TencentMetadata,
    /// The ECS instance metadata service of Huawei Cloud (169.254.169.254).
    HuaweiMetadata,
}

impl Provider {
    pub const ALL: [Provider; 10] = [
        Provider::Tke,
        Provider::Ack,
        Provider::Cce,
        Provider::Ucs,
        Provider::Iam,
        Provider::AlibabaSts,
        Provider::TencentSts,
        Provider::AlibabaMetadata,
        Provider::TencentMetadata,
        Provider::HuaweiMetadata,
    ];

    /// The instance metadata services: asked only when a variable says so.
    pub const METADATA: [Provider; 3] = [
        Provider::AlibabaMetadata,
        Provider::TencentMetadata,
        Provider::HuaweiMetadata,
    ];

    /// The lower-case name used in env var names (`KUBEFETCH_<NAME>_ENDPOINT`) and
    /// messages ("tke", ...).
    pub fn name(self) -> &'static str {
        match self {
            Provider::Tke => "tke",
            Provider::Ack => "ack",
            Provider::Cce => "cce",
            Provider::Ucs => "ucs",
            Provider::Iam => "iam",
            Provider::AlibabaSts => "alibaba_sts",
            Provider::TencentSts => "tencent_sts",
            Provider::AlibabaMetadata => "alibaba_metadata",
            Provider::TencentMetadata => "tencent_metadata",
            Provider::HuaweiMetadata => "huawei_metadata",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A cluster the fake serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub provider: Provider,
    pub id: String,
    /// The cluster has a public API endpoint (TKE extranet, ACK EIP, CCE/UCS external).
    pub has_public: bool,
    /// The cluster has an internal (VPC) API endpoint.
    pub has_private: bool,
    /// A UCS attached cluster whose one-time agent bundle (accessinfo) can be downloaded.
    pub agent_bundle: bool,
    /// The name the list APIs show (default: the id).
    pub name: String,
    /// The region the list APIs place it in (default: the provider's fixture region).
    pub region: String,
    /// The provider's own state word (default: its running state, e.g. TKE `Running`).
    pub state: String,
}

impl Cluster {
    /// A running cluster with both endpoints and no agent bundle, named after its id,
    /// in the provider's fixture region.
    pub fn new(provider: Provider, id: impl Into<String>) -> Cluster {
        let id = id.into();
        let (region, state) = match provider {
            Provider::Tke => (crate::fixtures::TENCENT_REGION, "Running"),
            Provider::Ack | Provider::AlibabaSts | Provider::AlibabaMetadata => {
                (crate::fixtures::ALIBABA_REGION, "running")
            }
            Provider::TencentSts | Provider::TencentMetadata => {
                (crate::fixtures::TENCENT_REGION, "Running")
            }
            Provider::Cce | Provider::Ucs | Provider::Iam | Provider::HuaweiMetadata => {
                (crate::fixtures::HUAWEI_REGION, "Available")
            }
        };
        Cluster {
            provider,
            name: id.clone(),
            id,
            has_public: true,
            has_private: true,
            agent_bundle: false,
            region: region.to_string(),
            state: state.to_string(),
        }
    }

    pub fn named(mut self, name: impl Into<String>) -> Cluster {
        self.name = name.into();
        self
    }

    pub fn in_region(mut self, region: impl Into<String>) -> Cluster {
        self.region = region.into();
        self
    }

    pub fn in_state(mut self, state: impl Into<String>) -> Cluster {
        self.state = state.into();
        self
    }
}

/// One request the fake received, and the status it answered (0: no answer, the
/// connection was closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub provider: Provider,
    pub method: String,
    /// The path as sent (still percent-encoded).
    pub path: String,
    /// The query string as sent, without '?'.
    pub query: String,
    /// Every header, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub cluster_id: Option<String>,
    pub status: u16,
}

impl Recorded {
    /// The first value of a header (name compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A misbehaviour the fake applies to the next matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// None: requests to any API.
    pub provider: Option<Provider>,
    /// None: any cluster (and requests without one).
    pub cluster_id: Option<String>,
    /// How many matching requests it affects.
    pub times: u32,
    pub kind: FaultKind,
}

impl Fault {
    /// A fault for the next single request of any API.
    pub fn new(kind: FaultKind) -> Fault {
        Fault {
            provider: None,
            cluster_id: None,
            times: 1,
            kind,
        }
    }

    pub fn for_provider(mut self, provider: Provider) -> Fault {
        self.provider = Some(provider);
        self
    }

    pub fn for_cluster(mut self, cluster_id: impl Into<String>) -> Fault {
        self.cluster_id = Some(cluster_id.into());
        self
    }

    pub fn times(mut self, times: u32) -> Fault {
        self.times = times;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Wait, then answer normally.
    Delay(Duration),
    /// This HTTP status with the provider's error body (a code derived from the status).
    Status(u16),
    /// This HTTP status with the provider's error body carrying this exact error code
    /// (e.g. TKE `InternalError` at 200, `UnauthorizedOperation.CamNoAuth`).
    Error { status: u16, code: String },
    /// The provider's throttling answer: TKE `RequestLimitExceeded` (HTTP 200), ACK 429
    /// `Throttling.User` with `x-acs-retry-after`, Huawei 429 `APIGW.0308` with
    /// `Retry-After`; the header carries `retry_after` verbatim when given.
    Throttle { retry_after: Option<u32> },
    /// Close the connection without an answer.
    ResetConnection,
    /// The normal answer's body cut in half (a JSON document that ends early).
    TruncatedBody,
    /// The normal answer's status with an empty body.
    EmptyBody,
    /// A well-formed JSON answer without the fields that carry the kubeconfig or token.
    MissingFields,
    /// The kubeconfig field (TKE/ACK) or body (CCE/UCS) is not a kubeconfig.
    NotYamlKubeconfig,
    /// The kubeconfig's user runs a command (`exec`) instead of a client certificate.
    ExecUserKubeconfig,
    /// The kubeconfig's server is `http://`.
    HttpServerKubeconfig,
    /// A body of exactly this many bytes, HTTP 200.
    Oversized(usize),
    /// The access type is not enabled: the server is a name that never resolves
    /// (TKE: `https://<cls-id>.ccs.tencent-cloud.invalid`).
    UnresolvableServer,
    /// CCE: the deployment only has the legacy `GET` clustercert; the `POST` answers 404.
    /// Matches only CCE `POST` requests.
    LegacyOnly,
    /// UCS accessinfo: answer 200 with the "Downloaded" marker (`["Downloaded"]`)
    /// instead of the bundle or the default 410. Matches only accessinfo requests.
    DownloadedMarker,
}
