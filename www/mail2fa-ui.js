// Shared helpers of the mail2fa web components: DOM building without innerHTML (works
// under a strict CSP, Trusted Types included), the host transport, strings, the core loader.

/** Builds an element: h('button', {type: 'button', onclick}, 'text', child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces `{name}` placeholders with values. */
export function format(text, values = {}) {
  return String(text).replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
}

/**
 * Properties a page set on the element before it was defined (plain own properties that
 * shadow the class's accessors): `transport` is kept, `strings` moved behind its accessor.
 */
export function adoptEarlyProperties(el) {
  el.transport = el.transport ?? null;
  if (Object.hasOwn(el, 'strings')) {
    const early = el.strings;
    delete el.strings;
    el._strings = early;
  }
}

/** Offers `text` as a download named `fileName` (a link clicked inside `el`'s shadow root). */
export function downloadText(el, fileName, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = h('a', { href: url, download: fileName, hidden: true });
  el.shadowRoot.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Prints `el` alone: its print stylesheet hides the page while `data-printing` is set. */
export function printAlone(el) {
  el.setAttribute('data-printing', '');
  const done = () => {
    el.removeAttribute('data-printing');
    window.removeEventListener('afterprint', done);
  };
  window.addEventListener('afterprint', done);
  window.print();
}

/** An Error from a transport, carrying the server's (or the network's) code. */
export class TransportError extends Error {
  constructor(code, message, status = 0) {
    super(message || code);
    this.name = 'Mail2faTransportError';
    this.code = code;
    this.status = status;
  }
}

/**
 * A transport over HTTP endpoints, configured from an element's attributes:
 *   endpoint-<action>  the URL each action POSTs to (start, confirm, cancel, list, revoke, create, ...)
 *   csrf-token         the host page's anti-CSRF token
 *   csrf-header        the header it travels in (default X-CSRF-Token; "" for none)
 *   csrf-field         also send it as this body field (e.g. Roundcube's _token)
 *   encoding           json (default) or form (application/x-www-form-urlencoded, for PHP $_POST)
 * Every request is a same-origin POST; the response must be JSON. A non-2xx status or a body
 * with an `error` object becomes a TransportError with the server's error code.
 */
export function endpointTransport(el) {
  return async function send(action, body = {}) {
    const url = el.getAttribute(`endpoint-${action}`);
    if (!url) throw new TransportError('no_endpoint', `no endpoint-${action} attribute`);
    const token = el.getAttribute('csrf-token');
    const header = el.hasAttribute('csrf-header') ? el.getAttribute('csrf-header') : 'X-CSRF-Token';
    const field = el.getAttribute('csrf-field');
    const fields = { ...body };
    if (token && field) fields[field] = token;
    const headers = { Accept: 'application/json' };
    if (token && header) headers[header] = token;
    let payload;
    if (el.getAttribute('encoding') === 'form') {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(
        Object.entries(fields).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
      ).toString();
    } else {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(fields);
    }
    let response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers,
        body: payload,
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'error',
      });
    } catch {
      throw new TransportError('network', 'the server could not be reached');
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok || data === null || (data.error && typeof data.error === 'object')) {
      const code = data?.error?.code || (response.status === 403 ? 'forbidden' : 'server_error');
      throw new TransportError(code, data?.error?.message, response.status);
    }
    return data;
  };
}

/**
 * The transport an element uses: its `transport` property when the host set one
 * (an object of async functions by action name, e.g. {start, confirm, cancel}),
 * else its endpoint-* attributes.
 */
export function transportOf(el) {
  const custom = el.transport;
  if (custom && typeof custom === 'object') {
    return async (action, body) => {
      if (typeof custom[action] !== 'function') {
        throw new TransportError('no_endpoint', `the transport has no ${action} function`);
      }
      return custom[action](body);
    };
  }
  return endpointTransport(el);
}

/** Strings: defaults, then the `strings` attribute (JSON), then the `strings` property. */
export function stringsOf(el, defaults) {
  let fromAttr = {};
  const attr = el.getAttribute('strings');
  if (attr) {
    try {
      fromAttr = JSON.parse(attr);
    } catch {
      fromAttr = {};
    }
  }
  return { ...defaults, ...fromAttr, ...(el.strings || {}) };
}

const here = import.meta.url;

/** Adds the components' stylesheet to a shadow root (a <link>, allowed by style-src 'self'). */
export function attachStyles(el, root) {
  const href = el.getAttribute('css-src') || new URL('./mail2fa.css', here).href;
  root.append(h('link', { rel: 'stylesheet', href }));
}

let corePromise = null;

