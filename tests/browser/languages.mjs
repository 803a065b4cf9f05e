// Languages in a real headless Chromium: a pupil picks Polish on the code
// screen, before the code, and completes the survey in Polish; Arabic and
// Urdu pages are right to left, laid out from the right, with no axe
// violation. Inputs from the environment: BASE_URL, and one code each in
// PL_CODE (P6), AR_CODE (S2) and UR_CODE (P5).
import { launch, assertAccessible, expect, run, submit } from './lib.mjs';
import { answerAll, typeCode } from './survey.mjs';

const base = process.env.BASE_URL;

/// Opens the code screen and picks the language whose own name is `name`.
async function pickOnCodeScreen(page, code, name) {
  await page.goto(`${base}/`);
  await submit(page, `nav.languages a[lang="${code}"]`);
  const lang = await page.getAttribute('html', 'lang');
  expect(lang === code, `expected the code screen in ${name} (lang=${code}), saw lang=${lang}`);
}

/// On a page of choices, each option's box sits on the side the script
/// starts from: right of its words in a right-to-left language.
async function optionsStartFromTheRight(page, what) {
  const sides = await page.$$eval('.option', (options) => options.slice(0, 3).map((o) => {
    const box = o.querySelector('input').getBoundingClientRect();
    const words = o.querySelector('.olabel').getBoundingClientRect();
    return { box: box.left, words: words.left };
  }));
  expect(sides.length > 0, `expected options on ${what}`);
  for (const side of sides) {
    expect(side.box > side.words, `expected each option's box right of its words on ${what}, saw ${JSON.stringify(side)}`);
  }
  const direction = await page.$eval('main', (m) => getComputedStyle(m).direction);
  expect(direction === 'rtl', `expected main to run right to left on ${what}, saw ${direction}`);
}

/// Checks a right-to-left language from the code screen to the first
/// survey page: lang and dir on every page, axe on each, the layout.
async function rightToLeft(code, name, pupilCode) {
  const browser = await launch();
  const page = await (await browser.newContext()).newPage();
  await pickOnCodeScreen(page, code, name);
  expect(await page.getAttribute('html', 'dir') === 'rtl', `expected the ${name} code screen right to left`);
  await assertAccessible(page, `the ${name} code screen`);
  await typeCode(page, pupilCode);
  expect(page.url().endsWith('/welcome'), `expected the welcome page, saw ${page.url()}`);
  expect(await page.getAttribute('html', 'dir') === 'rtl', `expected the ${name} welcome page right to left`);
  await assertAccessible(page, `the ${name} welcome page`);
  await submit(page, 'button[value=start]');
  expect(await page.getAttribute('html', 'lang') === code, `expected the ${name} survey page`);
  await assertAccessible(page, `the first ${name} survey page`);
  await optionsStartFromTheRight(page, `the first ${name} survey page`);
  await submit(page, 'a.language-link');
  expect(await page.getAttribute('html', 'dir') === 'rtl', `expected the ${name} language page right to left`);
  await assertAccessible(page, `the ${name} language page`);
  await browser.close();
}

await run({
  'a pupil picks Polish on the code screen and completes the survey in Polish': async () => {
    const browser = await launch();
    const page = await (await browser.newContext()).newPage();
    await pickOnCodeScreen(page, 'pl', 'Polish');
    expect((await page.content()).includes('Wpisz swój kod'), 'expected the code screen in Polish');
    await assertAccessible(page, 'the Polish code screen');
    await typeCode(page, process.env.PL_CODE);
    expect(page.url().endsWith('/welcome'), `expected the welcome page, saw ${page.url()}`);
    const welcome = await page.content();
    expect(welcome.includes('<html lang="pl" dir="ltr">'), 'expected the welcome page in Polish');
    expect(welcome.includes('To tłumaczenie jest nowe'), 'expected the draft notice in Polish');
    await submit(page, 'button[value=start]');
    let english = 0;
    const pages = await answerAll(page, {
      onPage: async (p) => {
        const lang = await p.getAttribute('html', 'lang');
        expect(lang === 'pl', `expected every survey page in Polish, saw lang=${lang} at ${p.url()}`);
        if ((await p.content()).includes('>Next<')) english += 1;
      },
    });
    expect(english === 0, `expected Polish buttons on every page, saw English on ${english}`);
    expect(pages > 20, `expected the whole survey, saw ${pages} pages`);
    expect(await page.getAttribute('html', 'lang') === 'pl', 'expected the review page in Polish');
    await submit(page, 'form[action="/finish"] button');
    const ended = await page.content();
    expect(ended.includes('<html lang="pl" dir="ltr">'), 'expected the ending in Polish');
    expect(ended.includes('Childline'), 'expected signposting after finishing');
    await assertAccessible(page, 'the Polish finish page');
    // The survey is finished: the same code cannot start again.
    await page.goto(`${base}/`);
    await typeCode(page, process.env.PL_CODE);
    expect(!page.url().endsWith('/welcome'), 'expected a finished code to be refused');
    await browser.close();
  },
  'Arabic pages are right to left with no axe violation': async () => {
    await rightToLeft('ar', 'Arabic', process.env.AR_CODE);
  },
  'Urdu pages are right to left with no axe violation': async () => {
    await rightToLeft('ur', 'Urdu', process.env.UR_CODE);
  },
});
