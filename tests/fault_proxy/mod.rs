//! A TCP proxy to a real server that a test can take down (closing the port and cutting every
//! open connection) and bring back up on the same port: a database outage and its end, without
//! touching the shared server.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::{JoinHandle, JoinSet};

pub struct FaultProxy {
    addr: SocketAddr,
    target: SocketAddr,
    task: Mutex<Option<JoinHandle<()>>>,
}

async fn serve(listener: TcpListener, target: SocketAddr) {
    // Dropping the set (when this task is aborted) aborts every connection: both sockets close.
    let mut conns = JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        conns.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
        while conns.try_join_next().is_some() {}
    }
}

impl FaultProxy {
    /// A proxy on a free local port, up, forwarding to `target`.
    pub async fn start(target: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(serve(listener, target));
        FaultProxy {
            addr,
            target,
            task: Mutex::new(Some(task)),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Closes the port and cuts every open connection.
    pub async fn down(&self) {
        if let Some(task) = self.task.lock().await.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn up(&self) {
        let mut slot = self.task.lock().await;
        if slot.is_some() {
            return;
        }
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        *slot = Some(tokio::spawn(serve(listener, self.target)));
    }
}

/// A local port that nothing listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Runs `op` until the store behind the proxy answers something other than `Unavailable` (the
/// server is back), for up to 15 s; returns its value, and panics on any other error.
pub async fn once_resumed<T, F, Fut>(mut op: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tower_oidc::store::StoreError>>,
{
    let started = std::time::Instant::now();
    loop {
        match op().await {
            Ok(found) => break found,
            Err(e) if e.kind() == tower_oidc::store::StoreErrorKind::Unavailable => {
                assert!(
                    started.elapsed() < Duration::from_secs(15),
                    "did not resume: {e}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("unexpected error after the outage: {e}"),
        }
    }
}
