#!/usr/bin/env python3
"""The mail2fa Dovecot passdb against a real Dovecot 2.3 (plugins-php/mail2fa/dovecot/).

Starts `dovecot -F` on 127.0.0.1 (high ports, temp dir, PID recorded and killed) with the
shipped snippets included as they are, an SQLite database from the plugin's schema, and
records and app passwords made by the real core (dist/mail2fa.wasm through node). Checks
IMAP, POP3 and submission AUTH: main password refused for 2FA users except from the exempt
address (127.0.0.2), app passwords accepted, revoked ones refused at once, users without
2FA unaffected, a database error fails closed, the app-password loop is capped.
Prints `N passed, N failed`; exits non-zero on failure. Needs root (Dovecot drops to
dovecot/dovenull/nobody).
"""
import base64, imaplib, json, os, poplib, re, shutil, signal, smtplib, socket, sqlite3
import subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SNIP = os.path.join(ROOT, "plugins-php", "mail2fa", "dovecot")
SQL = os.path.join(ROOT, "plugins-php", "mail2fa", "SQL", "sqlite.initial.sql")
NON_EXEMPT, EXEMPT = "127.0.0.1", "127.0.0.2"
MAIN = {"alice": "alice-main-pw", "bob": "bob-main-pw", "carol": "carol-main-pw",
        "dave": "dave-main-pw"}  # dave: 2FA on but missing from the main passdb
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def core(reqs):
    out = subprocess.run(["node", os.path.join(ROOT, "tests", "dovecot", "core.mjs")],
                         input=json.dumps(reqs).encode(), capture_output=True, check=True)
    res = json.loads(out.stdout)
    for q, r in zip(reqs, res):
        if not r.get("ok"):
            raise RuntimeError(f"core {q['op']} failed: {r}")
    return res


def entropy():
    return base64.b64encode(os.urandom(32)).decode()


KEYS = [{"id": "k1", "key": base64.b64encode(os.urandom(32)).decode()}]
NOW = int(time.time())


def store(db, user, record, state):
    """What the plugin does: record by compare-and-set plus the projection, one transaction."""
    aps = core([{"op": "app_password.list", "record": record}])[0]["app_passwords"]
    with db:
        db.execute("INSERT INTO mail2fa_users (username, record, rev, state, updated_at) "
                   "VALUES (?,?,?,?,?) ON CONFLICT(username) DO UPDATE SET record=excluded.record,"
                   " rev=excluded.rev, state=excluded.state, updated_at=excluded.updated_at",
                   (user, json.dumps(record), record["rev"], state, NOW))
        ids = [a["id"] for a in aps]
        if ids:
            db.execute(f"DELETE FROM mail2fa_app_passwords WHERE username=? AND id NOT IN "
                       f"({','.join('?' * len(ids))})", (user, *ids))
        else:
            db.execute("DELETE FROM mail2fa_app_passwords WHERE username=?", (user,))
        for a in aps:
            db.execute("INSERT OR REPLACE INTO mail2fa_app_passwords (username,id,phc,label,created_at)"
                       " VALUES (?,?,?,?,?)", (user, a["id"], a["phc"], a["label"], a["created_at"]))


def enable_2fa(user, n_app):
    r = core([{"op": "totp.import", "user": user, "keys": KEYS, "entropy": entropy(), "time": NOW,
               "uri": f"otpauth://totp/Mail:{user}?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Mail"}])[0]
    record, pws = r["record"], []
    for i in range(n_app):
        c = core([{"op": "app_password.create", "entropy": entropy(), "time": NOW + i,
                   "label": f"client {i}", "record": record}])[0]
        record = c["record"]
        pws.append((c["id"], c["password"]))
    return record, pws


def imap_login(user, pw, src, port):
    c = imaplib.IMAP4("127.0.0.1", port, timeout=20) if src == NON_EXEMPT else None
    if c is None:
        c = imaplib.IMAP4.__new__(imaplib.IMAP4)
        # imaplib has no source_address: connect a bound socket ourselves.
        orig = socket.create_connection
        socket.create_connection = lambda a, t=None, s=None: orig(a, 20, (src, 0))
        try:
            imaplib.IMAP4.__init__(c, "127.0.0.1", port, timeout=20)
        finally:
            socket.create_connection = orig
    try:
        c.login(user, pw)
        c.logout()
        return "OK"
    except imaplib.IMAP4.error as e:
        return "TEMPFAIL" if b"UNAVAILABLE" in str(e).encode() or "UNAVAILABLE" in str(e) else "NO"


def pop_login(user, pw, src, port):
    orig = socket.create_connection
    socket.create_connection = lambda a, t=None, s=None: orig(a, 20, (src, 0))
    try:
        p = poplib.POP3("127.0.0.1", port, timeout=20)
    finally:
        socket.create_connection = orig
    try:
        p.user(user)
        p.pass_(pw)
        p.quit()
        return "OK"
    except poplib.error_proto as e:
        return "TEMPFAIL" if "TEMP" in str(e).upper() else "NO"


