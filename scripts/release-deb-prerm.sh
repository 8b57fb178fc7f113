#!/bin/sh
# roundcube-plugin-mail2fa prerm (built by scripts/release.sh). Removing the plugin while
# Roundcube still lists it would let 2FA users in with the password alone (Roundcube carries
# on without a plugin it cannot load), so removal is refused until the admin takes it out of
# $config['plugins'] (or sets MAIL2FA_ALLOW_REMOVE=1 to remove it anyway). Upgrades pass.
# The php.ini snippet is disabled where it was enabled, so php-fpm still starts without the files.
set -e
CONFIG=/etc/roundcube/config.inc.php
case "$1" in
  remove)
    if [ "${MAIL2FA_ALLOW_REMOVE:-}" != 1 ] && [ -f "$CONFIG" ] \
      && sed -e 's://.*$::' -e 's:#.*$::' "$CONFIG" | grep -q "['\"]mail2fa['\"]"; then
      cat >&2 <<'MSG'
mail2fa: refusing to remove the plugin while /etc/roundcube/config.inc.php enables it: Roundcube
would go on without it and users with 2FA would log in with the password alone. Remove 'mail2fa'
from $config['plugins'] first (or set MAIL2FA_ALLOW_REMOVE=1 to remove it anyway).
MSG
      exit 1
    fi
    # php.ini: a SAPI with the snippet enabled (phpenmod) would fail to start once the preloaded
    # files are gone; disable it and remember where, so a reinstall enables it there again.
    if command -v phpquery >/dev/null 2>&1; then
      for dir in /etc/php/8.2/*/conf.d; do
        sapi=$(basename "$(dirname "$dir")")
        if phpquery -q -v 8.2 -s "$sapi" -m mail2fa; then
          phpdismod -v 8.2 -s "$sapi" mail2fa
          mkdir -p /var/lib/roundcube-plugin-mail2fa
          echo "$sapi" >> /var/lib/roundcube-plugin-mail2fa/php-sapis
          echo "mail2fa: disabled the php.ini snippet for PHP 8.2 $sapi (enabled again on reinstall)"
        fi
      done
    fi
    ;;
esac
exit 0
