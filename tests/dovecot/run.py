#!/usr/bin/env python3
"""The mail2fa Dovecot passdb against a real Dovecot 2.3 (plugins-php/mail2fa/dovecot/).

Starts `dovecot -F` on 127.0.0.1 (high ports, temp dir, PID recorded and killed) with the
shipped snippets included as they are, an SQLite database from the plugin's schema, and
records and app passwords made by the real core (dist/mail2fa.wasm through node), projected
by the core (record.projection) and written by the plugin's own SQL driver
(tests/dovecot/store.php, Debian's Roundcube). The site's passdb finds accounts by %n (domain
ignored), the mail2fa passdb by username_format %Ln. Checks IMAP, POP3 and submission AUTH:
main password refused for 2FA users (also as ALICE or alice@anything.invalid, and from a
trusted network with a forged x-originating-ip) unless an IMAP login carries a valid webmail
proof (core webmail.proof, x-forward-mail2fa ID field; wrong, expired, another user's or from
an untrusted address: refused), app passwords accepted, revoked ones refused at once, an
empty projection (policy without app_password) refuses them, users without 2FA unaffected,
mail delivered by dovecot-lda and LMTP and `doveadm user` for 2FA and other users, a
database error fails closed, the app-password loop is capped, and the tag filter (Dovecot's
own SHA-256 computes the v2 tag: one Argon2id for the right password, none for most wrong
ones; v1 and NULL tags always checked until the core rewrites them).
Prints `N passed, N failed`; exits non-zero on failure. Needs root (Dovecot drops to
dovecot/dovenull/nobody).
"""
import base64, hashlib, imaplib, json, os, poplib, re, shutil, signal, smtplib, socket, sqlite3
import subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SNIP = os.path.join(ROOT, "plugins-php", "mail2fa", "dovecot")
SQLDIR = os.path.join(ROOT, "plugins-php", "mail2fa", "SQL")
SCRIPT = os.path.join(SNIP, "mail2fa-passdb.lua")
TRUSTED, UNTRUSTED = "127.0.0.1", "127.0.0.2"  # login_trusted_networks = 127.0.0.1/32
SECRET = base64.b64encode(os.urandom(33)).decode()  # webmail_secret (44 bytes)
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


