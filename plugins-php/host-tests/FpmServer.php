<?php

declare(strict_types=1);

/**
 * A php-fpm 8.2 master in the foreground for tests and benchmarks: Debian's php.ini and
 * conf.d (so ffi.enable stays at its default, preload) plus the mail2fa.ini that the
 * shipped configure.php writes, a pool on a unix socket in a private temp dir. Started with
 * proc_open (no shell), its PID recorded, stopped by that PID. Requests go through
 * FastCGI with cgi-fcgi (Debian's libfcgi-bin).
 */
final class FpmServer
{
    public readonly string $dir;
    public readonly string $socket;
    private $proc = null;
    private ?int $pid = null;

    /** @param string $library the host library; $workers the pool's static size */
    public function __construct(private string $library, private int $workers = 2)
    {
        $this->dir = TestEnv::tempDir('fpm');
        chmod($this->dir, 0755);
        $this->socket = $this->dir . '/fpm.sock';
        $user = self::userName();
        $root = posix_geteuid() === 0;
        $conf = str_replace(['@DIR@', '@WORKERS@'], [$this->dir, (string) $workers],
            (string) file_get_contents(__DIR__ . '/fpm/pool.conf'));
        if ($root) {
            // Workers of a root master need a user; this test's files belong to root.
            $conf .= "user = $user\ngroup = " . posix_getgrgid(posix_getegid())['name'] . "\n";
        }
        file_put_contents($this->dir . '/fpm.conf', $conf);
        mkdir($this->dir . '/conf.d');
        self::run([PHP_BINARY, TestEnv::root() . '/plugins-php/mail2fa/lib/configure.php',
            '--library=' . $library, '--out=' . $this->dir, '--preload-user=' . $user]);
        copy($this->dir . '/mail2fa.ini', $this->dir . '/conf.d/99-mail2fa.ini');
    }

    public static function binary(): string
    {
        foreach (['/usr/sbin/php-fpm8.2', '/usr/bin/php-fpm8.2'] as $b) {
            if (is_executable($b)) {
                return $b;
            }
        }
        throw new RuntimeException('php-fpm8.2 is not installed (scripts/install-deps.sh installs php8.2-fpm)');
    }

    /** The master's PID while it runs. */
    public function pid(): ?int
    {
        return $this->pid;
    }

    public function start(): void
    {
        $cmd = [self::binary(), '-F', '-y', $this->dir . '/fpm.conf'];
        if (posix_geteuid() === 0) {
            $cmd[] = '-R';
        }
        $env = [
            'PATH' => getenv('PATH') ?: '/usr/bin:/bin',
            // Debian's conf.d for the fpm SAPI (extensions, FFI, opcache), then ours.
            'PHP_INI_SCAN_DIR' => '/etc/php/8.2/fpm/conf.d:' . $this->dir . '/conf.d',
        ];
        @unlink($this->socket);
        $log = $this->dir . '/master.log';
        $this->proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'a'], 2 => ['file', $log, 'a']],
            $pipes, $this->dir, $env);
        if (!is_resource($this->proc)) {
            throw new RuntimeException('cannot start php-fpm');
        }
        $this->pid = proc_get_status($this->proc)['pid'];
        $deadline = microtime(true) + 30;
        while (!file_exists($this->socket)) {
            if (!proc_get_status($this->proc)['running'] || microtime(true) > $deadline) {
                $this->stop();
                throw new RuntimeException("php-fpm did not start:\n" . $this->logs());
            }
            usleep(20000);
        }
    }

    public function stop(): void
    {
        if ($this->proc === null) {
            return;
        }
        if (proc_get_status($this->proc)['running']) {
            posix_kill($this->pid, SIGTERM);
            $deadline = microtime(true) + 20;
            while (proc_get_status($this->proc)['running'] && microtime(true) < $deadline) {
                usleep(20000);
            }
            if (proc_get_status($this->proc)['running']) {
                posix_kill($this->pid, SIGKILL);
            }
        }
        proc_close($this->proc);
        $this->proc = null;
        $this->pid = null;
    }

    public function logs(): string
    {
        $out = '';
        foreach (['master.log', 'php-fpm.log', 'php-errors.log'] as $f) {
            if (is_file("$this->dir/$f")) {
                $out .= "== $f\n" . file_get_contents("$this->dir/$f");
            }
        }

        return $out;
    }

    /** Runs $script through FastCGI; returns the response body decoded from JSON. */
    public function request(string $script, string $query = ''): array
    {
        $env = ['SCRIPT_FILENAME' => $script, 'REQUEST_METHOD' => 'GET', 'QUERY_STRING' => $query,
            'SERVER_PROTOCOL' => 'HTTP/1.1', 'PATH' => getenv('PATH') ?: '/usr/bin:/bin'];
        $raw = self::run(['cgi-fcgi', '-bind', '-connect', $this->socket], $env);
        $parts = preg_split("/\r?\n\r?\n/", $raw, 2);
        $body = $parts[1] ?? '';
        $decoded = json_decode($body, true);
        if (!is_array($decoded)) {
            throw new RuntimeException("not a JSON response from $script:\n$raw\n" . $this->logs());
        }

        return $decoded;
    }

    private static function userName(): string
    {
        return posix_getpwuid(posix_geteuid())['name'];
    }

    /** Runs a command without a shell; returns stdout, throws on a non-zero exit. */
    private static function run(array $cmd, ?array $env = null): string
    {
        $p = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $code = proc_close($p);
        if ($code !== 0) {
            throw new RuntimeException(implode(' ', $cmd) . " exited $code: $err$out");
        }

        return $out;
    }
}
