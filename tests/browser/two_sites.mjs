// Real-browser test of two sites over HTTPS (issue #19, "Real deployments", item 4): the app at
// https://app.localtest:PORT, a fake Authentik at https://idp.localtest:PORT, both signed by a
// test CA that Chromium trusts through its NSS database (no certificate errors are ignored).
//
// 1. Sign-in: the login transaction cookie (__Host-, SameSite=Lax) goes with the cross-site
//    top-level redirect from idp.localtest back to the app's callback, and the browser lands
//    signed in with a __Host- session cookie (Secure, Path=/, host-only).
// 2. Sign-out clears both cookies (the transaction one of a sign-in left pending in another tab).
// 3. Back-channel logout: the fake POSTs a logout token to the app (over HTTPS, by name); the
//    browser's next request is signed out.
// 4. Front-channel logout: the fake's end-session page on idp.localtest embeds the app's
//    front-channel URL in an iframe (a third-party context: Chromium sends no SameSite=Lax cookie
//    there, and the app needs none, it ends the session by iss and sid); the browser's session
//    ends.
// 5. Sign in with Apple (issue 20, item 5): the fake's page on http://127.0.0.1 POSTs the
//    authorization response cross-site to the app's callback (form_post); its own transaction
//    cookie (__Host-, SameSite=None) goes with that POST, the browser lands signed in with the
//    name from the first authorization's `user` field, and keeps it on a later sign-in.
//
// Run it through ./two_sites.sh, which builds and starts examples/two_sites.rs and makes the NSS
// database. Env: APP_URL, IDP_URL, ISSUER (required), CHROMIUM_HOME (the HOME whose
// .pki/nssdb trusts the CA; required), CHROMIUM (default /usr/bin/chromium).
//
// Every wait is bounded, and a watchdog ends the whole run after 100 s. Prints "N passed, M
// failed" (a test that fails stops the run: later tests count as failed too) and exits 0 when
// all passed, 1 with a "FAIL: <step>: <reason>" line otherwise.

import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { Check, TESTS, expect, finish, runAll, step, watchdog } from "./harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "..", "..");
const OUT_DIR = join(REPO, "target", "browser");
const FAILURE_PNG = join(OUT_DIR, "two-sites-failure.png");

const trim = (u) => (u || "").replace(/\/+$/, "");
const APP_URL = trim(process.env.APP_URL);
const IDP_URL = trim(process.env.IDP_URL);
const ISSUER = process.env.ISSUER || "";
const APPLE_URL = trim(process.env.APPLE_URL);
const CHROMIUM_HOME = process.env.CHROMIUM_HOME || "";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const SESSION_COOKIE = "__Host-tower_oidc_session";
const TX_COOKIE = "__Host-tower_oidc_tx";
const TX_POST_COOKIE = "__Host-tower_oidc_tx_post";
const APPLE_CALLBACK_PATH = "/api/auth/providers/apple/callback";
const CALLBACK_PATH = "/api/auth/providers/authentik/callback";
const FRONTCHANNEL_PATH = "/api/auth/providers/authentik/frontchannel-logout";

const STEP_TIMEOUT_MS = 15_000;
const WATCHDOG_MS = 100_000;

for (const [name, value] of Object.entries({ APP_URL, IDP_URL, ISSUER, APPLE_URL, CHROMIUM_HOME })) {
  if (!value) {
    console.error(`FAIL: setup: ${name} is not set (run ./two_sites.sh)`);
    process.exit(1);
  }
}
const APP_HOST = new URL(APP_URL).hostname;
const IDP_HOST = new URL(IDP_URL).hostname;

const started = Date.now();
let browser;
let context;
let page; // the tab a person uses
let api; // a second tab on the app's origin, for fetch() with the browser's cookies
watchdog(WATCHDOG_MS);

async function pageText(p = page) {
  try {
    const text = await p.locator("body").innerText({ timeout: 2_000 });
    return text.replace(/\s+/g, " ").trim().slice(0, 400);
  } catch {
    return "(no page text)";
  }
}

/// Waits until the page is at `path` on `origin` (query ignored), or explains where it is.
async function expectAt(origin, path, why) {
  try {
    await page.waitForURL((u) => u.origin === origin && u.pathname === path);
  } catch {
    throw new Check(
      `${why}: expected ${origin}${path}, but the browser is at ${page.url()}; ` +
        `the page says: ${await pageText()}`,
    );
  }
}

