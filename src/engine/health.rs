//! `GET {prefix}/health` (liveness: the process answers, no I/O) and `GET {prefix}/ready`
//! (readiness: the stores answer and every enabled provider's discovery is fresh or can be
//! fetched now), for load balancers and orchestrators. The readiness answer names each
//! dependency with `ok` or a stable error code — never a URL, a setting or a secret — and is
//! reused for a second, computed once however many pollers ask at the same time.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{Map, Value, json};

use super::OidcEngine;
use crate::error::{Error, ErrorCode};
use crate::store::{SessionId, UserId};
use crate::web::json_response;

/// How long a readiness answer is reused.
const READY_TTL: Duration = Duration::from_secs(1);
/// How long one dependency may take to answer before it counts as unavailable.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The last readiness answer (status and body) and when it was computed.
#[derive(Default)]
pub(crate) struct ReadyCache(tokio::sync::Mutex<Option<(Instant, StatusCode, Value)>>);

/// `ok`, or the stable code of why a check failed (a timeout is `store_unavailable` for stores,
/// `provider_unreachable` for providers).
async fn outcome<T>(
    check: impl Future<Output = Result<T, Error>>,
    on_timeout: ErrorCode,
) -> Result<(), ErrorCode> {
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.code()),
        Err(_) => Err(on_timeout),
    }
}

fn word(r: &Result<(), ErrorCode>) -> Value {
    match r {
        Ok(()) => Value::from("ok"),
        Err(code) => Value::from(code.as_str()),
    }
}

impl OidcEngine {
    /// `GET {prefix}/health`: 200 `{"status":"ok"}` whenever the process serves requests.
    pub(super) fn health(&self) -> Response<Bytes> {
        json_response(StatusCode::OK, &json!({"status": "ok"}))
    }

    /// `GET {prefix}/ready`: 200 `{"status":"ready","checks":{…}}` when every dependency
    /// answers, else 503 `{"status":"unavailable",…}` naming the ones that do not.
    pub(super) async fn ready(&self) -> Response<Bytes> {
        let mut slot = self.ready_cache.0.lock().await;
        if let Some((at, status, body)) = slot.as_ref()
            && at.elapsed() < READY_TTL
        {
            return json_response(*status, body);
        }
        let (status, body) = self.check_ready().await;
        *slot = Some((Instant::now(), status, body.clone()));
        json_response(status, &body)
    }

    async fn check_ready(&self) -> (StatusCode, Value) {
        let unavailable = ErrorCode::StoreUnavailable;
        let settings = outcome(
            async { Ok::<_, Error>(self.registry.settings.list().await?) },
            unavailable,
        )
        .await;
        let users = outcome(
            async { Ok::<_, Error>(self.users.get(&UserId("tower-oidc-ready".into())).await?) },
            unavailable,
        )
        .await;
        let sessions = outcome(
            async { Ok::<_, Error>(self.sessions.store.load(&SessionId::random()).await?) },
            unavailable,
        )
        .await;
        let mut providers = Map::new();
        let mut all_ok = settings.is_ok() && users.is_ok() && sessions.is_ok();
        if settings.is_ok()
            && let Ok(all) = self.registry.all().await
        {
            for (spec, _) in all.into_iter().filter(|(_, s)| s.enabled) {
                let r = outcome(
                    async {
                        let st = self.registry.enabled(&spec.id).await?;
                        self.registry.active(&st).await
                    },
                    ErrorCode::ProviderUnreachable,
                )
                .await;
                all_ok &= r.is_ok();
                providers.insert(spec.id.clone(), word(&r));
            }
        }
        let status = if all_ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        let body = json!({
            "status": if all_ok { "ready" } else { "unavailable" },
            "checks": {
                "settings_store": word(&settings),
                "user_store": word(&users),
                "session_store": word(&sessions),
                "providers": providers,
            }
        });
        if !all_ok {
            tracing::warn!(checks = %body["checks"], "not ready");
        }
        (status, body)
    }
}
