<?php

require_once __DIR__ . '/mail2fa_storage.php';

/**
 * SQL storage through Roundcube's rcube_db (SQLite, MySQL/MariaDB, PostgreSQL).
 *
 * Tables (SQL/<engine>.initial.sql): mail2fa_users (username PK, record, rev, state,
 * updated_at) and mail2fa_app_passwords (username, id, phc, label, created_at, tag), the
 * projection Dovecot reads. Config: mail2fa_db_dsn (default: Roundcube's db_dsnw).
 */
class mail2fa_sql_driver implements mail2fa_storage, \Mail2fa\TextStorage
{
    /** sync_projection's compare-and-set retries (the Service's rule: 8 tries, 1–20 ms apart). */
    const SYNC_TRIES = 8;

    /** @var rcube_db */
    private $db;
    private $users;
    private $apps;
    /** @var callable(string, array): array the Dovecot projection of a user's record */
    private $projection;

    /**
     * $projection(string $user, array $record) returns ['state' => string, 'app_passwords' =>
     * list of ['id', 'phc', 'label', 'created_at', 'tag' (string|null)]]: the core's
     * record.projection under the user's policy (mail2fa_engine::projection).
     */
    public function __construct(rcube $rc, callable $projection)
    {
        $dsn = $rc->config->get('mail2fa_db_dsn');
        if ($dsn) {
            $this->db = rcube_db::factory($dsn, '', false);
            $this->db->set_debug((bool) $rc->config->get('sql_debug'));
        }
        else {
            $this->db = $rc->get_dbh();
        }
        $this->db->db_connect('w');
        $this->users = $this->db->table_name('mail2fa_users', true);
        $this->apps  = $this->db->table_name('mail2fa_app_passwords', true);
        $this->projection = $projection;
    }

    public function get(string $user): ?array
    {
        $res = $this->db->query(
            "SELECT `record`, `rev`, `state`, `updated_at` FROM {$this->users} WHERE `username` = ?",
            $user
        );
        if ($this->db->is_error($res)) {
            throw new RuntimeException('mail2fa storage: reading the user row failed: ' . $this->db->is_error($res));
        }
        $row = $this->db->fetch_assoc($res);
        if (!$row) {
            return null;
        }
        $record = json_decode($row['record'], true);
        if (!is_array($record)) {
            // A row that is not JSON must never read as "2FA off": callers fail closed.
            throw new UnexpectedValueException('mail2fa storage: the stored record is not JSON');
        }

        return [
            'record'     => $record,
            'version'    => (int) $row['rev'],
            'state'      => (string) $row['state'],
            'updated_at' => (int) $row['updated_at'],
        ];
    }

    /**
     * The row with the record as the JSON text stored (\Mail2fa\TextStorage): ['text' => string,
     * 'version' => int (the row's rev)], or null. The Service's login check passes the text to
     * the core as is (the core refuses anything but one JSON object: the login is held).
     */
    public function getText(string $user): ?array
    {
        $res = $this->db->query("SELECT `record`, `rev` FROM {$this->users} WHERE `username` = ?", $user);
        if ($this->db->is_error($res)) {
            throw new RuntimeException('mail2fa storage: reading the user row failed: ' . $this->db->is_error($res));
        }
        $row = $this->db->fetch_assoc($res);

        return $row ? ['text' => (string) $row['record'], 'version' => (int) $row['rev']] : null;
    }

    /**
     * compareAndSet() of a record given as JSON text (as the core wrote it), stored as is. The
     * text is decoded here only for its rev and its Dovecot projection (a write, i.e. a changed
     * record: a login check that changed nothing writes nothing). Same checks, same
     * transaction and projection as compareAndSet.
     */
    public function compareAndSetText(string $user, int|string|null $expectedVersion, string $text): bool
    {
        $record = json_decode($text, true);
        if (!is_array($record)) {
            throw new InvalidArgumentException('mail2fa storage: the record is not a JSON object');
        }

        return $this->store($user, $expectedVersion, $record, $text);
    }

