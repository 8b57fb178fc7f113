// <mail2fa-devices>: the user's trusted devices (browsers that skip the second step until a
// date), each removable, or all at once. Transport actions (endpoint-<action> attributes or
// a `transport` property, as <mail2fa-enroll>):
//   list        {}   → {devices: [{id, label, created_at, last_seen_at, expires_at, expired, current?}]}
//   revoke      {id} → {revoked: bool}
//   revoke-all  {}   → {revoked: count}
// The device token itself never reaches the page: it stays in the host's HttpOnly cookie.
import { Mail2faPanel, PANEL_STRINGS, h, format } from './mail2fa-panel.js';

export const DEVICES_STRINGS = {
  ...PANEL_STRINGS,
  title: 'Trusted devices',
  intro: 'These browsers sign in without a code from your app until the date shown. Remove any you do not recognise.',
  empty: 'No trusted devices.',
  caption: 'Trusted devices',
  device: 'Browser',
  created: 'Trusted since',
  lastSeen: 'Last used',
  expires: 'Trusted until',
  actions: 'Actions',
  current: '(this browser)',
  expired: 'expired',
  unknown: 'Unknown browser',
  revoke: 'Remove',
  revokeLabel: 'Remove {label}',
  revokeAll: 'Remove all',
  revoked: 'Removed. That browser will be asked for a code at its next sign-in.',
  revokedAll: 'Removed {count} devices. Each will be asked for a code at its next sign-in.',
  notFound: 'That device was already removed.',
};

export class Mail2faDevices extends Mail2faPanel {
  static STRINGS = DEVICES_STRINGS;

  async refresh() {
    const ok = await this.run(async () => {
      this.say(this.s.loading);
      const { devices } = await this.send('list');
      this._devices = Array.isArray(devices) ? devices : [];
      this.say('');
    });
    if (ok) this.render();
  }

  render() {
    const s = this.s;
    const devices = this._devices;
    if (!devices) {
      this.show(h('p', {}, s.intro));
      return;
    }
    const rows = devices.map((d) => {
      const label = d.label || s.unknown;
      const name = h('span', {}, label, d.current ? h('span', { class: 'muted' }, ` ${s.current}`) : null);
      const button = h('button', {
        type: 'button',
        'aria-label': format(s.revokeLabel, { label }),
        onclick: () => this.revoke(d, button),
      }, s.revoke);
      const expires = this.date(d.expires_at, { time: false });
      const until = d.expired ? `${expires} (${s.expired})` : expires;
      return [name, this.date(d.created_at, { time: false }), this.date(d.last_seen_at), until, button];
    });
    const all = h('button', { type: 'button', onclick: () => this.revokeAll(all) }, s.revokeAll);
    this.show(
      h('p', {}, s.intro),
      devices.length
        ? this.table(s.caption, [s.device, s.created, s.lastSeen, s.expires, h('span', { class: 'visually-hidden' }, s.actions)], rows)
        : h('p', { class: 'muted' }, s.empty),
      devices.length ? h('div', { class: 'actions start' }, all) : null,
    );
  }

  async revoke(device, button) {
    let revoked = false;
    const ok = await this.run(async () => {
      ({ revoked } = await this.send('revoke', { id: device.id }));
    }, button);
    if (!ok) return;
    this._devices = this._devices.filter((d) => d.id !== device.id);
    this.render();
    this.focusHeading();
    this.say(revoked ? this.s.revoked : this.s.notFound);
    this.emit('device-revoked', { id: device.id });
  }

  async revokeAll(button) {
    let revoked = 0;
    const ok = await this.run(async () => {
      ({ revoked } = await this.send('revoke-all'));
    }, button);
    if (!ok) return;
    this._devices = [];
    this.render();
    this.focusHeading();
    this.say(format(this.s.revokedAll, { count: revoked }));
    this.emit('devices-revoked', { count: revoked });
  }
}

if (!customElements.get('mail2fa-devices')) customElements.define('mail2fa-devices', Mail2faDevices);
