<?php

declare(strict_types=1);

namespace Mail2fa;

/**
 * The mail2fa core for PHP: the same dist/mail2fa.wasm every host runs, executed by the
 * native host library (crates/mail2fa-host) through FFI.
 *
 *     $core = \Mail2fa\Core::open();
 *     $r = $core->totpVerify($user, $keys, $record, $code, time());
 *
 * Every method sends one JSON request to the core (docs/ops.md) and returns its response;
 * a core error throws \Mail2fa\Error with the core's error code. The adapter decides
 * nothing itself. Opening is cheap after a worker's first request: the library keeps the
 * ready module in the process and caches the compiled code on disk.
 *
 * JSON mapping: requests are PHP arrays; an empty PHP array encodes as `[]`, so pass
 * `new \stdClass()` where the core expects an empty object. Responses are decoded to
 * arrays. Store `record` exactly as returned (e.g. json_encode it).
 */
final class Core
{
    /** FFI_SCOPE of the header (mail2fa.h) that ffi.preload loads. */
    public const FFI_SCOPE = 'MAIL2FA';

    /**
     * The ops this adapter has no typed helper for, because nothing in PHP uses them (the
     * admin export/import of a decrypted record; the passdb side of the webmail proof, which
     * Dovecot checks): call() reaches them. Every other op has exactly one helper
     * (scripts/check-contract.mjs and CoreTest hold both lists to the module's ops).
     */
    public const NO_HELPER = ['record.open', 'record.seal', 'webmail.verify'];

    private const OPTIONS = ['library', 'wasm', 'cache_dir'];

    /** One brace-balanced `{...}` with JSON strings skipped (white space around allowed). */
    private const ONE_OBJECT = '/\A\s*+(\{(?:[^{}"]++|"(?:[^"\\\\]++|\\\\.)*+"|(?1))*+\})\s*+\z/s';

    /** FFI::cdef() result per library path (CLI / ffi.enable=true), parsed once per process. */
    private static array $cdef = [];

    private \FFI $ffi;
    /** @var \FFI\CData mail2fa_host* */
    private $handle;

    private function __construct(\FFI $ffi, $handle)
    {
        $this->ffi = $ffi;
        $this->handle = $handle;
    }

    public function __destruct()
    {
        if ($this->handle !== null) {
            $this->ffi->mail2fa_host_close($this->handle);
            $this->handle = null;
        }
    }

    /**
     * Opens the core.
     *
     * Options (all optional):
     * - `library`: path of libmail2fa_host.so. Default: dist/ next to the plugin or in the
     *   source tree. Ignored when ffi.preload has loaded the MAIL2FA scope (its header
     *   names the library).
     * - `wasm`: path of mail2fa.wasm (must be the module the library was built for).
     * - `cache_dir`: directory for precompiled modules; null disables the disk cache.
     *   Default: <sys_get_temp_dir()>/mail2fa-cache-<uid>.
     *
     * @throws Error `invalid_option`, `ffi_unavailable`, `library_missing`,
     *               `library_unloadable`, or the library's `module_mismatch`,
     *               `wasm_unreadable`, `not_pinned`, `module_invalid`
     */
    public static function open(array $options = []): self
    {
        $unknown = array_diff(array_keys($options), self::OPTIONS);
        if ($unknown) {
            throw new Error('invalid_option', 'unknown option(s): ' . implode(', ', $unknown)
                . '; known: ' . implode(', ', self::OPTIONS));
        }
        foreach ($options as $name => $value) {
            if ($value !== null && !is_string($value)) {
                throw new Error('invalid_option', "option $name must be a string path or null");
            }
        }
        $ffi = self::ffi($options['library'] ?? null);
        $wasm = $options['wasm'] ?? self::distDir() . '/mail2fa.wasm';
        $cacheDir = array_key_exists('cache_dir', $options) ? $options['cache_dir'] : self::defaultCacheDir();

        $err = $ffi->new('char*');
        $handle = $ffi->mail2fa_host_open($wasm, $cacheDir, \FFI::addr($err));
        // PHP FFI returns a NULL pointer as null.
        if ($handle === null || \FFI::isNull($handle)) {
            throw Error::fromResponse(self::decode(self::takeString($ffi, $err)));
        }

        return new self($ffi, $handle);
    }

