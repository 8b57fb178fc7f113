<?php

declare(strict_types=1);

namespace Mail2fa;

/**
 * Two-factor authentication for one site, over a pluggable Storage: the PHP twin of the npm
 * package's `Mail2fa` class (plugins-js/lib/server.js). Same method names, same options, same
 * results (arrays with the JS objects' keys, in the same order; `null` where JS leaves a
 * value undefined), the same compare-and-set retry rule and the same calls to the core with
 * the same time and entropy — so both hosts store byte-identical records
 * (tests/scenarios/ proves it). Every decision is the core's; this class supplies time,
 * entropy, keys, policy and the stored record, and stores what the core returns.
 *
 *     $mfa = new \Mail2fa\Service(['keys' => $keys, 'storage' => $storage]);
 *     $begin = $mfa->beginLogin($login);           // after the password check
 *     if ($begin['required']) { ... $mfa->verifyLogin($login, $code) ... }
 */
final class Service
{
    // Public methods declare no scalar parameter types on purpose: a TypeError would differ
    // from JS's answer. Strings (user, code, password, label, id, uri) are checked by
    // stringArg and options by optionsArg, with JS's codes and words.
    /** The compare-and-set retry rule of docs/hosts.md §2 (the JS class uses the same numbers). */
    private const MAX_ATTEMPTS = 8;
    private const BACKOFF_US = [1000, 20000];

    /**
     * The top-level `rev` of a record's JSON text: its members are skipped value by value
     * (strings, balanced objects and arrays, scalars), so a "rev" inside a nested value or a
     * string never matches. Only used on text the core has parsed or written (valid JSON).
     */
    private const TOP_REV = '/\A\s*+\{(?:\s*+"(?:[^"\\\\]++|\\\\.)*+"\s*+:\s*+(?&v)\s*+,)*?\s*+"rev"\s*+:\s*+(\d++)\s*+[,}]'
        . '(?(DEFINE)(?<v>"(?:[^"\\\\]++|\\\\.)*+"|(?<b>[\{\[](?:[^{}\[\]"]++|"(?:[^"\\\\]++|\\\\.)*+"|(?&b))*+[\}\]])'
        . '|[^,{}\[\]"\s]++))/s';

    /** Login names whose canonical form (user.canonical) a Service keeps, at most (as JS's Mail2fa). */
    private const CANONICAL_CACHE = 1024;

    private const OPTIONS = ['keys', 'storage', 'issuer', 'window', 'policy', 'username', 'now', 'random', 'core'];

    /** The error for a policy that is no object (or a policy callable that returned none); JS's Mail2fa says the same. */
    private const POLICY_NOT_OBJECT = 'policy must be an object, or a function of the canonical user name that returns one';

    private Core $core;
    private Storage $storage;
    /** @var list<array{id: string, key: string}> */
    private array $keys;
    private mixed $issuer;
    private mixed $window;
    /** @var array|(callable(string): array)|null the site policy, or a function of the canonical user name */
    private $policy;
    private ?array $username;
    /** @var array<string, string> login name => canonical name, for this instance's rule */
    private array $canonical = [];
    /** @var callable(): (int|float) Unix seconds */
    private $now;
    /** @var callable(int): string random bytes */
    private $random;

