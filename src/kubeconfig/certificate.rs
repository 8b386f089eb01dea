//! When a kubeconfig's client certificate stops working: its notAfter.

use base64::Engine;
use chrono::{DateTime, Utc};
use x509_parser::pem::Pem;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("the client certificate is not valid base64")]
    NotBase64,
    #[error("the client certificate holds no PEM certificate")]
    NoCertificate,
    #[error("the client certificate is not a valid X.509 certificate")]
    NotX509,
    #[error("the client certificate's expiry date is out of range")]
    OutOfRange,
}

/// The notAfter of the first certificate in `client-certificate-data`
/// (base64 of PEM, possibly a chain).
pub fn not_after(client_certificate_data_base64: &str) -> Result<DateTime<Utc>, CertError> {
    let pem_text = base64::engine::general_purpose::STANDARD
        .decode(client_certificate_data_base64.trim())
        .map_err(|_| CertError::NotBase64)?;
    let pem = Pem::iter_from_buffer(&pem_text)
        .map_while(Result::ok)
        .find(|pem| pem.label == "CERTIFICATE")
        .ok_or(CertError::NoCertificate)?;
    let certificate = pem.parse_x509().map_err(|_| CertError::NotX509)?;
    let seconds = certificate.validity().not_after.timestamp();
    DateTime::from_timestamp(seconds, 0).ok_or(CertError::OutOfRange)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A self-signed EC certificate made with openssl, valid until
    /// 2046-11-18T09:26:01Z.
    pub(crate) const CLIENT_CERT_PEM: &str = include_str!("testdata/client-cert.pem");

    pub(crate) fn client_cert_base64() -> String {
        base64::engine::general_purpose::STANDARD.encode(CLIENT_CERT_PEM)
    }

    #[test]
    fn reads_the_not_after_date() {
        let expected = DateTime::parse_from_rfc3339("2046-11-18T09:26:01Z").unwrap();
        assert_eq!(not_after(&client_cert_base64()).unwrap(), expected);
    }

    #[test]
    fn takes_the_first_certificate_of_a_chain() {
        let other = CLIENT_CERT_PEM.replace("CERTIFICATE", "PRIVATE KEY");
        let chain = format!("{other}{CLIENT_CERT_PEM}");
        let encoded = base64::engine::general_purpose::STANDARD.encode(chain);
        assert_eq!(
            not_after(&encoded).unwrap().to_rfc3339(),
            "2046-11-18T09:26:01+00:00"
        );
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(not_after("%%%"), Err(CertError::NotBase64));
        let not_pem = base64::engine::general_purpose::STANDARD.encode("hello");
        assert_eq!(not_after(&not_pem), Err(CertError::NoCertificate));
        let garbage = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        let encoded = base64::engine::general_purpose::STANDARD.encode(garbage);
        assert_eq!(not_after(&encoded), Err(CertError::NotX509));
    }
}
