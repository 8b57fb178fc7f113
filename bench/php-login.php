<?php

/*
 * Benchmark (not a test): one login check at the edge of the PHP host, BEFORE and AFTER,
 * measured pair by pair (a PHP process loads one host library: the two cannot share one),
 * against a plain-PHP RFC 6238 verifier (window 1, hash_equals, last-step replay check);
 * and Argon2id m=19456 t=2 p=1 in the module against password_hash (issue 13 item 8).
 *
 *   php bench/php-login.php [--before=DIR] [--pairs=N]     (after `make host`)
 *
 * DIR (default /tmp/before): a checkout of the earlier commit with `make wasm` and its own
 * host library built (dist/libmail2fa_host.so pinned to its dist/mail2fa.wasm). Without it
 * only this tree is measured. Every login check accepts: each call is the next 30 s step
 * with that step's code, and the record each call returns is the text the next call reads
 * (what the plugin stores). Medians over N child processes per side, run alternately.
 */

declare(strict_types=1);

const KEYS = [['id' => 'k1', 'key' => 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=']];
const USER = 'alice@example.com';
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const T0 = 1800000010;
const BATCH = 400;
const BATCHES = 9;
const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION;

require_once __DIR__ . '/plain-php-verifier.php';

/** Child: measures one checkout (`$dir`) and prints JSON {contestant: µs median batch}. */
function child(string $dir, bool $argon2): void
{
    require_once "$dir/plugins-php/mail2fa/lib/autoload.php";
    $core = \Mail2fa\Core::open(['library' => "$dir/dist/libmail2fa_host.so", 'wasm' => "$dir/dist/mail2fa.wasm",
        'cache_dir' => sys_get_temp_dir() . '/mail2fa-bench-cache-' . md5($dir)]);
    $uri = $core->otpauthBuild('bench', SECRET);
    $fresh = fn () => json_encode($core->totpImport(USER, KEYS, base64_encode(str_repeat("\x09", 32)), T0 - 100, $uri)['record'], JSON_FLAGS);
    $key = b32(SECRET);
    $codes = [];
    for ($i = 0; $i <= BATCH * (BATCHES + 1) + 1; $i++) {
        $codes[] = hotp($key, intdiv(T0, 30) + $i);
    }

    // What the plugin did: the stored text decoded, the op, the new record encoded to store.
    $stored = $fresh();
    $i = 0;
    $contestants['adapter loginDecide (decode stored record, encode new one)'] = function () use ($core, &$stored, &$i, $codes): bool {
        $i++;
        $r = $core->loginDecide(USER, KEYS, T0 + 30 * $i, ['record' => json_decode($stored, true, 512, JSON_THROW_ON_ERROR),
            'factor' => ['type' => 'totp', 'value' => $codes[$i]]]);
        $stored = json_encode($r['record'], JSON_FLAGS);

        return $r['verdict'] === 'ok';
    };
    if (method_exists($core, 'callOnStoredRecord')) {
        $storedText = $fresh();
        $k = 0;
        $contestants['adapter callOnStoredRecord (stored text in, new text out)'] = function () use ($core, &$storedText, &$k, $codes): bool {
            $k++;
            $r = $core->callOnStoredRecord(['op' => 'login.decide', 'user' => USER, 'keys' => KEYS, 'time' => T0 + 30 * $k,
                'factor' => ['type' => 'totp', 'value' => $codes[$k]]], $storedText);
            if ($r['record_json'] !== $storedText) {
                $storedText = $r['record_json'];
            }

            return $r['response']['verdict'] === 'ok';
        };
    }
    $lastStep = null;
    $p = 0;
    $contestants['plain PHP RFC 6238 verify + last-step replay check'] = function () use (&$lastStep, &$p, $codes): bool {
        $p++;

        return plain_php_verify(SECRET, $codes[$p], T0 + 30 * $p, $lastStep);
    };

    $samples = array_fill_keys(array_keys($contestants), []);
    for ($b = 0; $b <= BATCHES; $b++) {
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
    $out = array_map('median', $samples);
    if ($argon2) {
        $salt = base64_encode(str_repeat("\x03", 16));
        $phc = $core->phcHash('correct horse battery staple', $salt, ['m' => 19456, 't' => 2, 'p' => 1]);
        if (!password_verify('correct horse battery staple', $phc)) {
            throw new RuntimeException('the module\'s PHC string does not verify with password_verify');
        }
        $wasm = [];
        $php = [];
        for ($r = 0; $r < 9; $r++) {
            $t = hrtime(true);
            $core->phcHash('correct horse battery staple', $salt, ['m' => 19456, 't' => 2, 'p' => 1]);
            $wasm[] = (hrtime(true) - $t) / 1e6;
            $t = hrtime(true);
            password_hash('correct horse battery staple', PASSWORD_ARGON2ID, ['memory_cost' => 19456, 'time_cost' => 2, 'threads' => 1]);
            $php[] = (hrtime(true) - $t) / 1e6;
        }
        $out['argon2 module phc.hash ms'] = median($wasm);
        $out['argon2 PHP password_hash ms'] = median($php);
    }
    echo json_encode($out), "\n";
}

$options = getopt('', ['before:', 'pairs:', 'child:', 'argon2']);
if (isset($options['child'])) {
    child($options['child'], isset($options['argon2']));
    exit(0);
}

$root = dirname(__DIR__);
$before = $options['before'] ?? '/tmp/before';
$pairs = (int) ($options['pairs'] ?? 7);
$sides = is_file("$before/dist/libmail2fa_host.so") && is_file("$before/plugins-php/mail2fa/lib/Core.php")
    ? ['before' => $before, 'after' => $root] : ['after' => $root];
$results = [];
for ($p = 0; $p < $pairs; $p++) {
    foreach ($sides as $label => $dir) {
        $cmd = [PHP_BINARY, '-d', 'ffi.enable=1', __FILE__, "--child=$dir"];
        if ($p < 5) {
            $cmd[] = '--argon2';
        }
        $proc = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        if (proc_close($proc) !== 0) {
            fwrite(STDERR, "child for $label failed: $err$out\n");
            exit(1);
        }
        foreach (json_decode($out, true, 512, JSON_THROW_ON_ERROR) as $name => $v) {
            $results[$label][$name][] = $v;
        }
    }
}

$commit = fn (string $dir) => trim((string) shell_exec('git -C ' . escapeshellarg($dir) . ' rev-parse --short HEAD'));
$cpu = 'unknown CPU';
foreach (file('/proc/cpuinfo') ?: [] as $line) {
    if (str_starts_with($line, 'model name')) {
        $cpu = trim(explode(':', $line, 2)[1]);
        break;
    }
}
printf("machine: %s× %s, PHP %s, load average %s\n", trim((string) shell_exec('nproc')), $cpu, PHP_VERSION,
    implode(' ', array_map(fn ($l) => sprintf('%.1f', $l), sys_getloadavg())));
foreach ($sides as $label => $dir) {
    $wasm = (string) file_get_contents("$dir/dist/mail2fa.wasm");
    printf("%s: %s (commit %s), mail2fa.wasm %d bytes raw / %d gzip -9\n", $label, $dir, $commit($dir), strlen($wasm),
        strlen((string) gzencode($wasm, 9)));
}
printf("%d child processes per side, run alternately; in each %d batches × %d calls per contestant, interleaved\n\n",
    $pairs, BATCHES, BATCH);
// The plain-PHP verifier ran in every child of both sides: one reference from all of them.
$plainName = 'plain PHP RFC 6238 verify + last-step replay check';
$reference = median(array_merge(...array_map(fn ($rows) => $rows[$plainName], array_values($results))));
echo "| one login check | µs/call (median of child medians) | × plain PHP |\n| --- | ---: | ---: |\n";
printf("| %s (every child) | %.2f | 1.00 |\n", $plainName, $reference);
foreach ($results as $label => $rows) {
    foreach ($rows as $name => $values) {
        if (str_starts_with($name, 'argon2') || $name === $plainName) {
            continue;
        }
        $m = median($values);
        printf("| %s: %s | %.2f | %.2f |\n", $label, $name, $m, $m / $reference);
    }
}
echo "\n| Argon2id m=19456 t=2 p=1, one hash | module phc.hash ms | PHP password_hash ms | module / PHP |\n| --- | ---: | ---: | ---: |\n";
foreach ($results as $label => $rows) {
    $w = median($rows['argon2 module phc.hash ms']);
    $php = median($rows['argon2 PHP password_hash ms']);
    printf("| %s | %.1f | %.1f | %.2f |\n", $label, $w, $php, $w / $php);
}
