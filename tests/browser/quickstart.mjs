// Real-browser tests of the quickstart:
// 1. (issue 4) a newcomer opens the app, clicks "Sign in with Authentik", picks alice on the fake
//    Authentik's page, sees her profile, and signs out;
// 2. (issue 9) alice opens the admin page (signing in on the way), types a new sort order for
//    Authentik, saves, and sees the login page put the other provider (the quickstart's custom
//    `authentik-staff`) first; the saved value is still there after a reload;
// 3. (issue 22) the login and error pages in the browser's language (de, fr-CA → fr, unknown →
//    en); axe-core's WCAG 2.1 AA rules on the login, error and admin pages, light and dark; the
//    admin page driven by keyboard alone; the admin page with every provider collapsed within
//    two screens at 1280×800; screenshots of the three pages at 390 and 1280 px, light and dark.
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
import { expectNoViolations, screenshots, tabTo } from "./pages.mjs";

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
const WATCHDOG_MS = 170_000; // the whole run

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

TESTS.push(["the login and error pages speak the browser's language", async () => {
  for (const [accept, lang, button, title] of [
    ["de", "de", "Mit Authentik anmelden", "Anmeldung fehlgeschlagen"],
    ["fr-CA", "fr", "Se connecter avec Authentik", "La connexion a échoué"],
    ["xx-YY", "en", "Sign in with Authentik", "Sign-in failed"],
  ]) {
    await step(`Accept-Language: ${accept} shows the pages in ${lang}`, async () => {
      const context = await browser.newContext({ extraHTTPHeaders: { "Accept-Language": accept } });
      context.setDefaultTimeout(STEP_TIMEOUT_MS);
      const p = await context.newPage();
      try {
        await p.goto(`${APP_URL}/api/auth/login`);
        const htmlLang = await p.evaluate(() => document.documentElement.lang);
        expect(htmlLang === lang, `the login page says <html lang="${htmlLang}">, expected "${lang}"`);
        const label = (await p.locator("a#signin-authentik").innerText()).trim();
        expect(label === button, `the login button says ${JSON.stringify(label)}, expected ${JSON.stringify(button)}`);
        await p.goto(`${APP_URL}/api/auth/error?error=login_expired`);
        const h1 = (await p.locator("h1").innerText()).trim();
        expect(h1 === title, `the error page's heading is ${JSON.stringify(h1)}, expected ${JSON.stringify(title)}`);
        const errLang = await p.evaluate(() => document.documentElement.lang);
        expect(errLang === lang, `the error page says <html lang="${errLang}">, expected "${lang}"`);
      } finally {
        await context.close();
      }
    });
  }
}]);

TESTS.push(["axe-core finds no WCAG 2.1 AA violation on the login, error and admin pages", async () => {
  await step("axe-core is live: it reports a page without lang and with an unlabelled input", async () => {
    await page.setContent("<!doctype html><title>bad</title><input>");
    let caught = "";
    try {
      await expectNoViolations(page, "a page made to fail");
    } catch (e) {
      caught = e.message;
    }
    expect(
      /html-has-lang/.test(caught) && /label/.test(caught),
      `axe-core did not report the bad page's violations: ${caught || "(none)"}`,
    );
  });
  for (const colorScheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme });
    await step(`the login page with an error (${colorScheme})`, async () => {
      await page.goto(`${APP_URL}/api/auth/login?error=login_expired`);
      await expectNoViolations(page, `the login page (${colorScheme})`);
    });
    await step(`the error page (${colorScheme})`, async () => {
      await page.goto(`${APP_URL}/api/auth/error?error=invalid_client`);
      await expectNoViolations(page, `the error page (${colorScheme})`);
    });
    await step(`the admin page, collapsed and with a provider's settings open (${colorScheme})`, async () => {
      await page.goto(`${APP_URL}${ADMIN_PATH}`);
      await expectAppPath(ADMIN_PATH, "opening the admin page as alice");
      await expectNoViolations(page, `the admin page (${colorScheme})`);
      await openSettings("authentik");
      await expectNoViolations(page, `the admin page with Authentik's settings open (${colorScheme})`);
    });
  }
  await page.emulateMedia({ colorScheme: "light" });
}]);

