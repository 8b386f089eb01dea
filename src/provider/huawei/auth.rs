//! How a Huawei request proves who sends it: SDK-HMAC-SHA256 with AK/SK,
//! or an IAM token in `X-Auth-Token`. Requests are built afresh on every
//! attempt, so each carries a new `X-Sdk-Date` and signature.

use chrono::{DateTime, Utc};
use percent_encoding::percent_decode_str;
use reqwest::{Method, Url};

use crate::http::Request;
use crate::provider::host_header;
use crate::secret::Secret;
use crate::sign::{canonical_query, sdk_hmac};

pub const CONTENT_TYPE: &str = "application/json";

#[derive(Debug, Clone)]
pub enum Authorizer {
    AkSk {
        ak: String,
        sk: Secret,
        security_token: Option<Secret>,
    },
    Token(Secret),
}

/// A request before it is authorised: headers other than Host, auth and date.
pub struct Unsigned<'a> {
    pub method: Method,
    pub url: &'a Url,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

impl Authorizer {
    pub fn authorize(&self, unsigned: Unsigned<'_>, now: DateTime<Utc>) -> Request {
        let Unsigned {
            method,
            url,
            mut headers,
            body,
        } = unsigned;
        if !body.is_empty() {
            headers.push(("Content-Type".to_string(), CONTENT_TYPE.to_string()));
        }
        match self {
            Authorizer::Token(token) => {
                headers.push(("X-Auth-Token".to_string(), token.expose().to_string()));
            }
            Authorizer::AkSk {
                ak,
                sk,
                security_token,
            } => {
                headers.push(("X-Sdk-Date".to_string(), sdk_hmac::sdk_date(now)));
                if let Some(token) = security_token {
                    headers.push(("X-Security-Token".to_string(), token.expose().to_string()));
                }
                // reqwest sets Host itself; the gateway still checks it as signed.
                let mut signed_headers = headers.clone();
                signed_headers.push(("Host".to_string(), host_header(url)));
                let path = percent_decode_str(url.path()).decode_utf8_lossy();
                let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
                let signed = sdk_hmac::sign(
                    &sdk_hmac::SdkHmacRequest {
                        method: method.as_str(),
                        path: &path,
                        query: &query,
                        headers: &signed_headers,
                        body,
                    },
                    ak,
                    sk,
                );
                headers.push(("Authorization".to_string(), signed.authorization));
            }
        }
        Request {
            method,
            url: url.clone(),
            headers,
            body: body.to_vec(),
        }
    }
}

