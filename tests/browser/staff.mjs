// The staff journey in a real headless Chromium: sign in, create a sitting,
// print the slips to PDF, watch progress while a pupil finishes, close the
// sitting; print the letter to parents, preview the questionnaire, record the
// pupils opted out; every staff page passes axe at WCAG 2.2 AA.
// Inputs: BASE_URL, STAFF_EMAIL, STAFF_PASSWORD, ADMIN_EMAIL, PDF_PATH.
import { statSync, readFileSync } from 'node:fs';
import { launch, assertAccessible, expect, run, submit } from './lib.mjs';

const base = process.env.BASE_URL;
const email = process.env.STAFF_EMAIL;
const password = process.env.STAFF_PASSWORD;
const adminEmail = process.env.ADMIN_EMAIL;
const pdfPath = process.env.PDF_PATH;

async function signIn(page, who) {
  await page.goto(`${base}/staff/login`);
  await page.fill('#email', who);
  await page.fill('#password', password);
  await submit(page, 'button[type=submit].button');
}

async function finishSurvey(browser, code) {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/?code=${encodeURIComponent(code)}`);
  expect(!page.url().includes('code='), `the code stayed in the address: ${page.url()}`);
  await submit(page, 'button[type=submit].button');
  await submit(page, 'button[name=action][value=start]');
  let pages = 0;
  while (!page.url().endsWith('/review')) {
    await submit(page, 'button[name=nav][value=next]');
    pages += 1;
    expect(pages < 300, 'the survey never ended');
  }
  await submit(page, 'form[action="/finish"] button');
  await page.close();
}

async function count(page, state) {
  return Number(await page.textContent(`[data-count=${state}]`));
}

await run({
  'school staff sign in, create a sitting, print slips, watch progress and close it': async () => {
    const browser = await launch();
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/staff/login`);
    await assertAccessible(page, 'the sign-in page');
    await page.fill('#email', email);
    await page.fill('#password', 'not the password');
    await submit(page, 'button[type=submit].button');
    expect((await page.content()).includes('error-summary'), 'expected an error summary for a wrong password');
    await assertAccessible(page, 'the sign-in page with an error');

    await signIn(page, email);
    expect(/\/staff\/schools\/\d+$/.test(page.url()), `expected the school page after sign-in, saw ${page.url()}`);
    await assertAccessible(page, 'the school page');

    await submit(page, 'a[href$="/sittings/new"]');
    await assertAccessible(page, 'the new sitting form');
    await submit(page, 'button[type=submit].button');
    expect((await page.content()).includes('error-summary'), 'expected an error summary for an empty form');
    await assertAccessible(page, 'the new sitting form with errors');
    await page.selectOption('#stage', 'P6');
    await page.fill('#label', 'P6 Room 4');
    await page.fill('#codes', '22');
    await submit(page, 'button[type=submit].button');

    const slips = await page.$$eval('.slip-code', (els) => els.map((e) => e.textContent.trim()));
    expect(slips.length === 22, `expected 22 slips, saw ${slips.length}`);
    await assertAccessible(page, 'the code slips page');
    const csv = await page.getAttribute('a[download]', 'href');
    expect(csv.startsWith('data:text/csv'), 'expected a CSV download link');
    expect(decodeURIComponent(csv).includes(slips[0]), 'expected the CSV to hold the codes');

    await page.emulateMedia({ media: 'print' });
    const perRow = await page.$$eval('.slip-page:first-child .slip', (els) => {
      const tops = els.map((e) => Math.round(e.getBoundingClientRect().top));
      return tops.filter((t) => t === tops[0]).length;
    });
    expect(perRow === 3, `expected 3 slips to a row in print, saw ${perRow}`);
    await page.pdf({ path: pdfPath, format: 'A4', printBackground: true, preferCSSPageSize: true });
    const pdf = readFileSync(pdfPath, 'latin1');
    const pageCount = (pdf.match(/\/Type\s*\/Page[^s]/g) || []).length;
    expect(pageCount === 2, `expected 22 slips to print on 2 A4 pages (21 to a page), saw ${pageCount}`);
    expect(statSync(pdfPath).size > 10000, 'expected a PDF with content');
    await page.emulateMedia({ media: 'screen' });
    const nav = page.locator('.no-print');
    expect(await nav.isVisible(), 'expected the instructions on screen');

    await submit(page, 'a[href^="/staff/sittings/"]');
    await assertAccessible(page, 'the progress page');
    expect(await count(page, 'unused') === 22, 'expected 22 unused codes');
    const progressUrl = page.url();

    await finishSurvey(browser, slips[0]);
    await page.waitForFunction(() => document.querySelector('[data-count=finished]')?.textContent.trim() === '1',
      null, { timeout: 45000 });
    expect(await count(page, 'finished') === 1, 'expected the progress page to show one finished code by itself');
    expect(await count(page, 'unused') === 21, 'expected 21 unused codes');

    await submit(page, 'button.warning');
    expect(page.url().startsWith(progressUrl), `expected to stay on the progress page, saw ${page.url()}`);
    expect((await page.content()).includes('This sitting is closed'), 'expected the sitting to be closed');
    await assertAccessible(page, 'the progress page of a closed sitting');

    const school = page.url().replace(/\/staff\/sittings\/.*/, '');
    await page.goto(`${school}/staff`);
    await assertAccessible(page, 'the school page with a sitting');
    await browser.close();
  },
  'the letter, the questionnaire preview and the opted-out count pass axe': async () => {
    const browser = await launch();
    const page = await (await browser.newContext()).newPage();
    await signIn(page, email);
    const schoolUrl = page.url();

    await submit(page, 'a[href*="/letter?wave="]');
    expect((await page.content()).includes('If you do not want your child to take part'), 'expected the letter');
    await assertAccessible(page, 'the letter to parents');
    await page.emulateMedia({ media: 'print' });
    expect(!(await page.locator('.staff-top').isVisible()), 'expected no menus on the printed letter');
    await page.emulateMedia({ media: 'screen' });

    await page.goto(schoolUrl);
    await submit(page, 'a[href$="/questionnaire"]');
    await assertAccessible(page, 'choosing a stage to preview');
    await submit(page, 'button[type=submit].button:not(.secondary)');
    expect((await page.content()).includes('error-summary'), 'expected an error summary without a stage');
    await assertAccessible(page, 'choosing a stage, with an error');
    await page.selectOption('#stage', 'S2');
    await submit(page, 'button[type=submit].button:not(.secondary)');
    expect((await page.content()).includes('Preview for staff'), 'expected the preview');
    await assertAccessible(page, 'the first preview page');
    await submit(page, 'button[name=nav][value=next]');
    expect(page.url().includes('page=0') && page.url().includes('nav=next'), `expected a GET to the next page, saw ${page.url()}`);
    await assertAccessible(page, 'the second preview page');
    await submit(page, 'button[name=nav][value=back]');
    expect(await page.getAttribute('input[name=page]', 'value') === '0', 'expected Back to reach the first page');

    await page.goto(schoolUrl);
    await submit(page, 'a[href$="/questionnaire"]');
    await page.selectOption('#stage', 'S2');
    await submit(page, 'button[type=submit].button.secondary');
    expect((await page.content()).includes('Page 1:'), 'expected the printable questionnaire');
    await assertAccessible(page, 'the printable questionnaire');

    await page.goto(schoolUrl);
    await submit(page, 'table a[href^="/staff/sittings/"]');
    await page.fill('#opted_out', 'two');
    await submit(page, 'form[action$="/opted-out"] button[type=submit]');
    expect((await page.content()).includes('error-summary'), 'expected an error summary for a count that is no number');
    await assertAccessible(page, 'the progress page with an opted-out error');
    await page.fill('#opted_out', '2');
    await submit(page, 'form[action$="/opted-out"] button[type=submit]');
    expect(await page.inputValue('#opted_out') === '2', 'expected the count saved');
    await browser.close();
  },
  'administrator pages pass axe': async () => {
    const browser = await launch();
    const page = await (await browser.newContext()).newPage();
    await signIn(page, adminEmail);
    await assertAccessible(page, 'the administration page');
    for (const path of ['/staff/admin/users', '/staff/admin/import', '/staff/admin/audit']) {
      await page.goto(`${base}${path}`);
      await assertAccessible(page, path);
    }
    await submit(page, 'a[href="/staff/admin/users"]');
    await submit(page, 'form[action="/staff/admin/users"] button[type=submit]');
    await assertAccessible(page, 'the new account form with errors');
    await page.goto(`${base}/staff`);
    await submit(page, 'table a');
    await submit(page, 'a[href$="/settings"]');
    await assertAccessible(page, 'the partnership settings page');
    await browser.close();
  },
});
