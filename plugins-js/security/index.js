// `mail2fa/security`: the security-page components from the repository's www/ (copied into
// enroll/ next to the shared UI code): <mail2fa-backup-codes>, <mail2fa-app-passwords>,
// <mail2fa-devices>. Importing this defines the elements. They load no WebAssembly: every
// decision is the server's (Mail2fa), reached through each element's transport.
export * from '../enroll/mail2fa-backup-codes.js';
export * from '../enroll/mail2fa-app-passwords.js';
export * from '../enroll/mail2fa-devices.js';
