-- mail2fa: the app password's tag (first byte of SHA-256 over "mail2fa/v1 app-password" 0x00
-- and the password, 2 hex digits, copied from the core's record entry) in Dovecot's projection,
-- so the passdb runs Argon2id only for rows whose tag matches the typed password. NULL (rows
-- written before this column, entries made elsewhere) means "always check".

ALTER TABLE mail2fa_app_passwords ADD COLUMN tag varchar(2) DEFAULT NULL;
