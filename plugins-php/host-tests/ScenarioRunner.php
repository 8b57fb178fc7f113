<?php

declare(strict_types=1);

use Mail2fa\Core;
use Mail2fa\MemoryStorage;
use Mail2fa\Service;
use Mail2fa\Storage;
use Mail2fa\TextStorage;

/**
 * Runs one host-level scenario (tests/scenarios/*.json, format in its README.md) against
 * Mail2fa\Service and returns its transcript: every result and every compare-and-set with the
 * record as stored. The PHP twin of tests/scenarios/run.mjs (the JS runner that recorded
 * expected/<name>.json): same entropy stream, same clock, same storage log, same transcript.
 * With `$text` the storage offers the stored JSON text (TextStorage), so the Service takes
 * the login check's text path, as JS's runner does with `{text: true}`.
 */
final class ScenarioRunner
{
    /** The public methods a step may call (the same list as run.mjs's CALLS). */
    public const CALLS = [
        'canonicalUser', 'status', 'beginLogin', 'verifyLogin', 'enroll', 'confirm', 'cancelEnrollment', 'disable',
        'importUri', 'importLegacy', 'exportUri', 'rotateKey', 'generateBackupCodes', 'verifyBackupCode',
        'backupCodesStatus', 'createAppPassword', 'listAppPasswords', 'verifyAppPassword', 'projection',
        'revokeAppPassword', 'revokeAllAppPasswords', 'passwordChanged', 'trustDevice', 'listDevices', 'revokeDevice',
        'revokeAllDevices', 'adminReset',
    ];

    /** How a stored record becomes text: what JSON.stringify gives for the core's record. */
    public const RECORD_JSON = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_LINE_TERMINATORS
        | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR;

    public static function dir(): string
    {
        return TestEnv::root() . '/tests/scenarios';
    }

    /** @return array<string, string> scenario name => file, sorted */
    public static function files(): array
    {
        $files = [];
        foreach (glob(self::dir() . '/*.json') as $file) {
            $files[basename($file, '.json')] = $file;
        }
        ksort($files, SORT_STRING);

        return $files;
    }

    public static function load(string $file): array
    {
        return ['name' => basename($file, '.json')] + json_decode((string) file_get_contents($file), true, 512, JSON_THROW_ON_ERROR);
    }

    public static function expected(string $name): array
    {
        return json_decode((string) file_get_contents(self::dir() . "/expected/$name.json"), true, 512, JSON_THROW_ON_ERROR);
    }

    /**
     * Leaves this host's transcript in build/scenarios/<host>/<name>.json (`php`, or `php-text`
     * over a text storage), laid out like the JS runner's build/scenarios/js/<name>.json:
     * equal transcripts are equal files (cmp them).
     */
    public static function writeActual(string $name, array $steps, string $host = 'php'): void
    {
        $dir = TestEnv::root() . '/build/scenarios/' . $host;
        if (!is_dir($dir)) {
            mkdir($dir, 0777, true);
        }
        $lines = array_map(static fn ($s) => '    ' . json_encode($s, self::RECORD_JSON), $steps);
        file_put_contents("$dir/$name.json", "{\n  \"scenario\": " . json_encode($name, self::RECORD_JSON) . ",\n"
            . "  \"steps\": [\n" . implode(",\n", $lines) . "\n  ]\n}\n");
    }

    private int $clock;
    private string $entropy = '';
    private int $block = 0;
    /** @var array<string, Service> */
    private array $hosts = [];
    private string $defaultHost;
    private array $results = [];
    private ScenarioStorage $storage;
    /** @var list<string> the users a per-user policy callable was called with during a step (README: $per_user) */
    private array $policyCalls = [];

    public function __construct(private readonly Core $core, private readonly array $scenario,
        private readonly bool $text = false)
    {
    }

