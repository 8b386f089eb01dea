//! TC3-HMAC-SHA256, Tencent Cloud API 3.0.
//!
//! Signs only `content-type;host`, as the official SDK does; any other
//! header (X-TC-Action, X-TC-Token, ...) is sent unsigned.

use chrono::DateTime;

use super::{hmac_sha256, sha256_hex, CanonicalRequest, Signed, StringToSign};
use crate::secret::Secret;

const ALGORITHM: &str = "TC3-HMAC-SHA256";
const SIGNED_HEADERS: &str = "content-type;host";

pub struct Tc3Request<'a> {
    /// "POST" | "GET"
    pub method: &'a str,
    /// Host header exactly as sent (with ":port" when not default).
    pub host: &'a str,
    /// Query string as sent, "" for POST.
    pub query: &'a str,
    /// Content-Type exactly as sent.
    pub content_type: &'a str,
    /// Body as sent ("" for GET).
    pub payload: &'a [u8],
    /// "tke"
    pub service: &'a str,
    /// Unix seconds, also sent as X-TC-Timestamp; the credential date is its
    /// UTC date.
    pub timestamp: i64,
}

/// # Panics
/// When `req.timestamp` lies outside chrono's range (about ±262,000 years),
/// which no clock produces.
pub fn sign(req: &Tc3Request<'_>, secret_id: &str, secret_key: &Secret) -> Signed {
    let canonical_headers = format!("content-type:{}\nhost:{}\n", req.content_type, req.host);
    let canonical_request = CanonicalRequest::from_parts(
        req.method,
        "/",
        req.query,
        &canonical_headers,
        SIGNED_HEADERS,
        &sha256_hex(req.payload),
    );

    let date = utc_date(req.timestamp);
    let scope = format!("{date}/{}/tc3_request", req.service);
    let string_to_sign = StringToSign(format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        req.timestamp,
        canonical_request.sha256_hex()
    ));

    let k_date = hmac_sha256(
        format!("TC3{}", secret_key.expose()).as_bytes(),
        date.as_bytes(),
    );
    let k_service = hmac_sha256(&k_date, req.service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"tc3_request");
    let signature = hex::encode(hmac_sha256(&k_signing, string_to_sign.as_str().as_bytes()));

    let authorization = format!(
        "{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
    );
    Signed {
        canonical_request,
        string_to_sign,
        signed_headers: SIGNED_HEADERS.to_string(),
        signature,
        authorization,
    }
}

/// "YYYY-MM-DD" of a unix timestamp in UTC: the server checks the
/// credential scope against the timestamp, never against a local calendar.
fn utc_date(timestamp: i64) -> String {
    DateTime::from_timestamp(timestamp, 0)
        .expect("a unix timestamp within chrono's range")
        .format("%Y-%m-%d")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_date_is_the_utc_date_around_midnight() {
        // 2023-11-14T23:59:59Z and the second after it.
        assert_eq!(utc_date(1_700_006_399), "2023-11-14");
        assert_eq!(utc_date(1_700_006_400), "2023-11-15");
    }

    #[test]
    fn credential_date_changes_the_scope_and_the_signature() {
        let request = |timestamp| Tc3Request {
            method: "POST",
            host: "tke.tencentcloudapi.com",
            query: "",
            content_type: "application/json",
            payload: b"{}",
            service: "tke",
            timestamp,
        };
        let key = Secret::new("key");
        let before = sign(&request(1_700_006_399), "id", &key);
        let after = sign(&request(1_700_006_400), "id", &key);
        assert!(before
            .authorization
            .starts_with("TC3-HMAC-SHA256 Credential=id/2023-11-14/tke/tc3_request, "));
        assert!(after
            .authorization
            .starts_with("TC3-HMAC-SHA256 Credential=id/2023-11-15/tke/tc3_request, "));
        assert_eq!(before.canonical_request, after.canonical_request);
        assert_ne!(before.signature, after.signature);
    }
}
