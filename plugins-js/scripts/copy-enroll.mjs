// Copies the browser components from the repository's www/ into enroll/: <mail2fa-enroll>
// for the `mail2fa/enroll` subpath, the security-page components for `mail2fa/security`. Run by `npm install` in the repo (prepare) and before `npm pack`.
import { copyFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('../enroll/', import.meta.url));
const www = fileURLToPath(new URL('../../www/', import.meta.url));
const FILES = [
  'mail2fa-enroll.js', 'mail2fa-ui.js', 'mail2fa.css', 'mail2fa-print.css',
  'mail2fa-panel.js', 'mail2fa-panel.css', 'mail2fa-backup-codes.js', 'mail2fa-codes-print.css',
  'mail2fa-app-passwords.js', 'mail2fa-devices.js',
];

if (!existsSync(`${www}mail2fa-enroll.js`)) {
  console.warn('mail2fa: ../www/mail2fa-enroll.js not found; enroll/ not refreshed');
  process.exit(0);
}
for (const file of FILES) copyFileSync(`${www}${file}`, `${pkg}${file}`);
console.log(`mail2fa: copied the browser components (${FILES.join(', ')})`);
