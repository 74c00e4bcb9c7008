#!/usr/bin/env bash
# Real-browser tests of the quickstart (issues 4 and 9), as .ci/run calls it, then the two-site
# HTTPS test (issue 19; two_sites.sh, which can also run on its own).
#
# Installs what is missing (Debian's chromium; playwright-core from the lock file), builds the
# quickstart example, starts it with its built-in fake Authentiks on free loopback ports, runs
# quickstart.mjs in headless Chromium, and always stops the app; then runs two_sites.sh. Ends with
# `N passed, 0 failed` (both tests counted) on success; exits non-zero otherwise. The screenshots
# (signed in, the admin page) land in target/browser/ (under the repository root).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
t_start=$(date +%s)

summary=""
fail() {
  echo "FAIL: $*" >&2
  echo "${summary:-0 passed, 1 failed}"
  exit 1
}

# --- what the test needs ---------------------------------------------------------------------
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium (absent)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  [ -x /usr/bin/chromium ] || fail "apt-get installed chromium but /usr/bin/chromium is missing"
fi
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
  echo "Installing playwright-core (npm ci)"
  (cd "$here" && npm ci --no-audit --no-fund)
fi
echo "$(/usr/bin/chromium --version 2>/dev/null || echo 'chromium: version unknown'); playwright-core $(node -p "require('$here/node_modules/playwright-core/package.json').version")"

# --- the app -----------------------------------------------------------------------------------
cargo build --example quickstart
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
bin="$target_dir/debug/examples/quickstart"
[ -x "$bin" ] || fail "no quickstart binary at $bin"

# Three distinct free loopback ports (the app, the fake Authentik, the staff fake), held open
# together while picked.
read -r app_port fake_port staff_port < <(node -e '
  const net = require("net");
  const open = () => new Promise((ok) => { const s = net.createServer().listen(0, "127.0.0.1", () => ok(s)); });
  Promise.all([open(), open(), open()]).then((all) => {
    console.log(all.map((s) => s.address().port).join(" "));
    all.forEach((s) => s.close());
  });')
app_url="http://127.0.0.1:$app_port"

work="$(mktemp -d)"
log="$work/quickstart.log"
app_pid=""
cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    kill "$app_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show_log() {
  echo "--- quickstart output ---" >&2
  cat "$log" >&2 || true
  echo "--- end of quickstart output ---" >&2
}

# Its own empty directory (the quickstart may write a database file there) and the built-in
# fake: no real Authentik settings from the caller's environment.
(
  cd "$work"
  exec env -u AUTHENTIK_URL -u AUTHENTIK_CLIENT_ID -u AUTHENTIK_CLIENT_SECRET -u DATABASE_URL \
    APP_URL="$app_url" FAKE_AUTHENTIK_PORT="$fake_port" FAKE_AUTHENTIK_STAFF_PORT="$staff_port" NO_COLOR=1 RUST_LOG="${RUST_LOG:-info}" \
    "$bin" >"$log" 2>&1
) &
app_pid=$!

ready=""
for _ in $(seq 1 150); do # 15 s
  kill -0 "$app_pid" 2>/dev/null || { show_log; fail "the quickstart exited before it answered"; }
  if curl -s -o /dev/null --max-time 1 "$app_url/api/auth/providers"; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { show_log; fail "the quickstart did not answer at $app_url within 15 s"; }

# The fake's URL as the quickstart announced it (it falls back to a random port if ours was taken).
fake_url="$(sed -n 's/.*Authentik: a built-in fake at \(http[^ ]*\) .*/\1/p' "$log" | head -n1)"
[ -n "$fake_url" ] || { show_log; fail "the quickstart did not announce its built-in fake Authentik"; }
echo "quickstart at $app_url, fake Authentik at $fake_url"

# --- the tests ---------------------------------------------------------------------------------
out="$work/browser.out"
status=0
(cd "$here" && APP_URL="$app_url" FAKE_AUTHENTIK_URL="$fake_url" \
  timeout -k 5 110 node quickstart.mjs) | tee "$out" || status=$?
summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1 || true)"
if [ "$status" -ne 0 ]; then
  show_log
  fail "the browser tests of the quickstart failed (see above)"
fi
case "$summary" in
  *" passed, 0 failed") ;;
  *) summary=""; fail "quickstart.mjs exited 0 without an \`N passed, 0 failed\` line" ;;
esac
quickstart_passed="${summary%% *}"

# --- two sites over HTTPS (issue 19): a script of its own, which builds and starts its app ------
cleanup
app_pid=""
two_out="$(mktemp)"
two_status=0
"$here/two_sites.sh" | tee "$two_out" || two_status=$?
two_summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$two_out" | tail -n1 || true)"
rm -f "$two_out"
two_passed="${two_summary%% *}"
two_failed="$(echo "$two_summary" | sed -n 's/.* passed, \([0-9]*\) failed$/\1/p')"
if [ "$two_status" -ne 0 ] || [ -z "$two_summary" ]; then
  summary="$((quickstart_passed + ${two_passed:-0})) passed, ${two_failed:-1} failed"
  fail "the two-site browser tests failed (see above)"
fi
echo "took $(($(date +%s) - t_start)) s in all"
echo "$((quickstart_passed + two_passed)) passed, ${two_failed} failed"
