<?php
// The client IP rules of the plugin (mail2fa_engine::client_ip / ip_in) under a Roundcube
// config: only the header mail2fa_client_ip_header names (default X-Forwarded-For) is
// believed, and only from mail2fa_trusted_proxies; Client-IP never; the network allow-list
// matches IPv4/IPv6 CIDRs. Prints one line per check and "N passed, N failed".
define('INSTALL_PATH', '/var/lib/roundcube/');
require_once INSTALL_PATH . 'program/include/clisetup.php';
require_once '/var/lib/roundcube/plugins/mail2fa/mail2fa_engine.php';

$rc = rcmail::get_instance();
$rc->config->set('mail2fa_trusted_proxies', ['10.0.0.1', '192.0.2.0/24', '2001:db8::/32']);
$e = new mail2fa_engine($rc);
$pass = $fail = 0;
$check = function ($name, $got, $want) use (&$pass, &$fail) {
    $ok = $got === $want;
    echo ($ok ? 'ok   ' : 'FAIL ') . "$name" . ($ok ? '' : " (got " . var_export($got, true) . ')') . "\n";
    $ok ? $pass++ : $fail++;
};
$ip = function (array $server) use ($e) {
    $_SERVER = $server;
    return $e->client_ip();
};
$check('no proxy: REMOTE_ADDR', $ip(['REMOTE_ADDR' => '203.0.113.9']), '203.0.113.9');
$check('X-Forwarded-For from an untrusted peer is ignored',
    $ip(['REMOTE_ADDR' => '203.0.113.9', 'HTTP_X_FORWARDED_FOR' => '198.51.100.7']), '203.0.113.9');
$check('Client-IP from an untrusted peer is ignored',
    $ip(['REMOTE_ADDR' => '203.0.113.9', 'HTTP_CLIENT_IP' => '198.51.100.7']), '203.0.113.9');
$check('X-Forwarded-For from a trusted proxy is believed',
    $ip(['REMOTE_ADDR' => '10.0.0.1', 'HTTP_X_FORWARDED_FOR' => '198.51.100.7']), '198.51.100.7');
$check('the right-most untrusted hop wins (a client cannot prepend a fake address)',
    $ip(['REMOTE_ADDR' => '10.0.0.1', 'HTTP_X_FORWARDED_FOR' => '1.1.1.1, 198.51.100.7, 192.0.2.5']), '198.51.100.7');
$check('hops left of the nearest untrusted one do not matter',
    $ip(['REMOTE_ADDR' => '10.0.0.1', 'HTTP_X_FORWARDED_FOR' => 'evil, 198.51.100.7']), '198.51.100.7');
$check('a malformed hop nearest the proxy falls back to the peer',
    $ip(['REMOTE_ADDR' => '10.0.0.1', 'HTTP_X_FORWARDED_FOR' => '198.51.100.7, evil']), '10.0.0.1');
// Changed: Client-IP used to be believed from a trusted proxy when X-Forwarded-For was absent
// (an allow-list bypass and forged fail2ban addresses). Only the named header counts now.
$check('Client-IP from a trusted proxy is ignored (not the named header)',
    $ip(['REMOTE_ADDR' => '192.0.2.77', 'HTTP_CLIENT_IP' => '198.51.100.8']), '192.0.2.77');
$check('Client-IP beside X-Forwarded-For from a trusted proxy: X-Forwarded-For counts',
    $ip(['REMOTE_ADDR' => '192.0.2.77', 'HTTP_CLIENT_IP' => '198.51.100.8', 'HTTP_X_FORWARDED_FOR' => '203.0.113.50']), '203.0.113.50');
$rc->config->set('mail2fa_client_ip_header', 'X-Real-IP');
$check('mail2fa_client_ip_header X-Real-IP: that header is believed from a trusted proxy',
    $ip(['REMOTE_ADDR' => '10.0.0.1', 'HTTP_X_REAL_IP' => '198.51.100.9', 'HTTP_X_FORWARDED_FOR' => '203.0.113.50']), '198.51.100.9');
$check('mail2fa_client_ip_header X-Real-IP: X-Forwarded-For is then ignored',
    $ip(['REMOTE_ADDR' => '10.0.0.1', 'HTTP_X_FORWARDED_FOR' => '203.0.113.50']), '10.0.0.1');
$check('mail2fa_client_ip_header X-Real-IP: still ignored from an untrusted peer',
    $ip(['REMOTE_ADDR' => '203.0.113.9', 'HTTP_X_REAL_IP' => '198.51.100.9']), '203.0.113.9');
$rc->config->set('mail2fa_client_ip_header', '');
$check("mail2fa_client_ip_header '': no header is believed",
    $ip(['REMOTE_ADDR' => '10.0.0.1', 'HTTP_X_FORWARDED_FOR' => '203.0.113.50']), '10.0.0.1');
$rc->config->set('mail2fa_client_ip_header', 'X-Forwarded-For');
$check('IPv6 proxy range', $ip(['REMOTE_ADDR' => '2001:db8::1', 'HTTP_X_FORWARDED_FOR' => '2001:db9::5']), '2001:db9::5');
$check('ip_in: v4 CIDR', mail2fa_engine::ip_in('192.0.2.200', ['192.0.2.128/25']), true);
$check('ip_in: v4 outside CIDR', mail2fa_engine::ip_in('192.0.2.100', ['192.0.2.128/25']), false);
$check('ip_in: v6 in a v4 list', mail2fa_engine::ip_in('::1', ['127.0.0.0/8']), false);
$check('ip_in: exact', mail2fa_engine::ip_in('127.0.0.1', ['127.0.0.1']), true);
echo "$pass passed, $fail failed\n";
exit($fail ? 1 : 0);
