// Server-rendered pages of the demo. No inline script or style: the CSP forbids both.
const esc = (value) =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function layout(title, body, { session, nav = true, scripts = [] } = {}) {
  const signedIn = session && session.stage === 'full';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(title)} · mail2fa demo</title>
<link rel="stylesheet" href="/assets/demo.css">
${scripts.map((src) => `<script type="module" src="${esc(src)}"></script>`).join('\n')}
</head>
<body>
<header class="top">
  <span class="brand">mail2fa demo</span>
  ${
    nav && signedIn
      ? `<nav aria-label="Main"><a href="/inbox">Inbox</a> <a href="/security">Security</a></nav>
  <form method="post" action="/logout" class="logout"><input type="hidden" name="_csrf" value="${esc(session.csrf)}"><button type="submit">Sign out</button></form>`
      : ''
  }
</header>
<main id="main">
${body}
</main>
</body>
</html>`;
}

const errorBlock = (error) =>
  error ? `<p class="error" role="alert" id="form-error">${esc(error)}</p>` : '<p class="error" role="alert" id="form-error" hidden></p>';

export function login(session, { user = '', error = '', notice = '' } = {}) {
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
${notice ? `<p class="notice" role="status">${esc(notice)}</p>` : ''}
<form method="post" action="/login" class="stack">
  <input type="hidden" name="_csrf" value="${esc(session.csrf)}">
  <label for="user">Email address</label>
  <input id="user" name="user" type="email" autocomplete="username" required value="${esc(user)}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required${error ? ' aria-describedby="form-error" aria-invalid="true"' : ''}>
  ${errorBlock(error)}
  <button type="submit" class="primary">Sign in</button>
</form>`,
    { session, nav: false },
  );
}

/**
 * The second step: a code from the app, or (when the core lists `backup_code` among the
 * user's methods) a backup code; each form offers "trust this browser" when the core lists
 * `trusted_device` and returned trust_days > 0 (the days shown are the core's). The user
 * picks the kind of code; the server never guesses it.
 */
export function secondFactor(session, { error = '', method = 'totp' } = {}) {
  const methods = session.methods || ['totp'];
  const backup = methods.includes('backup_code');
  const days = session.trustDays || 0;
  const trust = (id) =>
    methods.includes('trusted_device') && days > 0
      ? `<div class="check"><input type="checkbox" id="${id}" name="trust" value="1" aria-describedby="${id}-hint"><label for="${id}">Trust this browser for ${esc(days)} ${days === 1 ? 'day' : 'days'}</label></div>
  <p class="hint" id="${id}-hint">Only on a computer that is yours: this browser will not be asked for a code until then.</p>`
      : '';
  const invalid = (m) => (error && method === m ? ' aria-invalid="true"' : '');
  return layout(
    'Two-factor authentication',
    `<h1>Two-factor authentication</h1>
<p>Enter the code from your authenticator app for <strong>${esc(session.user)}</strong>.</p>
${errorBlock(error)}
<form method="post" action="/login/2fa" class="stack">
  <input type="hidden" name="_csrf" value="${esc(session.csrf)}">
  <input type="hidden" name="method" value="totp">
  <label for="code">Code from the app</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="12" required${method === 'totp' ? ' autofocus' : ''} aria-describedby="form-error"${invalid('totp')}>
  ${trust('trust-totp')}
  <button type="submit" class="primary">Verify</button>
</form>
${
  backup
    ? `<details class="alt"${method === 'backup_code' ? ' open' : ''}>
<summary>Use a backup code instead</summary>
<form method="post" action="/login/2fa" class="stack">
  <input type="hidden" name="_csrf" value="${esc(session.csrf)}">
  <input type="hidden" name="method" value="backup_code">
  <label for="backup-code">Backup code</label>
  <input id="backup-code" name="code" type="text" autocomplete="off" autocapitalize="off" spellcheck="false" maxlength="24" required${method === 'backup_code' ? ' autofocus' : ''} aria-describedby="backup-hint form-error"${invalid('backup_code')}>
  <p class="hint" id="backup-hint">One of the codes you saved when you set up two-factor authentication, like <span translate="no">abcde-12345</span>. Each works once.</p>
  ${trust('trust-backup')}
  <button type="submit" class="primary">Sign in with backup code</button>
</form>
</details>`
    : ''
}
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(session.csrf)}"><button type="submit" class="link">Cancel and sign out</button></form>`,
    { session, nav: false },
  );
}