    /**
     * Options (as in JS):
     * - `keys` (required): the site keyring `[['id' => …, 'key' => …], …]`, current key first;
     * - `storage` (required): a Storage (MemoryStorage, the plugin's SQL driver, yours); when it
     *   is also a TextStorage (both of those are), the login check (beginLogin, verifyLogin)
     *   passes the stored record's JSON text to the core as is and stores the core's text as is;
     * - `issuer`: shown in authenticator apps; `window`: TOTP steps accepted either side of now;
     * - `policy`: the site policy (docs/ops.md) as an array, passed to the core on every call
     *   that takes one; or a callable `fn (string $canonicalUser): array` (a Closure, e.g.
     *   `$this->policyFor(...)`, or an invokable object) returning the policy for that user
     *   (called once per method call that needs it, with the canonical name; anything but an
     *   array with string keys, or [], is refused: `invalid_field`);
     * - `username`: the user.canonical rule (`case`, `domain`, `default_domain`);
     * - `now`: a callable returning Unix **seconds** (PHP's unit; JS's `now` returns
     *   milliseconds), default `time()`;
     * - `random`: a callable `fn(int $length): string` returning random bytes, default
     *   `random_bytes` (tests inject a fixed stream);
     * - `core`: an open Core (PHP only: JS has one module per process), default Core::open().
     */
    public function __construct(array $options)
    {
        $unknown = array_diff(array_keys($options), self::OPTIONS);
        if ($unknown) {
            // The same words as JS's Mail2fa (which has no `core` option).
            throw new Error('invalid_field', 'unknown option(s): ' . implode(', ', $unknown));
        }
        $keys = $options['keys'] ?? null;
        if (!is_array($keys) || $keys === [] || !array_is_list($keys)) {
            throw new Error('missing_field', "Service needs keys: [['id' => …, 'key' => …]] (current key first)");
        }
        foreach ($keys as $key) {
            if (!self::isJsonObject($key)) {
                throw new Error('invalid_field', 'keys must be a list of {id, key} (current key first)');
            }
        }
        if (!(($options['storage'] ?? null) instanceof Storage)) {
            throw new Error('missing_field', 'Service needs a storage implementing Mail2fa\Storage (get, compareAndSet)');
        }
        // Only id and key go to the core, like JS's keys.map(({id, key}) => ({id, key})).
        $this->keys = array_map(static fn ($k) => ['id' => $k['id'] ?? null, 'key' => $k['key'] ?? null], $keys);
        $this->storage = $options['storage'];
        // issuer and window go to the core as given (it checks them, as for JS); null is not given.
        $this->issuer = $options['issuer'] ?? null;
        $this->window = $options['window'] ?? null;
        $policy = $options['policy'] ?? null;
        if ($policy !== null && !($policy instanceof \Closure || (is_object($policy) && is_callable($policy)))
            && !self::isJsonObject($policy)) {
            throw new Error('invalid_field', self::POLICY_NOT_OBJECT);
        }
        $this->policy = $policy;
        $username = $options['username'] ?? null;
        if ($username !== null && !self::isJsonObject($username)) {
            throw new Error('invalid_field', 'username must be an object: {case, domain, default_domain}');
        }
        $this->username = $username;
        $this->now = $options['now'] ?? static fn (): int => time();
        $this->random = $options['random'] ?? static fn (int $n): string => random_bytes($n);
        $this->core = $options['core'] ?? Core::open();
    }

    // ---- the core, time, entropy ------------------------------------------------------------

    /**
     * A typed helper's response without `ok` (as JS's typed functions return it), for the
     * methods that hand the core's response on whole. Every core call goes through Core's
     * typed helpers (one per op, checked against the Rust types by scripts/check-contract.mjs),
     * the login check over a TextStorage through Core::callOnStoredRecord.
     */
    private static function body(array $response): array
    {
        unset($response['ok']);

        return $response;
    }

    private function time(): int
    {
        return (int) floor(($this->now)());
    }

    private function entropy(): string
    {
        $bytes = ($this->random)(32);
        if (!is_string($bytes) || strlen($bytes) !== 32) {
            throw new Error('no_entropy', 'mail2fa: the random source did not return 32 bytes');
        }

        return base64_encode($bytes);
    }

    /** An empty PHP array encodes as [], but these fields are JSON objects. */
    private static function object(array $value): array|\stdClass
    {
        return $value === [] ? new \stdClass() : $value;
    }

    private function context(string $user): array
    {
        return ['user' => $user, 'keys' => $this->keys];
    }

    /** The proof value of proofField()'s result, for the helpers that take it as a parameter (null: none). */
    private static function proofOf(array $proofField): ?array
    {
        return $proofField['proof'] ?? null;
    }

    private function windowField(): array
    {
        return $this->window === null ? [] : ['window' => $this->window];
    }

    /**
     * A string argument (a user name, a code, a password); anything else is `invalid_field`
     * "<name> must be a string" — never coerced (PHP would turn 123456 into "123456", JS's
     * String() an object into "[object Object]"). JS's Mail2fa refuses the same, in the same words.
     */
    private static function stringArg(mixed $value, string $name): string
    {
        if (!is_string($value)) {
            throw new Error('invalid_field', "$name must be a string");
        }

        return $value;
    }

    /** An optional string option (userAgent): null is not given; anything else but a string is invalid_field. */
    private static function optionalString(mixed $value, string $name): ?string
    {
        return $value === null ? null : self::stringArg($value, $name);
    }

    /**
     * A method's options argument: null is none; otherwise an array with string keys, or []
     * (else `invalid_field`, as JS refuses a non-object). An option set to null is not given.
     */
    private static function optionsArg(mixed $value): array
    {
        if ($value === null) {
            return [];
        }
        if (!self::isJsonObject($value)) {
            throw new Error('invalid_field', 'options must be an object');
        }

        return $value;
    }

    /** Whether $value is a JSON object as PHP decodes one: an array with string keys, or [] ({}). */
    private static function isJsonObject(mixed $value): bool
    {
        return is_array($value) && ($value === [] || !array_is_list($value));
    }

