-- mail2fa passdb for Dovecot 2.3 (driver = lua, dovecot-auth-lua).
--
-- For a user whose mail2fa_users.state is 'enabled' (2FA on in the webmail), a login
-- succeeds only with one of the user's app passwords (rows of mail2fa_app_passwords,
-- Argon2id PHC strings written by the mail2fa core), unless the client address is exempt
-- (the webmail host, which logs in with the main password after the second factor).
-- Every other user, and every exempt login, goes on to the next passdb unchanged.
--
-- Results (chained as in auth-mail2fa.conf.ext, see README.md "Protect IMAP/SMTP"):
--   OK               an app password matched   -> continue-ok: the next passdb only looks the
--                                                 user up (extra fields, disabled accounts)
--   PASSWORD_MISMATCH 2FA on, no app password matched -> return-fail: the main password
--                                                 is never tried
--   NEXT             no 2FA, or exempt address  -> the next passdb decides as before
--   INTERNAL_FAILURE database or config error  -> return-fail: temporary failure, fail closed
--
-- Nothing is cached: every login reads the current rows, so a revoked app password (its row
-- deleted in the same transaction as the record write) fails on the very next login.
--
-- Each row carries the core's `tag` (first byte of SHA-256 over "mail2fa/v1 app-password" 0x00
-- and the password, 2 hex digits): only rows whose tag equals the typed password's, or whose
-- tag is NULL, cost an Argon2id. Needs Lua 5.3 or later (integer bit operators).
--
-- Configuration: a Lua file returning a table (see mail2fa-passdb.conf.lua.dist), at
-- $MAIL2FA_DOVECOT_CONFIG (pass it with import_environment) or
-- /etc/dovecot/mail2fa-passdb.conf.lua.

local DEFAULT_CONFIG = "/etc/dovecot/mail2fa-passdb.conf.lua"

local cfg        -- the loaded configuration
local env        -- luasql environment
local conn       -- cached connection (reopened once after an error)
local exempt = {}

-- SHA-256 (FIPS 180-4), only for the app-password tag. Dovecot 2.3's Lua offers no hash
-- function, and var_expand's %{sha256:...} cannot hash the tag's input: it begins with a
-- prefix holding a NUL byte, which no var_expand string carries. script_init checks this
-- code against known digests before any login is served.
local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
local M32 = 0xffffffff

local function rotr(x, n) return ((x >> n) | (x << (32 - n))) & M32 end

local function sha256(msg)
  local H = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  -- Padding: 0x80, zeros up to 56 mod 64, the length in bits as a 64-bit big-endian integer.
  msg = msg .. "\x80" .. string.rep("\0", (55 - #msg) % 64) .. string.pack(">I8", #msg * 8)
  local w = {}
  for block = 1, #msg, 64 do
    for i = 1, 16 do w[i] = string.unpack(">I4", msg, block + (i - 1) * 4) end
    for i = 17, 64 do
      local x, y = w[i - 15], w[i - 2]
      local s0 = rotr(x, 7) ~ rotr(x, 18) ~ (x >> 3)
      local s1 = rotr(y, 17) ~ rotr(y, 19) ~ (y >> 10)
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & M32
    end
    local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
    for i = 1, 64 do
      local ch = (e & f) ~ (~e & g)
      local t1 = (h + (rotr(e, 6) ~ rotr(e, 11) ~ rotr(e, 25)) + ch + K[i] + w[i]) & M32
      local maj = (a & b) ~ (a & c) ~ (b & c)
      local t2 = ((rotr(a, 2) ~ rotr(a, 13) ~ rotr(a, 22)) + maj) & M32
      a, b, c, d, e, f, g, h = (t1 + t2) & M32, a, b, c, (d + t1) & M32, e, f, g
    end
    H[1], H[2], H[3], H[4] = (H[1] + a) & M32, (H[2] + b) & M32, (H[3] + c) & M32, (H[4] + d) & M32
    H[5], H[6], H[7], H[8] = (H[5] + e) & M32, (H[6] + f) & M32, (H[7] + g) & M32, (H[8] + h) & M32
  end
  return string.pack(">I4I4I4I4I4I4I4I4", table.unpack(H))
end

local function hex(s) return (s:gsub(".", function(ch) return string.format("%02x", ch:byte()) end)) end

-- The core's tag of an app password (crates/mail2fa-core/src/app_password.rs). Computed over
-- the exact string password_verify gets: a row can only verify if that string is the stored
-- password, whose tag the row holds, so skipping a row with another tag never changes a result.
local function app_password_tag(password)
  return string.format("%02x", sha256("mail2fa/v1 app-password\0" .. password):byte(1))
end

-- Refuses to start on a Lua whose integers would make the digest wrong (every tag would
-- mismatch and every app password would be refused without a word).
local function check_sha256()
  local vectors = {
    { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
  }
  for _, v in ipairs(vectors) do
    if hex(sha256(v[1])) ~= v[2] then
      error("mail2fa: SHA-256 self-test failed on this Lua (" .. _VERSION .. "); Lua 5.3+ with 64-bit integers is required")
    end
  end
end

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
  -- App passwords made by the core are exactly 20 lower-case letters in groups of four;
  -- anything else (a main password) is refused without spending an Argon2id.
  c.password_pattern = c.password_pattern or "^%l%l%l%l%-%l%l%l%l%-%l%l%l%l%-%l%l%l%l%-%l%l%l%l$"
  exempt = {}
  for _, ip in ipairs(c.exempt_addresses or {}) do exempt[ip] = true end
  return c
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

-- The user's state and app-password rows in one consistent read.
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

function script_init()
  check_sha256()
  cfg = load_config()
  return 0
end

function script_deinit()
  drop_connection()
  if env then env:close() end
end

function auth_password_verify(req, password)
  if exempt[req.remote_ip or ""] then
    req:log_debug("mail2fa: exempt address, next passdb")
    return dovecot.auth.PASSDB_RESULT_NEXT, {}
  end
  local ok, enabled, rows = pcall(lookup, req.user)
  if not ok then
    -- One retry on a fresh connection (a PostgreSQL restart), then fail closed.
    drop_connection()
    ok, enabled, rows = pcall(lookup, req.user)
    if not ok then
      drop_connection()
      return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, tostring(enabled)
    end
  end
  if not enabled then return dovecot.auth.PASSDB_RESULT_NEXT, {} end
  if type(password) ~= "string" or not password:match(cfg.password_pattern) then
    req:log_debug("mail2fa: 2FA on, not an app password")
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, {}
  end
  -- The tag itself is never logged: it is derived from what the client typed.
  local candidate_tag = app_password_tag(password)
  local skipped = 0
  for _, row in ipairs(rows) do
    local id, phc, tag = row[1], row[2], row[3]
    if tag ~= nil and tag ~= candidate_tag then
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

-- Credential lookups (non-plaintext mechanisms, doveadm auth lookup) cannot check an app
-- password: for a 2FA user they fail, so CRAM-MD5 & co never open the main password.
function auth_passdb_lookup(req)
  if exempt[req.remote_ip or ""] then return dovecot.auth.PASSDB_RESULT_NEXT, {} end
  local ok, enabled = pcall(lookup, req.user)
  if not ok then
    drop_connection()
    return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, tostring(enabled)
  end
  if enabled then return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, {} end
  return dovecot.auth.PASSDB_RESULT_NEXT, {}
end
