// browser.cjs: opens pages in Debian's headless Chromium through
// playwright-core (both installed by scripts/deps.sh) and reports what it
// saw, for tests/harness/browser.py.  One browser for all the pages.
//
// Usage: node browser.cjs JOBS.json OUT.json
// JOBS: [{"url": "file:///...", "steps": [STEP, ...]}, ...], a STEP one of
//   {"wait": SELECTOR}              the element is there and visible
//   {"until": JS_EXPRESSION}        the expression holds in the page
//   {"click": SELECTOR}             a real mouse click on it
//   {"text": [NAME, SELECTOR]}      its innerText as texts[NAME]
//   {"count": [NAME, SELECTOR]}     how many match, as counts[NAME]
//   {"shot": [NAME, SELECTOR, PNG]} a screenshot of it into PNG
// Every step is bounded by 15 s.  OUT: per job {texts, counts, shots,
// requests (every URL the page asked for), errors (script errors and
// console errors), failed (the step that failed and why, or null)}.
// The context is offline and every request that is not file: or data: is
// aborted (and listed): a page that needs the network shows it.
'use strict';
const fs = require('fs');
const pw = require(process.env.ESCORT_PLAYWRIGHT ||
                   '/usr/local/lib/escort-tests/playwright-core');

async function runJob(context, job) {
  const out = { texts: {}, counts: {}, shots: {}, requests: [], errors: [],
                failed: null };
  const page = await context.newPage();
  page.on('request', (r) => out.requests.push(r.url()));
  page.on('pageerror', (e) => out.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') out.errors.push(m.text()); });
  let step = null;
  try {
    await page.goto(job.url, { waitUntil: 'load', timeout: 30000 });
    for (step of job.steps) {
      if (step.wait) {
        await page.waitForSelector(step.wait, { state: 'visible', timeout: 15000 });
      } else if (step.until) {
        await page.waitForFunction(step.until, null, { timeout: 15000 });
      } else if (step.click) {
        await page.click(step.click, { timeout: 15000 });
      } else if (step.text) {
        out.texts[step.text[0]] = await page.innerText(step.text[1], { timeout: 15000 });
      } else if (step.count) {
        out.counts[step.count[0]] = await page.locator(step.count[1]).count();
      } else if (step.shot) {
        await page.locator(step.shot[1]).first().screenshot({ path: step.shot[2], timeout: 15000 });
        out.shots[step.shot[0]] = step.shot[2];
      } else {
        throw new Error('unknown step');
      }
    }
  } catch (e) {
    out.failed = JSON.stringify(step) + ': ' + String(e).split('\n')[0];
  }
  await page.close();
  return out;
}

async function main() {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const browser = await pw.chromium.launch({
    executablePath: process.env.ESCORT_CHROMIUM || '/usr/bin/chromium',
    args: ['--disable-background-networking', '--disable-component-update',
           '--no-first-run', '--disable-sync', '--disable-default-apps'],
    timeout: 30000,
  });
  const results = [];
  try {
    const context = await browser.newContext({
      offline: true, viewport: { width: 1200, height: 900 } });
    await context.route('**/*', (route) => {
      const u = route.request().url();
      return u.startsWith('file:') || u.startsWith('data:') ? route.continue()
        : route.abort();
    });
    for (const job of jobs) results.push(await runJob(context, job));
  } finally {
    await browser.close();
  }
  fs.writeFileSync(process.argv[3], JSON.stringify(results));
}

main().catch((e) => { console.error(String(e)); process.exit(1); });