def store(user, record, policy=None):
    """What the plugin does with a record: the core's projection (record.projection, the rows
    Dovecot may see under the policy) written with the record by compare-and-set, in one
    transaction, by the plugin's SQL driver (tests/dovecot/store.php)."""
    req = {"op": "record.projection", "record": record}
    if policy is not None:
        req["policy"] = policy
    proj = core([req])[0]
    out = subprocess.run(["php", os.path.join(ROOT, "tests", "dovecot", "store.php")],
                         input=json.dumps({"user": user, "record": record, "state": proj["state"],
                                           "app_passwords": proj["app_passwords"]}).encode(),
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
    """The core's v2 tag (docs/record-format.md), here only to pick test inputs."""
    byte = hashlib.sha256(b"mail2fa/v2/app-password/" + password.encode()).hexdigest()[:2]
    return "".join(chr(ord("g") + int(d, 16)) for d in byte)


def tag_v1(password):
    """The v1 tag the plugin wrote before v2 (two hex digits)."""
    return hashlib.sha256(b"mail2fa/v1 app-password\0" + password.encode()).hexdigest()[:2]


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enable_2fa(user, n_app, distinct_tags=False):
    r = core([{"op": "totp.import", "user": user, "keys": KEYS, "entropy": entropy(), "time": NOW,
               "uri": f"otpauth://totp/Mail:{user}?secret={TOTP_SECRET}&issuer=Mail"}])[0]
    record, pws, step = r["record"], [], 0
    while len(pws) < n_app:
        i = len(pws)
        # A fresh factor for each app password (one TOTP step is accepted once): a later step.
        step += 1
        t = NOW + 30 * step
        code = core([{"op": "totp.code", "secret": TOTP_SECRET, "time": t}])[0]["code"]
        c = core([{"op": "app_password.create", "entropy": entropy(), "time": t, "keys": KEYS, "user": user,
                   "proof": {"method": "totp", "code": code},
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


imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))


def id_list(fields):
    return "(" + " ".join('"%s" "%s"' % (k, v) for k, v in fields.items()) + ")"


def imap_login(user, pw, src, port, ident=None):
    """LOGIN from address src; ident: IMAP ID fields sent before it (as Roundcube's
    preauth_ident), e.g. x-forward-mail2fa (the webmail proof) and x-originating-ip."""
    c = imaplib.IMAP4.__new__(imaplib.IMAP4)
    # imaplib has no source_address: connect a bound socket ourselves.
    orig = socket.create_connection
    socket.create_connection = lambda a, t=None, s=None: orig(a, 20, (src, 0))
    try:
        imaplib.IMAP4.__init__(c, "127.0.0.1", port, timeout=20)
    finally:
        socket.create_connection = orig
    try:
        if ident:
            typ, _ = c._simple_command("ID", id_list(ident))
            assert typ == "OK"
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


def deliver_lda(conf, user, subject):
    """dovecot-lda as an MTA runs it (as root, -d user); returns its exit code."""
    msg = f"From: sender@example.test\nTo: {user}@example.test\nSubject: {subject}\n\nbody\n"
    return subprocess.run(["/usr/lib/dovecot/dovecot-lda", "-c", conf, "-d", user,
                           "-f", "sender@example.test"], input=msg.encode(),
                          capture_output=True).returncode


def deliver_lmtp(port, user, subject):
    """One LMTP transaction; returns the per-recipient reply code (250 = delivered)."""
    msg = f"From: sender@example.test\r\nTo: {user}@example.test\r\nSubject: {subject}\r\n\r\nbody\r\n"
    c = smtplib.LMTP("127.0.0.1", port, timeout=20)
    try:
        c.sendmail("sender@example.test", [user], msg)
        return 250
    except smtplib.SMTPRecipientsRefused as e:
        return list(e.recipients.values())[0][0]
    except smtplib.SMTPDataError as e:
        return e.smtp_code
    finally:
        try:
            c.quit()
        except Exception:
            pass


def in_inbox(home, subject):
    """Whether a message with this subject is in the maildir INBOX under home."""
    for sub in ("new", "cur"):
        d = os.path.join(home, "Maildir", sub)
        for name in os.listdir(d) if os.path.isdir(d) else ():
            if f"Subject: {subject}".encode() in open(os.path.join(d, name), "rb").read():
                return True
    return False


def main():
    global proc
    if os.geteuid() != 0:
        print("tests/dovecot: must run as root (Dovecot drops privileges)")
        return 1
    tmp = tempfile.mkdtemp(prefix="mail2fa-dovecot-")
    os.chmod(tmp, 0o755)
    pid = None
    try:
        script_text = open(SCRIPT).read()
        check("lua: no hand-written SHA-256 in the passdb (Dovecot's %{sha256} makes the tag)",
              "0x428a2f98" not in script_text and "function sha256" not in script_text)

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
        store("alice", alice_rec)
        dave_rec, dave_pw = enable_2fa("dave", 1)
        store("dave", dave_rec)
        # carol: a record that is not 'enabled' (a new record) and a stale row.
        carol = core([{"op": "record.new", "time": NOW}])[0]["record"]
        store("carol", carol)
        db.execute("INSERT INTO mail2fa_app_passwords (username, id, phc, label, created_at)"
                   " VALUES ('carol','x',?,'', ?)", (alice_rec["app_passwords"][0]["phc"], NOW))
        db.commit()
        # erin: 2FA on with app passwords, but the policy does not allow app passwords: the
        # core's projection is empty (issue 12 item 17), so Dovecot sees no row.
        erin_rec, erin_pw = enable_2fa("erin", 2)
        store("erin", erin_rec, policy={"methods": ["totp", "backup_code"]})
        MAIN["erin"] = "erin-main-pw"
        # capuser: the core's cap of 10 app passwords, plus 3 rows beyond it written by hand, all
        # without a tag (as written before the tag column): the cap is what bounds that case.
        cap_rec, cap_pw = enable_2fa("capuser", 10)
        store("capuser", cap_rec)
        db.execute("UPDATE mail2fa_app_passwords SET tag = NULL WHERE username = 'capuser'")
        for i in range(3):
            db.execute("INSERT INTO mail2fa_app_passwords (username, id, phc, label, created_at)"
                       " VALUES ('capuser',?,?,'extra',?)",
                       (f"extra{i}", cap_rec["app_passwords"][0]["phc"], NOW - 1000))
        db.commit()
        MAIN["capuser"] = "cap-main-pw"
        # tagged: 10 app passwords with 10 different v2 tags, projected by the core.
        tag_rec, tag_pw = enable_2fa("tagged", 10, distinct_tags=True)
        store("tagged", tag_rec)
        stored = dict(db.execute("SELECT id, tag FROM mail2fa_app_passwords WHERE username='tagged'"))
        want = {a["id"]: a["tag"] for a in tag_rec["app_passwords"]}
        check("projection: the plugin's driver wrote each record entry's v2 tag",
              stored == want and len(set(want.values())) == 10
              and all(re.fullmatch(r"[g-v]{2}", t or "") for t in want.values()),
              f"{stored} != {want}")
        made = [(pw, {a["id"]: a["tag"] for a in rec["app_passwords"]}[i])
                for rec, pws in ((alice_rec, alice_pw), (dave_rec, dave_pw), (cap_rec, cap_pw),
                                 (tag_rec, tag_pw), (legacy_rec, legacy_pw))
                for i, pw in pws]
        diff = [t for pw, t in made if tag_of(pw) != t]
        check(f"core: the v2 tag of all {len(made)} app passwords is SHA-256('mail2fa/v2/app-password/'"
              " + password)'s first byte as letters g-v", not diff, f"{len(diff)} differ")
        # v1: rows as the plugin wrote them before v2 (two hex digits), always checked.
        v1_rec, v1_pw = enable_2fa("v1user", 3)
        for a, (_, pw) in zip(v1_rec["app_passwords"], v1_pw):
            a["tag"] = tag_v1(pw)
        store("v1user", v1_rec)
        check("projection: v1 tags written as they are in the record",
              sorted(t for (t,) in db.execute("SELECT tag FROM mail2fa_app_passwords WHERE username='v1user'"))
              == sorted(tag_v1(pw) for _, pw in v1_pw))
        MAIN["tagged"] = "tagged-main-pw"
        MAIN["legacy"] = "legacy-main-pw"
        MAIN["v1user"] = "v1-main-pw"

        # The site's passdb finds accounts by %n: any domain reaches the same account (the
        # attack of issue 12 item 3), so the mail2fa passdb keys records by %Ln.
        with open(os.path.join(tmp, "users"), "w") as f:
            for u, p in MAIN.items():
                if u != "dave":
                    f.write(f"{u}:{{PLAIN}}{p}::::::\n")
        with open(os.path.join(tmp, "mail2fa-passdb.conf.lua"), "w") as f:
            f.write('return {\n  driver = "sqlite3",\n  database = "%s",\n'
                    '  username_format = "%%Ln",\n  webmail_secret = "%s",\n'
                    '  max_app_passwords = 10,\n}\n' % (dbpath, SECRET))
        os.chmod(os.path.join(tmp, "mail2fa-passdb.conf.lua"), 0o644)
        os.makedirs(os.path.join(tmp, "home"), mode=0o777)
        os.chmod(os.path.join(tmp, "home"), 0o777)
        imap, pop3, subm, relay, lmtp = (free_port() for _ in range(5))
        log = os.path.join(tmp, "dovecot.log")
        conf = os.path.join(tmp, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(f"""
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {log}
protocols = imap pop3 submission lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
auth_verbose = yes
auth_debug = yes
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
hostname = mail.test
submission_relay_host = 127.0.0.1
submission_relay_port = {relay}
# The webmail host: its IMAP ID x-forward-* fields reach auth (the proof), and its
# x-originating-ip is believed as the client address.
login_trusted_networks = {TRUSTED}/32
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
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
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
# The site's normal passdb (here a passwd-file keyed by %n), last, with result_failure = return-fail.
passdb {{
  driver = passwd-file
  args = username_format=%n {tmp}/users
  result_failure = return-fail
}}
# No allow_all_users: the userdb asks the passdbs whether the user exists (a lookup without
# password, as for dovecot-lda, LMTP and doveadm user).
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={tmp}/home/%n
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
            t = lambda u, p, s=TRUSTED: fn(u, p, s, port)  # noqa: E731
            r = t("alice", MAIN["alice"])
            check(f"{proto}: 2FA user, main password: refused", r == "NO", r)
            r = t("alice", MAIN["alice"], UNTRUSTED)
            check(f"{proto}: 2FA user, main password, another address: refused", r == "NO", r)
            # Issue 12 item 3: names the site's %n passdb maps to alice's account.
            for name in ("alice@anything.invalid", "ALICE", "Alice@Example.COM"):
                r = t(name, MAIN["alice"])
                check(f"{proto}: 2FA user as {name!r} (same account under %n), main password: refused",
                      r == "NO", r)
            r = t("ALICE@anything.invalid", alice_pw[1][1])
            check(f"{proto}: 2FA user as 'ALICE@anything.invalid', app password: accepted", r == "OK", r)
            for i, (_, pw) in enumerate(alice_pw):
                r = t("alice", pw)
                check(f"{proto}: 2FA user, app password {i + 1}: accepted", r == "OK", r)
            r = t("alice", alice_pw[0][1].upper())
            check(f"{proto}: 2FA user, app password altered: refused", r == "NO", r)
            r = t("alice", "wrong-pw")
            check(f"{proto}: 2FA user, wrong password: refused", r == "NO", r)
            r = t("bob", MAIN["bob"])
            check(f"{proto}: user without 2FA, main password: accepted", r == "OK", r)
            r = t("bob@anything.invalid", MAIN["bob"])
            check(f"{proto}: user without 2FA under another domain (%n), main password: accepted",
                  r == "OK", r)
            r = t("bob", "wrong-pw")
            check(f"{proto}: user without 2FA, wrong password: refused", r == "NO", r)
            r = t("bob", alice_pw[0][1])
            check(f"{proto}: user without 2FA, another user's app password: refused", r == "NO", r)
            r = t("carol", MAIN["carol"])
            check(f"{proto}: not enabled 2FA, main password: accepted", r == "OK", r)
            r = t("carol", alice_pw[0][1])
            check(f"{proto}: not enabled 2FA, a stale app-password row: refused", r == "NO", r)
            r = t("dave", dave_pw[0][1])
            check(f"{proto}: app password of a user the main passdb lacks: refused", r == "NO", r)
            # Issue 12 item 17: a policy without app_password projects no row.
            r = t("erin", erin_pw[0][1])
            check(f"{proto}: policy without app_password (empty projection): app password refused",
                  r == "NO", r)
            r = t("erin", MAIN["erin"])
            check(f"{proto}: policy without app_password: main password still refused", r == "NO", r)
        check("projection: a policy without app_password leaves no row",
              db.execute("SELECT count(*) FROM mail2fa_app_passwords WHERE username='erin'").fetchone()[0] == 0)

        # The webmail's proof (issue 12 items 8 and 9): the core makes it (webmail.proof) as the
        # plugin does, Roundcube sends it as the IMAP ID field x-forward-mail2fa before LOGIN.
        proofs = []

        def proof(user, t=None, secret=SECRET):
            p = core([{"op": "webmail.proof", "user": user, "secret": secret,
                       "time": int(time.time()) if t is None else t}])[0]["proof"]
            proofs.append(p)
            return p

        def flip_last(p):
            return p[:-1] + ("1" if p[-1] == "0" else "0")

        def webmail(user, pw, fields, src=TRUSTED):
            return imap_login(user, pw, src, imap, fields)

        now = int(time.time())
        r = webmail("alice", MAIN["alice"], {"x-forward-mail2fa": proof("alice")})
        check("proof: 2FA user, main password + a valid webmail proof: accepted", r == "OK", r)
        r = webmail("alice", MAIN["alice"], {"x-originating-ip": "198.51.100.7",
                                             "x-forward-mail2fa": proof("alice")})
        check("proof: the same with the browser's address forwarded: accepted", r == "OK", r)
        r = webmail("ALICE", MAIN["alice"], {"x-forward-mail2fa": proof("alice")})
        check("proof: the proof is over the canonical name (ALICE -> alice): accepted", r == "OK", r)
        r = webmail("alice", "wrong-pw", {"x-forward-mail2fa": proof("alice")})
        check("proof: a valid proof with a wrong password: refused (the next passdb checks it)",
              r == "NO", r)
        for why, fields in (
                ("no proof, x-originating-ip 127.0.0.1 forged", {"x-originating-ip": "127.0.0.1"}),
                ("no proof, x-originating-ip ::1 forged", {"x-originating-ip": "::1"}),
                ("an empty proof", {"x-forward-mail2fa": "", "x-originating-ip": "127.0.0.1"}),
                ("a wrong MAC", {"x-forward-mail2fa": flip_last(proof("alice"))}),
                ("another user's proof", {"x-forward-mail2fa": proof("bob")}),
                ("a proof under another secret", {"x-forward-mail2fa": proof("alice", secret=SECRET + "x")}),
                ("a proof 2 minutes old", {"x-forward-mail2fa": proof("alice", now - 120)}),
                ("a proof 2 minutes ahead", {"x-forward-mail2fa": proof("alice", now + 120)}),
                ("a malformed proof", {"x-forward-mail2fa": "1.%d.zz" % now}),
                ("a proof with its time changed", {"x-forward-mail2fa": proof("alice", now - 1).replace(f"1.{now - 1}.", f"1.{now}.")}),
        ):
            r = webmail("alice", MAIN["alice"], fields)
            check(f"proof: 2FA user, main password, {why}: refused", r == "NO", r)
        r = webmail("alice", MAIN["alice"], {"x-forward-mail2fa": proof("alice")}, UNTRUSTED)
        check("proof: a valid proof from outside login_trusted_networks (not forwarded): refused",
              r == "NO", r)
        r = webmail("bob", MAIN["bob"], {"x-forward-mail2fa": "garbage"})
        check("proof: user without 2FA, any proof or none: main password accepted", r == "OK", r)
        r = webmail("alice", alice_pw[1][1], {"x-forward-mail2fa": "garbage"})
        check("proof: 2FA user, an invalid proof does not stop an app password", r == "OK", r)

        # Mail delivery (issue 12 item 7): the static userdb asks the passdbs whether the user
        # exists, without a password; 2FA users get their mail.
        for user in ("alice", "bob"):
            kind = "2FA user" if user == "alice" else "user without 2FA"
            out = subprocess.run(["doveadm", "-c", conf, "user", user], capture_output=True, text=True)
            check(f"doveadm user {user} ({kind}): found", out.returncode == 0
                  and f"{tmp}/home/{user}" in out.stdout, f"{out.returncode} {out.stderr.strip()}")
            subj = f"lda-{user}-{os.urandom(4).hex()}"
            rc = deliver_lda(conf, user, subj)
            check(f"dovecot-lda to {user} ({kind}): delivered (exit 0, in INBOX)",
                  rc == 0 and in_inbox(f"{tmp}/home/{user}", subj), f"exit {rc}")
            subj = f"lmtp-{user}-{os.urandom(4).hex()}"
            code = deliver_lmtp(lmtp, user, subj)
            check(f"LMTP to {user} ({kind}): delivered (250, in INBOX)",
                  code == 250 and in_inbox(f"{tmp}/home/{user}", subj), f"code {code}")
        rc = deliver_lda(conf, "nosuchuser", "x")
        check("dovecot-lda to an unknown user: refused (exit 67, not a temporary 75)", rc == 67, f"exit {rc}")

        # Revocation: the core revokes, the plugin rewrites the projection; next login fails.
        rid, rpw = alice_pw[0]
        check("imap: app password 1 accepted before revocation",
              imap_login("alice", rpw, TRUSTED, imap) == "OK")
        rev = core([{"op": "app_password.revoke", "record": alice_rec, "time": NOW + 600, "id": rid}])[0]
        store("alice", rev["record"])
        alice_rec = rev["record"]
        for proto, fn, port in (("imap", imap_login, imap), ("pop3", pop_login, pop3),
                                ("submission", smtp_auth, subm)):
            r = fn("alice", rpw, TRUSTED, port)
            check(f"{proto}: revoked app password refused on the next login", r == "NO", r)
            r = fn("alice", alice_pw[1][1], TRUSTED, port)
            check(f"{proto}: the other app password still accepted", r == "OK", r)
        # Main password changed: the core revokes every app password (password.changed).
        pc = core([{"op": "password.changed", "record": alice_rec, "time": NOW + 660}])[0]
        store("alice", pc["record"])
        r = imap_login("alice", alice_pw[1][1], TRUSTED, imap)
        check("imap: after password.changed, every app password refused", r == "NO", r)
        r = imap_login("alice", MAIN["alice"], TRUSTED, imap)
        check("imap: after password.changed, main password still refused (2FA on)", r == "NO", r)

        def argon2_checks(user, pw):
            """An IMAP login and the Argon2id checks the passdb logged for it: the lines up to
            the login's closing line (the log is written asynchronously; wait for it)."""
            open(log, "a").close()
            text = open(log).read()
            before, ends = text.count(CHECKING), len(END.findall(text))
            r = imap_login(user, pw, TRUSTED, imap)
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
        r = imap_login("capuser", cap_pw[9][1], TRUSTED, imap)
        check("cap: the newest of 10 app passwords accepted", r == "OK", r)

        # The v2 tag, computed by Dovecot's %{sha256;...}: of 10 tagged rows only the one whose
        # tag equals the typed password's is hashed, for each of the 10 the core made.
        tags = [a["tag"] for a in tag_rec["app_passwords"]]
        res = [argon2_checks("tagged", pw) for _, pw in tag_pw]
        check("tag: each of 10 app passwords with 10 v2-tagged rows accepted with exactly 1 Argon2id "
              "(Dovecot's SHA-256 gives the core's tag)", res == [("OK", 1)] * 10, str(res))
        for proto, fn, port in (("pop3", pop_login, pop3), ("submission", smtp_auth, subm)):
            r = fn("tagged", tag_pw[7][1], TRUSTED, port)
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

        # v1 tags (hex, written before v2) are treated as untagged: always checked, until the
        # core's next successful check rewrites them as v2 and the plugin writes the record.
        r, n = argon2_checks("v1user", v1_pw[0][1])
        check("v1 tag: the oldest of 3 v1-tagged rows accepted after checking all 3",
              r == "OK" and n == 3, f"{r} checked {n}")
        r, n = argon2_checks("v1user", wrong_password())
        check("v1 tag: a wrong password is checked against every v1-tagged row and refused",
              r == "NO" and n == 3, f"{r} checked {n}")
        for i, (_, pw) in enumerate(v1_pw):
            v = core([{"op": "app_password.verify", "record": v1_rec, "password": pw,
                       "time": NOW + 700 + i}])[0]
            check(f"v1 tag: the core still verifies v1-tagged app password {i + 1}", v["valid"], str(v))
            v1_rec = v["record"]
        store("v1user", v1_rec)
        filled = dict(db.execute("SELECT id, tag FROM mail2fa_app_passwords WHERE username='v1user'"))
        check("v1 tag: the core rewrote each tag to v2 at its match, the plugin's write projected it",
              sorted(filled.values()) == sorted(tag_of(pw) for _, pw in v1_pw), str(filled))
        same = sum(t == tag_of(v1_pw[0][1]) for t in filled.values())
        r, n = argon2_checks("v1user", v1_pw[0][1])
        check(f"v1 tag: once rewritten, the same login hashes only rows with its tag ({same})",
              r == "OK" and n == same, f"{r} checked {n}")

        # Rows written before the tag column (NULL) are always hashed, until the core's next
        # match gives them a tag.
        r, n = argon2_checks("legacy", legacy_pw[0][1])
        check("NULL tag: the oldest of 3 pre-migration rows accepted after checking all 3",
              r == "OK" and n == 3, f"{r} checked {n}")
        r, n = argon2_checks("legacy", wrong_password())
        check("NULL tag: a wrong password is checked against every NULL-tag row and refused",
              r == "NO" and n == 3, f"{r} checked {n}")

        # The new script on a database not yet migrated: closed for 2FA users, others unaffected.
        db.execute("ALTER TABLE mail2fa_app_passwords RENAME COLUMN tag TO tag_moved")
        db.commit()
        r = imap_login("tagged", tag_pw[0][1], TRUSTED, imap)
        check("no tag column: a 2FA user's app password gets a temporary failure", r == "TEMPFAIL", r)
        r = imap_login("bob", MAIN["bob"], TRUSTED, imap)
        check("no tag column: user without 2FA accepted", r == "OK", r)
        db.execute("ALTER TABLE mail2fa_app_passwords RENAME COLUMN tag_moved TO tag")
        db.commit()

        # Fail closed: a state read error is a temporary failure, never the main password.
        db.execute("ALTER TABLE mail2fa_users RENAME TO mail2fa_users_moved")
        db.commit()
        r = imap_login("alice", MAIN["alice"], TRUSTED, imap)
        check("db error: 2FA user's main password gets a temporary failure", r == "TEMPFAIL", r)
        r = imap_login("alice", MAIN["alice"], TRUSTED, imap, {"x-forward-mail2fa": proof("alice")})
        check("db error: 2FA user's main password with a valid proof: temporary failure too",
              r == "TEMPFAIL", r)
        r = imap_login("bob", MAIN["bob"], TRUSTED, imap)
        check("db error: user without 2FA also gets a temporary failure (state unknown)",
              r == "TEMPFAIL", r)
        r = smtp_auth("alice", MAIN["alice"], TRUSTED, subm)
        check("db error: submission AUTH with the main password: temporary failure", r == "TEMPFAIL", r)
        db.execute("ALTER TABLE mail2fa_users_moved RENAME TO mail2fa_users")
        db.commit()
        r = imap_login("bob", MAIN["bob"], TRUSTED, imap)
        check("db back: user without 2FA accepted again", r == "OK", r)
        logtext = open(log).read()
        leaked = [p for p in list(MAIN.values()) + [p for _, p in alice_pw] + [SECRET] if p in logtext]
        check("no password or webmail secret in Dovecot's log", not leaked, str(len(leaked)))
        # auth_debug logs every auth request field, the forwarded proof too (README); without
        # it (production) the proof is never written. Reload Dovecot with auth_debug off.
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("auth_debug = yes", "auth_debug = no"))
        size = os.path.getsize(log)
        subprocess.run(["doveadm", "-c", conf, "reload"], check=True, capture_output=True)
        deadline = time.time() + 10
        while "reloading configuration" not in open(log).read()[size:] and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        proofs.clear()
        r = imap_login("alice", MAIN["alice"], TRUSTED, imap, {"x-forward-mail2fa": proof("alice")})
        r2 = imap_login("alice", MAIN["alice"], TRUSTED, imap, {"x-forward-mail2fa": proof("bob")})
        time.sleep(0.3)
        after = open(log).read()[size:]
        check("auth_debug off: the proof login accepted, a wrong proof refused", (r, r2) == ("OK", "NO"),
              f"{r} {r2}")
        shown = [p for p in proofs if p.split(".")[2][:16] in after]
        check("auth_debug off: no webmail proof in Dovecot's log, the refusal logged without it",
              not shown and "webmail proof refused (wrong)" in after, f"{len(shown)} found")
    except Exception as e:  # setup failures count as a failure, never a silent pass
        import traceback
        traceback.print_exc()
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
