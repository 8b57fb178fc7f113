<?php

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

/**
 * tests/vectors/*.json through the PHP adapter, the host library and dist/mail2fa.wasm
 * (format: tests/vectors/README.md). Requests are sent as the file's JSON (re-encoded from
 * objects, so `{}` stays `{}`); a case passes when the response contains the expected one.
 */
final class VectorsTest extends TestCase
{
    private static ?\Mail2fa\Core $core = null;

    public static function cases(): iterable
    {
        $files = glob(TestEnv::root() . '/tests/vectors/*.json');
        sort($files);
        foreach ($files as $file) {
            $cases = json_decode((string) file_get_contents($file), false, 512, JSON_THROW_ON_ERROR);
            foreach ($cases as $i => $case) {
                $request = json_encode($case->request, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES
                    | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
                yield basename($file) . " #$i " . $case->name => [$request, $case->response];
            }
        }
    }

    /** @dataProvider cases */
    public function testCase(string $request, $expected): void
    {
        self::$core ??= \Mail2fa\Core::open(TestEnv::options());
        $json = self::$core->callJson($request);
        $actual = json_decode($json, false, 512, JSON_THROW_ON_ERROR);
        $mismatch = self::mismatch($expected, $actual, '$');
        $this->assertNull($mismatch, "response differs at $mismatch: $json");
    }

    public function testThereAreVectors(): void
    {
        $count = 0;
        foreach (self::cases() as $_) {
            $count++;
        }
        $this->assertGreaterThan(100, $count, 'tests/vectors holds the conformance cases');
    }

    public function testSubsetRulesMatchTheReadme(): void
    {
        $o = static fn (string $j) => json_decode($j, false, 512, JSON_THROW_ON_ERROR);
        $this->assertNull(self::mismatch($o('{"a":1}'), $o('{"a":1.0,"b":2}'), '$'), 'extra keys, 1 == 1.0');
        $this->assertSame('$.a', self::mismatch($o('{"a":1}'), $o('{"b":1}'), '$'), 'missing key');
        $this->assertSame('$.a', self::mismatch($o('{"a":true}'), $o('{"a":1}'), '$'), 'true is not 1');
        $this->assertSame('$.a', self::mismatch($o('{"a":null}'), $o('{"a":0}'), '$'), 'null is not 0');
        $this->assertSame('$', self::mismatch($o('[1]'), $o('[1,2]'), '$'), 'array lengths differ');
        $this->assertSame('$[1].x', self::mismatch($o('[{},{"x":"y"}]'), $o('[{},{"x":"z"}]'), '$'));
        $this->assertSame('$', self::mismatch($o('{}'), $o('[]'), '$'), 'an object is not an array');
    }

    /** null when $actual contains $expected (README rules), else the path of the first difference. */
    public static function mismatch($expected, $actual, string $path): ?string
    {
        if ($expected instanceof \stdClass) {
            if (!$actual instanceof \stdClass) {
                return $path;
            }
            foreach (get_object_vars($expected) as $key => $value) {
                if (!property_exists($actual, (string) $key)) {
                    return "$path.$key";
                }
                $m = self::mismatch($value, $actual->{$key}, "$path.$key");
                if ($m !== null) {
                    return $m;
                }
            }

            return null;
        }
        if (is_array($expected)) {
            if (!is_array($actual) || count($actual) !== count($expected)) {
                return $path;
            }
            foreach ($expected as $i => $value) {
                $m = self::mismatch($value, $actual[$i], "{$path}[$i]");
                if ($m !== null) {
                    return $m;
                }
            }

            return null;
        }
        $numbers = (is_int($expected) || is_float($expected)) && (is_int($actual) || is_float($actual));

        return ($numbers ? $expected == $actual : $expected === $actual) ? null : $path;
    }
}
