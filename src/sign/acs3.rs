//! ACS3-HMAC-SHA256, Alibaba Cloud signature V3 (the official SDK's default).

use chrono::{DateTime, Utc};

use super::{
    canonical_headers, canonical_query, hmac_sha256, sha256_hex, uri_encode, CanonicalRequest,
    Signed, StringToSign,
};
use crate::secret::Secret;

const ALGORITHM: &str = "ACS3-HMAC-SHA256";

pub struct Acs3Request<'a> {
    pub method: &'a str,
    /// NOT encoded, e.g. "/k8s/c123/user_config".
    pub path: &'a str,
    /// NOT encoded.
    pub query: &'a [(String, String)],
    /// Every header that will be sent (any case).
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// Signs every header in `req.headers`, as the SDK does (its own requests
/// sign `accept` and `user-agent` too; see the vectors): so pass exactly the
/// headers that will be sent, no more and no fewer.
pub fn sign(req: &Acs3Request<'_>, access_key_id: &str, secret: &Secret) -> Signed {
    let uri = if req.path.is_empty() {
        "/".to_string()
    } else {
        uri_encode(req.path, true)
    };
    let (headers_block, signed_headers) = canonical_headers(
        req.headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    let canonical_request = CanonicalRequest::from_parts(
        req.method,
        &uri,
        &canonical_query(req.query),
        &headers_block,
        &signed_headers,
        &sha256_hex(req.body),
    );
    let string_to_sign = StringToSign(format!("{ALGORITHM}\n{}", canonical_request.sha256_hex()));
    let signature = hex::encode(hmac_sha256(
        secret.expose().as_bytes(),
        string_to_sign.as_str().as_bytes(),
    ));
    // No spaces after the commas: that is the V3 format.
    let authorization = format!(
        "{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"
    );
    Signed {
        canonical_request,
        string_to_sign,
        signed_headers,
        signature,
        authorization,
    }
}

/// The standard headers a V3 request sends and signs, in this order: host,
/// x-acs-action, x-acs-version, x-acs-date (UTC "%Y-%m-%dT%H:%M:%SZ"),
/// x-acs-signature-nonce, x-acs-content-sha256 (= sha256_hex(body)), and
/// x-acs-security-token when given.
pub fn standard_headers(
    host: &str,
    action: &str,
    version: &str,
    date: DateTime<Utc>,
    nonce: &str,
    body: &[u8],
    security_token: Option<&Secret>,
) -> Vec<(String, String)> {
    let mut headers = vec![
        ("host".to_string(), host.to_string()),
        ("x-acs-action".to_string(), action.to_string()),
        ("x-acs-version".to_string(), version.to_string()),
        (
            "x-acs-date".to_string(),
            date.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ),
        ("x-acs-signature-nonce".to_string(), nonce.to_string()),
        ("x-acs-content-sha256".to_string(), sha256_hex(body)),
    ];
    if let Some(token) = security_token {
        headers.push((
            "x-acs-security-token".to_string(),
            token.expose().to_string(),
        ));
    }
    headers
}

/// A fresh random nonce (32 lower-case hex chars from the OS generator):
/// the only impure helper, kept apart from `sign` so `sign` stays pure.
///
/// # Panics
/// When the operating system cannot supply random bytes: a request must
/// never go out with a predictable nonce.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random generator is available");
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn standard_headers_come_in_the_documented_order() {
        let token = Secret::new("sts-token");
        let headers = standard_headers("h", "A", "V", date(), "n", b"", Some(&token));
        let names: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "host",
                "x-acs-action",
                "x-acs-version",
                "x-acs-date",
                "x-acs-signature-nonce",
                "x-acs-content-sha256",
                "x-acs-security-token"
            ]
        );
        assert_eq!(headers[3].1, "2023-11-14T22:13:20Z");
        assert_eq!(headers[5].1, sha256_hex(b""));
        assert_eq!(headers[6].1, "sts-token");
    }

    #[test]
    fn standard_headers_without_token_have_no_token_header() {
        let headers = standard_headers("h", "A", "V", date(), "n", b"{}", None);
        assert_eq!(headers.len(), 6);
        assert_eq!(headers[5].1, sha256_hex(b"{}"));
    }

    #[test]
    fn nonces_are_32_lower_hex_chars_and_differ() {
        let first = new_nonce();
        let second = new_nonce();
        assert_eq!(first.len(), 32);
        assert!(first
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert_ne!(first, second);
    }

    #[test]
    fn path_segments_are_encoded_and_slashes_kept() {
        let headers = vec![("host".to_string(), "h".to_string())];
        let request = Acs3Request {
            method: "GET",
            path: "/k8s/c 1/user_config",
            query: &[],
            headers: &headers,
            body: b"",
        };
        let signed = sign(&request, "id", &Secret::new("s"));
        assert!(signed
            .canonical_request
            .as_str()
            .starts_with("GET\n/k8s/c%201/user_config\n\nhost:h\n"));
    }
}
