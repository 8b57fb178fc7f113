// <mail2fa-app-passwords>: passwords for mail apps that cannot ask for a code (IMAP, SMTP).
// Create one with a label (the password is shown once, then only its label remains), list
// them, revoke one. Transport actions (endpoint-<action> attributes or a `transport` property):
//   list    {}      → {app_passwords: [{id, label, created_at, last_used_at}]}
//   create  {label} → {id, label, password}   ({label, proof: {method, code}} with proof-methods)
//   revoke  {id}    → {revoked: bool}
// The host never sends stored hashes to the page; the new password lives only in this
// element's DOM until the user presses Done. Attributes besides the panel's: proof-methods
// (creating needs a current code), no-create (list and revoke only, e.g. while 2FA is off:
// app passwords belong to two-factor authentication).
import { Mail2faPanel, PANEL_STRINGS, h, format } from './mail2fa-panel.js';

export const APP_PASSWORD_STRINGS = {
  ...PANEL_STRINGS,
  title: 'App passwords',
  intro: 'Mail apps that cannot ask for a code (IMAP, SMTP) sign in with an app password instead of your password. Make one per app.',
  labelLabel: 'Name of the app',
  create: 'Create app password',
  creating: 'Creating…',
  newTitle: 'App password for {label}',
  newText: 'Enter it in the app instead of your password. It is shown only now.',
  passwordLabel: 'App password',
  copy: 'Copy',
  copied: 'Copied to the clipboard.',
  copyFailed: 'Copying failed. Select the password and copy it by hand.',
  done: 'Done',
  empty: 'No app passwords.',
  caption: 'App passwords',
  name: 'App',
  created: 'Created',
  lastUsed: 'Last used',
  actions: 'Actions',
  revoke: 'Revoke',
  revokeLabel: 'Revoke {label}',
  revoked: 'Revoked “{label}”. That app can no longer sign in with it.',
  notFound: 'That app password was already revoked.',
  badLabel: 'Enter a name of 1 to 64 characters.',
  limit: 'You have as many app passwords as allowed. Revoke one first.',
  createOff: 'App passwords come with two-factor authentication: turn it on to create one.',
};

export class Mail2faAppPasswords extends Mail2faPanel {
  static STRINGS = APP_PASSWORD_STRINGS;
  static ERRORS = { invalid_field: 'badLabel', missing_field: 'badLabel', limit_reached: 'limit' };

  async refresh() {
    const ok = await this.run(async () => {
      const { app_passwords: list } = await this.send('list');
      this._list = Array.isArray(list) ? list : [];
    });
    if (ok) this.render();
  }

  render() {
    const s = this.s;
    const id = `${this._uid}-label`;
    this._input = h('input', {
      id, name: 'label', type: 'text', maxlength: '64', required: true, autocomplete: 'off',
      'aria-describedby': `${this._uid}-error`,
    });
    const submit = h('button', { type: 'submit' }, s.create);
    const proof = this.proofField();
    const form = this.hasAttribute('no-create')
      ? h('p', { class: 'muted' }, s.createOff)
      : proof
        ? h('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); this.create(submit); } },
          h('label', { for: id }, s.labelLabel), this._input, proof, h('div', { class: 'actions start' }, submit))
        : h('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); this.create(submit); } },
          h('label', { for: id }, s.labelLabel),
          h('div', { class: 'key-row' }, this._input, submit));
    const list = this._list || [];
    const rows = list.map((p) => {
      const button = h('button', {
        type: 'button', 'aria-label': format(s.revokeLabel, { label: p.label }), onclick: () => this.revoke(p, button),
      }, s.revoke);
      return [p.label, this.date(p.created_at), this.date(p.last_used_at), button];
    });
    this.show(
      h('p', {}, s.intro),
      this._shown ? this.shownBox() : form,
      !this._list ? null : list.length
        ? this.table(s.caption, [s.name, s.created, s.lastUsed, h('span', { class: 'visually-hidden' }, s.actions)], rows)
        : h('p', { class: 'muted' }, s.empty),
    );
  }

  /** The new password, shown once: a labelled region whose heading takes focus. */
  shownBox() {
    const s = this.s;
    const { label, password } = this._shown;
    const hid = `${this._uid}-new`;
    const code = h('code', { class: 'key secret-once', id: `${hid}-pw`, translate: 'no', 'aria-label': s.passwordLabel }, password);
    return h('div', { class: 'new-secret', role: 'group', 'aria-labelledby': hid },
      h('h3', { id: hid, tabindex: '-1' }, format(s.newTitle, { label })),
      h('p', {}, s.newText),
      h('div', { class: 'key-row' }, code,
        h('button', { type: 'button', onclick: () => this.copy(password) }, s.copy)),
      h('div', { class: 'actions start' },
        h('button', { type: 'button', class: 'primary', onclick: () => this.forget() }, s.done)));
  }

  async create(button) {
    if (this._busy) return;
    const label = this._input.value.trim();
    if (!label) {
      this.setError(this.s.badLabel);
      this._input.setAttribute('aria-invalid', 'true');
      this._input.focus();
      return;
    }
    this._input.removeAttribute('aria-invalid');
    const proof = this.readProof();
    if (proof === null) return;
    let created;
    this.say(this.s.creating);
    const ok = await this.run(async () => {
      created = await this.send('create', proof ? { label, proof } : { label });
      const { app_passwords: list } = await this.send('list');
      this._list = Array.isArray(list) ? list : [];
    }, button);
    if (!ok) {
      if (!this.proofFailed()) {
        this._input.setAttribute('aria-invalid', 'true');
        this._input.focus();
      }
      return;
    }
    this.say('');
    this._shown = { label: created.label ?? label, password: String(created.password) };
    this.render();
    this.shadowRoot.getElementById(`${this._uid}-new`).focus();
    this.emit('app-password-created', { id: created.id });
  }

  async copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      this.say(this.s.copied);
    } catch {
      this.say(this.s.copyFailed);
    }
  }

  /** Drops the shown password from the DOM and memory. */
  forget() {
    this._shown = null;
    this.say('');
    this.render();
    this._input?.isConnected ? this._input.focus() : this.focusHeading();
  }

  async revoke(entry, button) {
    let revoked = false;
    const ok = await this.run(async () => {
      ({ revoked } = await this.send('revoke', { id: entry.id }));
    }, button);
    if (!ok) return;
    this._list = this._list.filter((p) => p.id !== entry.id);
    this.render();
    this.focusHeading();
    this.say(revoked ? format(this.s.revoked, { label: entry.label }) : this.s.notFound);
    this.emit('app-password-revoked', { id: entry.id });
  }
}

if (!customElements.get('mail2fa-app-passwords')) customElements.define('mail2fa-app-passwords', Mail2faAppPasswords);
