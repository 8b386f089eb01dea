//! Alibaba Cloud ACK: DescribeClusterUserKubeconfig, signed with ACS3
//! (signature V3) or, on explicit request, the legacy ROA HMAC-SHA1, with
//! keys found or exchanged at STS or the ECS metadata service.

pub mod api;
pub mod credential;
pub mod metadata;
pub mod session;
pub mod sts;

use std::ops::RangeInclusive;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::{Method, Url};

use crate::credentials::Found;
use crate::env::Env;
use crate::http::{HttpClient, Request};
use crate::provider::error::ApiError;
use crate::provider::{
    every_page, host_header, Answer, Discovered, ProviderConfig, SetupError, Signature,
};
use crate::settings::{format_minutes, UsageError};
use crate::sign::{acs3, canonical_query, roa};
use crate::ui::Ui;

use credential::AlibabaCredential;
use session::Session;

/// `TemporaryDurationMinutes` as the API accepts it (15 minutes to 3 days).
pub const TTL_MINUTES: RangeInclusive<u64> = 15..=4320;

pub struct Ack {
    endpoint: Url,
    region: String,
    /// Discovery without a region asks for every region at the central endpoint.
    every_region: bool,
    ttl_minutes: Option<u64>,
    signature: Signature,
    /// Shared by the regional clients of one discovery: one exchange per run.
    session: Arc<Session>,
    http: HttpClient,
    env: Arc<Env>,
}

impl Ack {
    pub fn new(config: &ProviderConfig, env: Arc<Env>, ui: Ui) -> Result<Self, SetupError> {
        let region = config
            .region
            .clone()
            .or_else(|| env.var("ALIBABA_CLOUD_REGION_ID").map(str::to_string))
            .or_else(|| credential::profile_region(&env, config.profile.as_deref()))
            .ok_or_else(|| {
                UsageError::new("no region for ack").with_hint(
                    "pass --region (e.g. cn-hangzhou), set ALIBABA_CLOUD_REGION_ID, or set region_id in the aliyun profile",
                )
            })?;
        validate_region(&region)?;
        Self::setup(config, env, ui, Some(region))
    }

    /// For discovery without `--region`: every region, through the central endpoint.
    pub fn every_region(
        config: &ProviderConfig,
        env: Arc<Env>,
        ui: Ui,
    ) -> Result<Self, SetupError> {
        Self::setup(config, env, ui, None)
    }

    fn setup(
        config: &ProviderConfig,
        env: Arc<Env>,
        ui: Ui,
        region: Option<String>,
    ) -> Result<Self, SetupError> {
        let ttl_minutes = check_ttl(config.ttl_minutes)?;
        let endpoint = api_endpoint(config, &env, region.as_deref())?;
        let Found { value, source } = credential::load(&env, config.profile.as_deref())?;
        ui.detail(&format!("credentials: {source}"));
        // The ACK docs state no request rate for this action: no client-side limit.
        let http = HttpClient::new(&config.http, None, ui)?;
        // STS in the command's region; the central one for every region.
        let sts_default = match &region {
            Some(region) => format!("https://sts.{region}.aliyuncs.com"),
            None => "https://sts.aliyuncs.com".to_string(),
        };
        let session = Session::new(
            value,
            &sts_default,
            &config.http,
            http.clone(),
            Arc::clone(&env),
            ui,
        )?;
        let ack = Ack {
            endpoint,
            every_region: region.is_none(),
            region: region.unwrap_or_default(),
            ttl_minutes,
            signature: config.signature,
            session: Arc::new(session),
            http,
            env,
        };
        ack.describe(ui);
        Ok(ack)
    }

    /// The same client for one region of a discovery across every region,
    /// sharing its credentials (exchanged at most once).
    pub fn in_region(
        &self,
        config: &ProviderConfig,
        region: &str,
        ui: Ui,
    ) -> Result<Self, SetupError> {
        validate_region(region)?;
        let ack = Ack {
            endpoint: api_endpoint(config, &self.env, Some(region))?,
            region: region.to_string(),
            every_region: false,
            ttl_minutes: self.ttl_minutes,
            signature: self.signature,
            session: Arc::clone(&self.session),
            http: self.http.clone(),
            env: Arc::clone(&self.env),
        };
        ack.describe(ui);
        Ok(ack)
    }

