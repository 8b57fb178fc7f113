<?php

/**
 * mail2fa: two-factor authentication for Roundcube on the mail2fa core.
 *
 * The entry file: it registers the hooks and actions and hands each to the part that does
 * the work, as Roundcube's own plugins are split (managesieve: a small hook class and an
 * engine per feature; password: drivers/):
 *
 *   mail2fa_login.php     the login gate: second factor after the password, pending
 *                         sessions, enrollment at login, the trusted-device cookie
 *   mail2fa_settings.php  the settings section, its POST actions, the enrollment endpoints
 *   mail2fa_web.php       what those two share: request-token check, JSON, device cookie
 *   mail2fa_engine.php    the request's Mail2fa\Service (lib/: the core, compare-and-set)
 *                         over the storage (drivers/), keys, per-user policy, the
 *                         canonical user name, client IP and network allow-list, logs
 *   mail2fa_imap.php      the webmail's proof at its IMAP login (storage_connect)
 *   mail2fa_admin.php     admin commands (bin/mail2fa-admin.sh, the mail2fa_admin hook)
 *
 * @license GPL-3.0-or-later
 */
class mail2fa extends rcube_plugin
{
    public $task = '.*';

    /**
     * The enrollment element's files, put into assets/ from www/ by the install step
     * (scripts/roundcube-install.sh assets): they are not kept in git, so that the plugin
     * can never serve an older element than www/ holds.
     */
    const ASSETS = ['mail2fa-enroll.js', 'mail2fa-ui.js', 'mail2fa.css', 'mail2fa-print.css'];

    /** @var rcmail */
    private $rc;
    /** @var mail2fa_engine */
    private $engine;
    /** @var mail2fa_settings|null */
    private $settings;

    public function init()
    {
        $this->rc = rcmail::get_instance();
        $this->load_config();
        require_once __DIR__ . '/mail2fa_engine.php';
        require_once __DIR__ . '/mail2fa_web.php';
        require_once __DIR__ . '/mail2fa_login.php';
        $this->engine = new mail2fa_engine($this->rc);
        $login = new mail2fa_login($this, $this->rc, $this->engine);

        $this->add_hook('startup', [$login, 'startup']);
        $this->add_hook('login_after', [$login, 'login_after']);
        $this->add_hook('authenticate', [$login, 'authenticate']);
        $this->add_hook('storage_connect', function ($args) { require_once __DIR__ . '/mail2fa_imap.php'; return (new mail2fa_imap($this->rc, $this->engine))->storage_connect($args); });
        $this->add_hook('password_change', [$this, 'password_change']);
        $this->add_hook('mail2fa_admin', [$this, 'admin_hook']);

        if ($this->rc->task === 'settings') {
            $this->add_texts('localization/');
            $settings = $this->settings();
            $this->add_hook('settings_actions', [$settings, 'settings_actions']);
            $this->register_action('plugin.mail2fa', [$settings, 'settings_page']);
            foreach (['enroll-start', 'enroll-confirm', 'enroll-cancel', 'backup-regenerate', 'device-revoke',
                'device-revoke-all', 'app-create', 'app-revoke', 'disable'] as $a) {
                $this->register_action("plugin.mail2fa-$a", [$settings, 'settings_post']);
            }
        }
    }

    /** The plugin's engine (for bin/mail2fa-admin.sh and admin panels). */
    public function engine(): mail2fa_engine
    {
        return $this->engine;
    }

    /** The settings section (also the enrollment endpoints and element of the login gate). */
    public function settings(): mail2fa_settings
    {
        if ($this->settings === null) {
            require_once __DIR__ . '/mail2fa_settings.php';
            $this->settings = new mail2fa_settings($this, $this->rc, $this->engine);
        }

        return $this->settings;
    }

    /** The plugin's directory as Roundcube loaded it (assets/ are looked for there). */
    public function home(): string
    {
        return $this->home;
    }

    // ----------------------------------------------------------------------------------
    // Password changes and admin panels
    // ----------------------------------------------------------------------------------

    /**
     * Roundcube's password plugin changed the main password: every app password goes
     * (and every trusted device), as the core's password.changed decides.
     */
    public function password_change($args)
    {
        $user = (string) ($_SESSION['username'] ?? '');
        if ($user !== '') {
            try {
                require_once __DIR__ . '/mail2fa_admin.php';
                (new mail2fa_admin($this->engine))->password_changed($this->engine->session_user());
            }
            catch (Throwable $e) {
                $this->engine->log_error("password change of $user: app passwords not revoked: " . mail2fa_engine::describe($e));
            }
        }

        return $args;
    }

    /**
     * Admin panels: $rcmail->plugins->exec_hook('mail2fa_admin', ['command' => 'reset', 'user' => 'alice'])
     * returns the args with 'result' (or 'error'). Commands: status, reset, revoke-devices,
     * revoke-app-passwords, password-changed, sync-projection ('user' or 'users'), list.
     */
    public function admin_hook($args)
    {
        require_once __DIR__ . '/mail2fa_admin.php';
        try {
            $args['result'] = (new mail2fa_admin($this->engine))->run((string) ($args['command'] ?? ''), $args);
        }
        catch (Throwable $e) {
            $args['error'] = $e->getMessage();
        }

        return $args;
    }
}
