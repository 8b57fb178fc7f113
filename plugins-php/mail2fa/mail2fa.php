<?php

/**
 * mail2fa: two-factor authentication for Roundcube on the mail2fa core.
 *
 * The login gate: Roundcube checks the password first; `login_after` then asks the core
 * (login.decide) whether a second factor is needed. If so the session loses its user_id
 * (so Roundcube itself treats it as logged out) and keeps only a pending marker; while it
 * is pending, `startup` answers every request itself with the second-factor form (or an
 * error for AJAX), so no task, action or plugin runs. When the core accepts the factor the
 * user_id comes back under a new session id.
 *
 * @license GPL-3.0-or-later
 */
class mail2fa extends rcube_plugin
{
    public $task = '.*';

    /**
     * Seconds a login held without any answer from the core (a name it refuses, a refused
     * configuration, a core that fails) waits before it is ended; every other pending login
     * ends at the core's pending_expires_at.
     */
    const HELD_TTL = 600;
    const DEVICE_COOKIE = 'mail2fa_device';
    const LOGIN_ACTION = 'plugin.mail2fa-login';
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
    /** @var array|null result shown once on the settings page */
    private $flash;
    /** @var array|null assets/ files not installed (checked once per request) */
    private $missing_assets;
    /** @var string|null the signed-in user's canonical name (once per request) */
    private $user;
    /** POST actions of a pending session (the second step, cancel, enrollment at login). */
    const PENDING_ACTIONS = [self::LOGIN_ACTION => 'verify', 'plugin.mail2fa-cancel' => 'cancel',
        'plugin.mail2fa-enroll-start' => 'enroll-start', 'plugin.mail2fa-enroll-confirm' => 'enroll-confirm',
        'plugin.mail2fa-enroll-cancel' => 'enroll-cancel', 'plugin.mail2fa-enroll-done' => 'enroll-done'];

    public function init()
    {
        $this->rc = rcmail::get_instance();
        $this->load_config();
        require_once __DIR__ . '/mail2fa_engine.php';
        $this->engine = new mail2fa_engine($this->rc);

        $this->add_hook('startup', [$this, 'startup']);
        $this->add_hook('login_after', [$this, 'login_after']);
        $this->add_hook('authenticate', [$this, 'authenticate']);
        $this->add_hook('storage_connect', function ($args) { require_once __DIR__ . '/mail2fa_imap.php'; return (new mail2fa_imap($this->rc, $this->engine))->storage_connect($args); });
        $this->add_hook('password_change', [$this, 'password_change']);
        $this->add_hook('mail2fa_admin', [$this, 'admin_hook']);

        if ($this->rc->task === 'settings') {
            $this->add_texts('localization/');
            $this->add_hook('settings_actions', [$this, 'settings_actions']);
            $this->register_action('plugin.mail2fa', [$this, 'settings_page']);
            foreach (['enroll-start', 'enroll-confirm', 'enroll-cancel', 'backup-regenerate', 'device-revoke',
                'device-revoke-all', 'app-create', 'app-revoke', 'disable'] as $a) {
                $this->register_action("plugin.mail2fa-$a", [$this, 'settings_post']);
            }
        }
    }

    /** The plugin's engine (for bin/mail2fa-admin.sh and admin panels). */
    public function engine(): mail2fa_engine
    {
        return $this->engine;
    }

    // ----------------------------------------------------------------------------------
    // The login gate
    // ----------------------------------------------------------------------------------

    /**
     * Every request passes here before Roundcube runs any task or action. A session waiting
     * for its second factor gets the form (or an error), never anything else.
     */
    public function startup($args)
    {
        if (!$this->network_allowed()) {
            $this->deny_network();
        }

        $pending = $_SESSION['mail2fa_pending'] ?? null;
        if (empty($pending) || !is_array($pending)) {
            return $args;
        }

        // Defence in depth: a pending session never carries a user_id.
        if (!empty($_SESSION['user_id'])) {
            $this->log_error('a pending session carried a user_id; the session was ended');
            $this->rc->kill_session();
            $this->rc->output->redirect(['_task' => 'login'], 0, false);
        }

        $task   = $args['task'];
        $action = $args['action'];

        // A new login drops the pending login.
        if ($task === 'login' && $action === 'login') {
            $this->rc->kill_session();
            return $args;
        }

        if (time() >= (int) ($pending['expires_at'] ?? 0)) {
            $this->rc->kill_session();
            $this->rc->output->show_message($this->gettext_login('expired'), 'warning');
            $this->rc->output->redirect(['_task' => 'login', '_err' => 'session'], 0, false);
        }

        if ($this->rc->output->ajax_call || !empty($_REQUEST['_remote']) || $this->rc->output->get_env('framed')
            || !($this->rc->output instanceof rcmail_output_html)
        ) {
            // AJAX and framed requests of a half-logged-in session: nothing but an error.
            http_response_code(401);
            header('Content-Type: application/json; charset=UTF-8');
            header('Cache-Control: no-store');
            echo json_encode(['error' => 'second_factor_required']);
            exit;
        }

        if ($task === 'login' && $_SERVER['REQUEST_METHOD'] === 'POST' && isset(self::PENDING_ACTIONS[$action])) {
            $this->pending_post(self::PENDING_ACTIONS[$action], $pending);
        }

        $this->render_login_form($pending);
    }

    /**
     * A POST of a pending session. The request token is checked first, explicitly: a
     * request without it (an empty cross-site form) is refused before the core sees
     * anything, so it changes nothing and counts nothing.
     */
    private function pending_post(string $what, array $pending)
    {
        $enroll = ($pending['mode'] ?? '') === 'enroll';
        $json = strpos($what, 'enroll-') === 0 && $what !== 'enroll-done';
        if (!$this->request_token_ok()) {
            http_response_code(403);
            if ($json) {
                $this->json_out(['error' => ['code' => 'invalid_request', 'message' => 'invalid request token']]);
            }
            $this->render_login_form($pending, 'invalidrequest');
        }
        if ($what === 'cancel') {
            $this->cancel_pending_login();
        }
        if ($what === 'verify') {
            $this->verify_second_factor($pending);
        }
        if ($enroll && $json) {
            $this->json_action($what, $pending['username'], 'login');
        }
        if ($enroll && $what === 'enroll-done') {
            $this->finish_enrollment_login($pending);
        }
    }

