#!/usr/bin/env python3
"""The mail2fa Dovecot passdb against a real Dovecot 2.3 (plugins-php/mail2fa/dovecot/).

Starts `dovecot -F` on 127.0.0.1 (high ports, temp dir, PID recorded and killed) with the
shipped snippets included as they are, an SQLite database from the plugin's schema, and
records and app passwords made by the real core (dist/mail2fa.wasm through node), written
to the projection by the plugin's own PHP (tests/dovecot/store.php, Debian's Roundcube). Checks
IMAP, POP3 and submission AUTH: main password refused for 2FA users except from the exempt
address (127.0.0.2), app passwords accepted, revoked ones refused at once, users without
2FA unaffected, a database error fails closed, the app-password loop is capped, and the tag
filter (one Argon2id for the right password, none for most wrong ones, NULL-tag rows from
before the schema migration still checked). The script's SHA-256 and tag run in liblua5.4
(tests/dovecot/lua.py) against hashlib and the core's tags.
Prints `N passed, N failed`; exits non-zero on failure. Needs root (Dovecot drops to
dovecot/dovenull/nobody).
"""
import base64, hashlib, imaplib, json, os, poplib, re, shutil, signal, smtplib, socket, sqlite3
import subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lua  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SNIP = os.path.join(ROOT, "plugins-php", "mail2fa", "dovecot")
SQLDIR = os.path.join(ROOT, "plugins-php", "mail2fa", "SQL")
SCRIPT = os.path.join(SNIP, "mail2fa-passdb.lua")
NON_EXEMPT, EXEMPT = "127.0.0.1", "127.0.0.2"
MAIN = {"alice": "alice-main-pw", "bob": "bob-main-pw", "carol": "carol-main-pw",
        "dave": "dave-main-pw"}  # dave: 2FA on but missing from the main passdb
CHECKING = "mail2fa: checking app password"
END = re.compile(r"mail2fa: (app password \S+ accepted|no app password matched|2FA on, not an app password)")
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


RC_CONFIG = None  # Roundcube config dir for store.php (set in main)


def store(user, record, state):
    """The plugin's own write (tests/dovecot/store.php): record by compare-and-set plus the
    projection from the record's entries, one transaction."""
    out = subprocess.run(["php", os.path.join(ROOT, "tests", "dovecot", "store.php")],
                         input=json.dumps({"user": user, "record": record, "state": state}).encode(),
                         capture_output=True, env={**os.environ, "ROUNDCUBE_CONFIG_DIR": RC_CONFIG})
    if out.returncode != 0 or out.stdout.strip() != b"saved":
        raise RuntimeError(f"store.php {user}: {out.stdout!r} {out.stderr!r}")


def store_pre_tag(db, user, record, state):
    """What the plugin wrote before the tag column existed (schema 2025112300)."""
    with db:
        db.execute("INSERT INTO mail2fa_users (username, record, rev, state, updated_at) "
                   "VALUES (?,?,?,?,?)", (user, json.dumps(record), record["rev"], state, NOW))
        for a in record.get("app_passwords", []):
            db.execute("INSERT INTO mail2fa_app_passwords (username,id,phc,label,created_at)"
                       " VALUES (?,?,?,?,?)", (user, a["id"], a["phc"], a["label"], a["created_at"]))


def tag_of(password):
    """The core's tag (docs/record-format.md), here only to pick test inputs."""
    return hashlib.sha256(b"mail2fa/v1 app-password\0" + password.encode()).hexdigest()[:2]


def enable_2fa(user, n_app, distinct_tags=False):
    r = core([{"op": "totp.import", "user": user, "keys": KEYS, "entropy": entropy(), "time": NOW,
               "uri": f"otpauth://totp/Mail:{user}?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Mail"}])[0]
    record, pws = r["record"], []
    while len(pws) < n_app:
        i = len(pws)
        c = core([{"op": "app_password.create", "entropy": entropy(), "time": NOW + i,
                   "label": f"client {i}", "record": record}])[0]
        tags = [a.get("tag") for a in c["record"]["app_passwords"]]
        if distinct_tags and len(set(tags)) != len(tags):
            continue  # keep the previous record: each stored tag then names one row
        record = c["record"]
        pws.append((c["id"], c["password"]))
    return record, pws


