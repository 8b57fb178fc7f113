// Install tests from the release artifacts alone (dist/release/, made by `make release`), in the
// real environment of the e2e suite (Debian's Roundcube 1.6, Dovecot, php-fpm, nginx, Chromium;
// scripts/roundcube-env.sh with MAIL2FA_PLUGIN_INSTALLED=1):
//
//   archive  the tarball copied to a "download" directory, checked against SHA256SUMS, extracted
//            into Roundcube's plugins/ and configured by the plugin README's steps, with a PATH
//            that has no cargo; a user enrolls and logs in with a code in Chromium;
//   .deb     `apt-get install ./roundcube-plugin-mail2fa_*.deb` the same way; enroll and log in;
//            the package upgraded (admin-edited conffile and site key kept), removal refused
//            while Roundcube's config enables the plugin, removed (tables, conffile, key kept),
//            reinstalled (the enrolled user still logs in with a code), purged.
//
// Each prints the time from "download" to the first login with a code. The machine is left as
// found: the plugin link of the other suites restored, the package purged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdtempSync, copyFileSync, readFileSync, writeFileSync, existsSync, lstatSync, readlinkSync, rmSync,
  symlinkSync, statSync, appendFileSync, mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { up, sql, Phone, REPO, artifact } from '../e2e/lib/env.mjs';
import { browser, login, submitCode, seesSeeded, logout, closeAllBrowsers } from '../e2e/lib/browser.mjs';

const RELEASE = join(REPO, 'dist', 'release');
const PLUGINS = '/var/lib/roundcube/plugins';
const RC_PLUGIN = `${PLUGINS}/mail2fa`;
const DEB_PLUGIN = '/usr/share/roundcube/plugins/mail2fa';
const DEB_ETC = '/etc/roundcube/plugins/mail2fa';
const PHP_MOD = '/etc/php/8.2/mods-available/mail2fa.ini';
const RC_CONFIG = '/etc/roundcube/config.inc.php';
const PKG = 'roundcube-plugin-mail2fa';
const FAKE_SAPI = 'mail2fa-release-test'; // a php "SAPI" nothing runs: phpenmod state across remove/reinstall
const VERSION = readFileSync(join(REPO, 'Cargo.toml'), 'utf8').match(/^version = "(.*)"$/m)[1];
const TARBALL = `mail2fa-roundcube-${VERSION}.tar.gz`;
const DEB = `${PKG}_${VERSION}_amd64.deb`;

// What an admin's shell has: system paths only. No cargo (~/.cargo/bin), and the commands run
// in the download directory, never in the checkout.
const HOME = mkdtempSync(join(tmpdir(), 'mail2fa-release-home-'));
const ADMIN_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME, LANG: 'C.UTF-8',
  DEBIAN_FRONTEND: 'noninteractive' };

// What /var/lib/roundcube/plugins/mail2fa was before (the other suites' link), restored after.
const savedLink = isLink(RC_PLUGIN) ? readlinkSync(RC_PLUGIN) : null;
const savedRcConfig = readFileSync(RC_CONFIG);
const envs = [];

