<?php

/**
 * Admin operations on users' 2FA, shared by bin/mail2fa-admin.sh, the `mail2fa_admin`
 * hook (admin panels) and the password plugin's `password_change` hook. Each write is a
 * Mail2fa\Service call (compare-and-set on the row's rev), so it takes effect at once on
 * every node: the next request reads the database, there is no cache to wait for.
 */
class mail2fa_admin
{
    /** @var mail2fa_engine */
    private $engine;

    public function __construct(mail2fa_engine $engine)
    {
        $this->engine = $engine;
    }

    /** Runs a command by name; see bin/mail2fa-admin.sh for the list. */
    public function run(string $command, array $args): array
    {
        $user = (string) ($args['user'] ?? '');
        $need_user = function () use (&$user, $command) {
            if ($user === '') {
                throw new InvalidArgumentException("$command needs a user");
            }
            // The record key: the login name as the core canonicalises it (mail2fa_username),
            // so `reset ALICE` acts on alice's record.
            $user = $this->engine->canonical($user);
        };
        switch ($command) {
        case 'status':
            $need_user();
            return $this->status($user);
        case 'reset':
            $need_user();
            return $this->reset($user);
        case 'revoke-devices':
            $need_user();
            return $this->revoke_devices($user);
        case 'revoke-app-passwords':
            $need_user();
            return $this->revoke_app_passwords($user);
        case 'password-changed':
            $need_user();
            return $this->password_changed($user);
        case 'sync-projection':
            $users = array_values(array_filter((array) ($args['users'] ?? ($user !== '' ? [$user] : [])), 'strlen'));
            return $this->sync_projection(array_map([$this->engine, 'canonical'], $users));
        case 'list':
            return $this->engine->storage()->list_users();
        }
        throw new InvalidArgumentException("unknown command: $command");
    }

    /** What the core reports about a user (no secrets): record.status, and the stored row's rev and state. */
    public function status(string $user): array
    {
        $row = $this->engine->storage()->get($user);
        if (!$row) {
            return ['user' => $user, 'state' => 'disabled', 'stored' => false];
        }
        $out = ['user' => $user, 'stored' => true, 'rev' => $row['version'], 'stored_state' => $row['state']];
        try {
            $out += $this->engine->service()->status($user);
        }
        catch (Throwable $e) {
            // A record that does not open keeps the user locked; say so, without details of keys.
            $out['state'] = 'locked';
            $out['error'] = method_exists($e, 'getErrorCode') ? $e->getErrorCode() : $e->getMessage();
        }

        return $out;
    }

    /**
     * 2FA off at once: Service::adminReset, the core's record.reset (every factor, code,
     * device, app password and pending enrollment removed, limiter cleared) written by
     * compare-and-set. The row stays, with rev one higher than before, so a write another node
     * computed from the old record can never land on it, nor on the records of a later
     * re-enrollment (revs never repeat). The projection Dovecot reads is emptied in the same
     * transaction.
     */
    public function reset(string $user): array
    {
        if (!$this->engine->login_service()->adminReset($user)) {
            return ['user' => $user, 'reset' => false, 'state' => 'disabled',
                'detail' => "no such user: $user has no mail2fa record (nothing to reset)"];
        }
        $row = $this->engine->storage()->get($user);

        return ['user' => $user, 'reset' => true, 'state' => (string) $row['state'], 'rev' => (int) $row['version']];
    }

    public function revoke_devices(string $user): array
    {
        return ['user' => $user, 'revoked' => $this->engine->login_service()->revokeAllDevices($user)];
    }

    public function revoke_app_passwords(string $user): array
    {
        return ['user' => $user, 'revoked' => $this->engine->login_service()->revokeAllAppPasswords($user)];
    }

    /** The main password changed (here or elsewhere): the core revokes what it decides. */
    public function password_changed(string $user): array
    {
        $r = $this->engine->login_service()->passwordChanged($user);

        return ['user' => $user, 'revoked_app_passwords' => (int) $r['revokedAppPasswords'],
            'revoked_devices' => (int) $r['revokedDevices']];
    }

    /**
     * Re-seals every stored record under the current site key (the first of mail2fa_keys)
     * with Service::rotateKey (the core's record.rotate_key), each by compare-and-set. Run it
     * after putting a new key first and the old ones after it; once it reports no errors the
     * old keys can be removed. A record none of the configured keys opens is reported and
     * left as it is (its user stays held at the second factor).
     *
     * @return array list of ['user', 'result' => rotated|current|error, 'detail']
     */
    public function rotate_keys(): array
    {
        $mfa = $this->engine->service();
        $current = $this->engine->keys()[0]['id'];
        $out = [];
        foreach ($this->engine->storage()->list_users() as $u) {
            $user = (string) $u['username'];
            try {
                $n = (int) $mfa->rotateKey($user)['resealed'];
                $out[] = ['user' => $user, 'result' => $n ? 'rotated' : 'current',
                    'detail' => $n ? "$n values re-sealed under $current" : "sealed under $current"];
            }
            catch (Throwable $e) {
                $out[] = ['user' => $user, 'result' => 'error', 'detail' => mail2fa_engine::describe($e)];
            }
        }

        return $out;
    }

