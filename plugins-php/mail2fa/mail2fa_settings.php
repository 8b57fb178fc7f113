<?php

/**
 * mail2fa: the settings section "Two-factor authentication" — the page, its POST actions
 * (each checks the request token itself first; adding a way in needs a fresh factor, which
 * the core checks), and the JSON endpoints of <mail2fa-enroll> with the element itself,
 * which the login gate also uses for enrollment at login.
 *
 * @license GPL-3.0-or-later
 */
class mail2fa_settings extends mail2fa_web
{
    /** @var array|null result shown once on the settings page */
    private $flash;
    /** @var array|null assets/ files not installed (checked once per request) */
    private $missing_assets;

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
        $this->plugin->include_stylesheet($this->plugin->local_skin_path() . '/mail2fa.css');
        $this->rc->output->set_pagetitle($this->gettext('section'));
        $this->plugin->register_handler('plugin.body', [$this, 'settings_html']);
        $this->add_enroll_assets();
        header('Cache-Control: no-store');
        $this->rc->output->send('mail2fa.settings');
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
            $user = $this->engine->session_user();
            if ($json) {
                $this->json_action($action, $user, 'settings');
            }
            $this->flash = $this->settings_change($action, $user);
        }
        catch (mail2fa_config_error $e) {
            $this->engine->log_error($e->getMessage());
            if ($json) {
                http_response_code(503);
                $this->json_out(['error' => ['code' => 'not_configured', 'message' => $this->config_message()]]);
            }
            $this->flash = ['error' => $this->config_message()];
        }
        catch (Throwable $e) {
            $this->engine->log_error("settings change $action for " . mail2fa_engine::log_safe((string) $_SESSION['username']) . ' failed: '
                . mail2fa_engine::describe($e));
            $this->flash = ['error' => $this->gettext(self::is_conflict($e) ? 'conflict' : 'failed')];
        }
        $this->settings_page();
    }

    /** A lost compare-and-set race (Service's `conflict`): the user is asked to try again. */
    private static function is_conflict(Throwable $e): bool
    {
        return $e instanceof \Mail2fa\Error && $e->getErrorCode() === 'conflict';
    }

    private function settings_change(string $action, string $user): array
    {
        // Removing access opens no sealed value: it works without a site key too.
        $mfa = in_array($action, ['device-revoke', 'device-revoke-all', 'app-revoke'], true)
            ? $this->engine->login_service() : $this->engine->service();

        switch ($action) {
        case 'backup-regenerate':
            return $this->with_proof($user, $action, function (?array $proof) use ($mfa, $user) {
                return $mfa->generateBackupCodes($user, ['proof' => $proof]);
            }, function ($r) {
                return ['ok' => $this->gettext('backupdone'), 'backup_codes' => $r['codes']];
            });

        case 'device-revoke':
            $mfa->revokeDevice($user, rcube_utils::get_input_string('_id', rcube_utils::INPUT_POST));
            return ['ok' => $this->gettext('devicerevoked')];

        case 'device-revoke-all':
            $mfa->revokeAllDevices($user);
            $this->forget_device_cookie();
            return ['ok' => $this->gettext('devicesrevoked')];

        case 'app-create':
            $label = trim(rcube_utils::get_input_string('_label', rcube_utils::INPUT_POST));
            if ($label === '') {
                return ['error' => $this->gettext('labelrequired')];
            }
            return $this->with_proof($user, $action, function (?array $proof) use ($mfa, $user, $label) {
                return $mfa->createAppPassword($user, $label, ['proof' => $proof]);
            }, function ($r) use ($label) {
                return ['ok' => $this->gettext('appcreated'), 'app_password' => $r['password'], 'app_label' => $label];
            });

        case 'app-revoke':
            $mfa->revokeAppPassword($user, rcube_utils::get_input_string('_id', rcube_utils::INPUT_POST));
            return ['ok' => $this->gettext('apprevoked')];

        case 'disable':
            return $this->disable($user);
        }

        return ['error' => $this->rc->gettext('invalidrequest')];
    }

    /**
     * Turns 2FA off with a current code or an unused backup code (the core consumes it and
     * checks that the policy allows backup codes); app passwords go with it.
     */
    private function disable(string $user): array
    {
        $proof = $this->posted_proof() ?? ['method' => 'totp', 'code' => ''];
        $r = $this->engine->service()->disable($user, $proof['code'], ['method' => $proof['method']]);
        if (empty($r['ok'])) {
            $this->engine->fail_log($user, ($r['reason'] ?? '') === 'locked' ? 'locked' : 'wrong', $proof['method'],
                $r['reason'] ?? null, 'settings disable');
            return ['error' => $this->code_error($r)];
        }
        $this->forget_device_cookie();

        return ['ok' => $this->gettext('disabled') . $this->revoked_note($r)];
    }

    /** " N app passwords were revoked." when an activation or a disable removed some. */
    private function revoked_note(array $r): string
    {
        $n = (int) ($r['revokedAppPasswords'] ?? 0);

        return $n > 0 ? ' ' . $this->gettext(['name' => 'appsrevokedcount', 'vars' => ['n' => $n]]) : '';
    }

    /**
     * The fresh factor the user typed for a security change: an unused backup code when one
     * is given, else the TOTP code; null when neither was typed (the core then refuses with
     * fresh_factor_required).
     */
    private function posted_proof(): ?array
    {
        // <mail2fa-enroll proof-methods> (form encoding) posts it as one JSON field.
        $json = rcube_utils::get_input_string('proof', rcube_utils::INPUT_POST);
        if ($json !== '') {
            $proof = json_decode($json, true);
            if (!is_array($proof) || !is_string($proof['code'] ?? null) || trim($proof['code']) === '') {
                return null;
            }

            return ['method' => ($proof['method'] ?? 'totp') === 'backup_code' ? 'backup_code' : 'totp', 'code' => $proof['code']];
        }
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
     * Runs a Service call that adds a way into the account with the posted proof; the core
     * checks it (limited, a step once, a backup code consumed) and does nothing else when it
     * refuses. Returns $done(result), or the error to show.
     */
    private function with_proof(string $user, string $action, callable $call, callable $done): array
    {
        try {
            $r = $call($this->posted_proof());
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
        if (!empty($r['ok']) || !is_array($fresh) || !empty($fresh['accepted'])) {
            return null;
        }
        $this->engine->fail_log($user, ($fresh['reason'] ?? '') === 'locked' ? 'locked' : 'wrong', (string) ($fresh['method'] ?? 'totp'),
            $fresh['reason'] ?? null, "settings $action");

        return ['error' => $this->code_error($fresh)];
    }

    private function code_error(array $r): string
    {
        if (($r['reason'] ?? '') === 'locked' && !empty($r['retryAfter'])) {
            return $this->gettext(['name' => 'locked', 'vars' => ['seconds' => (int) $r['retryAfter']]]);
        }

        return $this->gettext('wrongcode');
    }

    /**
     * JSON endpoints of <mail2fa-enroll>: start, confirm, cancel ($where: 'login' for a
     * pending session that must enroll, 'settings'). Replacing an enabled authenticator
     * needs a fresh factor (_code or _backup_code, checked by the core in totp.enroll); at
     * login, enrollment is only for users without a factor, so no proof is ever passed there.
     */
    public function json_action(string $action, string $user, string $where)
    {
        try {
            switch ($action) {
            case 'enroll-start':
                $this->enroll_start($user, $where);

            case 'enroll-confirm':
                $this->enroll_confirm($user, $where);

            case 'enroll-cancel':
                $this->engine->login_service()->cancelEnrollment($user);
                $this->json_out(['cancelled' => true]);
            }
        }
        catch (mail2fa_config_error $ex) {
            $this->engine->log_error($ex->getMessage());
            http_response_code(503);
            $this->json_out(['error' => ['code' => 'not_configured', 'message' => $this->config_message()]]);
        }
        catch (Throwable $ex) {
            $code = method_exists($ex, 'getErrorCode') ? $ex->getErrorCode() : 'server_error';
            if ($code === 'fresh_factor_required') {
                http_response_code(403);
                $this->json_out(['error' => ['code' => $code, 'message' => $this->gettext('freshrequired')]]);
            }
            $this->engine->log_error("enrollment step $action for $user failed: " . mail2fa_engine::describe($ex));
            http_response_code($code === 'no_pending_enrollment' || $code === 'conflict' ? 409 : 500);
            $this->json_out(['error' => ['code' => (string) $code, 'message' => $this->gettext($code === 'conflict' ? 'conflict' : 'failed')]]);
        }
        http_response_code(404);
        $this->json_out(['error' => ['code' => 'unknown_action', 'message' => 'unknown action']]);
    }

    /**
     * A new secret (Service::enroll). The QR code and the key's display parameters come from
     * the same core here, on the server, so the enrollment page runs no WebAssembly (the
     * element loads the module only when a server sends just uri and secret).
     */
    private function enroll_start(string $user, string $where)
    {
        $proof = $where === 'settings' ? $this->posted_proof() : null;
        $r = $this->engine->service()->enroll($user, ['account' => $user] + ($proof !== null ? ['proof' => $proof] : []));
        if ($refused = $this->fresh_refused($user, 'enroll-start', $r)) {
            http_response_code(403);
            $this->json_out(['error' => ['code' => (string) ($r['fresh']['reason'] ?? 'wrong_code'), 'message' => $refused['error']]]);
        }
        $this->json_out(['uri' => $r['uri'], 'secret' => $r['secret'], 'qr' => $r['qr'], 'params' => $r['params']]);
    }

    /**
     * The first code of the new authenticator: the core activates it and issues the first
     * backup codes; a first factor also revokes app passwords and devices made before it.
     * At login the pending session is marked: it proved this factor itself.
     */
    private function enroll_confirm(string $user, string $where)
    {
        $moving = $where === 'settings' && $this->engine->service()->status($user)['state'] === 'enabled';
        $r = $this->engine->service()->confirm($user, rcube_utils::get_input_string('code', rcube_utils::INPUT_POST));
        if (empty($r['ok'])) {
            $this->engine->fail_log($user, 'not-activated', 'totp', $r['reason'] ?? 'wrong_code', "$where enroll-confirm");
            $this->json_out(['activated' => false, 'reason' => $r['reason'] ?? 'wrong_code']);
        }
        if ($where === 'login' && !empty($_SESSION['mail2fa_pending'])) {
            $_SESSION['mail2fa_pending']['enrolled'] = true;
        }
        $revoked = (int) ($r['revokedAppPasswords'] ?? 0);
        if ($moving) {
            $_SESSION['mail2fa_flash'] = ['ok' => $this->gettext('moved')];
        }
        elseif ($where === 'settings' && $revoked > 0) {
            $_SESSION['mail2fa_flash'] = ['ok' => $this->gettext('enrolled') . $this->revoked_note($r)];
        }
        $this->json_out(['activated' => true, 'backup_codes' => $r['backupCodes'] ?? [],
            'revoked_app_passwords' => $revoked, 'revoked_devices' => (int) ($r['revokedDevices'] ?? 0)]);
    }

    /** The web component's module script (it loads its stylesheets from beside itself). */
    public function add_enroll_assets()
    {
        if ($this->missing_assets()) {
            return;
        }
        $src = $this->plugin->url('assets/mail2fa-enroll.js');
        $this->rc->output->add_header(html::tag('script', ['type' => 'module', 'src' => $src], ''));
    }

    /**
     * The assets/ files that are not installed. Without them no enrollment can be shown: the
     * admin log says which files and how to install them, the user sees noassets_html().
     */
    public function missing_assets(): array
    {
        if ($this->missing_assets === null) {
            $this->missing_assets = [];
            foreach (mail2fa::ASSETS as $f) {
                if (!is_file($this->plugin->home() . "/assets/$f")) {
                    $this->missing_assets[] = "assets/$f";
                }
            }
            if ($this->missing_assets) {
                $this->engine->log_error('two-factor enrollment cannot be shown: ' . implode(', ', $this->missing_assets)
                    . ' missing in ' . $this->plugin->home() . ' (install them: scripts/roundcube-install.sh assets, or make plugin-assets)');
            }
        }

        return $this->missing_assets;
    }

    public function noassets_html(): string
    {
        return html::div(['class' => 'alert alert-danger', 'id' => 'mail2fa-noassets', 'role' => 'alert'],
            rcube::Q($this->gettext('noassets')));
    }

    /**
     * <mail2fa-enroll>. With $proof_methods ('totp' or 'totp backup_code') it moves the enabled
     * authenticator to a new phone: its first step asks for a current code, sent as `proof`.
     */
    public function enroll_element(string $where, ?string $done_href, ?string $proof_methods = null): string
    {
        $task = $where === 'login' ? 'login' : 'settings';
        $ep = function ($a) use ($task) {
            return $this->rc->url(['_task' => $task, '_action' => "plugin.mail2fa-$a"]);
        };
        $labels = ['introTitle' => 'enrolltitle', 'introText' => 'enrolltext'];
        if ($proof_methods !== null) {
            $labels += ['replaceTitle' => 'movetitle', 'replaceText' => 'movetext', 'replacedTitle' => 'moved',
                'replacedText' => 'movedtext', 'proofLegend' => 'appcodetext', 'proofTotp' => 'codelabel',
                'proofBackup' => 'backuplabel', 'proofUseBackup' => 'usebackup', 'proofRequired' => 'freshrequired',
                'proofWrong' => 'wrongcode', 'proofLocked' => 'lockedwait'];
        }
        $strings = [];
        foreach ($labels as $k => $label) {
            $strings[$k] = $this->gettext($label);
        }

        return html::tag('mail2fa-enroll', [
            'id'               => $proof_methods === null ? 'mail2fa-enroll' : 'mail2fa-move',
            'proof-methods'    => $proof_methods,
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
            $user = $this->engine->session_user();
        }
        catch (mail2fa_config_error $e) {
            $this->engine->log_error($e->getMessage());
            return $out . html::div(['class' => 'alert alert-warning', 'id' => 'mail2fa-misconfigured'], rcube::Q($this->config_message()));
        }
        if (!$this->engine->has_keys()) {
            $this->engine->log_error('mail2fa_keys is not configured: two-factor authentication cannot be enabled');
            return $out . html::div(['class' => 'alert alert-warning', 'id' => 'mail2fa-nokey'], rcube::Q($this->gettext('nokey')));
        }

        try {
            $mfa = $this->engine->service();
            $status = $mfa->status($user);
            $apps = $mfa->listAppPasswords($user);
            $devices = $status['state'] === 'enabled' ? $mfa->listDevices($user) : [];
        }
        catch (Throwable $e) {
            $this->engine->log_error("settings of $user: the record did not open: " . mail2fa_engine::describe($e));
            return $out . html::div(['class' => 'alert alert-danger', 'id' => 'mail2fa-broken'], rcube::Q($this->gettext('unavailable')));
        }
        $state = $status['state'];

        $out .= html::p(['id' => 'mail2fa-state', 'data-state' => $state],
            rcube::Q($this->gettext($state === 'enabled' ? 'stateon' : 'stateoff')));

        if ($state !== 'enabled') {
            $out .= $box($this->gettext('enrolltitle'), $this->missing_assets() ? $this->noassets_html() : $this->enroll_element('settings',
                $this->rc->url(['_task' => 'settings', '_action' => 'plugin.mail2fa', '_framed' => 1])), 'mail2fa-enroll-box');
            // App passwords stay listed (and revocable) whatever the state; new ones need 2FA.
            $out .= $this->settings_apps_box($box, $apps, null);
            return html::div(['class' => 'formcontent mail2fa-settings'], $out);
        }

        $remaining = (int) $status['backup_codes_remaining'];
        $backup_allowed = $this->backup_codes_allowed($user) && $remaining > 0;
        $out .= $box($this->gettext('backuptitle'),
            html::p(['id' => 'mail2fa-backup-remaining'], rcube::Q($this->gettext(['name' => 'backupremaining',
                'vars' => ['n' => $remaining]])))
            . $this->settings_form('backup-regenerate', html::p(null, rcube::Q($this->gettext('backupregentext')))
                . $this->proof_fields('regen', $backup_allowed) . ' ' . $this->settings_button($this->gettext('backupregen')),
                ['id' => 'mail2fa-backup-form']),
            'mail2fa-backup');
        $out .= $this->settings_devices_box($box, $devices);
        $out .= $this->settings_apps_box($box, $apps, $backup_allowed);
        $out .= $box($this->gettext('movetitle'), $this->missing_assets() ? $this->noassets_html() : $this->enroll_element('settings',
            $this->rc->url(['_task' => 'settings', '_action' => 'plugin.mail2fa', '_framed' => 1]),
            $backup_allowed ? 'totp backup_code' : 'totp'), 'mail2fa-move-box');
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

    private function settings_devices_box(callable $box, array $devices): string
    {
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
    private function settings_apps_box(callable $box, array $apps, ?bool $backup): string
    {
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
}
