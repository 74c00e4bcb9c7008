// Real-browser test of the quickstart (issue 4): a newcomer opens the app, clicks "Sign in with
// Authentik", picks alice on the fake Authentik's page, sees her profile, and signs out.
//
// Run it through ./run.sh, which builds and starts the quickstart. On its own:
//   APP_URL=http://127.0.0.1:3000 node quickstart.mjs
// Env: APP_URL (required), FAKE_AUTHENTIK_URL (optional: the fake's instance URL, checked when
// set), CHROMIUM (default /usr/bin/chromium).
//
// It drives Debian's Chromium with playwright-core (never a downloaded browser). Every wait is
// bounded, and a watchdog ends the whole test after 55 s. Exits 0 on success, 1 with a
// "FAIL: <step>: <reason>" line otherwise.

import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "..", "..");
const OUT_DIR = join(REPO, "target", "browser");
const SIGNED_IN_PNG = join(OUT_DIR, "quickstart-signed-in.png");
const FAILURE_PNG = join(OUT_DIR, "quickstart-failure.png");

const APP_URL = (process.env.APP_URL || "").replace(/\/+$/, "");
const FAKE_URL = (process.env.FAKE_AUTHENTIK_URL || "").replace(/\/+$/, "");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const STEP_TIMEOUT_MS = 15_000; // any single click, wait or navigation
const WATCHDOG_MS = 55_000; // the whole test

const ALICE = {
  name: "Alice Anders",
  email: "alice@example.com",
  username: "alice",
  groups: "authentik Admins, users",
  admin: "yes",
};

if (!APP_URL) {
  console.error("FAIL: setup: APP_URL is not set (e.g. APP_URL=http://127.0.0.1:3000)");
  process.exit(1);
}

const started = Date.now();
let browser;
let page;
let current = "setup";

