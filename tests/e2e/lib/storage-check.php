<?php
// Exercises the plugin's SQL driver (plugins-php/mail2fa/drivers/sql.php) against the
// environment's database: compare-and-set on rev, insert races, the app-password projection
// rewritten in the same transaction, delete by rev. Run with ROUNDCUBE_CONFIG_DIR; prints
// one line per check and "N passed, N failed".
define('INSTALL_PATH', '/var/lib/roundcube/');
require_once INSTALL_PATH . 'program/include/clisetup.php';
require_once __DIR__ . '/../../../plugins-php/mail2fa/drivers/sql.php';

$rc = rcmail::get_instance();
$a = new mail2fa_sql_driver($rc);
$b = new mail2fa_sql_driver($rc); // a second connection: another webmail node
$user = 'storage-check-' . bin2hex(random_bytes(4));
$pass = 0;
$fail = 0;
$check = function ($name, $ok) use (&$pass, &$fail) {
    echo ($ok ? 'ok   ' : 'FAIL ') . $name . "\n";
    $ok ? $pass++ : $fail++;
};
$rec = function ($rev) { return ['format' => 1, 'rev' => $rev, 'note' => "ünïcode $rev"]; };
$app = function ($id, $label = 'x') { return ['id' => $id, 'phc' => '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$' . $id, 'label' => $label, 'created_at' => 1700000000]; };
$apps = function () use ($rc, $user) {
    $db = $rc->get_dbh();
    $res = $db->query('SELECT id, label FROM mail2fa_app_passwords WHERE username = ? ORDER BY id', $user);
    $out = [];
    while ($r = $db->fetch_assoc($res)) { $out[] = $r['id'] . ':' . $r['label']; }
    return $out;
};

$check('load of an unknown user is null', $a->load($user) === null);
$check('insert of a new row', $a->save($user, $rec(1), 1, 'pending', [$app('a1'), $app('a2')], null));
$check('a second insert of the same user loses (no overwrite)', !$b->save($user, $rec(1), 1, 'enabled', [], null));
$row = $b->load($user);
$check('the row reads back whole (record JSON, rev, state)', $row['record'] === $rec(1) && $row['rev'] === 1 && $row['state'] === 'pending');
$check('projection written with the record', $apps() === ['a1:x', 'a2:x']);
$check('compare-and-set from rev 1 wins', $a->save($user, $rec(2), 2, 'enabled', [$app('a2', 'renamed'), $app('a3')], 1));
$check('a concurrent write from the stale rev 1 loses', !$b->save($user, $rec(2), 2, 'disabled', [], 1));
$check('the losing write changed nothing', $a->load($user)['state'] === 'enabled' && $apps() === ['a2:renamed', 'a3:x']);
$check('projection follows the record (revoked gone, label updated, new added)', $apps() === ['a2:renamed', 'a3:x']);
$check('delete by a stale rev loses', !$b->delete($user, 1));
$check('delete by the current rev wins', $a->delete($user, 2));
$check('after delete: no row, no app passwords', $a->load($user) === null && $apps() === []);
$check('list_users has no deleted user', !in_array($user, array_column($a->list_users(), 'username'), true));
echo "$pass passed, $fail failed\n";
exit($fail ? 1 : 0);
