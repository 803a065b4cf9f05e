// The day of the survey in a real headless Chromium: the device check page,
// read-aloud voices, and a survey sent over a connection that drops.
// Inputs from the environment: BASE_URL; S4_CODES (codes of an S4
// sitting); RESULT_FILE, where the answers given on the pages whose sending
// failed are written for the Rust side to find in the stored response.
import { writeFileSync } from 'node:fs';
import { launch, assertAccessible, expect, run, submit } from './lib.mjs';

const base = process.env.BASE_URL;
const s4 = (process.env.S4_CODES || '').split(',');

async function enterCode(page, code) {
  await page.goto(`${base}/`);
  await page.fill('#code', code);
  await submit(page, 'button[type=submit].button');
}

/// Runs the check page and returns its lines as { name, state, text }, only
/// those shown, once the summary says it finished.
async function runCheck(page) {
  const started = Date.now();
  await page.goto(`${base}/check`);
  await page.waitForFunction(() => document.getElementById('check-summary').textContent.startsWith('Finished'),
    null, { timeout: 10000 });
  const took = Date.now() - started;
  const lines = await page.$$eval('#device-check .check', (items) => items
    .filter((i) => getComputedStyle(i).display !== 'none')
    .map((i) => ({
      name: i.getAttribute('data-check'),
      state: i.classList.contains('good') ? 'good' : i.classList.contains('bad') ? 'bad' : 'unknown',
      text: i.textContent.trim(),
    })));
  return { took, lines, byName: Object.fromEntries(lines.map((l) => [l.name, l])) };
}

/// What voices this Chromium really has, once they have had time to load.
async function realVoices(page) {
  return page.evaluate(() => new Promise((resolve) => {
    if (!('speechSynthesis' in window)) { resolve(null); return; }
    const now = speechSynthesis.getVoices();
    if (now.length > 0) { resolve(now.map((v) => v.lang)); return; }
    speechSynthesis.addEventListener('voiceschanged', () => resolve(speechSynthesis.getVoices().map((v) => v.lang)));
    setTimeout(() => resolve(speechSynthesis.getVoices().map((v) => v.lang)), 2500);
  }));
}

/// Replaces the browser's voices with `langs` and records what is spoken.
function fakeVoices(langs) {
  return `(() => {
    const voices = ${JSON.stringify(langs)}.map((lang) => ({ lang, name: 'Fake ' + lang, default: false }));
    window.__spoken = [];
    window.SpeechSynthesisUtterance = function (text) { this.text = text; };
    speechSynthesis.getVoices = () => voices;
    speechSynthesis.speak = (u) => window.__spoken.push({ text: u.text, voice: u.voice ? u.voice.name : null, lang: u.lang });
    speechSynthesis.cancel = () => {};
  })();`;
}

/// Picks the first option of every question on the page, except that with
/// `second` the first question gets its second option; returns that choice.
async function answerPage(page, { second = false } = {}) {
  const questions = await page.$$eval('fieldset.question', (sets) => sets.map((s) => {
    const radios = [...s.querySelectorAll('input[type=radio], input[type=checkbox]')];
    const number = s.querySelector('input.number');
    return { radios: radios.map((r) => ({ id: r.id, name: r.name, value: r.value })), number: number ? number.id : null };
  }));
  let chosen = null;
  for (const [index, q] of questions.entries()) {
    const pick = second && index === 0 && q.radios.length > 1 ? q.radios[1] : q.radios[0];
    if (pick) {
      await page.check(`[id="${pick.id}"]`);
      if (index === 0) chosen = { name: pick.name, value: pick.value, id: pick.id };
    }
    if (q.number) await page.fill(`[id="${q.number}"]`, '3');
  }
  return chosen;
}

