//! Merging one fetched cluster into large kubeconfigs: parse + merge +
//! serialize, in memory. The write path (lock, fsync, rename) is timed by
//! a separate whole-process script.

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use kubefetch::kubeconfig::{
    merge, normalize, Fetched, Kubeconfig, MergeOptions, NormalizeInput, Provenance,
};

/// Sizes of real base64 blobs: an RSA CA certificate, a client certificate
/// and its key.
const CA_CHARS: usize = 1_100;
const CERT_CHARS: usize = 1_640;
const KEY_CHARS: usize = 1_380;

/// Deterministic base64-looking text, different for every seed.
fn blob(seed: u64, chars: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..chars)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ALPHABET[(state % 64) as usize] as char
        })
        .collect()
}

/// A kubeconfig of `contexts` clusters, every other one written by kubefetch.
fn kubeconfig_with(contexts: usize) -> String {
    let mut clusters = String::from("clusters:\n");
    let mut users = String::from("users:\n");
    let mut ctxs = String::from("contexts:\n");
    for i in 0..contexts {
        let seed = i as u64 * 3;
        let name = format!("tke-cls-{i:06}");
        clusters.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: https://10.{}.{}.1:443\n    certificate-authority-data: {}\n",
            i / 256 % 256,
            i % 256,
            blob(seed, CA_CHARS)
        ));
        users.push_str(&format!(
            "- name: {name}\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
            blob(seed + 1, CERT_CHARS),
            blob(seed + 2, KEY_CHARS)
        ));
        ctxs.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n    namespace: default\n"
        ));
        if i % 2 == 0 {
            ctxs.push_str(&format!(
                "    extensions:\n    - name: kubefetch\n      extension:\n        provider: tke\n        \
                 clusterId: cls-{i:06}\n        region: ap-guangzhou\n        private: false\n        \
                 fetchedAt: \"2026-01-01T00:00:00Z\"\n        expiresAt: \"2046-01-01T00:00:00Z\"\n"
            ));
        }
    }
    format!(
        "apiVersion: v1\nkind: Config\npreferences: {{}}\n{clusters}{users}{ctxs}current-context: tke-cls-000000\n"
    )
}

/// A freshly fetched cluster that replaces the kubefetch context in the
/// middle of the file.
fn fetched(contexts: usize) -> Fetched {
    let i = contexts / 2 / 2 * 2;
    let raw = Kubeconfig::parse(&format!(
        "clusters: [{{name: cls, cluster: {{server: 'https://1.2.3.4:443', certificate-authority-data: {}}}}}]\n\
         users: [{{name: admin, user: {{client-certificate-data: {}, client-key-data: {}}}}}]\n\
         contexts: [{{name: cls-context, context: {{cluster: cls, user: admin}}}}]\n",
        blob(1, CA_CHARS),
        blob(2, CERT_CHARS),
        blob(3, KEY_CHARS)
    ))
    .expect("the fetched fixture parses");
    let at = |text| {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    };
    normalize(
        &raw,
        NormalizeInput {
            source_context: None,
            name: format!("tke-cls-{i:06}"),
            allow_insecure: false,
            provenance: Provenance {
                provider: "tke".into(),
                cluster_id: format!("cls-{i:06}"),
                region: Some("ap-guangzhou".into()),
                private: false,
                fetched_at: at("2026-11-22T10:00:00Z"),
                expires_at: Some(at("2046-11-22T10:00:00Z")),
                ..Provenance::default()
            },
        },
    )
    .expect("the fetched fixture normalizes")
}

fn merge_into_large_files(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_merge_serialize");
    group.sample_size(10);
    for contexts in [50, 500, 5_000] {
        let text = kubeconfig_with(contexts);
        let new = [fetched(contexts)];
        let opts = MergeOptions {
            force: false,
            switch_to: Some(new[0].name.clone()),
        };
        group.bench_with_input(BenchmarkId::from_parameter(contexts), &text, |b, text| {
            b.iter(|| {
                let mut config = Kubeconfig::parse(text).expect("the fixture parses");
                let report = merge(&mut config, &new, &opts).expect("the merge succeeds");
                assert_eq!(report.replaced.len(), 1);
                black_box(config.to_yaml())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, merge_into_large_files);
criterion_main!(benches);
