# What run.sh and two_sites.sh share (sourced, not run): installing what a browser test needs,
# building an example, stopping its process and work directory on exit, and running a node test
# script to its `N passed, 0 failed` line. Expects `here` (this directory) and `root` (the
# repository) to be set.

summary=""
fail() {
  echo "FAIL: $*" >&2
  echo "${summary:-0 passed, 1 failed}"
  exit 1
}

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Debian's chromium, playwright-core and axe-core (from the lock file), when absent.
ensure_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "Installing Debian's chromium (absent)"
    apt_install chromium
    [ -x /usr/bin/chromium ] || fail "apt-get installed chromium but /usr/bin/chromium is missing"
  fi
  if [ ! -f "$here/node_modules/playwright-core/package.json" ] || [ ! -f "$here/node_modules/axe-core/axe.min.js" ]; then
    echo "Installing playwright-core and axe-core (npm ci)"
    (cd "$here" && npm ci --no-audit --no-fund)
  fi
}

# Builds example $1 and sets `bin` to its binary.
build_example() {
  cargo build --example "$1"
  local target_dir="${CARGO_TARGET_DIR:-target}"
  case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
  bin="$target_dir/debug/examples/$1"
  [ -x "$bin" ] || fail "no $1 binary at $bin"
}

# A work directory (`work`) with the app's log (`log`, named $1.log); the app started later
# sets `app_pid`. Both go on exit.
app_pid=""
start_work() {
  work="$(mktemp -d)"
  log="$work/$1.log"
  trap stop_app EXIT
  trap 'exit 130' INT TERM
}

stop_app() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    kill "$app_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  app_pid=""
  rm -rf "$work"
}

show_log() {
  echo "--- app output ($log) ---" >&2
  cat "$log" >&2 || true
  echo "--- end of app output ---" >&2
}

# Runs `node $1` in this directory with the environment given after it (NAME=value …), bounded
# to 180 s, and sets `summary` to its `N passed, M failed` line; fails (showing the app's log)
# unless it passed every test.
run_node_tests() {
  local script="$1"
  shift
  local out="$work/browser.out" status=0
  (cd "$here" && env "$@" timeout -k 5 180 node "$script") | tee "$out" || status=$?
  summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1 || true)"
  if [ "$status" -ne 0 ]; then
    show_log
    fail "the browser tests of $script failed (see above)"
  fi
  case "$summary" in
    *" passed, 0 failed") ;;
    *) summary=""; fail "$script exited 0 without an \`N passed, 0 failed\` line" ;;
  esac
}
