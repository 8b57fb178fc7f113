// `mail2fa/enroll`: the <mail2fa-enroll> web component (from the repository's www/), wired
// to this package's own module: importing it defines the element. wire.js runs first, so an
// element with `autostart` already finds the package's module.
import './wire.js';

export * from './mail2fa-enroll.js';
