#!/usr/bin/env bash
# A throw-away Roundcube for tests and demos: Debian's Roundcube 1.6 + the mail2fa plugin,
# Dovecot (IMAP), php-fpm in its default ffi.enable=preload mode and nginx, all on 127.0.0.1
# with free ports, every file in one directory, no systemd: each server runs in the
# foreground, its PID is recorded, and `down` stops it by that PID.
#
#   scripts/roundcube-env.sh up DIR [--db sqlite|pgsql]   -> starts everything, writes DIR/env
#   scripts/roundcube-env.sh down DIR                      -> stops what DIR/pids lists
#
# DIR/env (shell syntax, also read by tests/e2e) holds URL, IMAP_PORT, DB, DSN, the test
# users' passwords and paths. Users: alice bob carol dave erin frank grace heidi ivan judy,
# password "pw-<name>-Secret1", each with one seeded message in INBOX.
# Needs: scripts/install-deps.sh (roundcube-core roundcube-sqlite3 php8.2-fpm nginx-light
# dovecot-imapd, postgresql for --db pgsql) and the plugin's PHP host (make host).
#
# MAIL2FA_ENV_DOVECOT_2FA=1: Dovecot runs the shipped mail2fa passdb
# (plugins-php/mail2fa/dovecot) first, over the plugin's database: a 2FA user's main password
# is taken only with the webmail's proof (mail2fa_webmail_secret = webmail_secret, written
# to both configs; 127.0.0.1 in login_trusted_networks); DIR/env gains DOVECOT_PASSDB=lua and
# WEBMAIL_SECRET.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
RC=/var/lib/roundcube
RC_SHARE=/usr/share/roundcube
USERS=(alice bob carol dave erin frank grace heidi ivan judy)

die() { echo "roundcube-env: $*" >&2; exit 1; }

free_port() {
  php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);'
}

wait_for() { # wait_for SECONDS CMD... : polls CMD every 50 ms
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}

record_pid() { echo "$2 $1" >> "$D/pids"; }

port_open() { php -r 'exit(@fsockopen("127.0.0.1", (int)$argv[1]) ? 0 : 1);' "$1"; }

start_pgsql() {
  local bin=/usr/lib/postgresql/15/bin
  [ -x $bin/postgres ] || die "postgresql is not installed (apt-get install postgresql)"
  PG_PORT=$(free_port)
  mkdir -p "$D/pg"
  chown postgres: "$D/pg"
  runuser -u postgres -- $bin/initdb -D "$D/pg/data" -U postgres --auth=trust -E UTF8 --no-sync >"$D/logs/pg-initdb.log" 2>&1
  runuser -u postgres -- $bin/postgres -D "$D/pg/data" -p "$PG_PORT" -k "$D/pg" \
    -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    >"$D/logs/postgres.log" 2>&1 &
  record_pid $! postgres
  wait_for 20 runuser -u postgres -- $bin/pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || die "postgres did not start: $(tail -5 "$D/logs/postgres.log")"
  runuser -u postgres -- psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres \
    -c "CREATE ROLE roundcube LOGIN PASSWORD 'roundcube'" -c "CREATE DATABASE roundcube OWNER roundcube ENCODING 'UTF8' TEMPLATE template0" >/dev/null
  DSN="pgsql://roundcube:roundcube@127.0.0.1:$PG_PORT/roundcube"
}

write_dovecot() {
  mkdir -p "$D/dovecot/run" "$D/dovecot/state" "$D/mail"
  IMAP_PORT=$(free_port)
  : > "$D/dovecot/passwd"
  local u
  mkdir -p "$D/dovecot/seed"
  for u in "${USERS[@]}"; do
    echo "$u:{PLAIN}pw-$u-Secret1::::::" >> "$D/dovecot/passwd"
    mkdir -p "$D/mail/$u/cur" "$D/mail/$u/new" "$D/mail/$u/tmp"
    cat > "$D/dovecot/seed/$u.eml" <<EOF
From: Seeder <seeder@example.test>
To: $u@example.test
Subject: Seeded message for $u
Date: Tue, 14 Nov 2023 22:13:20 +0000
Message-ID: <seed-$u@example.test>
Content-Type: text/plain; charset=utf-8

The mailbox secret of $u is MAILBOX-SECRET-$u.
EOF
  done
  chown -R nobody:nogroup "$D/mail"
  chmod 0644 "$D/dovecot/passwd"
  local passdbs="passdb {
  driver = passwd-file
  args = $D/dovecot/passwd
}"
  if [ "${MAIL2FA_ENV_DOVECOT_2FA:-0}" = 1 ]; then
    local snip="$REPO/plugins-php/mail2fa/dovecot" lua_db
    if [ "$DB" = pgsql ]; then
      lua_db="driver = \"postgres\", database = \"roundcube\", user = \"roundcube\", password = \"roundcube\", host = \"127.0.0.1\", port = $PG_PORT,"
    else
      lua_db="driver = \"sqlite3\", database = \"$D/db/roundcube.db\","
    fi
    cat > "$D/dovecot/mail2fa-passdb.conf.lua" <<EOF
