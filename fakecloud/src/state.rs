//! Everything the fake remembers between requests, shared by the servers and the
//! `FakeCloud` handle.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use crate::model::{Cluster, Fault, FaultKind, Provider, Recorded};
use crate::pki::Pki;

/// An IAM token the fake issued.
#[derive(Debug, Clone)]
pub struct Token {
    pub expires_at: DateTime<Utc>,
    /// The project it is scoped to; None for a domain-scoped token.
    pub project_id: Option<String>,
    /// Scoped to nothing (a federated token before its exchange): IAM takes
    /// it, CCE and UCS refuse it.
    pub unscoped: bool,
}

/// Temporary keys an STS, IAM or metadata exchange handed out: accepted by the
/// provider's API only with their own session token and until they expire.
#[derive(Debug, Clone)]
pub struct Temporary {
    pub access_key_id: String,
    pub secret: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// The role, agency or instance role the keys act as.
    pub role: String,
}

/// Why a presented OIDC token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcRefusal {
    /// Not three dot-separated base64url parts.
    Malformed,
    /// Well-formed, but the test never wrote it.
    Unknown,
    Expired,
}

#[derive(Default)]
pub struct State {
    clusters: Vec<Cluster>,
    faults: VecDeque<Fault>,
    recorded: Vec<Recorded>,
    nonces: HashSet<String>,
    tokens: HashMap<String, Token>,
    downloaded: HashSet<String>,
    temporary: HashMap<String, Temporary>,
    /// OIDC tokens the test wrote, with their `exp`.
    oidc_tokens: HashMap<String, DateTime<Utc>>,
    /// How many of the next temporary keys are handed out already expired.
    expired_issues: u32,
    /// Session tokens instance metadata services handed out, with their end.
    metadata_tokens: HashMap<String, DateTime<Utc>>,
}

pub struct Shared {
    state: Mutex<State>,
    pub pki: Pki,
    pub kube_port: u16,
}

impl Shared {
    pub fn new(pki: Pki, kube_port: u16, clusters: Vec<Cluster>) -> Shared {
        Shared {
            state: Mutex::new(State {
                clusters,
                ..State::default()
            }),
            pki,
            kube_port,
        }
    }

    /// A poisoned lock only means a handler panicked; the data is still usable.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn kube_url(&self, private: bool) -> String {
        let host = if private { "localhost" } else { "127.0.0.1" };
        format!("https://{host}:{}", self.kube_port)
    }
}

impl State {
    /// A later cluster with the same provider and id replaces an earlier one.
    pub fn add_cluster(&mut self, cluster: Cluster) {
        self.clusters
            .retain(|c| !(c.provider == cluster.provider && c.id == cluster.id));
        self.clusters.push(cluster);
    }

    pub fn cluster(&self, provider: Provider, id: &str) -> Option<Cluster> {
        self.clusters
            .iter()
            .find(|c| c.provider == provider && c.id == id)
            .cloned()
    }

    pub fn any_cluster(&self, id: &str) -> Option<Cluster> {
        self.clusters.iter().find(|c| c.id == id).cloned()
    }

    /// A provider's clusters in the order added, of one region when given.
    pub fn listed(&self, provider: Provider, region: Option<&str>) -> Vec<Cluster> {
        self.clusters
            .iter()
            .filter(|c| c.provider == provider && region.is_none_or(|r| c.region == r))
            .cloned()
            .collect()
    }

    pub fn clusters(&self) -> &[Cluster] {
        &self.clusters
    }

