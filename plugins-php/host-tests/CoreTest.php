<?php

declare(strict_types=1);

use Mail2fa\Core;
use Mail2fa\Error;
use PHPUnit\Framework\TestCase;

/** The PHP adapter (plugins-php/mail2fa/lib) over the host library and dist/mail2fa.wasm. */
final class CoreTest extends TestCase
{
    private const KEYS = [['id' => 'k1', 'key' => 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=']];
    private const USER = 'alice@example.com';

    private static function core(): Core
    {
        return Core::open(TestEnv::options());
    }

    /** Runs open-status.php in a new PHP process with the given options and ini settings. */
    private static function child(array $options, array $ini = []): array
    {
        $cmd = [PHP_BINARY];
        foreach ($ini as $k => $v) {
            $cmd[] = '-d';
            $cmd[] = "$k=$v";
        }
        $cmd[] = __DIR__ . '/open-status.php';
        $cmd[] = json_encode($options, JSON_UNESCAPED_SLASHES);
        $p = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $code = proc_close($p);
        self::assertSame(0, $code, "child failed: $err$out");

        return json_decode($out, true, 512, JSON_THROW_ON_ERROR);
    }

    public function testRfc6238CodesThroughTheTypedHelper(): void
    {
        $core = self::core();
        $this->assertSame('94287082', $core->totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59,
            ['algorithm' => 'SHA1', 'digits' => 8, 'period' => 30]));
        $this->assertSame('46119246', $core->totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA', 59,
            ['algorithm' => 'SHA256', 'digits' => 8]));
        $this->assertSame('287082', $core->totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59));
        $this->assertSame(1, $core->version()['record_format']);
    }

    public function testEveryOpOfTheModuleHasATypedHelper(): void
    {
        $ops = self::core()->ops();
        $this->assertContains('totp.verify', $ops);
        foreach ($ops as $op) {
            $method = lcfirst(str_replace(' ', '', ucwords(str_replace(['.', '_'], ' ', $op))));
            // The few ops nothing in PHP uses have none (call() reaches them), and only those.
            $this->assertSame(!in_array($op, Core::NO_HELPER, true), method_exists(Core::class, $method),
                "helper $method for op $op");
        }
        $this->assertSame([], array_values(array_diff(Core::NO_HELPER, $ops)), 'NO_HELPER lists ops of the module');
    }

    public function testACoreErrorIsAnExceptionWithTheCoreCode(): void
    {
        try {
            self::core()->otpauthParse('https://example.com/not-otpauth');
            $this->fail('no exception');
        } catch (Error $e) {
            $this->assertSame('not_otpauth', $e->errorCode);
            $this->assertSame('not_otpauth', $e->getErrorCode());
            $this->assertNotSame('', $e->getMessage());
        }
        try {
            self::core()->call(['op' => 'no.such.op']);
            $this->fail('no exception');
        } catch (Error $e) {
            $this->assertSame('unknown_op', $e->errorCode);
        }
    }

    public function testEnrollActivateVerifyReplayAndExport(): void
    {
        $core = self::core();
        $t = 1700000000;
        $enroll = $core->totpEnroll(self::USER, self::KEYS, Core::entropy(), $t, ['issuer' => 'Example Mail']);
        $this->assertSame('pending', $enroll['state']);
        $this->assertStringStartsWith('otpauth://totp/', $enroll['uri']);
        $secret = $enroll['secret'];
        $this->assertStringNotContainsString($secret, json_encode($enroll['record']), 'the record holds the secret sealed');

        // totp.activate issues the first backup codes now ([harden]), so it takes entropy.
        $wrong = $core->totpActivate(self::USER, self::KEYS, $enroll['record'], '000000' === $core->totpCode($secret, $t) ? '111111' : '000000', $t,
            ['entropy' => Core::entropy()]);
        $this->assertFalse($wrong['activated']);
        $this->assertSame('wrong_code', $wrong['reason']);

        $activated = $core->totpActivate(self::USER, self::KEYS, $enroll['record'], $core->totpCode($secret, $t), $t,
            ['entropy' => Core::entropy()]);
        $this->assertTrue($activated['activated']);
        $this->assertSame('enabled', $activated['state']);
        $record = $activated['record'];

        $code = $core->totpCode($secret, $t + 30);
        $ok = $core->totpVerify(self::USER, self::KEYS, $record, $code, $t + 30);
        $this->assertTrue($ok['accepted']);
        $this->assertGreaterThan($record['rev'], $ok['record']['rev']);
        $replay = $core->totpVerify(self::USER, self::KEYS, $ok['record'], $code, $t + 31);
        $this->assertFalse($replay['accepted']);
        $this->assertSame('replayed', $replay['reason']);
        $malformed = $core->totpVerify(self::USER, self::KEYS, $ok['record'], substr($code, 0, 5) . 'x', $t + 31);
        $this->assertSame('malformed', $malformed['reason']);

        $this->assertSame('enabled', $core->recordStatus(self::USER, self::KEYS, $ok['record'])['state']);
        $this->assertSame($secret, $core->otpauthParse($core->totpExport(self::USER, self::KEYS, $ok['record']))['secret']);
        // The record is bound to its user: another user's row does not open (fails closed).
        try {
            $core->totpVerify('mallory@example.com', self::KEYS, $ok['record'], $code, $t + 60);
            $this->fail('no exception');
        } catch (Error $e) {
            $this->assertSame('decrypt_failed', $e->errorCode);
            $this->assertStringNotContainsString($secret, $e->getMessage());
        }
    }

    public function testCanonicalUserNameTheRecordKey(): void
    {
        $core = self::core();
        $this->assertSame('alice@example.com', $core->userCanonical('ALICE@Example.COM'));
        $this->assertSame('ALICE@Example.COM', $core->userCanonical('ALICE@Example.COM', ['username' => ['case' => 'keep']]));
        $this->assertSame('alice', $core->userCanonical('Alice@anything.invalid', ['username' => ['domain' => 'strip']]));
        $this->assertSame('alice@example.com', $core->userCanonical('Alice', ['username' => ['default_domain' => 'example.com']]));
        foreach (['', ' alice', "ali\nce", 'a@b@c', '@example.com', 'alice@'] as $bad) {
            try {
                $core->userCanonical($bad);
                $this->fail('accepted ' . json_encode($bad));
            } catch (Error $e) {
                $this->assertSame('invalid_user', $e->errorCode, json_encode($bad));
            }
        }
        try {
            $core->userCanonical('alice', ['username' => ['case' => 'upper']]);
            $this->fail('accepted an unknown case rule');
        } catch (Error $e) {
            $this->assertSame('invalid_field', $e->errorCode);
        }
    }

    /** [harden]: a fresh factor for new ways in, the projection Dovecot may see, the admin reset. */
    public function testFreshFactorProjectionAndReset(): void
    {
        $core = self::core();
        $t = 1700000000;
        $enroll = $core->totpEnroll(self::USER, self::KEYS, Core::entropy(), $t);
        $secret = $enroll['secret'];
        $activated = $core->totpActivate(self::USER, self::KEYS, $enroll['record'], $core->totpCode($secret, $t), $t,
            ['entropy' => Core::entropy(), 'policy' => new \stdClass()]);
        $this->assertTrue($activated['activated']);
        $this->assertCount(10, $activated['backup_codes'], 'the first backup codes come with the activation');
        $record = $activated['record'];

        try {
            $core->call(['op' => 'app_password.create', 'user' => self::USER, 'keys' => self::KEYS, 'entropy' => Core::entropy(),
                'time' => $t + 30, 'record' => $record, 'label' => 'Phone']);
            $this->fail('an app password without a fresh factor');
        } catch (Error $e) {
            $this->assertSame('fresh_factor_required', $e->errorCode);
        }
        $refused = $core->appPasswordCreate(self::USER, self::KEYS, Core::entropy(), $t + 30, $record, 'Phone',
            ['method' => 'backup_code', 'code' => 'zzzzz-zzzzz']);
        $this->assertFalse($refused['fresh']['accepted']);
        $this->assertNull($refused['password'] ?? null, 'a refused proof makes no password');
        $made = $core->appPasswordCreate(self::USER, self::KEYS, Core::entropy(), $t + 30, $refused['record'], 'Phone',
            ['method' => 'totp', 'code' => $core->totpCode($secret, $t + 30)]);
        $this->assertTrue($made['fresh']['accepted']);
        $this->assertTrue(password_verify($made['password'], $made['phc']));

        $projection = $core->recordProjection($made['record']);
        $this->assertSame('enabled', $projection['state']);
        $this->assertSame([$made['id']], array_column($projection['app_passwords'], 'id'));
        $noApps = $core->recordProjection($made['record'], ['policy' => ['methods' => ['totp', 'backup_code']]]);
        $this->assertSame([], $noApps['app_passwords'], 'a policy without app_password projects none');

        $reset = $core->recordReset($made['record'], $t + 60);
        $this->assertSame('disabled', $reset['state']);
        $this->assertSame($made['record']['rev'] + 1, $reset['record']['rev'], 'a reset never repeats a rev');
        $this->assertSame([], $core->recordProjection($reset['record'])['app_passwords']);
        $this->assertSame(1, $core->recordReset(null, $t)['record']['rev']);
    }

    public function testArgon2PhcInteropWithPhpPasswordApi(): void
    {
        $this->assertTrue(defined('PASSWORD_ARGON2ID'), 'PHP is built with Argon2');
        $core = self::core();
        $phc = $core->phcHash('correct horse', base64_encode(random_bytes(16)), ['m' => 1024, 't' => 1, 'p' => 1]);
        $this->assertStringStartsWith('$argon2id$v=19$m=1024,t=1,p=1$', $phc);
        $this->assertTrue(password_verify('correct horse', $phc));
        $this->assertFalse(password_verify('battery staple', $phc));
        $php = password_hash('correct horse', PASSWORD_ARGON2ID, ['memory_cost' => 1024, 'time_cost' => 1, 'threads' => 1]);
        $this->assertTrue($core->phcVerify($php, 'correct horse'));
        $this->assertFalse($core->phcVerify($php, 'battery staple'));
    }

    public function testReopeningInAProcessReusesTheModuleAndInstance(): void
    {
        self::core()->close();
        $again = self::core();
        $status = $again->status();
        $this->assertSame('process', $status['source']);
        $this->assertTrue($status['instance_reused']);
        $this->assertFalse($status['wasm_hashed'], 'an unchanged wasm file is not hashed again');
        $this->assertNull($status['compile_ms']);
        $this->assertTrue($status['panic_unwinds'], 'the library catches panics at the C boundary');
        $this->assertSame(explode(' ', trim((string) file_get_contents(TestEnv::root() . '/dist/mail2fa.wasm.sha256')))[0],
            $status['wasm_sha256']);
        $this->assertSame($status['wasm_sha256'], $again->pinnedSha256());
    }

    public function testRawRequestsAnswerErrorJsonNotExceptions(): void
    {
        $core = self::core();
        $cases = ['{' => 'invalid_request', "\xff\xfe" => 'invalid_request', '[]' => 'invalid_request',
            '{"op":"totp.code","secret":7}' => 'invalid_field',
            '{"op":"x","pad":"' . str_repeat('a', 2 << 20) . '"}' => 'request_too_large'];
        foreach ($cases as $request => $code) {
            $response = json_decode($core->callJson($request), true, 512, JSON_THROW_ON_ERROR);
            $this->assertFalse($response['ok']);
            $this->assertSame($code, $response['error']['code'], substr($request, 0, 40));
        }
        // The instance still answers after every refusal.
        $this->assertSame('94287082', $core->totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59, ['digits' => 8]));
        $this->expectException(Error::class);
        $core->call(['op' => 'totp.code', 'secret' => "\xff"]);
    }

    /**
     * callWithRecord: the stored record's JSON text spliced into the request answers as the
     * decoded record through call() does; text that is not one JSON object is refused, and
     * nothing after a stored object's closing brace can become a field of the request.
     */
    public function testCallWithRecordTakesTheStoredTextAsIs(): void
    {
        $core = self::core();
        $t = 1700000000;
        $secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
        $record = $core->importGauthenticator(self::USER, self::KEYS, Core::entropy(), $t,
            ['secret' => $secret, 'activate' => true])['record'];
        $stored = json_encode($record, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
        $code = $core->totpCode($secret, $t + 30);
        $fields = ['op' => 'login.decide', 'user' => self::USER, 'keys' => self::KEYS, 'time' => $t + 30,
            'factor' => ['type' => 'totp', 'value' => $code]];

        $viaText = $core->callWithRecord($fields, $stored);
        $this->assertSame('ok', $viaText['verdict']);
        $this->assertEquals($core->call($fields + ['record' => $record]), $viaText);
        // The step is used now: the new record, stored as text again, refuses the same code.
        $again = $core->callWithRecord($fields, json_encode($viaText['record']));
        $this->assertSame('wrong', $again['verdict']);
        $this->assertSame('replayed', $again['reason']);
        // No record: a user without a row.
        $this->assertSame('not_required', $core->callWithRecord($fields, null)['verdict']);

        // callOnStoredRecord: the same answer, the new record as text to store as is.
        $fields['time'] = $t + 60;
        $fields['factor']['value'] = $core->totpCode($secret, $t + 60);
        $cut = $core->callOnStoredRecord($fields, json_encode($viaText['record']));
        $whole = $core->callWithRecord($fields, json_encode($viaText['record']));
        $this->assertSame('ok', $cut['response']['verdict']);
        $this->assertArrayNotHasKey('record', $cut['response']);
        $this->assertEquals($whole['record'], json_decode($cut['record_json'], true));
        unset($whole['record']);
        $this->assertEquals($whole, $cut['response']);
        // Nothing changed (the factor is only asked for): the core writes the text it read.
        $asked = $core->callOnStoredRecord(['factor' => null] + $fields, $cut['record_json']);
        $this->assertSame('factor_required', $asked['response']['verdict']);
        $this->assertSame($cut['record_json'], $asked['record_json']);
        // An op whose response has no record, and a core error.
        $status = $core->callOnStoredRecord(['op' => 'record.status', 'user' => self::USER, 'keys' => self::KEYS],
            $cut['record_json']);
        $this->assertSame('enabled', $status['response']['state']);
        $this->assertNull($status['record_json']);
        try {
            $core->callOnStoredRecord(['user' => 'mallory@example.com'] + $fields, $cut['record_json']);
            $this->fail('opened for another user');
        } catch (Error $e) {
            $this->assertSame('decrypt_failed', $e->errorCode);
        }
    }

    public function testCallWithRecordRefusesTextThatIsNotOneObject(): void
    {
        $core = self::core();
        $t = 1700000000;
        $record = $core->importGauthenticator(self::USER, self::KEYS, Core::entropy(), $t,
            ['secret' => 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 'activate' => true])['record'];
        $stored = json_encode($record);
        $fields = ['op' => 'login.decide', 'user' => self::USER, 'keys' => self::KEYS, 'time' => $t + 30];
        // Text after the object would otherwise be fields of the request (here a policy
        // that lets the user in without a factor, or another user's name).
        foreach ([$stored . ',"policy":{"mode":"optional"},"x":{}', substr($stored, 0, -1) . '},"user":"mallory"}',
            '', '[]', '"text"', '{"a":"}', $stored . 'x'] as $text) {
            try {
                $core->callWithRecord($fields, $text);
                $this->fail('accepted ' . substr($text, -40));
            } catch (Error $e) {
                $this->assertSame('invalid_record', $e->errorCode, substr($text, -40));
            }
        }
        // A record among the fields is refused: it goes in $recordJson.
        try {
            $core->callWithRecord($fields + ['record' => $record], $stored);
            $this->fail('accepted a record field');
        } catch (Error $e) {
            $this->assertSame('invalid_request', $e->errorCode);
        }
        // A balanced object that is no record is the core's to refuse.
        try {
            $core->callWithRecord($fields, '{"format":2}');
            $this->fail('accepted format 2');
        } catch (Error $e) {
            $this->assertSame('unsupported_format', $e->errorCode);
        }
    }

    public function testAModuleOtherThanThePinnedOneIsRefused(): void
    {
        $dir = TestEnv::tempDir('mismatch');
        $bytes = (string) file_get_contents(TestEnv::wasm());
        $bytes[strlen($bytes) - 1] = chr(ord($bytes[strlen($bytes) - 1]) ^ 1);
        file_put_contents("$dir/mail2fa.wasm", $bytes);
        try {
            Core::open(TestEnv::options(['wasm' => "$dir/mail2fa.wasm"]));
            $this->fail('a modified module was accepted');
        } catch (Error $e) {
            $this->assertSame('module_mismatch', $e->errorCode);
            $this->assertStringContainsString(hash('sha256', $bytes), $e->getMessage());
        }
        try {
            Core::open(TestEnv::options(['wasm' => "$dir/missing.wasm"]));
            $this->fail('a missing module was accepted');
        } catch (Error $e) {
            $this->assertSame('wasm_unreadable', $e->errorCode);
        }
    }

    public function testOptionsAndLoadingErrors(): void
    {
        foreach ([[['wasm_path' => 'x'], 'invalid_option'], [['cache_dir' => 5], 'invalid_option'],
            [['library' => '/nonexistent/libmail2fa_host.so'], 'library_missing']] as [$options, $code]) {
            try {
                Core::open($options + TestEnv::options());
                $this->fail("accepted " . json_encode($options));
            } catch (Error $e) {
                $this->assertSame($code, $e->errorCode);
            }
        }
        // FFI off and nothing preloaded: a clear error, not a fatal.
        $r = self::child(TestEnv::options(), ['ffi.enable' => '0']);
        $this->assertSame('ffi_unavailable', $r['error'][0]);
    }

    public function testTheDiskCacheServesANewProcessAndIsPrivate(): void
    {
        $cache = TestEnv::tempDir('cache-proc') . '/cache';
        $first = self::child(TestEnv::options(['cache_dir' => $cache]));
        $this->assertSame('94287082', $first['code']);
        $this->assertSame('compiled', $first['status']['source']);
        $this->assertGreaterThan(0, $first['status']['compile_ms']);
        $this->assertNull($first['status']['cache_error']);
        $file = $first['status']['cache_file'];
        $this->assertFileExists($file);
        $this->assertSame(0700, fileperms($cache) & 0777);
        $this->assertSame(0600, fileperms($file) & 0777);
        $this->assertStringContainsString(substr($first['status']['wasm_sha256'], 0, 16), basename($file));
        $this->assertStringContainsString('wasmtime-' . $first['status']['wasmtime'], basename($file));

        $second = self::child(TestEnv::options(['cache_dir' => $cache]));
        $this->assertSame('94287082', $second['code']);
        $this->assertSame('disk_cache', $second['status']['source']);
        $this->assertNull($second['status']['compile_ms']);
        $this->assertSame($file, $second['status']['cache_file']);

        // No disk cache at all: every new process compiles, and still works.
        $none = self::child(TestEnv::options(['cache_dir' => null]));
        $this->assertSame('compiled', $none['status']['source']);
        $this->assertNull($none['status']['cache_file']);
    }
}
