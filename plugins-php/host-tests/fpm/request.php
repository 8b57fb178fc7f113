<?php

/*
 * The php-fpm test's request (FpmTest): uses the adapter classes from opcache.preload
 * (nothing is required here) and the MAIL2FA FFI scope from ffi.preload, under the SAPI's
 * default ffi.enable=preload. Reports what opening cost this worker.
 */
header('Content-Type: application/json');
$out = [
    'pid' => getmypid(),
    'ffi_enable' => ini_get('ffi.enable'),
    'core_preloaded' => in_array('Mail2fa\\Core', opcache_get_status(false)['preload_statistics']['classes'] ?? [], true),
];
try {
    $options = [];
    if (!empty($_SERVER['MAIL2FA_CACHE_DIR'])) {
        $options['cache_dir'] = $_SERVER['MAIL2FA_CACHE_DIR'];
    }
    $t = hrtime(true);
    $core = \Mail2fa\Core::open($options);
    $out['open_us'] = (hrtime(true) - $t) / 1000;
    $out['status'] = $core->status();
    $out['code'] = $core->totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59, ['digits' => 8]);
} catch (\Throwable $e) {
    $out['error'] = [get_class($e), $e instanceof \Mail2fa\Error ? $e->errorCode : '', $e->getMessage()];
}
echo json_encode($out, JSON_UNESCAPED_SLASHES);
