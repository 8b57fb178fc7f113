<?php
// Runs one SQL statement against a Roundcube DSN (sqlite:///path or pgsql://u:p@host:port/db)
// with PDO and prints the rows as JSON. Test helper for tests/e2e.
[$self, $dsn, $query, $params] = $argv + [3 => '[]'];
if (preg_match('~^sqlite://(/.+?)(\?.*)?$~', $dsn, $m)) {
    $pdo = new PDO('sqlite:' . $m[1]);
    $pdo->setAttribute(PDO::ATTR_TIMEOUT, 10);
} else if (preg_match('~^pgsql://([^:]+):([^@]*)@([^:/]+):(\d+)/(.+)$~', $dsn, $m)) {
    $pdo = new PDO("pgsql:host={$m[3]};port={$m[4]};dbname={$m[5]}", $m[1], $m[2]);
} else {
    fwrite(STDERR, "db.php: unsupported DSN\n");
    exit(2);
}
$pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
$st = $pdo->prepare($query);
$st->execute(json_decode($params, true));
echo json_encode($st->columnCount() ? $st->fetchAll(PDO::FETCH_ASSOC) : []);