/// `base` with this path and query, the query in the canonical form the
/// signature covers, so what is sent and what is signed cannot differ.
pub fn url_with(base: &Url, path: &str, query: &[(String, String)]) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{path}"));
    let query = canonical_query(query);
    url.set_query((!query.is_empty()).then_some(query.as_str()));
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ts: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(ts, 0).unwrap()
    }

    fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
        request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The SDK's own signature of this request (shared vector
    /// hw_cce_post_clustercert_sdk).
    #[test]
    fn aksk_signature_matches_the_sdk_vector() {
        let url = Url::parse(
            "https://cce.cn-north-4.myhuaweicloud.com/api/v3/projects/0a1b2c3d4e5f60718293a4b5c6d7e8f9/clusters/4d5e6f70-1a2b-11ee-8c90-0255ac100001/clustercert",
        )
        .unwrap();
        let auth = Authorizer::AkSk {
            ak: "HWFAKECLOUDAK0000001".into(),
            sk: Secret::new("fakecloudHuaweiSecretKey000000000000001"),
            security_token: None,
        };
        let request = auth.authorize(
            Unsigned {
                method: Method::POST,
                url: &url,
                headers: vec![
                    (
                        "User-Agent".into(),
                        "huaweicloud-usdk-python/3.0; fakecloud-vectors/1.0".into(),
                    ),
                    (
                        "X-Project-Id".into(),
                        "0a1b2c3d4e5f60718293a4b5c6d7e8f9".into(),
                    ),
                ],
                body: b"{\"duration\": 30}",
            },
            at(1_700_000_000),
        );
        assert_eq!(
            header(&request, "authorization"),
            Some("SDK-HMAC-SHA256 Access=HWFAKECLOUDAK0000001, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, Signature=73dcd5bfd7f30aaff6be0564f58c59e3107c4636bf097b73f7c1100cdd999fae")
        );
        assert_eq!(header(&request, "x-sdk-date"), Some("20231114T221320Z"));
        assert_eq!(header(&request, "content-type"), Some(CONTENT_TYPE));
        assert_eq!(header(&request, "host"), None, "reqwest sends Host");
    }

    #[test]
    fn query_is_signed_as_sent() {
        let base = Url::parse("https://ucs.myhuaweicloud.com").unwrap();
        let url = url_with(
            &base,
            "/v1/clusters/5e6f7081-2b3c-11ee-8c90-0255ac100011/accessinfo",
            &[
                ("vpcendpoint".into(), "10.0.0.5".into()),
                ("region".into(), "cn-north-4".into()),
            ],
        );
        assert_eq!(url.query(), Some("region=cn-north-4&vpcendpoint=10.0.0.5"));
        let auth = Authorizer::AkSk {
            ak: "HWFAKECLOUDAK0000001".into(),
            sk: Secret::new("fakecloudHuaweiSecretKey000000000000001"),
            security_token: None,
        };
        let request = auth.authorize(
            Unsigned {
                method: Method::GET,
                url: &url,
                headers: vec![(
                    "X-Domain-Id".into(),
                    "d0fa4ec10d0fa4ec10d0fa4ec10d0fa4".into(),
                )],
                body: b"",
            },
            at(1_700_000_000),
        );
        assert_eq!(
            header(&request, "authorization"),
            Some("SDK-HMAC-SHA256 Access=HWFAKECLOUDAK0000001, SignedHeaders=host;x-domain-id;x-sdk-date, Signature=679fde5e297ac1dac9d4c4edcbaac0e12b8cbd07148f348cb4494772108c66e2")
        );
        assert_eq!(header(&request, "content-type"), None);
    }

    #[test]
    fn temporary_keys_sign_their_security_token() {
        let url = Url::parse("https://iam.eu-de.otc.t-systems.com/v3/auth/domains").unwrap();
        let auth = Authorizer::AkSk {
            ak: "AK".into(),
            sk: Secret::new("SK"),
            security_token: Some(Secret::new("sts")),
        };
        let request = auth.authorize(
            Unsigned {
                method: Method::GET,
                url: &url,
                headers: Vec::new(),
                body: b"",
            },
            at(0),
        );
        assert_eq!(header(&request, "x-security-token"), Some("sts"));
        assert!(header(&request, "authorization")
            .unwrap()
            .contains("SignedHeaders=host;x-sdk-date;x-security-token,"));
    }

    #[test]
    fn a_token_is_sent_as_x_auth_token_without_a_signature() {
        let url = Url::parse("http://127.0.0.1:1/v1/clusters/x/kubeconfig").unwrap();
        let request = Authorizer::Token(Secret::new("tok")).authorize(
            Unsigned {
                method: Method::POST,
                url: &url,
                headers: Vec::new(),
                body: b"{}",
            },
            at(0),
        );
        assert_eq!(header(&request, "x-auth-token"), Some("tok"));
        assert_eq!(header(&request, "authorization"), None);
        assert_eq!(header(&request, "x-sdk-date"), None);
    }

    #[test]
    fn base_paths_are_kept() {
        let base = Url::parse("http://127.0.0.1:8/huawei/").unwrap();
        assert_eq!(
            url_with(&base, "/v3/projects", &[("name".into(), "eu-de".into())]).as_str(),
            "http://127.0.0.1:8/huawei/v3/projects?name=eu-de"
        );
    }
}