def wrong_password(avoid_tags=(), want_tag=None):
    """An app-password-shaped password no core made, whose tag is want_tag or not in avoid_tags."""
    while True:
        letters = "".join(chr(97 + b % 26) for b in os.urandom(20))
        pw = "-".join(letters[i:i + 4] for i in range(0, 20, 4))
        t = tag_of(pw)
        if (want_tag is None and t not in avoid_tags) or t == want_tag:
            return pw


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
        # The script's SHA-256 and tag, in the Lua library Dovecot's auth process runs them in.
        script = lua.Script(SCRIPT)
        script.call("check")  # script_init's self-test: raises if a digest is wrong
        check("lua: the SHA-256 self-test script_init runs passes", True)
        bad = []
        for n in (*range(0, 260), 1000, 65537):
            m = os.urandom(n)
            if script.call("sha256", m) != hashlib.sha256(m).digest():
                bad.append(n)
        check("lua: SHA-256 equals hashlib for random messages of 0-259, 1000 and 65537 bytes",
              not bad, f"lengths {bad[:10]}")
        # A wrong digest must stop the passdb (Dovecot's auth process then refuses every login)
        # rather than silently refuse every app password.
        broken = os.path.join(tmp, "broken-passdb.lua")
        with open(broken, "w") as f:
            f.write(open(SCRIPT).read().replace("0x428a2f98", "0x428a2f99", 1))
        bs = lua.Script(broken)
        try:
            bs.call("check")
            caught = ""
        except RuntimeError as e:
            caught = str(e)
        bs.close()
        check("lua: the self-test refuses a SHA-256 with one wrong round constant",
              "SHA-256 self-test failed" in caught, caught)

        # Database as Roundcube's updatedb.sh builds it: the first migration, rows the plugin
        # wrote under it (no tag column), then the later migrations (the `system` table is
        # Roundcube's; create it).
        migrations = {eng: sorted(f[:-4] for f in os.listdir(os.path.join(SQLDIR, eng))
                                  if re.fullmatch(r"\d{10}\.sql", f))
                      for eng in ("sqlite", "mysql", "postgres")}
        check("schema: the same migrations for sqlite, mysql and postgres",
              migrations["sqlite"] == migrations["mysql"] == migrations["postgres"], str(migrations))
        newest = migrations["sqlite"][-1]
        check("schema: every <engine>.initial.sql records the newest migration's version",
              all(f"'{newest}'" in open(os.path.join(SQLDIR, f"{eng}.initial.sql")).read()
                  for eng in migrations), newest)
        dbpath = os.path.join(tmp, "roundcube.sqlite")
        db = sqlite3.connect(dbpath)
        system = "CREATE TABLE system (name varchar(64) NOT NULL PRIMARY KEY, value text)"
        db.execute(system)
        db.executescript(open(os.path.join(SQLDIR, "sqlite", migrations["sqlite"][0] + ".sql")).read())
        db.commit()
        legacy_rec, legacy_pw = enable_2fa("legacy", 3)
        store_pre_tag(db, "legacy", legacy_rec, "enabled")
        for v in migrations["sqlite"][1:]:
            db.executescript(open(os.path.join(SQLDIR, "sqlite", v + ".sql")).read())
        db.commit()
        os.chmod(dbpath, 0o644)
        fresh = sqlite3.connect(":memory:")
        fresh.execute(system)
        fresh.executescript(open(os.path.join(SQLDIR, "sqlite.initial.sql")).read())
        cols = lambda c, t: [r[1:] for r in c.execute(f"PRAGMA table_info({t})")]  # noqa: E731
        check("schema: the migrations and sqlite.initial.sql make the same tables",
              all(cols(db, t) == cols(fresh, t) for t in ("mail2fa_users", "mail2fa_app_passwords")),
              str(cols(db, "mail2fa_app_passwords")))
        check("schema: rows written before the tag column have a NULL tag",
              [t for (t,) in db.execute("SELECT tag FROM mail2fa_app_passwords WHERE username='legacy'")]
              == [None] * 3)

        # The plugin's PHP writes every other row (store.php) through a Roundcube config
        # whose database is this file.
        global RC_CONFIG
        RC_CONFIG = os.path.join(tmp, "roundcube-config")
        os.makedirs(RC_CONFIG)
        os.symlink("/etc/roundcube/defaults.inc.php", os.path.join(RC_CONFIG, "defaults.inc.php"))
        with open(os.path.join(RC_CONFIG, "config.inc.php"), "w") as f:
            f.write("<?php\n$config = ['db_dsnw' => 'sqlite:///%s?mode=0644', 'log_dir' => '%s',"
                    " 'temp_dir' => '%s', 'plugins' => []];\n" % (dbpath, tmp, tmp))

        alice_rec, alice_pw = enable_2fa("alice", 2)
        store("alice", alice_rec, "enabled")
        dave_rec, dave_pw = enable_2fa("dave", 1)
        store("dave", dave_rec, "enabled")
        # carol: a record that is not 'enabled' (pending enrollment) and a stale row.
        carol = core([{"op": "record.new", "time": NOW}])[0]["record"]
        store("carol", carol, "pending")
        db.execute("INSERT INTO mail2fa_app_passwords (username, id, phc, label, created_at)"
                   " VALUES ('carol','x',?,'', ?)", (alice_rec["app_passwords"][0]["phc"], NOW))
        db.commit()
        # capuser: the core's cap of 10 app passwords, plus 3 rows beyond it written by hand, all
        # without a tag (as written before the tag column): the cap is what bounds that case.
        cap_rec, cap_pw = enable_2fa("capuser", 10)
        store("capuser", cap_rec, "enabled")
        db.execute("UPDATE mail2fa_app_passwords SET tag = NULL WHERE username = 'capuser'")
        for i in range(3):
            db.execute("INSERT INTO mail2fa_app_passwords (username, id, phc, label, created_at)"
                       " VALUES ('capuser',?,?,'extra',?)",
                       (f"extra{i}", cap_rec["app_passwords"][0]["phc"], NOW - 1000))
        db.commit()
        MAIN["capuser"] = "cap-main-pw"
        # tagged: 10 app passwords with 10 different tags, projected by the plugin's PHP.
        tag_rec, tag_pw = enable_2fa("tagged", 10, distinct_tags=True)
        store("tagged", tag_rec, "enabled")
        stored = dict(db.execute("SELECT id, tag FROM mail2fa_app_passwords WHERE username='tagged'"))
        want = {a["id"]: a["tag"] for a in tag_rec["app_passwords"]}
        check("projection: the plugin's driver copied each record entry's tag",
              stored == want and len(set(want.values())) == 10 and None not in want.values(),
              f"{stored} != {want}")
        made = [(pw, {a["id"]: a["tag"] for a in rec["app_passwords"]}[i])
                for rec, pws in ((alice_rec, alice_pw), (dave_rec, dave_pw), (cap_rec, cap_pw),
                                 (tag_rec, tag_pw), (legacy_rec, legacy_pw))
                for i, pw in pws]
        diff = [t for pw, t in made if script.call("tag", pw.encode()) != t.encode()]
        check(f"lua: the script's tag equals the core's for all {len(made)} app passwords the core made",
              not diff, f"{len(diff)} differ")
        script.close()
        MAIN["tagged"] = "tagged-main-pw"
        MAIN["legacy"] = "legacy-main-pw"

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
        store("alice", rev["record"], "enabled")
        alice_rec = rev["record"]
        for proto, fn, port in (("imap", imap_login, imap), ("pop3", pop_login, pop3),
                                ("submission", smtp_auth, subm)):
            r = fn("alice", rpw, NON_EXEMPT, port)
            check(f"{proto}: revoked app password refused on the next login", r == "NO", r)
            r = fn("alice", alice_pw[1][1], NON_EXEMPT, port)
            check(f"{proto}: the other app password still accepted", r == "OK", r)
        # Main password changed: the core revokes every app password (password.changed).
        pc = core([{"op": "password.changed", "record": alice_rec, "time": NOW + 120}])[0]
        store("alice", pc["record"], "enabled")
        r = imap_login("alice", alice_pw[1][1], NON_EXEMPT, imap)
        check("imap: after password.changed, every app password refused", r == "NO", r)
        r = imap_login("alice", MAIN["alice"], NON_EXEMPT, imap)
        check("imap: after password.changed, main password still refused (2FA on)", r == "NO", r)

        def argon2_checks(user, pw):
            """An IMAP login and the Argon2id checks the passdb logged for it: the lines up to
            the login's closing line (the log is written asynchronously; wait for it)."""
            open(log, "a").close()
            text = open(log).read()
            before, ends = text.count(CHECKING), len(END.findall(text))
            r = imap_login(user, pw, NON_EXEMPT, imap)
            deadline = time.time() + 10
            while len(END.findall(text)) == ends and time.time() < deadline:
                time.sleep(0.05)
                text = open(log).read()
            return r, text.count(CHECKING) - before

        # Bounded cost: at most max_app_passwords Argon2id checks per login, even for rows that
        # have no tag to skip them by.
        r, n = argon2_checks("capuser", "abcd-efgh-ijkl-mnop-qrst")
        check("cap: 13 rows stored, a wrong app password refused", r == "NO", r)
        check("cap: the loop checked exactly max_app_passwords (10) hashes", n == 10, f"checked {n}")
        r, n = argon2_checks("capuser", "cap-main-pw")
        check("cap: a main password (not app-password shaped) costs no Argon2id", r == "NO" and n == 0,
              f"{r} checked {n}")
        r = imap_login("capuser", cap_pw[9][1], NON_EXEMPT, imap)
        check("cap: the newest of 10 app passwords accepted", r == "OK", r)

        # The tag: of 10 tagged rows only those whose tag equals the typed password's are hashed.
        tags = [a["tag"] for a in tag_rec["app_passwords"]]
        for i in (0, 4, 9):
            r, n = argon2_checks("tagged", tag_pw[i][1])
            check(f"tag: app password {i + 1} of 10 tagged rows accepted with exactly 1 Argon2id",
                  r == "OK" and n == 1, f"{r} checked {n}")
        for proto, fn, port in (("pop3", pop_login, pop3), ("submission", smtp_auth, subm)):
            r = fn("tagged", tag_pw[7][1], NON_EXEMPT, port)
            check(f"{proto}: tagged rows, right app password accepted", r == "OK", r)
        r, n = argon2_checks("tagged", wrong_password(avoid_tags=tags))
        check("tag: a wrong password whose tag matches no row: refused with 0 Argon2id",
              r == "NO" and n == 0, f"{r} checked {n}")
        r, n = argon2_checks("tagged", wrong_password(want_tag=tags[3]))
        check("tag: a wrong password sharing one row's tag: 1 Argon2id, refused (the hash decides)",
              r == "NO" and n == 1, f"{r} checked {n}")
        results, total, expected = [], 0, 0
        for _ in range(20):
            pw = wrong_password()
            r, n = argon2_checks("tagged", pw)
            results.append(r)
            total += n
            expected += tag_of(pw) in tags
        check("tag: 20 random wrong passwords refused, Argon2id only for those whose tag is a row's "
              f"({expected} of 20 here)", results == ["NO"] * 20 and total == expected,
              f"{results} checked {total}, expected {expected}")

        # Rows written before the tag column (NULL) are always hashed, until the plugin's next
        # write of the user fills their tags in from the record.
        r, n = argon2_checks("legacy", legacy_pw[0][1])
        check("NULL tag: the oldest of 3 pre-migration rows accepted after checking all 3",
              r == "OK" and n == 3, f"{r} checked {n}")
        r, n = argon2_checks("legacy", wrong_password())
        check("NULL tag: a wrong password is checked against every NULL-tag row and refused",
              r == "NO" and n == 3, f"{r} checked {n}")
        v = core([{"op": "app_password.verify", "record": legacy_rec, "password": legacy_pw[1][1],
                   "time": NOW + 30}])[0]
        store("legacy", v["record"], "enabled")
        filled = dict(db.execute("SELECT id, tag FROM mail2fa_app_passwords WHERE username='legacy'"))
        check("NULL tag: the plugin's next record write fills the tags in",
              filled == {a["id"]: a["tag"] for a in legacy_rec["app_passwords"]}, str(filled))
        # It is checked last (oldest), so every row sharing its tag is hashed first: 1 unless
        # two of the 3 tags collide (1 in 128).
        same = sum(t == tag_of(legacy_pw[0][1]) for t in filled.values())
        r, n = argon2_checks("legacy", legacy_pw[0][1])
        check(f"NULL tag: once filled in, the same login hashes only rows with its tag ({same})",
              r == "OK" and n == same, f"{r} checked {n}")

        # The new script on a database not yet migrated: closed for 2FA users, others unaffected.
        db.execute("ALTER TABLE mail2fa_app_passwords RENAME COLUMN tag TO tag_moved")
        db.commit()
        r = imap_login("tagged", tag_pw[0][1], NON_EXEMPT, imap)
        check("no tag column: a 2FA user's app password gets a temporary failure", r == "TEMPFAIL", r)
        r = imap_login("bob", MAIN["bob"], NON_EXEMPT, imap)
        check("no tag column: user without 2FA accepted", r == "OK", r)
        db.execute("ALTER TABLE mail2fa_app_passwords RENAME COLUMN tag_moved TO tag")
        db.commit()

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
