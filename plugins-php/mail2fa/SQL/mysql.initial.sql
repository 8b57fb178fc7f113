-- mail2fa: one row per user holding the core's record (JSON, stored whole) and its rev,
-- written only by compare-and-set on rev; plus the app-password projection read by Dovecot.

CREATE TABLE `mail2fa_users` (
  `username` varchar(255) BINARY NOT NULL,
  `record` mediumtext NOT NULL,
  `rev` bigint NOT NULL,
  `state` varchar(16) NOT NULL DEFAULT 'disabled',
  `updated_at` bigint NOT NULL,
  PRIMARY KEY (`username`),
  INDEX `ix_mail2fa_users_state` (`state`)
) ROW_FORMAT=DYNAMIC ENGINE=INNODB CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `mail2fa_app_passwords` (
  `username` varchar(255) BINARY NOT NULL,
  `id` varchar(64) BINARY NOT NULL,
  `phc` text NOT NULL,
  `label` varchar(255) NOT NULL DEFAULT '',
  `created_at` bigint NOT NULL,
  `tag` varchar(2) BINARY NULL DEFAULT NULL,
  PRIMARY KEY (`username`, `id`)
) ROW_FORMAT=DYNAMIC ENGINE=INNODB CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO `system` (`name`, `value`) VALUES ('mail2fa-version', '2025112301');
