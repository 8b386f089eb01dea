//! fakecloud: a local fake of Tencent TKE, Alibaba ACK, Huawei CCE, UCS and IAM for
//! kubefetch's tests and offline tour. It listens on 127.0.0.1 only, verifies
//! signatures and tokens like the real clouds, hands out kubeconfigs with real
//! certificates for a small TLS kube API server, records every request and misbehaves
//! on demand.

mod alibaba;
mod alibaba_sts;
pub mod fixtures;
mod huawei;
mod kube_api;
mod kubeconfig;
mod model;
mod pki;
mod server;
mod state;
mod tencent;
mod tencent_sts;
mod wire;

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use chrono::Utc;
use tokio::sync::oneshot;

pub use model::{Cluster, Fault, FaultKind, Provider, Recorded};
pub use pki::PkiError;
pub use state::Temporary;

use state::Shared;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on 127.0.0.1")]
    Listen(#[source] io::Error),
    #[error("cannot set up the fake cloud's certificates")]
    Pki(#[from] PkiError),
    #[error("cannot start the fake cloud's server thread")]
    Thread(#[source] io::Error),
}

/// The running fake APIs and kube API server; dropping it shuts them down.
pub struct FakeCloud {
    shared: Arc<Shared>,
    api_port: u16,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeCloud {
    /// Starts on 127.0.0.1 with random ports, on its own thread with its own tokio
    /// runtime, serving the default clusters (`fixtures::default_clusters`).
    ///
    /// Panics when it cannot start: it is a test fixture. See `try_start`.
    pub fn start() -> FakeCloud {
        match FakeCloud::try_start() {
            Ok(cloud) => cloud,
            Err(e) => panic!(
                "the fake cloud did not start: {e}: {:?}",
                std::error::Error::source(&e)
            ),
        }
    }

    pub fn try_start() -> Result<FakeCloud, StartError> {
        let api = std::net::TcpListener::bind("127.0.0.1:0").map_err(StartError::Listen)?;
        let kube = std::net::TcpListener::bind("127.0.0.1:0").map_err(StartError::Listen)?;
        for listener in [&api, &kube] {
            listener.set_nonblocking(true).map_err(StartError::Listen)?;
        }
        let api_port = api.local_addr().map_err(StartError::Listen)?.port();
        let kube_port = kube.local_addr().map_err(StartError::Listen)?.port();
        let pki = pki::Pki::new()?;
        let tls = Arc::new(pki.kube_server_config()?);
        let shared = Arc::new(Shared::new(pki, kube_port, fixtures::default_clusters()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StartError::Thread)?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let served = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fakecloud-{api_port}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let (Ok(api), Ok(kube)) = (
                        tokio::net::TcpListener::from_std(api),
                        tokio::net::TcpListener::from_std(kube),
                    ) else {
                        return;
                    };
                    tokio::select! {
                        _ = server::serve(api, served) => {}
                        _ = kube_api::serve(kube, tls) => {}
                        _ = stopped => {}
                    }
                });
            })
            .map_err(StartError::Thread)?;
        Ok(FakeCloud {
            shared,
            api_port,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// "http://127.0.0.1:PORT": every fake API on one port.
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    /// The TLS kube API: public "https://127.0.0.1:P", private "https://localhost:P".
    pub fn kube_url(&self, private: bool) -> String {
        self.shared.kube_url(private)
    }

    /// The CA (PEM) that signed the kube API server's and every client certificate.
    pub fn ca_pem(&self) -> String {
        self.shared.pki.ca_pem()
    }

    /// The environment for a kubefetch process: every `KUBEFETCH_*_ENDPOINT` pointing
    /// here (the STS and metadata ones too: a metadata service is only asked when
    /// its own variable says so), the default credentials of every provider and a
    /// default region for each.
    pub fn env(&self) -> Vec<(String, String)> {
        let url = self.api_url();
        let mut env: Vec<(String, String)> = Provider::ALL
            .iter()
            .map(|p| {
                (
                    format!("KUBEFETCH_{}_ENDPOINT", p.name().to_uppercase()),
                    url.clone(),
                )
            })
            .collect();
        let fixed = [
            ("TENCENTCLOUD_SECRET_ID", fixtures::TENCENT_SECRET_ID),
            ("TENCENTCLOUD_SECRET_KEY", fixtures::TENCENT_SECRET_KEY),
            ("TENCENTCLOUD_REGION", fixtures::TENCENT_REGION),
            (
                "ALIBABA_CLOUD_ACCESS_KEY_ID",
                fixtures::ALIBABA_ACCESS_KEY_ID,
            ),
            (
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                fixtures::ALIBABA_ACCESS_KEY_SECRET,
            ),
            ("ALIBABA_CLOUD_REGION_ID", fixtures::ALIBABA_REGION),
            ("HUAWEICLOUD_SDK_AK", fixtures::HUAWEI_AK),
            ("HUAWEICLOUD_SDK_SK", fixtures::HUAWEI_SK),
            ("OS_REGION_NAME", fixtures::HUAWEI_REGION),
        ];
        env.extend(fixed.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }

    /// Serves one more cluster (replacing one with the same provider and id).
    pub fn add_cluster(&self, cluster: Cluster) {
        self.shared.lock().add_cluster(cluster);
    }

    /// Every cluster served, in the order added.
    pub fn clusters(&self) -> Vec<Cluster> {
        self.shared.lock().clusters().to_vec()
    }

    /// Queues a fault; faults are used up in the order injected by the requests they match.
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().inject(fault);
    }

    /// Every API request received, in order of arrival.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().recorded()
    }

    /// An IAM token scoped to the cn-north-4 project, valid 24 hours, as if a user had
    /// logged in (for `OS_AUTH_TOKEN`).
    pub fn issue_token(&self) -> String {
        huawei::iam::new_token(
            &self.shared,
            Some(fixtures::HUAWEI_PROJECT_CN_NORTH_4),
            Utc::now(),
        )
        .0
    }

    /// A JWT-shaped OIDC token, as a CI system writes to its token file, that the
    /// fake's STS and IAM accept until `valid_for` has passed (a negative duration
    /// gives a token that has already expired).
    pub fn oidc_token(&self, valid_for: chrono::Duration) -> String {
        use base64::Engine;
        let expires_at = Utc::now() + valid_for;
        let encode = |value: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
        };
        let token = format!(
            "{}.{}.{}",
            encode(serde_json::json!({"alg": "RS256", "typ": "JWT"})),
            encode(serde_json::json!({
                "iss": "https://token.actions.githubusercontent.com",
                "sub": "repo:kubefetch/kubefetch:ref:refs/heads/main",
                "aud": "sts.aliyuncs.com",
                "exp": expires_at.timestamp(),
                "jti": wire::random_hex(8),
            })),
            wire::random_hex(32),
        );
        self.shared
            .lock()
            .accept_oidc_token(token.clone(), expires_at);
        token
    }

    /// The next `times` temporary keys an STS, IAM or metadata exchange hands out
    /// have expired a minute ago: an answer a client must refuse.
    pub fn issue_expired_keys(&self, times: u32) {
        self.shared.lock().issue_expired_keys(times);
    }

    /// Every temporary credential an STS, IAM or metadata exchange issued.
    pub fn temporaries(&self) -> Vec<Temporary> {
        self.shared.lock().temporaries()
    }

    /// Makes every IAM token issued so far expired.
    pub fn expire_tokens(&self) {
        self.shared.lock().expire_tokens(Utc::now());
    }
}

impl Drop for FakeCloud {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