    /**
     * The request's `policy` field for `$user` (canonical): the one site policy, or what the
     * policy callable returns for this user (it must be a policy object: else `invalid_field`).
     */
    private function policyField(string $user): array
    {
        if ($this->policy === null) {
            return [];
        }
        $policy = $this->policy;
        if (!is_array($policy)) {
            $policy = ($policy)($user);
            if (!self::isJsonObject($policy)) {
                throw new Error('invalid_field', self::POLICY_NOT_OBJECT);
            }
        }

        return ['policy' => self::object($policy)];
    }

    /** A proof (a current factor) for a security change: `['method' => 'totp'|'backup_code', 'code' => …]`. */
    private function proofField(mixed $proof): array
    {
        if ($proof === null) {
            return [];
        }
        if (!is_array($proof) || ($proof !== [] && array_is_list($proof))) {
            // The same words as JS's Mail2fa.
            throw new Error('invalid_field', "proof must be {method: 'totp'|'backup_code', code}");
        }

        $code = $proof['code'] ?? '';
        if (!is_string($code)) {
            // The same words as JS's Mail2fa.
            throw new Error('invalid_field', "proof must be {method: 'totp'|'backup_code', code}");
        }

        return ['proof' => [
            'method' => array_key_exists('method', $proof) ? $proof['method'] : 'totp',
            'code' => $code,
        ]];
    }

    /** The core's `fresh` outcome with JS's key names (null when the op needed no proof). */
    private static function fresh(?array $fresh): ?array
    {
        if (!$fresh) {
            return null;
        }

        return [
            'accepted' => ($fresh['accepted'] ?? null) === true,
            'method' => $fresh['method'] ?? null,
            'reason' => $fresh['reason'] ?? null,
            'retryAfter' => $fresh['retry_after'] ?? null,
        ];
    }

    /**
     * Runs `$step(record, stored)` (a core call) and stores the record it returns by
     * compare-and-set; when another request won the race, waits a random 1–20 ms, reads again
     * and lets the core decide again on the newer record (never re-stores the old answer).
     * A user without a row gets the core's empty record (record.new), written only once the
     * core changed it (rev > 0), so users without 2FA cost no writes. `$user` is canonical.
     */
    private function update(string $user, callable $step): array
    {
        for ($attempt = 0; $attempt < self::MAX_ATTEMPTS; $attempt++) {
            if ($attempt > 0) {
                usleep(random_int(self::BACKOFF_US[0], self::BACKOFF_US[1]));
            }
            $row = $this->storage->get($user);
            $current = $row !== null ? $row['record'] : $this->core->recordNew($this->time());
            $result = $step($current, $row !== null);
            $next = $result['record'] ?? null;
            $changed = is_array($next)
                && ($row !== null ? ($next['rev'] ?? null) !== ($row['record']['rev'] ?? null) : ($next['rev'] ?? 0) > 0);
            if (!$changed) {
                return $result;
            }
            if ($this->storage->compareAndSet($user, $row !== null ? $row['version'] : null, $next)) {
                return $result;
            }
        }

        throw new Error('conflict', 'mail2fa: the record kept changing during the update; try again');
    }

    /**
     * update() over a TextStorage (the record as the JSON text it keeps): `$step(text)` gets
     * the stored text (null: no row) to pass to the core as is and returns Core::callOnStoredRecord's
     * `['response' => …, 'record_json' => …]`, so a login check neither decodes the stored
     * record nor encodes the new one. The stored text must be one JSON object (else
     * `invalid_record`: nothing of it reaches the core). Same compare-and-set rule, and the
     * same writes, as update() and JS's #updateText: a write when the record's `rev` moved
     * (docs/hosts.md §2.3); without a row, when the core moved it past rev 0. The core writes a
     * record it left alone exactly as it read it, so equal text is no change (no look at
     * `rev`); other text is a change unless both top-level revs are found and equal — a stored
     * text that is valid but not the core's own bytes (escaped differently, written by another
     * tool) is then not rewritten under the same rev, which a storage may refuse (the SQL
     * driver does: a version never repeats).
     */
    private function updateText(string $user, callable $step): array
    {
        for ($attempt = 0; $attempt < self::MAX_ATTEMPTS; $attempt++) {
            if ($attempt > 0) {
                usleep(random_int(self::BACKOFF_US[0], self::BACKOFF_US[1]));
            }
            $row = $this->storage->getText($user);
            $text = $row !== null ? $row['text'] : null;
            if ($row !== null && !is_string($text)) {
                throw new Error('invalid_record', 'the stored record is not one JSON object');
            }
            ['response' => $response, 'record_json' => $next] = $step($text);
            $changed = $next !== null && ($row !== null ? $next !== $text && !self::sameRev($next, $text)
                : self::revOfText($next) > 0);
            if (!$changed) {
                return $response;
            }
            if ($this->storage->compareAndSetText($user, $row !== null ? $row['version'] : null, $next)) {
                return $response;
            }
        }

        throw new Error('conflict', 'mail2fa: the record kept changing during the update; try again');
    }

