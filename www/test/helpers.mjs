// Shared by the browser tests and the budget benchmark: headless Chromium through
// playwright-core with a fresh profile, the demo server on a free port, axe-core, zbarimg, oathtool.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const ARTIFACTS = join(REPO, 'tests', 'artifacts');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A fresh browser: its own Chromium process and one context in it (options: context options
 * such as locale or acceptDownloads). Pages come from context.newPage(), not the tab Chromium
 * starts with; close() ends the process and its temporary profile.
 */
export async function launchBrowser(options = {}) {
  const instance = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  const context = await instance.newContext({ viewport: { width: 1000, height: 900 }, ...options });
  return {
    context,
    async close() {
      await instance.close();
    },
  };
}

/** Starts the demo on 127.0.0.1 with a fresh state directory (optionally a policy and a clock). */
export async function startDemo({ password = 'test-password-1', policy, now } = {}) {
  const { createDemo, DEMO_USER } = await import('../demo/server.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'mail2fa-demo-'));
  const lines = [];
  const demo = await createDemo({ dir, password, policy, now, log: (line) => lines.push(line) });
  await new Promise((done) => demo.server.listen(0, '127.0.0.1', done));
  const { port } = demo.server.address();
  return {
    ...demo,
    url: `http://127.0.0.1:${port}`,
    user: DEMO_USER,
    password,
    lines,
    dir,
    async stop() {
      await demo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core in the page (through the devtools protocol, so the page's CSP stays strict). */
export async function axeViolations(page, impacts = ['serious', 'critical']) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(AXE_SOURCE);
  }
  const result = await page.evaluate(() =>
    window.axe.run(document, { preload: false, resultTypes: ['violations'], runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }),
  );
  return result.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}

/** Decodes the QR codes in a PNG with zbarimg; returns the decoded texts. */
export function zbar(pngPath) {
  const out = execFileSync('zbarimg', ['--quiet', '--raw', '-Sdisable', '-Sqrcode.enable', pngPath], {
    encoding: 'utf8',
  });
  return out.split('\n').filter(Boolean);
}

/** The TOTP code an authenticator app shows, computed by oathtool (at `time`, Unix seconds). */
export function oathtool(secret, time = Math.floor(Date.now() / 1000)) {
  return execFileSync('oathtool', ['--totp', '-b', secret, '-N', `@${time}`], { encoding: 'utf8' }).trim();
}

export function artifactPath(...parts) {
  const path = join(ARTIFACTS, ...parts);
  mkdirSync(resolve(path, '..'), { recursive: true });
  return path;
}

export function writeArtifact(path, data) {
  writeFileSync(artifactPath(path), data);
}
