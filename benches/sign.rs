//! Signing one request with each scheme, vector-sized inputs.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use kubefetch::secret::Secret;
use kubefetch::sign::{acs3, sdk_hmac, tc3};

fn signers(c: &mut Criterion) {
    let secret = Secret::new("fakecloudBenchmarkSecretKey00000001");
    let body = br#"{"ClusterId":"cls-65r1c5nu","IsExtranet":true}"#;
    c.bench_function("tc3 sign", |b| {
        b.iter(|| {
            tc3::sign(
                black_box(&tc3::Tc3Request {
                    method: "POST",
                    host: "tke.tencentcloudapi.com",
                    query: "",
                    content_type: "application/json",
                    payload: body,
                    service: "tke",
                    timestamp: 1_700_000_000,
                }),
                "AKIDbenchmark",
                &secret,
            )
        })
    });

    let date = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    let query = vec![
        ("PrivateIpAddress".to_string(), "false".to_string()),
        ("TemporaryDurationMinutes".to_string(), "60".to_string()),
    ];
    let headers = acs3::standard_headers(
        "cs.cn-hangzhou.aliyuncs.com",
        "DescribeClusterUserKubeconfig",
        "2015-12-15",
        date,
        "3f6c0c8a2b5e4d1f9a7b6c5d4e3f2a1b",
        b"",
        None,
    );
    c.bench_function("acs3 sign", |b| {
        b.iter(|| {
            acs3::sign(
                black_box(&acs3::Acs3Request {
                    method: "GET",
                    path: "/k8s/c5b5e80b0b64a4bf6939d2d8fbbc5/user_config",
                    query: &query,
                    headers: &headers,
                    body: b"",
                }),
                "LTAIbenchmark",
                &secret,
            )
        })
    });

    let hw_headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        (
            "Host".to_string(),
            "cce.cn-north-4.myhuaweicloud.com".to_string(),
        ),
        (
            "X-Project-Id".to_string(),
            "0a1b2c3d4e5f60718293a4b5c6d7e8f9".to_string(),
        ),
        ("X-Sdk-Date".to_string(), sdk_hmac::sdk_date(date)),
    ];
    c.bench_function("sdk-hmac-sha256 sign", |b| {
        b.iter(|| {
            sdk_hmac::sign(
                black_box(&sdk_hmac::SdkHmacRequest {
                    method: "POST",
                    path: "/api/v3/projects/0a1b2c3d4e5f60718293a4b5c6d7e8f9/clusters/4d5e6f70-1a2b-11ee-8c90-0255ac100001/clustercert",
                    query: &[],
                    headers: &hw_headers,
                    body: br#"{"duration": -1}"#,
                }),
                "HWbenchmark",
                &secret,
            )
        })
    });
}

criterion_group!(benches, signers);
criterion_main!(benches);