    /** Sends a request and returns the response; a core error throws Error. */
    public function call(array $request): array
    {
        try {
            $json = json_encode($request, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES
                | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
        } catch (\JsonException $e) {
            throw new Error('invalid_request', 'the request cannot be encoded as JSON: ' . $e->getMessage(), $e);
        }
        $response = self::decode($this->callJson($json));
        if (($response['ok'] ?? null) !== true) {
            throw Error::fromResponse($response);
        }

        return $response;
    }

    /**
     * call() for a request on a stored record given as the JSON text the host stored (a
     * core response's `record`, encoded once when it was written): the text goes into the
     * request as is, with no json_decode of it and no json_encode of it again, which is
     * most of what PHP spends on a login check besides the core. `$fields` are the other
     * fields, `op` included (no `record`); `$recordJson` null: no record (a user without a
     * row). The text must be one JSON object (checked: nothing after its closing brace, so
     * no field of the request can come from it; its syntax and shape are the core's to
     * check). Returns the decoded response like call(); a core error throws Error.
     */
    public function callWithRecord(array $fields, ?string $recordJson): array
    {
        $response = self::decode($this->callJson($this->requestWithRecord($fields, $recordJson)));
        if (($response['ok'] ?? null) !== true) {
            throw Error::fromResponse($response);
        }

        return $response;
    }

    /** The request text of callWithRecord(): the stored record's text first, then `$fields`. */
    private function requestWithRecord(array $fields, ?string $recordJson): string
    {
        if (array_key_exists('record', $fields)) {
            throw new Error('invalid_request', 'callWithRecord takes the record as $recordJson, not among the fields');
        }
        // `op` last, where the core looks for a login check's name first (no search of the text).
        if (array_key_exists('op', $fields) && array_key_last($fields) !== 'op') {
            $op = $fields['op'];
            unset($fields['op']);
            $fields['op'] = $op;
        }
        try {
            $json = json_encode((object) $fields, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES
                | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
        } catch (\JsonException $e) {
            throw new Error('invalid_request', 'the request cannot be encoded as JSON: ' . $e->getMessage(), $e);
        }
        if ($recordJson !== null) {
            // One brace-balanced object (strings skipped), so nothing after its closing brace
            // can add a field to the request; its JSON syntax is the core's to check.
            if (preg_match(self::ONE_OBJECT, $recordJson) !== 1) {
                throw new Error('invalid_record', 'the stored record is not one JSON object');
            }
            $json = '{"record":' . $recordJson . ($json === '{}' ? '}' : ',' . substr($json, 1));
        }

        return $json;
    }

    /**
     * callWithRecord() that also hands back the new record as text to store as is:
     * `['response' => the response without `record`, 'record_json' => its JSON text, or
     * null when the response has none]`. The login ops (login.decide, totp.verify,
     * backup.verify, app_password.verify) write the record last, so its text is cut out of
     * the response as the core wrote it (no json_decode of it, no json_encode to store it);
     * any other response is decoded whole and its record encoded. Store the text only when
     * the record's `rev` moved (or compare the text with what was read: the core writes an
     * unchanged record exactly as it read it).
     */
    public function callOnStoredRecord(array $fields, ?string $recordJson): array
    {
        $json = $this->requestWithRecord($fields, $recordJson);
        $text = $this->callJson($json);
        // No string of a response holds an unescaped quote and these ops' other fields hold
        // no object with a "record" key: the first ,"record": is a key, the top-level one
        // exactly when what is before it closes into a JSON object.
        $at = strpos($text, ',"record":');
        if ($at !== false) {
            $head = json_decode(substr($text, 0, $at) . '}', true);
            if (is_array($head) && ($head['ok'] ?? null) === true) {
                return ['response' => $head, 'record_json' => substr($text, $at + 10, -1)];
            }
        }
        $response = self::decode($text);
        if (($response['ok'] ?? null) !== true) {
            throw Error::fromResponse($response);
        }
        $record = $response['record'] ?? null;
        unset($response['record']);

        return ['response' => $response, 'record_json' => $record === null ? null : json_encode($record,
            JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION)];
    }

    /** Sends raw request bytes and returns the raw response JSON (errors included, no exception). */
    public function callJson(string $request): string
    {
        if ($this->handle === null) {
            throw new Error('closed', 'this Core was closed');
        }

        return self::takeString($this->ffi, $this->ffi->mail2fa_host_call($this->handle, $request, \strlen($request)));
    }

    /**
     * What opening did: `source` ("process": module already in this worker, "disk_cache",
     * "compiled"), `ready_us`, `compile_ms`, `cache_file`, `cache_error`, `wasm_sha256`,
     * `wasmtime`, `pid`, `instance_reused`, `wasm_hashed`.
     */
    public function status(): array
    {
        return self::decode(self::takeString($this->ffi, $this->ffi->mail2fa_host_status($this->handle)));
    }

    /** The sha256 of the only module the loaded library runs. */
    public function pinnedSha256(): string
    {
        return self::takeString($this->ffi, $this->ffi->mail2fa_host_pinned_sha256());
    }

    /** Releases the handle now (the module stays loaded in the process for the next open). */
    public function close(): void
    {
        $this->__destruct();
    }

    /** Fresh random bytes for the `entropy` field, base64. */
    public static function entropy(int $bytes = 32): string
    {
        return base64_encode(random_bytes($bytes));
    }

    // ---- typed helpers, one per op (docs/ops.md); `$options` holds the optional fields ----

    /** @return string[] every op this module supports */
    public function ops(): array
    {
        return $this->call(['op' => 'ops'])['ops'];
    }

    /** `version` (crate version) and `record_format`. */
    public function version(): array
    {
        return $this->call(['op' => 'version']);
    }

    /** The TOTP code of a base32 secret at a time; options `algorithm`, `digits`, `period`. */
    public function totpCode(string $secret, int $time, array $options = []): string
    {
        return $this->call(['op' => 'totp.code', 'secret' => $secret, 'time' => $time] + $options)['code'];
    }

    /** Starts an enrollment; options `account`, `issuer`, `algorithm`, `digits`, `period`, `record`. */
    public function totpEnroll(string $user, array $keys, string $entropy, int $time, array $options = []): array
    {
        return $this->call(['op' => 'totp.enroll', 'user' => $user, 'keys' => $keys, 'entropy' => $entropy,
            'time' => $time] + $options);
    }

    /** Confirms the pending enrollment with its first code; option `window`. */
    public function totpActivate(string $user, array $keys, array $record, string $code, int $time, array $options = []): array
    {
        return $this->call(['op' => 'totp.activate', 'user' => $user, 'keys' => $keys, 'record' => $record,
            'code' => $code, 'time' => $time] + $options);
    }

    public function totpCancel(array $record, int $time): array
    {
        return $this->call(['op' => 'totp.cancel', 'record' => $record, 'time' => $time]);
    }

    /** Checks a code against the enabled factor; options `window`, `policy`. Store `record` when `rev` moved. */
    public function totpVerify(string $user, array $keys, array $record, string $code, int $time, array $options = []): array
    {
        return $this->call(['op' => 'totp.verify', 'user' => $user, 'keys' => $keys, 'record' => $record,
            'code' => $code, 'time' => $time] + $options);
    }

    /**
     * Removes TOTP with a current code; options `window`, `policy`, and `method`
     * (`totp`, the default, or `backup_code` to turn 2FA off with an unused backup code).
     */
    public function totpDisable(string $user, array $keys, array $record, string $code, int $time, array $options = []): array
    {
        return $this->call(['op' => 'totp.disable', 'user' => $user, 'keys' => $keys, 'record' => $record,
            'code' => $code, 'time' => $time] + $options);
    }

    /** An existing otpauth key as the enabled factor; options `record`, `replace`. */
    public function totpImport(string $user, array $keys, string $entropy, int $time, string $uri, array $options = []): array
    {
        return $this->call(['op' => 'totp.import', 'user' => $user, 'keys' => $keys, 'entropy' => $entropy,
            'time' => $time, 'uri' => $uri] + $options);
    }

    /** The enabled factor as an otpauth URI. */
    public function totpExport(string $user, array $keys, array $record): string
    {
        return $this->call(['op' => 'totp.export', 'user' => $user, 'keys' => $keys, 'record' => $record])['uri'];
    }

    /** `issuer`, `account`, `secret`, `algorithm`, `digits`, `period` of an otpauth URI. */
    public function otpauthParse(string $uri): array
    {
        return $this->call(['op' => 'otpauth.parse', 'uri' => $uri]);
    }

    /** An otpauth URI; options `issuer`, `algorithm`, `digits`, `period`. */
    public function otpauthBuild(string $account, string $secret, array $options = []): string
    {
        return $this->call(['op' => 'otpauth.build', 'account' => $account, 'secret' => $secret] + $options)['uri'];
    }

    /** A new, empty record. */
    public function recordNew(int $time): array
    {
        return $this->call(['op' => 'record.new', 'time' => $time])['record'];
    }

    /** `state`, `rev`, `totp`, `pending`, `key_ids`, `needs_rotation`, … (fails closed on a bad record). */
    public function recordStatus(string $user, array $keys, array $record, array $options = []): array
    {
        return $this->call(['op' => 'record.status', 'user' => $user, 'keys' => $keys, 'record' => $record] + $options);
    }

    /** Re-seals every value not sealed under the first key; `resealed`, `record`. */
    public function recordRotateKey(string $user, array $keys, string $entropy, int $time, array $record): array
    {
        return $this->call(['op' => 'record.rotate_key', 'user' => $user, 'keys' => $keys, 'entropy' => $entropy,
            'time' => $time, 'record' => $record]);
    }

    /**
     * A disabled record for an admin reset (every factor, code, device, app password and
     * pending enrollment removed, rev one above the old one); write it by compare-and-set.
     * `$record` null: a user without a record.
     */
    public function recordReset(?array $record, int $time): array
    {
        return $this->call(['op' => 'record.reset', 'time' => $time] + ($record !== null ? ['record' => $record] : []));
    }

    /**
     * What the Dovecot passdb may see of a record (`state`, `app_passwords`: none unless 2FA
     * is enabled and the policy allows app passwords); option `policy`.
     */
    public function recordProjection(array $record, array $options = []): array
    {
        return $this->call(['op' => 'record.projection', 'record' => $record] + $options);
    }

    /**
     * The canonical user name (the record key) of a login name; option `username`
     * (`case`, `domain`, `default_domain`). Throws `invalid_user` for a name that cannot be one.
     */
    public function userCanonical(string $user, array $options = []): string
    {
        return $this->call(['op' => 'user.canonical', 'user' => $user] + $options)['user'];
    }

    /**
     * The webmail's proof for its IMAP login of a canonical user (`1.<time>.<hmac>`), made
     * with the secret it shares with the Dovecot passdb.
     */
    public function webmailProof(string $secret, string $user, int $time): string
    {
        return $this->call(['op' => 'webmail.proof', 'secret' => $secret, 'user' => $user, 'time' => $time])['proof'];
    }

    /** A QR code as standalone SVG (`svg`, `version`, `modules`, `ecc`); option `ecc`. */
    public function qrSvg(string $text, array $options = []): array
    {
        return $this->call(['op' => 'qr.svg', 'text' => $text] + $options);
    }

    /**
     * The login decision (`verdict`, …); options `record`, `policy`, `window`, `factor`,
     * `trust_device`, `user_agent`, `entropy`.
     */
    public function loginDecide(string $user, array $keys, int $time, array $options = []): array
    {
        return $this->call(['op' => 'login.decide', 'user' => $user, 'keys' => $keys, 'time' => $time] + $options);
    }

    /**
     * A new backup-code set (`codes`: show once) for a fresh factor `$proof` (`['method' => 'totp'|'backup_code',
     * 'code' => ...]`, judged in `fresh`; null: none, which the core refuses with `fresh_factor_required`
     * once a factor is enabled); options `count`, `policy`, `window`.
     */
    public function backupGenerate(string $user, array $keys, string $entropy, int $time, array $record, ?array $proof,
        array $options = []): array
    {
        return $this->call(['op' => 'backup.generate', 'user' => $user, 'keys' => $keys, 'entropy' => $entropy,
            'time' => $time, 'record' => $record] + ($proof !== null ? ['proof' => $proof] : []) + $options);
    }

    /** Checks and consumes one backup code; option `policy`. */
    public function backupVerify(string $user, array $keys, int $time, array $record, string $code, array $options = []): array
    {
        return $this->call(['op' => 'backup.verify', 'user' => $user, 'keys' => $keys, 'time' => $time,
            'record' => $record, 'code' => $code] + $options);
    }

    public function backupStatus(array $record): array
    {
        return $this->call(['op' => 'backup.status', 'record' => $record]);
    }

    /**
     * Trusts the current device (`token`: an HttpOnly cookie, never logged) for a fresh factor `$proof` (null:
     * none); options `user_agent`, `policy`, `window`.
     */
    public function deviceTrust(string $user, array $keys, string $entropy, int $time, array $record, ?array $proof,
        array $options = []): array
    {
        return $this->call(['op' => 'device.trust', 'user' => $user, 'keys' => $keys, 'entropy' => $entropy,
            'time' => $time, 'record' => $record] + ($proof !== null ? ['proof' => $proof] : []) + $options);
    }

    /** @return array[] the trusted devices; option `time` (fills `expired`) */
    public function deviceList(array $record, array $options = []): array
    {
        return $this->call(['op' => 'device.list', 'record' => $record] + $options)['devices'];
    }

    public function deviceRevoke(array $record, int $time, string $id): array
    {
        return $this->call(['op' => 'device.revoke', 'record' => $record, 'time' => $time, 'id' => $id]);
    }

    /** Option `except` (a device id to keep). */
    public function deviceRevokeAll(array $record, int $time, array $options = []): array
    {
        return $this->call(['op' => 'device.revoke_all', 'record' => $record, 'time' => $time] + $options);
    }

    /**
     * A new app password (`password`: show once) for a user with 2FA on, with a fresh factor `$proof` (judged in
     * `fresh`; null: none); options `policy`, `window`.
     */
    public function appPasswordCreate(string $user, array $keys, string $entropy, int $time, array $record, string $label,
        ?array $proof, array $options = []): array
    {
        return $this->call(['op' => 'app_password.create', 'user' => $user, 'keys' => $keys, 'entropy' => $entropy,
            'time' => $time, 'record' => $record, 'label' => $label] + ($proof !== null ? ['proof' => $proof] : [])
            + $options);
    }

    /** @return array[] the app passwords (`id`, `label`, `created_at`, `last_used_at`, `phc`) */
    public function appPasswordList(array $record): array
    {
        return $this->call(['op' => 'app_password.list', 'record' => $record])['app_passwords'];
    }

    public function appPasswordVerify(array $record, string $password, int $time, array $options = []): array
    {
        return $this->call(['op' => 'app_password.verify', 'record' => $record, 'password' => $password,
            'time' => $time] + $options);
    }

    public function appPasswordRevoke(array $record, int $time, string $id): array
    {
        return $this->call(['op' => 'app_password.revoke', 'record' => $record, 'time' => $time, 'id' => $id]);
    }

    public function appPasswordRevokeAll(array $record, int $time): array
    {
        return $this->call(['op' => 'app_password.revoke_all', 'record' => $record, 'time' => $time]);
    }

    /** The main password changed: revokes app passwords and trusted devices. */
    public function passwordChanged(array $record, int $time): array
    {
        return $this->call(['op' => 'password.changed', 'record' => $record, 'time' => $time]);
    }

    /** An Argon2 PHC string; `$salt` is base64 (8–64 bytes); options `m`, `t`, `p`, `variant`. */
    public function phcHash(string $password, string $salt, array $options = []): string
    {
        return $this->call(['op' => 'phc.hash', 'password' => $password, 'salt' => $salt] + $options)['phc'];
    }

    public function phcVerify(string $phc, string $password): bool
    {
        return $this->call(['op' => 'phc.verify', 'phc' => $phc, 'password' => $password])['valid'];
    }

    /**
     * Imports twofactor_gauthenticator prefs (an array, or a stdClass for `{}`; anything else is the core's to
     * refuse, as in JS); options `record`, `replace`.
     */
    public function importGauthenticator(string $user, array $keys, string $entropy, int $time, mixed $prefs, array $options = []): array
    {
        return $this->call(['op' => 'import.gauthenticator', 'user' => $user, 'keys' => $keys,
            'entropy' => $entropy, 'time' => $time, 'prefs' => $prefs] + $options);
    }

    /** Imports kolab_2fa's `kolab_2fa_blob` (array or JSON text; anything else is the core's to refuse); options `record`, `replace`. */
    public function importKolab(string $user, array $keys, string $entropy, int $time, mixed $blob, array $options = []): array
    {
        return $this->call(['op' => 'import.kolab', 'user' => $user, 'keys' => $keys, 'entropy' => $entropy,
            'time' => $time, 'blob' => $blob] + $options);
    }

    // ---- internals ----

    /** The FFI binding: the preloaded MAIL2FA scope, else FFI::cdef() of the shipped header. */
    private static function ffi(?string $library): \FFI
    {
        try {
            return \FFI::scope(self::FFI_SCOPE);
        } catch (\FFI\Exception $e) {
            // Not preloaded: FFI::cdef() below.
        }
        $library ??= self::defaultLibrary();
        if (isset(self::$cdef[$library])) {
            return self::$cdef[$library];
        }
        $mode = strtolower((string) ini_get('ffi.enable'));
        $enabled = in_array($mode, ['1', 'on', 'true', 'yes'], true) || ($mode === 'preload' && PHP_SAPI === 'cli');
        if (!extension_loaded('ffi') || !$enabled) {
            throw new Error('ffi_unavailable', 'PHP FFI is not usable here (ffi.enable=' . ($mode === '' ? 'off' : $mode)
                . ') and the MAIL2FA scope is not preloaded: set ffi.preload to mail2fa.h and opcache.preload to'
                . ' lib/preload.php, or ffi.enable=true (plugins-php/mail2fa/README.md)');
        }
        if (!is_file($library)) {
            throw new Error('library_missing', "the host library $library does not exist (the release archive ships"
                . ' dist/linux-x86_64 and dist/linux-aarch64; this machine is ' . php_uname('m') . '; from source: make host)');
        }
        $header = (string) file_get_contents(__DIR__ . '/mail2fa.h');
        $declarations = preg_replace('/^#define .*$/m', '', $header);
        try {
            $ffi = \FFI::cdef($declarations, $library);
        } catch (\FFI\Exception $e) {
            throw new Error('library_unloadable', "cannot load $library: " . $e->getMessage(), $e);
        }

        return self::$cdef[$library] = $ffi;
    }

    /**
     * The host library for this machine: a source build's dist/libmail2fa_host.so, else the
     * release archive's dist/linux-<machine>/libmail2fa_host.so (x86_64, aarch64).
     */
    public static function defaultLibrary(): string
    {
        $dir = self::distDir();
        if (is_file($dir . '/libmail2fa_host.so')) {
            return $dir . '/libmail2fa_host.so';
        }

        return $dir . '/linux-' . php_uname('m') . '/libmail2fa_host.so';
    }

    /** dist/ with the built artifacts: inside the plugin (packaged) or at the source tree's root. */
    private static function distDir(): string
    {
        $candidates = [dirname(__DIR__) . '/dist', dirname(__DIR__, 3) . '/dist'];
        foreach ($candidates as $dir) {
            if (is_file($dir . '/mail2fa.wasm')) {
                return $dir;
            }
        }

        return end($candidates);
    }

    private static function defaultCacheDir(): string
    {
        $uid = function_exists('posix_geteuid') ? posix_geteuid() : getmyuid();

        return rtrim(sys_get_temp_dir(), '/') . '/mail2fa-cache-' . $uid;
    }

    /** Copies a char* returned by the library into a PHP string and frees it. */
    private static function takeString(\FFI $ffi, $ptr): string
    {
        if ($ptr === null || \FFI::isNull($ptr)) {
            throw new Error('host_error', 'the host library returned no string');
        }
        try {
            return \FFI::string($ptr);
        } finally {
            $ffi->mail2fa_host_free($ptr);
        }
    }

    private static function decode(string $json): array
    {
        try {
            $value = json_decode($json, true, 512, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new Error('invalid_response', 'the host returned invalid JSON: ' . $e->getMessage(), $e);
        }
        if (!is_array($value)) {
            throw new Error('invalid_response', 'the host returned JSON that is not an object');
        }

        return $value;
    }
}