return {
  $lua_db
  username_format = "%Lu",
  webmail_secret = "$WEBMAIL_SECRET",
  max_app_passwords = 10,
}
EOF
    chown root:dovecot "$D/dovecot/mail2fa-passdb.conf.lua"
    chmod 0640 "$D/dovecot/mail2fa-passdb.conf.lua"
    # The plugin's README setup: the mail2fa passdb first, the site's passdb last.
    passdbs="!include $snip/auth-mail2fa.conf.ext
auth_verbose = yes
login_trusted_networks = 127.0.0.1/32
import_environment = \$import_environment MAIL2FA_DOVECOT_CONFIG=$D/dovecot/mail2fa-passdb.conf.lua
passdb {
  driver = lua
  args = file=$snip/mail2fa-passdb.lua blocking=yes
  !include $snip/passdb-mail2fa.conf.ext
}
passdb {
  driver = passwd-file
  args = $D/dovecot/passwd
  result_failure = return-fail
}"
  fi
  cat > "$D/dovecot/dovecot.conf" <<EOF
base_dir = $D/dovecot/run
state_dir = $D/dovecot/state
log_path = $D/logs/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:$D/mail/%u
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
$passdbs
userdb {
  driver = static
  args = home=$D/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
}

# Each user's message is delivered through Dovecot (doveadm save), as an MDA would, so the
# mailbox is indexed before the first login. A file dropped into a never-opened maildir is
# not enough: when two IMAP sessions open such a maildir at once (Roundcube's inbox sends
# its list and getunread requests in parallel) one of them can see INBOX empty while the
# other builds the index, and the seeded message is missing from the first message list.
seed_mail() {
  local u
  for u in "${USERS[@]}"; do
    doveadm -c "$D/dovecot/dovecot.conf" save -u "$u" -m INBOX < "$D/dovecot/seed/$u.eml" \
      || die "doveadm save for $u failed: $(tail -5 "$D/logs/dovecot.log")"
  done
}

write_php() {
  mkdir -p "$D/php/conf.d" "$D/php/cache"
  chown www-data: "$D/php/cache"
  cat > "$D/php/fpm.conf" <<EOF
[global]
pid = $D/php/fpm.pid
error_log = $D/logs/php-fpm.log
daemonize = no

[roundcube]
user = www-data
group = www-data
listen = $D/php/fpm.sock
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
pm = static
pm.max_children = 3
catch_workers_output = yes
env[ROUNDCUBE_CONFIG_DIR] = $D/config
env[MAIL2FA_CACHE_DIR] = $D/php/cache
php_admin_value[error_log] = $D/logs/php-errors.log
php_admin_flag[log_errors] = on
EOF
  # The plugin's PHP host: ffi.preload of its header + opcache.preload of the adapter,
  # from the php.ini snippet it ships (see plugins-php/mail2fa/README.md), as a site would.
  # MAIL2FA_PHP_INI: the snippet of a plugin installed from a release (tests/release).
  if [ -n "${MAIL2FA_PHP_INI:-}" ]; then
    cp "$MAIL2FA_PHP_INI" "$D/php/conf.d/50-mail2fa.ini"
  elif ! "$REPO/scripts/roundcube-install.sh" php-ini > "$D/php/conf.d/50-mail2fa.ini"; then
    [ -n "${MAIL2FA_PHP_INI_EXTRA:-}" ] || die "no php.ini snippet for the PHP host (make host)"
  fi
  # MAIL2FA_PHP_INI_EXTRA: more php.ini lines for this php-fpm (debugging).
  if [ -n "${MAIL2FA_PHP_INI_EXTRA:-}" ]; then printf '%s\n' "$MAIL2FA_PHP_INI_EXTRA" > "$D/php/conf.d/90-extra.ini"; fi
}

write_nginx() {
  HTTP_PORT=$(free_port)
  mkdir -p "$D/nginx/tmp"
  cat > "$D/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
user www-data;
pid $D/nginx/nginx.pid;
error_log $D/logs/nginx-error.log;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  types { application/wasm wasm; text/javascript mjs; }
  access_log $D/logs/nginx-access.log;
  client_body_temp_path $D/nginx/tmp/body;
  fastcgi_temp_path $D/nginx/tmp/fastcgi;
  proxy_temp_path $D/nginx/tmp/proxy;
  uwsgi_temp_path $D/nginx/tmp/uwsgi;
  scgi_temp_path $D/nginx/tmp/scgi;
  client_max_body_size 20m;
  server {
    listen 127.0.0.1:$HTTP_PORT;
    server_name localhost;
    root $RC/public_html;
    index index.php;
$("$REPO/scripts/roundcube-install.sh" nginx-locations "unix:$D/php/fpm.sock" | sed 's/^/    /')
  }
}
EOF
}