async function expectLoginPage(why) {
  await expectAt(APP_URL, "/api/auth/login", why);
  await page.locator("a#signin-authentik").waitFor({ state: "visible" }).catch(async () => {
    throw new Check(`${why}: the login page has no a#signin-authentik; it says: ${await pageText()}`);
  });
}

/// A request from the app's own page, through Chromium's network stack (its host resolver
/// rules, its trust, its cookie jar): `{status, body}`.
async function appFetch(path, method = "GET") {
  return api.evaluate(
    async ([path, method]) => {
      const r = await fetch(path, { method, headers: { accept: "application/json" }, redirect: "manual" });
      return { status: r.status, body: await r.text() };
    },
    [path, method],
  );
}

async function sessionStatus() {
  return appFetch("/api/auth/session");
}

/// The app's cookies in the browser's jar, by name.
async function appCookies() {
  const all = await context.cookies(APP_URL);
  return Object.fromEntries(all.map((c) => [c.name, c]));
}

/// The names of the cookies a request carried (its Cookie header as the network saw it).
async function cookieNames(request) {
  const header = (await request.allHeaders())["cookie"] || "";
  return header
    .split(";")
    .map((p) => p.trim().split("=")[0])
    .filter(Boolean);
}

async function launch() {
  await mkdir(OUT_DIR, { recursive: true });
  await step("launch Chromium (both names mapped to 127.0.0.1, the test CA in its NSS database)", async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 20_000,
      // Chromium on Linux reads the user's trust settings from $HOME/.pki/nssdb.
      env: { ...process.env, HOME: CHROMIUM_HOME },
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--host-resolver-rules=MAP ${APP_HOST} 127.0.0.1, MAP ${IDP_HOST} 127.0.0.1`,
      ],
    });
    // ignoreHTTPSErrors stays false: a certificate Chromium does not trust fails the test.
    context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    page = await context.newPage();
    api = await context.newPage();
  });

  await step("both sites load over HTTPS with the test CA trusted (no certificate error)", async () => {
    for (const [p, url] of [
      [api, `${APP_URL}/api/auth/providers`],
      [page, `${ISSUER}.well-known/openid-configuration`],
    ]) {
      let res;
      try {
        res = await p.goto(url);
      } catch (e) {
        throw new Check(`opening ${url}: ${e.message.split("\n")[0]}`);
      }
      expect(res && res.ok(), `${url}: HTTP ${res && res.status()}`);
      const sec = await res.securityDetails();
      expect(sec && sec.protocol, `${url}: no TLS security details`);
    }
  });
}

/// From the login page: "Sign in with Authentik", pick `username` on idp.localtest, land on `/`.
/// Returns the callback request (the cross-site redirect back) and the transaction cookie as
/// the browser held it while at the provider.
async function signIn(username) {
  await page.goto(`${APP_URL}/`);
  await expectLoginPage("opening / signed out");
  let callback;
  let tx;
  const seen = (r) => {
    if (r.url().startsWith(APP_URL + CALLBACK_PATH)) callback = r;
  };
  page.on("request", seen);
  try {
    await page.locator("a#signin-authentik").click();
    await expectAt(IDP_URL, "/application/o/authorize/", 'after "Sign in with Authentik"');
    tx = (await appCookies())[TX_COOKIE];
    expect(tx, `no ${TX_COOKIE} cookie in the browser after the sign-in started`);
    const link = page.getByRole("link", { name: new RegExp(`^${username}\\b`) });
    await link.waitFor({ state: "visible" }).catch(async () => {
      throw new Check(`no "${username}" link on the user picker at ${page.url()}; it says: ${await pageText()}`);
    });
    await link.click();
    // Back on the app: at `/` once the callback redirected, at the callback if it failed.
    await page.waitForURL((u) => u.origin === APP_URL).catch(() => {});
  } finally {
    page.off("request", seen);
  }
  expect(callback, `the browser never requested ${APP_URL}${CALLBACK_PATH}; it is at ${page.url()}`);
  return { callback, tx };
}

TESTS.push(["sign-in across two sites lands with __Host- cookies", async () => {
  let callback;
  let tx;
  await step("signed out: GET /api/auth/session is 401", async () => {
    const s = await sessionStatus();
    expect(s.status === 401, `GET /api/auth/session before sign-in: ${s.status} ${s.body}`);
  });

  await step("sign in as alice at idp.localtest and come back to app.localtest", async () => {
    ({ callback, tx } = await signIn("alice"));
  });

  await step("the callback was a cross-site navigation that carried the transaction cookie", async () => {
    const headers = await callback.allHeaders();
    expect(
      headers["sec-fetch-site"] === "cross-site",
      `the callback's Sec-Fetch-Site is ${JSON.stringify(headers["sec-fetch-site"])}, expected "cross-site"`,
    );
    expect(callback.isNavigationRequest(), `the callback was not a top-level navigation`);
    // What the browser does first, then the attributes that make it so.
    const names = await cookieNames(callback);
    expect(
      names.includes(TX_COOKIE),
      `the callback request carried no ${TX_COOKIE} (cookies sent: [${names}]; the browser held ` +
        `it with SameSite=${tx.sameSite}); the browser is at ${page.url()}; ` +
        `the page says: ${await pageText()}`,
    );
    expect(
      tx.secure && tx.httpOnly && tx.path === "/" && tx.sameSite === "Lax" && tx.domain === APP_HOST,
      `${TX_COOKIE} was ${JSON.stringify({ ...tx, value: "…" })}; ` +
        `expected Secure, HttpOnly, Path=/, SameSite=Lax, host-only`,
    );
  });

  await step("alice is signed in, with a __Host- session cookie and no transaction left", async () => {
    await expectAt(APP_URL, "/", "after the callback");
    const name = await page.locator("#user-name").innerText().catch(async () => {
      throw new Check(`back at ${page.url()} but not signed in; the page says: ${await pageText()}`);
    });
    expect(name.trim() === "Alice Anders", `the home page greets ${JSON.stringify(name)}`);
    const jar = await appCookies();
    const session = jar[SESSION_COOKIE];
    expect(session, `no ${SESSION_COOKIE} cookie; the app's cookies: [${Object.keys(jar)}]`);
    expect(
      session.secure && session.httpOnly && session.path === "/" && session.sameSite === "Lax" &&
        session.domain === APP_HOST,
      `${SESSION_COOKIE}: ${JSON.stringify(session)}; expected Secure, HttpOnly, Path=/, SameSite=Lax, host-only`,
    );
    expect(!jar[TX_COOKIE], `${TX_COOKIE} is still there after the callback consumed it`);
    const s = await sessionStatus();
    expect(s.status === 200, `GET /api/auth/session while signed in: ${s.status} ${s.body}`);
    expect(JSON.parse(s.body).name === "Alice Anders", `GET /api/auth/session: ${s.body}`);
  });
}]);

