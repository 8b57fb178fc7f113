<?php
// A write another webmail node computed from an older record, arriving late: the plugin's SQL
// driver (with the engine's projection) stores RECORD (JSON) with rev EXPECTED+1 by
// compare-and-set on version EXPECTED, as the Service would. Prints "landed" or "refused".
// Run with ROUNDCUBE_CONFIG_DIR.
//   php stale-write.php USER EXPECTED_REV RECORD_JSON
define('INSTALL_PATH', '/var/lib/roundcube/');
require_once INSTALL_PATH . 'program/include/clisetup.php';
require_once __DIR__ . '/../../../plugins-php/mail2fa/mail2fa_engine.php';

[, $user, $expected, $json] = $argv;
$record = json_decode($json, true);
$record['rev'] = (int) $expected + 1;
$storage = (new mail2fa_engine(rcmail::get_instance()))->storage();
echo $storage->compareAndSet($user, (int) $expected, $record) ? "landed\n" : "refused\n";
