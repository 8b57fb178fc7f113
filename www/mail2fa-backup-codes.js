// <mail2fa-backup-codes>: how many backup codes are left, and a new set on request, shown
// once with download and print (as <mail2fa-enroll> shows the first set). Transport actions
// (endpoint-<action> attributes or a `transport` property):
//   status      {} → {remaining, issued}   (backup.status)
//   regenerate  {} → {codes: [..], remaining}   (backup.generate: every old code stops working)
// Attributes besides the panel's: account (named in the downloaded file), print-css-src,
// proof-methods (a new set needs a current code: regenerate then sends {proof: {method, code}}).
import { Mail2faPanel, PANEL_STRINGS, h, format, downloadText, printAlone } from './mail2fa-panel.js';

export const BACKUP_STRINGS = {
  ...PANEL_STRINGS,
  title: 'Backup codes',
  intro: 'Each backup code signs you in once when you do not have your phone.',
  remaining: '{remaining} of {issued} codes left.',
  none: 'You have no backup codes.',
  regenerateText: 'New codes replace the old ones: every old code stops working.',
  regenerate: 'Make new backup codes',
  generating: 'Making new codes…',
  newTitle: 'Your new backup codes',
  newText: 'They are shown only now: download or print them and keep them somewhere safe.',
  listLabel: 'Backup codes',
  download: 'Download',
  print: 'Print',
  saved: 'I have saved my backup codes',
  savedFirst: 'Confirm that you have saved your backup codes first.',
  done: 'Done',
  fileName: 'backup-codes.txt',
  fileHeader: 'Backup codes for {account}. Each code works once.',
};

export class Mail2faBackupCodes extends Mail2faPanel {
  static STRINGS = BACKUP_STRINGS;

  connectedCallback() {
    super.connectedCallback();
    if (document.querySelector('link[data-mail2fa-codes-print]')) return;
    const href = this.getAttribute('print-css-src') || new URL('./mail2fa-codes-print.css', import.meta.url).href;
    document.head.append(h('link', { rel: 'stylesheet', href, media: 'print', 'data-mail2fa-codes-print': '' }));
  }

  disconnectedCallback() {
    this._codes = null;
  }

  async refresh() {
    const ok = await this.run(async () => {
      this._info = await this.send('status');
    });
    if (ok) this.render();
  }

  render() {
    const s = this.s;
    if (this._codes) return this.show(this.codesStep());
    const st = this._info;
    const count = !st ? null : st.issued ? format(s.remaining, st) : s.none;
    const proof = this.proofField();
    // With a proof field, a form: Enter in the code input submits it.
    const button = proof
      ? h('button', { type: 'submit' }, s.regenerate)
      : h('button', { type: 'button', onclick: () => this.regenerate(button) }, s.regenerate);
    this.show(
      h('p', {}, s.intro),
      count ? h('p', { class: 'count' }, h('strong', {}, count)) : null,
      h('p', { class: 'muted' }, s.regenerateText),
      proof
        ? h('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); this.regenerate(button); } },
          proof, h('div', { class: 'actions start' }, button))
        : h('div', { class: 'actions start' }, button),
    );
  }

  codesStep() {
    const s = this.s;
    const hid = `${this._uid}-new`;
    const checkId = `${this._uid}-saved`;
    const check = h('input', { type: 'checkbox', id: checkId });
    return h('div', { role: 'group', 'aria-labelledby': hid },
      h('h3', { id: hid, tabindex: '-1' }, s.newTitle),
      h('p', {}, s.newText),
      h('ol', { class: 'codes', 'aria-label': s.listLabel, translate: 'no' }, this._codes.map((c) => h('li', {}, h('code', {}, c)))),
      h('div', { class: 'actions start' },
        h('button', { type: 'button', onclick: () => this.download() }, s.download),
        h('button', { type: 'button', onclick: () => this.print() }, s.print)),
      h('div', { class: 'check' }, check, h('label', { for: checkId }, s.saved)),
      h('div', { class: 'actions start' },
        h('button', {
          type: 'button',
          class: 'primary',
          onclick: () => {
            if (!check.checked) {
              this.setError(s.savedFirst);
              check.focus();
              return;
            }
            this.setError('');
            this._codes = null;
            this.render();
            this.focusHeading();
          },
        }, s.done)));
  }

  async regenerate(button) {
    if (this._busy) return;
    const proof = this.readProof();
    if (proof === null) return;
    let made;
    this.say(this.s.generating);
    const ok = await this.run(async () => {
      made = await this.send('regenerate', proof ? { proof } : {});
    }, button);
    if (!ok) {
      this.proofFailed();
      return;
    }
    this.say('');
    this._codes = (Array.isArray(made?.codes) ? made.codes : []).map(String);
    this._info = { remaining: made.remaining, issued: this._codes.length };
    this.render();
    this.shadowRoot.getElementById(`${this._uid}-new`).focus();
    this.emit('backup-codes-generated', { count: this._codes.length });
  }

  download() {
    const s = this.s;
    const text = [format(s.fileHeader, { account: this.getAttribute('account') || '' }), '', ...this._codes, ''].join('\r\n');
    downloadText(this, s.fileName, text);
  }

  /** Prints the codes alone: mail2fa-codes-print.css hides the rest of the page meanwhile. */
  print() {
    printAlone(this);
  }
}

if (!customElements.get('mail2fa-backup-codes')) customElements.define('mail2fa-backup-codes', Mail2faBackupCodes);
