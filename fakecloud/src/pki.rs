//! The fake cloud's certificate authority: it signs the kube API server's certificate
//! and every client certificate a kubeconfig carries, so kubectl can really connect.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kubefetch::secret::Secret;
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot create a certificate")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot configure the kube API server's TLS")]
    Tls(#[from] rustls::Error),
    #[error("cannot build the client certificate verifier")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error("certificate validity outside the representable range")]
    Validity,
}

/// A client certificate and its private key, both PEM.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: Secret,
}

pub struct Pki {
    ca: Certificate,
    ca_key: KeyPair,
    server: Certificate,
    server_key: KeyPair,
}

impl Pki {
    pub fn new() -> Result<Pki, PkiError> {
        let now = Utc::now();
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "fakecloud CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        // Long enough for every client certificate it signs (TKE: 20 years).
        set_validity(
            &mut ca_params,
            now - chrono::Duration::days(1),
            now + chrono::Duration::days(365 * 30),
        )?;
        let ca = ca_params.self_signed(&ca_key)?;

        let server_key = KeyPair::generate()?;
        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        set_validity(
            &mut server_params,
            now - chrono::Duration::days(1),
            now + chrono::Duration::days(365 * 10),
        )?;
        let server = server_params.signed_by(&server_key, &ca, &ca_key)?;
        Ok(Pki {
            ca,
            ca_key,
            server,
            server_key,
        })
    }

    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// A client certificate with this common name, valid exactly from `not_before` to
    /// `not_after`.
    pub fn issue_client(
        &self,
        common_name: &str,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<Issued, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "system:masters");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        set_validity(&mut params, not_before, not_after)?;
        let cert = params.signed_by(&key, &self.ca, &self.ca_key)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: Secret::new(key.serialize_pem()),
        })
    }

    /// TLS for the kube API: the server certificate for 127.0.0.1 and localhost, and
    /// client certificates checked against the CA. A client without a certificate may
    /// connect (it is answered 401, as the real API server does); one with a certificate
    /// from elsewhere fails the handshake.
    pub fn kube_server_config(&self) -> Result<rustls::ServerConfig, PkiError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.der().clone())?;
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .allow_unauthenticated()
                .build()?;
        let chain: Vec<CertificateDer<'static>> = vec![self.server.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.serialize_der()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

fn set_validity(
    params: &mut CertificateParams,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<(), PkiError> {
    let convert = |t: DateTime<Utc>| {
        time::OffsetDateTime::from_unix_timestamp(t.timestamp()).map_err(|_| PkiError::Validity)
    };
    params.not_before = convert(not_before)?;
    params.not_after = convert(not_after)?;
    Ok(())
}
