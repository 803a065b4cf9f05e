// The exporter's report.html in headless Chromium, on screen at 1280 px wide
// and printed on A4: every text of every chart lies inside its chart, the
// summary table fits the page, and axe-core finds nothing at WCAG 2.2 AA.
//
// Inputs: REPORT_PATH (the report file), OUT_DIR (where screenshots and the
// printed PDF go, for a person to look at).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { statSync } from 'node:fs';
import { launch, assertAccessible, expect, run } from './lib.mjs';

const reportPath = process.env.REPORT_PATH;
const outDir = process.env.OUT_DIR;
expect(reportPath && outDir, 'expected REPORT_PATH and OUT_DIR');
const url = pathToFileURL(reportPath).href;

// A4 is 210 mm wide: 794 CSS px, less margins of 1 cm a side.
const A4_CONTENT_WIDTH = 718;
const A4_MARGIN = { top: '1cm', right: '1cm', bottom: '1cm', left: '1cm' };

/// Every chart's texts whose box reaches outside the chart's box, and any
/// table wider than the page.
async function overflowing(page) {
  return page.evaluate(() => {
    const slack = 0.5;
    const problems = [];
    let texts = 0;
    for (const svg of document.querySelectorAll('svg[role="img"]')) {
      const box = svg.getBoundingClientRect();
      for (const text of svg.querySelectorAll('text')) {
        texts += 1;
        const r = text.getBoundingClientRect();
        if (r.left < box.left - slack || r.right > box.right + slack
          || r.top < box.top - slack || r.bottom > box.bottom + slack) {
          problems.push(`"${text.textContent}" at ${Math.round(r.left)}..${Math.round(r.right)} `
            + `outside its chart ${Math.round(box.left)}..${Math.round(box.right)} `
            + `(${svg.getAttribute('aria-label').slice(0, 60)})`);
        }
      }
    }
    const page = document.documentElement.clientWidth;
    for (const table of document.querySelectorAll('table')) {
      const r = table.getBoundingClientRect();
      if (r.right > page + slack) {
        problems.push(`a summary table ends at ${Math.round(r.right)} px, past the page's ${page} px`);
      }
    }
    return { problems, texts };
  });
}

async function check(page, what) {
  const { problems, texts } = await overflowing(page);
  expect(texts > 100, `expected the report's charts to hold text on ${what}, saw ${texts} text elements`);
  expect(problems.length === 0,
    `expected every chart text inside its chart on ${what}, saw ${problems.length} outside:\n  ${problems.slice(0, 10).join('\n  ')}`);
}

const browser = await launch();
try {
  await run({
    'on a 1280 px screen': async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(url);
      await check(page, 'a 1280 px screen');
      await assertAccessible(page, 'report.html');
      await page.screenshot({ path: path.join(outDir, 'report-1280.png') });
      // The whole report is far taller than a screenshot can be (over 100,000
      // px), so the chart with the longest labels is captured on its own.
      await page.locator('svg[role="img"][aria-label*="Supercalifragilistic"]').first()
        .screenshot({ path: path.join(outDir, 'report-1280-long-labels.png') });
      await page.close();
    },
    'printed on A4': async () => {
      const page = await browser.newPage({ viewport: { width: A4_CONTENT_WIDTH, height: 1000 } });
      await page.goto(url);
      await page.emulateMedia({ media: 'print' });
      await check(page, 'an A4 page');
      const pdf = path.join(outDir, 'report-a4.pdf');
      await page.pdf({ path: pdf, format: 'A4', margin: A4_MARGIN, printBackground: true });
      expect(statSync(pdf).size > 10000, 'expected a printed PDF with content');
      await page.close();
    },
  });
} finally {
  await browser.close();
}
