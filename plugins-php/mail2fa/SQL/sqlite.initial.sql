-- mail2fa: one row per user holding the core's record (JSON, stored whole) and its rev,
-- written only by compare-and-set on rev; plus the app-password projection read by Dovecot.

CREATE TABLE mail2fa_users (
  username varchar(512) NOT NULL PRIMARY KEY,
  record text NOT NULL,
  rev integer NOT NULL,
  state varchar(16) NOT NULL DEFAULT 'disabled',
  updated_at integer NOT NULL
);

CREATE INDEX ix_mail2fa_users_state ON mail2fa_users (state);

CREATE TABLE mail2fa_app_passwords (
  username varchar(512) NOT NULL,
  id varchar(64) NOT NULL,
  phc text NOT NULL,
  label varchar(255) NOT NULL DEFAULT '',
  created_at integer NOT NULL,
  tag varchar(2) DEFAULT NULL,
  PRIMARY KEY (username, id)
);

INSERT INTO system (name, value) VALUES ('mail2fa-version', '2025112301');
