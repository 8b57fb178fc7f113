/*
 * Smoke driver for a prebuilt host library (the release's x86_64 or aarch64
 * libmail2fa_host.so): loads it with dlopen as PHP FFI does, opens the module through
 * mail2fa_host_open (no cache), and runs one JSON request per input line through
 * mail2fa_host_call, printing one response per line. The first output line is the
 * library's pinned module sha256. tests/release/host-smoke.mjs feeds it the vectors.
 *
 *   host-smoke LIBRARY WASM < requests.jsonl > responses.jsonl
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mail2fa_host mail2fa_host;
typedef mail2fa_host *(*open_fn)(const char *, const char *, char **);
typedef char *(*call_fn)(const mail2fa_host *, const char *, size_t);
typedef char *(*pinned_fn)(void);
typedef void (*free_fn)(char *);
typedef void (*close_fn)(mail2fa_host *);

static void *sym(void *lib, const char *name) {
    void *p = dlsym(lib, name);
    if (p == NULL) {
        fprintf(stderr, "host-smoke: %s missing: %s\n", name, dlerror());
        exit(3);
    }
    return p;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: host-smoke LIBRARY WASM < requests.jsonl\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "host-smoke: dlopen %s: %s\n", argv[1], dlerror());
        return 3;
    }
    open_fn host_open = (open_fn)sym(lib, "mail2fa_host_open");
    call_fn host_call = (call_fn)sym(lib, "mail2fa_host_call");
    pinned_fn host_pinned = (pinned_fn)sym(lib, "mail2fa_host_pinned_sha256");
    free_fn host_free = (free_fn)sym(lib, "mail2fa_host_free");
    close_fn host_close = (close_fn)sym(lib, "mail2fa_host_close");

    char *pinned = host_pinned();
    printf("%s\n", pinned);
    host_free(pinned);

    char *err = NULL;
    mail2fa_host *host = host_open(argv[2], NULL, &err);
    if (host == NULL) {
        fprintf(stderr, "host-smoke: open failed: %s\n", err ? err : "(no error)");
        return 4;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        if (len == 0) continue;
        char *response = host_call(host, line, (size_t)len);
        printf("%s\n", response);
        host_free(response);
    }
    free(line);
    host_close(host);
    return 0;
}
