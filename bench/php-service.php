<?php

/*
 * Benchmark (not a test): one login check through Mail2fa\Service::verifyLogin — what the
 * Roundcube plugin runs for a submitted code — over a storage with and without the text path
 * (TextStorage: the stored record's JSON text goes to the core as is, the core's new text is
 * stored as is), next to the adapter alone (Core::loginDecide with decode/encode,
 * Core::callOnStoredRecord) and a plain-PHP RFC 6238 verifier (window 1, hash_equals,
 * last-step replay check), in one process, batches interleaved.
 *
 *   php -d ffi.enable=1 bench/php-service.php [--batches=N] [--sql] [--dist=DIR]   (after `make host`)
 *
 * --dist: run the module and host library of another build (DIR/mail2fa.wasm and
 * DIR/libmail2fa_host.so, e.g. another worktree's dist/) under this tree's PHP code.
 *
 * --sql adds the plugin's SQL driver (drivers/sql.php) on a temporary SQLite file through
 * Roundcube's rcube_db (needs Roundcube in /var/lib/roundcube, as the e2e environment has):
 * with getText/compareAndSetText, and wrapped to offer get/compareAndSet only. Every call
 * accepts a code (the next 30 s step), so every call writes the record (and, for SQL, its
 * Dovecot projection in the same transaction).
 */

declare(strict_types=1);

