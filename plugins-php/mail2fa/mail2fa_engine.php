<?php

/**
 * The plugin's link to the mail2fa core and to its storage.
 *
 * Every decision (is a second factor needed, is this code right, is the user locked, how
 * long is a device trusted) is the core's: this class only supplies what the core cannot
 * have (time, entropy, keys, the stored record, the policy that applies to the user) and
 * stores what the core returns, by compare-and-set on the record's rev.
 */
class mail2fa_engine
{
    /** Compare-and-set retries before a write gives up (another node kept winning). */
    const CAS_TRIES = 8;

    /** @var rcube */
    private $rc;
    /** @var mail2fa_storage|null */
    private $storage;
    private $core;

    public function __construct(rcube $rc)
    {
        $this->rc = $rc;
    }

    /** The Mail2fa\Core of the PHP host (plugins-php/mail2fa/lib), opened once per request. */
    public function core()
    {
        if ($this->core === null) {
            if (!class_exists('Mail2fa\\Core')) {
                // Under php-fpm the classes come from opcache.preload; elsewhere load them here.
                foreach (['autoload.php', 'preload.php', 'Core.php'] as $f) {
                    if (is_file(__DIR__ . "/lib/$f")) {
                        require_once __DIR__ . "/lib/$f";
                        break;
                    }
                }
            }
            $options = array_filter((array) $this->rc->config->get('mail2fa_core_options', []), function ($v) {
                return $v !== null && $v !== '';
            });
            $this->core = \Mail2fa\Core::open($options);
        }

        return $this->core;
    }

    /** The configured storage driver (drivers/<name>.php). */
    public function storage(): mail2fa_storage
    {
        if ($this->storage === null) {
            $name = (string) $this->rc->config->get('mail2fa_storage', 'sql');
            if (!preg_match('/^[a-z0-9_]+$/', $name) || !is_file(__DIR__ . "/drivers/$name.php")) {
                throw new mail2fa_config_error("mail2fa_storage names no driver in drivers/: $name");
            }
            require_once __DIR__ . "/drivers/$name.php";
            $class = "mail2fa_{$name}_driver";
            $this->storage = new $class($this->rc);
        }

        return $this->storage;
    }

    /**
     * The site keyring from mail2fa_keys: [['id' => ..., 'key' => base64 of 32 bytes], ...],
     * current key first, older keys after it for rotation.
     */
    public function keys(): array
    {
        $keys = $this->rc->config->get('mail2fa_keys');
        if (empty($keys) || !is_array($keys)) {
            throw new mail2fa_config_error('mail2fa_keys is not configured: two-factor authentication cannot be enabled'
                . ' (set it in mail2fa.inc.php: [["id" => "k1", "key" => base64 of 32 random bytes]])');
        }
        $out = [];
        foreach ($keys as $i => $k) {
            if (!is_array($k) || !isset($k['id'], $k['key']) || !is_string($k['id']) || !is_string($k['key'])) {
                throw new mail2fa_config_error("mail2fa_keys[$i] must be ['id' => string, 'key' => base64 of 32 bytes]");
            }
            $raw = base64_decode($k['key'], true);
            if ($raw === false || strlen($raw) !== 32) {
                throw new mail2fa_config_error("mail2fa_keys[$i] ({$k['id']}): the key must be base64 of exactly 32 bytes");
            }
            $out[] = ['id' => $k['id'], 'key' => $k['key']];
        }

        return $out;
    }

    /** True when a site key is configured, i.e. 2FA may be turned on. */
    public function has_keys(): bool
    {
        try {
            $this->keys();
            return true;
        }
        catch (mail2fa_config_error $e) {
            return false;
        }
    }

    /**
     * The policy object for a user: mail2fa_policy, then the first matching entry of
     * mail2fa_policy_rules merged over it (see config.inc.php.dist). The core evaluates it.
     */
    public function policy_for(string $user): array
    {
        $policy = (array) $this->rc->config->get('mail2fa_policy', []);
        foreach ((array) $this->rc->config->get('mail2fa_policy_rules', []) as $rule) {
            if (!empty($rule['match']) && self::user_matches($user, $rule['match'])) {
                $policy = array_merge($policy, (array) ($rule['policy'] ?? []));
                break;
            }
        }

        return $policy;
    }

    /**
     * Whether a login name matches a rule: a list of names/patterns; each is a regular
     * expression when it starts with '/', else a shell pattern ('*@example.com', '@example.com'
     * for a whole domain, or an exact name), compared case-insensitively.
     */
    public static function user_matches(string $user, $match): bool
    {
        foreach ((array) $match as $m) {
            $m = (string) $m;
            if ($m === '') {
                continue;
            }
            if ($m[0] === '/') {
                if (@preg_match($m, $user) === 1) {
                    return true;
                }
                continue;
            }
            if ($m[0] === '@') {
                $m = '*' . $m;
            }
            if (fnmatch(strtolower($m), strtolower($user), FNM_NOESCAPE)) {
                return true;
            }
        }

        return false;
    }

    /** Fresh entropy for the core. */
    public static function entropy(): string
    {
        return base64_encode(random_bytes(32));
    }

    /**
     * One core request. Adds the common fields an op needs (keys, user, time, policy).
     * Throws \Mail2fa\Error with the core's error code.
     */
    public function call(string $op, array $fields): array
    {
        return $this->core()->call(['op' => $op] + $fields);
    }

