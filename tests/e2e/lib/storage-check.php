<?php
// Exercises the plugin's SQL driver (plugins-php/mail2fa/drivers/sql.php), the Mail2fa\Storage
// the plugin's Service runs on, against the environment's database: compare-and-set on the
// row's rev, insert races, the app-password projection written in the same transaction as
// the record (a projection that fails to write leaves the record unwritten), versions that
// never repeat, sync_projection after a policy change. The projection function stands in for
// the engine's (record.projection under the user's policy), so the records here are plain.
// Run with ROUNDCUBE_CONFIG_DIR; prints one line per check and "N passed, N failed".
define('INSTALL_PATH', '/var/lib/roundcube/');
require_once INSTALL_PATH . 'program/include/clisetup.php';
require_once __DIR__ . '/../../../plugins-php/mail2fa/drivers/sql.php';

$rc = rcmail::get_instance();
// The "policy": when $apps_allowed is false, no app password is projected (as without
// app_password in the policy's methods).
$apps_allowed = true;
$project = function (string $user, array $record) use (&$apps_allowed) {
    return ['state' => $record['test_state'], 'app_passwords' => $apps_allowed ? $record['test_apps'] : []];
};
$a = new mail2fa_sql_driver($rc, $project);
$b = new mail2fa_sql_driver($rc, $project); // a second connection: another webmail node
$user = 'storage-check-' . bin2hex(random_bytes(4));
$pass = 0;
$fail = 0;
$check = function ($name, $ok) use (&$pass, &$fail) {
    echo ($ok ? 'ok   ' : 'FAIL ') . $name . "\n";
    $ok ? $pass++ : $fail++;
};
$app = function ($id, $label = 'x') { return ['id' => $id, 'phc' => '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$' . $id, 'label' => $label, 'created_at' => 1700000000, 'tag' => null]; };
$rec = function ($rev, $state, $apps) { return ['format' => 1, 'rev' => $rev, 'note' => "ünïcode $rev", 'test_state' => $state, 'test_apps' => $apps]; };
$apps = function () use ($rc, $user) {
    $db = $rc->get_dbh();
    $res = $db->query('SELECT id, label FROM mail2fa_app_passwords WHERE username = ? ORDER BY id', $user);
    $out = [];
    while ($r = $db->fetch_assoc($res)) { $out[] = $r['id'] . ':' . $r['label']; }
    return $out;
};
$throws = function (callable $f) { try { $f(); return false; } catch (Throwable $e) { return true; } };

$check('get of an unknown user is null', $a->get($user) === null);
$r1 = $rec(1, 'pending', [$app('a1'), $app('a2')]);
$check('insert of a new row (expected version null)', $a->compareAndSet($user, null, $r1));
$check('a second insert of the same user loses (no overwrite)', !$b->compareAndSet($user, null, $rec(1, 'enabled', [])));
$row = $b->get($user);
$check('the row reads back whole (record JSON, version = rev, state from the projection)',
    $row['record'] === $r1 && $row['version'] === 1 && $row['state'] === 'pending');
$check('projection written with the record', $apps() === ['a1:x', 'a2:x']);
$r2 = $rec(2, 'enabled', [$app('a2', 'renamed'), $app('a3')]);
$check('compare-and-set from version 1 wins', $a->compareAndSet($user, 1, $r2));
$check('a concurrent write from the stale version 1 loses', !$b->compareAndSet($user, 1, $rec(2, 'disabled', [])));
$check('the losing write changed nothing', $a->get($user)['record'] === $r2 && $apps() === ['a2:renamed', 'a3:x']);
$check('a record whose rev is not above the stored one is refused (versions never repeat)',
    $throws(function () use ($a, $user, $rec) { $a->compareAndSet($user, 2, $rec(2, 'disabled', [])); })
    && $a->get($user)['record'] === $r2);
// Two rows with one id: the second INSERT of the projection fails inside the transaction
// (Roundcube prints that duplicate-key ERROR on stderr in the CLI: it is this check's own).
$check('a projection that fails to write rolls the record back (one transaction)',
    $throws(function () use ($a, $user, $rec, $app) { $a->compareAndSet($user, 2, $rec(3, 'disabled', [$app('a4'), $app('a4')])); })
    && $b->get($user)['record'] === $r2 && $apps() === ['a2:renamed', 'a3:x']);
$apps_allowed = false;
$s = $a->sync_projection($user);
$check('sync_projection after a policy change: projection rewritten, record and rev kept',
    $s === ['state' => 'enabled', 'app_passwords' => 0, 'changed' => true] && $apps() === []
    && $b->get($user)['record'] === $r2 && $b->get($user)['version'] === 2);
$check('sync_projection again: nothing to change', $a->sync_projection($user) === ['state' => 'enabled', 'app_passwords' => 0, 'changed' => false]);
$apps_allowed = true;
$check('sync_projection back: the rows return', $b->sync_projection($user)['changed'] === true && $apps() === ['a2:renamed', 'a3:x']);
$check('sync_projection of a user without a row is null', $a->sync_projection($user . '-none') === null);
$listed = array_values(array_filter($a->list_users(), function ($u) use ($user) { return $u['username'] === $user; }));
$check('list_users lists the row with its state and rev', $listed === [['username' => $user, 'state' => 'enabled', 'rev' => 2, 'updated_at' => $listed[0]['updated_at'] ?? null]]);
$check('the driver deletes no rows (an admin reset is a record.reset write)', !method_exists($a, 'delete'));
// The test's row goes (by plain SQL: the driver deletes nothing), so the admin tool's loops
// over every user (rotate-keys, sync-projection) see real records only.
$db = $rc->get_dbh();
$db->query('DELETE FROM mail2fa_app_passwords WHERE username = ?', $user);
$db->query('DELETE FROM mail2fa_users WHERE username = ?', $user);
$check('the test row is removed again', $a->get($user) === null && $apps() === []);
echo "$pass passed, $fail failed\n";
exit($fail ? 1 : 0);