    /** The entropy both runners feed: SHA-256("mail2fa-scenario/<name>/<k>"), k = 0, 1, …, in order. */
    private function random(int $length): string
    {
        while (strlen($this->entropy) < $length) {
            $this->entropy .= hash('sha256', "mail2fa-scenario/{$this->scenario['name']}/" . $this->block++, true);
        }
        $out = substr($this->entropy, 0, $length);
        $this->entropy = substr($this->entropy, $length);

        return $out;
    }

    /** @return array{transcript: array, failures: list<string>} */
    public function run(): array
    {
        $s = $this->scenario;
        $this->storage = $this->text ? new TextScenarioStorage(new MemoryStorage()) : new ScenarioStorage(new MemoryStorage());
        $this->clock = $s['start'];
        $perUser = false;
        foreach ($s['hosts'] as $name => $config) {
            if (is_array($config['policy'] ?? null) && array_key_exists('$per_user', $config['policy'])) {
                $config['policy'] = $this->perUserPolicy($config['policy']['$per_user']);
                $perUser = true;
            }
            $this->hosts[$name] = new Service($config + [
                'storage' => $this->storage,
                'core' => $this->core,
                'now' => fn (): int => $this->clock,
                'random' => fn (int $n): string => $this->random($n),
            ]);
        }
        $this->defaultHost = (string) array_key_first($s['hosts']);
        $failures = [];
        $steps = [];
        foreach ($s['steps'] as $index => $step) {
            $where = "{$s['name']} step $index" . (isset($step['as']) ? " ({$step['as']})" : '');
            if (isset($step['at'])) {
                $this->clock = $s['start'] + $step['at'];
            }
            if (isset($step['copy_record'])) {
                $this->copyRecord($step['copy_record']);
            }
            $this->storage->log = [];
            $this->policyCalls = [];
            $this->storage->fault = $step['fault'] ?? null;
            $race = null;
            if (isset($step['race'])) {
                $this->storage->beforeCas = function () use ($step, $where, &$race): void {
                    $race = $this->invoke($step['race'], "$where race");
                };
            }
            $outcome = $this->invoke($step, $where);
            $this->storage->fault = null;
            $this->storage->beforeCas = null;
            if (isset($step['race']) && $race === null) {
                $failures[] = "$where: the race never ran (the step wrote nothing)";
            }

            $entry = ['step' => $index, 'call' => $step['call'], 'user' => $step['user']]
                + (isset($step['race']) ? ['race' => $race] : []) + $outcome + ['cas' => $this->storage->log]
                + ($perUser ? ['policy_for' => $this->policyCalls] : []);
            $steps[] = $entry;
            if (isset($step['as']) && array_key_exists('result', $outcome)) {
                $this->results[$step['as']] = $outcome['result'];
            }
            if (isset($step['race']['as']) && is_array($race) && array_key_exists('result', $race)) {
                $this->results[$step['race']['as']] = $race['result'];
            }

            $show = json_encode($outcome, self::RECORD_JSON);
            $error = $outcome['error'] ?? null;
            if (array_key_exists('expect_error', $step) && $error !== $step['expect_error']) {
                $failures[] = "$where: expected error {$step['expect_error']}, got $show";
            }
            if (array_key_exists('expect', $step) && !($error === null && self::matches($outcome['result'], $step['expect']))) {
                $failures[] = "$where: expected " . json_encode($step['expect'], self::RECORD_JSON) . ", got $show";
            }
            if (!array_key_exists('expect', $step) && !array_key_exists('expect_error', $step) && $error !== null) {
                $failures[] = "$where: unexpected error $error";
            }
            if (isset($step['race']['expect'])
                && !(is_array($race) && array_key_exists('result', $race) && self::matches($race['result'], $step['race']['expect']))) {
                $failures[] = "$where: race expected " . json_encode($step['race']['expect'], self::RECORD_JSON)
                    . ', got ' . json_encode($race, self::RECORD_JSON);
            }
            $writes = count(array_filter($this->storage->log, static fn ($c) => $c['wrote']));
            if (isset($step['writes']) && $writes !== $step['writes']) {
                $failures[] = "$where: expected {$step['writes']} write(s), got $writes";
            }
        }

        return ['transcript' => ['scenario' => $s['name'], 'steps' => $steps], 'failures' => $failures];
    }