    /**
     * The request token of a state-changing request, compared explicitly: non-empty and equal
     * (constant time) to the session's, from the _token field or Roundcube's AJAX header.
     * rcmail::check_request() is not enough: it passes a POST without any field.
     */
    private function request_token_ok(): bool
    {
        $expected = (string) $this->rc->get_request_token();
        $sent = $_POST['_token'] ?? '';
        if (!is_string($sent) || $sent === '') {
            $sent = (string) rcube_utils::request_header('X-Roundcube-Request');
        }

        return $expected !== '' && $sent !== '' && hash_equals($expected, $sent);
    }

    /** "Cancel and sign out": the pending login ends; a code sent afterwards completes nothing. */
    private function cancel_pending_login()
    {
        $this->rc->kill_session();
        $this->rc->output->redirect(['_task' => 'login'], 0, false);
        exit;
    }

    /**
     * A fresh login attempt always starts without a pending second factor. On a configuration
     * where one canonical user name cannot be guaranteed nobody signs in: the user is told,
     * the admin log names the setting.
     */
    public function authenticate($args)
    {
        if (!empty($_SESSION['mail2fa_pending'])) {
            $this->rc->session->remove('mail2fa_pending');
        }
        $problem = $this->refused_configuration();
        if ($problem !== null) {
            $this->log_error("login refused: $problem");
            $args['abort'] = true;
            $args['error'] = $this->gettext_login('refused');
        }

        return $args;
    }

    /** The engine's refused_configuration(), with an unreadable mail2fa_username refused too. */
    private function refused_configuration(): ?string
    {
        try {
            return $this->engine->refused_configuration();
        }
        catch (mail2fa_config_error $e) {
            return $e->getMessage();
        }
    }

    /**
     * The password was right. Ask the core whether this login needs a second factor (a
     * trusted-device cookie is presented as one); if so, park the session. The record key is
     * the canonical name of the IMAP login; a name the core refuses holds the login.
     */
    public function login_after($args)
    {
        $login = (string) $_SESSION['username'];
        $device = (string) ($_COOKIE[self::DEVICE_COOKIE] ?? '');
        $factor = $device !== '' ? ['type' => 'trusted_device', 'value' => $device] : null;

        try {
            $problem = $this->engine->refused_configuration();
            if ($problem !== null) {
                throw new mail2fa_config_error($problem);
            }
            $user = $this->engine->canonical($login);
            $d = $this->decide($user, $factor, false);
            $verdict = $d['verdict'];
        }
        catch (Throwable $e) {
            // No decision (a name the core refuses, a refused configuration, a record that does
            // not decrypt, no key, a broken core): fail closed.
            $this->log_error('login of ' . self::log_safe($login) . ' held at the second factor: ' . $this->describe($e));
            $user = $user ?? $login;
            $d = ['verdict' => 'unavailable'];
            $verdict = 'unavailable';
        }

        if (!empty($d['forget_device'])) {
            $this->forget_device_cookie();
        }
        if ($verdict === 'not_required' || $verdict === 'ok') {
            return $args;
        }

        $redirect = $args;
        unset($redirect['abort'], $redirect['_err']);
        $_SESSION['mail2fa_pending'] = [
            'user_id'     => (int) $_SESSION['user_id'],
            'username'    => $user,
            'since'       => time(),
            'expires_at'  => isset($d['pending_expires_at']) ? (int) $d['pending_expires_at'] : time() + self::HELD_TTL,
            'redirect'    => $redirect,
            'mode'        => $verdict === 'enroll_required' ? 'enroll' : 'verify',
            'retry_after' => isset($d['retry_after']) ? time() + (int) $d['retry_after'] : null,
            'methods'     => $d['methods'] ?? ['totp'],
            'trust_days'  => (int) ($d['trust_days'] ?? 0),
            'unavailable' => $verdict === 'unavailable',
        ];
        $this->rc->session->remove('user_id');

        return ['_task' => 'login', '_action' => self::LOGIN_ACTION];
    }

    /** One call of the core's login decision, storing the record it returns. */
    private function decide(string $user, ?array $factor, bool $trust): array
    {
        $engine = $this->engine;
        $ua = substr((string) ($_SERVER['HTTP_USER_AGENT'] ?? ''), 0, 400);

        return $engine->update($user, function ($record) use ($engine, $user, $factor, $trust, $ua) {
            $req = [
                'op'     => 'login.decide',
                'user'   => $user,
                // Without a site key the core still decides (users without a record log in;
                // a stored record cannot open under a throw-away key: fail closed).
                'keys'   => $engine->has_keys() ? $engine->keys()
                    : [['id' => 'unconfigured', 'key' => base64_encode(random_bytes(32))]],
                'time'   => time(),
                'policy' => $engine->policy_for($user),
                'factor' => $factor,
            ];
            if ($trust) {
                $req['trust_device'] = true;
                $req['user_agent'] = $ua;
                $req['entropy'] = mail2fa_engine::entropy();
            }
            return $req;
        }, function ($response) {
            // Users without 2FA get no row from merely logging in.
            return $response['verdict'] !== 'not_required' || $response['state'] !== 'disabled';
        });
    }

    private function verify_second_factor(array $pending)
    {
        if (($pending['mode'] ?? '') !== 'verify' || !empty($pending['unavailable'])) {
            $this->render_login_form($pending);
        }

        $user = $pending['username'];
        $code = rcube_utils::get_input_string('_code', rcube_utils::INPUT_POST);
        $backup = rcube_utils::get_input_string('_backup_code', rcube_utils::INPUT_POST);
        $trust = !empty($_POST['_trust']) && $this->trust_offered($pending);
        if (trim($backup) !== '') {
            $factor = ['type' => 'backup_code', 'value' => $backup];
        }
        else {
            $factor = ['type' => 'totp', 'value' => $code];
        }

        try {
            $d = $this->decide($user, $factor, $trust);
        }
        catch (Throwable $e) {
            $this->log_error("second factor of $user not checked: " . $this->describe($e));
            $pending['unavailable'] = true;
            $this->render_login_form($pending, 'unavailable');
        }

        if ($d['verdict'] === 'ok') {
            $this->fail_log($user, 'ok', $d['method'] ?? $factor['type']);
            if (!empty($d['device_token'])) {
                $this->set_device_cookie($d['device_token'], (int) $d['device_expires_at']);
            }
            $this->complete_login($pending);
        }

        if ($d['verdict'] === 'not_required') {
            // 2FA was turned off (admin reset) while the form was open: the password suffices.
            $this->complete_login($pending);
        }

        // Every failure is logged (replayed and malformed too; the core counts only guesses).
        $this->fail_log($user, $d['verdict'], $factor['type'], $d['reason'] ?? null);
        $pending['retry_after'] = isset($d['retry_after']) ? time() + (int) $d['retry_after'] : null;
        $_SESSION['mail2fa_pending'] = $pending;
        $this->render_login_form($pending, $d['verdict'] === 'locked' ? 'locked' : 'wrongcode');
    }

