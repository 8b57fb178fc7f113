<?php

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

/**
 * php-fpm 8.2 as Debian ships it (ffi.enable=preload) with the shipped preload files:
 * requests through FastCGI use the adapter, and after a worker's first request the module
 * is already in the worker (no compile, no cache read, no hashing).
 */
final class FpmTest extends TestCase
{
    private const WORKERS = 2;
    private static ?FpmServer $fpm = null;
    private static string $script;

    public static function setUpBeforeClass(): void
    {
        self::$script = __DIR__ . '/fpm/request.php';
        self::$fpm = new FpmServer(TestEnv::library(), self::WORKERS);
        self::$fpm->start();
    }

    public static function tearDownAfterClass(): void
    {
        self::$fpm?->stop();
    }

    private function request(): array
    {
        $r = self::$fpm->request(self::$script);
        $this->assertArrayNotHasKey('error', $r, json_encode($r) . "\n" . self::$fpm->logs());
        $this->assertSame('preload', $r['ffi_enable'], "Debian's default FFI mode");
        $this->assertTrue($r['core_preloaded'], 'Mail2fa\Core comes from opcache.preload');
        $this->assertSame('94287082', $r['code']);

        return $r;
    }

    public function test200RequestsPayTheModuleLoadOncePerWorker(): void
    {
        $this->assertIsInt(self::$fpm->pid());
        $seen = [];
        $sources = [];
        $processReady = [];
        for ($i = 0; $i < 200; $i++) {
            $r = $this->request();
            $s = $r['status'];
            $this->assertSame($r['pid'], $s['pid']);
            $sources[$s['source']] = ($sources[$s['source']] ?? 0) + 1;
            if (!isset($seen[$r['pid']])) {
                // A worker's first request loads the module: compiled once for the machine,
                // then from the disk cache.
                $seen[$r['pid']] = true;
                $this->assertContains($s['source'], ['compiled', 'disk_cache'], json_encode($s));
                $this->assertNull($s['cache_error'], json_encode($s));
            } else {
                $this->assertSame('process', $s['source'], json_encode($s));
                $this->assertTrue($s['instance_reused']);
                $this->assertFalse($s['wasm_hashed']);
                $this->assertNull($s['compile_ms']);
                $processReady[] = $s['ready_us'];
            }
        }
        $this->assertLessThanOrEqual(self::WORKERS, count($seen));
        $this->assertSame(1, $sources['compiled'] ?? 0, 'compiled once, then every worker reads the cache');
        $this->assertSame(200 - count($seen), $sources['process']);
        sort($processReady);
        fwrite(STDERR, sprintf("\nphp-fpm: %d workers; %s; module ready per later request: median %.1f us\n",
            count($seen), json_encode($sources), $processReady[intdiv(count($processReady), 2)]));
    }

    /** @depends test200RequestsPayTheModuleLoadOncePerWorker */
    public function testARestartedPoolLoadsFromTheDiskCache(): void
    {
        self::$fpm->stop();
        self::$fpm->start();
        $first = [];
        for ($i = 0; $i < 20 && count($first) < self::WORKERS; $i++) {
            $r = $this->request();
            $first[$r['pid']] ??= $r['status']['source'];
        }
        $this->assertNotEmpty($first);
        foreach ($first as $pid => $source) {
            $this->assertSame('disk_cache', $source, "worker $pid compiled although the cache was warm");
        }
    }
}