await run({
  'the device check page shows each line in words, in under ten seconds, and passes axe': async () => {
    const browser = await launch();
    const page = await (await browser.newContext()).newPage();
    const check = await runCheck(page);
    expect(new URL(page.url()).pathname === '/check', `expected to stay on /check, saw ${page.url()}`);
    expect(check.took < 10000, `expected the check to finish in under 10 s, took ${check.took} ms`);
    for (const name of ['cookies', 'styles', 'script', 'speed']) {
      const line = check.byName[name];
      expect(line && line.state === 'good' && line.text.includes('works.') && !line.text.includes('does not work'),
        `expected the ${name} line to say it works, saw ${JSON.stringify(line)}`);
    }
    expect(/round trip takes \d+ ms \(the limit is 500 ms\)/.test(check.byName.speed.text),
      `expected the round trip and its limit, saw "${check.byName.speed.text}"`);
    // Headless Chromium usually has no voices: the line then says, in red
    // and in words, that read-aloud will tell pupils there is none.
    const voices = await realVoices(page);
    const english = (voices || []).some((l) => l.toLowerCase().startsWith('en'));
    const voice = check.byName.voice;
    if (english) {
      expect(voice.state === 'good', `expected the voice line green on a device with an English voice, saw ${JSON.stringify(voice)}`);
    } else {
      expect(voice.state === 'bad' && voice.text.includes('does not work') && voice.text.includes('no English voice'),
        `expected the voice line red on a device without an English voice (${JSON.stringify(voices)}), saw ${JSON.stringify(voice)}`);
      expect(voice.text.includes('No voice for: English, '), `expected the languages without a voice listed, saw "${voice.text}"`);
    }
    const summary = await page.textContent('#check-summary');
    expect(summary.includes(`of ${check.lines.length} lines work`), `expected a summary of the lines, saw "${summary}"`);
    console.log(`     ${summary}`);
    await assertAccessible(page, 'the device check page');
    const cookies = await page.context().cookies();
    expect(!cookies.some((c) => c.name === 'pupil'), 'the check page must not start a pupil session');
    await browser.close();
  },

  'a blocked stylesheet is reported red': async () => {
    const browser = await launch();
    const context = await browser.newContext();
    await context.route('**/static/survey.css', (route) => route.abort());
    const page = await context.newPage();
    const check = await runCheck(page);
    const styles = check.byName.styles;
    expect(styles && styles.state === 'bad' && styles.text.includes('Pages and styles: does not work'),
      `expected the styles line red, saw ${JSON.stringify(check.lines)}`);
    expect(check.lines.filter((l) => l.name === 'styles').length === 1, 'expected one styles line');
    expect(check.byName.cookies.state === 'good', 'cookies still work');
    await browser.close();
  },

  'blocked cookies are reported red': async () => {
    const browser = await launch();
    const context = await browser.newContext();
    // A browser that refuses cookies keeps none of those it is sent.
    await context.route((url) => url.pathname === '/check' && !url.searchParams.has('sent'), async (route) => {
      const response = await route.fetch({ maxRedirects: 0 });
      await context.clearCookies();
      const headers = Object.fromEntries(Object.entries(response.headers())
        .filter(([name]) => name.toLowerCase() !== 'set-cookie'));
      await route.fulfill({ response, headers });
    });
    const page = await context.newPage();
    const check = await runCheck(page);
    const cookies = check.byName.cookies;
    expect(cookies.state === 'bad' && cookies.text.includes('Cookies: does not work'),
      `expected the cookies line red, saw ${JSON.stringify(cookies)}`);
    await browser.close();
  },

  'without JavaScript the check reports cookies and styles, and says the rest needs JavaScript': async () => {
    const browser = await launch();
    const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    await page.goto(`${base}/check`);
    const text = await page.textContent('main');
    expect(text.includes('Cookies: works.'), 'expected cookies to be checked without JavaScript');
    expect(await page.isVisible('.check-styles-ok') && !(await page.isVisible('.check-styles-bad')),
      'expected the styles line green through the stylesheet alone');
    const unknown = await page.$$eval('.check.unknown', (items) => items.map((i) => i.textContent));
    expect(unknown.length === 3 && unknown.every((t) => t.includes('not checked')),
      `expected three lines that were not checked, saw ${JSON.stringify(unknown)}`);
    expect(text.includes('This needs JavaScript') && text.includes('JavaScript is off on this device'),
      'expected the page to say that the rest needs JavaScript');
    await browser.close();
  },

  'read-aloud uses a voice of the page language and never another': async () => {
    const browser = await launch();
    // A device with English and Polish voices reads a Polish page in Polish.
    let context = await browser.newContext();
    await context.addInitScript(fakeVoices(['en-GB', 'pl-PL']));
    let page = await context.newPage();
    await enterCode(page, s4[2]);
    await page.goto(`${base}/welcome?lang=pl`);
    await submit(page, 'button[value=start]');
    expect(await page.getAttribute('html', 'lang') === 'pl', 'expected a Polish page');
    await page.click('button.say >> nth=0');
    await page.waitForFunction(() => window.__spoken.length > 0, null, { timeout: 5000 });
    const spoken = await page.evaluate(() => window.__spoken);
    expect(spoken[0].voice === 'Fake pl-PL' && spoken[0].lang === 'pl-PL',
      `expected the Polish voice, saw ${JSON.stringify(spoken)}`);
    expect((await page.textContent('.live-status')) === '', 'expected no message when there is a voice');
    await context.close();

    // A device with only an English voice says so, in Polish, and reads nothing.
    context = await browser.newContext();
    await context.addInitScript(fakeVoices(['en-GB', 'de-DE']));
    page = await context.newPage();
    await enterCode(page, s4[3]);
    await page.goto(`${base}/welcome?lang=pl`);
    await submit(page, 'button[value=start]');
    await page.click('button.say >> nth=0');
    await page.waitForFunction(() => document.querySelector('.live-status').textContent.length > 0, null, { timeout: 5000 });
    expect((await page.textContent('.live-status')).startsWith('To urządzenie nie ma głosu'),
      `expected the Polish no-voice message, saw "${await page.textContent('.live-status')}"`);
    expect((await page.evaluate(() => window.__spoken.length)) === 0, 'nothing may be read in another language');
    await assertAccessible(page, 'a survey page saying there is no voice');
    await context.close();

    // This Chromium's own voices: a Polish pupil hears Polish or is told there is none.
    context = await browser.newContext();
    page = await context.newPage();
    await enterCode(page, s4[4]);
    await page.goto(`${base}/welcome?lang=pl`);
    await submit(page, 'button[value=start]');
    const voices = await realVoices(page);
    const polish = (voices || []).some((l) => l.toLowerCase().startsWith('pl'));
    if (voices !== null) {
      await page.click('button.say >> nth=0');
      if (polish) {
        await page.waitForTimeout(2000);
        expect((await page.textContent('.live-status')) === '', 'a device with a Polish voice reads aloud');
      } else {
        await page.waitForFunction(() => document.querySelector('.live-status').textContent.length > 0, null, { timeout: 5000 });
        expect((await page.textContent('.live-status')).startsWith('To urządzenie nie ma głosu'),
          'expected the no-voice message on this device, which has no Polish voice');
      }
    }
    console.log(`     this Chromium's voices: ${JSON.stringify(voices)}`);
    await browser.close();
  },

  'a survey sent over a connection that drops loses nothing and stores it once': async () => {
    const browser = await launch();
    const context = await browser.newContext();
    const page = await context.newPage();
    await enterCode(page, s4[0]);
    await submit(page, 'button[value=start]');
    await answerPage(page);
    await submit(page, 'button[name=nav][value=next]');

    // The network goes: Next waits, says so, and keeps the answers.
    const cutPage = page.url();
    const cut = await answerPage(page, { second: true });
    await context.setOffline(true);
    await page.click('button[name=nav][value=next]');
    await page.waitForFunction(() => document.querySelector('.live-status').textContent.includes('Waiting for the connection'),
      null, { timeout: 5000 });
    await page.waitForTimeout(3000);
    expect(page.url() === cutPage, `expected to stay on the page while offline, saw ${page.url()}`);
    expect(await page.isChecked(`[id="${cut.id}"]`), 'the answer must still be on the page while offline');
    const storage = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }));
    expect(storage.local === 0 && storage.session === 0, `expected no web storage, saw ${JSON.stringify(storage)}`);
    await assertAccessible(page, 'a survey page waiting for the connection');
    await context.setOffline(false);
    await page.waitForURL((url) => url.toString() !== cutPage, { timeout: 20000 });
    await page.waitForSelector('fieldset.question');

    // The server saves the page but its answer never arrives: the page is
    // sent again, and the save stays one.
    const lostPage = page.url();
    const lost = await answerPage(page, { second: true });
    let dropped = 0;
    await page.route('**/survey', async (route) => {
      if (route.request().method() === 'POST' && dropped === 0) {
        dropped += 1;
        await route.fetch({ maxRedirects: 0 });
        await route.abort('connectionreset');
      } else {
        await route.continue();
      }
    });
    await page.click('button[name=nav][value=next]');
    await page.waitForURL((url) => url.toString() !== lostPage, { timeout: 20000 });
    await page.unroute('**/survey');
    expect(dropped === 1, 'expected one answer to be dropped');

    let pages = 0;
    while (!page.url().endsWith('/review')) {
      await answerPage(page);
      await submit(page, 'button[name=nav][value=next]');
      pages += 1;
      expect(pages < 300, 'the survey never ended');
    }
    // Finish, with the network gone for a moment.
    await context.setOffline(true);
    await page.click('form[action="/finish"] button');
    await page.waitForFunction(() => document.querySelector('.live-status').textContent.includes('Waiting'), null, { timeout: 5000 });
    await context.setOffline(false);
    await page.waitForFunction(() => (document.querySelector('h1') || {}).textContent === 'Thank you!', null, { timeout: 20000 });
    expect(await page.isVisible('.signposting'), 'expected help to be signposted after finishing');
    await assertAccessible(page, 'the finish page reached after a dropped connection');
    const cookies = await context.cookies();
    expect(!cookies.some((c) => c.name === 'pupil'), 'expected the pupil cookie to be gone after finishing');
    writeFileSync(process.env.RESULT_FILE, JSON.stringify({ cut, lost }));
    await browser.close();
  },

  'a page with a problem, sent by the script, is shown with the problem named': async () => {
    const browser = await launch();
    const page = await (await browser.newContext()).newPage();
    await enterCode(page, s4[1]);
    await submit(page, 'button[value=start]');
    let pages = 0;
    while (await page.$('input.number') === null) {
      expect(!page.url().endsWith('/review'), 'expected a number question for S4');
      await submit(page, 'button[name=nav][value=next]');
      pages += 1;
      expect(pages < 300, 'the survey never ended');
    }
    await page.fill('input.number', '9999');
    await page.click('button[name=nav][value=next]');
    await page.waitForSelector('.error-summary', { timeout: 10000 });
    expect((await page.inputValue('input.number')) === '9999', 'the typed answer is shown again');
    // The page shown again has its script: it is sent by the script again.
    await page.fill('input.number', '3');
    await page.context().setOffline(true);
    await page.click('button[name=nav][value=next]');
    await page.waitForFunction(() => document.querySelector('.live-status').textContent.includes('Waiting'), null, { timeout: 5000 });
    await page.context().setOffline(false);
    await page.waitForFunction(() => document.querySelector('.error-summary') === null, null, { timeout: 20000 });
    await browser.close();
  },
});