    /** The factor passed: the session gets its user back, under a new id. */
    private function complete_login(array $pending)
    {
        $this->rc->session->remove('mail2fa_pending');
        $this->rc->session->regenerate_id(true);
        $_SESSION['user_id'] = (int) $pending['user_id'];
        $this->rc->session->set_auth_cookie();

        $redirect = (array) ($pending['redirect'] ?? []);
        unset($redirect['abort'], $redirect['_err']);
        if (empty($redirect['_task']) || $redirect['_task'] === 'login') {
            $redirect['_task'] = 'mail';
        }
        $this->rc->output->redirect($redirect, 0, true);
    }

    /**
     * After enrollment at login (policy "required"): the session completes only with the
     * factor it proved itself, i.e. when ITS enroll-confirm activated (json_action marks the
     * pending session). A record another session enrolled meanwhile does not let it in.
     */
    private function finish_enrollment_login(array $pending)
    {
        if (empty($pending['enrolled'])) {
            $this->log_error('enrollment at login of ' . self::log_safe($pending['username'])
                . ' not completed: this session did not confirm an enrollment');
            $this->render_login_form($pending);
        }
        try {
            $d = $this->decide($pending['username'], null, false);
        }
        catch (Throwable $e) {
            $this->log_error('enrollment at login not checked: ' . $this->describe($e));
            $this->render_login_form($pending, 'unavailable');
        }
        if (($d['state'] ?? '') === 'enabled' || $d['verdict'] === 'not_required') {
            $this->complete_login($pending);
        }
        $this->render_login_form($pending);
    }

    private function trust_offered(array $pending): bool
    {
        return (int) ($pending['trust_days'] ?? 0) > 0;
    }

    private function render_login_form(array $pending, ?string $error = null)
    {
        $this->add_texts('localization/');
        $this->include_stylesheet($this->local_skin_path() . '/mail2fa.css');
        $this->rc->output->set_pagetitle($this->gettext('title'));
        $this->rc->output->set_env('task', 'login');
        $this->register_handler('plugin.mail2fa_loginform', function ($attrib) use ($pending, $error) {
            return $this->login_form_html($attrib, $pending, $error);
        });
        if (($pending['mode'] ?? '') === 'enroll') {
            $this->add_enroll_assets();
        }
        header('Cache-Control: no-store');
        $this->rc->output->send('mail2fa.login');
        exit;
    }

    private function login_form_html($attrib, array $pending, ?string $error): string
    {
        $out = '';
        $msg = null;
        $retry = null;
        if (!empty($pending['retry_after']) && $pending['retry_after'] > time()) {
            $retry = (int) $pending['retry_after'] - time();
        }
        if (!empty($pending['unavailable'])) {
            $msg = $this->gettext('unavailable');
        }
        else if ($error === 'unavailable') {
            $msg = $this->gettext('unavailable');
        }
        else if ($error === 'locked' || $retry) {
            $msg = $this->gettext(['name' => 'locked', 'vars' => ['seconds' => max(1, (int) $retry)]]);
        }
        else if ($error === 'wrongcode') {
            $msg = $this->gettext('wrongcode');
        }
        else if ($error === 'invalidrequest') {
            $msg = $this->rc->gettext('invalidrequest');
        }
        $err_id = 'mail2fa-error';
        $out .= html::div(['id' => $err_id, 'class' => 'mail2fa-error' . ($msg ? ' alert alert-danger' : ''),
            'role' => 'alert', 'aria-live' => 'assertive'], $msg ? rcube::Q($msg) : '');

        if (($pending['mode'] ?? '') === 'enroll') {
            $out .= html::p(null, rcube::Q($this->gettext('enrollrequired')));
            if ($this->missing_assets()) {
                return $out . $this->noassets_html() . $this->cancel_form();
            }
            return $out . $this->enroll_element('login', null) . $this->enroll_done_form() . $this->cancel_form();
        }
        if (!empty($pending['unavailable'])) {
            return $out . $this->cancel_form();
        }

        $hidden = new html_hiddenfield(['name' => '_token', 'value' => $this->rc->get_request_token()]);
        $form = $hidden->show();
        $input = new mail2fa_input([
            'type' => 'text', 'name' => '_code', 'id' => 'mail2fa-code', 'class' => 'form-control', 'autocomplete' => 'one-time-code',
            'inputmode' => 'numeric', 'pattern' => '[0-9 ]*', 'maxlength' => 12, 'size' => 12, 'autofocus' => true,
            'aria-describedby' => $err_id, 'aria-invalid' => $msg ? 'true' : null, 'spellcheck' => 'false',
        ]);
        $form .= html::div('form-group row',
            html::label(['for' => 'mail2fa-code', 'class' => 'col-form-label'], rcube::Q($this->gettext('codelabel')))
            . html::div('', $input->show())
            . html::p(['class' => 'form-text hint'], rcube::Q($this->gettext('codehint'))));

        if (in_array('backup_code', (array) ($pending['methods'] ?? []), true)) {
            $backup = new html_inputfield(['name' => '_backup_code', 'id' => 'mail2fa-backup', 'class' => 'form-control',
                'autocomplete' => 'off', 'spellcheck' => 'false', 'size' => 24, 'maxlength' => 64]);
            $form .= html::tag('details', ['class' => 'mail2fa-backup'],
                html::tag('summary', null, rcube::Q($this->gettext('usebackup')))
                . html::div('form-group row', html::label(['for' => 'mail2fa-backup', 'class' => 'col-form-label'],
                    rcube::Q($this->gettext('backuplabel'))) . html::div('', $backup->show())));
        }
        if ($this->trust_offered($pending)) {
            $days = (int) $pending['trust_days'];
            $check = new html_checkbox(['name' => '_trust', 'id' => 'mail2fa-trust', 'value' => '1', 'class' => 'form-check-input']);
            $form .= html::div('form-group form-check mail2fa-trust', $check->show()
                . html::label(['for' => 'mail2fa-trust', 'class' => 'form-check-label'],
                    rcube::Q($this->gettext(['name' => 'trustdevice', 'vars' => ['days' => $days]]))));
        }
        $form .= html::div('formbuttons', html::tag('button', ['type' => 'submit', 'id' => 'mail2fa-submit',
            'class' => 'button mainaction submit btn btn-primary btn-lg text-uppercase w-100'], rcube::Q($this->gettext('verify'))));

        return $out . html::tag('form', ['method' => 'post', 'id' => 'mail2fa-form', 'class' => 'propform',
            'action' => $this->rc->url(['_task' => 'login', '_action' => self::LOGIN_ACTION]), 'novalidate' => true], $form)
            . $this->cancel_form();
    }