write_roundcube() {
  mkdir -p "$D/config" "$D/logs/roundcube" "$D/rctemp" "$D/db"
  ln -sf /etc/roundcube/defaults.inc.php "$D/config/defaults.inc.php"
  ln -sf /etc/roundcube/mimetypes.php "$D/config/mimetypes.php"
  DES_KEY=$(head -c 18 /dev/urandom | base64)
  SITE_KEY=$(head -c 32 /dev/urandom | base64)
  cat > "$D/config/config.inc.php" <<EOF
<?php
// Written by scripts/roundcube-env.sh for a test environment.
\$config = [];
\$config['db_dsnw'] = '$DSN';
\$config['imap_host'] = '127.0.0.1:$IMAP_PORT';
\$config['smtp_host'] = '127.0.0.1:$SMTP_PORT';
\$config['smtp_user'] = '%u';
\$config['smtp_pass'] = '%p';
\$config['des_key'] = '$DES_KEY';
\$config['product_name'] = 'Roundcube mail2fa e2e';
\$config['skin'] = 'elastic';
\$config['log_dir'] = '$D/logs/roundcube/';
\$config['temp_dir'] = '$D/rctemp/';
\$config['login_rate_limit'] = 0;
\$config['enable_spellcheck'] = false;
\$config['enable_installer'] = false;
\$config['support_url'] = '';
// Bundled plugins too: the bypass suite requests their actions with a password-only session.
\$config['plugins'] = ['mail2fa', 'archive', 'zipdownload', 'markasjunk', 'newmail_notifier',
    'vcard_attachments', 'attachment_reminder', 'emoticons', 'help', 'hide_blockquote',
    'identity_select', 'show_additional_headers', 'subscriptions_option', 'userinfo', 'password'];
\$config['password_driver'] = 'sql';
\$config['password_db_dsn'] = '$DSN';
// A change that succeeds without changing Dovecot's file: enough to fire password_change.
\$config['password_query'] = 'SELECT 1 WHERE %u IS NOT NULL';
EOF
  # The plugin's options, where the README puts them on Debian (/etc/roundcube/mail2fa.inc.php).
  cat > "$D/config/mail2fa.inc.php" <<EOF
<?php
\$config['mail2fa_keys'] = [['id' => 'e2e1', 'key' => '$SITE_KEY']];
\$config['mail2fa_issuer'] = 'mail2fa e2e';
\$config['mail2fa_policy'] = ['max_failures' => 5, 'lock_base' => 5, 'lock_max' => 5, 'device_days' => 30];
// grace (and anyone @required.example) must use 2FA: they enroll right after the password.
\$config['mail2fa_policy_rules'] = [['match' => ['grace', '@required.example'], 'policy' => ['mode' => 'required']]];
\$config['mail2fa_fail_log'] = true;
\$config['mail2fa_core_options'] = ['cache_dir' => getenv('MAIL2FA_CACHE_DIR') ?: null];
@include __DIR__ . '/local.inc.php';
EOF
  if [ "${MAIL2FA_ENV_DOVECOT_2FA:-0}" = 1 ]; then
    # The webmail's half of the proof (the same secret as Dovecot's webmail_secret).
    printf "\$config['mail2fa_webmail_secret'] = '%s';\n" "$WEBMAIL_SECRET" >> "$D/config/mail2fa.inc.php"
  fi
  if [ -f "$D/local.inc.php" ]; then cp "$D/local.inc.php" "$D/config/local.inc.php"; fi
  chown www-data: "$D/logs/roundcube" "$D/rctemp"
  chmod 0640 "$D/config/"*.php
  chgrp www-data "$D/config/"*.php
}

