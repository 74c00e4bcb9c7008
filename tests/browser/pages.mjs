// What the page tests of quickstart.mjs share (issue 22): axe-core's WCAG 2.1 AA rules run in
// the page, keyboard-only navigation, and screenshots at phone and desktop widths in light and
// dark.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";

import { Check, expect } from "./harness.mjs";

const require = createRequire(import.meta.url);
const AXE_SOURCE = await readFile(require.resolve("axe-core/axe.min.js"), "utf8");

/// The rules of WCAG 2.0 and 2.1, levels A and AA.
export const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// Runs axe-core on the page as it is (the script is evaluated through the DevTools protocol,
/// so the pages' strict CSP stays on) and fails with every violation, its rule and where.
export async function expectNoViolations(page, what) {
  await page.evaluate(`${AXE_SOURCE};0`);
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] }),
    WCAG_TAGS,
  );
  const found = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).slice(0, 4).join(", ")}`,
  );
  expect(found.length === 0, `axe-core found ${found.length} violation(s) on ${what}:\n  ${found.join("\n  ")}`);
  return result.passes.length;
}

/// Presses Tab (at most `max` times) until `selector` has the focus; fails when it never does.
export async function tabTo(page, selector, max = 300) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement === document.querySelector(s), selector)) {
      return i;
    }
    await page.keyboard.press("Tab");
  }
  const at = await page.evaluate(() => {
    const e = document.activeElement;
    return e ? `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}.${e.className}` : "nothing";
  });
  throw new Check(`${max} presses of Tab never focused ${selector} (focus is on ${at})`);
}

/// Screenshots of the page at `url` at 390 and 1280 px wide, light and dark, under `dir` as
/// `<name>-<width>-<scheme>.png`; returns the files.
export async function screenshots(page, url, name, dir) {
  const files = [];
  for (const width of [390, 1280]) {
    for (const colorScheme of ["light", "dark"]) {
      await page.setViewportSize({ width, height: 800 });
      await page.emulateMedia({ colorScheme });
      await page.goto(url);
      const file = join(dir, `${name}-${width}-${colorScheme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      files.push(file);
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  return files;
}