    /** Whether both texts have a top-level `rev` and it is the same (the record did not change). */
    private static function sameRev(string $a, string $b): bool
    {
        return preg_match(self::TOP_REV, $a, $ma) === 1 && preg_match(self::TOP_REV, $b, $mb) === 1 && $ma[1] === $mb[1];
    }

    /**
     * The `rev` of a record the core wrote for a user without a row (the core's new record,
     * or what it made of it): decoded, as it is small and only read when there was no row.
     */
    private static function revOfText(string $text): int
    {
        $rev = json_decode($text, true)['rev'] ?? 0;

        return is_int($rev) ? $rev : 0;
    }

    /** The stored record, or a new empty one from the core. */
    private function current(string $user): array
    {
        $row = $this->storage->get($user);

        return $row !== null ? $row['record'] : $this->core->recordNew($this->time());
    }

    // ---- users ------------------------------------------------------------------------------

    /**
     * The canonical user name (core op user.canonical): 'ALICE' and 'alice' are one record.
     * Every public method keys its storage row and every core call on this name only.
     */
    public function canonicalUser(mixed $user): string
    {
        $user = self::stringArg($user, 'user');
        // The core's answer depends on the name and this instance's rule only: kept for the
        // names seen last (refusals are not kept: they throw every time), as in JS.
        if (isset($this->canonical[$user])) {
            return $this->canonical[$user];
        }
        $canonical = $this->core->userCanonical($user,
            $this->username === null ? [] : ['username' => self::object($this->username)]);
        if (count($this->canonical) >= self::CANONICAL_CACHE) {
            $this->canonical = [];
        }

        return $this->canonical[$user] = $canonical;
    }

    /**
     * The user's 2FA state (record.status). A record that does not open (wrong keys, copied
     * from another user) throws; never "off".
     */
    public function status(mixed $user): array
    {
        $user = $this->canonicalUser($user);

        // With the time, the core also says how long a lock still lasts (`retry_after`).
        return self::body($this->core->recordStatus($user, $this->keys, $this->current($user), ['time' => $this->time()]));
    }

    // ---- login ------------------------------------------------------------------------------

    private static function loginResult(array $d): array
    {
        return [
            'ok' => ($d['verdict'] ?? null) === 'ok',
            'verdict' => $d['verdict'] ?? null,
            'reason' => $d['reason'] ?? null,
            'retryAfter' => $d['retry_after'] ?? null,
            'method' => $d['method'] ?? null,
            'methods' => $d['methods'] ?? null,
            'state' => $d['state'] ?? null,
            'enrollBy' => $d['enroll_by'] ?? null,
            'backupCodesRemaining' => $d['backup_codes_remaining'] ?? null,
            'deviceId' => $d['device_id'] ?? null,
            'deviceToken' => $d['device_token'] ?? null,
            'deviceExpiresAt' => $d['device_expires_at'] ?? null,
            'forgetDevice' => $d['forget_device'] ?? null,
            'trustDays' => $d['trust_days'] ?? 0,
            'pendingExpiresAt' => $d['pending_expires_at'] ?? null,
        ];
    }

    /**
     * A login held because no decision could be made (docs/hosts.md §5): every key of a login
     * result, `ok` false, `verdict` 'factor_required', `reason` 'error', `state` 'enabled' —
     * never "2FA off" — and `error` (an Error's code, else 'host_error') with its `message`,
     * for the admin log. JS's Mail2fa returns the same keys and values.
     */
    private static function held(\Throwable $e): array
    {
        return ['ok' => false, 'verdict' => 'factor_required', 'reason' => 'error', 'retryAfter' => null, 'method' => null,
            'methods' => null, 'state' => 'enabled', 'enrollBy' => null, 'backupCodesRemaining' => null, 'deviceId' => null,
            'deviceToken' => null, 'deviceExpiresAt' => null, 'forgetDevice' => false, 'trustDays' => 0,
            'pendingExpiresAt' => null, 'error' => $e instanceof Error ? $e->errorCode : 'host_error',
            'message' => $e->getMessage()];
    }

    /** One login.decide step under compare-and-set (the limiter's count is in the record). */
    private function decide(string $user, ?array $factor, bool $trustDevice = false, ?string $userAgent = null): array
    {
        $policy = $this->policyField($user);
        // Entropy for the device token is drawn once per request, before the retries (as in JS).
        $trust = $trustDevice
            ? ['trust_device' => true, 'entropy' => $this->entropy()] + ($userAgent === null ? [] : ['user_agent' => $userAgent])
            : [];
        if ($this->storage instanceof TextStorage) {
            // The stored record's text goes into the request as is, and the core's new record
            // comes back as text to store (docs/hosts.md §2); without a row the core decides
            // on a new empty record (what record.new gives at the same time).
            $fields = $this->context($user) + ['factor' => $factor] + $this->windowField() + $policy + $trust;
            $decision = $this->updateText($user, fn (?string $text): array => $this->core->callOnStoredRecord(
                $fields + ['time' => $this->time(), 'op' => 'login.decide'], $text));
        } else {
            $decision = $this->update($user, fn (array $record): array => $this->core->loginDecide($user, $this->keys,
                $this->time(), ['record' => $record, 'factor' => $factor] + $this->windowField() + $policy + $trust));
        }

        return self::loginResult($decision);
    }

