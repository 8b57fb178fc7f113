<?php

/**
 * The plugin's link to the mail2fa core and to its storage: it builds, once per request, the
 * Mail2fa\Service (lib/Service.php, the PHP twin of the npm Mail2fa class) that every flow of
 * the login gate, the settings and the admin tool calls.
 *
 * Every decision (is a second factor needed, is this code right, is the user locked, how
 * long is a device trusted) is the core's, and the compare-and-set loop is the Service's:
 * this class only supplies what they cannot have (the site keys, the storage driver, the
 * issuer, the canonical-name rule, the policy that applies to each user) and the web side's
 * helpers (client IP, network allow-list, logs, refused configurations).
 */
class mail2fa_engine
{
    /** @var rcube */
    private $rc;
    /** @var mail2fa_storage|null */
    private $storage;
    private $core;
    /** @var \Mail2fa\Service|null with the site keys */
    private $service;
    /** @var \Mail2fa\Service|null for a login when no site key is configured */
    private $keyless_service;
    /** @var string|null the signed-in user's canonical name (once per request) */
    private $session_user;

    public function __construct(rcube $rc)
    {
        $this->rc = $rc;
    }

    /** The Mail2fa\Core of the PHP host (plugins-php/mail2fa/lib), opened once per request. */
    public function core()
    {
        if ($this->core === null) {
            // Under php-fpm the classes come from opcache.preload; autoload.php loads what is missing.
            require_once __DIR__ . '/lib/autoload.php';
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
            $this->storage = new $class($this->rc, function (string $user, array $record): array {
                return $this->projection($user, $record);
            });
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
     * The request's Mail2fa\Service over the site keys (throws mail2fa_config_error without
     * one: nothing may be enrolled under no key). The policy is a callable of the canonical
     * user name (policy_for), so one Service serves every user of a request (the admin tool's
     * loops too).
     */
    public function service(): \Mail2fa\Service
    {
        if ($this->service === null) {
            $this->service = $this->build_service($this->keys());
        }

        return $this->service;
    }

    /**
     * The Service for a login decision, and for what removes access without opening a sealed
     * value (admin reset, revocations, a password change). Without a site key the core still
     * decides, on a throw-away key (docs/hosts.md §3): users without a record log in, a
     * stored record cannot open and so holds its user at the second factor (fail closed);
     * the admin can still reset a user whose key is lost.
     */
    public function login_service(): \Mail2fa\Service
    {
        if ($this->has_keys()) {
            return $this->service();
        }
        if ($this->keyless_service === null) {
            $this->keyless_service = $this->build_service([['id' => 'unconfigured', 'key' => base64_encode(random_bytes(32))]]);
        }

        return $this->keyless_service;
    }

    private function build_service(array $keys): \Mail2fa\Service
    {
        $options = [
            'keys'    => $keys,
            'storage' => $this->storage(),
            'core'    => $this->core(),
            'issuer'  => (string) $this->rc->config->get('mail2fa_issuer', $this->rc->config->get('product_name')),
            'policy'  => function (string $user): array {
                return $this->policy_for($user);
            },
        ];
        $rules = $this->username_rules();
        if ($rules) {
            $options['username'] = $rules;
        }

        return new \Mail2fa\Service($options);
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

    /**
     * One core request for what is no Service method (user.canonical before a Service is
     * needed, webmail.proof). Throws \Mail2fa\Error with the core's error code.
     */
    public function call(string $op, array $fields): array
    {
        // An empty PHP array encodes as []; the core expects an object for these fields.
        foreach (['policy', 'username'] as $object) {
            if (isset($fields[$object]) && $fields[$object] === []) {
                $fields[$object] = new stdClass();
            }
        }

        return $this->core()->call(['op' => $op] + $fields);
    }

    /**
     * The rules of mail2fa_username for the core's user.canonical: ['case' => 'lower'|'keep',
     * 'domain' => 'keep'|'strip', 'default_domain' => null|'example.com'] (the core checks them).
     */
    public function username_rules(): array
    {
        $rules = $this->rc->config->get('mail2fa_username', []);
        if (!is_array($rules)) {
            throw new mail2fa_config_error('mail2fa_username must be an array like'
                . " ['case' => 'lower', 'domain' => 'keep', 'default_domain' => null]");
        }

        return array_filter($rules, function ($v) { return $v !== null; });
    }

    /**
     * The record key of a login name: the core's user.canonical under mail2fa_username. The
     * same name keys the record, every op, the Dovecot projection and the admin tool.
     *
     * @throws mail2fa_user_error the core refuses the name (invalid_user)
     * @throws mail2fa_config_error mail2fa_username is not valid
     */
    public function canonical(string $login): string
    {
        $rules = $this->username_rules();
        try {
            $r = $this->call('user.canonical', ['user' => $login] + ($rules ? ['username' => $rules] : []));
        }
        catch (\Mail2fa\Error $e) {
            if ($e->getErrorCode() === 'invalid_user') {
                throw new mail2fa_user_error($e->getMessage());
            }
            if (in_array($e->getErrorCode(), ['invalid_field', 'missing_field'], true)) {
                throw new mail2fa_config_error('mail2fa_username is not valid: ' . $e->getMessage());
            }
            throw $e;
        }

        return (string) $r['user'];
    }

    /**
     * A configuration on which one canonical user name cannot be guaranteed, as a message for
     * the admin naming the setting; null when the configuration is safe. Logins are refused
     * while it returns a message (README: "Configurations mail2fa refuses").
     */
    public function refused_configuration(): ?string
    {
        $hosts = $this->rc->config->get('imap_host');
        $names = [];
        foreach ((array) $hosts as $key => $value) {
            $names[] = is_numeric($key) ? (string) $value : (string) $key;
        }
        $names = array_values(array_unique(array_filter($names, 'strlen')));
        if (count($names) > 1) {
            return 'imap_host lists ' . count($names) . ' IMAP servers (' . implode(', ', $names) . '): records are keyed by'
                . ' user name only, so equal names on different servers would share one record; configure one server'
                . ' per Roundcube installation (and per mail2fa database)';
        }
        foreach ($names as $name) {
            if (preg_match('/%[a-z]/', $name)) {
                return "imap_host ($name) picks the IMAP server per request (%-variables): records are keyed by user"
                    . ' name only, so equal names on different servers would share one record; name one fixed server';
            }
        }
        $case = (string) ($this->username_rules()['case'] ?? 'lower');
        $login_lc = $this->rc->config->get('login_lc', 2);
        if ($case !== 'lower' && !($login_lc == 2 || $login_lc === true)) {
            return "mail2fa_username 'case' => '$case' with Roundcube's login_lc = " . var_export($login_lc, true)
                . ': Roundcube passes the name to IMAP in the case typed and Dovecot folds it by default (%Lu),'
                . " so 'ALICE' would open alice's mailbox under another record; set login_lc = 2 or 'case' => 'lower'";
        }

        return null;
    }

    /**
     * The record key of a login name on a configuration that guarantees one canonical name:
     * throws mail2fa_config_error on a refused configuration, else canonical().
     */
    public function user(string $login): string
    {
        $problem = $this->refused_configuration();
        if ($problem !== null) {
            throw new mail2fa_config_error($problem);
        }

        return $this->canonical($login);
    }

    /**
     * The signed-in user's record key: the canonical name of the IMAP login. Throws on a
     * refused configuration (mail2fa_config_error) or a name the core refuses.
     */
    public function session_user(): string
    {
        if ($this->session_user === null) {
            $this->session_user = $this->user((string) $_SESSION['username']);
        }

        return $this->session_user;
    }

    /**
     * What Dovecot may see of a record: the core's record.projection (state, and the app
     * passwords it may accept: none unless 2FA is on and the user's policy allows them).
     * The storage driver calls it for every record it writes (compareAndSet) and in
     * sync_projection, and writes the result in the record's transaction.
     */
    public function projection(string $user, array $record): array
    {
        $p = $this->call('record.projection', ['record' => $record, 'policy' => $this->policy_for($user)]);

        return ['state' => (string) $p['state'], 'app_passwords' => array_map(function ($app) {
            return [
                'id'         => (string) $app['id'],
                'phc'        => (string) $app['phc'],
                'label'      => (string) ($app['label'] ?? ''),
                'created_at' => (int) ($app['created_at'] ?? 0),
                'tag'        => isset($app['tag']) ? (string) $app['tag'] : null,
            ];
        }, (array) $p['app_passwords'])];
    }

    /**
     * The client's IP address: REMOTE_ADDR, or, when the peer is one of
     * mail2fa_trusted_proxies (IPs/CIDRs), the address it reports in the one header the
     * admin names in mail2fa_client_ip_header (default X-Forwarded-For): the right-most
     * address in it that is not itself a trusted proxy. No other header is ever read, and
     * from any other peer the header is ignored.
     */
    public function client_ip(): string
    {
        $peer = (string) ($_SERVER['REMOTE_ADDR'] ?? '');
        $proxies = (array) $this->rc->config->get('mail2fa_trusted_proxies', []);
        $header = (string) $this->rc->config->get('mail2fa_client_ip_header', 'X-Forwarded-For');
        if ($peer === '' || $header === '' || !self::ip_in($peer, $proxies)) {
            return $peer;
        }
        $value = $_SERVER['HTTP_' . strtoupper(str_replace('-', '_', $header))] ?? '';
        if (!is_string($value) || trim($value) === '') {
            return $peer;
        }
        foreach (array_reverse(array_map('trim', explode(',', $value))) as $hop) {
            if (filter_var($hop, FILTER_VALIDATE_IP) === false) {
                return $peer; // a malformed chain: trust only the peer
            }
            if (!self::ip_in($hop, $proxies)) {
                return $hop;
            }
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

    /** mail2fa_allowed_networks: when set, Roundcube answers only clients from these networks. */
    public function network_allowed(): bool
    {
        $nets = (array) $this->rc->config->get('mail2fa_allowed_networks', []);
        if (empty($nets)) {
            return true;
        }

        return self::ip_in($this->client_ip(), $nets);
    }

    /**
     * The optional fail2ban line (mail2fa_fail_log): "mail2fa: <result> for <user> from <ip>".
     * Never a code, token or password.
     */
    public function fail_log(string $user, string $result, string $method, ?string $reason = null, ?string $where = null)
    {
        if (!$this->rc->config->get('mail2fa_fail_log')) {
            return;
        }
        $line = sprintf('%s for %s from %s (method %s%s%s)', $result === 'ok' ? 'second factor accepted' : "second factor $result",
            self::log_safe($user), $this->client_ip(), $method, $reason ? ", $reason" : '', $where ? ", $where" : '');
        rcube::write_log('mail2fa', $line);
    }

    /** An error line in Roundcube's error log, prefixed "mail2fa: ". */
    public function log_error(string $message)
    {
        rcube::raise_error(['code' => 500, 'type' => 'php', 'message' => 'mail2fa: ' . $message], true, false);
    }

    /** An exception as a log line: the core's error code and message hold no secrets. */
    public static function describe(Throwable $e): string
    {
        $code = method_exists($e, 'getErrorCode') ? $e->getErrorCode() : (property_exists($e, 'errorCode') ? $e->errorCode : get_class($e));

        return "$code: " . self::log_safe($e->getMessage());
    }

    /** A user-supplied string fit for a log line: printable ASCII, at most 300 characters. */
    public static function log_safe(string $s): string
    {
        return preg_replace('/[^\x20-\x7e]/', '?', substr($s, 0, 300));
    }
}

/** A configuration problem an admin must fix; its message says what to set. */
class mail2fa_config_error extends RuntimeException
{
}

/** A login name the core refuses as a record key (user.canonical: invalid_user). */
class mail2fa_user_error extends RuntimeException
{
}
