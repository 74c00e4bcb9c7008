// Real-browser tests of the quickstart:
// 1. (issue 4) a newcomer opens the app, clicks "Sign in with Authentik", picks alice on the fake
//    Authentik's page, sees her profile, and signs out;
// 2. (issue 9) alice opens the admin page (signing in on the way), types a new sort order for
//    Authentik, saves, and sees the login page put the other provider (the quickstart's custom
//    `authentik-staff`) first; the saved value is still there after a reload.
//
// Run it through ./run.sh, which builds and starts the quickstart. On its own:
//   APP_URL=http://127.0.0.1:3000 node quickstart.mjs
// Env: APP_URL (required), FAKE_AUTHENTIK_URL (optional: the fake's instance URL, checked when
// set), CHROMIUM (default /usr/bin/chromium).
//
// It drives Debian's Chromium with playwright-core (never a downloaded browser). Every wait is
// bounded, and a watchdog ends the whole run after 100 s. Prints "N passed, M failed" (a test
// that fails stops the run: later tests count as failed too) and exits 0 when all passed, 1 with
// a "FAIL: <step>: <reason>" line otherwise.

import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { Check, TESTS, expect, finish, runAll, step, watchdog } from "./harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "..", "..");
const OUT_DIR = join(REPO, "target", "browser");
const SIGNED_IN_PNG = join(OUT_DIR, "quickstart-signed-in.png");
const ADMIN_PNG = join(OUT_DIR, "quickstart-admin.png");
const FAILURE_PNG = join(OUT_DIR, "quickstart-failure.png");
const ADMIN_PATH = "/api/auth/admin";

const APP_URL = (process.env.APP_URL || "").replace(/\/+$/, "");
const FAKE_URL = (process.env.FAKE_AUTHENTIK_URL || "").replace(/\/+$/, "");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const STEP_TIMEOUT_MS = 15_000; // any single click, wait or navigation
const WATCHDOG_MS = 100_000; // the whole run

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
watchdog(WATCHDOG_MS);

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

async function launch() {
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
}

TESTS.push(["a newcomer signs in as alice and out again", async () => {
  await step("signed out: / sends the browser to the login page", async () => {
    const res = await page.goto(`${APP_URL}/`);
    expect(res, `no response for ${APP_URL}/`);
    await expectLoginPage("opening /");
    const s = await sessionStatus();
    expect(s.status === 401, `GET /api/auth/session before sign-in: ${s.status} ${s.body}, expected 401`);
  });

  await step('"Sign in with Authentik" opens the fake Authentik\'s user picker', openAuthentik);

  await step("pick alice and come back signed in", async () => {
    await pickAlice("/");
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
    const link = page.locator("a#admin-link");
    expect(await link.isVisible(), `an admin's home page has no a#admin-link; it says: ${await pageText()}`);
    await page.screenshot({ path: SIGNED_IN_PNG, fullPage: true });
  });

  await step('"Sign out" ends the session and shows the login page again', async () => {
    await page.locator("#sign-out").click();
    await expectLoginPage("after signing out");
    const s = await sessionStatus();
    expect(s.status === 401, `GET /api/auth/session after sign-out: ${s.status} ${s.body}, expected 401`);
  });
}]);