    fn describe(&self, ui: Ui) {
        ui.detail(&format!(
            "ack: region {}, endpoint {}, signature {:?}",
            self.region, self.endpoint, self.signature
        ));
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// Who asks, never a secret: the AccessKey id, or the role assumed.
    pub fn identity(&self) -> String {
        self.session.identity()
    }

    pub async fn fetch(&self, cluster_id: &str, private: bool) -> Result<Answer, ApiError> {
        let path = api::path(self.endpoint.path(), cluster_id);
        let query = api::query(private, self.ttl_minutes);
        let mut url = self.endpoint.clone();
        url.set_path(&path);
        // The same encoding that is signed, so the two cannot disagree.
        url.set_query(Some(&canonical_query(&query)));
        let host = host_header(&self.endpoint);
        let keys = self.session.keys().await?;
        let answer = self
            .http
            .send(
                || self.request(keys, &url, &host, &path, &query, api::ACTION),
                |response| api::judge(response, cluster_id, &self.region),
            )
            .await?;
        Ok(Answer {
            kubeconfig_text: answer.text,
            source_context: None,
            expires_at: answer.expires_at,
            request_id: answer.request_id,
        })
    }

    /// `DescribeClustersV1`, every page; in the region, or every region.
    pub async fn list(&self) -> Result<Vec<Discovered>, ApiError> {
        let path = format!(
            "{}/api/v1/clusters",
            self.endpoint.path().trim_end_matches('/')
        );
        let host = host_header(&self.endpoint);
        let region = (!self.every_region).then_some(self.region.as_str());
        let keys = self.session.keys().await?;
        every_page(api::PAGE_SIZE as usize, |page_number, _| {
            let query = api::list_query(region, page_number);
            let mut url = self.endpoint.clone();
            url.set_path(&path);
            url.set_query(Some(&canonical_query(&query)));
            let (host, path) = (&host, &path);
            async move {
                let page = self
                    .http
                    .send(
                        || self.request(keys, &url, host, path, &query, api::LIST_ACTION),
                        |response| api::judge_clusters(response, &self.region),
                    )
                    .await?;
                let clusters = page
                    .clusters
                    .into_iter()
                    .map(|(id, name, cluster_region, state)| Discovered {
                        cluster_id: id,
                        name,
                        region: cluster_region.or_else(|| region.map(str::to_string)),
                        state,
                    })
                    .collect();
                Ok((clusters, Some(page.total)))
            }
        })
        .await
    }

    /// One signed attempt: a fresh date and nonce every time.
    fn request(
        &self,
        keys: &AlibabaCredential,
        url: &Url,
        host: &str,
        path: &str,
        query: &[(String, String)],
        action: &str,
    ) -> Request {
        let now = self.env.now();
        let nonce = acs3::new_nonce();
        let id = &keys.access_key_id;
        let secret = &keys.access_key_secret;
        let token = keys.security_token.as_ref();
        let mut headers = match self.signature {
            Signature::Acs3 => {
                return Request {
                    method: Method::GET,
                    url: url.clone(),
                    headers: signed_headers(
                        &SignedCall {
                            method: "GET",
                            host,
                            path,
                            query,
                            action,
                            version: api::VERSION,
                        },
                        keys,
                        now,
                        &nonce,
                    ),
                    body: Vec::new(),
                }
            }
            Signature::RoaV2 => {
                let date = roa::http_date(now);
                let mut headers = vec![
                    ("accept".to_string(), api::ACCEPT.to_string()),
                    ("date".to_string(), date.clone()),
                    ("x-acs-action".to_string(), action.to_string()),
                    ("x-acs-version".to_string(), api::VERSION.to_string()),
                    (
                        "x-acs-signature-method".to_string(),
                        "HMAC-SHA1".to_string(),
                    ),
                    ("x-acs-signature-version".to_string(), "1.0".to_string()),
                    ("x-acs-signature-nonce".to_string(), nonce),
                ];
                if let Some(token) = token {
                    headers.push((
                        "x-acs-security-token".to_string(),
                        token.expose().to_string(),
                    ));
                }
                let signed = roa::sign(
                    &roa::RoaRequest {
                        method: "GET",
                        accept: api::ACCEPT,
                        content_md5: "",
                        content_type: "",
                        date: &date,
                        headers: &headers,
                        path,
                        query,
                    },
                    id,
                    secret,
                );
                headers.push(("authorization".to_string(), signed.authorization));
                headers
            }
        };
        // reqwest writes Host itself, from the same URL the signature used.
        headers.retain(|(name, _)| name != "host");
        Request {
            method: Method::GET,
            url: url.clone(),
            headers,
            body: Vec::new(),
        }
    }
}

/// An ACS3-signed call with an empty body and its parameters in the query.
struct SignedCall<'a> {
    method: &'a str,
    host: &'a str,
    path: &'a str,
    query: &'a [(String, String)],
    action: &'a str,
    version: &'a str,
}

