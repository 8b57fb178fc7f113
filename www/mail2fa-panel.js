// The base of the security-page components (<mail2fa-devices>, <mail2fa-app-passwords>,
// <mail2fa-backup-codes>): a shadow root with the components' stylesheet, a card labelled by
// its heading, an error region (role=alert) and a status region (aria-live=polite). Host
// transport and strings work as in <mail2fa-enroll>: endpoint-<action> attributes (or a
// `transport` property), csrf-token, encoding, and a `strings` attribute or property;
// css-src (mail2fa.css) and panel-css-src (mail2fa-panel.css) locate the two stylesheets.
// proof-methods ("totp", or "totp backup_code"): the action that adds a way into the account
// (new backup codes, an app password) asks for a current factor first and sends it as
// `proof: {method, code}`; the host passes it to the core, which checks it under the limiter.
import {
  h, format, transportOf, stringsOf, attachStyles, adoptEarlyProperties, downloadText, printAlone,
  PROOF_STRINGS, PROOF_ERRORS, proofMethodsOf, ProofField,
} from './mail2fa-ui.js';

export { h, format, downloadText, printAlone };

/** Strings every panel shares; each component adds its own on top. */
export const PANEL_STRINGS = {
  loading: 'Loading…',
  never: 'never',
  networkError: 'The server could not be reached. Check your connection and try again.',
  forbidden: 'Your session has expired. Reload the page and try again.',
  error: 'Something went wrong. Please try again.',
  ...PROOF_STRINGS,
  notEnabled: 'Turn on two-factor authentication first.',
};

const ERRORS = {
  network: 'networkError',
  forbidden: 'forbidden',
  unauthenticated: 'forbidden',
  ...PROOF_ERRORS,
  not_enabled: 'notEnabled',
};

let ids = 0;

export class Mail2faPanel extends HTMLElement {
  /** Subclasses: their default strings, and server error codes mapped to string keys. */
  static STRINGS = PANEL_STRINGS;
  static ERRORS = {};

  constructor() {
    super();
    adoptEarlyProperties(this);
    this._uid = `m2fp${++ids}`;
    this._busy = false;
    this._lastError = null;
  }

  connectedCallback() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: 'open' });
    attachStyles(this, root);
    const panelCss = this.getAttribute('panel-css-src') || new URL('./mail2fa-panel.css', import.meta.url).href;
    root.append(h('link', { rel: 'stylesheet', href: panelCss }));
    this._heading = h('h2', { id: `${this._uid}-h`, tabindex: '-1' });
    this._main = h('div', { class: 'panel-body' });
    this._error = h('p', { class: 'error', id: `${this._uid}-error`, role: 'alert', 'aria-live': 'assertive' });
    this._status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    root.append(
      h('section', { class: 'card', part: 'card', 'aria-labelledby': this._heading.id },
        this._heading, this._main, this._error, this._status),
    );
    this._heading.textContent = this.s.title;
    this.render();
    this.refresh();
  }

  get strings() {
    return this._strings;
  }

  set strings(value) {
    this._strings = value && typeof value === 'object' ? value : undefined;
    if (this.shadowRoot) {
      this._heading.textContent = this.s.title;
      this.render();
    }
  }

  get s() {
    return stringsOf(this, this.constructor.STRINGS);
  }

  /** Overridden: draws the current state into this._main. */
  render() {}

  /** Overridden: reloads from the server, then renders. */
  async refresh() {}

  send(action, body = {}) {
    return transportOf(this)(action, body);
  }

  emit(name, detail = {}) {
    this.dispatchEvent(new CustomEvent(`mail2fa-${name}`, { detail, bubbles: true, composed: true }));
  }

  say(message) {
    this._status.textContent = message || '';
  }

  setError(message) {
    this._error.textContent = message || '';
  }

  errorText(err) {
    const key = this.constructor.ERRORS[err?.code] || ERRORS[err?.code] || 'error';
    return this.s[key] ?? this.s.error;
  }

  /**
   * Runs one user action: one at a time, the button disabled meanwhile, errors shown in the
   * alert region. Resolves true when the action succeeded.
   */
  async run(action, button) {
    if (this._busy) return false;
    this._busy = true;
    if (button) button.disabled = true;
    this.setError('');
    this._lastError = null;
    try {
      await action();
      return true;
    } catch (err) {
      this._lastError = err?.code || 'error';
      this.say('');
      this.setError(this.errorText(err));
      this.emit('error', { code: err?.code || 'error' });
      return false;
    } finally {
      this._busy = false;
      if (button?.isConnected) button.disabled = false;
    }
  }

  /** The methods the proof-methods attribute offers (known ones only, totp first). */
  proofMethods() {
    return proofMethodsOf(this);
  }

  /** The proof field (a current code) when proof-methods is set, else null (see ProofField). */
  proofField() {
    const methods = this.proofMethods();
    this._proof = methods.length ? new ProofField(methods, `${this._uid}-proof`, () => this.s, `${this._uid}-error`) : null;
    return this._proof?.node ?? null;
  }

  /**
   * The typed proof as `{method, code}` (undefined when this panel asks for none), or null
   * after telling the user to enter one (the input is marked and focused).
   */
  readProof() {
    if (!this._proof) return undefined;
    return this._proof.read((message) => this.setError(message), this.s);
  }

  /** After a failed action: when the server refused the proof, mark its input; clear it either way. */
  proofFailed() {
    return this._proof ? this._proof.failed(this._lastError) : false;
  }

  /** Replaces the panel's content with the given nodes (falsy ones skipped). */
  show(...nodes) {
    this._main.replaceChildren(...nodes.filter(Boolean));
  }

  /** Sends focus to the heading (after the focused control left the DOM). */
  focusHeading() {
    this._heading.focus();
  }

  /** A Unix time as a date (and time) in the page's language. */
  date(seconds, { time = true } = {}) {
    if (!seconds) return this.s.never;
    const lang = this.closest('[lang]')?.getAttribute('lang') || undefined;
    const when = new Date(seconds * 1000);
    try {
      return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', ...(time ? { timeStyle: 'short' } : {}) }).format(when);
    } catch {
      return when.toISOString().slice(0, 16).replace('T', ' ');
    }
  }

  /**
   * A table with a caption and column headers; `rows` are arrays of cells (text or nodes; the
   * first is the row header). The last column holds the row's button.
   */
  table(caption, headers, rows) {
    // data-label names the column where narrow layouts drop the header row.
    const cell = (value, i, last) =>
      i === 0
        ? h('th', { scope: 'row' }, value)
        : h('td', { class: i === last ? 'act' : null, 'data-label': typeof headers[i] === 'string' ? headers[i] : null }, value);
    return h('table', {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, headers.map((text, i) =>
        h('th', { scope: 'col', class: i === headers.length - 1 ? 'act' : null }, text)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((v, i) => cell(v, i, cells.length - 1))))));
  }
}