/**
 * <mail2fa-enroll> on the demo's endpoints: turns 2FA on; with proof-methods in `extra` it moves
 * the enabled authenticator to a new phone, which the core allows only with a current code (the
 * old one works until the new one is confirmed).
 */
function enrollElement(session, doneHref, extra = '') {
  return `<mail2fa-enroll
  endpoint-start="/api/enroll/start"
  endpoint-confirm="/api/enroll/confirm"
  endpoint-cancel="/api/enroll/cancel"
  csrf-token="${esc(session.csrf)}"
  done-href="${esc(doneHref)}"
  core-src="/assets/mail2fa.js"
  wasm-src="/assets/mail2fa.wasm"
  css-src="/assets/mail2fa.css"
  print-css-src="/assets/mail2fa-print.css"${extra}></mail2fa-enroll>`;
}

/**
 * Enrollment at login (the policy requires 2FA): only <mail2fa-enroll>; the login completes
 * when this session confirms a code of the factor it enrolls (the server decides that).
 */
export function enrollAtLogin(session) {
  return layout(
    'Set up two-factor authentication',
    `<h1>Set up two-factor authentication</h1>
<p>Your mail provider requires two-factor authentication for <strong>${esc(session.user)}</strong>. Set it up to continue.</p>
${enrollElement(session, '/inbox')}
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(session.csrf)}"><button type="submit" class="link">Cancel and sign out</button></form>`,
    { session, nav: false, scripts: ['/assets/mail2fa-enroll.js'] },
  );
}

const MESSAGES = [
  { from: 'Ada Lovelace', subject: 'Notes on the Analytical Engine', date: 'Mon 09:12' },
  { from: 'Mail admin', subject: 'Welcome to your demo mailbox', date: 'Sun 18:40' },
  { from: 'Grace Hopper', subject: 'Re: the nanosecond wire', date: 'Fri 14:03' },
];

export function inbox(session, status, { flash = '' } = {}) {
  const rows = MESSAGES.map(
    (m) => `<tr><td>${esc(m.from)}</td><td>${esc(m.subject)}</td><td class="date">${esc(m.date)}</td></tr>`,
  ).join('\n');
  const banner =
    status.state === 'enabled'
      ? ''
      : `<p class="notice">Two-factor authentication is off for your account. <a href="/security?start=1">Turn it on</a>.</p>`;
  return layout(
    'Inbox',
    `<h1>Inbox</h1>
${flash ? `<p class="notice" role="status">${esc(flash)}</p>` : ''}
${banner}
<table class="messages">
<caption class="visually-hidden">Messages</caption>
<thead><tr><th scope="col">From</th><th scope="col">Subject</th><th scope="col">Date</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`,
    { session },
  );
}

const NOTICES = {
  enabled: 'Two-factor authentication is on.',
  disabled: 'Two-factor authentication is off.',
  replaced: 'Your new phone is set up. Codes from the old app no longer work.',
};

/** The attributes every security component shares: the transport's CSRF token and the stylesheet. */
const common = (session) =>
  `csrf-token="${esc(session.csrf)}" css-src="/assets/mail2fa.css" panel-css-src="/assets/mail2fa-panel.css"`;

function passwordForm(session, passwordError) {
  const [field, text] = passwordError || [];
  const input = (id, name, label, autocomplete) => `<label for="${id}">${label}</label>
  <input id="${id}" name="${name}" type="password" autocomplete="${autocomplete}" required${
    name !== 'current' ? ' minlength="10"' : ''
  }${field === name ? ' aria-invalid="true" aria-describedby="password-error"' : ''}>`;
  return `<section aria-labelledby="password-h">
<h2 id="password-h">Change password</h2>
<p>Changing your password also revokes every app password and trusted browser, and signs out your other sessions.</p>
<form method="post" action="/security/password" class="stack">
  <input type="hidden" name="_csrf" value="${esc(session.csrf)}">
  <input type="text" name="user" autocomplete="username" value="${esc(session.user)}" hidden>
  ${input('current-password', 'current', 'Current password', 'current-password')}
  ${input('new-password', 'password', 'New password (at least 10 characters)', 'new-password')}
  ${input('confirm-password', 'confirm', 'New password again', 'new-password')}
  ${text ? `<p class="error" role="alert" id="password-error">${esc(text)}</p>` : ''}
  <button type="submit">Change password</button>
</form>
</section>`;
}