    /** "Cancel and sign out": a POST with the request token that ends the pending login. */
    private function cancel_form(): string
    {
        $token = new html_hiddenfield(['name' => '_token', 'value' => $this->rc->get_request_token()]);

        return html::tag('form', ['method' => 'post', 'id' => 'mail2fa-cancel', 'class' => 'mail2fa-cancel',
            'action' => $this->rc->url(['_task' => 'login', '_action' => 'plugin.mail2fa-cancel'])],
            $token->show() . html::tag('button', ['type' => 'submit', 'class' => 'btn btn-link mail2fa-cancel-button'],
                rcube::Q($this->gettext('cancellogin'))));
    }

    /**
     * Enrollment at login ends with a POST (request token) to enroll-done, sent when the
     * element reports "done"; only a session whose own confirm activated is let in.
     */
    private function enroll_done_form(): string
    {
        $token = new html_hiddenfield(['name' => '_token', 'value' => $this->rc->get_request_token()]);
        $this->rc->output->add_script("document.addEventListener('mail2fa-done', function () {"
            . " document.getElementById('mail2fa-enroll-done').submit(); });", 'foot');

        return html::tag('form', ['method' => 'post', 'id' => 'mail2fa-enroll-done', 'hidden' => true,
            'action' => $this->rc->url(['_task' => 'login', '_action' => 'plugin.mail2fa-enroll-done'])], $token->show());
    }

    // ----------------------------------------------------------------------------------
    // Trusted-device cookie, network allow-list, logs
    // ----------------------------------------------------------------------------------

    /**
     * The trusted-device cookie, set explicitly: HttpOnly, SameSite=Strict, Secure on https
     * (rcube_utils::setcookie of Debian's Roundcube 1.6 sets no SameSite).
     */
    private function set_device_cookie(string $token, int $expires)
    {
        setcookie(self::DEVICE_COOKIE, $token, $this->device_cookie_options($expires));
    }

    private function forget_device_cookie()
    {
        setcookie(self::DEVICE_COOKIE, '', $this->device_cookie_options(time() - 86400));
    }

    private function device_cookie_options(int $expires): array
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

    /** mail2fa_allowed_networks: when set, Roundcube answers only clients from these networks. */
    private function network_allowed(): bool
    {
        $nets = (array) $this->rc->config->get('mail2fa_allowed_networks', []);
        if (empty($nets)) {
            return true;
        }

        return mail2fa_engine::ip_in($this->engine->client_ip(), $nets);
    }

    private function deny_network()
    {
        http_response_code(403);
        header('Content-Type: text/plain; charset=UTF-8');
        echo "Access from this network is not allowed.\n";
        exit;
    }

    /**
     * The optional fail2ban line (mail2fa_fail_log): "mail2fa: <result> for <user> from <ip>".
     * Never a code, token or password.
     */
    private function fail_log(string $user, string $result, string $method, ?string $reason = null, ?string $where = null)
    {
        if (!$this->rc->config->get('mail2fa_fail_log')) {
            return;
        }
        $line = sprintf('%s for %s from %s (method %s%s%s)', $result === 'ok' ? 'second factor accepted' : "second factor $result",
            self::log_safe($user), $this->engine->client_ip(), $method, $reason ? ", $reason" : '', $where ? ", $where" : '');
        rcube::write_log('mail2fa', $line);
    }

    private function log_error(string $message)
    {
        rcube::raise_error(['code' => 500, 'type' => 'php', 'message' => 'mail2fa: ' . $message], true, false);
    }

    /** An exception as a log line: the core's error code and message hold no secrets. */
    private function describe(Throwable $e): string
    {
        $code = method_exists($e, 'getErrorCode') ? $e->getErrorCode() : (property_exists($e, 'errorCode') ? $e->errorCode : get_class($e));

        return "$code: " . self::log_safe($e->getMessage());
    }

    private static function log_safe(string $s): string
    {
        return preg_replace('/[^\x20-\x7e]/', '?', substr($s, 0, 300));
    }

    private function gettext_login(string $name): string
    {
        $this->add_texts('localization/');

        return $this->gettext($name);
    }

    // ----------------------------------------------------------------------------------
    // Settings: "Two-factor authentication"
    // ----------------------------------------------------------------------------------

    public function settings_actions($args)
    {
        $args['actions'][] = [
            'action' => 'plugin.mail2fa',
            'class'  => 'mail2fa',
            'label'  => 'section',
            'title'  => 'section',
            'domain' => 'mail2fa',
        ];

        return $args;
    }

    public function settings_page()
    {
        $this->include_stylesheet($this->local_skin_path() . '/mail2fa.css');
        $this->rc->output->set_pagetitle($this->gettext('section'));
        $this->register_handler('plugin.body', [$this, 'settings_html']);
        $this->add_enroll_assets();
        header('Cache-Control: no-store');
        $this->rc->output->send('mail2fa.settings');
    }

    /**
     * The signed-in user's record key: the canonical name of the IMAP login. Throws on a
     * refused configuration (mail2fa_config_error) or a name the core refuses.
     */
    private function session_user(): string
    {
        if ($this->user === null) {
            $problem = $this->engine->refused_configuration();
            if ($problem !== null) {
                throw new mail2fa_config_error($problem);
            }
            $this->user = $this->engine->canonical((string) $_SESSION['username']);
        }

        return $this->user;
    }

    /** The user's message for a configuration error (no key, or a refused configuration). */
    private function config_message(): string
    {
        return $this->gettext($this->engine->has_keys() ? 'misconfigured' : 'nokey');
    }