    /**
     * Call once the password is correct, with the device cookie if there is one (option
     * `deviceToken`). `required: false` lets the login through (`not_required`, or `ok` for a
     * trusted device); otherwise serve nothing of the mailbox until verifyLogin says ok — or,
     * with `enroll_required`, only the enrollment pages. `pendingExpiresAt`: end the second
     * step then; `trustDays` > 0: offer "trust this browser". ANY failure (a record that does
     * not open, a name the core refuses, a storage error, a lost race) holds the login
     * (docs/hosts.md §5): `required: true` and the held login (`ok` false, `verdict`
     * 'factor_required', `reason` 'error', `state` 'enabled', `error` naming why and its
     * `message`, for the log). It never throws.
     */
    public function beginLogin(mixed $user, mixed $options = null): array
    {
        try {
            $user = $this->canonicalUser($user);
            // The device cookie's value; none (null, '') is no factor.
            $token = self::optionsArg($options)['deviceToken'] ?? '';
            if (!is_string($token)) {
                throw new Error('invalid_field', 'deviceToken must be a string');
            }
            $result = $this->decide($user, $token !== '' ? ['type' => 'trusted_device', 'value' => $token] : null);
        } catch (\Throwable $e) {
            // Fail closed: there is no error for which a 2FA user gets in.
            return ['required' => true] + self::held($e);
        }

        return ['required' => !($result['verdict'] === 'ok' || $result['verdict'] === 'not_required')] + $result;
    }

    /**
     * Decides a submitted second factor (login.decide): a TOTP code, or with option `method`
     * 'backup_code' a backup code. `ok: true` lets the login through; `wrong` asks again,
     * `locked` means wait `retryAfter` seconds; `reason` is for logs only. With option
     * `trustDevice` (and `userAgent`) an accepted factor also returns a `deviceToken` for an
     * HttpOnly, Secure, SameSite cookie (never log it). Like beginLogin it never throws: a
     * record that does not open (wrong keys, another user's record), a refused name, a bad
     * argument, a storage error or a lost race returns the held login (`ok` false, `verdict`
     * 'factor_required', `reason` 'error', `error`, `message`): keep the session pending.
     */
    public function verifyLogin(mixed $user, mixed $code, mixed $options = null): array
    {
        try {
            $user = $this->canonicalUser($user);
            $code = self::stringArg($code, 'code');
            $options = self::optionsArg($options);
            $method = $options['method'] ?? 'totp';
            if ($method !== 'totp' && $method !== 'backup_code') {
                throw new Error('invalid_field', "method must be 'totp' or 'backup_code'");
            }
            $userAgent = self::optionalString($options['userAgent'] ?? null, 'userAgent');

            return $this->decide($user, ['type' => $method, 'value' => $code],
                ($options['trustDevice'] ?? false) === true, $userAgent);
        } catch (\Throwable $e) {
            return self::held($e);
        }
    }

    // ---- enrollment -------------------------------------------------------------------------

    /**
     * Starts (or restarts) an enrollment: `uri`, `qr` (SVG), `secret`, `params`; show them
     * once, never log them. Options `account`, `issuer`, `algorithm`, `digits`, `period`, and
     * `proof` — required by the core when an enabled authenticator would be replaced; `ok:
     * false` with `fresh.reason` when it was refused (nothing started).
     */
    public function enroll(mixed $user, mixed $options = null): array
    {
        $user = $this->canonicalUser($user);
        $options = self::optionsArg($options);
        $proof = $this->proofField($options['proof'] ?? null);
        $policy = $this->policyField($user);
        $fields = array_filter([
            'account' => $options['account'] ?? null,
            'issuer' => $options['issuer'] ?? $this->issuer,
            'algorithm' => $options['algorithm'] ?? null,
            'digits' => $options['digits'] ?? null,
            'period' => $options['period'] ?? null,
        ], static fn ($v) => $v !== null);
        $result = $this->update($user, fn (array $record): array => $this->core->totpEnroll($user, $this->keys,
            $this->entropy(), $this->time(), $fields + $proof + $policy + ['record' => $record]));
        $fresh = self::fresh($result['fresh'] ?? null);
        if ($fresh !== null && !$fresh['accepted']) {
            return ['ok' => false, 'fresh' => $fresh, 'state' => $result['state'] ?? null];
        }
        // QR code and display parameters from the same core, so the page needs no WebAssembly.
        $params = self::body($this->core->otpauthParse($result['uri']));
        unset($params['secret']);

        return ['ok' => true, 'uri' => $result['uri'], 'secret' => $result['secret'],
            'qr' => $this->core->qrSvg($result['uri'])['svg'], 'params' => $params,
            'state' => $result['state'], 'fresh' => $fresh];
    }

