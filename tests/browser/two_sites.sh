#!/usr/bin/env bash
# The two-site HTTPS browser test (issue #19, "Real deployments", item 4), as run.sh calls it.
#
# Builds examples/two_sites.rs and starts it: the app at https://app.localtest:PORT, a fake
# Authentik at https://idp.localtest:PORT, signed by a CA the example makes afresh, and a fake
# Sign in with Apple at http://127.0.0.1:PORT (another site: its form POST is cross-site). Then runs
# two_sites.mjs in headless Chromium, and always stops the app. Ends with two_sites.mjs's
# `N passed, 0 failed` on success; exits non-zero otherwise.
#
# How the names resolve and the CA is trusted, without touching the machine's own settings:
# - the app (and the fake in its process) resolve both names through the system resolver, in a
#   mount namespace of their own (`unshare --mount`, root) whose /etc/hosts is the machine's plus
#   `127.0.0.1 app.localtest idp.localtest`; where the machine's resolver already maps both names
#   to loopback, the app runs as it is;
# - Chromium maps them with --host-resolver-rules, and trusts the CA through an NSS database
#   (certutil, Debian's libnss3-tools, installed when absent) under a temporary HOME: the
#   browser's own certificate verification, no --ignore-certificate-errors of any kind.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
t_start=$(date +%s)

# shellcheck source=lib.sh
. "$here/lib.sh"

# --- what the test needs ---------------------------------------------------------------------
ensure_browser
if ! command -v certutil >/dev/null 2>&1; then
  echo "Installing Debian's libnss3-tools for certutil (absent)"
  apt_install libnss3-tools
  command -v certutil >/dev/null 2>&1 || fail "apt-get installed libnss3-tools but certutil is missing"
fi

# --- the app -----------------------------------------------------------------------------------
build_example two_sites

start_work two_sites

resolves_to_loopback() {
  getent ahostsv4 "$1" 2>/dev/null | awk '{print $1}' | grep -qx '127\.0\.0\.1'
}

mkdir -p "$work/out"
if resolves_to_loopback app.localtest && resolves_to_loopback idp.localtest; then
  echo "app.localtest and idp.localtest already resolve to 127.0.0.1 here"
  runner=()
else
  { cat /etc/hosts; echo "127.0.0.1 app.localtest idp.localtest"; } >"$work/hosts"
  unshare --mount -- sh -c 'mount --bind "$0" /etc/hosts' "$work/hosts" 2>"$work/unshare.err" ||
    fail "cannot give the app a private /etc/hosts (unshare --mount needs root): $(cat "$work/unshare.err"); \
or map app.localtest and idp.localtest to 127.0.0.1 in this machine's /etc/hosts"
  runner=(unshare --mount -- sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$work/hosts")
fi

(
  cd "$work"
  exec env TWO_SITES_DIR="$work/out" NO_COLOR=1 RUST_LOG="${RUST_LOG:-info}" \
    "${runner[@]}" "$bin" >"$log" 2>&1
) &
app_pid=$!

ready_file="$work/out/two_sites.json"
for _ in $(seq 1 150); do # 15 s
  kill -0 "$app_pid" 2>/dev/null || { show_log; fail "two_sites exited before it was ready"; }
  [ -f "$ready_file" ] && break
  sleep 0.1
done
[ -f "$ready_file" ] || { show_log; fail "two_sites was not ready within 15 s"; }
read -r app_url idp_url issuer ca_file apple_url < <(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log([r.app_url, r.idp_url, r.issuer, r.ca_file, r.apple_url].join(" "));' "$ready_file")
echo "app at $app_url, fake Authentik at $idp_url, fake Apple at $apple_url"

# --- the browser's trust: the CA in an NSS database under a HOME of its own ---------------------
home="$work/home"
nssdb="$home/.pki/nssdb"
mkdir -p "$nssdb"
certutil -N -d "sql:$nssdb" --empty-password
certutil -A -d "sql:$nssdb" -n "tower-oidc two-sites test CA" -t "C,," -i "$ca_file"

# --- the tests ---------------------------------------------------------------------------------
run_node_tests two_sites.mjs APP_URL="$app_url" IDP_URL="$idp_url" ISSUER="$issuer" APPLE_URL="$apple_url" CHROMIUM_HOME="$home"
echo "took $(($(date +%s) - t_start)) s in all"
echo "$summary"