    /** POST actions of the settings page; each checks the request token itself first. */
    public function settings_post()
    {
        $action = substr($this->rc->action, strlen('plugin.mail2fa-'));
        $json = strpos($action, 'enroll-') === 0;
        if ($_SERVER['REQUEST_METHOD'] !== 'POST' || !$this->request_token_ok()) {
            http_response_code(403);
            if ($json) {
                $this->json_out(['error' => ['code' => 'invalid_request', 'message' => 'invalid request token']]);
            }
            $this->flash = ['error' => $this->rc->gettext('invalidrequest')];
            $this->settings_page();
            return;
        }

        try {
            $user = $this->session_user();
            if ($json) {
                $this->json_action($action, $user, 'settings');
            }
            $this->flash = $this->settings_change($action, $user);
        }
        catch (mail2fa_config_error $e) {
            $this->log_error($e->getMessage());
            if ($json) {
                http_response_code(503);
                $this->json_out(['error' => ['code' => 'not_configured', 'message' => $this->config_message()]]);
            }
            $this->flash = ['error' => $this->config_message()];
        }
        catch (Throwable $e) {
            $this->log_error("settings change $action for " . self::log_safe((string) $_SESSION['username']) . ' failed: '
                . $this->describe($e));
            $this->flash = ['error' => $this->gettext('failed')];
        }
        $this->settings_page();
    }

    private function settings_change(string $action, string $user): array
    {
        $e = $this->engine;
        $time = time();
        $policy = $e->policy_for($user);

        switch ($action) {
        case 'backup-regenerate':
            return $this->with_proof($user, $action, function () use ($e, $user, $time, $policy) {
                return ['op' => 'backup.generate', 'user' => $user, 'keys' => $e->keys(), 'time' => $time,
                    'policy' => $policy, 'entropy' => mail2fa_engine::entropy()];
            }, function ($r) {
                return ['ok' => $this->gettext('backupdone'), 'backup_codes' => $r['codes']];
            });

        case 'device-revoke':
            $id = rcube_utils::get_input_string('_id', rcube_utils::INPUT_POST);
            $e->update($user, function () use ($id, $time) {
                return ['op' => 'device.revoke', 'id' => $id, 'time' => $time];
            });
            return ['ok' => $this->gettext('devicerevoked')];

        case 'device-revoke-all':
            $e->update($user, function () use ($time) {
                return ['op' => 'device.revoke_all', 'time' => $time];
            });
            $this->forget_device_cookie();
            return ['ok' => $this->gettext('devicesrevoked')];

        case 'app-create':
            $label = trim(rcube_utils::get_input_string('_label', rcube_utils::INPUT_POST));
            if ($label === '') {
                return ['error' => $this->gettext('labelrequired')];
            }
            return $this->with_proof($user, $action, function () use ($e, $user, $label, $time, $policy) {
                return ['op' => 'app_password.create', 'user' => $user, 'keys' => $e->keys(), 'label' => $label,
                    'time' => $time, 'policy' => $policy, 'entropy' => mail2fa_engine::entropy()];
            }, function ($r) use ($label) {
                return ['ok' => $this->gettext('appcreated'), 'app_password' => $r['password'], 'app_label' => $label];
            });

        case 'app-revoke':
            $id = rcube_utils::get_input_string('_id', rcube_utils::INPUT_POST);
            $e->update($user, function () use ($id, $time) {
                return ['op' => 'app_password.revoke', 'id' => $id, 'time' => $time];
            });
            return ['ok' => $this->gettext('apprevoked')];

        case 'disable':
            return $this->disable($user, $time, $policy);
        }

        return ['error' => $this->rc->gettext('invalidrequest')];
    }

    /**
     * Turns 2FA off with a current code or an unused backup code (the core consumes it and
     * checks that the policy allows backup codes); app passwords go with it.
     */
    private function disable(string $user, int $time, array $policy): array
    {
        $e = $this->engine;
        $proof = $this->posted_proof() ?? ['method' => 'totp', 'code' => ''];
        $r = $e->update($user, function () use ($e, $user, $time, $policy, $proof) {
            return ['op' => 'totp.disable', 'user' => $user, 'keys' => $e->keys(), 'time' => $time,
                'policy' => $policy, 'code' => $proof['code'], 'method' => $proof['method']];
        });
        if (empty($r['disabled'])) {
            $this->fail_log($user, ($r['reason'] ?? '') === 'locked' ? 'locked' : 'wrong', $proof['method'],
                $r['reason'] ?? null, 'settings disable');
            return ['error' => $this->code_error($r)];
        }
        $this->forget_device_cookie();

        return ['ok' => $this->gettext('disabled') . $this->revoked_note($r)];
    }

    /** " N app passwords were revoked." when an activation or a disable removed some. */
    private function revoked_note(array $r): string
    {
        $n = (int) ($r['revoked_app_passwords'] ?? 0);

        return $n > 0 ? ' ' . $this->gettext(['name' => 'appsrevokedcount', 'vars' => ['n' => $n]]) : '';
    }

    /**
     * The fresh factor the user typed for a security change: an unused backup code when one
     * is given, else the TOTP code; null when neither was typed (the core then refuses with
     * fresh_factor_required).
     */
    private function posted_proof(): ?array
    {
        $backup = trim(rcube_utils::get_input_string('_backup_code', rcube_utils::INPUT_POST));
        if ($backup !== '') {
            return ['method' => 'backup_code', 'code' => $backup];
        }
        $code = rcube_utils::get_input_string('_code', rcube_utils::INPUT_POST);
        if (trim($code) !== '') {
            return ['method' => 'totp', 'code' => $code];
        }

        return null;
    }

    /**
     * Runs an op that adds a way into the account with the posted proof; the core checks it
     * (limited, a step once, a backup code consumed) and does nothing else when it refuses.
     * Returns $done(response), or the error to show.
     */
    private function with_proof(string $user, string $action, callable $build, callable $done): array
    {
        $proof = $this->posted_proof();
        try {
            $r = $this->engine->update($user, function ($record) use ($build, $proof) {
                $req = $build($record);
                if ($proof !== null) {
                    $req['proof'] = $proof;
                }
                return $req;
            });
        }
        catch (\Mail2fa\Error $ex) {
            if ($ex->getErrorCode() === 'fresh_factor_required') {
                return ['error' => $this->gettext('freshrequired')];
            }
            if ($ex->getErrorCode() === 'not_enabled') {
                return ['error' => $this->gettext('notenabled')];
            }
            throw $ex;
        }
        $refused = $this->fresh_refused($user, $action, $r);

        return $refused ?? $done($r);
    }

    /** When the core did not accept the fresh factor: the fail2ban line and the message. */
    private function fresh_refused(string $user, string $action, array $r): ?array
    {
        $fresh = $r['fresh'] ?? null;
        if (!is_array($fresh) || !empty($fresh['accepted'])) {
            return null;
        }
        $this->fail_log($user, ($fresh['reason'] ?? '') === 'locked' ? 'locked' : 'wrong', (string) ($fresh['method'] ?? 'totp'),
            $fresh['reason'] ?? null, "settings $action");

        return ['error' => $this->code_error($fresh)];
    }

