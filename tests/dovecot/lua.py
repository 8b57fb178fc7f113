"""The passdb script's SHA-256 and tag functions, run in the Lua library Dovecot's auth
process links (liblua5.4 through ctypes), so they can be checked against hashlib and the core
without a Lua interpreter package. The script is loaded as shipped, with one line appended
that returns its local functions (a chunk's locals are in scope at its end)."""
import ctypes, ctypes.util, os

EXPORTS = "\nreturn { sha256 = sha256, tag = app_password_tag, check = check_sha256 }\n"


def _liblua():
    for name in ("liblua5.4.so.0", ctypes.util.find_library("lua5.4"), "liblua5.3.so.0"):
        if name:
            try:
                return ctypes.CDLL(name)
            except OSError:
                pass
    raise RuntimeError("no liblua5.4/5.3 (Debian liblua5.4-0, a dependency of dovecot-auth-lua)")


class Script:
    def __init__(self, path):
        lua = self.lua = _liblua()
        lua.luaL_newstate.restype = ctypes.c_void_p
        lua.luaL_openlibs.argtypes = [ctypes.c_void_p]
        lua.luaL_loadbufferx.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                         ctypes.c_char_p, ctypes.c_char_p]
        lua.lua_pcallk.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                   ctypes.c_void_p, ctypes.c_void_p]
        lua.lua_getfield.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p]
        lua.lua_pushlstring.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        lua.lua_tolstring.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_size_t)]
        lua.lua_tolstring.restype = ctypes.c_void_p
        lua.lua_settop.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lua.lua_close.argtypes = [ctypes.c_void_p]
        self.L = lua.luaL_newstate()
        lua.luaL_openlibs(self.L)
        src = (open(path, "rb").read() + EXPORTS.encode())
        if lua.luaL_loadbufferx(self.L, src, len(src), b"=" + os.path.basename(path).encode(), b"t"):
            raise RuntimeError("load: " + self._top())
        if lua.lua_pcallk(self.L, 0, 1, 0, None, None):
            raise RuntimeError("run: " + self._top())

    def _top(self):
        n = ctypes.c_size_t()
        p = self.lua.lua_tolstring(self.L, -1, ctypes.byref(n))
        return ctypes.string_at(p, n.value).decode("latin-1") if p else "(not a string)"

    def call(self, name, *args):
        """Calls exports[name](*args) (byte strings); returns its one result as bytes (or
        None), raises on a Lua error."""
        self.lua.lua_getfield(self.L, -1, name.encode())
        for a in args:
            self.lua.lua_pushlstring(self.L, a, len(a))
        if self.lua.lua_pcallk(self.L, len(args), 1, 0, None, None):
            err = self._top()
            self.lua.lua_settop(self.L, -2)
            raise RuntimeError(err)
        n = ctypes.c_size_t()
        p = self.lua.lua_tolstring(self.L, -1, ctypes.byref(n))
        out = ctypes.string_at(p, n.value) if p else None
        self.lua.lua_settop(self.L, -2)
        return out

    def close(self):
        self.lua.lua_close(self.L)
