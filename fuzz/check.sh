#!/usr/bin/env bash
# Keeps the fuzz targets building and running, for CI (`.ci/run` may call it).
#
# With a nightly toolchain and cargo-fuzz: `cargo fuzz build`, then each libFuzzer target for
# FUZZ_CHECK_SECONDS (default 10) over its seeds. Without them (a fresh machine with stable
# only), or with FUZZ_CHECK_STABLE=1: the same checks under the seeded random harness, for
# FUZZ_CHECK_SECONDS each, as the ignored tests of tests/fuzz_stable.rs (sharing the main
# build), or with FUZZ_CHECK_STANDALONE=1 as this crate's `--features stable` binaries.
# Either way a crash fails the script.
set -euo pipefail
cd "$(dirname "$0")"
secs="${FUZZ_CHECK_SECONDS:-10}"
targets=(providers_toml cookies callback_query)

have_nightly_fuzz() {
    command -v rustup >/dev/null 2>&1 || return 1
    rustup toolchain list 2>/dev/null | grep -q '^nightly' || return 1
    cargo +nightly fuzz --version >/dev/null 2>&1 || return 1
}

if [ "${FUZZ_CHECK_STABLE:-0}" != 1 ] && have_nightly_fuzz; then
    echo "fuzz/check.sh: nightly and cargo-fuzz found: libFuzzer targets, ${secs}s each"
    cargo +nightly fuzz build
    for t in "${targets[@]}"; do
        mkdir -p "corpus/$t"
        cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- -max_total_time="$secs"
    done
elif [ "${FUZZ_CHECK_STANDALONE:-0}" = 1 ]; then
    echo "fuzz/check.sh: the stable harness as standalone binaries, ${secs}s each"
    cargo build --no-default-features --features stable --bins
    for t in "${targets[@]}"; do
        cargo run --no-default-features --features stable --bin "$t" -- "$secs"
    done
else
    # The same checks and harness, compiled as an ignored test of the main crate
    # (tests/fuzz_stable.rs), so CI reuses the build it already has.
    echo "fuzz/check.sh: no nightly toolchain with cargo-fuzz: the stable harness, ${secs}s each"
    (cd .. && FUZZ_SECONDS="$secs" cargo test --test fuzz_stable -- --ignored --test-threads 1)
fi