    private function code_error(array $r): string
    {
        if (($r['reason'] ?? '') === 'locked' && !empty($r['retry_after'])) {
            return $this->gettext(['name' => 'locked', 'vars' => ['seconds' => (int) $r['retry_after']]]);
        }

        return $this->gettext('wrongcode');
    }

    /**
     * JSON endpoints of <mail2fa-enroll>: start, confirm, cancel ($where: 'login' for a
     * pending session that must enroll, 'settings'). Replacing an enabled authenticator
     * needs a fresh factor (_code or _backup_code, checked by the core in totp.enroll); at
     * login, enrollment is only for users without a factor, so no proof is ever passed there.
     */
    private function json_action(string $action, string $user, string $where)
    {
        $e = $this->engine;
        $time = time();
        try {
            switch ($action) {
            case 'enroll-start':
                $this->enroll_start($user, $where, $time);

            case 'enroll-confirm':
                $this->enroll_confirm($user, $where, $time);

            case 'enroll-cancel':
                $e->update($user, function () use ($time) {
                    return ['op' => 'totp.cancel', 'time' => $time];
                });
                $this->json_out(['cancelled' => true]);
            }
        }
        catch (mail2fa_config_error $ex) {
            $this->log_error($ex->getMessage());
            http_response_code(503);
            $this->json_out(['error' => ['code' => 'not_configured', 'message' => $this->config_message()]]);
        }
        catch (Throwable $ex) {
            $code = method_exists($ex, 'getErrorCode') ? $ex->getErrorCode() : 'server_error';
            if ($code === 'fresh_factor_required') {
                http_response_code(403);
                $this->json_out(['error' => ['code' => $code, 'message' => $this->gettext('freshrequired')]]);
            }
            $this->log_error("enrollment step $action for $user failed: " . $this->describe($ex));
            http_response_code($code === 'no_pending_enrollment' ? 409 : 500);
            $this->json_out(['error' => ['code' => (string) $code, 'message' => $this->gettext('failed')]]);
        }
        http_response_code(404);
        $this->json_out(['error' => ['code' => 'unknown_action', 'message' => 'unknown action']]);
    }

    private function enroll_start(string $user, string $where, int $time)
    {
        $e = $this->engine;
        $keys = $e->keys();
        $proof = $where === 'settings' ? $this->posted_proof() : null;
        $r = $e->update($user, function () use ($e, $user, $keys, $time, $proof) {
            $req = ['op' => 'totp.enroll', 'user' => $user, 'keys' => $keys, 'time' => $time,
                'policy' => $e->policy_for($user), 'entropy' => mail2fa_engine::entropy(), 'account' => $user,
                'issuer' => (string) $this->rc->config->get('mail2fa_issuer', $this->rc->config->get('product_name'))];
            if ($proof !== null) {
                $req['proof'] = $proof;
            }
            return $req;
        });
        if ($refused = $this->fresh_refused($user, 'enroll-start', $r)) {
            http_response_code(403);
            $this->json_out(['error' => ['code' => (string) ($r['fresh']['reason'] ?? 'wrong_code'), 'message' => $refused['error']]]);
        }
        // The QR code and the key's display parameters come from the same core here, on the
        // server, so the enrollment page runs no WebAssembly (the element loads the module
        // only when a server sends just uri and secret).
        $params = $e->call('otpauth.parse', ['uri' => $r['uri']]);
        unset($params['secret'], $params['ok']);
        $qr = $e->call('qr.svg', ['text' => $r['uri']]);
        $this->json_out(['uri' => $r['uri'], 'secret' => $r['secret'], 'qr' => $qr['svg'], 'params' => $params]);
    }

    /**
     * The first code of the new authenticator: the core activates it and issues the first
     * backup codes; a first factor also revokes app passwords and devices made before it.
     * At login the pending session is marked: it proved this factor itself.
     */
    private function enroll_confirm(string $user, string $where, int $time)
    {
        $e = $this->engine;
        $code = rcube_utils::get_input_string('code', rcube_utils::INPUT_POST);
        $r = $e->update($user, function () use ($e, $user, $time, $code) {
            return ['op' => 'totp.activate', 'user' => $user, 'keys' => $e->keys(), 'time' => $time, 'code' => $code,
                'policy' => $e->policy_for($user), 'entropy' => mail2fa_engine::entropy()];
        });
        if (empty($r['activated'])) {
            $this->fail_log($user, 'not-activated', 'totp', $r['reason'] ?? 'wrong_code', "$where enroll-confirm");
            $this->json_out(['activated' => false, 'reason' => $r['reason'] ?? 'wrong_code']);
        }
        if ($where === 'login' && !empty($_SESSION['mail2fa_pending'])) {
            $_SESSION['mail2fa_pending']['enrolled'] = true;
        }
        $revoked = (int) ($r['revoked_app_passwords'] ?? 0);
        if ($where === 'settings' && $revoked > 0) {
            $_SESSION['mail2fa_flash'] = ['ok' => $this->gettext('enrolled') . $this->revoked_note($r)];
        }
        $this->json_out(['activated' => true, 'backup_codes' => $r['backup_codes'] ?? [],
            'revoked_app_passwords' => $revoked, 'revoked_devices' => (int) ($r['revoked_devices'] ?? 0)]);
    }

    private function json_out(array $data)
    {
        header('Content-Type: application/json; charset=UTF-8');
        header('Cache-Control: no-store');
        echo json_encode($data, JSON_UNESCAPED_SLASHES);
        exit;
    }

    /** The web component's module script (it loads its stylesheets from beside itself). */
    private function add_enroll_assets()
    {
        if ($this->missing_assets()) {
            return;
        }
        $src = $this->url('assets/mail2fa-enroll.js');
        $this->rc->output->add_header(html::tag('script', ['type' => 'module', 'src' => $src], ''));
    }

    /**
     * The assets/ files that are not installed. Without them no enrollment can be shown: the
     * admin log says which files and how to install them, the user sees noassets_html().
     */
    private function missing_assets(): array
    {
        if ($this->missing_assets === null) {
            $this->missing_assets = [];
            foreach (self::ASSETS as $f) {
                if (!is_file($this->home . "/assets/$f")) {
                    $this->missing_assets[] = "assets/$f";
                }
            }
            if ($this->missing_assets) {
                $this->log_error('two-factor enrollment cannot be shown: ' . implode(', ', $this->missing_assets)
                    . ' missing in ' . $this->home . ' (install them: scripts/roundcube-install.sh assets, or make plugin-assets)');
            }
        }

        return $this->missing_assets;
    }

