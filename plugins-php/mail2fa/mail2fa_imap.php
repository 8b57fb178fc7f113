<?php

/**
 * mail2fa: the webmail's proof at its IMAP login.
 *
 * With the Dovecot passdb (dovecot/README.md "The webmail's exemption"), a 2FA user's main
 * password opens IMAP only together with a proof that the running plugin — which holds the
 * session at the second factor until it passes — made this login. Roundcube's
 * storage_connect hook lets the plugin add fields to the IMAP ID command sent before LOGIN
 * (`preauth_ident`); the field `x-forward-mail2fa` reaches Dovecot's auth as the passdb field
 * `forward_mail2fa` when the webmail host is in Dovecot's login_trusted_networks. Its value is
 * the core's `webmail.proof`: HMAC-SHA256 keyed by mail2fa_webmail_secret over the canonical
 * user name and the time, valid for a minute.
 *
 * A Roundcube whose plugin is not loaded (a typo in `plugins`, an upgrade in progress) sends
 * no proof, so its 2FA users cannot log in at all (closed); any other program on the webmail
 * host does not know the secret. Without mail2fa_webmail_secret no proof is sent (the same).
 * Neither the secret nor a proof is ever logged.
 */
class mail2fa_imap
{
    /** The IMAP ID field (Dovecot: x-forward-<name> → passdb field forward_<name>). */
    const ID_FIELD = 'x-forward-mail2fa';

    /** @var rcube */
    private $rc;
    /** @var mail2fa_engine */
    private $engine;

    public function __construct(rcube $rc, mail2fa_engine $engine)
    {
        $this->rc = $rc;
        $this->engine = $engine;
    }

    /**
     * storage_connect: the proof for this login's canonical user goes into preauth_ident
     * (kept with any fields another plugin put there). On any failure the login goes on
     * without a proof: Dovecot then refuses a 2FA user's main password.
     */
    public function storage_connect(array $args): array
    {
        $secret = $this->rc->config->get('mail2fa_webmail_secret');
        if (!is_string($secret) || $secret === '' || !isset($args['user']) || (string) $args['user'] === '') {
            return $args;
        }
        try {
            $user = $this->engine->canonical((string) $args['user']);
            $r = $this->engine->call('webmail.proof', ['user' => $user, 'secret' => $secret, 'time' => time()]);
            $ident = isset($args['preauth_ident']) && is_array($args['preauth_ident']) ? $args['preauth_ident'] : [];
            $ident[self::ID_FIELD] = (string) $r['proof'];
            $args['preauth_ident'] = $ident;
        }
        catch (Throwable $e) {
            // The core's messages name fields, never values: no secret reaches the log.
            $code = $e instanceof \Mail2fa\Error ? $e->getErrorCode() : get_class($e);
            rcube::raise_error([
                'code' => 500, 'type' => 'php', 'file' => __FILE__, 'line' => __LINE__,
                'message' => "mail2fa: no webmail proof for the IMAP login ($code): "
                    . 'check mail2fa_webmail_secret (32 bytes or more) and mail2fa_username',
            ], true, false);
        }

        return $args;
    }
}
