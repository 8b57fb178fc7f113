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

export function login(session, { user = '', error = '' } = {}) {
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
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

export function secondFactor(session, { error = '' } = {}) {
  return layout(
    'Two-factor authentication',
    `<h1>Two-factor authentication</h1>
<p>Enter the code from your authenticator app for <strong>${esc(session.user)}</strong>.</p>
<form method="post" action="/login/2fa" class="stack">
  <input type="hidden" name="_csrf" value="${esc(session.csrf)}">
  <label for="code">Code from the app</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="12" required autofocus aria-describedby="form-error"${error ? ' aria-invalid="true"' : ''}>
  ${errorBlock(error)}
  <button type="submit" class="primary">Verify</button>
</form>
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(session.csrf)}"><button type="submit" class="link">Cancel and sign out</button></form>`,
    { session, nav: false },
  );
}

const MESSAGES = [
  { from: 'Ada Lovelace', subject: 'Notes on the Analytical Engine', date: 'Mon 09:12' },
  { from: 'Mail admin', subject: 'Welcome to your demo mailbox', date: 'Sun 18:40' },
  { from: 'Grace Hopper', subject: 'Re: the nanosecond wire', date: 'Fri 14:03' },
];

export function inbox(session, status) {
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
};

export function security(session, status, { notice = '', error = '', start = false } = {}) {
  const note = NOTICES[notice] ? `<p class="notice" role="status">${esc(NOTICES[notice])}</p>` : '';
  const enabled = status.state === 'enabled';
  const totp = status.totp;
  const section = enabled
    ? `<p>Two-factor authentication is <strong>on</strong>${totp?.enabled_at ? ` since ${esc(new Date(totp.enabled_at * 1000).toISOString().slice(0, 10))}` : ''}.</p>
<h2>Turn it off</h2>
<form method="post" action="/security/disable" class="stack">
  <input type="hidden" name="_csrf" value="${esc(session.csrf)}">
  <label for="disable-code">Current code from your app</label>
  <input id="disable-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="12" required aria-describedby="form-error"${error ? ' aria-invalid="true"' : ''}>
  ${errorBlock(error)}
  <button type="submit">Turn off two-factor authentication</button>
</form>`
    : `<mail2fa-enroll
  endpoint-start="/api/enroll/start"
  endpoint-confirm="/api/enroll/confirm"
  endpoint-cancel="/api/enroll/cancel"
  csrf-token="${esc(session.csrf)}"
  done-href="/security?notice=enabled"
  core-src="/assets/mail2fa.js"
  wasm-src="/assets/mail2fa.wasm"
  css-src="/assets/mail2fa.css"
  print-css-src="/assets/mail2fa-print.css"${start ? ' autostart' : ''}></mail2fa-enroll>`;
  return layout('Security', `<h1>Security</h1>\n${note}\n${section}`, {
    session,
    scripts: enabled ? [] : ['/assets/mail2fa-enroll.js'],
  });
}

export function message(title, text) {
  return layout(title, `<h1>${esc(title)}</h1><p>${esc(text)}</p><p><a href="/">Back</a></p>`, { nav: false });
}
