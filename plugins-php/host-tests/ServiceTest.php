<?php

declare(strict_types=1);

use Mail2fa\Core;
use Mail2fa\Error;
use Mail2fa\MemoryStorage;
use Mail2fa\Service;
use PHPUnit\Framework\TestCase;

/**
 * Mail2fa\Service beyond the shared scenarios (tests/scenarios/): the parts of its contract
 * that are PHP-side (option checks, callables), each mirrored by a test of the JS class in
 * plugins-js/test/server.test.mjs.
 */
final class ServiceTest extends TestCase
{
    private const KEYS = [['id' => 'k1', 'key' => 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=']];
    private const POLICY_NOT_OBJECT = 'policy must be an object, or a function of the canonical user name that returns one';

    private static ?Core $core = null;

    private static function core(): Core
    {
        return self::$core ??= Core::open(TestEnv::options());
    }

    private static function service(array $options): Service
    {
        return new Service($options + ['keys' => self::KEYS, 'storage' => new MemoryStorage(), 'core' => self::core()]);
    }

    /**
     * Over a TextStorage the login check reads and writes the record as text only (no get, no
     * compareAndSet), stores the core's text as is, and writes nothing when the record did not
     * change; a stored text that is not one JSON object holds the login without reaching the core.
     */
    public function testTheLoginCheckUsesTheStoredTextAsIs(): void
    {
        $clock = 1_800_000_000;
        $storage = new class () implements \Mail2fa\TextStorage {
            public bool $arrays = true;
            public array $texts = [];
            private MemoryStorage $inner;

            public function __construct()
            {
                $this->inner = new MemoryStorage();
            }

            public function get(string $user): ?array
            {
                $this->arrays || throw new LogicException('get() on the login path');

                return $this->inner->get($user);
            }

            public function compareAndSet(string $user, int|string|null $expectedVersion, array $record): bool
            {
                $this->arrays || throw new LogicException('compareAndSet() on the login path');

                return $this->inner->compareAndSet($user, $expectedVersion, $record);
            }

            public function getText(string $user): ?array
            {
                return $this->inner->getText($user);
            }

            public function compareAndSetText(string $user, int|string|null $expectedVersion, string $text): bool
            {
                $this->texts[] = $text;

                return $this->inner->compareAndSetText($user, $expectedVersion, $text);
            }

            public function put(string $user, string $text): void
            {
                $row = $this->inner->getText($user);
                $this->inner->compareAndSetText($user, $row['version'] ?? null, $text);
            }
        };
        $mfa = self::service(['storage' => $storage, 'now' => function () use (&$clock): int {
            return $clock;
        }]);
        $enrolled = $mfa->enroll('alice');
        $this->assertTrue($mfa->confirm('alice', self::core()->totpCode($enrolled['secret'], $clock))['ok']);
        $storage->arrays = false;
        $storage->texts = [];

        $clock += 60;
        $this->assertSame('factor_required', $mfa->beginLogin('alice')['verdict']);
        $this->assertSame('not_required', $mfa->beginLogin('nobody')['verdict']);
        $this->assertSame([], $storage->texts, 'no write for a record the core left alone, none for a user without a row');
        $ok = $mfa->verifyLogin('alice', self::core()->totpCode($enrolled['secret'], $clock));
        $this->assertTrue($ok['ok'], json_encode($ok));
        $this->assertCount(1, $storage->texts);
        $this->assertSame($storage->texts[0], $storage->getText('alice')['text'], 'stored as the core wrote it');
        $this->assertSame('replayed', $mfa->verifyLogin('alice', self::core()->totpCode($enrolled['secret'], $clock))['reason'] ?? null,
            'the accepted step is in the stored text: a replay is refused');

        // A stored text that is valid but not the core's bytes (another tool's escapes and
        // spacing): a check that changes nothing writes nothing (the rev did not move; the SQL
        // driver would refuse the same rev again and hold the login); a change is written.
        $canonical = $storage->getText('alice')['text'];
        $foreign = json_encode(json_decode($canonical), JSON_PRETTY_PRINT);
        $this->assertNotSame($canonical, $foreign);
        $storage->put('alice', $foreign);
        $storage->texts = [];
        $this->assertSame('factor_required', $mfa->beginLogin('alice')['verdict']);
        $this->assertSame([], $storage->texts, 'same rev, other bytes: no write');
        $clock += 30;
        $this->assertTrue($mfa->verifyLogin('alice', self::core()->totpCode($enrolled['secret'], $clock))['ok']);
        $this->assertCount(1, $storage->texts, 'the accepted step is written');
        $this->assertGreaterThan(json_decode($foreign, true)['rev'], json_decode($storage->texts[0], true)['rev']);

        // Something after the record's closing brace would be a field of the request: refused.
        $text = $storage->getText('alice')['text'];
        $storage->put('alice', $text . ',"user":"mallory"}');
        $held = $mfa->verifyLogin('alice', self::core()->totpCode($enrolled['secret'], $clock + 30));
        $this->assertSame(['ok' => false, 'reason' => 'error', 'error' => 'invalid_record'],
            ['ok' => $held['ok'], 'reason' => $held['reason'], 'error' => $held['error']]);
    }

    /** canonicalUser keeps what the core answered (as JS's Mail2fa), never a refusal. */
    public function testCanonicalNamesAreKeptAndRefusalsAreNot(): void
    {
        $mfa = self::service(['username' => ['domain' => 'strip']]);
        $this->assertSame('alice', $mfa->canonicalUser('ALICE@example.com'));
        $this->assertSame('alice', $mfa->canonicalUser('ALICE@example.com'));
        $this->assertSame('alice', $mfa->canonicalUser('alice'));
        foreach ([1, 2] as $_) {
            try {
                $mfa->canonicalUser('');
                $this->fail('an empty name was accepted');
            } catch (Error $e) {
                $this->assertSame('invalid_user', $e->errorCode);
            }
        }
        // Another rule, another instance: its own answers.
        $this->assertSame('alice@example.com', self::service([])->canonicalUser('ALICE@example.com'));
    }

    public function testPolicyAsACallableOfTheCanonicalUser(): void
    {
        $clock = 1_800_000_000;
        $seen = [];
        $storage = new MemoryStorage();
        $mfa = self::service([
            'storage' => $storage, 'now' => function () use (&$clock): int {
                return $clock;
            },
            'username' => ['domain' => 'strip'],
            'policy' => function (string $user) use (&$seen): array {
                $seen[] = $user;

                return $user === 'boss' ? ['mode' => 'required', 'methods' => ['totp', 'backup_code']] : ['mode' => 'optional'];
            },
        ]);
        // One user must enroll, the other needn't: the same site, the same storage.
        $this->assertSame('enroll_required', $mfa->beginLogin('BOSS@example.com')['verdict']);
        $this->assertSame('not_required', $mfa->beginLogin('Intern@example.com')['verdict']);
        $this->assertSame(['boss', 'intern'], $seen);

        $enrolled = $mfa->enroll('boss');
        $this->assertTrue($mfa->confirm('boss', self::core()->totpCode($enrolled['secret'], $clock))['ok']);
        $clock += 30;
        try {
            // The boss's policy has no app passwords: the core refuses one (with a valid proof).
            $mfa->createAppPassword('boss', 'phone', ['proof' => ['method' => 'totp',
                'code' => self::core()->totpCode($enrolled['secret'], $clock)]]);
            $this->fail('an app password against the policy');
        } catch (Error $e) {
            $this->assertSame('method_not_allowed', $e->errorCode);
        }
        $this->assertGreaterThan(4, count($seen));
        $this->assertSame([], array_values(array_diff($seen, ['boss', 'intern'])));

        // An array policy is the same for everyone (as before).
        $this->assertSame('enroll_required', self::service(['policy' => ['mode' => 'required']])->beginLogin('anyone')['verdict']);
        // An invokable object or a first-class callable is a policy function too.
        $invokable = new class () {
            public function __invoke(string $user): array
            {
                return $user === 'boss' ? ['mode' => 'required'] : [];
            }
        };
        foreach ([$invokable, $invokable->__invoke(...)] as $policy) {
            $mfa = self::service(['policy' => $policy]);
            $this->assertSame(['enroll_required', 'not_required'],
                [$mfa->beginLogin('Boss')['verdict'], $mfa->beginLogin('intern')['verdict']]);
        }
        // A callable given as an array or a function name is no policy function (it would be
        // taken for a policy): refused.
        foreach ([[$invokable, '__invoke'], 'strtolower'] as $policy) {
            try {
                self::service(['policy' => $policy]);
                $this->fail('accepted ' . gettype($policy));
            } catch (Error $e) {
                $this->assertSame('invalid_field', $e->errorCode);
            }
        }
    }

    public function testAPolicyThatIsNoObjectIsInvalidField(): void
    {
        foreach ([null, 'required', [1, 2], 5] as $bad) {
            $odd = self::service(['policy' => static fn (string $user) => $bad]);
            foreach (['enroll', 'projection'] as $method) {
                try {
                    $odd->$method('intern');
                    $this->fail("$method accepted " . json_encode($bad));
                } catch (Error $e) {
                    $this->assertSame(['invalid_field', self::POLICY_NOT_OBJECT], [$e->errorCode, $e->getMessage()]);
                }
            }
            $held = $odd->beginLogin('intern');
            $this->assertSame([true, false, 'invalid_field'], [$held['required'], $held['ok'], $held['error']]);
            if ($bad !== null) {
                try {
                    self::service(['policy' => $bad]);
                    $this->fail('the option accepted ' . json_encode($bad));
                } catch (Error $e) {
                    $this->assertSame(['invalid_field', self::POLICY_NOT_OBJECT], [$e->errorCode, $e->getMessage()]);
                }
            }
        }
    }
    public function testConstructorOptionsAreCheckedAsJsChecksThem(): void
    {
        $keys = self::KEYS;
        $storage = new MemoryStorage();
        $refused = [
            [['keys' => $keys, 'storage' => $storage, 'isuer' => 'typo'], 'invalid_field', 'unknown option(s): isuer'],
            [['keys' => [], 'storage' => $storage], 'missing_field', null],
            [['keys' => [null], 'storage' => $storage], 'invalid_field', 'keys must be a list of {id, key} (current key first)'],
            [['keys' => ['k1'], 'storage' => $storage], 'invalid_field', 'keys must be a list of {id, key} (current key first)'],
            [['keys' => $keys], 'missing_field', null],
            [['keys' => $keys, 'storage' => $storage, 'username' => 'strip'], 'invalid_field',
                'username must be an object: {case, domain, default_domain}'],
            [['keys' => $keys, 'storage' => $storage, 'policy' => 'required'], 'invalid_field', self::POLICY_NOT_OBJECT],
        ];
        foreach ($refused as [$options, $code, $message]) {
            try {
                new Service($options + ['core' => self::core()]);
                $this->fail('accepted ' . implode(', ', array_keys($options)));
            } catch (Error $e) {
                $this->assertSame($code, $e->errorCode);
                if ($message !== null) {
                    $this->assertSame($message, $e->getMessage());
                }
            }
        }
        // An option set to null is not given.
        $mfa = new Service(['keys' => $keys, 'storage' => $storage, 'core' => self::core(), 'issuer' => null,
            'window' => null, 'policy' => null, 'username' => null, 'now' => null, 'random' => null]);
        $this->assertSame('alice', $mfa->canonicalUser('ALICE'));
    }

    public function testEveryPublicMethodTakesItsArgumentsUntypedAndChecksThemItself(): void
    {
        // PHP's own type errors (TypeError, not a Mail2fa\Error) would differ from JS's answer:
        // the Service declares no scalar parameter types and refuses bad values as JS does
        // (tests/scenarios/bad-input.json proves the answers equal).
        foreach ((new ReflectionClass(Service::class))->getMethods(ReflectionMethod::IS_PUBLIC) as $method) {
            if ($method->getName() === '__construct') {
                continue;
            }
            foreach ($method->getParameters() as $parameter) {
                $this->assertSame('mixed', (string) $parameter->getType(), "{$method->getName()}(\${$parameter->getName()})");
            }
        }
    }
}