/// The headers of a signed call, the security token among them for
/// temporary keys; `host` is left for reqwest to write from the same URL.
fn signed_headers(
    call: &SignedCall<'_>,
    keys: &AlibabaCredential,
    now: DateTime<Utc>,
    nonce: &str,
) -> Vec<(String, String)> {
    let mut headers = acs3::standard_headers(
        call.host,
        call.action,
        call.version,
        now,
        nonce,
        b"",
        keys.security_token.as_ref(),
    );
    headers.push(("accept".to_string(), api::ACCEPT.to_string()));
    let signed = acs3::sign(
        &acs3::Acs3Request {
            method: call.method,
            path: call.path,
            query: call.query,
            headers: &headers,
            body: b"",
        },
        &keys.access_key_id,
        &keys.access_key_secret,
    );
    headers.push(("authorization".to_string(), signed.authorization));
    headers.retain(|(name, _)| name != "host");
    headers
}

/// The ACK endpoint: `--endpoint` or its variable, else the region's (or
/// the central one for every region).
fn api_endpoint(
    config: &ProviderConfig,
    env: &Env,
    region: Option<&str>,
) -> Result<Url, UsageError> {
    let host = match region {
        Some(region) => format!("https://cs.{region}.aliyuncs.com"),
        None => "https://cs.aliyuncs.com".to_string(),
    };
    config.endpoint_or(env, &host)
}

/// `--ttl` must fit the API's range; checked before any request.
fn check_ttl(ttl_minutes: Option<u64>) -> Result<Option<u64>, UsageError> {
    match ttl_minutes {
        Some(minutes) if !TTL_MINUTES.contains(&minutes) => Err(UsageError::new(format!(
            "--ttl {} is out of range: ACK issues credentials for {} to {} ({}..{} minutes)",
            format_minutes(minutes),
            format_minutes(*TTL_MINUTES.start()),
            format_minutes(*TTL_MINUTES.end()),
            TTL_MINUTES.start(),
            TTL_MINUTES.end(),
        ))
        .with_hint(
            "use e.g. --ttl 60, --ttl 3h or --ttl 3d; omit --ttl for the long default validity",
        )),
        other => Ok(other),
    }
}