    /**
     * The policy callable of `{"$per_user": {user: policy, "*": policy}}`: the user's entry,
     * else "*", else null (which the Service must refuse: invalid_field); each call is noted.
     */
    private function perUserPolicy(array $table): \Closure
    {
        return function (string $user) use ($table): mixed {
            $this->policyCalls[] = $user;

            return array_key_exists($user, $table) ? $table[$user] : ($table['*'] ?? null);
        };
    }

    /**
     * `copy_record: {from, to}`: the stored record of `from` written as `to`'s row, as an
     * attacker with write access to the table (or a restore gone wrong) would; not logged.
     */
    private function copyRecord(array $copy): void
    {
        $inner = $this->storage->inner;
        $source = $inner->get($copy['from']);
        if ($source === null) {
            throw new LogicException("copy_record: {$copy['from']} has no record");
        }
        $target = $inner->get($copy['to']);
        if (!$inner->compareAndSet($copy['to'], $target !== null ? $target['version'] : null, $source['record'])) {
            throw new LogicException('copy_record: not written');
        }
    }

    /** @return array{result: mixed}|array{error: string} */
    private function invoke(array $step, string $where): array
    {
        if (!in_array($step['call'], self::CALLS, true)) {
            throw new LogicException("$where: unknown call {$step['call']}");
        }
        $host = $this->hosts[$step['host'] ?? $this->defaultHost] ?? null;
        if ($host === null) {
            throw new LogicException("$where: unknown host " . ($step['host'] ?? ''));
        }
        $args = $this->resolve($step['args'] ?? [], $where);
        try {
            return ['result' => $host->{$step['call']}($step['user'], ...$args)];
        } catch (\Mail2fa\Error $e) {
            return ['error' => $e->errorCode];
        } catch (\RuntimeException $e) {
            // What JS reports for an exception without a code (a storage that throws).
            return ['error' => 'exception'];
        }
    }

    private function labelled(string $label, string $where): array
    {
        if (!array_key_exists($label, $this->results)) {
            throw new LogicException("$where: no earlier step is labelled \"$label\" with a result");
        }

        return $this->results[$label];
    }

    /** Replaces {"$totp"}, {"$backup_code"}, {"$ref"} by their values (README). */
    private function resolve(mixed $value, string $where): mixed
    {
        if (!is_array($value)) {
            return $value;
        }
        if (array_key_exists('$totp', $value)) {
            // The secret of an earlier step's result (enroll), or one given here (an imported key).
            $enrolled = is_array($value['$totp']) ? $value['$totp'] : $this->labelled($value['$totp'], $where);
            $params = $enrolled['params'] ?? [];
            $period = $params['period'] ?? 30;

            return $this->core->totpCode($enrolled['secret'], $this->clock + ($value['steps'] ?? 0) * $period,
                ['algorithm' => $params['algorithm'] ?? 'SHA1', 'digits' => $params['digits'] ?? 6, 'period' => $period]);
        }
        if (array_key_exists('$backup_code', $value)) {
            $issued = $this->labelled($value['$backup_code'], $where);
            $codes = $issued['backupCodes'] ?? $issued['codes'] ?? null;
            $code = $codes[$value['index'] ?? 0] ?? null;
            if (!is_string($code)) {
                throw new LogicException("$where: step \"{$value['$backup_code']}\" issued no backup code " . ($value['index'] ?? 0));
            }

            return $code;
        }
        if (array_key_exists('$ref', $value)) {
            $path = explode('.', $value['$ref']);
            $v = $this->labelled(array_shift($path), $where);
            foreach ($path as $key) {
                $v = is_array($v) ? ($v[$key] ?? null) : null;
            }
            if ($v === null) {
                throw new LogicException("$where: {$value['$ref']} has no value");
            }

            return $v;
        }

        return array_map(fn ($v) => $this->resolve($v, $where), $value);
    }

