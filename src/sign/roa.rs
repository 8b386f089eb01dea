//! Legacy Alibaba ROA signature (HMAC-SHA1, "V2"), used only on explicit
//! opt-in for old deployments; V3 ([`super::acs3`]) is the default.

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::StringToSign;
use crate::secret::Secret;

pub struct RoaRequest<'a> {
    pub method: &'a str,
    pub accept: &'a str,
    /// "" when no body.
    pub content_md5: &'a str,
    /// "" when none.
    pub content_type: &'a str,
    /// RFC 1123 GMT, as sent in the Date header.
    pub date: &'a str,
    /// All headers sent; the x-acs-* ones are signed.
    pub headers: &'a [(String, String)],
    /// The path exactly as it appears in the request line.
    pub path: &'a str,
    /// NOT encoded: ROA signs the raw values.
    pub query: &'a [(String, String)],
}

#[derive(Debug, Clone)]
pub struct RoaSigned {
    pub string_to_sign: StringToSign,
    /// Base64.
    pub signature: String,
    /// "acs <id>:<sig>"
    pub authorization: String,
}

pub fn sign(req: &RoaRequest<'_>, access_key_id: &str, secret: &Secret) -> RoaSigned {
    let string_to_sign = StringToSign(format!(
        "{}\n{}\n{}\n{}\n{}\n{}{}",
        req.method,
        req.accept,
        req.content_md5,
        req.content_type,
        req.date,
        acs_headers(req.headers),
        canonical_resource(req.path, req.query),
    ));
    let mut mac =
        Hmac::<Sha1>::new_from_slice(secret.expose().as_bytes()).expect("HMAC accepts any key");
    mac.update(string_to_sign.as_str().as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let authorization = format!("acs {access_key_id}:{signature}");
    RoaSigned {
        string_to_sign,
        signature,
        authorization,
    }
}

/// RFC 1123 date for the Date header, e.g. "Tue, 14 Nov 2023 22:13:20 GMT".
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The x-acs-* headers as "name:value\n" lines, names lower-cased and
/// sorted; values are signed untrimmed, as the SDK signs them.
fn acs_headers(headers: &[(String, String)]) -> String {
    let mut lines: Vec<(String, &str)> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.as_str()))
        .filter(|(name, _)| name.starts_with("x-acs-"))
        .collect();
    lines.sort();
    lines
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect()
}

/// Path, then "?" and the query sorted by name with RAW values; a name
/// whose value is empty appears alone, without '=' (the SDK's rule).
fn canonical_resource(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let mut sorted: Vec<&(String, String)> = query.iter().collect();
    sorted.sort();
    let params: Vec<String> = sorted
        .iter()
        .map(|(name, value)| {
            if value.is_empty() {
                name.clone()
            } else {
                format!("{name}={value}")
            }
        })
        .collect();
    format!("{path}?{}", params.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::pairs;

    #[test]
    fn http_date_is_rfc_1123_in_gmt() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(http_date(t), "Tue, 14 Nov 2023 22:13:20 GMT");
        let t = DateTime::from_timestamp(1_704_067_205, 0).unwrap();
        assert_eq!(http_date(t), "Mon, 01 Jan 2024 00:00:05 GMT");
    }

    #[test]
    fn resource_keeps_raw_values_and_drops_equals_for_empty_ones() {
        let query = pairs(&[("b", "x y/z"), ("a", ""), ("c", "1")]);
        assert_eq!(canonical_resource("/p", &query), "/p?a&b=x y/z&c=1");
        assert_eq!(canonical_resource("/p", &[]), "/p");
    }

    #[test]
    fn only_acs_headers_are_signed_lower_cased_and_sorted() {
        let headers = pairs(&[
            ("X-Acs-Version", "2015-12-15"),
            ("accept", "application/json"),
            ("x-acs-action", "A"),
            ("user-agent", "ua"),
        ]);
        assert_eq!(
            acs_headers(&headers),
            "x-acs-action:A\nx-acs-version:2015-12-15\n"
        );
    }
}
