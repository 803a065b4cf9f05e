// A wave from start to results in a real headless Chromium: an administrator
// makes a wave and its fieldwork window, a sitting runs and a pupil finishes,
// fieldwork closes, the administrator releases the partnership; a
// coordinator downloads the release and sees the trend beside an earlier
// wave; the school's staff open their school report. Every page passes axe.
// Inputs: BASE_URL, PASSWORD, ADMIN_EMAIL, COORD_EMAIL, TEACHER_EMAIL,
// CPP_ID, SCHOOL_ID, EARLIER, TODAY, YESTERDAY, FIRST_WAVE.
import { launch, assertAccessible, expect, run, submit } from './lib.mjs';

const base = process.env.BASE_URL;
const password = process.env.PASSWORD;
const cpp = process.env.CPP_ID;
const school = process.env.SCHOOL_ID;
const wave = '2027 survey (browser test)';

async function signIn(browser, who) {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/staff/login`);
  await page.fill('#email', who);
  await page.fill('#password', password);
  await submit(page, 'button[type=submit].button');
  return page;
}

async function finishSurvey(browser, code) {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/?code=${encodeURIComponent(code)}`);
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

await run({
  'a wave runs, closes, is released, downloaded, read by its school and compared with the last': async () => {
    const browser = await launch();
    const admin = await signIn(browser, process.env.ADMIN_EMAIL);

    // The wave and its window.
    await admin.goto(`${base}/staff/admin/waves`);
    await admin.fill('#name', wave);
    await submit(admin, 'form[action="/staff/admin/waves"] button[type=submit]');
    expect(/\/staff\/admin\/waves\/\d+$/.test(admin.url()), `expected the new wave's page, saw ${admin.url()}`);
    const wavePage = admin.url();
    await admin.selectOption('#cpp', cpp);
    await admin.fill('#opens', process.env.EARLIER);
    await admin.fill('#closes', process.env.TODAY);
    await submit(admin, 'form[action$="/windows"] button[type=submit]');
    await assertAccessible(admin, 'the wave page');
    // Releasing now is refused: fieldwork is open.
    await admin.selectOption('#unit', cpp);
    await submit(admin, 'form[action$="/releases"] button[type=submit]');
    expect((await admin.content()).includes('Not released'), 'expected a refusal while fieldwork is open');
    await assertAccessible(admin, 'the wave page with a refusal');

    // A sitting, one pupil, and the sitting closed.
    await admin.goto(`${base}/staff/schools/${school}/sittings/new`);
    await admin.selectOption('#stage', 'P6');
    await admin.fill('#label', 'Browser class');
    await admin.fill('#codes', '2');
    const waveValue = await admin.$eval('#wave',
      (el, name) => [...el.options].find((o) => o.textContent.includes(name))?.value, wave);
    expect(waveValue, 'expected the new wave among the sitting form\'s waves');
    await admin.selectOption('#wave', waveValue);
    await submit(admin, 'button[type=submit].button');
    const codes = await admin.$$eval('.slip-code', (els) => els.map((e) => e.textContent.trim()));
    expect(codes.length === 2, `expected 2 slips, saw ${codes.length}`);
    await finishSurvey(browser, codes[0]);
    await admin.goto(`${base}/staff/schools/${school}`);
    await submit(admin, 'table a:has-text("Browser class")');
    await submit(admin, 'button.warning');
    expect((await admin.content()).includes('This sitting is closed'), 'expected the sitting to be closed');

    // Fieldwork ends (the window's last day moves to yesterday), then the release.
    await admin.goto(wavePage);
    await admin.selectOption('#cpp', cpp);
    await admin.fill('#opens', process.env.EARLIER);
    await admin.fill('#closes', process.env.YESTERDAY);
    await submit(admin, 'form[action$="/windows"] button[type=submit]');
    await admin.selectOption('#unit', cpp);
    await submit(admin, 'form[action$="/releases"] button[type=submit]');
    const released = await admin.content();
    expect(!released.includes('Not released'), `expected the release to be made: ${released.slice(0, 2000)}`);
    expect(released.includes('release 1'), 'expected the wave page to list release 1');
    await assertAccessible(admin, 'the wave page after a release');

    // The coordinator downloads it and compares the waves.
    const coord = await signIn(browser, process.env.COORD_EMAIL);
    await coord.goto(`${base}/staff/cpps/${cpp}/releases`);
    await assertAccessible(coord, 'the results page');
    const link = coord.locator('a[href$="/frequencies.csv"]').first();
    const href = await link.getAttribute('href');
    const download = await coord.request.get(`${base}${href}`);
    expect(download.status() === 200, `expected the download, saw ${download.status()}`);
    const text = (await download.text()).replace(/^\uFEFF/, '');
    expect(text.startsWith('cpp_code,cpp_name,school_seed'), 'expected the frequency table');
    await submit(coord, 'a[href$="/trends"]');
    await assertAccessible(coord, 'the trends page');
    const trends = await coord.content();
    expect(trends.includes(wave) && trends.includes(process.env.FIRST_WAVE), 'expected both waves on the trends page');

    // The school's staff open their report from the school page.
    const teacher = await signIn(browser, process.env.TEACHER_EMAIL);
    expect(teacher.url().endsWith(`/staff/schools/${school}`), `expected the school page, saw ${teacher.url()}`);
    await assertAccessible(teacher, 'the school page with results');
    await submit(teacher, `a[href^="/staff/schools/${school}/results/"]`);
    const report = await teacher.content();
    expect(report.includes('<table'), 'expected the school report');
    await assertAccessible(teacher, 'the school report');
    await browser.close();
  },
});