    /**
     * Stores $record (whose rev becomes the row's version) only while the row's rev is still
     * $expectedVersion (null: only while there is no row), and its projection in the same
     * transaction. The core raises rev on every change, so a record whose rev is not above
     * the expected one is refused (a version must never repeat).
     */
    public function compareAndSet(string $user, int|string|null $expectedVersion, array $record): bool
    {
        $json = json_encode($record, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        if ($json === false) {
            throw new InvalidArgumentException('mail2fa storage: the record does not encode as JSON');
        }

        return $this->store($user, $expectedVersion, $record, $json);
    }

    /** The write both compareAndSet forms share: $json is $record's text, stored as is. */
    private function store(string $user, int|string|null $expectedVersion, array $record, string $json): bool
    {
        $rev = $record['rev'] ?? null;
        if (!is_int($rev) || ($expectedVersion !== null && $rev <= (int) $expectedVersion)) {
            throw new InvalidArgumentException('mail2fa storage: the record\'s rev must be above the stored one');
        }
        // Computed before the transaction (a core call, no I/O); written inside it.
        $projection = ($this->projection)($user, $record);

        return $this->transaction(function () use ($user, $expectedVersion, $json, $rev, $projection) {
            if ($expectedVersion === null) {
                $this->db->set_option('ignore_key_errors', true);
                $res = $this->db->query(
                    "INSERT INTO {$this->users} (`username`, `record`, `rev`, `state`, `updated_at`) VALUES (?, ?, ?, ?, ?)",
                    $user, $json, $rev, (string) $projection['state'], time()
                );
                $this->db->set_option('ignore_key_errors', false);
            }
            else {
                $res = $this->db->query(
                    "UPDATE {$this->users} SET `record` = ?, `rev` = ?, `state` = ?, `updated_at` = ?"
                    . " WHERE `username` = ? AND `rev` = ?",
                    $json, $rev, (string) $projection['state'], time(), $user, (int) $expectedVersion
                );
            }

            return $this->affected_one($res) && $this->write_projection($user, $projection['app_passwords']);
        });
    }

    public function sync_projection(string $user): ?array
    {
        for ($try = 0; $try < self::SYNC_TRIES; $try++) {
            if ($try > 0) {
                usleep(random_int(1000, 20000));
            }
            $row = $this->get($user);
            if ($row === null) {
                return null;
            }
            $projection = ($this->projection)($user, $row['record']);
            $changed = false;
            // The row's rev stays as it is: the UPDATE only proves it is still the record read.
            $ok = $this->transaction(function () use ($user, $row, $projection, &$changed) {
                $res = $this->db->query(
                    "UPDATE {$this->users} SET `state` = ? WHERE `username` = ? AND `rev` = ?",
                    (string) $projection['state'], $user, $row['version']
                );
                $changed = $projection['state'] !== $row['state'];
                // MySQL counts only changed rows: an unchanged state is confirmed by reading the rev.
                $held = $this->affected_one($res) || (!$this->db->is_error($res) && $this->rev_of($user) === $row['version']);

                return $held && $this->write_projection($user, $projection['app_passwords'], $changed);
            });
            if ($ok) {
                return ['state' => (string) $projection['state'], 'app_passwords' => count($projection['app_passwords']),
                    'changed' => $changed];
            }
        }

        throw new \Mail2fa\Error('conflict', 'mail2fa: the record kept changing during the projection sync; try again');
    }

    public function list_users(): array
    {
        $res = $this->db->query(
            "SELECT `username`, `state`, `rev`, `updated_at` FROM {$this->users} ORDER BY `username`"
        );
        if ($this->db->is_error($res)) {
            throw new RuntimeException('mail2fa storage: listing users failed: ' . $this->db->is_error($res));
        }
        $out = [];
        while ($row = $this->db->fetch_assoc($res)) {
            $out[] = [
                'username'   => $row['username'],
                'state'      => $row['state'],
                'rev'        => (int) $row['rev'],
                'updated_at' => (int) $row['updated_at'],
            ];
        }

        return $out;
    }

    /** Runs $work in a transaction: committed when it returns true, rolled back otherwise. */
    private function transaction(callable $work): bool
    {
        $this->db->startTransaction();
        try {
            if (!$work()) {
                $this->db->rollbackTransaction();
                return false;
            }
            return (bool) $this->db->endTransaction();
        }
        catch (Throwable $e) {
            $this->db->rollbackTransaction();
            throw $e;
        }
    }

    /** The row's rev as this transaction sees it (null: no row). */
    private function rev_of(string $user): ?int
    {
        $res = $this->db->query("SELECT `rev` FROM {$this->users} WHERE `username` = ?", $user);
        $row = $this->db->is_error($res) ? null : $this->db->fetch_assoc($res);

        return $row ? (int) $row['rev'] : null;
    }

    /** Whether a compare-and-set statement hit its row (else another write came first). */
    private function affected_one($res): bool
    {
        return !$this->db->is_error($res) && $this->db->affected_rows($res) === 1;
    }

    /**
     * Makes mail2fa_app_passwords hold exactly the given app passwords of the user; returns
     * true, and sets $changed when a row was added, updated or removed.
     * Rows that stay are updated in place (not deleted and re-inserted), so columns another
     * component adds to the projection (e.g. Dovecot's last use) survive. `tag` is the record
     * entry's, copied as is (NULL when the entry has none: Dovecot then always hashes it); a row
     * written before the tag column existed gets it on the user's next record write.
     */
    private function write_projection(string $user, array $app_passwords, bool &$changed = false): bool
    {
        $existing = [];
        $res = $this->db->query("SELECT `id`, `phc`, `label`, `tag` FROM {$this->apps} WHERE `username` = ?", $user);
        if ($this->db->is_error($res)) {
            throw new RuntimeException('mail2fa storage: reading app passwords failed: ' . $this->db->is_error($res));
        }
        while ($row = $this->db->fetch_assoc($res)) {
            $existing[$row['id']] = $row;
        }

        $keep = [];
        foreach ($app_passwords as $app) {
            $id = (string) $app['id'];
            $tag = isset($app['tag']) ? (string) $app['tag'] : null;
            $keep[$id] = true;
            if (!isset($existing[$id])) {
                $res = $this->db->query(
                    "INSERT INTO {$this->apps} (`username`, `id`, `phc`, `label`, `created_at`, `tag`) VALUES (?, ?, ?, ?, ?, ?)",
                    $user, $id, (string) $app['phc'], (string) $app['label'], (int) $app['created_at'], $tag
                );
            }
            else if ($existing[$id]['phc'] !== $app['phc'] || $existing[$id]['label'] !== $app['label']
                || $existing[$id]['tag'] !== $tag
            ) {
                $res = $this->db->query(
                    "UPDATE {$this->apps} SET `phc` = ?, `label` = ?, `tag` = ? WHERE `username` = ? AND `id` = ?",
                    (string) $app['phc'], (string) $app['label'], $tag, $user, $id
                );
            }
            else {
                continue;
            }
            if ($this->db->is_error($res)) {
                throw new RuntimeException('mail2fa storage: writing an app password failed: ' . $this->db->is_error($res));
            }
            $changed = true;
        }
        foreach (array_keys($existing) as $id) {
            if (!isset($keep[$id])) {
                $res = $this->db->query("DELETE FROM {$this->apps} WHERE `username` = ? AND `id` = ?", $user, $id);
                if ($this->db->is_error($res)) {
                    throw new RuntimeException('mail2fa storage: removing an app password failed: ' . $this->db->is_error($res));
                }
                $changed = true;
            }
        }

        return true;
    }
}
