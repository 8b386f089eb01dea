//! The plain-HTTP server on 127.0.0.1 that answers every fake API on one port: it
//! records each request, applies the next matching fault and hands the request to
//! its provider.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;

use crate::huawei::{self, cce, iam, keyless, ucs};
use crate::model::{FaultKind, Provider, Recorded};
use crate::state::Shared;
use crate::wire::{ApiRequest, Reply};
use crate::{alibaba, alibaba_sts, tencent, tencent_sts};

/// Returned by the service to make hyper drop the connection without an answer.
#[derive(Debug, thiserror::Error)]
#[error("connection closed on purpose by an injected fault")]
struct ResetOnPurpose;

pub async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: wait instead of spinning.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(shared.clone(), req));
            // A client that hangs up or a deliberate reset ends the connection; both are fine.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, ResetOnPurpose> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => return Err(ResetOnPurpose),
    };
    let request = ApiRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let Some(provider) = provider_of(&request) else {
        let reply = Reply::json(404, &json!({"message": "no fake API at this path"}));
        return Ok(to_response(reply));
    };
    let cluster_id = cluster_id(provider, &request);
    let (index, fault) = {
        let mut state = shared.lock();
        let fault = state.take_fault(
            provider,
            cluster_id.as_deref(),
            &request.method,
            &request.path,
        );
        let index = state.record(Recorded {
            provider,
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
            cluster_id,
            status: 0,
        });
        (index, fault)
    };
    let reply = match fault {
        Some(FaultKind::ResetConnection) => return Err(ResetOnPurpose),
        Some(FaultKind::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            handle(provider, &shared, &request, None)
        }
        Some(kind) => with_fault(provider, &shared, &request, &kind),
        None => handle(provider, &shared, &request, None),
    };
    shared.lock().set_status(index, reply.status);
    Ok(to_response(reply))
}

/// Which API a request is for (they share one port): from the path, and at "/"
/// (TKE and both STS) from the action it names.
fn provider_of(req: &ApiRequest) -> Option<Provider> {
    let path = req.path.as_str();
    if path == "/" {
        if req.header("x-acs-action").is_some() || req.query_param("Action").is_some() {
            Some(Provider::AlibabaSts)
        } else if req
            .header("x-tc-action")
            .is_some_and(tencent_sts::is_sts_action)
        {
            Some(Provider::TencentSts)
        } else {
            Some(Provider::Tke)
        }
    } else if path.starts_with("/latest/api/") || path.starts_with("/latest/meta-data/ram/") {
        Some(Provider::AlibabaMetadata)
    } else if path.starts_with("/latest/meta-data/cam/") {
        Some(Provider::TencentMetadata)
    } else if path.starts_with("/meta-data/") || path.starts_with("/openstack/") {
        Some(Provider::HuaweiMetadata)
    } else if path.starts_with("/k8s/") || path == "/api/v1/clusters" {
        Some(Provider::Ack)
    } else if path.starts_with("/api/v3/") {
        Some(Provider::Cce)
    } else if path.starts_with("/v1/") {
        Some(Provider::Ucs)
    } else if path.starts_with("/v3/") || path.starts_with("/v3.0/") {
        Some(Provider::Iam)
    } else {
        None
    }
}

fn cluster_id(provider: Provider, req: &ApiRequest) -> Option<String> {
    match provider {
        Provider::Tke => tencent::cluster_id(req),
        Provider::Ack => alibaba::cluster_id(req),
        Provider::Cce => cce::cluster_id(req),
        Provider::Ucs => ucs::cluster_id(req),
        Provider::Iam
        | Provider::AlibabaSts
        | Provider::TencentSts
        | Provider::AlibabaMetadata
        | Provider::TencentMetadata
        | Provider::HuaweiMetadata => None,
    }
}

fn handle(
    provider: Provider,
    shared: &Shared,
    req: &ApiRequest,
    fault: Option<&FaultKind>,
) -> Reply {
    match provider {
        Provider::Tke => tencent::handle(shared, req, fault),
        Provider::Ack => alibaba::handle(shared, req, fault),
        Provider::Cce => cce::handle(shared, req, fault),
        Provider::Ucs => ucs::handle(shared, req, fault),
        Provider::Iam => iam::handle(shared, req),
        Provider::AlibabaSts => alibaba_sts::handle(shared, req),
        Provider::TencentSts => tencent_sts::handle(shared, req),
        Provider::AlibabaMetadata => alibaba_sts::metadata(shared, req),
        Provider::TencentMetadata => tencent_sts::metadata(shared, req),
        Provider::HuaweiMetadata => keyless::metadata(shared, req),
    }
}

const INJECTED: &str = "injected by the fake cloud";

