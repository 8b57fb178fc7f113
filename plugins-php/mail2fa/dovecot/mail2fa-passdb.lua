-- mail2fa passdb for Dovecot 2.3 (driver = lua, dovecot-auth-lua).
--
-- For a user whose mail2fa_users.state is 'enabled' (2FA on in the webmail), a login
-- succeeds only with one of the user's app passwords (rows of mail2fa_app_passwords,
-- Argon2id PHC strings written by the mail2fa core), or, for IMAP only, with the main
-- password plus a valid webmail proof: an IMAP ID field `x-forward-mail2fa` that only the
-- running Roundcube plugin can compute (core op webmail.proof: HMAC-SHA256 over the canonical
-- user name and the time, keyed by `webmail_secret`), which Dovecot hands to auth as the
-- passdb field forward_mail2fa when the webmail host is in login_trusted_networks.
-- Every other user goes on to the next passdb unchanged. No client address is exempt.
--
-- The user's row is looked up under the canonical user name: `username_format` expanded by
-- Dovecot (default %Lu: ASCII lower case, domain kept, the core's user.canonical default),
-- set to the expansion the site's passdb finds accounts by (%Ln when it uses %n). A name that
-- no record can have (control characters, white space at either end, two '@') is refused.
--
-- Results (chained as in passdb-mail2fa.conf.ext, see README.md "Protect IMAP/SMTP"):
--   OK                an app password matched -> continue-ok: the next passdb only looks the
--                                                user up (extra fields, disabled accounts)
--   PASSWORD_MISMATCH 2FA on, no app password, no valid proof -> return-fail: the main
--                                                password is never tried
--   NEXT              no 2FA, or a valid webmail proof (IMAP) -> the next passdb decides
--   INTERNAL_FAILURE  database or config error -> return-fail: temporary failure, closed
-- Lookups without authentication (userdb existence checks for LDA/LMTP delivery, doveadm
-- user) go on to the next passdb for everyone; a credential lookup for a SASL mechanism
-- (CRAM-MD5 & co) is refused for a 2FA user.
--
-- Nothing is cached: every login reads the current rows, so a revoked app password (its row
-- deleted in the same transaction as the record write) fails on the very next login.
--
-- Each row carries the core's tag. v2 tags (two letters g-v) are the first byte of
-- SHA-256("mail2fa/v2/app-password/" .. password), which Dovecot itself computes here with
-- %{sha256;truncate=8,salt=...:password}: only rows whose v2 tag equals the typed password's
-- cost an Argon2id. Rows with a v1 tag (two hex digits, written before v2) or none are always
-- checked. Needs Lua 5.3 or later; the proof needs luaossl (Debian lua-luaossl).
--
-- Configuration: a Lua file returning a table (see mail2fa-passdb.conf.lua.dist), at
-- $MAIL2FA_DOVECOT_CONFIG (pass it with import_environment) or
-- /etc/dovecot/mail2fa-passdb.conf.lua.

local DEFAULT_CONFIG = "/etc/dovecot/mail2fa-passdb.conf.lua"
-- What the v2 tag hashes before the password (crates/mail2fa-core/src/app_password.rs).
local TAG_EXPANSION = "%{sha256;truncate=8,salt=mail2fa/v2/app-password/:password}"
-- The webmail proof's HMAC input prefix (crates/mail2fa-core/src/api/webmail_ops.rs).
local PROOF_CONTEXT = "mail2fa/v1 webmail-imap\n"

local cfg        -- the loaded configuration
local env        -- luasql environment
local conn       -- cached connection (reopened once after an error)
local hmac       -- luaossl's openssl.hmac, loaded when webmail_secret is set

local function load_config()
  local path = os.getenv("MAIL2FA_DOVECOT_CONFIG") or DEFAULT_CONFIG
  local chunk, err = loadfile(path, "t", {})
  if not chunk then error("mail2fa: cannot load config " .. path .. ": " .. tostring(err)) end
  local c = chunk()
  if type(c) ~= "table" then error("mail2fa: config " .. path .. " must return a table") end
  c.driver = c.driver or "sqlite3"
  if c.driver ~= "sqlite3" and c.driver ~= "postgres" then
    error("mail2fa: config driver must be 'sqlite3' or 'postgres'")
  end
  if type(c.database) ~= "string" or c.database == "" then
    error("mail2fa: config database is required")
  end
  c.max_app_passwords = tonumber(c.max_app_passwords or 10)
  if not c.max_app_passwords or c.max_app_passwords < 1 or c.max_app_passwords > 100
     or c.max_app_passwords % 1 ~= 0 then
    error("mail2fa: config max_app_passwords must be an integer 1-100")
  end
  c.table_prefix = c.table_prefix or ""
  if not c.table_prefix:match("^[%w_]*$") then
    error("mail2fa: config table_prefix may hold only letters, digits and _")
  end
  c.username_format = c.username_format or "%Lu"
  if type(c.username_format) ~= "string" or not c.username_format:find("%", 1, true) then
    error("mail2fa: config username_format must be a Dovecot expansion such as %Lu or %Ln")
  end
  -- The exemption by client address is gone (any program on the webmail host, or any host in
  -- login_trusted_networks forwarding x-originating-ip, had it): refuse a config that relies
  -- on it rather than silently change who may log in.
  if c.exempt_addresses ~= nil then
    error("mail2fa: config exempt_addresses is no longer supported; the webmail proves itself "
      .. "with webmail_secret (README.md \"The webmail's exemption\")")
  end
  if c.webmail_secret ~= nil then
    if type(c.webmail_secret) ~= "string" or #c.webmail_secret < 32 or #c.webmail_secret > 1024 then
      error("mail2fa: config webmail_secret must be a string of 32 to 1024 bytes")
    end
    local ok, mod = pcall(require, "openssl.hmac")
    if not ok then error("mail2fa: webmail_secret needs luaossl (lua-luaossl): " .. tostring(mod)) end
    hmac = mod
  end
  c.webmail_proof_max_age = tonumber(c.webmail_proof_max_age or 60)
  if not c.webmail_proof_max_age or c.webmail_proof_max_age < 1 or c.webmail_proof_max_age > 3600
     or c.webmail_proof_max_age % 1 ~= 0 then
    error("mail2fa: config webmail_proof_max_age must be an integer 1-3600")
  end
  -- App passwords made by the core are exactly 20 lower-case letters in groups of four;
  -- anything else (a main password) is refused without spending an Argon2id.
  c.password_pattern = c.password_pattern or "^%l%l%l%l%-%l%l%l%l%-%l%l%l%l%-%l%l%l%l%-%l%l%l%l$"
  return c
end

-- The record key: username_format expanded by Dovecot, or nil for a name no record can have
-- (the core's user.canonical refuses it): empty, over 512 bytes, control characters (C0, DEL,
-- C1), white space at either end, more than one '@', an empty local part or domain.
local function canonical_user(req)
  local name = req:var_expand(cfg.username_format)
  if name:find("UNSUPPORTED_VARIABLE_", 1, true) then
    error("mail2fa: username_format " .. cfg.username_format .. " names an unknown variable")
  end
  if name == "" or #name > 512 or name:find("%c") or name:find("\194[\128-\159]")
     or name:find("^%s") or name:find("%s$") then
    return nil
  end
  local _, ats = name:gsub("@", "")
  if ats > 1 or (ats == 1 and (name:sub(1, 1) == "@" or name:sub(-1) == "@")) then return nil end
  return name
end

local function connect()
  if conn then return conn end
  if not env then
    local ok, luasql = pcall(require, "luasql." .. cfg.driver)
    if not ok then error("mail2fa: luasql." .. cfg.driver .. " missing: " .. tostring(luasql)) end
    env = assert(luasql[cfg.driver]())
  end
  local c, err
  if cfg.driver == "sqlite3" then
    c, err = env:connect(cfg.database)
  else
    c, err = env:connect(cfg.database, cfg.user, cfg.password, cfg.host, cfg.port)
  end
  if not c then error("mail2fa: cannot connect: " .. tostring(err)) end
  if cfg.driver == "sqlite3" and c.setautocommit then c:setautocommit(true) end
  conn = c
  return conn
end

local function drop_connection()
  if conn then pcall(function() conn:close() end) end
  conn = nil
end

-- Runs a SELECT, returns its rows (at most `limit`), each an array of strings.
local function select_rows(sql, limit)
  local c = connect()
  local cur, err = c:execute(sql)
  if not cur then error("mail2fa: query failed: " .. tostring(err)) end
  local rows = {}
  local row = cur:fetch({}, "n")
  while row do
    rows[#rows + 1] = row  -- a fresh table per fetch; a NULL column is nil
    if #rows >= limit then break end
    row = cur:fetch({}, "n")
  end
  cur:close()
  return rows
end

-- The user's state and app-password rows.
local function lookup(user)
  local c = connect()
  local u = "'" .. c:escape(user) .. "'"
  local p = cfg.table_prefix
  local state = select_rows("SELECT state FROM " .. p .. "mail2fa_users WHERE username = " .. u, 1)
  if #state == 0 or state[1][1] ~= "enabled" then return false, nil end
  local rows = select_rows("SELECT id, phc, tag FROM " .. p .. "mail2fa_app_passwords WHERE username = "
    .. u .. " ORDER BY created_at DESC, id LIMIT " .. cfg.max_app_passwords, cfg.max_app_passwords)
  return true, rows
end

-- lookup with one retry on a fresh connection (a PostgreSQL restart); ok=false on failure.
local function lookup_retry(user)
  local ok, enabled, rows = pcall(lookup, user)
  if not ok then
    drop_connection()
    ok, enabled, rows = pcall(lookup, user)
    if not ok then drop_connection() end
  end
  return ok, enabled, rows
end

local function hex(s) return (s:gsub(".", function(ch) return string.format("%02x", ch:byte()) end)) end

-- Equal-length strings compared without an early exit.
local function same(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do diff = diff | (a:byte(i) ~ b:byte(i)) end
  return diff == 0
end

-- The webmail proof "1.<time>.<64 hex>" for this user: nil when valid, else why not.
local function proof_problem(user, proof)
  if not hmac then return "no webmail_secret configured" end
  local t, mac = proof:match("^1%.(%d+)%.(%x+)$")
  if not t or #t > 19 or (#t > 1 and t:sub(1, 1) == "0") or #mac ~= 64 or mac:find("%u") then
    return "malformed"
  end
  if math.abs(os.time() - tonumber(t)) > cfg.webmail_proof_max_age then return "expired" end
  local want = hex(hmac.new(cfg.webmail_secret, "sha256"):final(PROOF_CONTEXT .. user .. "\n" .. t))
  if not same(want, mac) then return "wrong" end
  return nil
end

-- The v2 tag of what the client typed, by Dovecot's own SHA-256: hex digits as letters g-v.
local function app_password_tag(req)
  local h = req:var_expand(TAG_EXPANSION)
  if not h:match("^%x%x$") then error("mail2fa: Dovecot's %{sha256;truncate=8...} gave no byte") end
  return (h:gsub("%x", function(d) return string.char(103 + tonumber(d, 16)) end))
end

function script_init()
  cfg = load_config()
  return 0
end

function script_deinit()
  drop_connection()
  if env then env:close() end
end

function auth_password_verify(req, password)
  local ok, user = pcall(canonical_user, req)
  if not ok then return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, tostring(user) end
  if not user then
    req:log_info("mail2fa: refused a name no record can have")
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, {}
  end
  local enabled, rows
  ok, enabled, rows = lookup_retry(user)
  if not ok then return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, tostring(enabled) end
  if not enabled then return dovecot.auth.PASSDB_RESULT_NEXT, {} end

  -- The webmail's IMAP login: the main password with a proof only the running plugin makes.
  -- Neither the proof nor anything derived from it is logged.
  local proof = req:var_expand("%{passdb:forward_mail2fa}")
  if proof ~= "" then
    local problem
    if req.service ~= "imap" then
      problem = "not an IMAP login"
    else
      problem = proof_problem(user, proof)
    end
    if problem == nil then
      req:log_info("mail2fa: webmail proof accepted, next passdb checks the main password")
      return dovecot.auth.PASSDB_RESULT_NEXT, {}
    end
    req:log_info("mail2fa: webmail proof refused (" .. problem .. ")")
  end

  if type(password) ~= "string" or not password:match(cfg.password_pattern) then
    req:log_debug("mail2fa: 2FA on, not an app password")
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, {}
  end
  -- The tag itself is never logged: it is derived from what the client typed.
  local tok, candidate_tag = pcall(app_password_tag, req)
  if not tok then return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, tostring(candidate_tag) end
  local skipped = 0
  for _, row in ipairs(rows) do
    local id, phc, tag = row[1], row[2], row[3]
    if tag ~= nil and tag:match("^[g-v][g-v]$") and tag ~= candidate_tag then
      skipped = skipped + 1
    else
      req:log_debug("mail2fa: checking app password " .. tostring(id))
      local r, err = req:password_verify("{ARGON2ID}" .. tostring(phc), password)
      if r == 1 then
        req:log_info("mail2fa: app password " .. tostring(id) .. " accepted")
        return dovecot.auth.PASSDB_RESULT_OK, {}
      elseif r ~= 0 then
        req:log_error("mail2fa: stored app password " .. tostring(id) .. " unreadable: " .. tostring(err))
      end
    end
  end
  req:log_debug("mail2fa: no app password matched (" .. skipped .. " of " .. #rows .. " skipped by tag)")
  return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, {}
end

-- Lookups without a password. With no SASL mechanism they authenticate nobody: the userdb's
-- existence check (static userdb without allow_all_users, for dovecot-lda, LMTP, doveadm
-- user) goes on to the next passdb for every user, so mail is delivered to 2FA users too. A
-- credential lookup for a mechanism (CRAM-MD5 & co, never offered with this passdb) cannot
-- check an app password: for a 2FA user it fails, so it never opens the main password.
function auth_passdb_lookup(req)
  if (req.mech or "") == "" then return dovecot.auth.PASSDB_RESULT_NEXT, {} end
  local ok, user = pcall(canonical_user, req)
  if not ok then return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, tostring(user) end
  if not user then return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, {} end
  local enabled
  ok, enabled = lookup_retry(user)
  if not ok then return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, tostring(enabled) end
  if enabled then return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, {} end
  return dovecot.auth.PASSDB_RESULT_NEXT, {}
end
