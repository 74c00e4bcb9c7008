//! Shared by the benches: criterion settings, and the summary that turns criterion's medians
//! (from this run's `estimates.json`) into "added per request" and ratios against the bare
//! service measured in the same run, next to each budget.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use criterion::Criterion;

/// Where criterion writes (and this summary reads) its results.
pub fn output_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("criterion")
}

/// Short runs by default (the machine may be shared); command-line flags still override.
pub fn criterion() -> Criterion {
    Criterion::default()
        .output_directory(&output_dir())
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

/// The median of one benchmark of this run, in nanoseconds.
pub fn median_ns(id: &str) -> Option<f64> {
    let path = output_dir().join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// How a row's budget is read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// The time added over the bare service.
    Added,
    /// The measured time itself.
    Absolute,
}

/// One line of the summary.
pub struct Row {
    name: String,
    base: String,
    with: String,
    budget_ns: Option<f64>,
    kind: Budget,
}

impl Row {
    /// `with` compared to `base` (both criterion ids, `group/function[/param]`).
    pub fn ratio(name: &str, base: &str, with: &str, budget_ns: Option<f64>, kind: Budget) -> Row {
        Row {
            name: name.to_owned(),
            base: base.to_owned(),
            with: with.to_owned(),
            budget_ns,
            kind,
        }
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns.abs() >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns.abs() >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.1} ns")
    }
}

/// Prints the summary and writes it as JSON next to criterion's results.
pub fn print(bench: &str, rows: &[Row]) {
    println!("\n== {bench}: medians of this run ==");
    println!(
        "{:<48} {:>12} {:>12} {:>12} {:>8} {:>12}  verdict",
        "what", "baseline", "measured", "added", "ratio", "budget"
    );
    let mut json = Vec::new();
    for r in rows {
        let (Some(base), Some(with)) = (median_ns(&r.base), median_ns(&r.with)) else {
            println!("{:<48} (not measured in this run)", r.name);
            continue;
        };
        let added = with - base;
        let ratio = with / base;
        let judged = match r.kind {
            Budget::Added => added,
            Budget::Absolute => with,
        };
        let verdict = match r.budget_ns {
            Some(b) if judged <= b => "within budget",
            Some(_) => "OVER BUDGET",
            None => "",
        };
        println!(
            "{:<48} {:>12} {:>12} {:>12} {:>7.3}x {:>12}  {verdict}",
            r.name,
            fmt_ns(base),
            fmt_ns(with),
            fmt_ns(added),
            ratio,
            r.budget_ns
                .map(|b| match r.kind {
                    Budget::Added => format!("+{}", fmt_ns(b)),
                    Budget::Absolute => fmt_ns(b),
                })
                .unwrap_or_default(),
        );
        json.push(serde_json::json!({
            "name": r.name, "baseline_ns": base, "measured_ns": with, "added_ns": added,
            "ratio": ratio, "budget_ns": r.budget_ns,
            "budget_kind": if r.kind == Budget::Added { "added" } else { "absolute" },
            "verdict": verdict,
        }));
    }
    let path = output_dir().join(format!("tower-oidc-{bench}.json"));
    if let Ok(text) = serde_json::to_string_pretty(&json) {
        let _ = std::fs::write(&path, text);
        println!("(summary written to {})", path.display());
    }
}
