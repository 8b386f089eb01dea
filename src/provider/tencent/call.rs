//! One Tencent Cloud API 3.0 call on the wire (TKE or STS): a JSON POST with
//! the `X-TC-*` headers, TC3-signed with the keys given, or unsigned
//! (`Authorization: SKIP`) for the STS actions that take no credentials.

use reqwest::{Method, Url};

use crate::http::Request;
use crate::provider::host_header;
use crate::sign::tc3;

use super::credential::TencentCredential;

pub const CONTENT_TYPE: &str = "application/json";

pub struct Call<'a> {
    pub endpoint: &'a Url,
    /// The TC3 service name: "tke", "sts".
    pub service: &'a str,
    pub version: &'a str,
    pub action: &'a str,
    pub region: &'a str,
    pub body: &'a [u8],
    /// Unix seconds.
    pub timestamp: i64,
}

impl Call<'_> {
    /// Signed with `keys`; their session token, if any, goes in `X-TC-Token`.
    pub fn signed(&self, keys: &TencentCredential) -> Request {
        let host = host_header(self.endpoint);
        let signed = tc3::sign(
            &tc3::Tc3Request {
                method: "POST",
                host: &host,
                query: "",
                content_type: CONTENT_TYPE,
                payload: self.body,
                service: self.service,
                timestamp: self.timestamp,
            },
            &keys.secret_id,
            &keys.secret_key,
        );
        let mut request = self.request(signed.authorization);
        if let Some(token) = &keys.token {
            request
                .headers
                .push(("X-TC-Token".to_string(), token.expose().to_string()));
        }
        request
    }

    /// Not signed, as the SDK sends `AssumeRoleWithWebIdentity`.
    pub fn unsigned(&self) -> Request {
        self.request("SKIP".to_string())
    }

    fn request(&self, authorization: String) -> Request {
        let headers = vec![
            ("Content-Type".to_string(), CONTENT_TYPE.to_string()),
            ("X-TC-Action".to_string(), self.action.to_string()),
            ("X-TC-Version".to_string(), self.version.to_string()),
            ("X-TC-Region".to_string(), self.region.to_string()),
            ("X-TC-Timestamp".to_string(), self.timestamp.to_string()),
            ("X-TC-Language".to_string(), "en-US".to_string()),
            ("Authorization".to_string(), authorization),
        ];
        Request {
            method: Method::POST,
            url: self.endpoint.clone(),
            headers,
            body: self.body.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn call(endpoint: &Url) -> Call<'_> {
        Call {
            endpoint,
            service: "sts",
            version: "2018-08-13",
            action: "AssumeRole",
            region: "ap-guangzhou",
            body: b"{}",
            timestamp: 1_700_000_000,
        }
    }

    fn pairs(request: &Request) -> Vec<(&str, &str)> {
        request
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    const COMMON: [(&str, &str); 6] = [
        ("Content-Type", "application/json"),
        ("X-TC-Action", "AssumeRole"),
        ("X-TC-Version", "2018-08-13"),
        ("X-TC-Region", "ap-guangzhou"),
        ("X-TC-Timestamp", "1700000000"),
        ("X-TC-Language", "en-US"),
    ];

    #[test]
    fn signed_calls_name_their_service_and_carry_the_session_token() {
        let endpoint = Url::parse("https://sts.tencentcloudapi.com").unwrap();
        let keys = TencentCredential {
            secret_id: "AKIDx".into(),
            secret_key: Secret::new("k"),
            token: Some(Secret::new("session")),
        };
        let request = call(&endpoint).signed(&keys);
        let headers = pairs(&request);
        assert_eq!(headers[..6], COMMON);
        let (name, authorization) = headers[6];
        assert_eq!(name, "Authorization");
        assert!(
            authorization.starts_with(
                "TC3-HMAC-SHA256 Credential=AKIDx/2023-11-14/sts/tc3_request, SignedHeaders=content-type;host,"
            ),
            "{authorization}"
        );
        assert_eq!(headers[7..], [("X-TC-Token", "session")]);
        assert_eq!(request.body, b"{}");
    }

    #[test]
    fn unsigned_calls_say_skip_and_carry_no_token() {
        let endpoint = Url::parse("https://sts.tencentcloudapi.com").unwrap();
        let request = call(&endpoint).unsigned();
        let headers = pairs(&request);
        assert_eq!(headers[..6], COMMON);
        assert_eq!(headers[6..], [("Authorization", "SKIP")]);
    }
}