TESTS.push(["alice reorders the login page on the admin page", async () => {
  let before;
  await step("the login page lists Authentik first, then Authentik (staff)", async () => {
    before = await loginOrder();
    expect(
      before.join(",") === "authentik,authentik-staff",
      `the login page's buttons are [${before}], expected [authentik,authentik-staff] ` +
        `(the quickstart's fake mode has both)`,
    );
  });

  await step("signed out, the admin page sends the browser to sign in, and back", async () => {
    await page.goto(`${APP_URL}${ADMIN_PATH}`);
    await expectLoginPage("opening the admin page signed out");
    await openAuthentik();
    await pickAlice(ADMIN_PATH);
    await providerSection("authentik").waitFor({ state: "visible" }).catch(async () => {
      throw new Check(`no section for authentik on the admin page; it says: ${await pageText()}`);
    });
  });

  let wanted;
  await step("type a sort order after the staff provider's into Authentik's form, and save", async () => {
    await openSettings("authentik");
    const mine = providerSection("authentik").locator('input[name="sort_order"]');
    const theirs = providerSection("authentik-staff").locator('input[name="sort_order"]');
    const current = Number(await mine.inputValue());
    const staff = Number(await theirs.inputValue());
    expect(
      Number.isInteger(current) && Number.isInteger(staff) && current < staff,
      `the admin page shows sort orders authentik=${current}, authentik-staff=${staff}; ` +
        `expected authentik's to be lower (it is listed first)`,
    );
    wanted = staff + 5;
    // Like a person: click into the field, select what is there, type the new number.
    await mine.click();
    await page.keyboard.press("Control+A");
    await page.keyboard.type(String(wanted));
    expect(
      (await mine.inputValue()) === String(wanted),
      `after typing, the field holds ${JSON.stringify(await mine.inputValue())}, not "${wanted}"`,
    );
    await providerSection("authentik").getByRole("button", { name: "Save" }).click();
    const result = providerSection("authentik").locator(".result");
    try {
      await result.getByText(/Saved\./).waitFor({ state: "visible" });
    } catch {
      const shown = (await result.innerText().catch(() => "")).trim() || "(nothing)";
      throw new Check(`saving did not say "Saved."; the form shows: ${shown}`);
    }
  });

  await step("the login page now lists Authentik (staff) first", async () => {
    const after = await loginOrder();
    expect(
      after.join(",") === "authentik-staff,authentik",
      `after saving sort order ${wanted} for Authentik the login page's buttons are [${after}], ` +
        `expected [authentik-staff,authentik]`,
    );
    const res = await page.request.get(`${APP_URL}/api/auth/providers`, { timeout: STEP_TIMEOUT_MS });
    const ids = (await res.json()).map((p) => p.id);
    expect(
      ids.join(",") === "authentik-staff,authentik",
      `GET /api/auth/providers lists [${ids}] after the change, expected [authentik-staff,authentik]`,
    );
  });

  await step("the admin page still shows the saved sort order after a reload", async () => {
    await page.goto(`${APP_URL}${ADMIN_PATH}`);
    await expectAppPath(ADMIN_PATH, "reloading the admin page");
    const shown = await providerSection("authentik").locator('input[name="sort_order"]').inputValue();
    expect(shown === String(wanted), `Authentik's sort order shows ${JSON.stringify(shown)}, expected "${wanted}"`);
    await page.screenshot({ path: ADMIN_PNG, fullPage: true });
  });
}]);

