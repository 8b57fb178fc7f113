<?php
// What the Roundcube plugin does with a record a core op returned: the core's projection
// (record.projection: the state and the app-password rows Dovecot may see) written by the
// plugin's SQL driver with the record, by compare-and-set on rev, in one transaction.
// stdin: {"user", "record", "state", "app_passwords"} as JSON (state and app_passwords from
// record.projection). ROUNDCUBE_CONFIG_DIR: a config whose db_dsnw is the test database.
// Prints "saved"; exits non-zero when the write lost or failed.
define('INSTALL_PATH', '/var/lib/roundcube/');
require_once INSTALL_PATH . 'program/include/clisetup.php';
$plugin = dirname(__DIR__, 2) . '/plugins-php/mail2fa';
require_once $plugin . '/drivers/sql.php';

$in = json_decode(stream_get_contents(STDIN), true);
if (!is_array($in) || !isset($in['user'], $in['record'], $in['state']) || !is_array($in['app_passwords'] ?? null)) {
    fwrite(STDERR, "store.php: expected {user, record, state, app_passwords} on stdin\n");
    exit(2);
}
$rows = array_map(function ($a) {
    return [
        'id'         => (string) $a['id'],
        'phc'        => (string) $a['phc'],
        'label'      => (string) ($a['label'] ?? ''),
        'created_at' => (int) ($a['created_at'] ?? 0),
        'tag'        => isset($a['tag']) ? (string) $a['tag'] : null,
    ];
}, $in['app_passwords']);
// The projection the test computed with record.projection, as the plugin's engine hands it.
$driver = new mail2fa_sql_driver(rcmail::get_instance(), function () use ($in, $rows) {
    return ['state' => (string) $in['state'], 'app_passwords' => $rows];
});
$row = $driver->get($in['user']);
$ok = $driver->compareAndSet($in['user'], $row ? $row['version'] : null, $in['record']);
if (!$ok) {
    fwrite(STDERR, "store.php: the compare-and-set write lost\n");
    exit(1);
}
echo "saved\n";
