<?php
// The trusted-device cookie's attributes as the plugin sets them (mail2fa_web::device_cookie_options):
// HttpOnly and SameSite=Strict always, Secure whenever Roundcube sees https. The browser
// suite checks the cookie Chromium receives over http; this covers https without a TLS server.
// Prints one line per check and "N passed, N failed". Run with ROUNDCUBE_CONFIG_DIR.
define('INSTALL_PATH', '/var/lib/roundcube/');
require_once INSTALL_PATH . 'program/include/clisetup.php';
require_once __DIR__ . '/../../../plugins-php/mail2fa/mail2fa_web.php';

$pass = $fail = 0;
$check = function ($name, $ok) use (&$pass, &$fail) {
    echo ($ok ? 'ok   ' : 'FAIL ') . "$name\n";
    $ok ? $pass++ : $fail++;
};
unset($_SERVER['HTTPS']);
$http = mail2fa_web::device_cookie_options(1900000000);
$check('http: HttpOnly', $http['httponly'] === true);
$check('http: SameSite=Strict', $http['samesite'] === 'Strict');
$check('http: not Secure (the browser would drop it)', $http['secure'] === false);
$check('expires at the core\'s device_expires_at', $http['expires'] === 1900000000);
$_SERVER['HTTPS'] = 'on';
$https = mail2fa_web::device_cookie_options(1900000000);
$check('https: Secure', $https['secure'] === true);
$check('https: HttpOnly and SameSite=Strict', $https['httponly'] === true && $https['samesite'] === 'Strict');
echo "$pass passed, $fail failed\n";
exit($fail ? 1 : 0);
