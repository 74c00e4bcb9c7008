// What the browser tests share: tests made of named steps, a watchdog over the whole run, and
// the run itself — in order, the first failure stopping it (later tests count as failed), a
// screenshot of the page a test failed on, and the closing "N passed, M failed" line.

export class Check extends Error {}

/// Fails the current step with `message` unless `cond` holds.
export function expect(cond, message) {
  if (!cond) throw new Check(message);
}

/// The tests, in order: `[name, async () => …]`.
export const TESTS = [];
let current = "setup";
let passed = 0;

function summary() {
  console.log(`${passed} passed, ${TESTS.length - passed} failed`);
}

/// Ends the whole run (as failed) once it has taken `ms`.
export function watchdog(ms) {
  const timer = setTimeout(() => {
    console.error(`FAIL: ${current}: the run took longer than ${ms / 1000} s`);
    summary();
    // Closing the browser may hang as well; exit regardless.
    process.exit(1);
  }, ms);
  timer.unref();
}

/// One step of a test, timed and reported.
export async function step(name, fn) {
  current = name;
  const t0 = Date.now();
  await fn();
  console.log(`ok - ${name} (${Date.now() - t0} ms)`);
}

/// Launches the browser, runs every test, screenshots the failing page (`page()`, to
/// `failurePng`) and closes the browser (`browser()`). Returns whether every test passed.
export async function runAll({ launch, page, browser, failurePng }) {
  let failed = false;
  try {
    await launch();
    for (const [name, run] of TESTS) {
      current = name;
      console.log(`# ${name}`);
      await run();
      passed += 1;
    }
  } catch (e) {
    failed = true;
    const reason = e instanceof Check ? e.message : (e && e.stack) || String(e);
    console.error(`FAIL: ${current}: ${reason}`);
    const p = page();
    if (p) {
      await p
        .screenshot({ path: failurePng, fullPage: true, timeout: 3_000 })
        .then(() => console.error(`screenshot of the failure: ${failurePng}`))
        .catch(() => {});
    }
  } finally {
    const b = browser();
    if (b) await b.close().catch(() => {});
  }
  return !failed;
}

/// Prints the summary line and exits: 0 when every test passed.
export function finish(ok) {
  summary();
  process.exit(ok ? 0 : 1);
}