export function security(session, status, { notice = '', flash = '', error = '', method = 'totp', passwordError = null, start = false } = {}) {
  const notes = [NOTICES[notice], flash].filter(Boolean).map((t) => `<p class="notice" role="status">${esc(t)}</p>`).join('\n');
  const enabled = status.state === 'enabled';
  const totp = status.totp;
  // Always listed (and revocable), whatever the 2FA state; created only with 2FA on and a
  // current code (proof-methods): the core refuses otherwise.
  const proof = 'proof-methods="totp backup_code"';
  const appPasswords = `<mail2fa-app-passwords
  endpoint-list="/api/app-passwords/list"
  endpoint-create="/api/app-passwords/create"
  endpoint-revoke="/api/app-passwords/revoke"
  ${enabled ? proof : 'no-create'}
  ${common(session)}></mail2fa-app-passwords>`;
  const enroll = (notice, extra) => enrollElement(session, `/security?notice=${notice}`, extra);
  const section = enabled
    ? `<p>Two-factor authentication is <strong>on</strong>${totp?.enabled_at ? ` since ${esc(new Date(totp.enabled_at * 1000).toISOString().slice(0, 10))}` : ''}.</p>
<mail2fa-backup-codes
  endpoint-status="/api/backup/status"
  endpoint-regenerate="/api/backup/regenerate"
  account="${esc(session.user)}"
  print-css-src="/assets/mail2fa-codes-print.css"
  ${proof}
  ${common(session)}></mail2fa-backup-codes>
${appPasswords}
<mail2fa-devices
  endpoint-list="/api/devices/list"
  endpoint-revoke="/api/devices/revoke"
  endpoint-revoke-all="/api/devices/revoke-all"
  ${common(session)}></mail2fa-devices>
${enroll('replaced', `\n  ${proof}`)}
<section aria-labelledby="disable-h">
<h2 id="disable-h">Turn off two-factor authentication</h2>
<p>This also removes your backup codes, trusted browsers and app passwords.</p>
${errorBlock(error)}
<form method="post" action="/security/disable" class="stack">
  <input type="hidden" name="_csrf" value="${esc(session.csrf)}">
  <input type="hidden" name="method" value="totp">
  <label for="disable-code">Current code from your app</label>
  <input id="disable-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="12" required aria-describedby="form-error"${error && method === 'totp' ? ' aria-invalid="true"' : ''}>
  <button type="submit">Turn off two-factor authentication</button>
</form>
<details class="alt"${error && method === 'backup_code' ? ' open' : ''}>
<summary>Lost your phone? Use a backup code instead</summary>
<form method="post" action="/security/disable" class="stack">
  <input type="hidden" name="_csrf" value="${esc(session.csrf)}">
  <input type="hidden" name="method" value="backup_code">
  <label for="disable-backup">Backup code</label>
  <input id="disable-backup" name="code" type="text" autocomplete="off" autocapitalize="off" spellcheck="false" maxlength="24" required aria-describedby="form-error"${error && method === 'backup_code' ? ' aria-invalid="true"' : ''}>
  <button type="submit">Turn off with backup code</button>
</form>
</details>
</section>`
    : `${enroll('enabled', start ? ' autostart' : '')}
${appPasswords}`;
  return layout('Security', `<h1>Security</h1>\n${notes}\n${section}\n${passwordForm(session, passwordError)}`, {
    session,
    scripts: enabled
      ? ['/assets/mail2fa-backup-codes.js', '/assets/mail2fa-app-passwords.js', '/assets/mail2fa-devices.js', '/assets/mail2fa-enroll.js']
      : ['/assets/mail2fa-enroll.js', '/assets/mail2fa-app-passwords.js'],
  });
}

export function message(title, text) {
  return layout(title, `<h1>${esc(title)}</h1><p>${esc(text)}</p><p><a href="/">Back</a></p>`, { nav: false });
}