    private function noassets_html(): string
    {
        return html::div(['class' => 'alert alert-danger', 'id' => 'mail2fa-noassets', 'role' => 'alert'],
            rcube::Q($this->gettext('noassets')));
    }

    private function enroll_element(string $where, ?string $done_href): string
    {
        $task = $where === 'login' ? 'login' : 'settings';
        $ep = function ($a) use ($task) {
            return $this->rc->url(['_task' => $task, '_action' => "plugin.mail2fa-$a"]);
        };
        $strings = [];
        foreach (['introTitle' => 'enrolltitle', 'introText' => 'enrolltext'] as $k => $label) {
            $strings[$k] = $this->gettext($label);
        }

        return html::tag('mail2fa-enroll', [
            'id'               => 'mail2fa-enroll',
            'endpoint-start'   => $ep('enroll-start'),
            'endpoint-confirm' => $ep('enroll-confirm'),
            'endpoint-cancel'  => $ep('enroll-cancel'),
            'csrf-token'       => $this->rc->get_request_token(),
            'csrf-field'       => '_token',
            'csrf-header'      => 'X-Roundcube-Request',
            'encoding'         => 'form',
            'done-href'        => $done_href,
            'strings'          => json_encode($strings),
        ], '');
    }

    public function settings_html($attrib)
    {
        $out = '';
        $flash = $this->flash ?? ($_SESSION['mail2fa_flash'] ?? []);
        if (isset($_SESSION['mail2fa_flash'])) {
            $this->rc->session->remove('mail2fa_flash');
        }
        $box = function ($title, $body, $id) {
            return html::tag('fieldset', ['id' => $id, 'class' => 'mail2fa-box'], html::tag('legend', null, rcube::Q($title)) . $body);
        };

        $out .= html::div(['id' => 'mail2fa-message', 'role' => 'status', 'aria-live' => 'polite',
            'class' => !empty($flash['error']) ? 'alert alert-danger' : (!empty($flash['ok']) ? 'alert alert-success' : '')],
            rcube::Q($flash['error'] ?? ($flash['ok'] ?? '')));

        if (!empty($flash['backup_codes'])) {
            $out .= $box($this->gettext('backupnew'), html::p(null, rcube::Q($this->gettext('backupnewtext')))
                . html::tag('ul', ['class' => 'mail2fa-codes', 'id' => 'mail2fa-backup-codes'],
                    implode('', array_map(function ($c) { return html::tag('li', null, html::tag('code', null, rcube::Q($c))); }, $flash['backup_codes']))),
                'mail2fa-backup-new');
        }
        if (!empty($flash['app_password'])) {
            $out .= $box($this->gettext('appnew'), html::p(null, rcube::Q($this->gettext(['name' => 'appnewtext',
                'vars' => ['label' => $flash['app_label']]])))
                . html::p(null, html::tag('code', ['id' => 'mail2fa-app-password', 'class' => 'mail2fa-secret'], rcube::Q($flash['app_password']))),
                'mail2fa-app-new');
        }

        try {
            $user = $this->session_user();
        }
        catch (mail2fa_config_error $e) {
            $this->log_error($e->getMessage());
            return $out . html::div(['class' => 'alert alert-warning', 'id' => 'mail2fa-misconfigured'], rcube::Q($this->config_message()));
        }
        if (!$this->engine->has_keys()) {
            $this->log_error('mail2fa_keys is not configured: two-factor authentication cannot be enabled');
            return $out . html::div(['class' => 'alert alert-warning', 'id' => 'mail2fa-nokey'], rcube::Q($this->gettext('nokey')));
        }

        try {
            $row = $this->engine->load($user);
            $status = $row ? $this->engine->call('record.status', ['user' => $user, 'keys' => $this->engine->keys(),
                'record' => $row['record']]) : ['state' => 'disabled'];
        }
        catch (Throwable $e) {
            $this->log_error("settings of $user: the record did not open: " . $this->describe($e));
            return $out . html::div(['class' => 'alert alert-danger', 'id' => 'mail2fa-broken'], rcube::Q($this->gettext('unavailable')));
        }
        $state = $status['state'];
        $record = $row ? $row['record'] : null;

        $out .= html::p(['id' => 'mail2fa-state', 'data-state' => $state],
            rcube::Q($this->gettext($state === 'enabled' ? 'stateon' : 'stateoff')));

        if ($state !== 'enabled') {
            $out .= $box($this->gettext('enrolltitle'), $this->missing_assets() ? $this->noassets_html() : $this->enroll_element('settings',
                $this->rc->url(['_task' => 'settings', '_action' => 'plugin.mail2fa', '_framed' => 1])), 'mail2fa-enroll-box');
            // App passwords stay listed (and revocable) whatever the state; new ones need 2FA.
            $out .= $record ? $this->settings_apps_box($box, $record, null) : '';
            return html::div(['class' => 'formcontent mail2fa-settings'], $out);
        }

        $b = $this->engine->call('backup.status', ['record' => $record]);
        $backup_allowed = $this->backup_codes_allowed($user) && (int) $b['remaining'] > 0;
        $out .= $box($this->gettext('backuptitle'),
            html::p(['id' => 'mail2fa-backup-remaining'], rcube::Q($this->gettext(['name' => 'backupremaining',
                'vars' => ['n' => (int) $b['remaining']]])))
            . $this->settings_form('backup-regenerate', html::p(null, rcube::Q($this->gettext('backupregentext')))
                . $this->proof_fields('regen', $backup_allowed) . ' ' . $this->settings_button($this->gettext('backupregen')),
                ['id' => 'mail2fa-backup-form']),
            'mail2fa-backup');
        $out .= $this->settings_devices_box($box, $record);
        $out .= $this->settings_apps_box($box, $record, $backup_allowed);
        $out .= $box($this->gettext('disabletitle'), html::p(null, rcube::Q($this->gettext('disabletext')))
            . $this->settings_form('disable', $this->proof_fields('disable', $backup_allowed) . ' '
                . $this->settings_button($this->gettext('disable'), 'btn btn-danger delete')),
            'mail2fa-disable');

        return html::div(['class' => 'formcontent mail2fa-settings'], $out);
    }

    private function backup_codes_allowed(string $user): bool
    {
        $methods = $this->engine->policy_for($user)['methods'] ?? null;

        return $methods === null || in_array('backup_code', (array) $methods, true);
    }

