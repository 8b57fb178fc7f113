/**
 * How a component reaches its host: endpoint-<action> attributes (POSTs carrying csrf-token)
 * or this property, one async function per action. A rejected promise with a `code` shows
 * that code's message (strings); any other failure shows the network message.
 */
export type PanelTransport<Actions extends string> = Record<Actions, (body: Record<string, unknown>) => Promise<any>>;

/**
 * Common to the three components: attributes strings (JSON), css-src, panel-css-src, csrf-token, csrf-header, csrf-field, encoding (json | form);
 * proof-methods ("totp" or "totp backup_code"): the change asks for a current code and sends `proof: {method, code}` (Mail2fa checks it in the core).
 */
declare class Mail2faPanel<Actions extends string> extends HTMLElement {
  transport: PanelTransport<Actions> | null;
  strings: Partial<Record<string, string>> | undefined;
}

/** Strings of <mail2fa-backup-codes>. */
export declare const BACKUP_STRINGS: Record<string, string>;
/**
 * `<mail2fa-backup-codes>`: codes left; a new set (Mail2fa#generateBackupCodes) shown once,
 * with download and print. Actions: status {} → {remaining, issued};
 * regenerate {proof?} → {codes, remaining}. Attributes: account (for the download), print-css-src, proof-methods.
 */
export declare class Mail2faBackupCodes extends Mail2faPanel<'status' | 'regenerate'> {}

/** Strings of <mail2fa-app-passwords>. */
export declare const APP_PASSWORD_STRINGS: Record<string, string>;
/**
 * `<mail2fa-app-passwords>`: create with a label (the password is shown once), list, revoke.
 * Actions: list {} → {app_passwords: [{id, label, created_at, last_used_at}]} (never hashes);
 * create {label, proof?} → {id, label, password}; revoke {id} → {revoked}. Attributes:
 * proof-methods; no-create (list and revoke only, e.g. while 2FA is off).
 */
export declare class Mail2faAppPasswords extends Mail2faPanel<'list' | 'create' | 'revoke'> {}

/** Strings of <mail2fa-devices>. */
export declare const DEVICES_STRINGS: Record<string, string>;
/**
 * `<mail2fa-devices>`: trusted browsers, remove one or all. Actions: list {} → {devices:
 * [{id, label, created_at, last_seen_at, expires_at, expired, current?}]}; revoke {id} →
 * {revoked}; revoke-all {} → {revoked}. The device token stays in the host's HttpOnly cookie.
 */
export declare class Mail2faDevices extends Mail2faPanel<'list' | 'revoke' | 'revoke-all'> {}