    /** Whether $actual has everything $expected lists ($type, $gt, $len as in run.mjs). */
    public static function matches(mixed $actual, mixed $expected): bool
    {
        if (is_array($expected) && !array_is_list($expected)) {
            if (array_key_exists('$type', $expected)) {
                $type = match (true) {
                    $actual === null => 'null',
                    is_array($actual) && array_is_list($actual) => 'array',
                    is_array($actual) => 'object',
                    is_string($actual) => 'string',
                    is_bool($actual) => 'boolean',
                    is_int($actual) || is_float($actual) => 'number',
                    default => 'unknown',
                };

                return $type === $expected['$type'];
            }
            if (array_key_exists('$gt', $expected)) {
                return (is_int($actual) || is_float($actual)) && $actual > $expected['$gt'];
            }
            if (array_key_exists('$len', $expected)) {
                return is_array($actual) && array_is_list($actual) && count($actual) === $expected['$len'];
            }
            if (!is_array($actual)) {
                return false;
            }
            foreach ($expected as $k => $v) {
                if (!array_key_exists($k, $actual) || !self::matches($actual[$k], $v)) {
                    return false;
                }
            }

            return true;
        }
        if (is_array($expected)) {
            if (!is_array($actual) || !array_is_list($actual) || count($actual) !== count($expected)) {
                return false;
            }
            foreach ($expected as $i => $v) {
                if (!self::matches($actual[$i], $v)) {
                    return false;
                }
            }

            return true;
        }

        return $actual === $expected;
    }
}

/**
 * The storage every host of a scenario shares: a MemoryStorage that logs each
 * compare-and-set (the record as JSON text, as stored) and can be told to fail. It offers
 * records as arrays only (get/compareAndSet); TextScenarioStorage offers the text too.
 */
class ScenarioStorage implements Storage
{
    public array $log = [];
    public ?string $fault = null;
    /** @var (callable(): void)|null a concurrent request that wins the race */
    public $beforeCas = null;

    public function __construct(public readonly MemoryStorage $inner)
    {
    }

    public function get(string $user): ?array
    {
        if ($this->fault === 'get_throws') {
            throw new RuntimeException('scenario storage: unavailable');
        }

        return $this->inner->get($user);
    }

    public function compareAndSet(string $user, int|string|null $expectedVersion, array $record): bool
    {
        return $this->compareAndSetText($user, $expectedVersion, json_encode($record, ScenarioRunner::RECORD_JSON));
    }

    /** The text interface MemoryStorage offers; only TextScenarioStorage exposes getText (as run.mjs). */
    public function readText(string $user): ?array
    {
        if ($this->fault === 'get_throws') {
            throw new RuntimeException('scenario storage: unavailable');
        }

        return $this->inner->getText($user);
    }

    public function compareAndSetText(string $user, int|string|null $expectedVersion, string $text): bool
    {
        if ($this->beforeCas !== null) {
            // It runs (and writes) between this request's read and its compare-and-set.
            $race = $this->beforeCas;
            $this->beforeCas = null;
            $race();
        }
        $wrote = $this->fault === 'cas_fails' ? false : $this->inner->compareAndSetText($user, $expectedVersion, $text);
        $this->log[] = ['user' => $user, 'expected' => $expectedVersion, 'wrote' => $wrote, 'record' => $text];

        return $wrote;
    }
}

/**
 * The same storage offering records as JSON text (TextStorage), as MemoryStorage and the
 * plugin's SQL driver do: the Service's login check then passes the stored text to the core
 * as is and stores the core's text as is. Its transcript must equal the array storage's
 * (and the JS runner's), byte for byte.
 */
final class TextScenarioStorage extends ScenarioStorage implements TextStorage
{
    public function getText(string $user): ?array
    {
        return $this->readText($user);
    }
}
