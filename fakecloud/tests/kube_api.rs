//! The TLS kube API accepts exactly the client certificates the fake cloud issued.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::*;
use fakecloud::fixtures::*;
use fakecloud::FakeCloud;

/// The client certificate and key (PEM) of a fresh TKE kubeconfig.
async fn identity_pem(cloud: &FakeCloud) -> String {
    let (_, body) = tke(cloud, TKE_CLUSTER, true).await;
    let config: serde_json::Value =
        kubefetch::yaml::read_first(body["Response"]["Kubeconfig"].as_str().unwrap()).unwrap();
    let user = &config["users"][0]["user"];
    let decode = |key: &str| {
        String::from_utf8(STANDARD.decode(user[key].as_str().unwrap()).unwrap()).unwrap()
    };
    decode("client-certificate-data") + &decode("client-key-data")
}

fn kube_client(cloud: &FakeCloud, identity: Option<&str>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(cloud.ca_pem().as_bytes()).unwrap();
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca);
    if let Some(pem) = identity {
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn version_needs_a_client_certificate_from_the_fake_ca() {
    let cloud = FakeCloud::start();
    let anonymous = kube_client(&cloud, None);
    let response = anonymous
        .get(format!("{}/version", cloud.kube_url(false)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "no client certificate");

    let identity = identity_pem(&cloud).await;
    let client = kube_client(&cloud, Some(&identity));
    for private in [false, true] {
        let response = client
            .get(format!("{}/version", cloud.kube_url(private)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let version = json(&response.bytes().await.unwrap());
        assert_eq!(version["gitVersion"], "v1.30.0");
    }
    let other = client
        .get(format!("{}/api/v1/secrets", cloud.kube_url(false)))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);

    let elsewhere = FakeCloud::start();
    let stranger = kube_client(&cloud, Some(&identity_pem(&elsewhere).await));
    let result = stranger
        .get(format!("{}/version", cloud.kube_url(false)))
        .send()
        .await;
    assert!(
        result.is_err(),
        "a certificate from another CA fails the handshake"
    );
}

/// kubectl itself uses a fetched context (skipped with a message where kubectl is missing;
/// a failure in CI).
#[tokio::test]
async fn kubectl_gets_the_version_with_a_fetched_kubeconfig() {
    let kubectl_present = std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success());
    if !kubectl_present {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "kubectl is required in CI"
        );
        eprintln!("skipped: kubectl is not installed");
        return;
    }
    let cloud = FakeCloud::start();
    let (_, body) = tke(&cloud, TKE_CLUSTER, true).await;
    let dir = std::env::temp_dir().join(format!("fakecloud-kubectl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config");
    std::fs::write(&file, body["Response"]["Kubeconfig"].as_str().unwrap()).unwrap();
    let context = format!("{TKE_CLUSTER}-{TENCENT_UIN}-context-default");
    let output = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&file)
        .args(["--context", &context, "get", "--raw", "/version"])
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("v1.30.0"));
}
