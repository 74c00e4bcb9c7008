#!/usr/bin/env bash
# Real-browser tests of the quickstart (issues 4 and 9), as .ci/run calls it, then the two-site
# HTTPS test (issue 19; two_sites.sh, which can also run on its own).
#
# Installs what is missing (Debian's chromium; playwright-core from the lock file), builds the
# quickstart example, starts it with its built-in fake Authentiks on free loopback ports, runs
# quickstart.mjs in headless Chromium, and always stops the app; then runs two_sites.sh. Ends with
# `N passed, 0 failed` (both tests counted) on success; exits non-zero otherwise. The screenshots
# (signed in, the admin page; the login, error and admin pages at 390 and 1280 px, light and dark)
# land in target/browser/ (under the repository root).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
t_start=$(date +%s)

# shellcheck source=lib.sh
. "$here/lib.sh"

# --- what the test needs ---------------------------------------------------------------------
ensure_browser
echo "$(/usr/bin/chromium --version 2>/dev/null || echo 'chromium: version unknown'); playwright-core $(node -p "require('$here/node_modules/playwright-core/package.json').version")"

# --- the app -----------------------------------------------------------------------------------
build_example quickstart

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

start_work quickstart

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
run_node_tests quickstart.mjs APP_URL="$app_url" FAKE_AUTHENTIK_URL="$fake_url"
quickstart_passed="${summary%% *}"

# --- two sites over HTTPS (issue 19): a script of its own, which builds and starts its app ------
stop_app
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
