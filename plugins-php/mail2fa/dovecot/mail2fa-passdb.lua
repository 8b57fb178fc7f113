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
-- Configuration: a Lua file returning a table (see mail2fa-passdb.conf.lua.dist), at
-- $MAIL2FA_DOVECOT_CONFIG (pass it with import_environment) or
-- /etc/dovecot/mail2fa-passdb.conf.lua.

local DEFAULT_CONFIG = "/etc/dovecot/mail2fa-passdb.conf.lua"

local cfg        -- the loaded configuration
local env        -- luasql environment
local conn       -- cached connection (reopened once after an error)
local exempt = {}

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
    rows[#rows + 1] = { row[1], row[2] }
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
  local rows = select_rows("SELECT id, phc FROM " .. p .. "mail2fa_app_passwords WHERE username = "
    .. u .. " ORDER BY created_at DESC, id LIMIT " .. cfg.max_app_passwords, cfg.max_app_passwords)
  return true, rows
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
  for _, row in ipairs(rows) do
    local id, phc = row[1], row[2]
    req:log_debug("mail2fa: checking app password " .. tostring(id))
    local r, err = req:password_verify("{ARGON2ID}" .. tostring(phc), password)
    if r == 1 then
      req:log_info("mail2fa: app password " .. tostring(id) .. " accepted")
      return dovecot.auth.PASSDB_RESULT_OK, {}
    elseif r ~= 0 then
      req:log_error("mail2fa: stored app password " .. tostring(id) .. " unreadable: " .. tostring(err))
    end
  end
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
