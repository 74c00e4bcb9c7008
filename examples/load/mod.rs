//! What the load tests share: the apps' runtime whose CPU time is measured, and the runner
//! that drives jobs at a given concurrency and collects their latencies.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;

pub mod floor;

/// A knob from the environment.
pub fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The system allocator, counting the allocations made on the server's threads: a load test
/// that installs it (`#[global_allocator]`) prints allocations per job beside the CPU time.
pub struct CountingAlloc;

thread_local! {
    static ON_SERVER: Cell<bool> = const { Cell::new(false) };
}
static SERVER_ALLOCS: AtomicU64 = AtomicU64::new(0);

fn count() {
    if ON_SERVER.try_with(Cell::get).unwrap_or(false) {
        SERVER_ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed on to `System` unchanged; counting touches neither the layout
// nor the pointer.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// The apps' runtime: one worker thread, whose CPU time is read from `/proc` (Linux), so that
/// the client, the fake issuer and the measuring do not count.
pub struct Server {
    // Shut down in the background when dropped: a runtime may not be dropped inside another.
    rt: Option<tokio::runtime::Runtime>,
    threads: Arc<std::sync::Mutex<Vec<u32>>>,
}

/// This thread's id, from `/proc/thread-self` (a link to `<pid>/task/<tid>`).
impl Drop for Server {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn thread_id() -> Option<u32> {
    std::fs::read_link("/proc/thread-self")
        .ok()?
        .file_name()?
        .to_str()?
        .parse()
        .ok()
}

impl Server {
    pub fn new() -> std::io::Result<Self> {
        let threads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = threads.clone();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("server")
            // Blocking threads are counted too: keep them for the whole run.
            .thread_keep_alive(Duration::from_secs(24 * 3600))
            .on_thread_start(move || {
                ON_SERVER.with(|c| c.set(true));
                if let Some(id) = thread_id() {
                    seen.lock().unwrap().push(id);
                }
            })
            .enable_all()
            .build()?;
        Ok(Server {
            rt: Some(rt),
            threads,
        })
    }

    /// Serves `router` on `listener` on the server's runtime.
    pub fn serve(&self, listener: std::net::TcpListener, router: Router) {
        listener.set_nonblocking(true).unwrap();
        let Some(rt) = &self.rt else { return };
        rt.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap()
        });
    }

    /// CPU time the server's threads have used so far (`None` off Linux), in nanoseconds
    /// (`schedstat`), and in clock ticks of user and of kernel time (`stat`, coarser: it only
    /// splits the first).
    pub fn cpu(&self) -> Option<(Duration, u64, u64)> {
        let (mut total, mut user, mut system) = (0u64, 0u64, 0u64);
        for id in self.threads.lock().unwrap().iter() {
            let stat = std::fs::read_to_string(format!("/proc/self/task/{id}/schedstat")).ok()?;
            total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
            // Fields 14 and 15 of `stat` (after the `(comm)`, which may hold spaces).
            let stat = std::fs::read_to_string(format!("/proc/self/task/{id}/stat")).ok()?;
            let mut rest = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
            user += rest.next()?.parse::<u64>().ok()?;
            system += rest.next()?.parse::<u64>().ok()?;
        }
        Some((Duration::from_nanos(total), user, system))
    }

    /// Runs `phase` and returns its outcome with the server's CPU time per job done.
    pub async fn measure<F: std::future::Future<Output = Stats>>(
        &self,
        phase: F,
    ) -> (Stats, Option<Cpu>) {
        let before = self.cpu();
        let allocs = SERVER_ALLOCS.load(Ordering::Relaxed);
        let stats = phase.await;
        let allocs = SERVER_ALLOCS.load(Ordering::Relaxed) - allocs;
        let per_job = match (before, self.cpu()) {
            (Some((a, ua, sa)), Some((b, ub, sb))) if stats.done > 0 => {
                let ticks = (ub - ua) + (sb - sa);
                Some(Cpu {
                    per_job: (b - a) / stats.done as u32,
                    user_share: (ticks > 0).then(|| (ub - ua) as f64 / ticks as f64),
                    allocs: (allocs > 0).then(|| allocs as f64 / stats.done as f64),
                })
            }
            _ => None,
        };
        (stats, per_job)
    }
}

/// The server's CPU time per job, and the share of it spent in user mode (the rest is the
/// kernel's: here mostly loopback TCP, whose receive side runs in the sender's time).
#[derive(Clone, Copy)]
pub struct Cpu {
    pub per_job: Duration,
    pub user_share: Option<f64>,
    /// Allocations on the server's threads per job (with [`CountingAlloc`] installed).
    pub allocs: Option<f64>,
}

pub fn cpu_line(what: &str, cpu: Option<Cpu>) -> String {
    let allocs = match cpu.and_then(|c| c.allocs) {
        Some(n) => format!(", {n:.0} allocations"),
        None => String::new(),
    };
    match cpu {
        Some(Cpu {
            per_job,
            user_share: Some(u),
            ..
        }) => format!(
            "{:<34} server CPU {:.1} µs each: user {:.1} µs, kernel {:.1} µs{allocs}",
            what,
            per_job.as_secs_f64() * 1e6,
            per_job.as_secs_f64() * 1e6 * u,
            per_job.as_secs_f64() * 1e6 * (1.0 - u)
        ),
        Some(Cpu { per_job, .. }) => format!(
            "{:<34} server CPU {:.1} µs each{allocs}",
            what,
            per_job.as_secs_f64() * 1e6
        ),
        None => format!("{what:<34} server CPU not measured (no /proc)"),
    }
}

/// Phases measured in chunks, as one: their jobs, errors and latencies together, and the
/// server's CPU per job over all of them (each chunk weighted by the jobs it did).
pub fn merge(parts: Vec<(Stats, Option<Cpu>)>) -> (Stats, Option<Cpu>) {
    let mut all = Stats {
        done: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        first_error: None,
    };
    let (mut cpu, mut user, mut allocs, mut measured) = (Duration::ZERO, 0.0, 0.0, true);
    for (s, c) in parts {
        match c {
            Some(c) => {
                cpu += c.per_job * s.done as u32;
                user += c.user_share.unwrap_or(0.0) * s.done as f64;
                allocs += c.allocs.unwrap_or(0.0) * s.done as f64;
            }
            None => measured = false,
        }
        all.done += s.done;
        all.errors += s.errors;
        all.elapsed += s.elapsed;
        all.latencies.extend(s.latencies);
        all.first_error = all.first_error.or(s.first_error);
    }
    all.latencies.sort();
    let cpu = (measured && all.done > 0).then(|| {
        let n = all.done as f64;
        Cpu {
            per_job: cpu / all.done as u32,
            user_share: Some(user / n),
            allocs: (allocs > 0.0).then_some(allocs / n),
        }
    });
    (all, cpu)
}

pub struct Stats {
    pub done: usize,
    pub errors: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    pub first_error: Option<String>,
}

impl Stats {
    pub fn rate(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64()
    }
    pub fn pct(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }
    pub fn line(&self, what: &str, unit: &str) -> String {
        format!(
            "{what:<34} {:>7} done  {:>9.0} {unit}/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {}",
            self.done,
            self.rate(),
            self.pct(0.50).as_secs_f64() * 1e3,
            self.pct(0.99).as_secs_f64() * 1e3,
            self.errors
        )
    }
}

/// Runs `total` jobs, `concurrency` at a time, stopping early after `max`.
pub async fn run<F, Fut>(total: usize, concurrency: usize, max: Duration, job: F) -> Stats
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (job, next) = (job.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            let mut first_error = None;
            while next.fetch_add(1, Ordering::Relaxed) < total && start.elapsed() < max {
                let t = Instant::now();
                match job().await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (lat, errors, first_error)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for t in tasks {
        let (l, e, f) = t.await.unwrap();
        latencies.extend(l);
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Stats {
        done: latencies.len(),
        errors,
        elapsed,
        latencies,
        first_error,
    }
}