/** Runs an admin command in `cwd`; returns {status, out}. */
function sh(cmd, { cwd, env = {}, ok = true } = {}) {
  const r = spawnSync('sh', ['-c', cmd], { cwd, env: { ...ADMIN_ENV, ...env }, encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  if (ok) assert.equal(r.status, 0, `${cmd} (in ${cwd}) failed:\n${out}`);
  return { status: r.status, out };
}

function installed() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', PKG], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

/** A fresh "download" directory holding the named artifacts and SHA256SUMS, checked. */
function download(...names) {
  const dir = mkdtempSync(join(tmpdir(), 'mail2fa-download-'));
  for (const n of [...names, 'SHA256SUMS']) copyFileSync(join(RELEASE, n), join(dir, n));
  execFileSync('chmod', ['0755', dir]); // apt's _apt user reads the .deb from here
  sh('sha256sum -c --ignore-missing SHA256SUMS', { cwd: dir });
  return dir;
}

/** Puts /var/lib/roundcube/plugins/mail2fa back as it was (a test's own install removed). */
function restorePlugin() {
  if (isLink(RC_PLUGIN)) rmSync(RC_PLUGIN);
  else if (existsSync(RC_PLUGIN)) rmSync(RC_PLUGIN, { recursive: true, force: true });
  if (savedLink) symlinkSync(savedLink, RC_PLUGIN);
}

function stopEnvs() {
  for (const env of envs.splice(0)) {
    try {
      env.stop();
    } catch (e) {
      console.error(`# stop: ${e.message}`);
    }
  }
}

function removeCheckoutLink() {
  if (existsSync(RC_PLUGIN) || isLink(RC_PLUGIN)) {
    assert.ok(isLink(RC_PLUGIN), `${RC_PLUGIN} is a directory, not the other suites' link: left from an earlier run?`);
    rmSync(RC_PLUGIN);
  }
}

function isLink(p) {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The environment with the installed plugin and the given php.ini snippet. */
function upInstalled(phpIni) {
  process.env.MAIL2FA_PLUGIN_INSTALLED = '1';
  process.env.MAIL2FA_PHP_INI = phpIni;
  try {
    const env = up({ db: 'sqlite' });
    envs.push(env);
    return env;
  } finally {
    delete process.env.MAIL2FA_PLUGIN_INSTALLED;
    delete process.env.MAIL2FA_PHP_INI;
  }
}

function fpmPid(env) {
  const line = readFileSync(join(env.DIR, 'pids'), 'utf8').split('\n').find((l) => l.startsWith('php-fpm '));
  return Number(line.split(' ')[1]);
}

/** php-fpm's master runs the installed library, nothing from the checkout. */
function runsInstalledLibrary(env, libraryPath) {
  const maps = readFileSync(`/proc/${fpmPid(env)}/maps`, 'utf8');
  assert.ok(maps.includes(libraryPath), `php-fpm preloaded ${libraryPath}`);
  assert.ok(!maps.includes(`${REPO}/`), 'php-fpm maps nothing from the checkout');
  const ini = readFileSync(join(env.DIR, 'php', 'conf.d', '50-mail2fa.ini'), 'utf8');
  assert.ok(!ini.includes(REPO), 'the php.ini snippet names nothing in the checkout');
}

/** "Restart php-fpm" (README's upgrade step): USR2 re-executes the master, preload included. */
async function reloadFpm(env) {
  const pid = fpmPid(env);
  const before = readFileSync(join(env.DIR, 'logs', 'php-fpm.log'), 'utf8').length;
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const log = readFileSync(join(env.DIR, 'logs', 'php-fpm.log'), 'utf8').slice(before);
    if (/ready to handle connections/.test(log)) return;
  }
  assert.fail('php-fpm did not come back after USR2');
}

/** alice enrolls in Settings (code from oathtool), then logs in with a code; returns her Phone. */
async function enrollAndLogin(env, label) {
  const b = await browser();
  const { page } = b;
  assert.equal(await login(page, env, 'alice'), 'inbox', 'without 2FA the password suffices');
  await page.goto(`${env.URL}?_task=settings&_action=plugin.mail2fa`);
  await page.getByRole('button', { name: 'Begin setup' }).click();
  const key = page.locator('mail2fa-enroll code.key');
  await key.waitFor();
  const phone = new Phone((await key.textContent()).replace(/\s+/g, ''));
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('mail2fa-enroll input[name=code]').fill(await phone.next());
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('mail2fa-enroll ol.codes code').first().waitFor();
  await page.screenshot({ path: artifact(`release-${label}-enrolled.png`), fullPage: true });
  assert.equal(aliceRow(env).state, 'enabled', 'the correct code turned 2FA on');
  await logout(page);
  await b.close();
  await loginWithCode(env, phone, label);
  return phone;
}

async function loginWithCode(env, phone, label) {
  const b = await browser();
  assert.equal(await login(b.page, env, 'alice'), 'second-factor', 'the password leads to the second step');
  assert.equal(await submitCode(b.page, await phone.next()), 'inbox', 'the code from the app logs in');
  await seesSeeded(b.page, 'alice');
  await b.page.screenshot({ path: artifact(`release-${label}-inbox.png`), fullPage: true });
  await b.close();
}

function aliceRow(env) {
  return sql(env, "SELECT username, rev, state, record FROM mail2fa_users WHERE username = 'alice'")[0];
}

before(() => {
  for (const f of [TARBALL, DEB, 'SHA256SUMS']) assert.ok(existsSync(join(RELEASE, f)), `${f} in dist/release (make release)`);
  assert.notEqual(spawnSync('sh', ['-c', 'command -v cargo'], { env: ADMIN_ENV }).status, 0, 'no cargo on the admin PATH');
  if (installed()) sh(`apt-get purge -y ${PKG}`, { env: { MAIL2FA_ALLOW_REMOVE: '1' } }); // a failed earlier run
});

/** Whatever a test did: servers stopped, package purged, config and plugin link as found. */
async function cleanUp() {
  await closeAllBrowsers();
  stopEnvs();
  writeFileSync(RC_CONFIG, savedRcConfig);
  if (installed()) sh(`apt-get purge -y ${PKG}`, { env: { MAIL2FA_ALLOW_REMOVE: '1' }, ok: false });
  rmSync(`/etc/php/8.2/${FAKE_SAPI}`, { recursive: true, force: true });
  rmSync(`/usr/lib/php/8.2/sapi/${FAKE_SAPI}`, { force: true });
  rmSync(`/var/lib/php/modules/8.2/${FAKE_SAPI}`, { recursive: true, force: true });
  restorePlugin();
}

after(async () => {
  await cleanUp();
  rmSync(HOME, { recursive: true, force: true });
});

test('archive: download, README steps, enroll and first login with a code (no cargo, no checkout)', async () => {
  try {
    await archiveInstall();
  } finally {
    await cleanUp();
  }
});

async function archiveInstall() {
  const t0 = Date.now();
  const dir = download(TARBALL);
  removeCheckoutLink();
  // README "Install the release archive": extract into plugins/, check, configure PHP's FFI.
  sh(`tar -xzf ${dir}/${TARBALL} -C ${PLUGINS}`, { cwd: dir });
  sh('sha256sum -c dist/SHA256SUMS', { cwd: RC_PLUGIN });
  const conf = sh('php lib/configure.php', { cwd: RC_PLUGIN }).out;
  assert.match(conf, /wrote .*dist\/mail2fa\.h/);
  const header = readFileSync(`${RC_PLUGIN}/dist/mail2fa.h`, 'utf8');
  assert.match(header, new RegExp(`FFI_LIB "${RC_PLUGIN}/dist/linux-x86_64/libmail2fa_host.so"`), 'the loader picked this machine\'s library');
  for (const f of ['assets/mail2fa-enroll.js', 'dist/mail2fa.wasm', 'dist/linux-aarch64/libmail2fa_host.so', 'SQL/sqlite.initial.sql',
    'config.inc.php.dist', 'dovecot/README.md', 'README.md', 'LICENSE', 'LICENSE-MIT', 'LICENSE-APACHE']) {
    assert.ok(existsSync(`${RC_PLUGIN}/${f}`), `the archive has ${f}`);
  }
  const tInstalled = Date.now();
  // The site's Roundcube (config with 'mail2fa' and the plugin's options; schema step:
  // updatedb.sh --package=mail2fa --dir=plugins/mail2fa/SQL) with this php.ini snippet.
  const env = upInstalled(`${RC_PLUGIN}/dist/mail2fa.ini`);
  const tUp = Date.now();
  runsInstalledLibrary(env, `${RC_PLUGIN}/dist/linux-x86_64/libmail2fa_host.so`);
  await enrollAndLogin(env, 'archive');
  const t1 = Date.now();
  console.log(`# archive ${TARBALL} (${statSync(join(RELEASE, TARBALL)).size} bytes): download -> first login with a code `
    + `${((t1 - t0) / 1000).toFixed(1)} s (install ${((tInstalled - t0) / 1000).toFixed(1)} s, servers up `
    + `${((tUp - tInstalled) / 1000).toFixed(1)} s, enroll + login ${((t1 - tUp) / 1000).toFixed(1)} s)`);
  rmSync(dir, { recursive: true, force: true });
}

test('.deb: apt-get install, enroll and first login; upgrade, guarded remove, remove, reinstall, purge keep tables and config', async () => {
  try {
    await debInstall();
  } finally {
    await cleanUp();
  }
});

async function debInstall() {
  const t0 = Date.now();
  const dir = download(DEB);
  removeCheckoutLink();
  const inst = sh(`apt-get install -y ./${DEB}`, { cwd: dir }).out;
  assert.match(inst, /mail2fa is installed but not enabled/, 'postinst tells how to enable it');
  assert.match(inst, /updatedb\.sh --package=mail2fa/, 'postinst names the schema step');
  assert.match(installed(), /install ok installed/);
  assert.equal(readlinkSync(RC_PLUGIN), DEB_PLUGIN, 'Debian layout: /var/lib/roundcube/plugins/mail2fa -> /usr/share/...');
  assert.equal(readlinkSync(`${DEB_PLUGIN}/config.inc.php`), `${DEB_ETC}/config.inc.php`, 'the plugin config is the conffile in /etc');
  const conffiles = execFileSync('dpkg-query', ['-W', '-f=${Conffiles}', PKG], { encoding: 'utf8' });
  assert.match(conffiles, new RegExp(`${DEB_ETC}/config.inc.php`));
  assert.match(conffiles, new RegExp(PHP_MOD));
  const keysFile = `${DEB_ETC}/keys.inc.php`;
  const keyStat = statSync(keysFile);
  assert.equal(keyStat.mode & 0o777, 0o640, 'the generated site key is 0640');
  assert.equal(keyStat.uid, 0);
  const keys = readFileSync(keysFile, 'utf8');
  const kid = keys.match(/'id' => '([^']+)'/)[1];
  assert.match(keys, /'key' => '[A-Za-z0-9+/]{43}='/, '32 random bytes, base64');
  const tInstalled = Date.now();
  // phpenmod -s fpm mail2fa for this php-fpm: its conf.d gets the package's snippet.
  const env = upInstalled(PHP_MOD);
  const tUp = Date.now();
  runsInstalledLibrary(env, `${DEB_PLUGIN}/dist/linux-x86_64/libmail2fa_host.so`);
  const phone = await enrollAndLogin(env, 'deb');
  const t1 = Date.now();
  console.log(`# .deb ${DEB} (${statSync(join(RELEASE, DEB)).size} bytes): download -> first login with a code `
    + `${((t1 - t0) / 1000).toFixed(1)} s (apt-get install ${((tInstalled - t0) / 1000).toFixed(1)} s, servers up `
    + `${((tUp - tInstalled) / 1000).toFixed(1)} s, enroll + login ${((t1 - tUp) / 1000).toFixed(1)} s)`);
  const record = JSON.parse(aliceRow(env).record);
  assert.equal(record.totp.secret.kid, kid, 'the secret is sealed under the key the package generated');

  // Upgrade (a later version of the same artifact), with an admin-edited conffile.
  appendFileSync(`${DEB_ETC}/config.inc.php`, "\n$config['mail2fa_issuer'] = 'edited by the admin';\n");
  const edited = readFileSync(`${DEB_ETC}/config.inc.php`, 'utf8');
  const rowBefore = aliceRow(env);
  const up2 = mkdtempSync(join(tmpdir(), 'mail2fa-upgrade-'));
  sh(`dpkg-deb -R ${dir}/${DEB} root && sed -i 's/^Version: .*/Version: ${VERSION}+upgradetest1/' root/DEBIAN/control `
    + `&& dpkg-deb --root-owner-group -b root ${PKG}_${VERSION}+upgradetest1_amd64.deb`, { cwd: up2 });
  execFileSync('chmod', ['0755', up2]);
  const upg = sh(`apt-get install -y ./${PKG}_${VERSION}+upgradetest1_amd64.deb`, { cwd: up2 }).out;
  assert.match(upg, /mail2fa upgraded/, 'postinst names the upgrade steps');
  assert.equal(readFileSync(`${DEB_ETC}/config.inc.php`, 'utf8'), edited, 'the admin\'s conffile survives the upgrade');
  assert.equal(readFileSync(keysFile, 'utf8'), keys, 'the site key is never overwritten');
  sh(`/usr/share/roundcube/bin/updatedb.sh --package=mail2fa --dir=${DEB_PLUGIN}/SQL`, { cwd: up2, env: { ROUNDCUBE_CONFIG_DIR: env.CONFIG_DIR } });
  assert.deepEqual(aliceRow(env), rowBefore, 'the upgrade and the schema step keep the tables');
  await reloadFpm(env);
  await loginWithCode(env, phone, 'deb-upgraded');

  // Removal while Roundcube's own config enables the plugin: refused (2FA would silently go).
  appendFileSync(RC_CONFIG, "\n$config['plugins'][] = 'mail2fa';\n");
  const refused = sh(`apt-get remove -y ${PKG}`, { cwd: up2, ok: false });
  assert.notEqual(refused.status, 0, 'apt-get remove fails');
  assert.match(refused.out, /refusing to remove the plugin/);
  assert.match(installed(), /install ok installed/, 'the package stays installed');
  writeFileSync(RC_CONFIG, savedRcConfig);

  // A php SAPI with the snippet enabled is disabled by the removal and enabled again by the reinstall.
  // (phpquery knows a SAPI by its marker in /usr/lib/php/8.2/sapi/ and its conf.d.)
  writeFileSync(`/usr/lib/php/8.2/sapi/${FAKE_SAPI}`, '');
  mkdirSync(`/etc/php/8.2/${FAKE_SAPI}/conf.d`, { recursive: true });
  sh(`phpenmod -v 8.2 -s ${FAKE_SAPI} mail2fa`, { cwd: up2 });
  const live = `/etc/php/8.2/${FAKE_SAPI}/conf.d/30-mail2fa.ini`;
  assert.ok(isLink(live), 'phpenmod used the snippet\'s priority 30');

  const rowKept = aliceRow(env);
  sh(`apt-get remove -y ${PKG}`, { cwd: up2 });
  assert.match(installed(), /deinstall ok config-files/);
  assert.ok(!existsSync(DEB_PLUGIN) && !isLink(RC_PLUGIN), 'remove takes the plugin away');
  assert.ok(!isLink(live), 'the php.ini snippet is disabled where it was enabled');
  assert.equal(readFileSync(`${DEB_ETC}/config.inc.php`, 'utf8'), edited, 'remove keeps the conffile');
  assert.equal(readFileSync(keysFile, 'utf8'), keys, 'remove keeps the site key');
  assert.deepEqual(aliceRow(env), rowKept, 'remove keeps the tables');

  sh(`apt-get install -y --allow-downgrades ./${DEB}`, { cwd: dir });
  assert.ok(isLink(live), 'the reinstall enables the snippet again there');
  assert.equal(readFileSync(`${DEB_ETC}/config.inc.php`, 'utf8'), edited, 'the reinstall keeps the conffile');
  assert.equal(readFileSync(keysFile, 'utf8'), keys, 'the reinstall keeps the site key');
  await reloadFpm(env);
  await loginWithCode(env, phone, 'deb-reinstalled');

  sh(`apt-get purge -y ${PKG}`, { cwd: dir, env: { MAIL2FA_ALLOW_REMOVE: '1' } });
  assert.equal(installed(), '', 'purged');
  assert.ok(!existsSync(DEB_ETC) && !existsSync(PHP_MOD), 'purge deletes the configuration and the key');
  assert.ok(!isLink(live), 'no php.ini link left');
  assert.equal(aliceRow(env).state, 'enabled', 'purge never touches the database tables');
  rmSync(dir, { recursive: true, force: true });
  rmSync(up2, { recursive: true, force: true });
}
