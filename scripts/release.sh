#!/usr/bin/env bash
# `make release`: the release artifacts under dist/release/, from what the build already made
# (nothing is compiled here except the tiny C smoke driver):
#
#   mail2fa-roundcube-<v>.tar.gz          the plugin directory for Roundcube's plugins/: PHP, SQL,
#                                         config template, Dovecot files, installed browser assets,
#                                         dist/mail2fa.wasm + sha256, prebuilt host libraries
#                                         dist/linux-x86_64/ and dist/linux-aarch64/, README, licences
#   roundcube-plugin-mail2fa_<v>_amd64.deb  Debian's layout (/usr/share/roundcube/plugins/mail2fa,
#                                         /etc/roundcube/plugins/mail2fa/, php.ini snippet)
#   mail2fa-<v>.tgz                       the npm package (npm pack)
#   SHA256SUMS
#
# Inputs (Makefile prerequisites): dist/mail2fa.wasm, dist/libmail2fa_host.so (make host),
# build/host-aarch64/libmail2fa_host.so (make host-aarch64).
# Checks on the way: the module has the published sha256 (release/mail2fa.wasm.sha256), both
# libraries pin it, need glibc <= GLIBC_MIN and answer every TOTP vector through their C entry
# points (aarch64 under qemu-user).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

# The oldest glibc the prebuilt libraries run on (their highest GLIBC_ symbol version, checked
# below). Stated in the plugin README and the .deb's Depends.
GLIBC_MIN=2.34
X86_LIB=dist/libmail2fa_host.so
ARM_LIB=build/host-aarch64/libmail2fa_host.so
OUT=dist/release
STAGE=build/release
V=$(scripts/release-check.sh version)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

for f in dist/mail2fa.wasm dist/mail2fa.wasm.sha256 "$X86_LIB" "$ARM_LIB"; do
  [ -f "$f" ] || { echo "release: $f missing (make wasm host host-aarch64)" >&2; exit 1; }
done
scripts/release-check.sh metadata
scripts/release-check.sh module

rm -rf "$STAGE" "$OUT"
mkdir -p "$STAGE" "$OUT"

# ---- the plugin directory ----
P=$STAGE/tar/mail2fa
mkdir -p "$P"
# The plugin's files as in the source tree (git's view when this is a checkout): no local
# config, no assets/ or dist/ left over from a source install.
if git rev-parse --git-dir >/dev/null 2>&1; then
  files=$(git ls-files -co --exclude-standard plugins-php/mail2fa)
else
  files=$(find plugins-php/mail2fa -type f)
