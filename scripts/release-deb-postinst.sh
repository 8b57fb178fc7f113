#!/bin/sh
# roundcube-plugin-mail2fa postinst (built by scripts/release.sh). Never overwrites the
# admin's configuration: the site key is made only when keys.inc.php does not exist.
set -e
ETC=/etc/roundcube/plugins/mail2fa
KEYS=$ETC/keys.inc.php

case "$1" in
  configure)
    if [ ! -e "$KEYS" ]; then
      key=$(head -c 32 /dev/urandom | base64)
      id="deb$(date -u +%Y%m%d)"
      umask 027
      tmp=$(mktemp "$ETC/.keys.XXXXXX")
      cat > "$tmp" <<KEYS_EOF
<?php
// Site key made by roundcube-plugin-mail2fa's postinst on $(date -u +%Y-%m-%d). It seals the
// users' TOTP secrets: keep a backup, never publish it. Appended to mail2fa_keys by
// config.inc.php (key rotation: plugins/mail2fa/README.md).
\$config['mail2fa_keys'][] = ['id' => '$id', 'key' => '$key'];
KEYS_EOF
      chgrp www-data "$tmp"
      chmod 0640 "$tmp"
      mv "$tmp" "$KEYS"
      echo "mail2fa: made a site key in $KEYS (back it up)."
    fi
    # Roundcube (www-data) reads the config and the key; nobody else.
    chgrp www-data "$ETC/config.inc.php" "$KEYS"
    chmod 0640 "$ETC/config.inc.php" "$KEYS"
    # Enabled again where the last removal disabled it (prerm).
    if [ -f /var/lib/roundcube-plugin-mail2fa/php-sapis ]; then
      for sapi in $(sort -u /var/lib/roundcube-plugin-mail2fa/php-sapis); do
        phpenmod -v 8.2 -s "$sapi" mail2fa && echo "mail2fa: php.ini snippet enabled again for PHP 8.2 $sapi"
      done
      rm -f /var/lib/roundcube-plugin-mail2fa/php-sapis
      rmdir /var/lib/roundcube-plugin-mail2fa 2>/dev/null || true
    fi
    if [ -z "$2" ]; then
      cat <<'MSG'
mail2fa is installed but not enabled. To enable it:
  1. PHP FFI for php-fpm:   phpenmod -s fpm mail2fa      (/etc/php/8.2/mods-available/mail2fa.ini)
  2. the plugin:            add 'mail2fa' to $config['plugins'] in /etc/roundcube/config.inc.php
  3. its tables:            /usr/share/roundcube/bin/updatedb.sh --package=mail2fa \
                              --dir=/usr/share/roundcube/plugins/mail2fa/SQL
  4. restart php-fpm:       systemctl restart php8.2-fpm
Options: /etc/roundcube/plugins/mail2fa/config.inc.php. Guide: /usr/share/doc/roundcube-plugin-mail2fa/README.md
MSG
    else
      cat <<'MSG'
mail2fa upgraded. Run the schema step (/usr/share/roundcube/bin/updatedb.sh --package=mail2fa
--dir=/usr/share/roundcube/plugins/mail2fa/SQL) and restart php8.2-fpm (the preloaded host library
and module change with the package).
MSG
    fi
    ;;
  abort-upgrade|abort-remove|abort-deconfigure) ;;
esac
exit 0
