<?php

/**
 * Storage of mail2fa user records.
 *
 * A driver keeps one row per user: the core's record (JSON, stored whole and never
 * interpreted here beyond the app-password projection), the record's `rev` as the
 * compare-and-set token, and the state the core reported. Every write is a
 * compare-and-set on `rev`, so several webmail nodes on one database never lose an
 * accepted TOTP step or an attempt count.
 */
interface mail2fa_storage
{
    /**
     * The stored row of a user, or null when there is none.
     *
     * @return array|null ['record' => array, 'rev' => int, 'state' => string, 'updated_at' => int]
     */
    public function load(string $user): ?array;

    /**
     * Writes a record by compare-and-set: when $expected_rev is null the row must not exist
     * yet, else the stored rev must equal it. The app-password projection is rewritten in
     * the same transaction. Returns false (and changes nothing) when another write won.
     *
     * @param array $app_passwords list of ['id', 'phc', 'label', 'created_at', 'tag' (string|null)]
     */
    public function save(string $user, array $record, int $rev, string $state, array $app_passwords, ?int $expected_rev): bool;

    /**
     * Deletes a user's row and projection by compare-and-set on rev (admin reset).
     */
    public function delete(string $user, int $expected_rev): bool;

    /**
     * Every stored user: list of ['username', 'state', 'rev', 'updated_at'].
     */
    public function list_users(): array;
}
