//! `normalize` on any kubeconfig text never panics and never lets through
//! what the provider's answer must not smuggle in: a non-https server, a
//! user that runs a command, a local file reference, or an unasked-for
//! TLS skip. What it returns survives a write and a re-read.

#![no_main]

use chrono::{TimeZone, Utc};
use kubefetch::kubeconfig::{normalize, standalone, Kubeconfig, NormalizeInput, Provenance};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte: bit 0 allows insecure TLS, bit 1 names a context
    // (chosen by the remaining bits) instead of taking the default one,
    // bit 7 leaves the expiry to the client certificate.
    let Some((&flags, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(raw) = Kubeconfig::parse(text) else {
        return;
    };
    let allow_insecure = flags & 1 != 0;
    let source_context = match raw.contexts.len() {
        n if n > 0 && flags & 2 != 0 => {
            Some(raw.contexts[usize::from(flags >> 2) % n].name.clone())
        }
        _ => None,
    };
    let input = NormalizeInput {
        source_context,
        name: "cce-fuzz".to_owned(),
        allow_insecure,
        provenance: Provenance {
            provider: "cce".to_owned(),
            cluster_id: "fuzz".to_owned(),
            region: None,
            private: false,
            fetched_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            // Without a stated expiry the client certificate is parsed.
            expires_at: (flags & 0x80 == 0)
                .then(|| Utc.with_ymd_and_hms(2026, 1, 3, 3, 4, 5).unwrap()),
            ..Provenance::default()
        },
    };
    let Ok(fetched) = normalize(&raw, input) else {
        return;
    };

    let server = fetched.server.as_str();
    assert!(
        server.len() > 8 && server[..8].eq_ignore_ascii_case("https://"),
        "non-https server {server:?} accepted"
    );
    let cluster = &fetched.cluster.cluster;
    assert_eq!(cluster.server.as_deref(), Some(server));
    assert!(cluster.certificate_authority.is_none());
    assert!(cluster.proxy_url.is_none());
    assert!(allow_insecure || cluster.insecure_skip_tls_verify.is_none());
    let user = &fetched.user.user;
    assert!(user.exec.is_none(), "a user that runs exec was accepted");
    assert!(
        user.auth_provider.is_none(),
        "an auth-provider user was accepted"
    );
    assert!(user.client_certificate.is_none() && user.client_key.is_none());
    assert!(user.token_file.is_none());
    assert!(user.token.is_some() || user.client_certificate_data.is_some());

    let config = standalone(std::slice::from_ref(&fetched));
    let written = config.to_yaml();
    assert_eq!(
        Kubeconfig::parse(&written).ok(),
        Some(config),
        "the normalized entry does not survive a write:\n{written}"
    );
});
