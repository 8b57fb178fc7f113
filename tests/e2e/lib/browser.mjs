// Chromium (Debian's /usr/bin/chromium) driven by playwright-core: one browser process per
// handle, and a page Playwright opened itself in a fresh context (own cookies, no profile on
// disk), rather than the tab Chromium starts with.
import { chromium } from 'playwright-core';
import { password } from './env.mjs';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Every open browser, so a suite's after() can close the ones a failed test left open: an
// open Chromium keeps the test process alive, and CI must fail, not hang.
const open = new Set();

// Every time a browser died under a test (its process exited, a renderer crashed or a page
// closed without the test closing it), with the last calls made to it: ./test.mjs runs such a
// test once more, since a dead browser says nothing about mail2fa.
const deaths = [];

/** The browser deaths so far; ./test.mjs compares counts before and after a test. */
export function browserDeaths() {
  return deaths;
}

/** Closes every browser still open (suites call it in after()). */
export async function closeAllBrowsers() {
  await Promise.allSettled([...open].map((b) => b.close()));
}

/** A fresh browser (its own process and cookies): {context, page, close}. */
export async function browser() {
  const recent = []; // the last Playwright calls and events, for the report if it dies
  const instance = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    logger: {
      isEnabled: (name) => name === 'api',
      log: (_name, _severity, message) => {
        recent.push(String(message));
        if (recent.length > 20) recent.shift();
      },
    },
  });
  let closing = false;
  const died = (what) => {
    if (closing) return;
    deaths.push({ what, recent: recent.slice() });
    process.stderr.write(`# Chromium: ${what}; the last calls:\n${recent.map((l) => `#   ${l}`).join('\n')}\n`);
  };
  instance.on('disconnected', () => died('the browser process exited'));
  const context = await instance.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('crash', () => died('the page crashed'));
  page.on('close', () => died('the page closed by itself'));
  const handle = {
    context,
    page,
    async close() {
      closing = true;
      open.delete(handle);
      await instance.close();
    },
  };
  open.add(handle);
  return handle;
}
/** Password login; returns 'second-factor', 'enroll', 'inbox' or 'failed'. */
export async function login(page, env, user, pass = password(user)) {
  await page.goto(env.URL);
  await page.fill('#rcmloginuser', user);
  await page.fill('#rcmloginpwd', pass);
  await Promise.all([page.waitForLoadState('load'), page.click('#rcmloginsubmit')]);
  return where(page);
}

export async function where(page) {
  await page.waitForLoadState('load');
  if (await page.locator('#mail2fa-form').count()) return 'second-factor';
  if (await page.locator('mail2fa-enroll').count()) return 'enroll';
  // The second-factor page without a form: 2FA unavailable for this account (fail closed).
  if (await page.locator('#mail2fa-login').count()) return 'second-factor';
  if (await page.locator('#messagelist').count()) return 'inbox';
  return 'failed';
}

/** Submits the second-factor form. */
export async function submitCode(page, code, { backup = false, trust = false } = {}) {
  if (backup) {
    await page.click('details.mail2fa-backup summary');
    await page.fill('#mail2fa-backup', code);
  } else {
    await page.fill('#mail2fa-code', code);
  }
  if (trust) await page.check('#mail2fa-trust');
  await Promise.all([page.waitForLoadState('load'), page.waitForURL(() => true), page.click('#mail2fa-submit')]);
  return where(page);
}

/** Waits for the seeded message of a user in the message list. */
export async function seesSeeded(page, user) {
  await page.locator('#messagelist').getByText(`Seeded message for ${user}`).first().waitFor({ timeout: 30000 });
  return true;
}

export async function logout(page) {
  const origin = new URL(page.url()).origin;
  await page.goto(`${origin}/?_task=mail`);
  const token = await page.evaluate(() => window.rcmail?.env?.request_token);
  await page.goto(`${origin}/?_task=logout&_token=${encodeURIComponent(token)}`);
  await page.locator('#rcmloginuser').waitFor();
}

export async function errorText(page) {
  return (await page.locator('#mail2fa-error').textContent()).trim();
}