TESTS.push(["sign-out clears the session and transaction cookies", async () => {
  await step("a sign-in left pending at idp.localtest in another tab holds a transaction cookie", async () => {
    const other = await context.newPage();
    try {
      await other.goto(`${APP_URL}/api/auth/providers/authentik/authorize`);
      await other.waitForURL((u) => u.origin === IDP_URL && u.pathname === "/application/o/authorize/");
    } finally {
      await other.close();
    }
    const jar = await appCookies();
    expect(jar[SESSION_COOKIE] && jar[TX_COOKIE], `the app's cookies before sign-out: [${Object.keys(jar)}]`);
  });
  await step('"Sign out" shows the login page', async () => {
    await page.goto(`${APP_URL}/`);
    await page.locator("#sign-out").click();
    await expectLoginPage("after signing out");
  });
  await step("neither cookie is left, and the session is over", async () => {
    const jar = await appCookies();
    expect(!jar[SESSION_COOKIE], `${SESSION_COOKIE} is still in the browser after sign-out`);
    expect(!jar[TX_COOKIE], `${TX_COOKIE} is in the browser after sign-out`);
    const s = await sessionStatus();
    expect(s.status === 401, `GET /api/auth/session after sign-out: ${s.status} ${s.body}`);
  });
}]);

TESTS.push(["back-channel logout at the provider ends the browser's session", async () => {
  await step("sign in as alice again", async () => {
    await signIn("alice");
    const s = await sessionStatus();
    expect(s.status === 200, `GET /api/auth/session after signing in: ${s.status} ${s.body}`);
  });
  await step("the fake ends alice's Authentik sessions and POSTs a logout token to the app", async () => {
    const r = await appFetch("/test/backchannel/alice", "POST");
    expect(r.status === 200, `POST /test/backchannel/alice: ${r.status} ${r.body}`);
    const report = JSON.parse(r.body);
    expect(report.ended >= 1, `no Authentik session of alice's ended: ${r.body}`);
    expect(
      report.deliveries.length >= 1 && report.deliveries.every((d) => d.status === 200),
      `the back-channel deliveries to https://${APP_HOST}: ${JSON.stringify(report.deliveries)}; expected 200s`,
    );
  });
  await step("the browser's next request is signed out", async () => {
    const s = await sessionStatus();
    expect(s.status === 401, `GET /api/auth/session after back-channel logout: ${s.status} ${s.body}`);
    await page.goto(`${APP_URL}/`);
    await expectLoginPage("reloading / after back-channel logout");
  });
}]);

