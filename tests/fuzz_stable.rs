//! The fuzz targets of `fuzz/` on the stable toolchain, reusing this crate's test build: the
//! seeds, then seeded random mutations, for `FUZZ_SECONDS` (default 5) each. Ignored by default;
//! run with `cargo test --test fuzz_stable -- --ignored --test-threads 1`. `fuzz/check.sh` and
//! `cargo fuzz` (nightly) run the same checks with libFuzzer.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code, unused_macros)]
mod fuzz;

use std::path::Path;

fn go(name: &str, check: fn(&[u8])) {
    let secs = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let report = fuzz::run(&root, name, check, secs, seed);
    eprintln!("fuzz {name}: {report}");
    assert_eq!(report.crashes, 0, "crashing inputs are in fuzz/crashes/");
}

#[test]
#[ignore = "fuzzing: run with --ignored"]
fn fuzz_providers_toml() {
    go("providers_toml", fuzz::providers_toml);
}

#[test]
#[ignore = "fuzzing: run with --ignored"]
fn fuzz_cookies() {
    go("cookies", fuzz::cookies);
}

#[test]
#[ignore = "fuzzing: run with --ignored"]
fn fuzz_callback_query() {
    go("callback_query", fuzz::callback_query);
}
