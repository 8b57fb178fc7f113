<?php

/*
 * opcache.preload script: defines the adapter classes in every php-fpm worker, so their
 * methods are "preloaded code" and may use FFI under Debian's default ffi.enable=preload.
 * It must not call FFI::load() (that fails together with opcache.preload_user); the C
 * declarations come from ffi.preload=<dist>/mail2fa.h instead. See ../README.md.
 */
require_once __DIR__ . '/Error.php';
require_once __DIR__ . '/Core.php';
require_once __DIR__ . '/Storage.php';
require_once __DIR__ . '/TextStorage.php';
require_once __DIR__ . '/MemoryStorage.php';
require_once __DIR__ . '/Service.php';
