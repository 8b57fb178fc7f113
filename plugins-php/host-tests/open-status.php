<?php

/*
 * Child process for CoreTest: opens the core with the given options (JSON in argv[1]) and
 * prints {"status": …} or {"error": [code, message]}, so a test can see what a new process
 * pays (compile, disk cache) and how the adapter fails.
 */
require_once __DIR__ . '/../mail2fa/lib/autoload.php';

$options = json_decode($argv[1] ?? '{}', true, 512, JSON_THROW_ON_ERROR);
try {
    $core = \Mail2fa\Core::open($options);
    $out = ['status' => $core->status(), 'code' => $core->totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59, ['digits' => 8])];
} catch (\Mail2fa\Error $e) {
    $out = ['error' => [$e->errorCode, $e->getMessage()]];
}
echo json_encode($out, JSON_UNESCAPED_SLASHES), "\n";
