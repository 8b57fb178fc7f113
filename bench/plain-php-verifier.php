<?php

/*
 * The benchmarks' plain-PHP reference (bench/php-login.php, bench/php-service.php): what a
 * PHP plugin author would write for RFC 6238 — base32 decode, window 1, hash_equals, a
 * last-step replay check — and the median the benchmarks report.
 */

function b32(string $s): string
{
    $alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    $bits = 0;
    $value = 0;
    $out = '';
    foreach (str_split(rtrim(strtoupper($s), '=')) as $c) {
        $value = ($value << 5) | strpos($alphabet, $c);
        $bits += 5;
        if ($bits >= 8) {
            $bits -= 8;
            $out .= chr(($value >> $bits) & 0xff);
        }
    }

    return $out;
}

function hotp(string $key, int $step): string
{
    $h = hash_hmac('sha1', pack('J', $step), $key, true);
    $o = ord($h[19]) & 0xf;
    $bin = ((ord($h[$o]) & 0x7f) << 24) | (ord($h[$o + 1]) << 16) | (ord($h[$o + 2]) << 8) | ord($h[$o + 3]);

    return str_pad((string) ($bin % 1000000), 6, '0', STR_PAD_LEFT);
}

/** What a PHP plugin author would write: base32 decode, window 1, hash_equals, replay check. */
function plain_php_verify(string $secret, string $code, int $time, ?int &$lastStep): bool
{
    $code = str_replace(' ', '', $code);
    if (strlen($code) !== 6 || !ctype_digit($code)) {
        return false;
    }
    $key = b32($secret);
    $now = intdiv($time, 30);
    $accepted = null;
    for ($step = $now - 1; $step <= $now + 1; $step++) {
        if (hash_equals(hotp($key, $step), $code) && $accepted === null && ($lastStep === null || $step > $lastStep)) {
            $accepted = $step;
        }
    }
    if ($accepted === null) {
        return false;
    }
    $lastStep = $accepted;

    return true;
}

function median(array $a): float
{
    sort($a);

    return $a[intdiv(count($a), 2)];
}
