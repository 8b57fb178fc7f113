<?php

/*
 * Writes the two files PHP needs to use mail2fa under Debian's default ffi.enable=preload:
 *
 *   <out>/mail2fa.h    the C declarations (mail2fa.h here) with FFI_LIB set to the library's
 *                      absolute path, for ffi.preload
 *   <out>/mail2fa.ini  the php.ini snippet: ffi.preload of that header, opcache.preload of
 *                      preload.php (the adapter classes), opcache.preload_user
 *
 * Usage: php configure.php [--library=/abs/libmail2fa_host.so] [--out=DIR] [--preload-user=www-data]
 * Defaults: the plugin's dist/ for --out, and for --library dist/libmail2fa_host.so (a source
 * build) or the release archive's dist/linux-<this machine>/libmail2fa_host.so.
 * `make host` runs it for dist/. See ../README.md.
 */

$opts = getopt('', ['library:', 'out:', 'preload-user::']);
$dist = dirname(__DIR__) . '/dist';
if (empty($opts['library'])) {
    $opts['library'] = is_file("$dist/libmail2fa_host.so") ? "$dist/libmail2fa_host.so"
        : "$dist/linux-" . php_uname('m') . '/libmail2fa_host.so';
}
$opts['out'] = empty($opts['out']) ? $dist : $opts['out'];
$library = realpath($opts['library']);
if ($library === false || !is_file($library)) {
    fwrite(STDERR, "configure.php: no library at {$opts['library']} (the release archive ships dist/linux-x86_64 and"
        . ' dist/linux-aarch64; this machine is ' . php_uname('m') . "; from source: make host)\n");
    exit(1);
}
$out = rtrim($opts['out'], '/');
if (!is_dir($out) && !mkdir($out, 0755, true)) {
    fwrite(STDERR, "configure.php: cannot create $out\n");
    exit(1);
}
$out = realpath($out);
$user = $opts['preload-user'] ?? 'www-data';
if (!preg_match('/^[a-z_][a-z0-9_-]*$/i', $user)) {
    fwrite(STDERR, "configure.php: invalid --preload-user\n");
    exit(2);
}
foreach ([$library, $out, __DIR__] as $path) {
    if (preg_match('/["\r\n;]/', $path)) {
        fwrite(STDERR, "configure.php: unsupported character in path $path\n");
        exit(1);
    }
}

$header = file_get_contents(__DIR__ . '/mail2fa.h');
$header = preg_replace('/^#define FFI_LIB .*$/m', '#define FFI_LIB "' . $library . '"', $header, 1, $count);
if ($count !== 1) {
    fwrite(STDERR, "configure.php: mail2fa.h has no FFI_LIB line\n");
    exit(1);
}
file_put_contents("$out/mail2fa.h", $header);

$preload = __DIR__ . '/preload.php';
file_put_contents("$out/mail2fa.ini", <<<INI
; mail2fa: PHP FFI in Debian's default ffi.enable=preload mode (written by configure.php).
; Put it in php.ini or conf.d of the SAPI (e.g. /etc/php/8.2/fpm/conf.d/30-mail2fa.ini);
; opcache.preload is ignored as a pool php_admin_value.
ffi.enable = preload
ffi.preload = "$out/mail2fa.h"
opcache.enable = 1
opcache.preload = "$preload"
; The user the preload script runs as when the master starts as root (the pool's user).
opcache.preload_user = $user

INI);
echo "configure.php: wrote $out/mail2fa.h and $out/mail2fa.ini\n";