TESTS.push(["a front-channel logout iframe on the provider's site ends the browser's session", async () => {
  await step("sign in as alice again; the fake's logout method is now front-channel", async () => {
    await signIn("alice");
    const s = await sessionStatus();
    expect(s.status === 200, `GET /api/auth/session after signing in: ${s.status} ${s.body}`);
    const r = await appFetch("/test/frontchannel", "POST");
    expect(r.status === 200, `POST /test/frontchannel: ${r.status} ${r.body}`);
  });

  let frameRequest;
  await step("alice logs out at idp.localtest: its page loads the app's logout URL in an iframe", async () => {
    const seen = (r) => {
      if (r.url().startsWith(APP_URL + FRONTCHANNEL_PATH)) frameRequest = r;
    };
    page.on("request", seen);
    try {
      const loaded = page.waitForResponse((r) => r.url().startsWith(APP_URL + FRONTCHANNEL_PATH));
      await page.goto(`${ISSUER}end-session/`);
      await expectAt(IDP_URL, new URL(`${ISSUER}end-session/`).pathname, "opening the end-session page");
      const text = await pageText();
      expect(/logged out/i.test(text), `the fake's end-session page says: ${text}`);
      const src = await page.locator("iframe.frontchannel-logout").first().getAttribute("src").catch(() => null);
      expect(
        src && src.startsWith(APP_URL + FRONTCHANNEL_PATH + "?iss="),
        `the end-session page's iframe is ${JSON.stringify(src)}, expected ${APP_URL}${FRONTCHANNEL_PATH}?iss=…`,
      );
      const res = await loaded.catch(() => null);
      expect(res, `the iframe never loaded ${APP_URL}${FRONTCHANNEL_PATH}`);
      expect(res.status() === 200, `the front-channel URL answered ${res.status()}: ${await res.text()}`);
    } finally {
      page.off("request", seen);
    }
    const frame = page.frames().find((f) => f.url().startsWith(APP_URL + FRONTCHANNEL_PATH));
    expect(frame, `no frame of the app's front-channel URL on the end-session page`);
    // Rendered, not blocked: the app's frame-ancestors names the provider's origin.
    const said = await frame.locator("body").innerText({ timeout: 5_000 }).catch(() => "(blocked)");
    expect(/signed out/i.test(said), `the front-channel iframe shows ${JSON.stringify(said)}`);
  });

  await step("the iframe was a cross-site subresource that carried no session cookie", async () => {
    const headers = await frameRequest.allHeaders();
    expect(
      headers["sec-fetch-site"] === "cross-site" && headers["sec-fetch-dest"] === "iframe",
      `the iframe request's Sec-Fetch-Site/Dest: ${headers["sec-fetch-site"]}/${headers["sec-fetch-dest"]}`,
    );
    const names = await cookieNames(frameRequest);
    expect(
      !names.includes(SESSION_COOKIE),
      `Chromium sent the SameSite=Lax ${SESSION_COOKIE} in a cross-site iframe (cookies: [${names}])`,
    );
    expect(
      (await appCookies())[SESSION_COOKIE],
      `the session cookie is gone from the browser: the iframe could not have cleared it`,
    );
  });

  await step("the browser's session is over all the same (found by iss and sid)", async () => {
    const s = await sessionStatus();
    expect(s.status === 401, `GET /api/auth/session after front-channel logout: ${s.status} ${s.body}`);
    await page.goto(`${APP_URL}/`);
    await expectLoginPage("reloading / after front-channel logout");
  });
}]);