    pub fn inject(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.faults.push_back(fault);
        }
    }

    /// The first queued fault that matches this request, used up by one.
    pub fn take_fault(
        &mut self,
        provider: Provider,
        cluster_id: Option<&str>,
        method: &str,
        path: &str,
    ) -> Option<FaultKind> {
        let index = self.faults.iter().position(|f| {
            f.provider.is_none_or(|p| p == provider)
                && f.cluster_id
                    .as_deref()
                    .is_none_or(|id| cluster_id == Some(id))
                && kind_applies(&f.kind, provider, method, path)
        })?;
        let fault = &mut self.faults[index];
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            self.faults.remove(index);
        }
        Some(kind)
    }

    /// Stores a request as it arrives; its status is filled in once answered.
    pub fn record(&mut self, request: Recorded) -> usize {
        self.recorded.push(request);
        self.recorded.len() - 1
    }

    pub fn set_status(&mut self, index: usize, status: u16) {
        if let Some(r) = self.recorded.get_mut(index) {
            r.status = status;
        }
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.recorded.clone()
    }

    /// True the first time a nonce is seen.
    pub fn use_nonce(&mut self, nonce: &str) -> bool {
        self.nonces.insert(nonce.to_string())
    }

    pub fn add_token(&mut self, value: String, token: Token) {
        self.tokens.insert(value, token);
    }

    pub fn token(&self, value: &str) -> Option<Token> {
        self.tokens.get(value).cloned()
    }

    pub fn expire_tokens(&mut self, now: DateTime<Utc>) {
        for token in self.tokens.values_mut() {
            token.expires_at = now - chrono::Duration::seconds(1);
        }
    }

    /// New temporary keys for `role`, valid `seconds` from `now`; the access key
    /// id starts with `key_prefix`, as each cloud spells its own ("STS.", "AKID").
    pub fn issue_temporary(
        &mut self,
        key_prefix: &str,
        role: &str,
        now: DateTime<Utc>,
        seconds: i64,
    ) -> Temporary {
        let serial = self.temporary.len() + 1;
        let access_key_id = format!("{key_prefix}{serial:08}");
        let seconds = if self.expired_issues > 0 {
            self.expired_issues -= 1;
            -60
        } else {
            seconds
        };
        let temporary = Temporary {
            access_key_id: access_key_id.clone(),
            secret: format!("fakecloudTmpSecret{}", crate::wire::random_hex(12)),
            token: format!("fakecloud-session-token-{}", crate::wire::random_hex(24)),
            expires_at: now + chrono::Duration::seconds(seconds),
            role: role.to_string(),
        };
        self.temporary.insert(access_key_id, temporary.clone());
        temporary
    }

    /// The next `times` temporary keys an exchange hands out expired a minute ago.
    pub fn issue_expired_keys(&mut self, times: u32) {
        self.expired_issues = times;
    }

    /// The temporary keys with this access key id, expired or not.
    pub fn temporary(&self, access_key_id: &str) -> Option<Temporary> {
        self.temporary.get(access_key_id).cloned()
    }

    /// Every temporary credential issued, in no particular order.
    pub fn temporaries(&self) -> Vec<Temporary> {
        self.temporary.values().cloned().collect()
    }

    pub fn accept_oidc_token(&mut self, token: String, expires_at: DateTime<Utc>) {
        self.oidc_tokens.insert(token, expires_at);
    }

    /// Whether an OIDC token may be exchanged now.
    pub fn check_oidc_token(&self, token: &str, now: DateTime<Utc>) -> Result<(), OidcRefusal> {
        let parts: Vec<&str> = token.split('.').collect();
        let base64url = |p: &&str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if parts.len() != 3 || !parts.iter().all(base64url) {
            return Err(OidcRefusal::Malformed);
        }
        match self.oidc_tokens.get(token) {
            None => Err(OidcRefusal::Unknown),
            Some(expires_at) if *expires_at <= now => Err(OidcRefusal::Expired),
            Some(_) => Ok(()),
        }
    }

    /// A new instance metadata session token, valid `seconds` from `now`.
    pub fn issue_metadata_token(&mut self, now: DateTime<Utc>, seconds: i64) -> String {
        let token = format!("fakecloud-metadata-{}", crate::wire::random_hex(16));
        self.metadata_tokens
            .insert(token.clone(), now + chrono::Duration::seconds(seconds));
        token
    }

    /// Whether a metadata session token was handed out and is still valid.
    pub fn metadata_token_valid(&self, token: &str, now: DateTime<Utc>) -> bool {
        self.metadata_tokens
            .get(token)
            .is_some_and(|expires_at| *expires_at > now)
    }

    /// True the first time a cluster's agent bundle is handed out.
    pub fn mark_downloaded(&mut self, cluster_id: &str) -> bool {
        self.downloaded.insert(cluster_id.to_string())
    }
}

/// Faults that only make sense for one kind of request skip the others.
fn kind_applies(kind: &FaultKind, provider: Provider, method: &str, path: &str) -> bool {
    match kind {
        FaultKind::LegacyOnly => provider == Provider::Cce && method == "POST",
        FaultKind::DownloadedMarker => provider == Provider::Ucs && path.ends_with("/accessinfo"),
        _ => true,
    }
}