def smtp_auth(user, pw, src, port):
    s = smtplib.SMTP("127.0.0.1", port, timeout=20, source_address=(src, 0))
    try:
        s.ehlo("client.test")
        s.login(user, pw)  # AUTH PLAIN (Dovecot offers plain and login)
        return "OK"
    except smtplib.SMTPAuthenticationError as e:
        return "TEMPFAIL" if e.smtp_code == 454 else "NO"
    finally:
        try:
            s.quit()
        except Exception:
            pass


def main():
    if os.geteuid() != 0:
        print("tests/dovecot: must run as root (Dovecot drops privileges)")
        return 1
    tmp = tempfile.mkdtemp(prefix="mail2fa-dovecot-")
    os.chmod(tmp, 0o755)
    pid = None
    try:
        # Database: the plugin's schema (the `system` table is Roundcube's; create it).
        dbpath = os.path.join(tmp, "roundcube.sqlite")
        db = sqlite3.connect(dbpath)
        db.execute("CREATE TABLE system (name varchar(64) NOT NULL PRIMARY KEY, value text)")
        db.executescript(open(SQL).read())
        db.commit()
        os.chmod(dbpath, 0o644)

        alice_rec, alice_pw = enable_2fa("alice", 2)
        store(db, "alice", alice_rec, "enabled")
        dave_rec, dave_pw = enable_2fa("dave", 1)
        store(db, "dave", dave_rec, "enabled")
        # carol: a record that is not 'enabled' (pending enrollment) and a stale row.
        carol = core([{"op": "record.new", "time": NOW}])[0]["record"]
        store(db, "carol", carol, "pending")
        db.execute("INSERT INTO mail2fa_app_passwords VALUES ('carol','x',?,'', ?)",
                   (alice_rec["app_passwords"][0]["phc"], NOW))
        db.commit()
        # capuser: the core's cap of 10 app passwords, plus 3 rows beyond it written by hand.
        cap_rec, cap_pw = enable_2fa("capuser", 10)
        store(db, "capuser", cap_rec, "enabled")
        for i in range(3):
            db.execute("INSERT INTO mail2fa_app_passwords VALUES ('capuser',?,?,'extra',?)",
                       (f"extra{i}", cap_rec["app_passwords"][0]["phc"], NOW - 1000))
        db.commit()
        MAIN["capuser"] = "cap-main-pw"

        with open(os.path.join(tmp, "users"), "w") as f:
            for u, p in MAIN.items():
                if u != "dave":
                    f.write(f"{u}:{{PLAIN}}{p}::::::\n")
        with open(os.path.join(tmp, "mail2fa-passdb.conf.lua"), "w") as f:
            f.write('return {\n  driver = "sqlite3",\n  database = "%s",\n'
                    '  exempt_addresses = { "%s" },\n  max_app_passwords = 10,\n}\n' % (dbpath, EXEMPT))
        os.makedirs(os.path.join(tmp, "home"), mode=0o777)
        os.chmod(os.path.join(tmp, "home"), 0o777)
        imap, pop3, subm, relay = free_port(), free_port(), free_port(), free_port()
        log = os.path.join(tmp, "dovecot.log")
        conf = os.path.join(tmp, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(f"""
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {log}
protocols = imap pop3 submission
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
auth_debug = yes
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
hostname = mail.test
submission_relay_host = 127.0.0.1
submission_relay_port = {relay}
import_environment = $import_environment MAIL2FA_DOVECOT_CONFIG={tmp}/mail2fa-passdb.conf.lua
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = {subm}
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
!include {SNIP}/auth-mail2fa.conf.ext
passdb {{
  driver = lua
  args = file={SNIP}/mail2fa-passdb.lua blocking=yes
  !include {SNIP}/passdb-mail2fa.conf.ext
}}
# The site's normal passdb (here a passwd-file), last, with result_failure = return-fail.
passdb {{
  driver = passwd-file
  args = {tmp}/users
  result_failure = return-fail
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={tmp}/home/%u
}}
mail_location = maildir:~/Maildir
""")
        proc = subprocess.Popen(["dovecot", "-F", "-c", conf], stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(tmp, "dovecot.stderr"), "w"))
        pid = proc.pid
        with open(os.path.join(tmp, "dovecot.pid"), "w") as f:
            f.write(str(pid))
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", subm), 1).close()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    print(open(os.path.join(tmp, "dovecot.stderr")).read())
                    print(open(log).read() if os.path.exists(log) else "")
                    raise RuntimeError("dovecot did not start")
                time.sleep(0.1)

        for proto, fn, port in (("imap", imap_login, imap), ("pop3", pop_login, pop3),
                                ("submission", smtp_auth, subm)):
            t = lambda u, p, s=NON_EXEMPT: fn(u, p, s, port)
            r = t("alice", MAIN["alice"])
            check(f"{proto}: 2FA user, main password, non-exempt address: refused", r == "NO", r)
            r = t("alice", MAIN["alice"], EXEMPT)
            check(f"{proto}: 2FA user, main password, exempt address: accepted", r == "OK", r)
            for i, (_, pw) in enumerate(alice_pw):
                r = t("alice", pw)
                check(f"{proto}: 2FA user, app password {i + 1}: accepted", r == "OK", r)
            r = t("alice", alice_pw[0][1].upper())
            check(f"{proto}: 2FA user, app password altered: refused", r == "NO", r)
            r = t("alice", "wrong-pw")
            check(f"{proto}: 2FA user, wrong password: refused", r == "NO", r)
            r = t("bob", MAIN["bob"])
            check(f"{proto}: user without 2FA, main password: accepted", r == "OK", r)
            r = t("bob", "wrong-pw")
            check(f"{proto}: user without 2FA, wrong password: refused", r == "NO", r)
            r = t("bob", alice_pw[0][1])
            check(f"{proto}: user without 2FA, another user's app password: refused", r == "NO", r)
            r = t("carol", MAIN["carol"])
            check(f"{proto}: pending (not enabled) 2FA, main password: accepted", r == "OK", r)
            r = t("carol", alice_pw[0][1])
            check(f"{proto}: pending 2FA, a stale app-password row: refused", r == "NO", r)
            r = t("dave", dave_pw[0][1])
            check(f"{proto}: app password of a user the main passdb lacks: refused", r == "NO", r)

        # Revocation: the core revokes, the plugin rewrites the projection; next login fails.
        rid, rpw = alice_pw[0]
        check("imap: app password 1 accepted before revocation",
              imap_login("alice", rpw, NON_EXEMPT, imap) == "OK")
        rev = core([{"op": "app_password.revoke", "record": alice_rec, "time": NOW + 60, "id": rid}])[0]
        store(db, "alice", rev["record"], "enabled")
        alice_rec = rev["record"]
        for proto, fn, port in (("imap", imap_login, imap), ("pop3", pop_login, pop3),
                                ("submission", smtp_auth, subm)):
            r = fn("alice", rpw, NON_EXEMPT, port)
            check(f"{proto}: revoked app password refused on the next login", r == "NO", r)
            r = fn("alice", alice_pw[1][1], NON_EXEMPT, port)
            check(f"{proto}: the other app password still accepted", r == "OK", r)
        # Main password changed: the core revokes every app password (password.changed).
        pc = core([{"op": "password.changed", "record": alice_rec, "time": NOW + 120}])[0]
        store(db, "alice", pc["record"], "enabled")
        r = imap_login("alice", alice_pw[1][1], NON_EXEMPT, imap)
        check("imap: after password.changed, every app password refused", r == "NO", r)
        r = imap_login("alice", MAIN["alice"], NON_EXEMPT, imap)
        check("imap: after password.changed, main password still refused (2FA on)", r == "NO", r)

        # Bounded cost: at most max_app_passwords Argon2id checks per login.
        open(log, "a").close()
        before = open(log).read().count("mail2fa: checking app password")
        r = imap_login("capuser", "abcd-efgh-ijkl-mnop-qrst", NON_EXEMPT, imap)
        time.sleep(0.3)
        n = open(log).read().count("mail2fa: checking app password") - before
        check("cap: 13 rows stored, a wrong app password refused", r == "NO", r)
        check("cap: the loop checked exactly max_app_passwords (10) hashes", n == 10, f"checked {n}")
        before += n
        r = imap_login("capuser", "cap-main-pw", NON_EXEMPT, imap)
        time.sleep(0.3)
        n = open(log).read().count("mail2fa: checking app password") - before
        check("cap: a main password (not app-password shaped) costs no Argon2id", r == "NO" and n == 0,
              f"{r} checked {n}")
        r = imap_login("capuser", cap_pw[9][1], NON_EXEMPT, imap)
        check("cap: the newest of 10 app passwords accepted", r == "OK", r)

        # Fail closed: a state read error is a temporary failure, never the main password.
        db.execute("ALTER TABLE mail2fa_users RENAME TO mail2fa_users_moved")
        db.commit()
        r = imap_login("alice", MAIN["alice"], NON_EXEMPT, imap)
        check("db error: 2FA user's main password gets a temporary failure", r == "TEMPFAIL", r)
        r = imap_login("bob", MAIN["bob"], NON_EXEMPT, imap)
        check("db error: user without 2FA also gets a temporary failure (state unknown)",
              r == "TEMPFAIL", r)
        r = smtp_auth("alice", MAIN["alice"], NON_EXEMPT, subm)
        check("db error: submission AUTH with the main password: temporary failure", r == "TEMPFAIL", r)
        db.execute("ALTER TABLE mail2fa_users_moved RENAME TO mail2fa_users")
        db.commit()
        r = imap_login("bob", MAIN["bob"], NON_EXEMPT, imap)
        check("db back: user without 2FA accepted again", r == "OK", r)
        logtext = open(log).read()
        leaked = [p for p in list(MAIN.values()) + [p for _, p in alice_pw] if p in logtext]
        check("no password in Dovecot's log", not leaked, str(len(leaked)))
    except Exception as e:  # setup failures count as a failure, never a silent pass
        check("suite ran", False, repr(e))
    finally:
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    if proc.poll() is not None:
                        break
                    time.sleep(0.1)
                else:
                    os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if failed == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp} (dovecot.log) for inspection")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
