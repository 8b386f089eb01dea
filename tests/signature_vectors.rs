//! Every signer against every vector in tests/vectors: the requests the
//! official SDKs signed (listed in index.json) and the vendors' published
//! worked examples (published.json). Each stage is compared on its own, so a
//! failure names the vector and the first stage that differs.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use kubefetch::secret::Secret;
use kubefetch::sign::{acs3, roa, sdk_hmac, tc3, Signed};

const TC3: &str = "TC3-HMAC-SHA256";
const ACS3: &str = "ACS3-HMAC-SHA256";
const ROA: &str = "ACS-HMAC-SHA1";
const SDK_HMAC: &str = "SDK-HMAC-SHA256";
const COVERED_SCHEMES: [&str; 4] = [TC3, ACS3, ROA, SDK_HMAC];

/// Credential fields that are secret: they must never show in a signer's
/// output, unlike the key ids.
const SECRET_CREDENTIALS: [&str; 5] = [
    "secret_key",
    "access_key_secret",
    "sk",
    "token",
    "security_token",
];

#[derive(Deserialize)]
struct Index {
    vectors: Vec<IndexEntry>,
}

#[derive(Deserialize)]
struct IndexEntry {
    name: String,
    file: String,
    scheme: String,
    authorization: String,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    scheme: String,
    inputs: Inputs,
    canonical_request: Option<String>,
    string_to_sign: Option<String>,
    signed_headers: Option<String>,
    signature: Option<String>,
    authorization: Option<String>,
}

#[derive(Deserialize)]
struct Inputs {
    method: String,
    host: String,
    path: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    query_params: Vec<(String, String)>,
    headers: BTreeMap<String, String>,
    body: String,
    credentials: BTreeMap<String, String>,
    timestamp: Option<i64>,
    date: Option<String>,
    service: Option<String>,
    nonce: Option<String>,
    action: Option<String>,
    version: Option<String>,
    x_sdk_date: Option<String>,
}

impl Inputs {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn header_pairs(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    fn credential(&self, vector: &str, key: &str) -> &str {
        self.credentials
            .get(key)
            .unwrap_or_else(|| panic!("{vector}: inputs.credentials.{key} is missing"))
    }

    fn timestamp(&self, vector: &str) -> i64 {
        self.timestamp
            .unwrap_or_else(|| panic!("{vector}: inputs.timestamp is missing"))
    }

    fn time(&self, vector: &str) -> DateTime<Utc> {
        DateTime::from_timestamp(self.timestamp(vector), 0).expect("a valid timestamp")
    }
}

fn required<'a>(vector: &str, field: &str, value: &'a Option<String>) -> &'a str {
    value
        .as_deref()
        .unwrap_or_else(|| panic!("{vector}: inputs.{field} is missing"))
}

/// What a signer produced, in the shape of a vector's stages; `debug` is the
/// signer output's Debug text, checked for secrets.
struct Stages {
    canonical_request: Option<String>,
    string_to_sign: String,
    signed_headers: Option<String>,
    signature: String,
    authorization: String,
    debug: String,
}

impl From<Signed> for Stages {
    fn from(signed: Signed) -> Self {
        Stages {
            debug: format!("{signed:?}"),
            canonical_request: Some(signed.canonical_request.to_string()),
            string_to_sign: signed.string_to_sign.to_string(),
            signed_headers: Some(signed.signed_headers),
            signature: signed.signature,
            authorization: signed.authorization,
        }
    }
}