/**
 * Loads the mail2fa module once per page: the wasm-bindgen glue (`core-src`, default
 * ./mail2fa.js beside this file) and the module (`wasm-src`, default ./mail2fa.wasm),
 * instantiated with streaming compile. A host may instead set `Mail2faCore.load` to a
 * function returning an object with the typed API (qrSvg, otpauthParse), e.g. from the
 * npm package's browser entry.
 */
export const Mail2faCore = {
  load: null,
  get(el) {
    if (!corePromise) {
      corePromise = (async () => {
        if (typeof Mail2faCore.load === 'function') return Mail2faCore.load();
        const glue = el.getAttribute('core-src') || new URL('./mail2fa.js', here).href;
        const wasm = el.getAttribute('wasm-src') || new URL('./mail2fa.wasm', here).href;
        const mod = await import(glue);
        await mod.default({ module_or_path: wasm });
        return mod;
      })();
      corePromise.catch(() => {
        corePromise = null;
      });
    }
    return corePromise;
  },
};

/** The strings of the proof field (a current factor before a security change). */
export const PROOF_STRINGS = {
  proofLegend: 'Confirm with a current code',
  proofTotp: 'Code from your app',
  proofBackup: 'Backup code',
  proofUseBackup: 'Use a backup code instead',
  proofRequired: 'Enter the current code from your app (or a backup code) first.',
  proofWrong: 'That code was not accepted. Enter the current code from your app, or an unused backup code.',
  proofLocked: 'Too many wrong codes. Wait a few minutes, then try again.',
};

/** Server error codes that are about the proof the user typed, and their strings. */
export const PROOF_ERRORS = {
  fresh_factor_required: 'proofRequired',
  wrong_code: 'proofWrong',
  replayed: 'proofWrong',
  malformed: 'proofWrong',
  locked: 'proofLocked',
};

/** The methods an element's proof-methods attribute offers (known ones only, totp first). */
export function proofMethodsOf(el) {
  const listed = (el.getAttribute('proof-methods') || '').split(/[\s,]+/);
  return ['totp', 'backup_code'].filter((m) => listed.includes(m));
}

/**
 * The proof field of a component whose proof-methods attribute is set: a fieldset (`node`)
 * with a code input and, when backup codes are offered too, a checkbox switching the input to
 * one. The host passes the proof to the core, which checks it under the attempt limiter.
 */
export class ProofField {
  /** `id`: the input's id; `strings()`: the component's current strings; `errorId`: its alert region. */
  constructor(methods, id, strings, errorId) {
    const s = strings();
    this._onlyBackup = !methods.includes('totp');
    const label = h('label', { for: id }, this._onlyBackup ? s.proofBackup : s.proofTotp);
    this._input = h('input', {
      id, name: 'proof-code', type: 'text', maxlength: '24', required: true,
      autocomplete: this._onlyBackup ? 'off' : 'one-time-code', inputmode: this._onlyBackup ? null : 'numeric',
      autocapitalize: 'off', spellcheck: 'false', 'aria-describedby': errorId,
    });
    this._backup = null;
    if (methods.length === 2) {
      this._backup = h('input', {
        type: 'checkbox', id: `${id}-backup`,
        onchange: () => {
          const backup = this._backup.checked;
          label.textContent = backup ? strings().proofBackup : strings().proofTotp;
          this._input.setAttribute('autocomplete', backup ? 'off' : 'one-time-code');
          if (backup) this._input.removeAttribute('inputmode');
          else this._input.setAttribute('inputmode', 'numeric');
        },
      });
    }
    this.node = h('fieldset', { class: 'proof' },
      h('legend', {}, s.proofLegend),
      label, this._input,
      this._backup ? h('div', { class: 'check' }, this._backup, h('label', { for: this._backup.id }, s.proofUseBackup)) : null);
  }

  /**
   * The typed proof as `{method, code}`, or null when nothing was typed: then `say` gets the
   * message to show and the input is marked and focused.
   */
  read(say, strings) {
    const code = this._input.value.trim();
    if (!code) {
      say(strings.proofRequired);
      this._input.setAttribute('aria-invalid', 'true');
      this._input.focus();
      return null;
    }
    this._input.removeAttribute('aria-invalid');
    return { method: this._onlyBackup || this._backup?.checked ? 'backup_code' : 'totp', code };
  }

  /** After a failed action: clears the input, and marks and focuses it when `code` is about the proof. */
  failed(code) {
    this._input.value = '';
    if (!Object.hasOwn(PROOF_ERRORS, code)) return false;
    this._input.setAttribute('aria-invalid', 'true');
    this._input.focus();
    return true;
  }
}
