<?php
// Calls the plugin's admin API as an admin panel would: the `mail2fa_admin` hook of a booted
// Roundcube (plugins loaded from its config). Prints the hook's result as JSON.
//   php admin-hook.php COMMAND [USER]
define('INSTALL_PATH', '/var/lib/roundcube/');
require_once INSTALL_PATH . 'program/include/clisetup.php';
$r = rcmail::get_instance()->plugins->exec_hook('mail2fa_admin', ['command' => $argv[1], 'user' => $argv[2] ?? '']);
echo json_encode(['result' => $r['result'] ?? null, 'error' => $r['error'] ?? null]), "\n";