/// The region becomes part of the API host name: only plain names pass.
fn validate_region(region: &str) -> Result<(), UsageError> {
    let plain = !region.is_empty()
        && region.len() <= 64
        && !region.starts_with('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if plain {
        Ok(())
    } else {
        Err(
            UsageError::new(format!("invalid region '{}'", region.escape_debug()))
                .with_hint("regions look like cn-hangzhou or ap-southeast-1"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::settings::HttpSettings;
    use chrono::DateTime;
    use std::time::Duration;

    #[test]
    fn ttl_range_is_15_minutes_to_3_days() {
        assert_eq!(check_ttl(None).unwrap(), None);
        assert_eq!(check_ttl(Some(15)).unwrap(), Some(15));
        assert_eq!(check_ttl(Some(4320)).unwrap(), Some(4320));
        for bad in [5, 14, 4321, 5000] {
            let e = check_ttl(Some(bad)).unwrap_err();
            assert!(e.message.contains("15m to 3d"), "{}", e.message);
            assert!(e.message.contains("15..4320 minutes"), "{}", e.message);
        }
    }

    #[test]
    fn regions_are_checked() {
        validate_region("cn-hangzhou").unwrap();
        validate_region("ap-southeast-1").unwrap();
        for bad in ["", "CN", "cn hangzhou", "a/b", "x.evil.com", "-x"] {
            assert!(validate_region(bad).is_err(), "{bad}");
        }
    }

    fn ack(signature: Signature, token: Option<&str>) -> Ack {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let env = Arc::new(Env::new(Vec::<(String, String)>::new(), None).with_now(now));
        let endpoint = Url::parse("https://cs.cn-hangzhou.aliyuncs.com").unwrap();
        let http = HttpClient::new(
            &HttpSettings {
                timeout: Duration::from_secs(1),
                retries: 0,
                ca_bundle: None,
            },
            None,
            Ui::new(crate::settings::Verbosity::Quiet),
        )
        .unwrap();
        Ack {
            endpoint,
            region: "cn-hangzhou".into(),
            every_region: false,
            ttl_minutes: Some(60),
            signature,
            session: Arc::new(Session::Keys(AlibabaCredential {
                access_key_id: "LTAIfakecloudALIBABA0001".into(),
                access_key_secret: Secret::new("fakecloudAlibabaSecret000000001"),
                security_token: token.map(Secret::new),
            })),
            http,
            env,
        }
    }

    fn build(ack: &Ack) -> Request {
        let path = api::path("/", "c0123456789abcdef0123456789abcdef");
        let query = api::query(true, ack.ttl_minutes);
        let mut url = ack.endpoint.clone();
        url.set_path(&path);
        url.set_query(Some(&canonical_query(&query)));
        let Session::Keys(keys) = &*ack.session else {
            panic!("built with keys");
        };
        ack.request(
            keys,
            &url,
            "cs.cn-hangzhou.aliyuncs.com",
            &path,
            &query,
            api::ACTION,
        )
    }

    /// An answer with no headers, for the wire modules' tests.
    pub(super) fn answer(status: u16, body: &str) -> crate::http::Response {
        crate::http::Response {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    pub(super) fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
        request
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn v3_requests_are_signed_with_every_sent_header_and_a_fresh_nonce() {
        let ack = ack(Signature::Acs3, Some("sts-token"));
        let first = build(&ack);
        let second = build(&ack);
        assert_eq!(
            first.url.as_str(),
            "https://cs.cn-hangzhou.aliyuncs.com/k8s/c0123456789abcdef0123456789abcdef/user_config?PrivateIpAddress=true&TemporaryDurationMinutes=60"
        );
        assert_eq!(header(&first, "host"), None, "reqwest sets Host");
        assert_eq!(header(&first, "x-acs-date"), Some("2023-11-14T22:13:20Z"));
        assert_eq!(header(&first, "x-acs-security-token"), Some("sts-token"));
        assert_ne!(
            header(&first, "x-acs-signature-nonce"),
            header(&second, "x-acs-signature-nonce")
        );
        let auth = header(&first, "authorization").unwrap();
        assert!(auth.starts_with(
            "ACS3-HMAC-SHA256 Credential=LTAIfakecloudALIBABA0001,SignedHeaders=accept;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,Signature="
        ), "{auth}");

        // Re-signing what was sent (plus Host) reproduces the signature.
        let mut sent: Vec<(String, String)> = first
            .headers
            .iter()
            .filter(|(k, _)| k != "authorization")
            .cloned()
            .collect();
        sent.push(("host".into(), "cs.cn-hangzhou.aliyuncs.com".into()));
        let again = acs3::sign(
            &acs3::Acs3Request {
                method: "GET",
                path: first.url.path(),
                query: &api::query(true, Some(60)),
                headers: &sent,
                body: b"",
            },
            "LTAIfakecloudALIBABA0001",
            &Secret::new("fakecloudAlibabaSecret000000001"),
        );
        assert_eq!(again.authorization, auth);
    }

    #[test]
    fn roa_requests_match_the_sdk_vector() {
        // shared/vectors/roa_hmac_sha1_minimal.json, with its nonce put back.
        let ack = ack(Signature::RoaV2, None);
        let mut request = build(&ack);
        for (name, value) in &mut request.headers {
            if name == "x-acs-signature-nonce" {
                *value = "3f6c0c8a2b5e4d1f9a7b6c5d4e3f2a1b".into();
            }
        }
        assert_eq!(
            header(&request, "date"),
            Some("Tue, 14 Nov 2023 22:13:20 GMT")
        );
        let signed = roa::sign(
            &roa::RoaRequest {
                method: "GET",
                accept: api::ACCEPT,
                content_md5: "",
                content_type: "",
                date: "Tue, 14 Nov 2023 22:13:20 GMT",
                headers: &request.headers,
                path: request.url.path(),
                query: &api::query(true, Some(60)),
            },
            "LTAIfakecloudALIBABA0001",
            &Secret::new("fakecloudAlibabaSecret000000001"),
        );
        assert_eq!(
            signed.authorization,
            "acs LTAIfakecloudALIBABA0001:2oRRt+M02BbaL0WGMdrXGrLwLUg="
        );
        assert!(header(&request, "authorization")
            .unwrap()
            .starts_with("acs LTAIfakecloudALIBABA0001:"));
    }

    #[test]
    fn roa_sends_and_signs_the_sts_token() {
        let request = build(&ack(Signature::RoaV2, Some("sts-token")));
        assert_eq!(header(&request, "x-acs-security-token"), Some("sts-token"));
    }
}