TESTS.push(["alice's Authentik session ends at the provider, and the app signs her out", async () => {
  await step("sign in as alice afresh", async () => {
    await page.context().clearCookies();
    await page.goto(`${APP_URL}/`);
    await expectLoginPage("opening / with no cookies");
    await openAuthentik();
    await pickAlice("/");
    const s = await sessionStatus();
    expect(s.status === 200, `GET /api/auth/session after signing in: ${s.status} ${s.body}, expected 200`);
  });

  await step("alice logs out at the fake Authentik (its end-session page)", async () => {
    const authentik = FAKE_URL || new URL(page.url()).origin;
    await page.goto(`${authentik}/application/o/quickstart/end-session/`);
    const text = await pageText();
    expect(/logged out/i.test(text), `the fake's end-session page says: ${text}`);
  });

  await step("Authentik's back-channel logout reached the app: a reload shows the login page", async () => {
    // The fake delivers the logout token in the background; give it a moment.
    let s;
    for (let i = 0; i < 50; i++) {
      s = await sessionStatus();
      if (s.status === 401) break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    expect(s.status === 401, `GET /api/auth/session after the Authentik logout: ${s.status} ${s.body}, expected 401`);
    await page.goto(`${APP_URL}/`);
    await expectLoginPage("reloading / after the Authentik logout");
  });
}]);

TESTS.push(["alice signs bob out everywhere from the admin page", async () => {
  let bobPage;
  let bobId;
  await step("bob signs in, in a browser of his own", async () => {
    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    bobPage = await context.newPage();
    await bobPage.goto(`${APP_URL}/api/auth/providers/authentik/authorize?login_hint=bob`);
    await bobPage.waitForURL((u) => u.origin === new URL(APP_URL).origin && !u.pathname.startsWith("/api/auth"));
    const res = await bobPage.request.get(`${APP_URL}/api/auth/session`, { headers: { accept: "application/json" } });
    expect(res.status() === 200, `bob's GET /api/auth/session: ${res.status()}`);
    bobId = (await res.json()).id;
    expect(typeof bobId === "string" && bobId.length > 0, `bob's session has no id`);
  });

  await step("alice, on the admin page, ends every session of bob's", async () => {
    await page.context().clearCookies();
    await page.goto(`${APP_URL}${ADMIN_PATH}`);
    await expectLoginPage("opening the admin page signed out");
    await openAuthentik();
    await pickAlice(ADMIN_PATH);
    const section = page.locator("section.sessions");
    await section.locator('input[name="user_id"]').fill(bobId);
    await section.getByRole("button", { name: /End every session/ }).click();
    try {
      await section.locator(".result").getByText(/Ended 1 session\./).waitFor({ state: "visible" });
    } catch {
      const shown = (await section.locator(".result").innerText().catch(() => "")).trim() || "(nothing)";
      throw new Check(`ending bob's sessions did not say "Ended 1 session."; the page shows: ${shown}`);
    }
  });

  await step("bob is signed out; alice is not", async () => {
    const res = await bobPage.request.get(`${APP_URL}/api/auth/session`, { headers: { accept: "application/json" } });
    expect(res.status() === 401, `bob's GET /api/auth/session after the admin ended it: ${res.status()}, expected 401`);
    const s = await sessionStatus();
    expect(s.status === 200, `alice's session: ${s.status} ${s.body}, expected 200`);
    await bobPage.context().close();
  });
}]);

/// Clicks "Sign in with Authentik" on the login page and waits for the fake's user picker.
async function openAuthentik() {
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
}

/// Picks alice on the fake's user picker and waits until the app shows `path`.
async function pickAlice(path) {
  const alice = page.getByRole("link", { name: /^alice\b/ });
  try {
    await alice.waitFor({ state: "visible" });
  } catch {
    throw new Check(`no "alice" link on the user picker at ${page.url()}; it says: ${await pageText()}`);
  }
  await alice.click();
  await expectAppPath(path, "after picking alice");
}

function providerSection(id) {
  return page.locator(`li.provider[data-id="${id}"]`);
}

/// Opens a provider's settings on the admin page (one is open at a time).
async function openSettings(id) {
  const button = providerSection(id).locator("button.open");
  if ((await button.getAttribute("aria-expanded")) !== "true") await button.click();
  await providerSection(id).locator(".settings").waitFor({ state: "visible" });
}

/// The provider ids of the login page's buttons, in page order.
async function loginOrder() {
  await page.goto(`${APP_URL}/api/auth/login`);
  await expectLoginPage("opening the login page");
  const ids = await page.locator("nav a.button").evaluateAll((as) => as.map((a) => a.id));
  return ids.map((id) => id.replace(/^signin-/, ""));
}

const ok = await runAll({
  launch,
  page: () => page,
  browser: () => browser,
  failurePng: FAILURE_PNG,
});
if (ok) {
  console.log(`screenshots: ${SIGNED_IN_PNG}, ${ADMIN_PNG}`);
  console.log(`browser tests passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
finish(ok);
