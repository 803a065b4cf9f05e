// Moving through the survey in a browser: entering a code and answering
// every page, shared by the pupil and language tests.
import { assertAccessible, expect, submit } from './lib.mjs';

/// Types `code` on the code screen (already open) and sends it.
export async function typeCode(page, code) {
  await page.fill('#code', code);
  await submit(page, 'button[type=submit].button');
}

/// Answers each page with its first option (numbers get 3) until the review
/// page. With `checkKinds`, runs axe on the first page of each kind of question
/// (choice, picture scale, multiple choice, number). Returns the number of
/// pages answered.
export async function answerAll(page, { checkKinds = false, onPage = null } = {}) {
  let pages = 0;
  const checked = new Set();
  while (!page.url().endsWith('/review')) {
    const questions = await page.$$eval('fieldset.question', (sets) => sets.map((s) => {
      const first = s.querySelector('input[type=radio], input[type=checkbox]');
      const number = s.querySelector('input.number');
      const kind = number ? 'number'
        : s.querySelector('input[type=checkbox]') ? 'multiple'
          : s.querySelector('.pictures') ? 'pictures' : 'choice';
      return { id: first ? first.id : null, number: number ? number.id : null, kind };
    }));
    const kinds = questions.map((q) => q.kind).filter((k) => !checked.has(k));
    if (checkKinds && kinds.length > 0) {
      await assertAccessible(page, `a survey page with ${kinds.join(', ')} questions (${page.url()})`);
      kinds.forEach((k) => checked.add(k));
    }
    if (onPage) await onPage(page);
    for (const q of questions) {
      if (q.id) await page.check(`[id="${q.id}"]`);
      if (q.number) await page.fill(`[id="${q.number}"]`, '3');
    }
    await submit(page, 'button[name=nav][value=next]');
    pages += 1;
    expect(pages < 300, 'the survey never ended');
  }
  return pages;
}
