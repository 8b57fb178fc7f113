<?php

/**
 * mail2fa: the login gate.
 *
 * Roundcube checks the password first; `login_after` then asks the core (login.decide)
 * whether a second factor is needed. If so the session loses its user_id (so Roundcube
 * itself treats it as logged out) and keeps only a pending marker; while it is pending,
 * `startup` answers every request itself with the second-factor form (or an error for
 * AJAX), so no task, action or plugin runs. When the core accepts the factor the user_id
 * comes back under a new session id. A session the policy makes enroll does so here with
 * the settings section's enrollment endpoints, and completes only with its own activation.
 *
 * @license GPL-3.0-or-later
 */
class mail2fa_login extends mail2fa_web
{
    /**
     * Seconds a login held without any answer from the core (a name it refuses, a refused
     * configuration, a core that fails) waits before it is ended; every other pending login
     * ends at the core's pending_expires_at.
     */
    const HELD_TTL = 600;
    const LOGIN_ACTION = 'plugin.mail2fa-login';
    /** POST actions of a pending session (the second step, cancel, enrollment at login). */
    const PENDING_ACTIONS = [self::LOGIN_ACTION => 'verify', 'plugin.mail2fa-cancel' => 'cancel',
        'plugin.mail2fa-enroll-start' => 'enroll-start', 'plugin.mail2fa-enroll-confirm' => 'enroll-confirm',
        'plugin.mail2fa-enroll-cancel' => 'enroll-cancel', 'plugin.mail2fa-enroll-done' => 'enroll-done'];

