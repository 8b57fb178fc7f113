#!/usr/bin/env bash
# Installs everything the build and the test suites need on a fresh Debian 12 machine.
# Idempotent: a machine that already has a tool skips its install.
set -euo pipefail
cd "$(dirname "$0")/.."

# One Debian package list for every suite; add what a suite needs here.
APT_PACKAGES=(
  php8.2-cli php8.2-fpm php8.2-sqlite3 php8.2-pgsql phpunit libfcgi-bin
  oathtool zbar-tools chromium
  dovecot-core        # doveadm pw: app-password hash interop (crates/mail2fa-core/tests/interop_argon2.rs)
  # Roundcube e2e (tests/e2e, scripts/roundcube-env.sh): Debian's Roundcube 1.6 and its bundled
  # plugins, Dovecot IMAP, nginx, PostgreSQL for the second storage run.
  roundcube-core roundcube-sqlite3 roundcube-plugins php8.2-zip nginx-light dovecot-imapd postgresql
  # Dovecot passdb for 2FA users (plugins-php/mail2fa/dovecot, tests/dovecot): Lua passdb over
  # the plugin's SQLite/PostgreSQL tables, POP3 and submission services.
  dovecot-auth-lua lua-sql-sqlite3 lua-sql-postgres dovecot-pop3d dovecot-submissiond
)

WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' crates/mail2fa-wasm/Cargo.toml)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # roundcube-core: let dbconfig create its SQLite database without asking.
  printf '%s\n' 'roundcube-core roundcube/dbconfig-install boolean true' \
    'roundcube-core roundcube/database-type select sqlite3' | debconf-set-selections
  apt-get update -q
  # php8.2-fpm is named explicitly so the php metapackage never pulls in Apache.
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

command -v node >/dev/null || { apt-get install -y -q nodejs npm; }

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  echo "install-deps: wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: a dependency in the CLI's lockfile is missing from the registry here.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