    /** The stored row of a user, or null. */
    public function load(string $user): ?array
    {
        return $this->storage()->load($user);
    }

    /**
     * Runs a core op against the user's current record and stores the record it returns,
     * by compare-and-set; on a lost race it reads the row again and re-runs the op.
     * $build(array|null $record) returns the request (without `record`; null record means
     * the user has none yet). For a user without a row, $keep_new($response) decides
     * whether the new record is worth a row (default: always). Returns the core's response.
     */
    public function update(string $user, callable $build, ?callable $keep_new = null): array
    {
        for ($try = 0; $try < self::CAS_TRIES; $try++) {
            $row = $this->load($user);
            $request = $build($row ? $row['record'] : null);
            if ($row) {
                $request['record'] = $row['record'];
            }
            $op = $request['op'];
            unset($request['op']);
            $response = $this->call($op, $request);
            if (!isset($response['record']) || !is_array($response['record'])) {
                return $response;
            }
            $new_rev = (int) ($response['record']['rev'] ?? 0);
            if ($row && $new_rev === $row['rev']) {
                return $response; // the core changed nothing
            }
            if (!$row && $keep_new && !$keep_new($response)) {
                return $response;
            }
            $state = (string) ($response['state'] ?? $this->state_of($user, $response['record']));
            if ($this->storage()->save($user, $response['record'], $new_rev, $state,
                self::app_passwords_of($response['record']), $row ? $row['rev'] : null)
            ) {
                return $response;
            }
            usleep(random_int(1000, 20000)); // another node wrote first: read again
        }

        throw new RuntimeException('mail2fa: the record kept changing under this write; try again');
    }

    /** The state the core reports for a record (for responses that do not carry one). */
    private function state_of(string $user, array $record): string
    {
        $status = $this->call('record.status', ['user' => $user, 'keys' => $this->keys(), 'record' => $record]);

        return (string) $status['state'];
    }

    /**
     * The app passwords of a record for the Dovecot projection: id, PHC string, label, time,
     * and the entry's tag (null when it has none), which lets Dovecot skip non-matching hashes.
     */
    public static function app_passwords_of(array $record): array
    {
        $out = [];
        foreach ((array) ($record['app_passwords'] ?? []) as $app) {
            if (!isset($app['id'], $app['phc'])) {
                continue;
            }
            $out[] = [
                'id'         => (string) $app['id'],
                'phc'        => (string) $app['phc'],
                'label'      => (string) ($app['label'] ?? ''),
                'created_at' => (int) ($app['created_at'] ?? 0),
                'tag'        => isset($app['tag']) ? (string) $app['tag'] : null,
            ];
        }

        return $out;
    }

    /**
     * The client's IP address: REMOTE_ADDR, or the address a trusted proxy
     * (mail2fa_trusted_proxies, list of IPs/CIDRs) reports in X-Forwarded-For (the
     * right-most address not itself a trusted proxy) or Client-IP. Headers from any
     * other peer are ignored.
     */
    public function client_ip(): string
    {
        $peer = (string) ($_SERVER['REMOTE_ADDR'] ?? '');
        $proxies = (array) $this->rc->config->get('mail2fa_trusted_proxies', []);
        if ($peer === '' || !self::ip_in($peer, $proxies)) {
            return $peer;
        }
        if (!empty($_SERVER['HTTP_X_FORWARDED_FOR'])) {
            $hops = array_reverse(array_map('trim', explode(',', $_SERVER['HTTP_X_FORWARDED_FOR'])));
            foreach ($hops as $hop) {
                if (filter_var($hop, FILTER_VALIDATE_IP) === false) {
                    return $peer; // a malformed chain: trust only the peer
                }
                if (!self::ip_in($hop, $proxies)) {
                    return $hop;
                }
            }
        }
        if (!empty($_SERVER['HTTP_CLIENT_IP']) && filter_var(trim($_SERVER['HTTP_CLIENT_IP']), FILTER_VALIDATE_IP) !== false) {
            return trim($_SERVER['HTTP_CLIENT_IP']);
        }

        return $peer;
    }

    /** Whether an IP is in a list of IPs and CIDR ranges (IPv4 and IPv6). */
    public static function ip_in(string $ip, array $list): bool
    {
        $bin = @inet_pton($ip);
        if ($bin === false) {
            return false;
        }
        foreach ($list as $entry) {
            $entry = trim((string) $entry);
            $bits = null;
            if (strpos($entry, '/') !== false) {
                [$entry, $bits] = explode('/', $entry, 2);
                $bits = (int) $bits;
            }
            $net = @inet_pton($entry);
            if ($net === false || strlen($net) !== strlen($bin)) {
                continue;
            }
            $bits = $bits === null ? strlen($net) * 8 : max(0, min($bits, strlen($net) * 8));
            $bytes = intdiv($bits, 8);
            $rest = $bits % 8;
            if (substr($bin, 0, $bytes) !== substr($net, 0, $bytes)) {
                continue;
            }
            if ($rest) {
                $mask = chr((0xff << (8 - $rest)) & 0xff);
                if ((ord($bin[$bytes]) & ord($mask)) !== (ord($net[$bytes]) & ord($mask))) {
                    continue;
                }
            }

            return true;
        }

        return false;
    }
}

/** A configuration problem an admin must fix; its message says what to set. */
class mail2fa_config_error extends RuntimeException
{
}
