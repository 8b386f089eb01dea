//! SDK-HMAC-SHA256, the AK/SK signature of Huawei Cloud's and Open Telekom
//! Cloud's API gateway (APIG).

use chrono::{DateTime, Utc};

use super::{
    canonical_headers, canonical_query, hmac_sha256, sha256_hex, uri_encode, CanonicalRequest,
    Signed, StringToSign,
};
use crate::secret::Secret;

const ALGORITHM: &str = "SDK-HMAC-SHA256";
const DATE_HEADER: &str = "x-sdk-date";

pub struct SdkHmacRequest<'a> {
    pub method: &'a str,
    /// As sent (NOT encoded); the canonical URI appends '/'.
    pub path: &'a str,
    /// NOT encoded.
    pub query: &'a [(String, String)],
    /// Every header sent, incl. Host and X-Sdk-Date; names containing '_'
    /// are not signed.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// # Panics
/// When `req.headers` has no X-Sdk-Date: the gateway needs it, and the
/// signer must not read the clock to invent one (use [`sdk_date`]).
pub fn sign(req: &SdkHmacRequest<'_>, ak: &str, sk: &Secret) -> Signed {
    let sdk_date = req
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(DATE_HEADER))
        .map(|(_, value)| value.trim())
        .expect("an SDK-HMAC-SHA256 request carries an X-Sdk-Date header");

    // Proxies commonly drop header names holding '_' (nginx does by
    // default), so the SDK leaves them out of the signature.
    let (headers_block, signed_headers) = canonical_headers(
        req.headers
            .iter()
            .filter(|(name, _)| !name.contains('_'))
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    let canonical_request = CanonicalRequest::from_parts(
        req.method,
        &canonical_uri(req.path),
        &canonical_query(req.query),
        &headers_block,
        &signed_headers,
        &sha256_hex(req.body),
    );
    let string_to_sign = StringToSign(format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        canonical_request.sha256_hex()
    ));
    let signature = hex::encode(hmac_sha256(
        sk.expose().as_bytes(),
        string_to_sign.as_str().as_bytes(),
    ));
    // ", " separators: that is the APIG format.
    let authorization =
        format!("{ALGORITHM} Access={ak}, SignedHeaders={signed_headers}, Signature={signature}");
    Signed {
        canonical_request,
        string_to_sign,
        signed_headers,
        signature,
        authorization,
    }
}

/// "YYYYMMDDTHHMMSSZ" for the X-Sdk-Date header.
pub fn sdk_date(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Each segment percent-encoded and a trailing '/' added: the signing form
/// only; the request itself keeps its path.
fn canonical_uri(path: &str) -> String {
    let mut uri = uri_encode(path, true);
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_date_is_compact_utc() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(sdk_date(t), "20231114T221320Z");
    }

    #[test]
    fn canonical_uri_encodes_segments_and_ends_with_slash() {
        assert_eq!(canonical_uri("/v3/projects"), "/v3/projects/");
        assert_eq!(canonical_uri("/v3/projects/"), "/v3/projects/");
        assert_eq!(canonical_uri("/a b/c"), "/a%20b/c/");
        assert_eq!(canonical_uri(""), "/");
    }

    #[test]
    fn headers_with_underscores_are_sent_but_not_signed() {
        let headers = vec![
            ("Host".to_string(), "h".to_string()),
            ("X-Sdk-Date".to_string(), "20231114T221320Z".to_string()),
            ("TEST_UNDERSCORE".to_string(), "v".to_string()),
        ];
        let request = SdkHmacRequest {
            method: "GET",
            path: "/r",
            query: &[],
            headers: &headers,
            body: b"",
        };
        let signed = sign(&request, "ak", &Secret::new("sk"));
        assert_eq!(signed.signed_headers, "host;x-sdk-date");
        assert!(!signed
            .canonical_request
            .as_str()
            .contains("test_underscore"));
    }

    #[test]
    #[should_panic(expected = "X-Sdk-Date")]
    fn a_request_without_its_date_header_is_a_caller_bug() {
        let headers = vec![("Host".to_string(), "h".to_string())];
        let request = SdkHmacRequest {
            method: "GET",
            path: "/r",
            query: &[],
            headers: &headers,
            body: b"",
        };
        sign(&request, "ak", &Secret::new("sk"));
    }
}
