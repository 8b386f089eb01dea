//! Any kubeconfig text that parses survives a merge of one fetched entry
//! and a write: the written text parses back to exactly what was written,
//! and writing it again gives the same text.

#![no_main]

use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use kubefetch::kubeconfig::{
    merge, normalize, owned_by_kubefetch, Fetched, Kubeconfig, MergeOptions, NormalizeInput,
    Provenance,
};
use libfuzzer_sys::fuzz_target;

/// The shape every provider's answer takes after `normalize`.
const FETCHED_ANSWER: &str = "\
clusters: [{name: kubernetes, cluster: {server: 'https://10.0.0.1:6443', certificate-authority-data: Q0E=}}]
users: [{name: admin, user: {token: fuzz-token}}]
contexts: [{name: only, context: {cluster: kubernetes, user: admin}}]
";

/// Same name as the entry the seeds hold, so merges replace as well as add.
const ENTRY_NAME: &str = "tke-cls-fuzz";

fn fetched() -> &'static Fetched {
    static FETCHED: OnceLock<Fetched> = OnceLock::new();
    FETCHED.get_or_init(|| {
        let raw = Kubeconfig::parse(FETCHED_ANSWER).expect("the fixed answer parses");
        let input = NormalizeInput {
            source_context: None,
            name: ENTRY_NAME.to_owned(),
            allow_insecure: false,
            provenance: Provenance {
                provider: "tke".to_owned(),
                cluster_id: "cls-fuzz".to_owned(),
                region: Some("ap-guangzhou".to_owned()),
                private: false,
                fetched_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
                expires_at: None,
                ..Provenance::default()
            },
        };
        normalize(&raw, input).expect("the fixed answer normalizes")
    })
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the merge options, the rest is the file.
    let Some((&flags, text)) = data.split_first() else {
        return;
    };
    let Ok(mut config) = Kubeconfig::parse_bytes(text.to_vec()) else {
        return;
    };
    let before = config.clone();
    let opts = MergeOptions {
        force: flags & 1 != 0,
        switch_to: (flags & 2 != 0).then(|| ENTRY_NAME.to_owned()),
    };
    let fetched = fetched();
    match merge(&mut config, std::slice::from_ref(fetched), &opts) {
        Ok(_) => {
            let context = config
                .contexts
                .iter()
                .find(|c| c.name == ENTRY_NAME)
                .expect("a merged context is present");
            assert!(owned_by_kubefetch(context).is_some());
            assert!(config.clusters.iter().any(|c| c.name == ENTRY_NAME));
            assert!(config.users.iter().any(|u| u.name == ENTRY_NAME));
        }
        Err(_) => assert_eq!(config, before, "a refused merge changed the file"),
    }

    let written = config.to_yaml();
    let reparsed = match Kubeconfig::parse(&written) {
        Ok(reparsed) => reparsed,
        Err(e) => panic!("written kubeconfig does not parse back ({e}):\n{written}"),
    };
    assert_eq!(
        reparsed, config,
        "round trip changed the kubeconfig:\n{written}"
    );
    assert_eq!(reparsed.to_yaml(), written, "writing is not stable");
});
