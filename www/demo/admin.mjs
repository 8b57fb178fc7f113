// Admin tool of the demo: `node www/demo/admin.mjs status|reset|list [user]`.
// Works on the same state directory as the server (MAIL2FA_DEMO_DIR, default build/demo),
// also while it runs: SQLite's WAL mode and compare-and-set keep both consistent.
// `reset` turns two-factor authentication off at once (Mail2fa#adminReset: the record is
// replaced by a new empty one from the core), so the very next login has no second step.
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
    const status = await mfa.status(user);
    console.log(JSON.stringify({ user, ...status }, null, 2));
  } else {
    const changed = await mfa.adminReset(user);
    console.log(changed ? `${user}: two-factor authentication reset (off)` : `${user}: had no two-factor record; nothing to do`);
  }
} finally {
  state.close();
}
