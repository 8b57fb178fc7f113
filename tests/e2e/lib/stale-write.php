<?php
// A write another webmail node computed from an older record, arriving late: the plugin's SQL
// driver stores RECORD (JSON) with rev EXPECTED+1 by compare-and-set on EXPECTED, as the
// engine would. Prints "landed" or "refused". Run with ROUNDCUBE_CONFIG_DIR.
//   php stale-write.php USER EXPECTED_REV RECORD_JSON
define('INSTALL_PATH', '/var/lib/roundcube/');
require_once INSTALL_PATH . 'program/include/clisetup.php';
require_once __DIR__ . '/../../../plugins-php/mail2fa/drivers/sql.php';

[, $user, $expected, $json] = $argv;
$record = json_decode($json, true);
$record['rev'] = (int) $expected + 1;
$driver = new mail2fa_sql_driver(rcmail::get_instance());
echo $driver->save($user, $record, (int) $expected + 1, 'enabled', [], (int) $expected) ? "landed\n" : "refused\n";
