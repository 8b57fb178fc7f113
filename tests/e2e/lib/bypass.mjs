// The bypass suite: with a session that passed the password but not the second factor,
// request every task and action of Roundcube core (from program/actions/) and of the
// enabled bundled plugins (their register_action/register_task calls), as GET, as POST
// with the session's request token, and as _remote AJAX with the X-Roundcube-Request
// header; assert that no response carries mailbox data and that nothing changed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { snapshot } from './env.mjs';
import { Client } from './http.mjs';

const RC = '/usr/share/roundcube';
const TASK_OF_DIR = { contacts: 'addressbook', mail: 'mail', settings: 'settings', utils: 'utils', login: 'login' };

/** Every [task, action] of Roundcube core and the configured plugins. */
export function everyAction(env) {
  const pairs = [];
  for (const dir of readdirSync(join(RC, 'program/actions'))) {
    const task = TASK_OF_DIR[dir];
    if (!task || !existsSync(join(RC, 'program/actions', dir))) continue;
    for (const f of readdirSync(join(RC, 'program/actions', dir))) {
      if (!f.endsWith('.php')) continue;
      const action = f.slice(0, -4);
      pairs.push([task, action === 'index' ? '' : action]);
      if (action.includes('_')) pairs.push([task, action.replaceAll('_', '-')]);
    }
  }
  // Aliases handled by rcmail's action map.
  for (const [t, a] of [['mail', 'preview'], ['mail', 'print'], ['mail', 'compose'], ['mail', 'send'], ['mail', 'remove-attachment'],
    ['mail', 'upload'], ['mail', 'display-attachment'], ['mail', 'expunge'], ['mail', 'purge'], ['addressbook', 'add'],
    ['addressbook', 'group-create'], ['settings', 'add-identity'], ['settings', 'save-identity'], ['settings', 'save-prefs'],
    ['settings', 'edit-prefs'], ['settings', 'delete-identity'], ['settings', 'delete-folder'], ['settings', 'add-folder'],
    ['settings', 'rename-folder'], ['settings', 'subscribe'], ['settings', 'unsubscribe'], ['settings', 'purge'],
    ['settings', 'add-response'], ['settings', 'save-response'], ['settings', 'delete-response'], ['mail', 'keep-alive'],
    ['mail', 'refresh'], ['settings', 'about'], ['utils', 'save-pref']]) {
    pairs.push([t, a]);
  }
  const cfg = readFileSync(join(env.CONFIG_DIR, 'config.inc.php'), 'utf8');
  const plugins = [...cfg.matchAll(/'([a-z_0-9]+)'/g)].map((m) => m[1]).filter((p) => existsSync(join(RC, 'plugins', p)));
  for (const p of plugins) {
    const src = readdirSync(join(RC, 'plugins', p)).filter((f) => f.endsWith('.php'))
      .map((f) => readFileSync(join(RC, 'plugins', p, f), 'utf8')).join('\n');
    for (const m of src.matchAll(/register_action\('([^']+)'/g)) {
      for (const t of ['mail', 'settings', 'addressbook']) pairs.push([t, m[1]]);
    }
    for (const m of src.matchAll(/register_task\('([^']+)'/g)) pairs.push([m[1], '']);
  }
  // mail2fa's own settings actions must be closed too.
  for (const a of ['plugin.mail2fa', 'plugin.mail2fa-enroll-start', 'plugin.mail2fa-enroll-confirm', 'plugin.mail2fa-app-create',
    'plugin.mail2fa-disable', 'plugin.mail2fa-backup-regenerate', 'plugin.mail2fa-device-revoke-all']) {
    pairs.push(['settings', a]);
  }
  const seen = new Set();
  return pairs.filter(([t, a]) => {
    const k = `${t}/${a}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const PARAMS = {
  _uid: '1', _mbox: 'INBOX', _part: '1', _id: '1', _cid: '1', _source: 'INBOX', _target_mbox: 'Trash',
  _folder: 'Attack', _name: 'Attack', _mbox_new: 'Attack', _iid: '1', _to: 'attacker@example.test',
  _subject: 'leak', _message: 'leak', _q: 'Seeded', _search: '1', _headers: 'text', _scope: 'all',
  _flag: 'read', _format: 'vcf', _email: 'attacker@example.test', _value: '1', _pref: 'layout',
  _curpasswd: 'pw-bob-Secret1', _newpasswd: 'x-New-Password-1', _confpasswd: 'x-New-Password-1', _label: 'attack',
  _code: '000000', _download: '1', _embed: '1', _framed: '1', _all: '1', _action_type: 'junk',
};

function leaks(body) {
  return /MAILBOX-SECRET|Seeded message|seeder@example\.test|"messagecount"|rcmail\.set_env\(\{"task":"mail"/.test(body);
}

export async function bypassSuite(env, user) {
  const c = new Client(env.URL);
  const loc = await c.login(user);
  assert.match(loc, /_action=plugin\.mail2fa-login/, 'the password leads to the second factor');
  const form = await c.request('./?_task=mail');
  assert.match(form.body, /id="mail2fa-form"/, 'the default task shows the second-factor form');
  const token = form.body.match(/name="_token" value="([^"]+)"/)[1];
  const before = snapshot(env);
  const pairs = everyAction(env);
  let requests = 0;
  const failures = [];
  const check = (what, res) => {
    requests++;
    if (leaks(res.body)) failures.push(`${what}: mailbox data in the response`);
    // Roundcube answers ?_action=error&_code=... with its static error page before any plugin runs.
    const errorPage = / utils\/error$/.test(what) && !/<form/.test(res.body);
    const ok = errorPage || (res.status === 401 && /second_factor_required/.test(res.body))
      || (res.status === 200 && /id="mail2fa-form"/.test(res.body));
    if (!ok) failures.push(`${what}: unexpected answer ${res.status} ${res.location || ''} ${res.body.slice(0, 120)}`);
  };
  for (const [task, action] of pairs) {
    const q = new URLSearchParams({ _task: task, ...(action ? { _action: action } : {}), ...PARAMS }).toString();
    check(`GET ${task}/${action}`, await c.request(`./?${q}`));
    check(`POST ${task}/${action}`, await c.request(`./?_task=${task}&_action=${action}`, {
      method: 'POST', form: { ...PARAMS, _token: token, _task: task, _action: action },
    }));
    check(`AJAX ${task}/${action}`, await c.request(`./?_task=${task}&_action=${action}&_remote=1`, {
      method: 'POST', form: { ...PARAMS, _remote: '1' },
      headers: { 'X-Roundcube-Request': token, 'X-Requested-With': 'XMLHttpRequest' },
    }));
  }
  // Static entry points that run PHP must not exist besides index.php.
  for (const path of ['plugins/mail2fa/mail2fa.php', 'plugins/mail2fa/bin/mail2fa-admin.sh', 'plugins/mail2fa/SQL/sqlite.initial.sql',
    'plugins/mail2fa/config.inc.php.dist', 'program/include/iniset.php']) {
    const res = await c.request(`./${path}`);
    requests++;
    if (res.status !== 403 && res.status !== 404) failures.push(`GET ${path}: ${res.status}`);
  }
  const after = snapshot(env);
  assert.deepEqual(after, before, 'no state change in the database or the mail store');
  assert.deepEqual(failures, []);
  // The pending session is still only pending: the right factor is the only way on.
  const still = await c.request('./?_task=mail&_action=list&_remote=1', { headers: { 'X-Roundcube-Request': token } });
  assert.equal(still.status, 401);
  return { requests, actions: pairs.length };
}
