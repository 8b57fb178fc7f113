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
        // Each scenario twice: over a storage of record arrays, and over one that offers the
        // stored JSON text (TextStorage, as MemoryStorage and the SQL driver do), which the login
        // check passes to the core as is (JS's runner does the same with {text: true}).
        foreach (ScenarioRunner::files() as $name => $file) {
            $cases[$name] = [$file, false];
            $cases["$name (text storage)"] = [$file, true];
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

    public function testTheServiceHasTheMethodsOfTheJsClassAndTheScenariosCallEach(): void
    {
        // The public methods of JS's class Mail2fa, from its source.
        $js = (string) file_get_contents(TestEnv::root() . '/plugins-js/lib/server.js');
        $body = substr($js, (int) strpos($js, 'export class Mail2fa'));
        preg_match_all('/^  (?:async )?([a-z][A-Za-z]*)\(/m', $body, $m);
        $jsMethods = array_values(array_diff(array_unique($m[1]), ['constructor']));
        sort($jsMethods);

        $php = array_values(array_filter(
            array_map(static fn (ReflectionMethod $r) => $r->getName(),
                (new ReflectionClass(\Mail2fa\Service::class))->getMethods(ReflectionMethod::IS_PUBLIC)),
            static fn (string $name) => $name !== '__construct'
        ));
        sort($php);
        $this->assertSame($jsMethods, $php, 'Mail2fa\\Service and the JS Mail2fa class have the same public methods');

        $calls = ScenarioRunner::CALLS;
        sort($calls);
        $this->assertSame($php, $calls, 'the runner may call every method');
        $used = [];
        foreach (ScenarioRunner::files() as $file) {
            foreach (ScenarioRunner::load($file)['steps'] as $step) {
                $used[$step['call']] = true;
                if (isset($step['race'])) {
                    $used[$step['race']['call']] = true;
                }
            }
        }
        $this->assertSame([], array_values(array_diff($calls, array_keys($used))), 'methods no scenario calls');
    }

    public function testTheServiceRefusesAnIncompleteConfiguration(): void
    {
        self::$core ??= Core::open(TestEnv::options());
        $keys = [['id' => 'k1', 'key' => 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=']];
        $storage = new \Mail2fa\MemoryStorage();
        foreach ([
            'missing_field' => ['storage' => $storage],
            'missing_field ' => ['keys' => [], 'storage' => $storage],
            ' missing_field' => ['keys' => $keys],
            'invalid_field' => ['keys' => $keys, 'storage' => $storage, 'isuer' => 'typo'],
        ] as $code => $options) {
            try {
                new \Mail2fa\Service($options + ['core' => self::$core]);
                $this->fail("accepted $code");
            } catch (\Mail2fa\Error $e) {
                $this->assertSame(trim($code), $e->errorCode);
            }
        }
        $service = new \Mail2fa\Service(['keys' => $keys, 'storage' => $storage, 'core' => self::$core,
            'random' => static fn (int $n): string => 'short']);
        $this->expectExceptionObject(new \Mail2fa\Error('no_entropy', 'mail2fa: the random source did not return 32 bytes'));
        $service->enroll('alice');
    }

    /** @dataProvider scenarios */
    public function testScenario(string $file, bool $text): void
    {
        self::$core ??= Core::open(TestEnv::options());
        $scenario = ScenarioRunner::load($file);
        $run = (new ScenarioRunner(self::$core, $scenario, $text))->run();
        $this->assertSame([], $run['failures'], "the scenario's expectations");

        $host = $text ? 'php-text' : 'php';
        ScenarioRunner::writeActual($scenario['name'], $run['transcript']['steps'], $host);
        $expected = ScenarioRunner::expected($scenario['name']);
        $steps = $run['transcript']['steps'];
        $this->assertCount(count($expected['steps']), $steps, 'steps in the transcript');
        foreach ($steps as $i => $step) {
            // Compared as text: the same keys in the same order, records byte for byte.
            $this->assertSame(
                json_encode($expected['steps'][$i], ScenarioRunner::RECORD_JSON | JSON_PRETTY_PRINT),
                json_encode($step, ScenarioRunner::RECORD_JSON | JSON_PRETTY_PRINT),
                "{$scenario['name']} step $i: the PHP service" . ($text ? ' over a text storage' : '')
                . " differs from the JS host's transcript (this run: build/scenarios/$host/; the JS one: build/scenarios/js/)"
            );
        }
    }
}
