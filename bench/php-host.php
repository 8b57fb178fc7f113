<?php

/*
 * PHP host benchmarks (issue php-host): run after `make host`.
 *
 *   php bench/php-host.php [verify] [argon2] [fpm]      (default: all three)
 *
 * 1. verify: TOTP verify per call through Mail2fa\Core (PHP array -> JSON -> FFI ->
 *    wasmtime -> dist/mail2fa.wasm, sealed record opened, record returned and decoded) vs a
 *    straightforward pure-PHP RFC 6238 verifier (base32 decode + hash_hmac, same window,
 *    constant-time compare, replay check): what a PHP plugin author would write.
 * 2. argon2: Argon2id m=19456 KiB, t=2, p=1 in the wasm (`phc.hash`) vs PHP's
 *    password_hash(PASSWORD_ARGON2ID) with the same parameters.
 * 3. fpm: php-fpm 8.2 (ffi.enable=preload, shipped preload files), fresh cache: compile
 *    time of the first worker, disk-cache load of later workers, and Core::open() per
 *    request afterwards (200 requests through FastCGI).
 *
 * Prints markdown table rows for bench/RESULTS.md. Timings only; tests check behaviour.
 */

declare(strict_types=1);

require_once __DIR__ . '/../plugins-php/host-tests/bootstrap.php';

use Mail2fa\Core;

