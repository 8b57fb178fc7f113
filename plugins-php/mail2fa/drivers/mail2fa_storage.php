<?php

require_once __DIR__ . '/../lib/autoload.php';

/**
 * Storage of mail2fa user records for the plugin: a \Mail2fa\Storage (get, compareAndSet —
 * what Mail2fa\Service runs on) that also feeds the Dovecot passdb and lists its users.
 *
 * A driver keeps one row per canonical user: the core's record (JSON, stored whole), the
 * record's `rev` as the compare-and-set version, and the state of its projection. Every
 * write is a compare-and-set on `rev`, so several webmail nodes on one database never lose an
 * accepted TOTP step or an attempt count. Rows are never deleted (an admin reset writes the
 * core's record.reset); docs/hosts.md §2.
 */
interface mail2fa_storage extends \Mail2fa\Storage
{
    /**
     * get() returns ['record' => array, 'version' => int (the row's rev), 'state' => string
     * (the projection's), 'updated_at' => int], or null when the user has no row.
     *
     * compareAndSet() writes the record and, in the same transaction, its Dovecot projection
     * (record.projection with the user's policy), so record and projection never disagree.
     */

    /**
     * Rewrites the Dovecot projection of a user's stored record under the current policy (a
     * policy change takes effect without waiting for the user's next write), by
     * compare-and-set on the row's rev; the record itself is not changed. Null when the user
     * has no row, else ['state' => string, 'app_passwords' => int, 'changed' => bool].
     */
    public function sync_projection(string $user): ?array;

    /**
     * Every stored user: list of ['username', 'state', 'rev', 'updated_at'].
     */
    public function list_users(): array;
}
