<?php

// Loads the adapter classes unless opcache.preload (preload.php) already defined them.
if (!class_exists(\Mail2fa\Core::class, false)) {
    require_once __DIR__ . '/Error.php';
    require_once __DIR__ . '/Core.php';
}
// The service (Storage, TextStorage, MemoryStorage, Service): checked on its own, so an older preload
// list that defined only the adapter still gets it.
if (!class_exists(\Mail2fa\Service::class, false)) {
    require_once __DIR__ . '/Storage.php';
    require_once __DIR__ . '/TextStorage.php';
    require_once __DIR__ . '/MemoryStorage.php';
    require_once __DIR__ . '/Service.php';
}