init_db() {
  # Roundcube's own schema, then the plugin's through Roundcube's updatedb.sh (README).
  if [ "$DB" = sqlite ]; then
    chown www-data: "$D/db"
  fi
  # (Roundcube's SQLite driver creates its schema itself when it opens a new file.)
  if [ "$DB" = pgsql ]; then
    ROUNDCUBE_CONFIG_DIR="$D/config" php -r '
      define("INSTALL_PATH", "/var/lib/roundcube/");
      require_once INSTALL_PATH . "program/include/clisetup.php";
      rcmail_utils::db_init("/usr/share/roundcube/SQL");' >"$D/logs/initdb.log"
  fi
  ROUNDCUBE_CONFIG_DIR="$D/config" "$REPO/scripts/roundcube-install.sh" schema >>"$D/logs/initdb.log"
  if [ "$DB" = sqlite ]; then
    chown -R www-data: "$D/db"
    if [ "${MAIL2FA_ENV_DOVECOT_2FA:-0}" = 1 ]; then
      # Dovecot's auth worker (user dovecot) reads the plugin's tables.
      chgrp -R dovecot "$D/db"
      chmod 2770 "$D/db"
      chmod 0660 "$D/db/"*
    fi
  fi
}

up() {
  D=$1; DB=${2:-sqlite}
  [ -e "$D/pids" ] && die "$D already has a running environment (run down first)"
  mkdir -p "$D/logs"
  chmod 0755 "$D"
  D=$(cd "$D" && pwd)
  : > "$D/pids"
  local t0=$SECONDS
  # MAIL2FA_PLUGIN_INSTALLED=1: the plugin is already in $RC/plugins/mail2fa, installed from a
  # release artifact (tests/release); nothing of the checkout is installed.
  if [ "${MAIL2FA_PLUGIN_INSTALLED:-}" = 1 ]; then
    [ -f "$RC/plugins/mail2fa/mail2fa.php" ] || die "MAIL2FA_PLUGIN_INSTALLED=1 but $RC/plugins/mail2fa has no plugin"
  else
    "$REPO/scripts/roundcube-install.sh" assets
    "$REPO/scripts/roundcube-install.sh" link
  fi
  SMTP_PORT=$(free_port)
  WEBMAIL_SECRET=$(head -c 33 /dev/urandom | base64)
  case "$DB" in
    sqlite) DSN="sqlite:///$D/db/roundcube.db?mode=0660" ;;
    pgsql) start_pgsql ;;
    *) die "unknown --db $DB" ;;
  esac
  write_dovecot; write_php; write_nginx; write_roundcube; init_db

  dovecot -F -c "$D/dovecot/dovecot.conf" >"$D/logs/dovecot.out" 2>&1 &
  record_pid $! dovecot
  PHP_INI_SCAN_DIR=":$D/php/conf.d" php-fpm8.2 -F -y "$D/php/fpm.conf" >"$D/logs/php-fpm.out" 2>&1 &
  record_pid $! php-fpm
  nginx -e "$D/logs/nginx-error.log" -c "$D/nginx/nginx.conf" >"$D/logs/nginx.out" 2>&1 &
  record_pid $! nginx

  wait_for 15 port_open "$IMAP_PORT" || die "dovecot did not start: $(tail -5 "$D/logs/dovecot.log" "$D/logs/dovecot.out")"
  seed_mail
  wait_for 15 test -S "$D/php/fpm.sock" || die "php-fpm did not start: $(tail -5 "$D/logs/php-fpm.out" "$D/logs/php-fpm.log")"
  wait_for 15 port_open "$HTTP_PORT" || die "nginx did not start: $(tail -5 "$D/logs/nginx-error.log" "$D/logs/nginx.out")"

  {
    echo "URL=http://127.0.0.1:$HTTP_PORT/"
    echo "HTTP_PORT=$HTTP_PORT"
    echo "IMAP_PORT=$IMAP_PORT"
    echo "DB=$DB"
    echo "DSN='$DSN'"
    [ "$DB" = pgsql ] && echo "PG_PORT=$PG_PORT"
    echo "DIR=$D"
    echo "CONFIG_DIR=$D/config"
    echo "SITE_KEY=$SITE_KEY"
    echo "DES_KEY='$DES_KEY'"
    echo "USERS='${USERS[*]}'"
    if [ "${MAIL2FA_ENV_DOVECOT_2FA:-0}" = 1 ]; then
      echo "DOVECOT_PASSDB=lua"
      echo "WEBMAIL_SECRET='$WEBMAIL_SECRET'"
    fi
  } > "$D/env"
  echo "roundcube-env: up in $((SECONDS - t0)) s at http://127.0.0.1:$HTTP_PORT/ (db $DB, dir $D)"
}

down() {
  D=$1
  [ -f "$D/pids" ] || return 0
  local name pid
  # Reverse order: web first, database last.
  tac "$D/pids" | while read -r name pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "roundcube-env: $name ($pid) still running, KILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  done
  rm -f "$D/pids"
}

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 up|down DIR [--db sqlite|pgsql]"
db=sqlite
if [ "${3:-}" = --db ]; then db=${4:-sqlite}; fi
case "$cmd" in
  up) up "$dir" "$db" ;;
  down) down "$dir" ;;
  *) die "unknown command $cmd" ;;
esac