    /**
     * Every request passes here before Roundcube runs any task or action. A session waiting
     * for its second factor gets the form (or an error), never anything else.
     */
    public function startup($args)
    {
        if (!$this->engine->network_allowed()) {
            $this->deny_network();
        }

        $pending = $_SESSION['mail2fa_pending'] ?? null;
        if (empty($pending) || !is_array($pending)) {
            return $args;
        }

        // Defence in depth: a pending session never carries a user_id.
        if (!empty($_SESSION['user_id'])) {
            $this->engine->log_error('a pending session carried a user_id; the session was ended');
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
            $this->plugin->settings()->json_action($what, $pending['username'], 'login');
        }
        if ($enroll && $what === 'enroll-done') {
            $this->finish_enrollment_login($pending);
        }
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
            $this->engine->log_error("login refused: $problem");
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
     * The password was right. Ask the core whether this login needs a second factor
     * (Service::beginLogin; a trusted-device cookie is presented as one); if so, park the
     * session. The record key is the canonical name of the IMAP login; a name the core
     * refuses, a record that does not open, any failure holds the login.
     */
    public function login_after($args)
    {
        $login = (string) $_SESSION['username'];
        $device = (string) ($_COOKIE[self::DEVICE_COOKIE] ?? '');
        try {
            $user = $this->engine->user($login);
            $d = $this->engine->login_service()->beginLogin($user, $device !== '' ? ['deviceToken' => $device] : []);
        }
        catch (Throwable $e) {
            // No Service (a refused configuration, a name the core refuses, no storage driver).
            $d = self::failure($e);
        }
        if (isset($d['error'])) {
            // No decision (also: a record that does not decrypt, a broken core, a lost race): fail closed.
            $this->engine->log_error('login of ' . mail2fa_engine::log_safe($login) . ' held at the second factor: ' . self::reason($d));
            $user = $user ?? $login;
            $d = ['verdict' => 'unavailable', 'error' => $d['error']];
        }

        if (!empty($d['forgetDevice'])) {
            $this->forget_device_cookie();
        }
        if (empty($d['error']) && !$d['required']) {
            return $args;
        }

        $verdict = $d['verdict'];
        $redirect = $args;
        unset($redirect['abort'], $redirect['_err']);
        $_SESSION['mail2fa_pending'] = [
            'user_id'     => (int) $_SESSION['user_id'],
            'username'    => $user,
            'since'       => time(),
            'expires_at'  => isset($d['pendingExpiresAt']) ? (int) $d['pendingExpiresAt'] : time() + self::HELD_TTL,
            'redirect'    => $redirect,
            'mode'        => $verdict === 'enroll_required' ? 'enroll' : 'verify',
            'retry_after' => isset($d['retryAfter']) ? time() + (int) $d['retryAfter'] : null,
            'methods'     => $d['methods'] ?? ['totp'],
            'trust_days'  => (int) ($d['trustDays'] ?? 0),
            'unavailable' => $verdict === 'unavailable',
            // A lost race (conflict) asks the user to sign in again rather than to call the admin.
            'conflict'    => ($d['error'] ?? null) === 'conflict',
        ];
        $this->rc->session->remove('user_id');

        return ['_task' => 'login', '_action' => self::LOGIN_ACTION];
    }

    /** A Service call that threw, in the shape of a held login's answer. */
    private static function failure(Throwable $e): array
    {
        return ['error' => method_exists($e, 'getErrorCode') ? $e->getErrorCode() : get_class($e), 'message' => $e->getMessage()];
    }

    /** A held login's error for the admin log: "code: message" (never a secret). */
    private static function reason(array $d): string
    {
        return mail2fa_engine::log_safe((string) $d['error'] . (isset($d['message']) ? ': ' . $d['message'] : ''));
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
        $method = trim($backup) !== '' ? 'backup_code' : 'totp';
        $options = ['method' => $method, 'trustDevice' => $trust];
        if ($trust) {
            $options['userAgent'] = substr((string) ($_SERVER['HTTP_USER_AGENT'] ?? ''), 0, 400);
        }

        try {
            $d = $this->engine->login_service()->verifyLogin($user, $method === 'backup_code' ? $backup : $code, $options);
        }
        catch (Throwable $e) {
            $d = self::failure($e);
        }
        if (isset($d['error'])) {
            $this->engine->log_error("second factor of $user not checked: " . self::reason($d));
            if ($d['error'] === 'conflict') {
                // Another request changed the record meanwhile, every try: the user sends the next code.
                $this->render_login_form($pending, 'conflict');
            }
            $pending['unavailable'] = true;
            $this->render_login_form($pending, 'unavailable');
        }

        if ($d['verdict'] === 'ok') {
            $this->engine->fail_log($user, 'ok', $d['method'] ?? $method);
            if (!empty($d['deviceToken'])) {
                $this->set_device_cookie($d['deviceToken'], (int) $d['deviceExpiresAt']);
            }
            $this->complete_login($pending);
        }

        if ($d['verdict'] === 'not_required') {
            // 2FA was turned off (admin reset) while the form was open: the password suffices.
            $this->complete_login($pending);
        }

        // Every failure is logged (replayed and malformed too; the core counts only guesses).
        $this->engine->fail_log($user, $d['verdict'], $method, $d['reason'] ?? null);
        $pending['retry_after'] = isset($d['retryAfter']) ? time() + (int) $d['retryAfter'] : null;
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
            $this->engine->log_error('enrollment at login of ' . mail2fa_engine::log_safe($pending['username'])
                . ' not completed: this session did not confirm an enrollment');
            $this->render_login_form($pending);
        }
        try {
            $d = $this->engine->login_service()->beginLogin($pending['username']);
        }
        catch (Throwable $e) {
            $d = self::failure($e);
        }
        if (isset($d['error'])) {
            // (A held answer also says state 'enabled': the error is checked first.)
            $this->engine->log_error('enrollment at login not checked: ' . self::reason($d));
            $this->render_login_form($pending, $d['error'] === 'conflict' ? 'conflict' : 'unavailable');
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
        $this->plugin->add_texts('localization/');
        $this->plugin->include_stylesheet($this->plugin->local_skin_path() . '/mail2fa.css');
        $this->rc->output->set_pagetitle($this->gettext('title'));
        $this->rc->output->set_env('task', 'login');
        $this->plugin->register_handler('plugin.mail2fa_loginform', function ($attrib) use ($pending, $error) {
            return $this->login_form_html($attrib, $pending, $error);
        });
        if (($pending['mode'] ?? '') === 'enroll') {
            $this->plugin->settings()->add_enroll_assets();
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
        if (!empty($pending['conflict']) || $error === 'conflict') {
            $msg = $this->gettext('conflict');
        }
        else if (!empty($pending['unavailable'])) {
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
            if ($this->plugin->settings()->missing_assets()) {
                return $out . $this->plugin->settings()->noassets_html() . $this->cancel_form();
            }
            return $out . $this->plugin->settings()->enroll_element('login', null) . $this->enroll_done_form() . $this->cancel_form();
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

    private function deny_network()
    {
        http_response_code(403);
        header('Content-Type: text/plain; charset=UTF-8');
        echo "Access from this network is not allowed.\n";
        exit;
    }

    private function gettext_login(string $name): string
    {
        $this->plugin->add_texts('localization/');

        return $this->gettext($name);
    }
}
