//! Back-channel delivery: the POST, its retries on a background task, and the attempt log.

use std::sync::Arc;
use std::time::Duration;

use super::{LogoutDelivery, LogoutMethod, token};
use crate::testing::state::Inner;

/// One logout token to send: for session `sid` of the user with subject `sub`.
#[derive(Clone)]
pub(crate) struct Notice {
    pub(crate) sid: String,
    pub(crate) sub: String,
}

/// How long one attempt may take (Authentik's HTTP session timeout).
const TIMEOUT: Duration = Duration::from_secs(30);

/// Sends every notice at once and returns the first attempts, in the notices' order; failed
/// ones are retried in the background.
pub(crate) async fn deliver_all(inner: &Arc<Inner>, notices: Vec<Notice>) -> Vec<LogoutDelivery> {
    let attempts = notices.into_iter().map(|n| deliver(inner.clone(), n));
    futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Sends the notices from a synchronous caller (the end-session endpoint): on the fake's
/// runtime, nothing awaited.
pub(crate) fn spawn_all(inner: &Arc<Inner>, notices: Vec<Notice>) {
    if notices.is_empty() {
        return;
    }
    let task_inner = inner.clone();
    spawn(inner, async move {
        deliver_all(&task_inner, notices).await;
    });
}

/// Runs `fut` on the runtime the fake started on (else the current one, else nowhere: the
/// delivery is then lost, as a test without a runtime cannot observe it anyway).
fn spawn(inner: &Inner, fut: impl Future<Output = ()> + Send + 'static) {
    let handle = inner
        .runtime
        .clone()
        .or_else(|| tokio::runtime::Handle::try_current().ok());
    match handle {
        Some(h) => {
            h.spawn(fut);
        }
        None => tracing::warn!("FakeAuthentik: no tokio runtime for logout delivery"),
    }
}

/// The first attempt, awaited; on failure the retries are spawned. `None` when the provider no
/// longer has a back-channel logout URI.
async fn deliver(inner: Arc<Inner>, notice: Notice) -> Option<LogoutDelivery> {
    let first = attempt(&inner, &notice, 1).await?;
    if !first.delivered() {
        let delays = inner.lock().logout_retry_delays.clone();
        let task_inner = inner.clone();
        spawn(&inner, async move {
            for (i, delay) in delays.into_iter().enumerate() {
                tokio::time::sleep(delay).await;
                let n = u32::try_from(i).unwrap_or(u32::MAX).saturating_add(2);
                match attempt(&task_inner, &notice, n).await {
                    Some(d) if !d.delivered() => {}
                    _ => break,
                }
            }
        });
    }
    Some(first)
}

/// One attempt with a freshly minted token and the provider's settings of the moment,
/// recorded in the attempt log.
async fn attempt(inner: &Inner, notice: &Notice, n: u32) -> Option<LogoutDelivery> {
    let uri = match inner.lock().logout.clone() {
        Some((uri, LogoutMethod::Backchannel)) if !uri.is_empty() => uri,
        _ => return None,
    };
    let mut delivery = LogoutDelivery {
        uri: uri.clone(),
        sid: notice.sid.clone(),
        logout_token: String::new(),
        attempt: n,
        status: None,
        error: None,
    };
    match token::mint(inner, &notice.sid, &notice.sub) {
        Ok(t) => delivery.logout_token = t,
        Err(e) => delivery.error = Some(e),
    }
    if delivery.error.is_none() {
        match post(inner, &uri, &delivery.logout_token).await {
            Ok(status) => delivery.status = Some(status),
            Err(e) => delivery.error = Some(e),
        }
    }
    inner.lock().deliveries.push(delivery.clone());
    Some(delivery)
}

/// `POST uri` with `logout_token=…`, as Authentik's HTTP session sends it (its `User-Agent`,
/// redirects followed, no client authentication). The final status, or why there is none.
async fn post(inner: &Inner, uri: &str, logout_token: &str) -> Result<u16, String> {
    // A client per attempt: a pooled one would outlive the runtime its connections belong to.
    let mut builder = reqwest::Client::builder();
    for root in &inner.cfg.logout_roots {
        builder = builder.add_root_certificate(root.clone());
    }
    let client = builder
        .user_agent(format!("authentik@{}", inner.cfg.version.release()))
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| format!("building the HTTP client: {e}"))?;
    let resp = client
        .post(uri)
        .form(&[("logout_token", logout_token)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok(resp.status().as_u16())
}
