#define FFI_SCOPE "MAIL2FA"
#define FFI_LIB "libmail2fa_host.so"
/*
 * mail2fa host library (crates/mail2fa-host): runs the pinned dist/mail2fa.wasm.
 *
 * For ffi.preload, FFI_LIB must name the built library by absolute path (PHP resolves a
 * relative one against the working directory); `make host` writes dist/mail2fa.h, this
 * file with FFI_LIB pointing at dist/libmail2fa_host.so. The bare name above is for a
 * library installed in the dynamic linker's path (e.g. /usr/local/lib, then ldconfig).
 *
 * Strings returned as char* are owned by the library: free each with mail2fa_host_free.
 */
typedef struct mail2fa_host mail2fa_host;

/* Opens wasm_path (must have the sha256 pinned into the library) with precompiled modules
 * cached in cache_dir (NULL: none). NULL on failure, with *err set to error JSON. */
mail2fa_host *mail2fa_host_open(const char *wasm_path, const char *cache_dir, char **err);

/* Runs one JSON request; returns the response JSON (never NULL). */
char *mail2fa_host_call(const mail2fa_host *host, const char *request, size_t len);

/* What the open did: {"ok":true,"source":"process"|"disk_cache"|"compiled","ready_us":...}. */
char *mail2fa_host_status(const mail2fa_host *host);

/* The sha256 of the only module this library runs ("" when built without one). */
char *mail2fa_host_pinned_sha256(void);

void mail2fa_host_free(char *s);
void mail2fa_host_close(mail2fa_host *host);
