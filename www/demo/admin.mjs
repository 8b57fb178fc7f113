// Admin tool of the demo: `node www/demo/admin.mjs status|reset|list [user]`.
// Works on the same state directory as the server (MAIL2FA_DEMO_DIR, default build/demo),
// also while it runs: SQLite's WAL mode and compare-and-set keep both consistent.
// `reset` turns two-factor authentication off at once (Mail2fa#adminReset: the core's
// record.reset written by compare-and-set, never a delete, so a request in flight cannot
// write the old record back), so the very next login has no second step. User names go
// through the core's user.canonical, as at login: `reset DEMO@example.com` is the demo user.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { Mail2fa } from 'mail2fa';
import { SqliteStorage } from 'mail2fa/sqlite';
import { openDemoState } from './state.mjs';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const dir = resolve(process.env.MAIL2FA_DEMO_DIR || resolve(repo, 'build/demo'));
const [command, user] = process.argv.slice(2);

function usage() {
  console.error('usage: node www/demo/admin.mjs status <user> | reset <user> | list');
  process.exit(2);
}

if (!['status', 'reset', 'list'].includes(command) || (command !== 'list' && !user)) usage();
if (!existsSync(resolve(dir, 'demo.sqlite'))) {
  console.error(`no demo state in ${dir}: start the demo once (make demo)`);
  process.exit(1);
}

const state = openDemoState(resolve(dir, 'demo.sqlite'));
const storage = new SqliteStorage(state.db);
const mfa = new Mail2fa({ keys: state.siteKeys(), storage });

try {
  if (command === 'list') {
    for (const name of state.users()) {
      const status = await mfa.status(name).catch((e) => ({ state: `error: ${e.code}` }));
      console.log(`${name}\t${status.state}`);
    }
  } else if (command === 'status') {
    const name = mfa.canonicalUser(user);
    const status = await mfa.status(name);
    console.log(JSON.stringify({ user: name, ...status }, null, 2));
  } else {
    const name = mfa.canonicalUser(user);
    const changed = await mfa.adminReset(name);
    console.log(changed ? `${name}: two-factor authentication reset (off)` : `${name}: no such user with a two-factor record; nothing done`);
  }
} finally {
  state.close();
}
