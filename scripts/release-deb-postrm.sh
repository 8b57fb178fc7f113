#!/bin/sh
# roundcube-plugin-mail2fa postrm (built by scripts/release.sh). remove keeps the
# configuration and the site key (and the database tables are never touched); purge deletes
# the configuration, including the generated key.
set -e
ETC=/etc/roundcube/plugins/mail2fa
case "$1" in
  purge)
    rm -f "$ETC/keys.inc.php" "$ETC"/.keys.*
    rmdir "$ETC" 2>/dev/null || true
    rm -rf /var/lib/roundcube-plugin-mail2fa
    echo "mail2fa: configuration purged; the database tables (mail2fa_users, mail2fa_app_passwords) are left as they are."
    ;;
esac
exit 0