const watchdog = setTimeout(() => {
  console.error(`FAIL: ${current}: the test took longer than ${WATCHDOG_MS / 1000} s`);
  // Closing the browser may hang as well; exit regardless.
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

class Check extends Error {}

function expect(cond, message) {
  if (!cond) throw new Check(message);
}

async function step(name, fn) {
  current = name;
  const t0 = Date.now();
  await fn();
  console.log(`ok - ${name} (${Date.now() - t0} ms)`);
}

/// The page's visible text, shortened, to show what was there instead.
async function pageText() {
  try {
    const text = await page.locator("body").innerText({ timeout: 2_000 });
    return text.replace(/\s+/g, " ").trim().slice(0, 400);
  } catch {
    return "(no page text)";
  }
}

async function textOf(selector) {
  const loc = page.locator(selector);
  await loc.waitFor({ state: "visible" }).catch(async () => {
    throw new Check(
      `no visible ${selector} on ${page.url()}; the page says: ${await pageText()}`,
    );
  });
  return (await loc.innerText()).trim();
}

/// Waits until the page is at `path` on the app (query ignored), or explains where it is.
async function expectAppPath(path, why) {
  const want = new URL(path, APP_URL + "/");
  try {
    await page.waitForURL((u) => u.origin === want.origin && u.pathname === want.pathname);
  } catch {
    throw new Check(
      `${why}: expected ${want.origin}${want.pathname}, but the browser is at ${page.url()}; ` +
        `the page says: ${await pageText()}`,
    );
  }
}

async function expectLoginPage(why) {
  await expectAppPath("/api/auth/login", why);
  const button = page.locator("a#signin-authentik");
  try {
    await button.waitFor({ state: "visible" });
  } catch {
    throw new Check(`${why}: the login page has no visible a#signin-authentik; it says: ${await pageText()}`);
  }
  const label = (await button.innerText()).trim();
  expect(
    label === "Sign in with Authentik",
    `${why}: the button says ${JSON.stringify(label)}, not "Sign in with Authentik"`,
  );
}

async function sessionStatus() {
  // page.request shares the browser context's cookies.
  const res = await page.request.get(`${APP_URL}/api/auth/session`, {
    headers: { accept: "application/json" },
    failOnStatusCode: false,
    maxRedirects: 0,
    timeout: STEP_TIMEOUT_MS,
  });
  return { status: res.status(), body: await res.text() };
}

async function main() {
  await mkdir(OUT_DIR, { recursive: true });

  await step("launch Chromium", async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 20_000,
      // Playwright gives every launch a new, empty --user-data-dir of its own.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    page = await context.newPage();
  });

  await step("signed out: / sends the browser to the login page", async () => {
    const res = await page.goto(`${APP_URL}/`);
    expect(res, `no response for ${APP_URL}/`);
    await expectLoginPage("opening /");
    const s = await sessionStatus();
    expect(s.status === 401, `GET /api/auth/session before sign-in: ${s.status} ${s.body}, expected 401`);
  });

  await step('"Sign in with Authentik" opens the fake Authentik\'s user picker', async () => {
    await page.locator("a#signin-authentik").click();
    try {
      await page.waitForURL((u) => u.pathname === "/application/o/authorize/");
    } catch {
      throw new Check(
        `expected the fake Authentik's /application/o/authorize/ page, but the browser is at ` +
          `${page.url()}; the page says: ${await pageText()}`,
      );
    }
    const at = new URL(page.url());
    expect(at.origin !== new URL(APP_URL).origin, `the authorize page is on the app's own origin: ${page.url()}`);
    if (FAKE_URL) {
      expect(at.origin === new URL(FAKE_URL).origin, `the authorize page is at ${at.origin}, not the fake at ${FAKE_URL}`);
    }
  });

  await step("pick alice and come back signed in", async () => {
    const alice = page.getByRole("link", { name: /^alice\b/ });
    try {
      await alice.waitFor({ state: "visible" });
    } catch {
      throw new Check(`no "alice" link on the user picker at ${page.url()}; it says: ${await pageText()}`);
    }
    await alice.click();
    await expectAppPath("/", "after picking alice");
    await page.locator("#user-name").waitFor({ state: "visible" }).catch(async () => {
      throw new Check(`back at ${page.url()} but not signed in; the page says: ${await pageText()}`);
    });
  });

  await step("the home page shows alice's profile", async () => {
    const got = {
      name: await textOf("#user-name"),
      email: await textOf("#user-email"),
      username: await textOf("#user-username"),
      groups: await textOf("#user-groups"),
      admin: await textOf("#user-admin"),
    };
    for (const [field, want] of Object.entries(ALICE)) {
      expect(got[field] === want, `${field}: shows ${JSON.stringify(got[field])}, expected ${JSON.stringify(want)}`);
    }
    const s = await sessionStatus();
    expect(s.status === 200, `GET /api/auth/session while signed in: ${s.status} ${s.body}, expected 200`);
    expect(JSON.parse(s.body).name === ALICE.name, `GET /api/auth/session while signed in: ${s.body}`);
    await page.screenshot({ path: SIGNED_IN_PNG, fullPage: true });
  });

  await step('"Sign out" ends the session and shows the login page again', async () => {
    await page.locator("#sign-out").click();
    await expectLoginPage("after signing out");
    const s = await sessionStatus();
    expect(s.status === 401, `GET /api/auth/session after sign-out: ${s.status} ${s.body}, expected 401`);
  });
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  const reason = e instanceof Check ? e.message : (e && e.stack) || String(e);
  console.error(`FAIL: ${current}: ${reason}`);
  if (page) {
    await page
      .screenshot({ path: FAILURE_PNG, fullPage: true, timeout: 3_000 })
      .then(() => console.error(`screenshot of the failure: ${FAILURE_PNG}`))
      .catch(() => {});
  }
} finally {
  if (browser) await browser.close().catch(() => {});
}
if (!failed) {
  console.log(`screenshot: ${SIGNED_IN_PNG}`);
  console.log(`browser test passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
process.exit(failed ? 1 : 0);
