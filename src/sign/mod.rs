//! Pure request signers for the four schemes kubefetch speaks: Tencent TC3,
//! Alibaba V3 (ACS3) and legacy ROA, and Huawei/OTC SDK-HMAC-SHA256.
//!
//! A signer takes request parts, credentials and the time (and nonce) as
//! arguments and returns every stage of the signature; it never reads the
//! clock, the environment or the network, so each stage can be checked
//! against the vendors' vectors.

pub mod acs3;
pub mod roa;
pub mod sdk_hmac;
pub mod tc3;

use std::collections::BTreeMap;
use std::fmt;

use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

/// Exact canonical-request text of a scheme.
///
/// `Display` and [`CanonicalRequest::as_str`] give the full text. `Debug`
/// shows only its SHA-256, because the text carries signed header values
/// such as an STS security token that must not reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct CanonicalRequest(String);

impl CanonicalRequest {
    /// The layout TC3, ACS3 and SDK-HMAC-SHA256 share. `canonical_headers`
    /// already ends with its own newline, hence the blank line after it.
    fn from_parts(
        method: &str,
        uri: &str,
        query: &str,
        canonical_headers: &str,
        signed_headers: &str,
        payload_hash: &str,
    ) -> Self {
        CanonicalRequest(format!(
            "{method}\n{uri}\n{query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}"
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lower-case hex SHA-256 of the text, the form the string to sign embeds.
    pub fn sha256_hex(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

impl fmt::Display for CanonicalRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CanonicalRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CanonicalRequest(sha256={})", self.sha256_hex())
    }
}

/// Exact string-to-sign text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringToSign(String);

impl StringToSign {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StringToSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every stage of one signature (for TC3, ACS3, SDK-HMAC-SHA256).
#[derive(Debug, Clone)]
pub struct Signed {
    pub canonical_request: CanonicalRequest,
    pub string_to_sign: StringToSign,
    /// Lower-case header names joined by ';', e.g. "content-type;host".
    pub signed_headers: String,
    /// Lower-case hex.
    pub signature: String,
    /// The full Authorization header value.
    pub authorization: String,
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// RFC 3986 unreserved characters: everything else is percent-encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// RFC 3986 percent-encoding: A-Z a-z 0-9 - _ . ~ kept, everything else %XX
/// (upper-case hex, UTF-8 bytes); '/' kept only when `keep_slash`.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let set = if keep_slash {
        UNRESERVED_AND_SLASH
    } else {
        UNRESERVED
    };
    utf8_percent_encode(s, set).to_string()
}

/// name=value pairs (NOT yet encoded) -> sorted by encoded name then value,
/// each encoded, "a=1&b=" joined with '&'. Used for signing AND for building
/// the URL actually sent, so the two can never disagree.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(name, value)| (uri_encode(name, false), uri_encode(value, false)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Canonical header block and signed-header list as ACS3 and
/// SDK-HMAC-SHA256 build them: names lower-cased, values trimmed, sorted by
/// name; a name given twice becomes one line with its values sorted and
/// joined by ',' (the Alibaba SDK's rule). Returns ("k:v\n" lines, "k1;k2").
fn canonical_headers<'a>(headers: impl Iterator<Item = (&'a str, &'a str)>) -> (String, String) {
    let mut merged: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, value) in headers {
        merged
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(value.trim());
    }
    let mut block = String::new();
    for (name, values) in &mut merged {
        values.sort_unstable();
        block.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let names = merged
        .keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(";");
    (block, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::pairs;

    #[test]
    fn uri_encode_keeps_only_unreserved_characters() {
        assert_eq!(uri_encode("AZaz09-_.~", false), "AZaz09-_.~");
        assert_eq!(uri_encode("a b", false), "a%20b");
        assert_eq!(uri_encode("a*b", false), "a%2Ab");
        assert_eq!(uri_encode("a+b=c&d", false), "a%2Bb%3Dc%26d");
        assert_eq!(uri_encode("%", false), "%25");
    }

    #[test]
    fn uri_encode_writes_utf8_bytes_in_upper_case_hex() {
        assert_eq!(uri_encode("未命名", false), "%E6%9C%AA%E5%91%BD%E5%90%8D");
        assert_eq!(uri_encode("é", false), "%C3%A9");
    }

    #[test]
    fn uri_encode_keeps_slash_only_when_asked() {
        assert_eq!(uri_encode("/k8s/c 1/x", true), "/k8s/c%201/x");
        assert_eq!(uri_encode("/k8s/c 1/x", false), "%2Fk8s%2Fc%201%2Fx");
    }

    #[test]
    fn canonical_query_sorts_by_name_then_value_and_keeps_empty_values() {
        let query = pairs(&[("b", "2"), ("a", ""), ("b", "1"), ("A", "x")]);
        assert_eq!(canonical_query(&query), "A=x&a=&b=1&b=2");
    }

    #[test]
    fn canonical_query_sorts_by_encoded_name_and_encodes_both_sides() {
        // Raw, 'é' sorts after 'z'; encoded ("%C3%A9") it sorts first.
        let query = pairs(&[("z", "a b"), ("é", "~/")]);
        assert_eq!(canonical_query(&query), "%C3%A9=~%2F&z=a%20b");
    }

    #[test]
    fn canonical_query_of_nothing_is_empty() {
        assert_eq!(canonical_query(&[]), "");
    }

    #[test]
    fn canonical_headers_lower_case_trim_sort_and_merge_repeats() {
        let headers = [
            ("X-B", " 2 "),
            ("Host", "h"),
            ("x-b", "1"),
            ("Content-Type", "application/json"),
        ];
        let (block, names) = canonical_headers(headers.into_iter());
        assert_eq!(block, "content-type:application/json\nhost:h\nx-b:1,2\n");
        assert_eq!(names, "content-type;host;x-b");
    }

    #[test]
    fn canonical_request_debug_hides_its_text() {
        let request = CanonicalRequest("x-acs-security-token:sts-token-value".into());
        let debug = format!("{request:?}");
        assert!(!debug.contains("sts-token-value"), "{debug}");
        assert_eq!(
            debug,
            format!("CanonicalRequest(sha256={})", request.sha256_hex())
        );
    }

    #[test]
    fn sha256_of_empty_input_is_the_well_known_digest() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
