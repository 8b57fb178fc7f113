<?php

declare(strict_types=1);

namespace Mail2fa;

/**
 * A Storage kept in this PHP process (tests, tools). Same contract as any storage: the
 * version counts the writes of a user's row, so every write gets a new one.
 */
final class MemoryStorage implements Storage
{
    /** @var array<string, array{record: array, version: int}> */
    private array $rows = [];

    public function get(string $user): ?array
    {
        // PHP arrays are values: the caller gets a copy it cannot change the row through.
        return $this->rows[$user] ?? null;
    }

    public function compareAndSet(string $user, int|string|null $expectedVersion, array $record): bool
    {
        $current = isset($this->rows[$user]) ? $this->rows[$user]['version'] : null;
        if ($current !== $expectedVersion) {
            return false;
        }
        $this->rows[$user] = ['record' => $record, 'version' => ($current ?? 0) + 1];

        return true;
    }
}
