// <mail2fa-enroll>: TOTP enrollment as one framework-free custom element.
//
// start → the host's server makes the secret with the mail2fa core and returns {uri, secret}
// → the QR code is drawn here by the same wasm (qrSvg), the key grouped in fours with a copy
// button → the user enters a code → the server confirms it with the core → backup codes
// (when the server returns them) shown once, with download and print → done.
// The secret lives only in this element's memory and DOM until the step after it; it is
// never put in a URL, a cookie or storage.
// With proof-methods ("totp", or "totp backup_code") it moves an enabled factor to a new
// phone: the first step asks for a current code and start sends it as `proof: {method, code}`
// (the core refuses a new secret over an enabled factor without one); the old factor keeps
// working until the new one is confirmed.
import {
  h,
  format,
  transportOf,
  stringsOf,
  attachStyles,
  adoptEarlyProperties,
  downloadText,
  printAlone,
  Mail2faCore,
  TransportError,
  PROOF_STRINGS,
  PROOF_ERRORS,
  proofMethodsOf,
  ProofField,
} from './mail2fa-ui.js';

export { Mail2faCore };

/** The default (English) strings; override some or all with the `strings` property or attribute. */
export const ENROLL_STRINGS = {
  introTitle: 'Set up two-factor authentication',
  introText:
    'You need an authenticator app on your phone, such as Aegis, FreeOTP or Google Authenticator. ' +
    'After your password, you will also enter the code it shows.',
  start: 'Begin setup',
  replaceTitle: 'Move to a new phone',
  replaceText:
    'Set up your authenticator app on the new phone. Your current app keeps working until ' +
    'you confirm the first code from the new one.',
  ...PROOF_STRINGS,
  starting: 'Preparing…',
  scanTitle: 'Scan the QR code',
  scanText: 'In your authenticator app, add an account and scan this code.',
  qrLabel: 'QR code to add {account} to an authenticator app',
  manualTitle: 'Can’t scan it? Type this key',
  manualText: 'Account: {account}. Time-based, {digits} digits every {period} seconds.',
  keyLabel: 'Setup key',
  copy: 'Copy key',
  copied: 'Key copied to the clipboard.',
  copyFailed: 'Copying failed. Select the key and copy it by hand.',
  next: 'Next',
  back: 'Back',
  cancel: 'Cancel',
  verifyTitle: 'Enter the code from your app',
  verifyText: 'Your app now shows a {digits}-digit code for {account}. It changes every {period} seconds.',
  codeLabel: 'Code from the app',
  verify: 'Verify',
  verifying: 'Checking…',
  wrongCode: 'That code was not accepted. Wait for the next code in your app and try again.',
  malformed: 'Enter the {digits} digits your app shows.',
  tooMany: 'Too many attempts. Wait a moment, then try again.',
  expired: 'This setup has expired. Begin again.',
  networkError: 'The server could not be reached. Check your connection and try again.',
  error: 'Something went wrong. Please try again.',
  loadError: 'The QR code could not be drawn. Type the key below instead.',
  backupTitle: 'Save your backup codes',
  backupText:
    'Each code signs you in once if you lose your phone. They are shown only now: ' +
    'download or print them and keep them somewhere safe.',
  backupListLabel: 'Backup codes',
  download: 'Download',
  print: 'Print',
  saved: 'I have saved my backup codes',
  savedFirst: 'Confirm that you have saved your backup codes first.',
  continue: 'Continue',
  backupFileName: 'backup-codes.txt',
  backupFileHeader: 'Backup codes for {account}. Each code works once.',
  doneTitle: 'Two-factor authentication is on',
  doneText: 'From now on you sign in with your password and a code from your app.',
  replacedTitle: 'Your new phone is set up',
  replacedText: 'From now on you sign in with a code from the new app; codes from the old one no longer work.',
  done: 'Done',
  cancelledTitle: 'Setup cancelled',
  cancelledText: 'Nothing was changed.',
  restart: 'Begin again',
};

/** Groups a base32 key in fours for typing: "JBSW Y3DP EHPK 3PXP". */
export function groupKey(secret) {
  return String(secret).replace(/\s+/g, '').match(/.{1,4}/g)?.join(' ') ?? '';
}

const ERROR_STRINGS = {
  wrong_code: 'wrongCode',
  replayed: 'wrongCode',
  malformed: 'malformed',
  locked: 'tooMany',
  rate_limited: 'tooMany',
  too_many_attempts: 'tooMany',
  no_pending_enrollment: 'expired',
  network: 'networkError',
};