fn with_fault(provider: Provider, shared: &Shared, req: &ApiRequest, kind: &FaultKind) -> Reply {
    match kind {
        FaultKind::Status(status) => status_error(provider, *status),
        FaultKind::Error { status, code } => coded_error(provider, *status, code),
        FaultKind::Throttle { retry_after } => match provider {
            Provider::Tke | Provider::TencentSts => tencent::throttle(),
            Provider::Ack | Provider::AlibabaSts => alibaba::throttle(*retry_after),
            Provider::Cce | Provider::Ucs | Provider::Iam => huawei::throttle(*retry_after),
            Provider::AlibabaMetadata | Provider::TencentMetadata | Provider::HuaweiMetadata => {
                metadata_error(429)
            }
        },
        FaultKind::TruncatedBody => {
            let mut reply = malformed(handle(provider, shared, req, None));
            let half = reply.body.len() / 2;
            reply.body.truncate(half);
            reply
        }
        FaultKind::EmptyBody => {
            let mut reply = malformed(handle(provider, shared, req, None));
            reply.body.clear();
            reply
        }
        FaultKind::MissingFields => missing_fields(provider, req),
        FaultKind::Oversized(size) => Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: filler(*size),
        },
        FaultKind::Delay(_) | FaultKind::ResetConnection => handle(provider, shared, req, None),
        FaultKind::NotYamlKubeconfig
        | FaultKind::ExecUserKubeconfig
        | FaultKind::HttpServerKubeconfig
        | FaultKind::UnresolvableServer
        | FaultKind::LegacyOnly
        | FaultKind::DownloadedMarker => handle(provider, shared, req, Some(kind)),
    }
}

/// A malformed answer keeps a success status and is 200 otherwise.
fn malformed(mut reply: Reply) -> Reply {
    if !reply.is_success() {
        reply.status = 200;
    }
    reply
}

fn status_error(provider: Provider, status: u16) -> Reply {
    match provider {
        Provider::Tke => tencent::error(status, tencent::code_for_status(status), INJECTED),
        Provider::Ack => alibaba::error(status, alibaba::code_for_status(status), INJECTED),
        Provider::Cce => cce::error(status, &cce::code_for_status(status), INJECTED),
        Provider::Ucs => ucs::error(status, &ucs::code_for_status(status), INJECTED),
        Provider::Iam => iam::error(status, INJECTED),
        Provider::AlibabaSts => alibaba::error(status, alibaba::code_for_status(status), INJECTED),
        Provider::TencentSts => tencent::error(status, tencent::code_for_status(status), INJECTED),
        Provider::AlibabaMetadata | Provider::TencentMetadata | Provider::HuaweiMetadata => {
            metadata_error(status)
        }
    }
}

/// Metadata services answer errors as plain text, without codes.
fn metadata_error(status: u16) -> Reply {
    Reply::text(status, &format!("{status} {INJECTED}"))
}

fn coded_error(provider: Provider, status: u16, code: &str) -> Reply {
    match provider {
        Provider::Tke | Provider::TencentSts => tencent::error(status, code, INJECTED),
        Provider::Ack | Provider::AlibabaSts => alibaba::error(status, code, INJECTED),
        Provider::Cce => cce::error(status, code, INJECTED),
        Provider::Ucs | Provider::Iam => huawei::gateway_error(status, code, INJECTED),
        Provider::AlibabaMetadata | Provider::TencentMetadata | Provider::HuaweiMetadata => {
            metadata_error(status)
        }
    }
}

fn missing_fields(provider: Provider, req: &ApiRequest) -> Reply {
    match provider {
        Provider::Tke => tencent::missing_fields(),
        Provider::Ack => alibaba::missing_fields(),
        Provider::Cce | Provider::Ucs => huawei::reply(
            200,
            &json!({"kind": "Config", "apiVersion": "v1", "preferences": {}}),
        ),
        // A token answer without X-Subject-Token; other IAM answers without their list.
        Provider::Iam if req.method == "POST" => {
            huawei::reply(201, &json!({"token": {"methods": ["password"]}}))
        }
        Provider::Iam => huawei::reply(200, &json!({})),
        // An STS or metadata answer that says success but holds no credentials.
        Provider::AlibabaSts => Reply::json(200, &json!({"RequestId": crate::wire::random_uuid()})),
        Provider::TencentSts => Reply::json(
            200,
            &json!({"Response": {"RequestId": crate::wire::random_uuid()}}),
        ),
        Provider::AlibabaMetadata | Provider::TencentMetadata | Provider::HuaweiMetadata => {
            Reply::json(200, &json!({}))
        }
    }
}

/// A JSON document of exactly `size` bytes (plain spaces when too small for one).
fn filler(size: usize) -> Vec<u8> {
    const HEAD: &[u8] = b"{\"padding\":\"";
    const TAIL: &[u8] = b"\"}";
    if size < HEAD.len() + TAIL.len() {
        return vec![b' '; size];
    }
    let mut body = HEAD.to_vec();
    body.resize(size - TAIL.len(), b'a');
    body.extend_from_slice(TAIL);
    body
}

fn to_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::filler;

    #[test]
    fn filler_has_exactly_the_requested_size_and_is_json_when_it_can_be() {
        for size in [0, 5, 14, 15, 1000, 3 * 1024 * 1024] {
            let body = filler(size);
            assert_eq!(body.len(), size);
            if size >= 14 {
                serde_json::from_slice::<serde_json::Value>(&body).expect("valid JSON");
            }
        }
    }
}