TESTS.push(["alice runs the admin page by keyboard alone", async () => {
  const api = async () => {
    const res = await page.request.get(`${APP_URL}/api/auth/providers`, { timeout: STEP_TIMEOUT_MS });
    return (await res.json()).map((p) => p.id).join(",");
  };
  const said = async (id, re, what) => {
    const result = providerSection(id).locator(".result");
    try {
      await result.getByText(re).waitFor({ state: "visible" });
    } catch {
      const shown = (await result.innerText().catch(() => "")).trim() || "(nothing)";
      throw new Check(`${what}: expected ${re} in ${id}'s result, it shows: ${shown}`);
    }
  };
  const expanded = (id) => providerSection(id).locator("button.open").getAttribute("aria-expanded");

  await step("the admin page lists the staff provider first (as the last test left it)", async () => {
    await page.goto(`${APP_URL}${ADMIN_PATH}`);
    const ids = await page.locator("li.provider").evaluateAll((ls) => ls.map((l) => l.dataset.id));
    expect(ids[0] === "authentik-staff" && ids[1] === "authentik", `the admin page lists [${ids.slice(0, 3)}…]`);
    expect(await api() === "authentik-staff,authentik", `GET /providers: ${await api()}`);
  });

  await step("Tab to the staff provider's switch; Space disables it, Space again enables it", async () => {
    await tabTo(page, 'li.provider[data-id="authentik-staff"] input.toggle');
    await page.keyboard.press("Space");
    await said("authentik-staff", /Disabled\./, "Space on the switch");
    expect(await api() === "authentik", `after disabling, GET /providers: ${await api()}`);
    await page.keyboard.press("Space");
    await said("authentik-staff", /Enabled\./, "Space on the switch again");
    expect(await api() === "authentik-staff,authentik", `after enabling, GET /providers: ${await api()}`);
  });

  await step("Tab to Authentik's move-up button; Enter puts it first, and the login page follows", async () => {
    await tabTo(page, 'li.provider[data-id="authentik"] button.up');
    await page.keyboard.press("Enter");
    await said("authentik", /Order saved\./, "Enter on move up");
    const ids = await page.locator("li.provider").evaluateAll((ls) => ls.map((l) => l.dataset.id));
    expect(ids[0] === "authentik", `after moving up the page lists [${ids.slice(0, 3)}…]`);
    expect(await api() === "authentik,authentik-staff", `after moving up, GET /providers: ${await api()}`);
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.className);
    expect(/move/.test(focused || ""), `after moving, the focus is on ${focused}, not a move button`);
  });

  await step("Tab to Authentik's Settings; Enter opens them; Tab to Save; Enter saves", async () => {
    await tabTo(page, 'li.provider[data-id="authentik"] button.open');
    await page.keyboard.press("Enter");
    expect(await expanded("authentik") === "true", "Enter on Settings did not open Authentik's settings");
    await tabTo(page, 'li.provider[data-id="authentik"] button[type="submit"]');
    await page.keyboard.press("Enter");
    await said("authentik", /Saved\./, "Enter on Save");
  });

  await step("Tab on to the staff provider's Settings; Enter opens them and closes Authentik's", async () => {
    await tabTo(page, 'li.provider[data-id="authentik-staff"] button.open');
    await page.keyboard.press("Enter");
    expect(await expanded("authentik-staff") === "true", "Enter on Settings did not open the staff provider's settings");
    expect(await expanded("authentik") === "false", "Authentik's settings stayed open beside the staff provider's");
    expect(!(await providerSection("authentik").locator(".settings").isVisible()), "Authentik's settings are still visible");
  });
}]);

TESTS.push(["the admin page with every provider collapsed fits in two screens at 1280×800", async () => {
  await step("measure the admin page", async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${APP_URL}${ADMIN_PATH}`);
    const m = await page.evaluate(() => ({
      providers: document.querySelectorAll("li.provider").length,
      open: document.querySelectorAll("li.provider .settings:not([hidden])").length,
      height: document.documentElement.scrollHeight,
    }));
    console.log(`  admin page: ${m.providers} providers, ${m.height} px tall at 1280×800`);
    expect(m.providers >= 16, `the admin page lists ${m.providers} providers, expected every built-in one (16+)`);
    expect(m.open === 0, `${m.open} providers' settings are open on a fresh admin page`);
    expect(m.height <= 1600, `the admin page is ${m.height} px tall, more than two screens (1600 px)`);
  });
}]);

TESTS.push(["screenshots of the login, error and admin pages at 390 and 1280 px, light and dark", async () => {
  await step("take them", async () => {
    const files = [
      ...(await screenshots(page, `${APP_URL}/api/auth/login?error=login_expired`, "login", OUT_DIR)),
      ...(await screenshots(page, `${APP_URL}/api/auth/error?error=invalid_client`, "error", OUT_DIR)),
      ...(await screenshots(page, `${APP_URL}${ADMIN_PATH}`, "admin", OUT_DIR)),
    ];
    console.log(`  ${files.length} screenshots in ${OUT_DIR}`);
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