    /**
     * Confirms the pending enrollment with the first code from the app: `ok`, `reason`,
     * `state`; once confirmed also the first `backupCodes` (when the policy allows them; show
     * once) and what the core removed because this is the first factor
     * (`revokedAppPasswords`, `revokedDevices`).
     */
    public function confirm(mixed $user, mixed $code): array
    {
        $user = $this->canonicalUser($user);
        $code = self::stringArg($code, 'code');
        $policy = $this->policyField($user);
        $result = $this->update($user, fn (array $record): array => $this->core->totpActivate($user, $this->keys, $record,
            $code, $this->time(), ['entropy' => $this->entropy()] + $this->windowField() + $policy));
        $confirmed = ['ok' => $result['activated'] ?? null, 'reason' => $result['reason'] ?? null, 'state' => $result['state'] ?? null];
        if (($result['activated'] ?? false) === true) {
            if (is_array($result['backup_codes'] ?? null)) {
                $confirmed['backupCodes'] = $result['backup_codes'];
            }
            $confirmed['revokedAppPasswords'] = $result['revoked_app_passwords'] ?? 0;
            $confirmed['revokedDevices'] = $result['revoked_devices'] ?? 0;
        }

        return $confirmed;
    }

    /** Drops an unfinished enrollment; an enabled factor stays. */
    public function cancelEnrollment(mixed $user): array
    {
        $user = $this->canonicalUser($user);
        $result = $this->update($user, fn (array $record): array => $this->core->totpCancel($record, $this->time()));

        return ['state' => $result['state'] ?? null];
    }

    /**
     * Turns TOTP off (with its backup codes, trusted devices and app passwords) with a current
     * code, or with option `method` 'backup_code' an unused backup code, under the limiter.
     */
    public function disable(mixed $user, mixed $code, mixed $options = null): array
    {
        $user = $this->canonicalUser($user);
        $code = self::stringArg($code, 'code');
        $options = self::optionsArg($options);
        $policy = $this->policyField($user);
        $method = $options['method'] ?? 'totp';
        $result = $this->update($user, fn (array $record): array => $this->core->totpDisable($user, $this->keys, $record,
            $code, $this->time(), ['method' => $method] + $this->windowField() + $policy));
        $disabled = $result['disabled'] ?? null;

        return ['ok' => $disabled, 'reason' => $result['reason'] ?? null, 'retryAfter' => $result['retry_after'] ?? null,
            'state' => $result['state'] ?? null,
            'revokedAppPasswords' => $disabled ? ($result['revoked_app_passwords'] ?? 0) : 0];
    }

    /** Takes over an existing key (otpauth URI) as the enabled factor; option `replace`. */
    public function importUri(mixed $user, mixed $uri, mixed $options = null): array
    {
        $user = $this->canonicalUser($user);
        $uri = self::stringArg($uri, 'uri');
        $options = self::optionsArg($options);
        $replace = $options['replace'] ?? false;
        $result = $this->update($user, fn (array $record): array => $this->core->totpImport($user, $this->keys,
            $this->entropy(), $this->time(), $uri, ['replace' => $replace, 'record' => $record]));

        return ['state' => $result['state'] ?? null];
    }

    /**
     * Imports twofactor_gauthenticator prefs (`from` 'gauthenticator', `prefs`) or kolab_2fa's
     * blob (`from` 'kolab', `blob`): `totp`, `backupCodes`, `notImported`, `state`.
     */
    public function importLegacy(mixed $user, mixed $options = null): array
    {
        $user = $this->canonicalUser($user);
        $options = self::optionsArg($options);
        $from = $options['from'] ?? null;
        $helpers = ['gauthenticator' => ['importGauthenticator', 'prefs'], 'kolab' => ['importKolab', 'blob']];
        if (!is_string($from) || !isset($helpers[$from])) {
            throw new Error('invalid_field', "from must be 'gauthenticator' or 'kolab'");
        }
        [$helper, $field] = $helpers[$from];
        $value = $options[$field] ?? null;
        $value = is_array($value) ? self::object($value) : $value;
        $replace = $options['replace'] ?? false;
        $result = $this->update($user, fn (array $record): array => $this->core->$helper($user, $this->keys,
            $this->entropy(), $this->time(), $value, ['record' => $record, 'replace' => $replace]));

        return ['totp' => $result['totp'] ?? null, 'backupCodes' => $result['backup_codes'] ?? null,
            'notImported' => $result['not_imported'] ?? null, 'state' => $result['state'] ?? null];
    }