/// Sign in with Apple from the app's authorize route; returns the callback request (the fake's
/// cross-site form POST) and the transaction cookie as the browser held it meanwhile.
async function appleSignIn() {
  let callback;
  const seen = (r) => {
    if (r.url().startsWith(APP_URL + APPLE_CALLBACK_PATH)) callback = r;
  };
  page.on("request", seen);
  let tx;
  try {
    // The fake's page submits itself at once; the cookie is read from the authorize answer.
    const authorized = page.waitForResponse((r) => r.url().startsWith(`${APP_URL}/api/auth/providers/apple/authorize`));
    await page.goto(`${APP_URL}/api/auth/providers/apple/authorize?return_to=/`, { waitUntil: "commit" });
    const res = await authorized;
    const set = (await res.headerValue("set-cookie")) || "";
    tx = set.split("\n").find((c) => c.startsWith(`${TX_POST_COOKIE}=`));
    await page.waitForURL((u) => u.origin === APP_URL && u.pathname === "/").catch(() => {});
  } finally {
    page.off("request", seen);
  }
  expect(callback, `the browser never requested ${APP_URL}${APPLE_CALLBACK_PATH}; it is at ${page.url()}`);
  return { callback, tx };
}

TESTS.push(["Sign in with Apple: the form_post callback is a cross-site POST that lands signed in", async () => {
  await step("signed out first", async () => {
    await page.goto(`${APP_URL}/`);
    if (await page.locator("#sign-out").count()) await page.locator("#sign-out").click();
    await expectLoginPage("before signing in with Apple");
  });
  let callback;
  let tx;
  await step("authorize at the fake Apple, whose page POSTs back to the app", async () => {
    ({ callback, tx } = await appleSignIn());
  });
  await step("the callback was a cross-site POST carrying the SameSite=None transaction cookie", async () => {
    expect(
      tx && /;\s*SameSite=None/i.test(tx) && /;\s*Secure/i.test(tx) && /;\s*HttpOnly/i.test(tx),
      `the authorize answer set ${JSON.stringify(tx)}; expected ${TX_POST_COOKIE} with SameSite=None; Secure; HttpOnly`,
    );
    expect(callback.method() === "POST", `the callback was a ${callback.method()}`);
    const headers = await callback.allHeaders();
    expect(
      headers["sec-fetch-site"] === "cross-site",
      `the callback's Sec-Fetch-Site is ${JSON.stringify(headers["sec-fetch-site"])}, expected "cross-site"`,
    );
    const names = await cookieNames(callback);
    expect(names.includes(TX_POST_COOKIE), `the POST carried [${names}], not ${TX_POST_COOKIE}`);
    expect(!names.includes(SESSION_COOKIE), `a SameSite=Lax session cookie went with a cross-site POST`);
  });
  await step("signed in with the name of the first authorization's user field", async () => {
    await expectAt(APP_URL, "/", "after the form_post callback");
    const name = await page.locator("#user-name").innerText().catch(async () => {
      throw new Check(`back at ${page.url()} but not signed in; the page says: ${await pageText()}`);
    });
    expect(name.trim() === "Ada Lovelace", `the home page greets ${JSON.stringify(name)}`);
    const jar = await appCookies();
    expect(jar[SESSION_COOKIE], `no ${SESSION_COOKIE}; the app's cookies: [${Object.keys(jar)}]`);
    expect(!jar[TX_POST_COOKIE], `${TX_POST_COOKIE} is still there after the callback consumed it`);
  });
  await step("signed out and in again (no user field now): the name is kept", async () => {
    await page.locator("#sign-out").click();
    await expectLoginPage("after signing out");
    const again = await appleSignIn();
    const body = again.callback.postData() || "";
    expect(!/(^|&)user=/.test(body), `the second authorization sent a user field: ${body}`);
    await expectAt(APP_URL, "/", "after the second form_post callback");
    const name = await page.locator("#user-name").innerText();
    expect(name.trim() === "Ada Lovelace", `the second sign-in greets ${JSON.stringify(name)}`);
  });
}]);

const ok = await runAll({
  launch,
  page: () => page,
  browser: () => browser,
  failurePng: FAILURE_PNG,
});
if (ok) console.log(`two-site browser tests passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
finish(ok);