let ids = 0;

export class Mail2faEnroll extends HTMLElement {
  constructor() {
    super();
    adoptEarlyProperties(this);
    this._uid = `m2fe${++ids}`;
    this._state = null;
    this._busy = false;
  }

  connectedCallback() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: 'open' });
    attachStyles(this, root);
    this._status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    this._error = h('p', {
      class: 'error',
      id: `${this._uid}-error`,
      role: 'alert',
      'aria-live': 'assertive',
    });
    this._main = h('div', { class: 'step-host' });
    root.append(h('div', { class: 'card', part: 'card' }, this._main, this._error, this._status));
    ensurePrintStyles(this);
    if (this.hasAttribute('autostart')) this._start();
    else this._show('intro');
  }

  disconnectedCallback() {
    this._forget();
  }

  /** Overrides of ENROLL_STRINGS; setting it re-renders the current step in place. */
  get strings() {
    return this._strings;
  }

  set strings(value) {
    this._strings = value && typeof value === 'object' ? value : undefined;
    if (this._step && this.shadowRoot) this._show(this._step, { focus: false });
  }

  get s() {
    return stringsOf(this, ENROLL_STRINGS);
  }

  /** Drops the secret and URI from memory and from the DOM. */
  _forget() {
    if (this._state) {
      this._state.uri = null;
      this._state.secret = null;
    }
  }

  _emit(name, detail = {}) {
    this.dispatchEvent(new CustomEvent(`mail2fa-${name}`, { detail, bubbles: true, composed: true }));
  }

  _setError(message) {
    this._error.textContent = message || '';
    this._error.hidden = !message;
    const input = this.shadowRoot.querySelector('input[name="code"]');
    if (input) input.setAttribute('aria-invalid', message ? 'true' : 'false');
  }

  _say(message) {
    this._status.textContent = message || '';
  }

  _errorText(err) {
    const s = this.s;
    const key = ERROR_STRINGS[err?.code] || 'error';
    return format(s[key], this._vars());
  }

  _vars() {
    const p = this._state?.params || {};
    return {
      account: p.issuer ? `${p.issuer} (${p.account})` : p.account || '',
      digits: p.digits || 6,
      period: p.period || 30,
    };
  }

  /** Renders a step: a section whose heading takes focus, so screen readers announce it. */
  _show(step, { focus = true } = {}) {
    const s = this.s;
    this._setError('');
    this._step = step;
    const heading = (text) => h('h2', { tabindex: '-1', id: `${this._uid}-h` }, text);
    let section;
    switch (step) {
      case 'intro':
        section = this._introStep(heading);
        break;
      case 'scan':
        section = this._scanStep(heading);
        break;
      case 'verify':
        section = this._verifyStep(heading);
        break;
      case 'backup':
        section = this._backupStep(heading);
        break;
      case 'done':
        section = h(
          'section',
          {},
          heading(this._replacing() ? s.replacedTitle : s.doneTitle),
          h('p', {}, this._replacing() ? s.replacedText : s.doneText),
          h('div', { class: 'actions' },
            h('button', { type: 'button', class: 'primary', onclick: () => this._finish() }, s.done)),
        );
        break;
      case 'cancelled':
        section = h(
          'section',
          {},
          heading(s.cancelledTitle),
          h('p', {}, s.cancelledText),
          h('div', { class: 'actions' },
            h('button', { type: 'button', class: 'primary',
              onclick: () => (this._replacing() ? this._show('intro') : this._start()) }, s.restart)),
        );
        break;
      default:
        throw new Error(`unknown step ${step}`);
    }
    section.setAttribute('aria-labelledby', `${this._uid}-h`);
    section.dataset.step = step;
    this._main.replaceChildren(section);
    this.setAttribute('step', step);
    if (focus) this._emit('step', { step });
    // Focus the heading after the section is in the document (the first step only when asked).
    if (focus && (step !== 'intro' || this.hasAttribute('autofocus'))) {
      section.querySelector('h2').focus();
    }
  }

  /** Whether this element moves an enabled factor (proof-methods set): start carries a proof. */
  _replacing() {
    return proofMethodsOf(this).length > 0;
  }

  /** The first step; when replacing, a form with the proof field (Enter submits it). */
  _introStep(heading) {
    const s = this.s;
    if (!this._replacing()) {
      this._proof = null;
      return h('section', {},
        heading(s.introTitle),
        h('p', {}, s.introText),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'primary', onclick: () => this._start() }, s.start)));
    }
    this._proof = new ProofField(proofMethodsOf(this), `${this._uid}-proof`, () => this.s, this._error.id);
    const form = h('form', {
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        this._start();
      },
    },
    this._proof.node,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, s.start)));
    return h('section', {}, heading(s.replaceTitle), h('p', {}, s.replaceText), form);
  }

  async _start() {
    if (this._busy) return;
    let request = {};
    if (this._replacing()) {
      if (this._step !== 'intro' || !this._proof) {
        this._show('intro');
        return;
      }
      const proof = this._proof.read((message) => this._setError(message), this.s);
      if (proof === null) return;
      request = { proof };
    }
    this._busy = true;
    this._say(this.s.starting);
    try {
      const started = await transportOf(this)('start', request);
      if (typeof started?.uri !== 'string' || typeof started?.secret !== 'string') {
        throw new TransportError('server_error', 'start did not return uri and secret');
      }
      // A server that runs the core renders the QR code and the key's parameters itself
      // (`qr`, `params`), so the page loads no WebAssembly; otherwise the core is loaded here.
      let { params, qr: svg } = started;
      if (typeof svg !== 'string' || !params || typeof params !== 'object') {
        params = { account: '', issuer: null, digits: 6, period: 30 };
        svg = null;
        try {
          const core = await Mail2faCore.get(this);
          params = core.otpauthParse({ uri: started.uri });
          svg = core.qrSvg({ text: started.uri }).svg;
        } catch (e) {
          this._emit('error', { code: e?.code || 'core_load_failed', message: String(e) });
        }
      }
      this._state = { uri: started.uri, secret: started.secret, params, svg };
      this._say('');
      this._busy = false;
      this._show('scan');
      if (!svg) this._setError(this.s.loadError);
    } catch (err) {
      this._busy = false;
      this._say('');
      if (this._step !== 'intro' && this._step !== 'cancelled') this._show('intro');
      // A refused proof is about the code typed on this step, not about a code of the new app.
      const aboutProof = this._proof?.failed(err?.code) === true;
      this._setError(aboutProof ? this.s[PROOF_ERRORS[err.code]] : this._errorText(err));
      this._emit('error', { code: err?.code || 'error' });
    }
  }

  _scanStep(heading) {
    const s = this.s;
    const v = this._vars();
    const { svg, secret } = this._state;
    const figure = h('figure', { class: 'qr' });
    if (svg) {
      const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
      const el = doc.documentElement;
      if (el && el.localName === 'svg' && !doc.querySelector('parsererror')) {
        const node = document.importNode(el, true);
        node.setAttribute('role', 'img');
        node.setAttribute('aria-label', format(s.qrLabel, v));
        node.setAttribute('part', 'qr');
        figure.append(node);
      }
    }
    const keyId = `${this._uid}-key`;
    const copyButton = h('button', { type: 'button', onclick: () => this._copy() }, s.copy);
    return h(
      'section',
      {},
      heading(s.scanTitle),
      h('p', {}, s.scanText),
      figure.childNodes.length ? figure : null,
      h('h3', {}, s.manualTitle),
      h('p', {}, format(s.manualText, v)),
      h('div', { class: 'key-row' },
        h('span', { class: 'visually-hidden', id: `${keyId}-label` }, s.keyLabel),
        h('code', { class: 'key', id: keyId, 'aria-labelledby': `${keyId}-label ${keyId}`, translate: 'no' },
          groupKey(secret)),
        copyButton),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => this._cancel() }, s.cancel),
        h('button', { type: 'button', class: 'primary', onclick: () => this._show('verify') }, s.next)),
    );
  }

  async _copy() {
    const s = this.s;
    const text = String(this._state?.secret || '').replace(/\s+/g, '');
    try {
      await navigator.clipboard.writeText(text);
      this._say(s.copied);
    } catch {
      const code = this.shadowRoot.querySelector('code.key');
      if (code) {
        const range = document.createRange();
        range.selectNodeContents(code);
        const sel = this.shadowRoot.getSelection ? this.shadowRoot.getSelection() : window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      }
      this._say(s.copyFailed);
    }
  }

  _verifyStep(heading) {
    const s = this.s;
    const v = this._vars();
    const inputId = `${this._uid}-code`;
    const input = h('input', {
      id: inputId,
      name: 'code',
      type: 'text',
      inputmode: 'numeric',
      autocomplete: 'one-time-code',
      pattern: '[0-9 ]*',
      maxlength: String(Number(v.digits) + 4),
      spellcheck: 'false',
      autocapitalize: 'off',
      required: true,
      'aria-describedby': `${this._uid}-vt ${this._uid}-error`,
      'aria-invalid': 'false',
    });
    const submit = h('button', { type: 'submit', class: 'primary' }, s.verify);
    const form = h(
      'form',
      { novalidate: true, onsubmit: (e) => { e.preventDefault(); this._confirm(input, submit); } },
      h('label', { for: inputId }, s.codeLabel),
      input,
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => this._show('scan') }, s.back),
        submit),
    );
    return h('section', {}, heading(s.verifyTitle), h('p', { id: `${this._uid}-vt` }, format(s.verifyText, v)), form);
  }

  async _confirm(input, submit) {
    if (this._busy) return;
    const s = this.s;
    const code = input.value;
    if (!code.trim()) {
      this._setError(format(s.malformed, this._vars()));
      input.focus();
      return;
    }
    this._busy = true;
    submit.disabled = true;
    this._say(s.verifying);
    try {
      const result = await transportOf(this)('confirm', { code });
      this._say('');
      if (result?.activated === true) {
        const codes = Array.isArray(result.backup_codes) ? result.backup_codes.map(String) : [];
        this._state.backupCodes = codes;
        this._state.svg = null;
        this._forget();
        this._emit('activated', {});
        this._show(codes.length ? 'backup' : 'done');
      } else {
        this._setError(this._errorText({ code: result?.reason || 'wrong_code' }));
        input.select();
        input.focus();
      }
    } catch (err) {
      this._say('');
      if (err?.code === 'no_pending_enrollment') {
        this._show('intro');
      }
      this._setError(this._errorText(err));
      if (input.isConnected) input.focus();
    } finally {
      this._busy = false;
      submit.disabled = false;
    }
  }

  _backupStep(heading) {
    const s = this.s;
    const codes = this._state.backupCodes;
    const listId = `${this._uid}-codes`;
    const checkId = `${this._uid}-saved`;
    const check = h('input', { type: 'checkbox', id: checkId });
    return h(
      'section',
      {},
      heading(s.backupTitle),
      h('p', {}, s.backupText),
      h('ol', { class: 'codes', id: listId, 'aria-label': s.backupListLabel, translate: 'no' },
        codes.map((c) => h('li', {}, h('code', {}, c)))),
      h('div', { class: 'actions start' },
        h('button', { type: 'button', onclick: () => this._download() }, s.download),
        h('button', { type: 'button', onclick: () => this._print() }, s.print)),
      h('div', { class: 'check' }, check, h('label', { for: checkId }, s.saved)),
      h('div', { class: 'actions' },
        h('button', {
          type: 'button',
          class: 'primary',
          onclick: () => {
            if (!check.checked) {
              this._setError(s.savedFirst);
              check.focus();
              return;
            }
            this._state.backupCodes = [];
            this._show('done');
          },
        }, s.continue)),
    );
  }

  _backupText() {
    const s = this.s;
    const lines = [format(s.backupFileHeader, this._vars()), '', ...this._state.backupCodes, ''];
    return lines.join('\r\n');
  }

  _download() {
    downloadText(this, this.s.backupFileName, this._backupText());
  }

  /** Prints the backup codes alone (mail2fa-print.css). */
  _print() {
    printAlone(this);
  }

  async _cancel() {
    if (this._busy) return;
    this._busy = true;
    try {
      await transportOf(this)('cancel', {});
    } catch (err) {
      if (err?.code !== 'no_endpoint') {
        this._busy = false;
        this._setError(this._errorText(err));
        return;
      }
    }
    this._busy = false;
    this._forget();
    this._state = null;
    this._emit('cancelled', {});
    this._show('cancelled');
  }

  _finish() {
    this._state = null;
    this._emit('done', {});
    const href = this.getAttribute('done-href');
    if (href) window.location.assign(href);
  }
}

function ensurePrintStyles(el) {
  if (document.querySelector('link[data-mail2fa-print]')) return;
  const href = el.getAttribute('print-css-src') || new URL('./mail2fa-print.css', import.meta.url).href;
  document.head.append(h('link', { rel: 'stylesheet', href, media: 'print', 'data-mail2fa-print': '' }));
}

if (!customElements.get('mail2fa-enroll')) {
  customElements.define('mail2fa-enroll', Mail2faEnroll);
}