    /** The enabled factor as an otpauth URI (moving it to another app). Treat it as a password. */
    public function exportUri(mixed $user): string
    {
        $user = $this->canonicalUser($user);

        return $this->core->totpExport($user, $this->keys, $this->current($user));
    }

    /** Re-seals the user's record under the current (first) key: `resealed`. */
    public function rotateKey(mixed $user): array
    {
        $user = $this->canonicalUser($user);
        $result = $this->update($user, fn (array $record): array => $this->core->recordRotateKey($user, $this->keys,
            $this->entropy(), $this->time(), $record));

        return ['resealed' => $result['resealed'] ?? null];
    }

    // ---- backup codes -----------------------------------------------------------------------

    /**
     * A new set of backup codes (the old ones stop working), only with option `proof`, a
     * current factor: `ok`, `codes`, `remaining`, `fresh`. Option `count`.
     */
    public function generateBackupCodes(mixed $user, mixed $options = null): array
    {
        $user = $this->canonicalUser($user);
        $options = self::optionsArg($options);
        $proof = $this->proofField($options['proof'] ?? null);
        $policy = $this->policyField($user);
        $count = isset($options['count']) ? ['count' => $options['count']] : [];
        $result = $this->update($user, fn (array $record): array => $this->core->backupGenerate($user, $this->keys,
            $this->entropy(), $this->time(), $record, self::proofOf($proof), $policy + $this->windowField() + $count));
        $fresh = self::fresh($result['fresh'] ?? null);
        if ($fresh !== null && !$fresh['accepted']) {
            return ['ok' => false, 'codes' => null, 'remaining' => $result['remaining'] ?? null, 'fresh' => $fresh];
        }

        return ['ok' => true, 'codes' => $result['codes'] ?? null, 'remaining' => $result['remaining'] ?? null, 'fresh' => $fresh];
    }

    /** Checks and consumes a backup code outside a login (re-authentication), under the limiter. */
    public function verifyBackupCode(mixed $user, mixed $code): array
    {
        $user = $this->canonicalUser($user);
        $code = self::stringArg($code, 'code');
        $policy = $this->policyField($user);
        $result = $this->update($user, fn (array $record): array => $this->core->backupVerify($user, $this->keys,
            $this->time(), $record, $code, $policy));

        return ['ok' => $result['accepted'] ?? null, 'reason' => $result['reason'] ?? null,
            'retryAfter' => $result['retry_after'] ?? null, 'remaining' => $result['remaining'] ?? null];
    }

    /** `remaining`, `issued`, `created_at`, `last_used_at` of the user's backup codes. */
    public function backupCodesStatus(mixed $user): array
    {
        $user = $this->canonicalUser($user);

        return self::body($this->core->backupStatus($this->current($user)));
    }

    // ---- app passwords ----------------------------------------------------------------------

    /**
     * A new app password for a mail client: `ok`, `password` (show once), `id`, `fresh`. Only
     * with 2FA on (else `not_enabled`) and option `proof`, a current factor.
     */
    public function createAppPassword(mixed $user, mixed $label, mixed $options = null): array
    {
        $user = $this->canonicalUser($user);
        $label = self::stringArg($label, 'label');
        $options = self::optionsArg($options);
        $proof = $this->proofField($options['proof'] ?? null);
        $policy = $this->policyField($user);
        $result = $this->update($user, fn (array $record): array => $this->core->appPasswordCreate($user, $this->keys,
            $this->entropy(), $this->time(), $record, $label, self::proofOf($proof), $policy + $this->windowField()));
        $fresh = self::fresh($result['fresh'] ?? null);
        if ($fresh !== null && !$fresh['accepted']) {
            return ['ok' => false, 'password' => null, 'id' => null, 'fresh' => $fresh];
        }

        return ['ok' => true, 'password' => $result['password'] ?? null, 'id' => $result['id'] ?? null, 'fresh' => $fresh];
    }

    /** `[['id', 'label', 'created_at', 'last_used_at', 'phc'], …]`. */
    public function listAppPasswords(mixed $user): array
    {
        $user = $this->canonicalUser($user);

        return $this->core->appPasswordList($this->current($user));
    }

    /** Whether `$password` is one of the user's app passwords (IMAP/SMTP login): `ok`, `id`. */
    public function verifyAppPassword(mixed $user, mixed $password): array
    {
        $user = $this->canonicalUser($user);
        $password = self::stringArg($password, 'password');
        $policy = $this->policyField($user);
        $result = $this->update($user, fn (array $record): array => $this->core->appPasswordVerify($record, $password,
            $this->time(), $policy));

        return ['ok' => $result['valid'] ?? null, 'id' => $result['id'] ?? null];
    }

