// Shared helpers for the browser tests: launching Debian's Chromium headless,
// and running axe-core against a page.
import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { readFileSync } from 'node:fs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const AXE_PATH = path.join(here, 'node_modules', 'axe-core', 'axe.min.js');

let axeText = null;
function axeSource() {
  if (axeText === null) axeText = readFileSync(AXE_PATH, 'utf8');
  return axeText;
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/// Runs axe-core at WCAG 2.2 AA and fails with the violations listed.
export async function assertAccessible(page, what) {
  // Evaluated through the debugging protocol, so the page's strict CSP (which
  // forbids injected script tags) stays in force for everything else.
  await page.evaluate(axeSource());
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    return await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
  });
  if (result.violations.length > 0) {
    const lines = result.violations.map((v) =>
      `  ${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`);
    throw new Error(`expected no axe violations on ${what}, saw ${result.violations.length}:\n${lines.join('\n')}`);
  }
}

/// Clicks something that submits a form or follows a link, and waits until
/// the page it leads to has loaded. A survey form sent by the page's script
/// either navigates (the server answered with a redirect) or, when the server
/// answered with a page itself (an ending, or a form with a problem), writes
/// that page into the document without a navigation: either counts.
export async function submit(page, selector) {
  const navigated = page.waitForNavigation().then(() => 'navigated', () => 'no navigation');
  const replaced = page.evaluate(() => new Promise((resolve) => {
    const old = document.documentElement;
    const timer = setInterval(() => {
      if (document.documentElement !== old && document.readyState === 'complete') {
        clearInterval(timer);
        resolve('replaced');
      }
    }, 50);
  })).catch(() => new Promise(() => {}));
  await page.click(selector);
  await Promise.race([navigated, replaced]);
}

export function expect(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

/// Runs named checks one after another, printing each; exits non-zero on the first failure.
export async function run(checks) {
  const only = process.argv[2];
  for (const [name, check] of Object.entries(checks)) {
    if (only && only !== name) continue;
    const started = Date.now();
    try {
      await check();
      console.log(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (error) {
      console.error(`FAIL ${name}: ${error.stack || error}`);
      process.exit(1);
    }
  }
}
