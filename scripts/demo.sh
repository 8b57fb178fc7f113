#!/usr/bin/env bash
# `make demo`: the reference JS webmail (www/demo/) and, when Debian's Roundcube and its
# servers are installed (scripts/install-deps.sh), a Roundcube 1.6 with the mail2fa plugin
# beside it (scripts/roundcube-env.sh: Dovecot, php-fpm, nginx on free 127.0.0.1 ports).
# Both run until Ctrl-C; the Roundcube servers are then stopped by their recorded PIDs.
#
# Environment: as www/demo/server.mjs (MAIL2FA_DEMO_PORT, MAIL2FA_DEMO_DIR, ...), plus
# MAIL2FA_DEMO_ROUNDCUBE=0 to start the JS demo only.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
STATE=${MAIL2FA_DEMO_DIR:-build/demo}
# The Roundcube servers run as other users (dovecot, www-data): their throw-away directory
# lives under /tmp, which every user can traverse (a clone under a 0700 home could not be
# read); its path is kept in the JS demo's state directory for the next start's clean-up.
RC_POINTER="$STATE/roundcube-dir"

roundcube_installed() {
  [ -d /var/lib/roundcube/plugins ] && command -v php-fpm8.2 >/dev/null && command -v dovecot >/dev/null &&
    command -v nginx >/dev/null && command -v cargo >/dev/null
}

if [ "${MAIL2FA_DEMO_ROUNDCUBE:-1}" != 0 ] && roundcube_installed; then
  make --no-print-directory host >/dev/null
  # A demo stopped without its trap (kill -9, reboot) leaves its servers' pid list behind:
  # those still running are stopped and the directory removed.
  if [ -f "$RC_POINTER" ]; then
    stale=$(cat "$RC_POINTER")
    case "$stale" in /tmp/mail2fa-demo-roundcube.*) scripts/roundcube-env.sh down "$stale"; rm -rf "$stale" ;; esac
  fi
  mkdir -p "$STATE"
  RC_DIR=$(mktemp -d /tmp/mail2fa-demo-roundcube.XXXXXX)
  echo "$RC_DIR" > "$RC_POINTER"
  trap 'scripts/roundcube-env.sh down "$RC_DIR"; rm -rf "$RC_DIR" "$RC_POINTER"' EXIT
  trap 'exit 130' INT TERM
  scripts/roundcube-env.sh up "$RC_DIR" >/dev/null
  # shellcheck disable=SC1091
  URL=$(. "$RC_DIR/env" && echo "$URL")
  cat <<MSG

Roundcube 1.6 with the mail2fa plugin: $URL
  users alice, bob, carol, ... with password pw-<name>-Secret1 (e.g. alice / pw-alice-Secret1);
  Settings -> Two-factor authentication enrolls; the next login asks for the code.
  Admin tool: ROUNDCUBE_CONFIG_DIR=$RC_DIR/config plugins-php/mail2fa/bin/mail2fa-admin.sh status alice

MSG
else
  echo "(Roundcube demo not started: it needs Debian's roundcube-core, dovecot, php-fpm8.2 and nginx: scripts/install-deps.sh)"
fi

node www/demo/server.mjs