const KEYS = [['id' => 'k1', 'key' => 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=']];
const USER = 'alice@example.com';

function base32_decode_rfc4648(string $s): string
{
    $alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    $s = strtoupper(rtrim($s, '='));
    $bits = 0;
    $value = 0;
    $out = '';
    for ($i = 0, $n = strlen($s); $i < $n; $i++) {
        $v = strpos($alphabet, $s[$i]);
        if ($v === false) {
            throw new InvalidArgumentException('bad base32');
        }
        $value = ($value << 5) | $v;
        $bits += 5;
        if ($bits >= 8) {
            $bits -= 8;
            $out .= chr(($value >> $bits) & 0xff);
        }
    }

    return $out;
}

/** RFC 6238 verify: the accepted step, or null. Same rules as the core's totp.verify. */
function pure_php_totp_verify(string $secret, string $code, int $time, int $window, ?int $lastStep,
    int $digits = 6, int $period = 30, string $algo = 'sha1'): ?int
{
    $code = str_replace(' ', '', $code);
    if (strlen($code) !== $digits || !ctype_digit($code)) {
        return null;
    }
    $key = base32_decode_rfc4648($secret);
    $now = intdiv($time, $period);
    $accepted = null;
    for ($i = -$window; $i <= $window; $i++) {
        $step = $now + $i;
        $h = hash_hmac($algo, pack('J', $step), $key, true);
        $o = ord($h[strlen($h) - 1]) & 0xf;
        $bin = ((ord($h[$o]) & 0x7f) << 24) | (ord($h[$o + 1]) << 16) | (ord($h[$o + 2]) << 8) | ord($h[$o + 3]);
        $otp = str_pad((string) ($bin % (10 ** $digits)), $digits, '0', STR_PAD_LEFT);
        if (hash_equals($otp, $code) && $accepted === null && ($lastStep === null || $step > $lastStep)) {
            $accepted = $step;
        }
    }

    return $accepted;
}

/** Median and minimum of per-call microseconds over $rounds batches of $n calls. */
function measure(callable $f, int $n, int $rounds): array
{
    $per = [];
    for ($r = 0; $r < $rounds; $r++) {
        $t = hrtime(true);
        for ($i = 0; $i < $n; $i++) {
            $f();
        }
        $per[] = (hrtime(true) - $t) / 1000 / $n;
    }
    sort($per);

    return [$per[intdiv(count($per), 2)], $per[0]];
}

function machine(): string
{
    $cpu = 'unknown CPU';
    foreach (file('/proc/cpuinfo') ?: [] as $line) {
        if (str_starts_with($line, 'model name')) {
            $cpu = trim(explode(':', $line, 2)[1]);
            break;
        }
    }
    $mem = 0;
    foreach (file('/proc/meminfo') ?: [] as $line) {
        if (str_starts_with($line, 'MemTotal:')) {
            $mem = (int) round((int) preg_replace('/\D/', '', $line) / 1048576);
        }
    }
    $load = sys_getloadavg()[0] ?? 0;

    return sprintf('%d× %s, %d GiB, PHP %s, load %.1f', (int) trim((string) shell_exec('nproc')), $cpu, $mem,
        PHP_VERSION, $load);
}

function commit(): string
{
    return trim((string) shell_exec('git -C ' . escapeshellarg(TestEnv::root()) . ' rev-parse --short HEAD'));
}

function bench_verify(): void
{
    $core = Core::open();
    $t0 = 1700000000;
    $enroll = $core->totpEnroll(USER, KEYS, Core::entropy(), $t0);
    $secret = $enroll['secret'];
    // totp.activate issues the first backup codes: it takes entropy.
    $record = $core->totpActivate(USER, KEYS, $enroll['record'], $core->totpCode($secret, $t0), $t0,
        ['entropy' => Core::entropy()])['record'];
    $t = $t0 + 300;
    $code = $core->totpCode($secret, $t);

    // Both verifiers agree before anything is timed.
    $viaCore = $core->totpVerify(USER, KEYS, $record, $code, $t, ['window' => 1]);
    $pure = pure_php_totp_verify($secret, $code, $t, 1, $record['totp']['last_step']);
    if (!$viaCore['accepted'] || $pure !== $viaCore['step']) {
        throw new RuntimeException('verifiers disagree');
    }
    if (pure_php_totp_verify('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', '94287082', 59, 0, null, 8) !== 1) {
        throw new RuntimeException('pure-PHP verifier fails RFC 6238');
    }
    $rawRequest = json_encode(['op' => 'totp.verify', 'user' => USER, 'keys' => KEYS, 'record' => $record,
        'code' => $code, 'time' => $t, 'window' => 1]);

    $n = 2000;
    $rounds = 7;
    [$coreMed, $coreMin] = measure(fn () => $core->totpVerify(USER, KEYS, $record, $code, $t, ['window' => 1]), $n, $rounds);
    [$rawMed, $rawMin] = measure(fn () => $core->callJson($rawRequest), $n, $rounds);
    $lastStep = $record['totp']['last_step'];
    [$pureMed, $pureMin] = measure(fn () => pure_php_totp_verify($secret, $code, $t, 1, $lastStep), $n, $rounds);

    echo "\n### TOTP verify per call (window 1, accepted code)\n\n";
    echo "| date | commit | machine | adapter totpVerify µs median (min) | raw callJson µs median (min) | pure PHP µs median (min) | adapter / pure PHP |\n";
    echo "| --- | --- | --- | --- | --- | --- | --- |\n";
    printf("| %s | %s | %s | %.2f (%.2f) | %.2f (%.2f) | %.2f (%.2f) | %.2f× |\n", date('Y-m-d'), commit(), machine(),
        $coreMed, $coreMin, $rawMed, $rawMin, $pureMed, $pureMin, $coreMed / $pureMed);
}

function bench_argon2(): void
{
    $core = Core::open();
    $salt = random_bytes(16);
    $params = ['m' => 19456, 't' => 2, 'p' => 1];
    $phc = $core->phcHash('correct horse battery staple', base64_encode($salt), $params);
    if (!password_verify('correct horse battery staple', $phc)) {
        throw new RuntimeException('wasm hash not readable by password_verify');
    }
    $rounds = 15;
    [$wasmMed, $wasmMin] = measure(fn () => $core->phcHash('correct horse battery staple', base64_encode($salt), $params), 1, $rounds);
    [$phpMed, $phpMin] = measure(fn () => password_hash('correct horse battery staple', PASSWORD_ARGON2ID,
        ['memory_cost' => 19456, 'time_cost' => 2, 'threads' => 1]), 1, $rounds);
    echo "\n### Argon2id m=19456 KiB, t=2, p=1, one hash\n\n";
    echo "| date | commit | machine | wasm phc.hash ms median (min) | PHP password_hash ms median (min) | wasm / PHP (median) |\n";
    echo "| --- | --- | --- | --- | --- | --- |\n";
    printf("| %s | %s | %s | %.1f (%.1f) | %.1f (%.1f) | %.2f× |\n", date('Y-m-d'), commit(), machine(),
        $wasmMed / 1000, $wasmMin / 1000, $phpMed / 1000, $phpMin / 1000, $wasmMed / $phpMed);
}

function bench_fpm(): void
{
    $workers = 2;
    $fpm = new FpmServer(TestEnv::library(), $workers);
    $script = TestEnv::root() . '/plugins-php/host-tests/fpm/request.php';
    $compile = [];
    $disk = [];
    $process = [];
    try {
        $fpm->start();
        for ($i = 0; $i < 200; $i++) {
            $s = $fpm->request($script)['status'] ?? throw new RuntimeException('request failed: ' . $fpm->logs());
            match ($s['source']) {
                'compiled' => $compile[] = $s,
                'disk_cache' => $disk[] = $s['ready_us'],
                'process' => $process[] = $s['ready_us'],
            };
        }
        // A restarted pool: every worker's first request reads the disk cache.
        $fpm->stop();
        $fpm->start();
        for ($i = 0; $i < 20; $i++) {
            $s = $fpm->request($script)['status'];
            if ($s['source'] === 'disk_cache') {
                $disk[] = $s['ready_us'];
            }
        }
    } finally {
        $fpm->stop();
    }
    sort($process);
    sort($disk);
    $p = static fn (array $a, float $q) => $a ? $a[min(count($a) - 1, (int) floor($q * count($a)))] : NAN;
    echo "\n### Module ready per php-fpm request (Core::open(), ffi.enable=preload, $workers workers)\n\n";
    echo "| date | commit | machine | compile (first worker, ms) | disk cache load (µs median, n) | per later request (µs median / p95 / max, n) |\n";
    echo "| --- | --- | --- | --- | --- | --- |\n";
    printf("| %s | %s | %s | %.0f | %.0f (n=%d) | %.1f / %.1f / %.1f (n=%d) |\n", date('Y-m-d'), commit(), machine(),
        $compile ? $compile[0]['compile_ms'] : NAN, $p($disk, 0.5), count($disk),
        $p($process, 0.5), $p($process, 0.95), $process ? end($process) : NAN, count($process));
}

$which = array_slice($argv, 1) ?: ['verify', 'argon2', 'fpm'];
foreach ($which as $w) {
    match ($w) {
        'verify' => bench_verify(),
        'argon2' => bench_argon2(),
        'fpm' => bench_fpm(),
        default => throw new InvalidArgumentException("unknown benchmark $w"),
    };
}