    /** A POST form of the settings page with the request token. */
    private function settings_form(string $action, string $inner, array $attrs = []): string
    {
        $token = (new html_hiddenfield(['name' => '_token', 'value' => $this->rc->get_request_token()]))->show();

        return html::tag('form', $attrs + ['method' => 'post',
            'action' => $this->rc->url(['_task' => 'settings', '_action' => "plugin.mail2fa-$action", '_framed' => 1])],
            $token . $inner);
    }

    private function settings_button(string $label, string $class = 'btn btn-secondary'): string
    {
        return html::tag('button', ['type' => 'submit', 'class' => "button $class"], rcube::Q($label));
    }

    /**
     * The fresh factor a security change asks for: a current code (#mail2fa-<id>-code), or
     * an unused backup code (#mail2fa-<id>-backup) when the user has some and may use them.
     */
    private function proof_fields(string $id, bool $backup): string
    {
        $code = new mail2fa_input(['type' => 'text', 'name' => '_code', 'id' => "mail2fa-$id-code", 'class' => 'form-control mail2fa-code',
            'autocomplete' => 'one-time-code', 'inputmode' => 'numeric', 'pattern' => '[0-9 ]*', 'size' => 10, 'maxlength' => 12]);
        $out = html::label(['for' => "mail2fa-$id-code"], rcube::Q($this->gettext('codelabel'))) . ' ' . $code->show();
        if ($backup) {
            $in = new mail2fa_input(['type' => 'text', 'name' => '_backup_code', 'id' => "mail2fa-$id-backup",
                'class' => 'form-control', 'autocomplete' => 'off', 'spellcheck' => 'false', 'size' => 24, 'maxlength' => 64]);
            $out .= html::tag('details', ['class' => 'mail2fa-backup', 'id' => "mail2fa-$id-backup-box"],
                html::tag('summary', null, rcube::Q($this->gettext('usebackup')))
                . html::label(['for' => "mail2fa-$id-backup"], rcube::Q($this->gettext('backuplabel'))) . ' ' . $in->show());
        }

        return $out;
    }

    private function settings_devices_box(callable $box, array $record): string
    {
        $devices = $this->engine->call('device.list', ['record' => $record])['devices'];
        $rows = '';
        foreach ($devices as $d) {
            $rows .= html::tag('tr', ['data-device' => $d['id']],
                html::tag('td', null, rcube::Q($d['label'] !== '' ? $d['label'] : $d['id']))
                . html::tag('td', null, rcube::Q($this->rc->format_date((int) $d['created_at'])))
                . html::tag('td', null, rcube::Q($this->rc->format_date((int) $d['last_seen_at'])))
                . html::tag('td', null, rcube::Q($this->rc->format_date((int) $d['expires_at'])))
                . html::tag('td', null, $this->settings_form('device-revoke', html::tag('input', ['type' => 'hidden', 'name' => '_id', 'value' => $d['id']])
                    . $this->settings_button($this->gettext('revoke')))));
        }

        return $box($this->gettext('devicestitle'), $devices
            ? html::tag('table', ['class' => 'table mail2fa-table', 'id' => 'mail2fa-devices'],
                html::tag('thead', null, html::tag('tr', null, html::tag('th', null, rcube::Q($this->gettext('device')))
                    . html::tag('th', null, rcube::Q($this->gettext('created'))) . html::tag('th', null, rcube::Q($this->gettext('lastseen')))
                    . html::tag('th', null, rcube::Q($this->gettext('expires'))) . html::tag('th', null, '')))
                . html::tag('tbody', null, $rows))
              . $this->settings_form('device-revoke-all', $this->settings_button($this->gettext('revokeall')), ['id' => 'mail2fa-devices-revoke-all'])
            : html::p(['id' => 'mail2fa-no-devices'], rcube::Q($this->gettext('nodevices'))), 'mail2fa-devices-box');
    }

    /**
     * App passwords: the list (each revocable) whatever the state; the create form (label and
     * a fresh factor) only with 2FA on ($backup null: no create form).
     */
    private function settings_apps_box(callable $box, array $record, ?bool $backup): string
    {
        $apps = $this->engine->call('app_password.list', ['record' => $record])['app_passwords'];
        if (!$apps && $backup === null) {
            return '';
        }
        $rows = '';
        foreach ($apps as $a) {
            $rows .= html::tag('tr', ['data-app' => $a['id']],
                html::tag('td', null, rcube::Q($a['label']))
                . html::tag('td', null, rcube::Q($this->rc->format_date((int) $a['created_at'])))
                . html::tag('td', null, rcube::Q(!empty($a['last_used_at']) ? $this->rc->format_date((int) $a['last_used_at']) : '—'))
                . html::tag('td', null, $this->settings_form('app-revoke', html::tag('input', ['type' => 'hidden', 'name' => '_id', 'value' => $a['id']])
                    . $this->settings_button($this->gettext('revoke')))));
        }
        $create = '';
        if ($backup !== null) {
            $label_in = new html_inputfield(['name' => '_label', 'id' => 'mail2fa-app-label', 'class' => 'form-control', 'size' => 30,
                'maxlength' => 100, 'required' => true]);
            $create = $this->settings_form('app-create', html::label(['for' => 'mail2fa-app-label'], rcube::Q($this->gettext('applabel')))
                . ' ' . $label_in->show() . html::p(null, rcube::Q($this->gettext('appcodetext'))) . $this->proof_fields('app', $backup) . ' ' . $this->settings_button($this->gettext('appcreate')),
                ['id' => 'mail2fa-app-form']);
        }

        return $box($this->gettext('appstitle'), html::p(null, rcube::Q($this->gettext('appstext')))
            . ($apps ? html::tag('table', ['class' => 'table mail2fa-table', 'id' => 'mail2fa-apps'],
                html::tag('thead', null, html::tag('tr', null, html::tag('th', null, rcube::Q($this->gettext('applabel')))
                    . html::tag('th', null, rcube::Q($this->gettext('created'))) . html::tag('th', null, rcube::Q($this->gettext('lastused')))
                    . html::tag('th', null, '')))
                . html::tag('tbody', null, $rows)) : '')
            . $create, 'mail2fa-apps-box');
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
                (new mail2fa_admin($this->engine))->password_changed($this->session_user());
            }
            catch (Throwable $e) {
                $this->log_error("password change of $user: app passwords not revoked: " . $this->describe($e));
            }
        }

        return $args;
    }

    /**
     * Admin panels: $rcmail->plugins->exec_hook('mail2fa_admin', ['command' => 'reset', 'user' => 'alice'])
     * returns the args with 'result' (or 'error'). Commands: status, reset, revoke-devices,
     * revoke-app-passwords, password-changed, list.
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
