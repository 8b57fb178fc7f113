<?php

declare(strict_types=1);

require_once __DIR__ . '/../mail2fa/lib/autoload.php';
require_once __DIR__ . '/FpmServer.php';

/** Paths and options shared by the host tests. */
final class TestEnv
{
    public static function root(): string
    {
        return dirname(__DIR__, 2);
    }

    /** The host library under test: MAIL2FA_LIBRARY, else the one `make host` built. */
    public static function library(): string
    {
        return getenv('MAIL2FA_LIBRARY') ?: self::root() . '/dist/libmail2fa_host.so';
    }

    public static function wasm(): string
    {
        return self::root() . '/dist/mail2fa.wasm';
    }

    /** A fresh private directory under the system temp dir, removed at exit. */
    public static function tempDir(string $name): string
    {
        $dir = sys_get_temp_dir() . '/mail2fa-phptest-' . $name . '-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir($dir, 0700, true);
        register_shutdown_function(static function () use ($dir): void {
            self::remove($dir);
        });

        return $dir;
    }

    public static function remove(string $path): void
    {
        if (is_dir($path) && !is_link($path)) {
            foreach (scandir($path) as $f) {
                if ($f !== '.' && $f !== '..') {
                    self::remove("$path/$f");
                }
            }
            @rmdir($path);
        } elseif (file_exists($path) || is_link($path)) {
            @unlink($path);
        }
    }

    private static ?string $cacheDir = null;

    /** Core::open options for the library under test, with one disk cache for the run. */
    public static function options(array $extra = []): array
    {
        self::$cacheDir ??= self::tempDir('cache');

        return $extra + ['library' => self::library(), 'wasm' => self::wasm(), 'cache_dir' => self::$cacheDir];
    }
}