fi
while IFS= read -r f; do
  rel=${f#plugins-php/mail2fa/}
  case "$rel" in assets/*|dist/*|config.inc.php) continue ;; esac
  [ -f "$f" ] || continue
  mode=0644; [ -x "$f" ] && mode=0755
  install -D -m "$mode" "$f" "$P/$rel"
done <<< "$files"
scripts/roundcube-install.sh assets "$P/assets"
install -D -m 0644 dist/mail2fa.wasm "$P/dist/mail2fa.wasm"
install -D -m 0644 dist/mail2fa.wasm.sha256 "$P/dist/mail2fa.wasm.sha256"
# Symbol tables stripped (a quarter of the size; the exported C entry points stay).
install -D -m 0644 "$X86_LIB" "$P/dist/linux-x86_64/libmail2fa_host.so"
install -D -m 0644 "$ARM_LIB" "$P/dist/linux-aarch64/libmail2fa_host.so"
strip --strip-unneeded "$P/dist/linux-x86_64/libmail2fa_host.so"
aarch64-linux-gnu-strip --strip-unneeded "$P/dist/linux-aarch64/libmail2fa_host.so"

# ---- smoke: both libraries as shipped, through their C entry points ----
gcc -O2 -Wall -Wextra -o "$STAGE/host-smoke-x86_64" tests/release/host-smoke.c -ldl
aarch64-linux-gnu-gcc -O2 -Wall -Wextra -o "$STAGE/host-smoke-aarch64" tests/release/host-smoke.c -ldl
scripts/release-check.sh glibc "$P/dist/linux-x86_64/libmail2fa_host.so" "$GLIBC_MIN"
scripts/release-check.sh glibc "$P/dist/linux-aarch64/libmail2fa_host.so" "$GLIBC_MIN"
node tests/release/host-smoke.mjs "$STAGE/host-smoke-x86_64" "$P/dist/linux-x86_64/libmail2fa_host.so" "$P/dist/mail2fa.wasm"
node tests/release/host-smoke.mjs "$STAGE/host-smoke-aarch64" "$P/dist/linux-aarch64/libmail2fa_host.so" "$P/dist/mail2fa.wasm" --qemu aarch64
# The plugin is GPL-3.0-or-later (LICENSE); the module and the host libraries in dist/ are
# MIT OR Apache-2.0.
install -m 0644 LICENSE-MIT LICENSE-APACHE CHANGELOG.md SECURITY.md "$P/"
# Checked from the plugin's directory: sha256sum -c dist/SHA256SUMS (README).
(cd "$P" && sha256sum dist/mail2fa.wasm dist/linux-x86_64/libmail2fa_host.so dist/linux-aarch64/libmail2fa_host.so > dist/SHA256SUMS)

TARBALL=mail2fa-roundcube-$V.tar.gz
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  -C "$STAGE/tar" -cf - mail2fa | gzip -n -9 > "$OUT/$TARBALL"

# ---- the Debian package ----
D=$STAGE/deb
PLUG=/usr/share/roundcube/plugins/mail2fa
ETC=/etc/roundcube/plugins/mail2fa
PHPMOD=/etc/php/8.2/mods-available/mail2fa.ini
mkdir -p "$D$PLUG" "$D$ETC" "$D/DEBIAN" "$D/var/lib/roundcube/plugins" "$D/etc/php/8.2/mods-available" \
  "$D/usr/share/doc/roundcube-plugin-mail2fa"
cp -a "$P/." "$D$PLUG/"
rm -rf "$D$PLUG/dist/linux-aarch64" "$D$PLUG/LICENSE-MIT" "$D$PLUG/LICENSE-APACHE" "$D$PLUG/LICENSE"
(cd "$D$PLUG" && sha256sum dist/mail2fa.wasm dist/linux-x86_64/libmail2fa_host.so > dist/SHA256SUMS)
# Debian's plugin layout: Roundcube reads plugins from /var/lib/roundcube/plugins, the plugin's
# config.inc.php is the conffile in /etc/roundcube/plugins/<name>/.
ln -s "$PLUG" "$D/var/lib/roundcube/plugins/mail2fa"
ln -s "$ETC/config.inc.php" "$D$PLUG/config.inc.php"
# The FFI header (FFI_LIB = the installed library) and the php.ini snippet, written by the
# plugin's own configure.php run on the staged tree, then with the staging prefix removed.
php "$D$PLUG/lib/configure.php" --library="$D$PLUG/dist/linux-x86_64/libmail2fa_host.so" --out="$D$PLUG/dist" >/dev/null
ROOT_ABS=$(cd "$D" && pwd -P)
sed -i "s|$ROOT_ABS/|/|g" "$D$PLUG/dist/mail2fa.h"
{
  echo "; priority=30"
  echo "; mail2fa (roundcube-plugin-mail2fa): PHP FFI for the Roundcube plugin in Debian's default"
  echo "; ffi.enable=preload mode. Enable for php-fpm: phpenmod -s fpm mail2fa; then restart php8.2-fpm."
  echo "; opcache.preload is global to the php-fpm master: one preload script per master."
  sed "s|$ROOT_ABS/|/|g" "$D$PLUG/dist/mail2fa.ini" | grep -v '^; mail2fa: \|^; Put it in\|^; opcache.preload is ignored'
} > "$D$PHPMOD"
rm "$D$PLUG/dist/mail2fa.ini"
grep -qx "ffi.preload = \"$PLUG/dist/mail2fa.h\"" "$D$PHPMOD" || { echo "release: bad ffi.preload in $PHPMOD" >&2; exit 1; }
grep -qx "opcache.preload = \"$PLUG/lib/preload.php\"" "$D$PHPMOD" || { echo "release: bad opcache.preload in $PHPMOD" >&2; exit 1; }
grep -qx "#define FFI_LIB \"$PLUG/dist/linux-x86_64/libmail2fa_host.so\"" "$D$PLUG/dist/mail2fa.h" || { echo "release: bad FFI_LIB" >&2; exit 1; }
if grep -rq "$ROOT_ABS" "$D$PLUG/dist/mail2fa.h" "$D$PHPMOD"; then
  echo "release: staging path left in the .deb's FFI header or ini" >&2; exit 1
fi
{
  cat plugins-php/mail2fa/config.inc.php.dist
  cat <<'EOF'

// Debian (roundcube-plugin-mail2fa): the package's postinst made a site key at installation
// in keys.inc.php (mode 0640 root:www-data; never overwritten, removed only by purge). It is
// appended to mail2fa_keys above, so a key you put first there seals new records while the
// generated one still opens the old ones (rotation: see the README). Back it up: without
// it stored TOTP secrets cannot be opened and their users stay at the second step.
if (is_file('/etc/roundcube/plugins/mail2fa/keys.inc.php')) {
    include '/etc/roundcube/plugins/mail2fa/keys.inc.php';
}
EOF
} > "$D$ETC/config.inc.php"
chmod 0640 "$D$ETC/config.inc.php"
printf '%s\n' "$ETC/config.inc.php" "$PHPMOD" > "$D/DEBIAN/conffiles"
install -m 0644 plugins-php/mail2fa/README.md "$D/usr/share/doc/roundcube-plugin-mail2fa/README.md"
gzip -n -9 -c CHANGELOG.md > "$D/usr/share/doc/roundcube-plugin-mail2fa/changelog.gz"
{
  cat <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: mail2fa
Comment: The Roundcube plugin runs inside GPL Roundcube and is GPL-3.0-or-later; the
 WebAssembly core (dist/mail2fa.wasm) and the host library (dist/linux-x86_64/) are built
 from the Rust crates, licensed MIT OR Apache-2.0.

Files: *
Copyright: 2025-2026 the mail2fa contributors
License: GPL-3+
 On Debian systems the full text is in /usr/share/common-licenses/GPL-3.

Files: usr/share/roundcube/plugins/mail2fa/dist/*
Copyright: 2025-2026 the mail2fa contributors
License: MIT or Apache-2.0

License: Apache-2.0
 On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.

License: MIT
EOF
  sed -n '3,$p' LICENSE-MIT | sed 's/^$/./; s/^/ /'
} > "$D/usr/share/doc/roundcube-plugin-mail2fa/copyright"

for s in postinst prerm postrm; do
  install -m 0755 "scripts/release-deb-$s.sh" "$D/DEBIAN/$s"
done
INSTALLED_KB=$(du -sk --exclude=DEBIAN "$D" | cut -f1)
cat > "$D/DEBIAN/control" <<EOF
Package: roundcube-plugin-mail2fa
Version: $V
Architecture: amd64
Maintainer: mail2fa maintainers <mail2fa@localhost>
Installed-Size: $INSTALLED_KB
Depends: roundcube-core (>= 1.6), libc6 (>= $GLIBC_MIN), libgcc-s1, php8.2-common, php8.2-opcache
Recommends: php8.2-fpm
Suggests: dovecot-auth-lua
Section: web
Priority: optional
Description: two-factor authentication for Roundcube (mail2fa)
 TOTP codes from any authenticator app, single-use backup codes, trusted
 browsers, app passwords for IMAP/SMTP clients, per-user policies and an
 admin tool, decided by the mail2fa core (WebAssembly, run through PHP FFI
 by a prebuilt wasmtime host library). Needs PHP's FFI in preload mode
 (the php.ini snippet /etc/php/8.2/mods-available/mail2fa.ini).
EOF
(cd "$D" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort | xargs md5sum > DEBIAN/md5sums)
find "$D" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
DEB=roundcube-plugin-mail2fa_${V}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$D" "$OUT/$DEB" >/dev/null

# ---- the npm package ----
(cd plugins-js && npm pack --silent --pack-destination "$REPO/$OUT" >/dev/null)
NPM=mail2fa-$V.tgz
[ -f "$OUT/$NPM" ] || { echo "release: npm pack did not write $NPM" >&2; exit 1; }

(cd "$OUT" && sha256sum "$TARBALL" "$DEB" "$NPM" > SHA256SUMS)
echo "release: $OUT (version $V, module $(cut -c1-12 dist/mail2fa.wasm.sha256)…, glibc >= $GLIBC_MIN)"
for f in "$TARBALL" "$DEB" "$NPM"; do
  printf '  %-44s %8d bytes (%s)\n' "$f" "$(stat -c %s "$OUT/$f")" "$(numfmt --to=iec --suffix=B "$(stat -c %s "$OUT/$f")")"
done