    /**
     * What a Dovecot passdb may see of the user (record.projection): `state`, `appPasswords`
     * — empty unless 2FA is on and the policy allows app passwords.
     */
    public function projection(mixed $user): array
    {
        $user = $this->canonicalUser($user);
        $policy = $this->policyField($user);
        $result = $this->core->recordProjection($this->current($user), $policy);

        return ['state' => $result['state'] ?? null, 'appPasswords' => $result['app_passwords'] ?? null];
    }

    /** Revokes one app password; false when there was none with that id. */
    public function revokeAppPassword(mixed $user, mixed $id): bool
    {
        $user = $this->canonicalUser($user);
        $id = self::stringArg($id, 'id');

        return $this->update($user, fn (array $record): array => $this->core->appPasswordRevoke($record, $this->time(),
            $id))['revoked'];
    }

    /** Revokes every app password; the count. */
    public function revokeAllAppPasswords(mixed $user): int
    {
        $user = $this->canonicalUser($user);

        return $this->update($user, fn (array $record): array => $this->core->appPasswordRevokeAll($record,
            $this->time()))['revoked'];
    }

    /** The main password changed: every app password and trusted device is revoked. */
    public function passwordChanged(mixed $user): array
    {
        $user = $this->canonicalUser($user);
        $result = $this->update($user, fn (array $record): array => $this->core->passwordChanged($record, $this->time()));

        return ['revokedAppPasswords' => $result['revoked_app_passwords'] ?? null,
            'revokedDevices' => $result['revoked_devices'] ?? null];
    }

    // ---- trusted devices --------------------------------------------------------------------

    /**
     * Trusts the current device from an authenticated session, only with option `proof` (a
     * device token is a factor): `ok`, `token`, `id`, `expiresAt`, `fresh`. Option `userAgent`.
     */
    public function trustDevice(mixed $user, mixed $options = null): array
    {
        $user = $this->canonicalUser($user);
        $options = self::optionsArg($options);
        $userAgent = self::optionalString($options['userAgent'] ?? null, 'userAgent');
        $agent = $userAgent === null ? [] : ['user_agent' => $userAgent];
        $proof = $this->proofField($options['proof'] ?? null);
        $policy = $this->policyField($user);
        $result = $this->update($user, fn (array $record): array => $this->core->deviceTrust($user, $this->keys,
            $this->entropy(), $this->time(), $record, self::proofOf($proof), $policy + $this->windowField() + $agent));
        $fresh = self::fresh($result['fresh'] ?? null);
        if ($fresh !== null && !$fresh['accepted']) {
            return ['ok' => false, 'token' => null, 'id' => null, 'expiresAt' => null, 'fresh' => $fresh];
        }

        return ['ok' => true, 'token' => $result['token'] ?? null, 'id' => $result['id'] ?? null,
            'expiresAt' => $result['expires_at'] ?? null, 'fresh' => $fresh];
    }

    /** `[['id', 'label', 'created_at', 'last_seen_at', 'expires_at', 'expired'], …]`. */
    public function listDevices(mixed $user): array
    {
        $user = $this->canonicalUser($user);

        return $this->core->deviceList($this->current($user), ['time' => $this->time()]);
    }

    /** Forgets one trusted device; false when there was none with that id. */
    public function revokeDevice(mixed $user, mixed $id): bool
    {
        $user = $this->canonicalUser($user);
        $id = self::stringArg($id, 'id');

        return $this->update($user, fn (array $record): array => $this->core->deviceRevoke($record, $this->time(),
            $id))['revoked'];
    }

    /** Forgets every trusted device (but option `except`, e.g. the current one); the count. */
    public function revokeAllDevices(mixed $user, mixed $options = null): int
    {
        $user = $this->canonicalUser($user);
        $options = self::optionsArg($options);
        $except = isset($options['except']) ? ['except' => $options['except']] : [];

        return $this->update($user, fn (array $record): array => $this->core->deviceRevokeAll($record, $this->time(),
            $except))['revoked'];
    }

    // ---- admin ------------------------------------------------------------------------------

    /**
     * Admin reset (lost phone and codes): the core's record.reset (every factor, code, device,
     * app password, pending enrollment and the limiter removed; rev one above the old one),
     * written by compare-and-set — never a delete — so a request that read the record before
     * the reset cannot land its write afterwards. False when the user had no record.
     */
    public function adminReset(mixed $user): bool
    {
        $user = $this->canonicalUser($user);
        $had = false;
        $this->update($user, function (array $record, bool $stored) use (&$had): array {
            $had = $stored;

            return $stored ? $this->core->recordReset($record, $this->time()) : ['record' => null];
        });

        return $had;
    }
}
