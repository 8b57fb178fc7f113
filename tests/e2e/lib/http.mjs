// A minimal cookie-keeping HTTP client for requests a browser would not make on its own
// (the bypass suite), on Node's fetch.
import { password } from './env.mjs';

export class Client {
  constructor(base) {
    this.base = base;
    this.cookies = new Map();
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  remember(response) {
    for (const c of response.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (value === '' || value === 'deleted' || /expires=Thu, 01-Jan-1970/i.test(c) || /Max-Age=0/i.test(c)) {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, value);
      }
    }
  }

  async request(path, { method = 'GET', form = null, headers = {} } = {}) {
    const init = { method, redirect: 'manual', headers: { ...headers, Cookie: this.cookieHeader() } };
    if (form) {
      init.body = new URLSearchParams(form).toString();
      init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(new URL(path, this.base), init);
    this.remember(res);
    const body = await res.text();
    return { status: res.status, location: res.headers.get('location'), body, headers: res.headers };
  }

  /** Password login; returns the redirect target. */
  async login(user, pass = password(user)) {
    const page = await this.request('./');
    const token = page.body.match(/name="_token" value="([^"]+)"/)[1];
    const res = await this.request('./?_task=login', {
      method: 'POST',
      form: { _token: token, _task: 'login', _action: 'login', _timezone: 'UTC', _url: '', _user: user, _pass: pass },
    });
    return res.location || '';
  }
}
