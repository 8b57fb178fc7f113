/** Strings of <mail2fa-enroll>; set some or all through the element's `strings` property or attribute. */
export declare const ENROLL_STRINGS: Record<string, string>;

/** Groups a base32 key in fours for typing: "JBSW Y3DP EHPK 3PXP". */
export declare function groupKey(secret: string): string;

/** What a host's transport returns for each action (endpoint-* attributes or the `transport` property). */
export interface EnrollTransport {
  /** The server enrolls with the core (Mail2fa#enroll) and returns the otpauth URI and base32 secret. */
  start(body: { proof?: { method: 'totp' | 'backup_code'; code: string } }): Promise<{ uri: string; secret: string }>;
  /** The server confirms with the core (Mail2fa#confirm); backup codes, when issued, are shown once. */
  confirm(body: { code: string }): Promise<{ activated: boolean; reason?: string | null; backup_codes?: string[] }>;
  /** Drops the pending enrollment (Mail2fa#cancelEnrollment). */
  cancel?(body: {}): Promise<unknown>;
}

/** Loads the module for the component once per page; `load` overrides where it comes from. */
export declare const Mail2faCore: {
  load: null | (() => Promise<{ qrSvg(r: { text: string }): { svg: string }; otpauthParse(r: { uri: string }): unknown }>);
};

/**
 * `<mail2fa-enroll>`. Attributes: endpoint-start, endpoint-confirm, endpoint-cancel, csrf-token,
 * csrf-header (default X-CSRF-Token), csrf-field, encoding (json | form), done-href, autostart,
 * proof-methods ("totp" | "totp backup_code": move an enabled factor to a new phone; start
 * sends the current code as `proof`), strings (JSON), css-src, print-css-src, core-src, wasm-src. Events (bubbling, composed):
 * mail2fa-step {step}, mail2fa-activated, mail2fa-done, mail2fa-cancelled, mail2fa-error {code}.
 */
export declare class Mail2faEnroll extends HTMLElement {
  transport: EnrollTransport | null;
  strings: Partial<Record<string, string>> | undefined;
}