const KEYS = [['id' => 'k1', 'key' => 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=']];
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const T0 = 1800000010;
const BATCH = 300;
const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION;

$options = getopt('', ['batches:', 'sql', 'dist:']);
$batches = (int) ($options['batches'] ?? 9);
$sql = isset($options['sql']);
$root = dirname(__DIR__);

if ($sql) {
    // Roundcube's CLI bootstrap with a private config: one SQLite file for this run.
    $dir = sys_get_temp_dir() . '/mail2fa-bench-sql-' . getmypid();
    mkdir("$dir/config", 0700, true);
    file_put_contents("$dir/config/config.inc.php", "<?php\n\$config = ['db_dsnw' => 'sqlite:///$dir/db.sqlite?mode=0600',"
        . " 'log_driver' => 'stderr', 'log_dir' => '$dir', 'temp_dir' => '$dir', 'des_key' => 'bench-bench-bench-bench!',"
        . " 'drafts_mbox' => null, 'junk_mbox' => null, 'sent_mbox' => null, 'trash_mbox' => null];\n");
    $pdo = new PDO("sqlite:$dir/db.sqlite");
    $pdo->exec('CREATE TABLE system (name varchar(64) NOT NULL PRIMARY KEY, value text)');
    $pdo->exec((string) file_get_contents("$root/plugins-php/mail2fa/SQL/sqlite.initial.sql"));
    $pdo = null;
    putenv("ROUNDCUBE_CONFIG_DIR=$dir/config");
    define('INSTALL_PATH', '/var/lib/roundcube/');
    error_reporting(E_ALL & ~E_WARNING);
    require_once INSTALL_PATH . 'program/include/clisetup.php';
    require_once "$root/plugins-php/mail2fa/drivers/sql.php";
    register_shutdown_function(static fn () => exec('rm -rf ' . escapeshellarg($dir)));
}
require_once "$root/plugins-php/mail2fa/lib/autoload.php";

require_once __DIR__ . '/plain-php-verifier.php';

/** A Storage that offers get/compareAndSet only (no TextStorage): the Service's array path. */
final class ArraysOnly implements \Mail2fa\Storage
{
    public function __construct(private readonly \Mail2fa\Storage $inner)
    {
    }

    public function get(string $user): ?array
    {
        return $this->inner->get($user);
    }

    public function compareAndSet(string $user, int|string|null $expectedVersion, array $record): bool
    {
        return $this->inner->compareAndSet($user, $expectedVersion, $record);
    }
}

$dist = $options['dist'] ?? null;
$core = \Mail2fa\Core::open($dist === null ? [] : ['library' => "$dist/libmail2fa_host.so", 'wasm' => "$dist/mail2fa.wasm",
    'cache_dir' => sys_get_temp_dir() . '/mail2fa-bench-cache-' . md5($dist)]);
$key = b32(SECRET);
$uri = $core->otpauthBuild('bench', SECRET);
$calls = BATCH * ($batches + 1) + 2;
$codes = [];
for ($i = 0; $i <= $calls; $i++) {
    $codes[] = hotp($key, intdiv(T0, 30) + $i);
}

/** A login check through a Service over `$storage`: each call the next step's code. */
$service = function (\Mail2fa\Storage $storage, string $user) use ($core, $uri, $codes): Closure {
    $i = 0;
    $now = T0 - 100;
    $mfa = new \Mail2fa\Service(['keys' => KEYS, 'storage' => $storage, 'core' => $core,
        'now' => function () use (&$now): int {
            return $now;
        }]);
    $mfa->importUri($user, $uri);

    return function () use ($mfa, $user, &$i, &$now, $codes): bool {
        $i++;
        $now = T0 + 30 * $i;

        return $mfa->verifyLogin($user, $codes[$i])['ok'];
    };
};

$contestants = [];
$lastStep = null;
$p = 0;
$contestants['plain PHP RFC 6238 verify + last-step replay check'] = function () use (&$lastStep, &$p, $codes): bool {
    $p++;

    return plain_php_verify(SECRET, $codes[$p], T0 + 30 * $p, $lastStep);
};
$fresh = fn () => json_encode($core->totpImport('alice', KEYS, base64_encode(str_repeat("\x09", 32)), T0 - 100, $uri)['record'], JSON_FLAGS);
$stored = $fresh();
$a = 0;
$contestants['Core::loginDecide (decode stored record, encode new one)'] = function () use ($core, &$stored, &$a, $codes): bool {
    $a++;
    $r = $core->loginDecide('alice', KEYS, T0 + 30 * $a, ['record' => json_decode($stored, true, 512, JSON_THROW_ON_ERROR),
        'factor' => ['type' => 'totp', 'value' => $codes[$a]]]);
    $stored = json_encode($r['record'], JSON_FLAGS);

    return $r['verdict'] === 'ok';
};
$storedText = $fresh();
$k = 0;
$contestants['Core::callOnStoredRecord (stored text in, new text out)'] = function () use ($core, &$storedText, &$k, $codes): bool {
    $k++;
    $r = $core->callOnStoredRecord(['op' => 'login.decide', 'user' => 'alice', 'keys' => KEYS, 'time' => T0 + 30 * $k,
        'factor' => ['type' => 'totp', 'value' => $codes[$k]]], $storedText);
    if ($r['record_json'] !== $storedText) {
        $storedText = $r['record_json'];
    }

    return $r['response']['verdict'] === 'ok';
};
$contestants['Service::verifyLogin, MemoryStorage wrapped as Storage only (array path)'] = $service(new ArraysOnly(new \Mail2fa\MemoryStorage()), 'alice');
$contestants['Service::verifyLogin, MemoryStorage (TextStorage: text path)'] = $service(new \Mail2fa\MemoryStorage(), 'alice');
if ($sql) {
    $rc = rcmail::get_instance();
    $projection = function (string $user, array $record) use ($core): array {
        $p = $core->recordProjection($record);

        return ['state' => (string) $p['state'], 'app_passwords' => array_map(fn ($app) => [
            'id' => (string) $app['id'], 'phc' => (string) $app['phc'], 'label' => (string) ($app['label'] ?? ''),
            'created_at' => (int) ($app['created_at'] ?? 0), 'tag' => isset($app['tag']) ? (string) $app['tag'] : null,
        ], (array) $p['app_passwords'])];
    };
    $driver = new mail2fa_sql_driver($rc, $projection);
    $contestants['Service::verifyLogin, SQL driver (SQLite) as Storage only (array path)'] = $service(new ArraysOnly($driver), 'bob');
    $contestants['Service::verifyLogin, SQL driver (SQLite, text path)'] = $service($driver, 'carol');
}

$samples = array_fill_keys(array_keys($contestants), []);
for ($b = 0; $b <= $batches; $b++) {
    foreach ($contestants as $name => $f) {
        $t = hrtime(true);
        for ($n = 0; $n < BATCH; $n++) {
            if ($f() !== true) {
                throw new RuntimeException("$name refused a right code");
            }
        }
        if ($b > 0) {
            $samples[$name][] = (hrtime(true) - $t) / 1000 / BATCH;
        }
    }
}

$cpu = 'unknown CPU';
foreach (file('/proc/cpuinfo') ?: [] as $line) {
    if (str_starts_with($line, 'model name')) {
        $cpu = trim(explode(':', $line, 2)[1]);
        break;
    }
}
printf("machine: %s× %s, PHP %s, load average %s; commit %s; module %s (%s); %d batches × %d calls per contestant, interleaved\n\n",
    trim((string) shell_exec('nproc')), $cpu, PHP_VERSION,
    implode(' ', array_map(fn ($l) => sprintf('%.1f', $l), sys_getloadavg())),
    trim((string) shell_exec('git -C ' . escapeshellarg($root) . ' rev-parse --short HEAD')),
    substr((string) ($core->status()['wasm_sha256'] ?? '?'), 0, 8), $dist ?? 'dist/', $batches, BATCH);
$reference = median($samples['plain PHP RFC 6238 verify + last-step replay check']);
echo "| one login check | µs/call (median batch) | min batch | × plain PHP |\n| --- | ---: | ---: | ---: |\n";
foreach ($samples as $name => $values) {
    $m = median($values);
    printf("| %s | %.2f | %.2f | %.2f |\n", $name, $m, min($values), $m / $reference);
}
