<?php

require_once __DIR__ . '/mail2fa_storage.php';

/**
 * SQL storage through Roundcube's rcube_db (SQLite, MySQL/MariaDB, PostgreSQL).
 *
 * Tables (SQL/<engine>.initial.sql): mail2fa_users (username PK, record, rev, state,
 * updated_at) and mail2fa_app_passwords (username, id, phc, label, created_at, tag), the
 * projection Dovecot reads. Config: mail2fa_db_dsn (default: Roundcube's db_dsnw).
 */
class mail2fa_sql_driver implements mail2fa_storage
{
    /** @var rcube_db */
    private $db;
    private $users;
    private $apps;

    public function __construct(rcube $rc)
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
    }

    public function load(string $user): ?array
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
            'rev'        => (int) $row['rev'],
            'state'      => (string) $row['state'],
            'updated_at' => (int) $row['updated_at'],
        ];
    }

    public function save(string $user, array $record, int $rev, string $state, array $app_passwords, ?int $expected_rev): bool
    {
        $json = json_encode($record, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        if ($json === false) {
            throw new InvalidArgumentException('mail2fa storage: the record does not encode as JSON');
        }
        $now = time();

        $this->db->startTransaction();
        try {
            if ($expected_rev === null) {
                $this->db->set_option('ignore_key_errors', true);
                $res = $this->db->query(
                    "INSERT INTO {$this->users} (`username`, `record`, `rev`, `state`, `updated_at`) VALUES (?, ?, ?, ?, ?)",
                    $user, $json, $rev, $state, $now
                );
                $this->db->set_option('ignore_key_errors', false);
            }
            else {
                $res = $this->db->query(
                    "UPDATE {$this->users} SET `record` = ?, `rev` = ?, `state` = ?, `updated_at` = ?"
                    . " WHERE `username` = ? AND `rev` = ?",
                    $json, $rev, $state, $now, $user, $expected_rev
                );
            }
            if ($this->db->is_error($res) || $this->db->affected_rows($res) !== 1) {
                $this->db->rollbackTransaction();
                return false;
            }
            $this->write_projection($user, $app_passwords);
            if (!$this->db->endTransaction()) {
                return false;
            }
        }
        catch (Throwable $e) {
            $this->db->rollbackTransaction();
            throw $e;
        }

        return true;
    }

    public function delete(string $user, int $expected_rev): bool
    {
        $this->db->startTransaction();
        try {
            $res = $this->db->query(
                "DELETE FROM {$this->users} WHERE `username` = ? AND `rev` = ?",
                $user, $expected_rev
            );
            if ($this->db->is_error($res) || $this->db->affected_rows($res) !== 1) {
                $this->db->rollbackTransaction();
                return false;
            }
            $this->write_projection($user, []);
            if (!$this->db->endTransaction()) {
                return false;
            }
        }
        catch (Throwable $e) {
            $this->db->rollbackTransaction();
            throw $e;
        }

        return true;
    }

    public function list_users(): array
    {
        $res = $this->db->query(
            "SELECT `username`, `state`, `rev`, `updated_at` FROM {$this->users} ORDER BY `username`"
        );
        $out = [];
        while ($res && ($row = $this->db->fetch_assoc($res))) {
            $out[] = [
                'username'   => $row['username'],
                'state'      => $row['state'],
                'rev'        => (int) $row['rev'],
                'updated_at' => (int) $row['updated_at'],
            ];
        }

        return $out;
    }

    /**
     * Makes mail2fa_app_passwords hold exactly the given app passwords of the user.
     * Rows that stay are updated in place (not deleted and re-inserted), so columns another
     * component adds to the projection (e.g. Dovecot's last use) survive. `tag` is the record
     * entry's, copied as is (NULL when the entry has none: Dovecot then always hashes it); a row
     * written before the tag column existed gets it on the user's next record write.
     */
    private function write_projection(string $user, array $app_passwords): void
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
        }
        foreach (array_keys($existing) as $id) {
            if (!isset($keep[$id])) {
                $res = $this->db->query("DELETE FROM {$this->apps} WHERE `username` = ? AND `id` = ?", $user, $id);
                if ($this->db->is_error($res)) {
                    throw new RuntimeException('mail2fa storage: removing an app password failed: ' . $this->db->is_error($res));
                }
            }
        }
    }
}
