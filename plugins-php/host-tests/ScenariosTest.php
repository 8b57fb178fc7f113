<?php

declare(strict_types=1);

use Mail2fa\Core;
use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/ScenarioRunner.php';

/**
 * The host scenarios (tests/scenarios/) against Mail2fa\Service: each step's expectations,
 * then the whole transcript — every result and every stored record, as text — against the
 * one the JS Mail2fa class recorded (expected/<name>.json). Equal transcripts mean both hosts
 * gave the same answers and stored the same bytes, given the same time and entropy.
 */
final class ScenariosTest extends TestCase
{
    private static ?Core $core = null;

    public static function scenarios(): array
    {
        $cases = [];
        foreach (ScenarioRunner::files() as $name => $file) {
            $cases[$name] = [$file];
        }

        return $cases;
    }

    public function testEveryScenarioHasACommittedTranscript(): void
    {
        $this->assertGreaterThanOrEqual(10, count(ScenarioRunner::files()));
        foreach (array_keys(ScenarioRunner::files()) as $name) {
            $this->assertNotEmpty(ScenarioRunner::expected($name)['steps'], $name);
        }
    }

    /** @dataProvider scenarios */
    public function testScenario(string $file): void
    {
        self::$core ??= Core::open(TestEnv::options());
        $scenario = ScenarioRunner::load($file);
        $run = (new ScenarioRunner(self::$core, $scenario))->run();
        $this->assertSame([], $run['failures'], "the scenario's expectations");

        $expected = ScenarioRunner::expected($scenario['name']);
        $steps = $run['transcript']['steps'];
        $this->assertCount(count($expected['steps']), $steps, 'steps in the transcript');
        foreach ($steps as $i => $step) {
            // Compared as text: the same keys in the same order, records byte for byte.
            $this->assertSame(
                json_encode($expected['steps'][$i], ScenarioRunner::RECORD_JSON | JSON_PRETTY_PRINT),
                json_encode($step, ScenarioRunner::RECORD_JSON | JSON_PRETTY_PRINT),
                "{$scenario['name']} step $i: the PHP service differs from the JS host's transcript"
                . " (recorded with module {$expected['module_sha256']})"
            );
        }
    }
}
