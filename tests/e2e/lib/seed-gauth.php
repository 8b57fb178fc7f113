<?php
// Gives an existing Roundcube user twofactor_gauthenticator prefs, as that plugin stores
// them (with its twofactor_pref_encrypt option: each value encrypted by rcube::encrypt,
// i.e. with des_key). Test helper for the import scenario; run with ROUNDCUBE_CONFIG_DIR.
//   php seed-gauth.php USER SECRET ENCRYPT(0|1) [RECOVERY_CODE...]
define('INSTALL_PATH', '/var/lib/roundcube/');
require_once INSTALL_PATH . 'program/include/clisetup.php';
[$self, $user, $secret, $encrypt] = $argv;
$codes = array_slice($argv, 4);
$rcmail = rcmail::get_instance();
$db = $rcmail->get_dbh();
$row = $db->fetch_assoc($db->query('SELECT user_id FROM ' . $db->table_name('users', true) . ' WHERE username = ?', $user));
if (!$row) {
    fwrite(STDERR, "no Roundcube user $user\n");
    exit(1);
}
$enc = function ($v) use ($rcmail, $encrypt) { return $encrypt ? $rcmail->encrypt($v) : $v; };
$prefs = ['twofactor_gauthenticator' => [
    'secret' => $enc($secret),
    'activate' => true,
    'recovery_codes' => array_map($enc, $codes),
]];
$u = new rcube_user($row['user_id']);
if (!$u->save_prefs($prefs, true)) {
    fwrite(STDERR, "saving prefs failed\n");
    exit(1);
}
echo "ok\n";
