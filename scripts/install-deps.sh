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
  dovecot-auth-lua lua-sql-sqlite3 lua-sql-postgres dovecot-pop3d dovecot-submissiond dovecot-lmtpd lua-luaossl
  # Release (make release, tests/release): composer validate, the aarch64 host library
  # (cross gcc + arm64 libc) smoke-tested under qemu-user, objdump for its glibc needs.
  make gcc binutils composer gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
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

# The toolchain rust-toolchain.toml pins (the compiler of the published module). When the
# default "stable" is exactly that version, it is linked under the pinned name instead of
# downloaded again.
RUST_CHANNEL=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
RUST_HOST=$(rustc +stable -vV 2>/dev/null | sed -n 's/^host: //p')
RUST_HOST=${RUST_HOST:-x86_64-unknown-linux-gnu}
if ! rustup run "$RUST_CHANNEL" rustc --version >/dev/null 2>&1; then
  stable_dir="$(rustup toolchain list -v 2>/dev/null | awk '/^stable-/ {print $NF}' | head -1)"
  if [ -n "$stable_dir" ] && [ "$(rustc +stable --version 2>/dev/null | awk '{print $2}')" = "$RUST_CHANNEL" ]; then
    echo "install-deps: rust $RUST_CHANNEL = the installed stable toolchain (linked)"
    ln -sfn "$stable_dir" "${RUSTUP_HOME:-$HOME/.rustup}/toolchains/$RUST_CHANNEL-$RUST_HOST"
  else
    echo "install-deps: rust $RUST_CHANNEL"
    rustup toolchain install "$RUST_CHANNEL" --profile minimal
  fi
fi
# Targets and components of the pinned toolchain (rustup reads rust-toolchain.toml here).
for t in wasm32-unknown-unknown aarch64-unknown-linux-gnu; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  echo "install-deps: wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: a dependency in the CLI's lockfile is missing from the registry here.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# npm ci replaces node_modules/ (slow, and it would pull files from under a running suite):
# only when package-lock.json changed since the last install here.
if [ -f package-lock.json ]; then
  lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ "$(cat node_modules/.mail2fa-lock.sha256 2>/dev/null)" != "$lock_sum" ] || [ ! -x node_modules/.bin/wasm-opt ]; then
    npm ci --no-audit --no-fund
    echo "$lock_sum" > node_modules/.mail2fa-lock.sha256
  fi
fi
