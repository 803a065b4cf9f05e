// Pupil pages in a real headless Chromium. Inputs come from the environment:
// BASE_URL, and codes as comma-separated lists: P5_CODES, S4_CODES.
import { launch, assertAccessible, expect, run, submit } from './lib.mjs';
import { answerAll, typeCode } from './survey.mjs';

const base = process.env.BASE_URL;
const p5 = (process.env.P5_CODES || '').split(',');
const s4 = (process.env.S4_CODES || '').split(',');

async function enterCode(page, code) {
  await page.goto(`${base}/`);
  await typeCode(page, code);
}

await run({
  'a P5 pupil completes the survey, and every kind of page passes axe': async () => {
    const browser = await launch();
    const page = await (await browser.newContext()).newPage();
    const foreign = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(base)) foreign.push(request.url());
    });
    await page.goto(`${base}/`);
    await assertAccessible(page, 'the code page');
    await page.fill('#code', 'nonsense');
    await submit(page, 'button[type=submit].button');
    expect((await page.content()).includes('error-summary'), 'expected an error summary for a bad code');
    await assertAccessible(page, 'the code page with an error');
    await enterCode(page, p5[0]);
    expect(page.url().endsWith('/welcome'), `expected the welcome page, saw ${page.url()}`);
    await assertAccessible(page, 'the welcome page');
    await submit(page, 'button[value=start]');
    const html = await page.content();
    const css = await (await page.request.get(`${base}/static/survey.css`)).text();
    const weight = Buffer.byteLength(html) + Buffer.byteLength(css);
    expect(weight < 30 * 1024, `expected a survey page under 30 KB of HTML and CSS, saw ${weight} bytes`);
    console.log(`     first survey page: ${weight} bytes of HTML and CSS`);
    const pages = await answerAll(page, { checkKinds: true });
    expect(foreign.length === 0, `expected no third-party requests, saw ${foreign.join(', ')}`);
    expect(pages > 30, `expected one question per page for P5, saw ${pages} pages`);
    await assertAccessible(page, 'the review page');
    await page.goto(`${base}/withdraw`);
    await assertAccessible(page, 'the withdraw confirmation');
    await page.goto(`${base}/review`);
    await submit(page, 'form[action="/finish"] button');
    expect((await page.content()).includes('Childline'), 'expected signposting after finishing');
    await assertAccessible(page, 'the finish page');
    await browser.close();
  },

  'an S4 pupil completes the survey on grouped pages': async () => {
    const browser = await launch();
    const page = await (await browser.newContext()).newPage();
    await enterCode(page, s4[0]);
    await submit(page, 'button[value=start]');
    const first = await page.$$('fieldset.question');
    expect(first.length >= 1, 'expected questions on the first page');
    const pages = await answerAll(page, { checkKinds: true });
    expect(pages < 60, `expected grouped pages for S4, saw ${pages}`);
    await submit(page, 'form[action="/finish"] button');
    expect((await page.textContent('h1')).includes('Thank you'), 'expected the thank-you page');
    await browser.close();
  },

  'a pupil resumes in a second browser, where Back says a question was answered without showing how': async () => {
    const browser = await launch();
    const one = await (await browser.newContext()).newPage();
    await enterCode(one, p5[1]);
    await submit(one, 'button[value=start]');
    const firstId = await one.$eval('fieldset.question input[type=radio]:nth-of-type(1)', (e) => e.id);
    const options = await one.$$eval('fieldset.question input[type=radio]', (es) => es.map((e) => e.id));
    await one.check(`[id="${options[1]}"]`);
    await submit(one, 'button[name=nav][value=next]');
    const secondPage = one.url();
    const two = await (await browser.newContext()).newPage();
    await enterCode(two, p5[1]);
    expect(two.url() === secondPage || two.url().endsWith('/survey'), `expected to resume, saw ${two.url()}`);
    const resumedLegend = await two.textContent('legend .qtext');
    const leftLegend = await one.textContent('legend .qtext');
    expect(resumedLegend === leftLegend, `expected the page the pupil reached ("${leftLegend}"), saw "${resumedLegend}"`);
    await submit(two, 'button[name=nav][value=back]');
    const checked = await two.$$eval('fieldset.question input:checked', (es) => es.length);
    expect(checked === 0, 'Back on the second browser showed the answer given on the first');
    expect(await two.isVisible('.answered-before'), 'expected the page to say the question was answered');
    await submit(one, 'button[name=nav][value=back]');
    expect(await one.isChecked(`[id="${options[1]}"]`), 'Back on the pupil\'s own browser must show the answer');
    expect(firstId !== options[1] || options.length > 1, 'the first page has options');
    await browser.close();
  },

  'a pupil withdraws and nothing is left in the browser': async () => {
    const browser = await launch();
    const page = await (await browser.newContext()).newPage();
    await enterCode(page, p5[2]);
    await submit(page, 'button[value=start]');
    await page.check('fieldset.question input[type=radio] >> nth=0');
    await submit(page, 'button[name=nav][value=next]');
    await submit(page, 'a[href="/withdraw"]');
    await submit(page, 'button[value=yes]');
    expect((await page.textContent('h1')).includes('deleted'), 'expected the answers-deleted page');
    expect(await page.isVisible('.signposting'), 'expected help to be signposted after withdrawing');
    await assertAccessible(page, 'the answers-deleted page');
    await page.goto(`${base}/survey`);
    expect(page.url().endsWith('/'), `expected the code page after withdrawing, saw ${page.url()}`);
    await browser.close();
  },

  'Back after finishing shows nothing of the previous pupil': async () => {
    const browser = await launch();
    const context = await browser.newContext();
    const page = await context.newPage();
    await enterCode(page, p5[3]);
    await submit(page, 'button[value=start]');
    const answered = await page.$$eval('fieldset.question input[type=radio]', (es) => es.map((e) => e.id));
    await page.check(`[id="${answered[0]}"]`);
    await submit(page, 'button[name=nav][value=next]');
    await page.goto(`${base}/review`);
    await submit(page, 'form[action="/finish"] button');
    const cookies = await context.cookies();
    expect(!cookies.some((c) => c.name === 'pupil'), `expected the pupil cookie to be gone after finishing, saw ${cookies.map((c) => c.name)}`);
    const storage = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }));
    expect(storage.local === 0 && storage.session === 0, `expected empty web storage, saw ${JSON.stringify(storage)}`);
    for (let i = 0; i < 4; i++) {
      await page.goBack().catch(() => {});
      const html = await page.content();
      expect(!html.includes('name="page"'), `Back step ${i + 1} must not show a survey page (saw ${page.url()})`);
      expect(!/ checked/.test(html), `Back step ${i + 1} must not show an answer`);
    }
    await browser.close();
  },

  'a survey left idle warns, then returns to the code screen and forgets the pupil': async () => {
    const browser = await launch();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.clock.install();
    await enterCode(page, p5[4]);
    await submit(page, 'button[value=start]');
    expect(page.url().endsWith('/survey'), `expected a survey page, saw ${page.url()}`);
    const idle = await page.$eval('body', (b) => parseInt(b.getAttribute('data-idle-seconds'), 10));
    expect(idle > 60, `expected an idle limit on survey pages, saw ${idle}`);
    await page.clock.fastForward((idle - 30) * 1000);
    await page.waitForSelector('.idle-warning', { timeout: 5000 });
    await page.clock.fastForward(60 * 1000);
    await page.waitForURL((url) => url.pathname === '/' && url.search.includes('notice=timeout'), { timeout: 10000 });
    expect(await page.$('#code') !== null, 'expected the code screen after the idle time-out');
    expect(await page.isVisible('.signposting'), 'expected help to be signposted after the idle time-out');
    await assertAccessible(page, 'the code screen after the idle time-out');
    const cookies = await context.cookies();
    expect(!cookies.some((c) => c.name === 'pupil' && c.value.length > 0 && page.url().includes('survey')), 'no pupil session survives');
    await page.goto(`${base}/survey`);
    expect(new URL(page.url()).pathname === '/', `expected the survey to be closed after the time-out, saw ${page.url()}`);
    await browser.close();
  },

  'where your answers go is linked from the pages; stopping and declining end with help; all pass axe': async () => {
    const browser = await launch();
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/`);
    await submit(page, 'footer a[href="/your-answers"]');
    expect((await page.textContent('h1')).includes('Where your answers go'), 'expected the page on where answers go');
    await assertAccessible(page, 'where your answers go, before a code');
    await submit(page, 'footer a[href="/privacy"]');
    await assertAccessible(page, 'the list of privacy notices');
    await submit(page, 'main a[href$="/privacy"] >> nth=0');
    expect((await page.textContent('h1')).includes('Privacy notice'), 'expected a partnership privacy notice');
    await assertAccessible(page, 'a partnership privacy notice');
    await enterCode(page, p5[5]);
    await submit(page, 'button[value=start]');
    await submit(page, 'footer a[href="/your-answers"]');
    expect((await page.textContent('.lead')).includes('what happens to your answers'), 'expected the primary words for a P5 pupil');
    await assertAccessible(page, 'where your answers go, for a P5 pupil');
    await submit(page, 'footer a[href$="/accessibility"]');
    expect(page.url().includes('/partnerships/'), `expected the pupil's own partnership's statement, saw ${page.url()}`);
    await assertAccessible(page, 'a partnership accessibility statement');
    await page.goBack();
    await submit(page, 'main a[href="/survey"]');
    await submit(page, 'button[name=nav][value=stop]');
    expect((await page.textContent('h1')).includes('saved'), 'expected the answers-saved page');
    expect(await page.isVisible('.signposting'), 'expected help to be signposted after stopping');
    await assertAccessible(page, 'the answers-saved page');
    await enterCode(page, p5[6]);
    await submit(page, 'button[value=decline]');
    expect(await page.isVisible('.signposting'), 'expected help to be signposted after declining');
    await assertAccessible(page, 'the page after declining');
    await browser.close();
  },

  'read-aloud buttons and picture options are drawn as SVG, with no emoji character': async () => {
    // Debian's headless Chromium has no emoji font: an emoji would be drawn
    // as an empty box, so none may reach the page.
    const browser = await launch();
    const page = await (await browser.newContext()).newPage();
    await enterCode(page, p5[7]);
    await submit(page, 'button[value=start]');
    let pages = 0;
    while (await page.$('.options.pictures') === null) {
      expect(!page.url().endsWith('/review'), 'expected a question with picture options for P5');
      await submit(page, 'button[name=nav][value=next]');
      pages += 1;
      expect(pages < 300, 'the survey never ended');
    }
    const found = await page.evaluate(() => {
      const pictographic = /\p{Extended_Pictographic}/u;
      const sized = (svg) => { const r = svg.getBoundingClientRect(); return r.width > 8 && r.height > 8; };
      const options = [...document.querySelectorAll('.options.pictures .option')];
      const say = document.querySelector('button.say-option');
      return {
        options: options.length,
        drawn: options.filter((o) => [...o.querySelectorAll('label svg')].some(sized)).length,
        hidden: [...document.querySelectorAll('main svg')].every((s) => s.getAttribute('aria-hidden') === 'true'),
        labels: options.map((o) => o.querySelector('label').textContent.trim()),
        sayVisible: say !== null && !say.hidden,
        saySvg: say !== null && say.querySelector('svg') !== null && sized(say.querySelector('svg')),
        sayName: say === null ? '' : say.textContent.trim(),
        emoji: [...(document.querySelector('main').textContent.match(new RegExp(pictographic.source, 'gu')) || [])],
      };
    });
    expect(found.options > 1 && found.drawn === found.options,
      `expected every picture option to draw an SVG, saw ${found.drawn} of ${found.options}`);
    expect(found.hidden, 'expected every SVG to be hidden from assistive technology');
    expect(found.labels.every((l) => l.length > 0), `expected every option to keep a text label, saw ${JSON.stringify(found.labels)}`);
    expect(found.sayVisible && found.saySvg, 'expected a visible read-aloud button drawn with an SVG');
    expect(found.sayName.startsWith('Read aloud'), `expected the read-aloud button to be named in words, saw "${found.sayName}"`);
    expect(found.emoji.length === 0, `expected no emoji characters on the page, saw ${found.emoji.join(' ')}`);
    await assertAccessible(page, 'a picture question');
    await browser.close();
  },

  'the whole survey can be completed with JavaScript disabled': async () => {
    const browser = await launch();
    const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    await enterCode(page, s4[1]);
    await submit(page, 'button[value=start]');
    await submit(page, 'button[name=toggle][value=large]');
    expect(await page.$eval('body', (b) => b.className.includes('large')).catch(() => true), 'the text size toggle works');
    await answerAll(page);
    await submit(page, 'form[action="/finish"] button');
    expect((await page.textContent('h1')).includes('Thank you'), 'expected to finish without JavaScript');
    await browser.close();
  },
});
