<?php

declare(strict_types=1);

namespace Mail2fa;

/**
 * A Storage that also offers each record as the JSON text it keeps (a database column, a
 * file): the optional capability JS's Mail2fa finds as `getText`/`compareAndSetText` on its
 * storage (plugins-js/lib/server.js; MemoryStorage and SqliteStorage offer it there too).
 * Mail2fa\Service's login check (beginLogin, verifyLogin) then hands the stored text to the
 * core as is and stores the text the core returns as is — no json_decode of the stored
 * record, no json_encode of the new one (docs/hosts.md §2). Same rows, same versions and
 * the same compare-and-set rule as get/compareAndSet: a text written here reads back through
 * get() as the record it encodes, and the other way round.
 */
interface TextStorage extends Storage
{
    /**
     * The user's row with the record as the JSON text stored, or null when the user has none.
     *
     * @return array{text: string, version: int|string}|null
     */
    public function getText(string $user): ?array;

    /**
     * compareAndSet() of a record given as JSON text (as the core wrote it): stores `$text`
     * as is only while the stored version is still `$expectedVersion` (null: only while the
     * user has no row), atomically; says whether it wrote. A storage that feeds a Dovecot
     * passdb writes the record's projection in the same transaction, as compareAndSet does.
     */
    public function compareAndSetText(string $user, int|string|null $expectedVersion, string $text): bool;
}
