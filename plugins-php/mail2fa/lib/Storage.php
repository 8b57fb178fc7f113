<?php

declare(strict_types=1);

namespace Mail2fa;

/**
 * Where a Service keeps each user's record (docs/hosts.md §2). One row per canonical user:
 * the record exactly as the core returned it, and a version the storage bumps on every
 * write. The version is opaque to the Service; it is only handed back to compareAndSet.
 */
interface Storage
{
    /**
     * The user's row, or null when the user has none.
     *
     * @return array{record: array, version: int|string}|null
     */
    public function get(string $user): ?array;

    /**
     * Stores `$record` only while the stored version is still `$expectedVersion` (null: only
     * while the user has no row), atomically; says whether it wrote. A false answer means
     * another request wrote first: the Service reads again and re-runs the op.
     */
    public function compareAndSet(string $user, int|string|null $expectedVersion, array $record): bool;
}
