#!/usr/bin/env bash
# Installs the mail2fa plugin into Debian's Roundcube 1.6 (package roundcube-core).
# These are the plugin README's install steps; scripts/roundcube-env.sh (the e2e tests)
# runs the same ones.
#
#   scripts/roundcube-install.sh assets [DIR]      copy the enrollment element (www/) into the plugin's
#                                                  assets/ (or DIR): Roundcube serves only plugin files
#   scripts/roundcube-install.sh link              plugin dir -> /var/lib/roundcube/plugins/mail2fa
#   scripts/roundcube-install.sh schema            create/upgrade the plugin's tables (bin/updatedb.sh)
#   scripts/roundcube-install.sh php-ini           print the php.ini snippet php-fpm needs (FFI preload)
#   scripts/roundcube-install.sh nginx-locations FASTCGI_PASS
#                                                  print nginx locations serving Roundcube safely
#
# `schema` uses Roundcube's configured database; set ROUNDCUBE_CONFIG_DIR for another config dir.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PLUGIN="$REPO/plugins-php/mail2fa"
RC=/var/lib/roundcube

# The files of <mail2fa-enroll> the plugin serves (mail2fa.php, mail2fa::ASSETS). No
# WebAssembly: the plugin sends the QR code and key parameters made by the core on the
# server, so the element never loads the module.
ASSETS=(mail2fa-enroll.js mail2fa-ui.js mail2fa.css mail2fa-print.css)

case "${1:-}" in
  assets)
    dest=${2:-$PLUGIN/assets}
    mkdir -p "$dest"
    for f in "${ASSETS[@]}"; do
      # Through a temporary name: a php-fpm serving the page never sees half a file.
      install -m 0644 "$REPO/www/$f" "$dest/.$f.tmp"
      mv -f "$dest/.$f.tmp" "$dest/$f"
    done
    # The module and its glue, shipped here before: no longer used, they would be served stale.
    rm -f "$dest/mail2fa.wasm" "$dest/mail2fa.js"
    ;;
  link)
    [ -d "$RC/plugins" ] || { echo "roundcube-install: $RC/plugins missing: apt-get install roundcube-core" >&2; exit 1; }
    ln -sfn "$PLUGIN" "$RC/plugins/mail2fa"
    ;;
  schema)
    /usr/share/roundcube/bin/updatedb.sh --package=mail2fa --dir="$RC/plugins/mail2fa/SQL"
    ;;
  php-ini)
    # ffi.enable stays at Debian's default "preload": the header is preloaded by ffi.preload,
    # the adapter classes by opcache.preload (both belong to the php-fpm master, not a pool).
    # `make host` writes it (plugins-php/mail2fa/lib/configure.php) next to the library.
    ini="$REPO/dist/mail2fa.ini"
    if [ ! -f "$ini" ]; then
      echo "roundcube-install: $ini missing: build the PHP host first (make host)" >&2
      exit 1
    fi
    cat "$ini"
    ;;
  nginx-locations)
    pass=${2:?fastcgi_pass target, e.g. unix:/run/php/php8.2-fpm.sock}
    cat <<EOF
# Only index.php runs PHP; plugin internals (SQL, bin, lib, config, docs) are never served.
location ~ /\. { deny all; }
location ~ ^/plugins/[^/]+/(SQL|bin|lib|drivers|dovecot|tests|localization|config\.inc\.php|composer\.json|README) { deny all; }
location ~ \.(sh|sql|dist|md|inc|h|ini|so)$ { deny all; }
location = /index.php {
  include /etc/nginx/fastcgi_params;
  fastcgi_param SCRIPT_FILENAME \$document_root/index.php;
  fastcgi_pass $pass;
}
location ~ \.php$ { deny all; }
location / { try_files \$uri \$uri/ /index.php?\$args; }
EOF
    ;;
  *)
    echo "usage: $0 assets [DIR]|link|schema|php-ini|nginx-locations FASTCGI_PASS" >&2
    exit 2
    ;;
esac
