<?php

// Loads the adapter classes unless opcache.preload (preload.php) already defined them.
if (!class_exists(\Mail2fa\Core::class, false)) {
    require_once __DIR__ . '/Error.php';
    require_once __DIR__ . '/Core.php';
}