impl From<roa::RoaSigned> for Stages {
    fn from(signed: roa::RoaSigned) -> Self {
        Stages {
            debug: format!("{signed:?}"),
            canonical_request: None,
            string_to_sign: signed.string_to_sign.to_string(),
            signed_headers: None,
            signature: signed.signature,
            authorization: signed.authorization,
        }
    }
}

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn read_json<T: serde::de::DeserializeOwned>(file: &str) -> T {
    let path = vectors_dir().join(file);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn index() -> Index {
    read_json("index.json")
}

/// Every vector: the SDK-signed ones from index.json, then published.json.
fn all_vectors() -> Vec<Vector> {
    let mut vectors: Vec<Vector> = index()
        .vectors
        .iter()
        .map(|entry| read_json(&entry.file))
        .collect();
    vectors.extend(read_json::<Vec<Vector>>("published.json"));
    vectors
}

fn sign_tc3(v: &Vector) -> Stages {
    let inputs = &v.inputs;
    let name = &v.name;
    let timestamp = inputs.timestamp(name);
    assert_eq!(
        inputs.header("X-TC-Timestamp"),
        Some(timestamp.to_string().as_str()),
        "{name}: X-TC-Timestamp header is the signed timestamp"
    );
    let host = inputs.header("Host").unwrap_or(inputs.host.as_str());
    assert_eq!(host, inputs.host, "{name}: Host header is inputs.host");
    let request = tc3::Tc3Request {
        method: &inputs.method,
        host,
        query: &inputs.query,
        content_type: inputs
            .header("Content-Type")
            .unwrap_or_else(|| panic!("{name}: a TC3 request sends a Content-Type")),
        payload: inputs.body.as_bytes(),
        service: required(name, "service", &inputs.service),
        timestamp,
    };
    let secret = Secret::new(inputs.credential(name, "secret_key"));
    tc3::sign(&request, inputs.credential(name, "secret_id"), &secret).into()
}

fn sign_acs3(v: &Vector) -> Stages {
    let inputs = &v.inputs;
    let name = &v.name;
    let headers = inputs.header_pairs();
    let token = inputs
        .credentials
        .get("security_token")
        .map(|t| Secret::new(t.as_str()));

    // The SDK-made vectors carry the time and nonce they were signed with:
    // our standard headers must be exactly the ones the SDK sent.
    if let Some(nonce) = &inputs.nonce {
        let standard = acs3::standard_headers(
            &inputs.host,
            required(name, "action", &inputs.action),
            required(name, "version", &inputs.version),
            inputs.time(name),
            nonce,
            inputs.body.as_bytes(),
            token.as_ref(),
        );
        for (header, value) in &standard {
            assert_eq!(
                inputs.header(header),
                Some(value.as_str()),
                "{name}: standard header {header}"
            );
        }
    }

    let request = acs3::Acs3Request {
        method: &inputs.method,
        path: &inputs.path,
        query: &inputs.query_params,
        headers: &headers,
        body: inputs.body.as_bytes(),
    };
    let secret = Secret::new(inputs.credential(name, "access_key_secret"));
    acs3::sign(&request, inputs.credential(name, "access_key_id"), &secret).into()
}

fn sign_roa(v: &Vector) -> Stages {
    let inputs = &v.inputs;
    let name = &v.name;
    let date = required(name, "date", &inputs.date);
    assert_eq!(
        roa::http_date(inputs.time(name)),
        date,
        "{name}: Date header from the timestamp"
    );
    assert_eq!(
        inputs.header("date"),
        Some(date),
        "{name}: Date header sent"
    );
    let headers = inputs.header_pairs();
    let request = roa::RoaRequest {
        method: &inputs.method,
        accept: inputs.header("accept").unwrap_or(""),
        content_md5: inputs.header("content-md5").unwrap_or(""),
        content_type: inputs.header("content-type").unwrap_or(""),
        date,
        headers: &headers,
        path: &inputs.path,
        query: &inputs.query_params,
    };
    let secret = Secret::new(inputs.credential(name, "access_key_secret"));
    roa::sign(&request, inputs.credential(name, "access_key_id"), &secret).into()
}

fn sign_sdk_hmac(v: &Vector) -> Stages {
    let inputs = &v.inputs;
    let name = &v.name;
    if let Some(x_sdk_date) = &inputs.x_sdk_date {
        assert_eq!(
            &sdk_hmac::sdk_date(inputs.time(name)),
            x_sdk_date,
            "{name}: X-Sdk-Date from the timestamp"
        );
    }
    let mut headers = inputs.header_pairs();
    // The SDK signer tests hand it no Host: the SDK adds the one it sends.
    if inputs.header("Host").is_none() {
        headers.push(("Host".to_string(), inputs.host.clone()));
    }
    let request = sdk_hmac::SdkHmacRequest {
        method: &inputs.method,
        path: &inputs.path,
        query: &inputs.query_params,
        headers: &headers,
        body: inputs.body.as_bytes(),
    };
    let secret = Secret::new(inputs.credential(name, "sk"));
    sdk_hmac::sign(&request, inputs.credential(name, "ak"), &secret).into()
}

fn sign_vector(v: &Vector) -> Stages {
    match v.scheme.as_str() {
        TC3 => sign_tc3(v),
        ACS3 => sign_acs3(v),
        ROA => sign_roa(v),
        SDK_HMAC => sign_sdk_hmac(v),
        other => panic!("{}: no signer test covers scheme {other}", v.name),
    }
}

/// Compares one stage when the vector records it. A published example may
/// leave a stage out; the SDK vectors never do (see
/// `index_covers_every_vector_file`), and a stage the signer lacks (ROA has
/// no canonical request) fails when the vector records one.
fn assert_stage(vector: &str, stage: &str, got: Option<&str>, want: Option<&str>) {
    if want.is_some() {
        assert_eq!(got, want, "{vector}: stage '{stage}' differs");
    }
}

/// Signs every vector of `scheme` and compares each stage in turn.
fn check_scheme(scheme: &str) {
    let vectors: Vec<Vector> = all_vectors()
        .into_iter()
        .filter(|v| v.scheme == scheme)
        .collect();
    assert!(!vectors.is_empty(), "no vectors for {scheme}");
    for v in &vectors {
        let got = sign_vector(v);
        let stages = [
            (
                "canonical request",
                got.canonical_request.as_deref(),
                &v.canonical_request,
            ),
            (
                "string to sign",
                Some(got.string_to_sign.as_str()),
                &v.string_to_sign,
            ),
            (
                "signed headers",
                got.signed_headers.as_deref(),
                &v.signed_headers,
            ),
            ("signature", Some(got.signature.as_str()), &v.signature),
            (
                "authorization",
                Some(got.authorization.as_str()),
                &v.authorization,
            ),
        ];
        for (stage, got, want) in stages {
            assert_stage(&v.name, stage, got, want.as_deref());
        }
    }
}

// Named `sign::...` so the usual filtered run (`cargo test --lib sign::
// --test signature_vectors`) selects these tests too.
mod sign {
    use super::*;

    #[test]
    fn tc3_matches_every_stage_of_every_vector() {
        check_scheme(TC3);
    }

    #[test]
    fn acs3_matches_every_stage_of_every_vector() {
        check_scheme(ACS3);
    }

    #[test]
    fn roa_matches_every_stage_of_every_vector() {
        check_scheme(ROA);
    }

    #[test]
    fn sdk_hmac_matches_every_stage_of_every_vector() {
        check_scheme(SDK_HMAC);
    }

    /// A vector file added to the folder or to index.json cannot be skipped:
    /// the folder's files and the index agree, every scheme is one a test above
    /// checks, and every SDK vector has all of its stages.
    #[test]
    fn index_covers_every_vector_file() {
        let index = index();
        let indexed: BTreeSet<String> = index.vectors.iter().map(|e| e.file.clone()).collect();
        assert_eq!(
            indexed.len(),
            index.vectors.len(),
            "index.json lists a file twice"
        );

        let on_disk: BTreeSet<String> = fs::read_dir(vectors_dir())
            .expect("tests/vectors is readable")
            .map(|entry| entry.expect("a directory entry").file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .filter(|name| {
                name.ends_with(".json") && name != "index.json" && name != "published.json"
            })
            .collect();
        assert_eq!(
            on_disk, indexed,
            "tests/vectors and index.json disagree on the vector files"
        );

        for entry in &index.vectors {
            assert!(
                COVERED_SCHEMES.contains(&entry.scheme.as_str()),
                "{}: scheme {} is not covered by a signer test",
                entry.file,
                entry.scheme
            );
            let v: Vector = read_json(&entry.file);
            assert_eq!(v.name, entry.name, "{}: name", entry.file);
            assert_eq!(v.scheme, entry.scheme, "{}: scheme", entry.file);
            assert_eq!(
                v.authorization.as_deref(),
                Some(entry.authorization.as_str()),
                "{}: authorization",
                entry.file
            );
            assert!(
                v.string_to_sign.is_some() && v.signature.is_some(),
                "{}: an SDK vector has every stage",
                entry.file
            );
            let full_stages = v.canonical_request.is_some() && v.signed_headers.is_some();
            assert_eq!(
            full_stages,
            entry.scheme != ROA,
            "{}: canonical request and signed headers are present exactly when the scheme has them",
            entry.file
        );
        }

        for v in read_json::<Vec<Vector>>("published.json") {
            assert!(
                COVERED_SCHEMES.contains(&v.scheme.as_str()),
                "published {}: scheme {} is not covered by a signer test",
                v.name,
                v.scheme
            );
        }
    }

    #[test]
    fn secrets_never_appear_in_debug_or_authorization() {
        for v in all_vectors() {
            let got = sign_vector(&v);
            for key in SECRET_CREDENTIALS {
                let Some(secret) = v.inputs.credentials.get(key) else {
                    continue;
                };
                assert!(
                    !got.debug.contains(secret.as_str()),
                    "{}: Debug shows credentials.{key}",
                    v.name
                );
                assert!(
                    !got.authorization.contains(secret.as_str()),
                    "{}: Authorization shows credentials.{key}",
                    v.name
                );
            }
        }
    }

    /// The STS token is signed, so it is inside the canonical request text;
    /// the check above would pass vacuously if no vector had one.
    #[test]
    fn a_signed_security_token_stays_out_of_debug() {
        let v: Vector = read_json("acs3_get_user_config_sts.json");
        let token = v.inputs.credential(&v.name, "security_token");
        let got = sign_vector(&v);
        assert!(got
            .canonical_request
            .as_deref()
            .is_some_and(|text| text.contains(token)));
        assert!(!got.debug.contains(token), "{}", got.debug);
    }
}
