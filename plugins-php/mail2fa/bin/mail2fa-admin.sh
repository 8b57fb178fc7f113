#!/usr/bin/env php
<?php
/*
 * mail2fa admin tool: boots Roundcube like its own bin/ scripts and works on the
 * plugin's table through the plugin's Mail2fa\Service (compare-and-set, effective at once).
 *
 *   mail2fa-admin.sh status <user>                 state, factors, counts (JSON)
 *   mail2fa-admin.sh reset <user>                  2FA off at once: the next login has no second step
 *   mail2fa-admin.sh revoke-devices <user>         forget every trusted device
 *   mail2fa-admin.sh revoke-app-passwords <user>   revoke every app password
 *   mail2fa-admin.sh password-changed <user>       the main password changed elsewhere: revoke what it invalidates
 *   mail2fa-admin.sh list                          every user with a mail2fa row
 *   mail2fa-admin.sh import-gauthenticator [--purge] [--dry-run]
 *                                                  migrate twofactor_gauthenticator prefs (idempotent);
 *                                                  --purge removes them once imported, --dry-run only reports
 *   mail2fa-admin.sh rotate-keys                   re-seal every record under the first of mail2fa_keys;
 *                                                  exit 0 = no record needs an older key any more
 *   mail2fa-admin.sh sync-projection [<user>...]   rewrite the Dovecot projection (state, app passwords) of
 *                                                  every / the named users from their record and the current
 *                                                  policy; run it after changing mail2fa_policy(_rules)
 *
 * Roundcube is found at $ROUNDCUBE_INSTALL_PATH, else three levels up (plugins/mail2fa/bin),
 * else /var/lib/roundcube/ (Debian). ROUNDCUBE_CONFIG_DIR selects another config dir.
 * Exit status: 0 done, 1 error, 2 usage.
 */

if (php_sapi_name() !== 'cli') {
    die("Not on the shell.\n");
}

$candidates = array_filter([getenv('ROUNDCUBE_INSTALL_PATH'), realpath(__DIR__ . '/../../..'), '/var/lib/roundcube']);
foreach ($candidates as $dir) {
    if ($dir && is_file(rtrim($dir, '/') . '/program/include/clisetup.php')) {
        define('INSTALL_PATH', rtrim($dir, '/') . '/');
        break;
    }
}
if (!defined('INSTALL_PATH')) {
    fwrite(STDERR, "mail2fa-admin: Roundcube not found (set ROUNDCUBE_INSTALL_PATH)\n");
    exit(1);
}

require_once INSTALL_PATH . 'program/include/clisetup.php';
require_once __DIR__ . '/../mail2fa_engine.php';
require_once __DIR__ . '/../mail2fa_admin.php';

function usage()
{
    fwrite(STDERR, "usage: mail2fa-admin.sh status|reset|revoke-devices|revoke-app-passwords|password-changed <user>\n"
        . "       mail2fa-admin.sh list\n"
        . "       mail2fa-admin.sh import-gauthenticator [--purge] [--dry-run]\n"
        . "       mail2fa-admin.sh rotate-keys\n"
        . "       mail2fa-admin.sh sync-projection [<user>...]\n");
    exit(2);
}

$rcmail = rcmail::get_instance();
// The plugin's own config file, as the plugin loads it (plugins/mail2fa/config.inc.php or mail2fa.inc.php).
if (is_file(__DIR__ . '/../config.inc.php')) {
    $rcmail->config->load_from_file(realpath(__DIR__ . '/../config.inc.php'));
}
else {
    $rcmail->config->load_from_file('mail2fa.inc.php');
}

$args = array_slice($argv, 1);
$command = array_shift($args);
if (!$command) {
    usage();
}
$flags = array_values(array_filter($args, function ($a) { return strpos($a, '--') === 0; }));
$args = array_values(array_filter($args, function ($a) { return strpos($a, '--') !== 0; }));
// A misspelt --dry-run must not run the real thing.
$known = $command === 'import-gauthenticator' ? ['--purge', '--dry-run'] : [];
if (array_diff($flags, $known)) {
    fwrite(STDERR, 'mail2fa-admin: unknown option ' . implode(' ', array_diff($flags, $known)) . " for $command\n");
    usage();
}

$engine = new mail2fa_engine($rcmail);
$admin = new mail2fa_admin($engine);

try {
    if ($command === 'import-gauthenticator') {
        $results = $admin->import_gauthenticator($rcmail, in_array('--purge', $flags, true), in_array('--dry-run', $flags, true));
        $errors = 0;
        foreach ($results as $r) {
            printf("%-40s %-12s %s\n", $r['user'], $r['result'], $r['detail']);
            $errors += $r['result'] === 'error' ? 1 : 0;
        }
        printf("import-gauthenticator: %d users, %d errors%s\n", count($results), $errors,
            in_array('--dry-run', $flags, true) ? ' (dry run: nothing changed)' : '');
        exit($errors ? 1 : 0);
    }
    if ($command === 'rotate-keys') {
        if ($args) {
            usage();
        }
        $results = $admin->rotate_keys();
        $count = array_count_values(array_column($results, 'result'));
        foreach ($results as $r) {
            printf("%-40s %-8s %s\n", $r['user'], $r['result'], $r['detail']);
        }
        printf("rotate-keys: %d records, %d re-sealed, %d errors%s\n", count($results), $count['rotated'] ?? 0,
            $count['error'] ?? 0, empty($count['error']) ? '' : ' (keep the older keys configured until a rerun has none)');
        exit(empty($count['error']) ? 0 : 1);
    }
    if ($command === 'sync-projection') {
        $results = $admin->run('sync-projection', ['users' => $args]);
        $count = array_count_values(array_column($results, 'result'));
        foreach ($results as $r) {
            printf("%-40s %-10s %s\n", $r['user'], $r['result'], $r['detail']);
        }
        $errors = ($count['error'] ?? 0) + ($count['no-record'] ?? 0);
        printf("sync-projection: %d users, %d rewritten, %d errors\n", count($results), $count['synced'] ?? 0, $errors);
        exit($errors ? 1 : 0);
    }
    if (in_array($command, ['status', 'reset', 'revoke-devices', 'revoke-app-passwords', 'password-changed'], true)) {
        if (count($args) !== 1) {
            usage();
        }
        $result = $admin->run($command, ['user' => $args[0]]);
    }
    else if ($command === 'list') {
        $result = $admin->run('list', []);
    }
    else {
        usage();
    }
    echo json_encode($result, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
    exit(0);
}
catch (Throwable $e) {
    $code = method_exists($e, 'getErrorCode') ? $e->getErrorCode() . ': ' : '';
    fwrite(STDERR, "mail2fa-admin: $command failed: $code" . $e->getMessage() . "\n");
    exit(1);
}
