<?php

declare(strict_types=1);

namespace Mail2fa;

/**
 * A Storage kept in this PHP process (tests, tools). Same contract as any storage: the
 * version counts the writes of a user's row, so every write gets a new one. Like a database
 * (and like JS's MemoryStorage) it keeps each record as JSON text and offers it as such
 * (TextStorage: getText, compareAndSetText), which the Service's login check uses as is.
 */
final class MemoryStorage implements TextStorage
{
    /** How a record array becomes text: the bytes JSON.stringify (and the core) give for it. */
    private const JSON = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_LINE_TERMINATORS
        | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR;

    /** @var array<string, array{text: string, version: int}> */
    private array $rows = [];

    public function get(string $user): ?array
    {
        $row = $this->rows[$user] ?? null;

        return $row === null ? null
            : ['record' => json_decode($row['text'], true, 512, JSON_THROW_ON_ERROR), 'version' => $row['version']];
    }

    public function compareAndSet(string $user, int|string|null $expectedVersion, array $record): bool
    {
        return $this->compareAndSetText($user, $expectedVersion, json_encode($record, self::JSON));
    }

    public function getText(string $user): ?array
    {
        // PHP arrays are values: the caller gets a copy it cannot change the row through.
        return $this->rows[$user] ?? null;
    }

    public function compareAndSetText(string $user, int|string|null $expectedVersion, string $text): bool
    {
        $current = isset($this->rows[$user]) ? $this->rows[$user]['version'] : null;
        if ($current !== $expectedVersion) {
            return false;
        }
        $this->rows[$user] = ['text' => $text, 'version' => ($current ?? 0) + 1];

        return true;
    }
}
