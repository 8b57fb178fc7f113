<?php
// What the Roundcube plugin does with a record a core op returned: the projection rows taken
// from the record's own entries (mail2fa_engine::app_passwords_of, tag included) written by
// the plugin's SQL driver with the record, by compare-and-set on rev, in one transaction.
// stdin: {"user", "record", "state"} as JSON. ROUNDCUBE_CONFIG_DIR: a config whose db_dsnw is
// the test database. Prints "saved"; exits non-zero when the write lost or failed.
define('INSTALL_PATH', '/var/lib/roundcube/');
require_once INSTALL_PATH . 'program/include/clisetup.php';
$plugin = dirname(__DIR__, 2) . '/plugins-php/mail2fa';
require_once $plugin . '/drivers/sql.php';
require_once $plugin . '/mail2fa_engine.php';

$in = json_decode(stream_get_contents(STDIN), true);
if (!is_array($in) || !isset($in['user'], $in['record'], $in['state'])) {
    fwrite(STDERR, "store.php: expected {user, record, state} on stdin\n");
    exit(2);
}
$driver = new mail2fa_sql_driver(rcmail::get_instance());
$row = $driver->load($in['user']);
$ok = $driver->save($in['user'], $in['record'], (int) $in['record']['rev'], $in['state'],
    mail2fa_engine::app_passwords_of($in['record']), $row ? $row['rev'] : null);
if (!$ok) {
    fwrite(STDERR, "store.php: the compare-and-set write lost\n");
    exit(1);
}
echo "saved\n";
