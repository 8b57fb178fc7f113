<?php

/**
 * What the login gate (mail2fa_login) and the settings section (mail2fa_settings) share on
 * the web side: the plugin they answer for (texts, skin, URLs), the explicit request-token
 * check, JSON answers and the trusted-device cookie. The core, the storage, the canonical
 * user name and the logs are the engine's (mail2fa_engine).
 *
 * @license GPL-3.0-or-later
 */
abstract class mail2fa_web
{
    const DEVICE_COOKIE = 'mail2fa_device';

    /** @var mail2fa */
    protected $plugin;
    /** @var rcmail */
    protected $rc;
    /** @var mail2fa_engine */
    protected $engine;

    public function __construct(mail2fa $plugin, rcmail $rc, mail2fa_engine $engine)
    {
        $this->plugin = $plugin;
        $this->rc = $rc;
        $this->engine = $engine;
    }

    /** The plugin's localized text (localization/). */
    protected function gettext($p): string
    {
        return $this->plugin->gettext($p);
    }

    /**
     * The request token of a state-changing request, compared explicitly: non-empty and equal
     * (constant time) to the session's, from the _token field or Roundcube's AJAX header.
     * rcmail::check_request() is not enough: it passes a POST without any field.
     */
    protected function request_token_ok(): bool
    {
        $expected = (string) $this->rc->get_request_token();
        $sent = $_POST['_token'] ?? '';
        if (!is_string($sent) || $sent === '') {
            $sent = (string) rcube_utils::request_header('X-Roundcube-Request');
        }

        return $expected !== '' && $sent !== '' && hash_equals($expected, $sent);
    }

    /** A JSON answer, and the request ends. */
    protected function json_out(array $data)
    {
        header('Content-Type: application/json; charset=UTF-8');
        header('Cache-Control: no-store');
        echo json_encode($data, JSON_UNESCAPED_SLASHES);
        exit;
    }

    /**
     * The trusted-device cookie, set explicitly: HttpOnly, SameSite=Strict, Secure on https
     * (rcube_utils::setcookie of Debian's Roundcube 1.6 sets no SameSite).
     */
    protected function set_device_cookie(string $token, int $expires)
    {
        setcookie(self::DEVICE_COOKIE, $token, self::device_cookie_options($expires));
    }

    protected function forget_device_cookie()
    {
        setcookie(self::DEVICE_COOKIE, '', self::device_cookie_options(time() - 86400));
    }

    public static function device_cookie_options(int $expires): array
    {
        return [
            'expires'  => $expires,
            'path'     => ini_get('session.cookie_path') ?: '/',
            'domain'   => (string) ini_get('session.cookie_domain'),
            'secure'   => rcube_utils::https_check(),
            'httponly' => true,
            'samesite' => 'Strict',
        ];
    }
}

/** A text input with every attribute kept (html_inputfield drops inputmode). */
class mail2fa_input
{
    private $attrib;

    public function __construct(array $attrib)
    {
        $this->attrib = $attrib;
    }

    public function show(): string
    {
        return html::tag('input', array_filter($this->attrib, function ($v) { return $v !== null && $v !== false; }));
    }
}
