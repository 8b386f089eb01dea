//! Every provider's reading of an HTTP answer never panics, whatever the
//! status, headers and body, and never asks to wait longer than the cap.
//!
//! Input: one byte picks the parser, two the status, one a header and
//! the length of its value; the value follows, the body is the rest.

#![no_main]

use std::time::Duration;

use kubefetch::http::Response;
use kubefetch::provider::error::Verdict;
use kubefetch::provider::alibaba::api as ack;
use kubefetch::provider::huawei::api::{self as huawei, Subject};
use kubefetch::provider::tencent::api as tke;
use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// The headers the parsers read.
const HEADERS: [&str; 5] = [
    "retry-after",
    "x-acs-retry-after",
    "x-acs-request-id",
    "x-request-id",
    "x-subject-token",
];

/// `http::retry_after` never asks for more than this.
const LONGEST_WAIT: Duration = Duration::from_secs(3600);

const UCS: Subject<'static> = Subject {
    service: "UCS",
    cluster_id: Some("4d5e6f70-1a2b-11ee-8c90-0255ac100001"),
    credential_hint: "check the credentials",
};

const CCE: Subject<'static> = Subject {
    service: "CCE",
    cluster_id: Some("4d5e6f70-1a2b-11ee-8c90-0255ac100002"),
    credential_hint: "check the credentials",
};

const IAM: Subject<'static> = Subject {
    service: "IAM",
    cluster_id: None,
    credential_hint: "check the password",
};

fn response(data: &[u8]) -> Option<(u8, Response)> {
    let (&[parser, status_high, status_low, header], rest) = data.split_first_chunk::<4>()?;
    let value_len = usize::from(header >> 3).min(rest.len());
    let (value, body) = rest.split_at(value_len);
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(value) {
        let name = HEADERS[usize::from(header & 7) % HEADERS.len()];
        headers.insert(HeaderName::from_static(name), value);
    }
    let response = Response {
        status: u16::from_be_bytes([status_high, status_low]),
        headers,
        body: body.to_vec(),
    };
    Some((parser, response))
}

/// Exercises the error's rendering too: it is what the user reads.
fn check<T>(verdict: Verdict<T>) {
    match verdict {
        Verdict::Done(_) => {}
        Verdict::Retry { error, after } => {
            assert!(after.is_none_or(|wait| wait <= LONGEST_WAIT), "{after:?}");
            let _ = error.to_string();
        }
        Verdict::Fail(error) => {
            let _ = error.to_string();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((parser, response)) = response(data) else {
        return;
    };
    match parser % 5 {
        0 => match tke::judge(response, "cls-fuzz", "ap-guangzhou") {
            Verdict::Done(answer) => assert!(!answer.text.trim().is_empty()),
            other => check(other),
        },
        1 => match ack::judge(response, "c0ffee", "cn-hangzhou") {
            Verdict::Done(answer) => assert!(!answer.text.trim().is_empty()),
            other => check(other),
        },
        2 => check(huawei::judge_kubeconfig(response, &UCS, &[200])),
        3 => check(huawei::judge_cert_post(response, &CCE)),
        _ => check(huawei::failure::<()>(&response, &IAM)),
    }
});