    /**
     * Rewrites the Dovecot projection of the named users (all stored users when none is
     * named) from their stored record under the current policy (mail2fa_policy,
     * mail2fa_policy_rules), by compare-and-set on each row's rev; records are not changed.
     * Run it after a policy change: otherwise a user's projection follows at their next write.
     *
     * @param string[] $users canonical names
     * @return array list of ['user', 'result' => synced|unchanged|no-record|error, 'detail']
     */
    public function sync_projection(array $users): array
    {
        $storage = $this->engine->storage();
        if (!$users) {
            $users = array_column($storage->list_users(), 'username');
        }
        $out = [];
        foreach ($users as $user) {
            try {
                $r = $storage->sync_projection($user);
                $out[] = $r === null ? ['user' => $user, 'result' => 'no-record', 'detail' => "no such user: $user has no mail2fa record"]
                    : ['user' => $user, 'result' => $r['changed'] ? 'synced' : 'unchanged',
                        'detail' => "state {$r['state']}, {$r['app_passwords']} app passwords"];
            }
            catch (Throwable $e) {
                $out[] = ['user' => $user, 'result' => 'error', 'detail' => mail2fa_engine::describe($e)];
            }
        }

        return $out;
    }

    /**
     * Migrates twofactor_gauthenticator users: reads each Roundcube user's
     * `twofactor_gauthenticator` preference (decrypting fields its twofactor_pref_encrypt
     * option encrypted with des_key), hands it to the core (import.gauthenticator) and
     * stores the record. Idempotent: a user mail2fa already knows (a row that is not just an
     * unfinished enrollment: 2FA on, or turned off in mail2fa) is skipped, so a rerun never
     * brings back a secret the user replaced or turned off. The old prefs stay unless $purge:
     * then they are removed once the user is imported or skipped, by compare-and-set on the
     * preferences (a user saving settings meanwhile is reported, and a rerun purges).
     * $dry_run reports what would happen and changes nothing.
     *
     * @return array list of ['user', 'result' => imported|would-import|skipped|error, 'detail']
     */
    public function import_gauthenticator(rcube $rc, bool $purge, bool $dry_run = false): array
    {
        $db = $rc->get_dbh();
        $table = $db->table_name('users', true);
        $res = $db->query("SELECT `user_id`, `username`, `preferences` FROM $table ORDER BY `user_id`");
        $rows = [];
        while ($row = $db->fetch_assoc($res)) {
            $rows[] = $row;
        }
        $out = [];
        foreach ($rows as $row) {
            $prefs = $row['preferences'] ? @unserialize($row['preferences'], ['allowed_classes' => false]) : [];
            if (!is_array($prefs) || empty($prefs['twofactor_gauthenticator'])) {
                continue;
            }
            $g = (array) $prefs['twofactor_gauthenticator'];
            try {
                $user = $this->engine->canonical((string) $row['username']);
            }
            catch (mail2fa_user_error $e) {
                $out[] = ['user' => (string) $row['username'], 'result' => 'error',
                    'detail' => 'invalid_user: ' . $e->getMessage()];
                continue;
            }
            try {
                $r = $this->import_one($rc, $user, $g, $dry_run);
                if ($purge && $r['result'] !== 'error') {
                    if ($dry_run) {
                        $r['detail'] .= '; would purge the old prefs';
                    }
                    else {
                        unset($prefs['twofactor_gauthenticator']);
                        $q = $db->query("UPDATE $table SET `preferences` = ? WHERE `user_id` = ? AND `preferences` = ?",
                            serialize($prefs), $row['user_id'], $row['preferences']);
                        if ($db->affected_rows($q) === 1) {
                            $r['detail'] .= '; old prefs purged';
                        }
                        else {
                            $r = ['user' => $user, 'result' => 'error',
                                'detail' => $r['detail'] . '; old prefs not purged: they changed meanwhile (run again)'];
                        }
                    }
                }
                $out[] = $r;
            }
            catch (Throwable $e) {
                $code = method_exists($e, 'getErrorCode') ? $e->getErrorCode() : get_class($e);
                $out[] = ['user' => $user, 'result' => 'error', 'detail' => "$code: " . $e->getMessage()];
            }
        }

        return $out;
    }

    private function import_one(rcube $rc, string $user, array $g, bool $dry_run): array
    {
        $row = $this->engine->storage()->get($user);
        if ($row && $row['state'] !== 'pending') {
            return ['user' => $user, 'result' => 'skipped', 'detail' => $row['state'] === 'enabled'
                ? 'already has 2FA in mail2fa' : '2FA was turned off in mail2fa'];
        }
        $prefs = [
            'secret'         => self::gauth_plain($rc, $g['secret'] ?? null),
            'activate'       => !empty($g['activate']),
            'recovery_codes' => array_values(array_filter(array_map(function ($c) use ($rc) {
                return self::gauth_plain($rc, $c);
            }, (array) ($g['recovery_codes'] ?? [])), 'strlen')),
        ];
        if ($dry_run) {
            return ['user' => $user, 'result' => 'would-import', 'detail' => ''];
        }
        $r = $this->engine->service()->importLegacy($user, ['from' => 'gauthenticator', 'prefs' => $prefs]);
        $skipped = count($r['notImported'] ?? []);

        return ['user' => $user, 'result' => 'imported', 'detail' => sprintf('state %s, totp %s, %d backup codes%s',
            $r['state'], $r['totp'] ? 'yes' : 'no', $r['backupCodes'], $skipped ? ", $skipped entries not imported" : '')];
    }

    /**
     * A twofactor_gauthenticator value as plain text: with twofactor_pref_encrypt it is
     * rcube::encrypt() output (base64 of des_key ciphertext), else the plain value. A value
     * that decrypts to printable text is the encrypted form; anything else is used as is.
     */
    private static function gauth_plain(rcube $rc, $value): string
    {
        $value = (string) $value;
        if ($value === '') {
            return '';
        }
        if (preg_match('/^[A-Za-z0-9+\/]+={0,2}$/', $value) && strlen($value) > 24) {
            $plain = $rc->decrypt($value);
            if (is_string($plain) && $plain !== '' && preg_match('/^[\x20-\x7e]+$/', $plain)) {
                return $plain;
            }
        }

        return $value;
    }
}
