# mail2fa build and test entry points.
#   make wasm   -> dist/mail2fa.wasm (THE artifact every host loads), its sha256 and the JS glue
#   make host   -> dist/libmail2fa_host.so (PHP's FFI host library, pinned to dist/mail2fa.wasm) + FFI header and php.ini snippet
#   make test   -> every test suite (the README's test command; .ci/run calls it)
#   make release -> dist/release/: plugin archive, .deb, npm tarball, SHA256SUMS (scripts/release.sh)
#   make deps   -> installs what is missing (scripts/install-deps.sh; quick when all is there)
SHELL := /bin/bash
.DELETE_ON_ERROR:

ROOT := $(CURDIR)
CARGO_HOME ?= $(HOME)/.cargo
WASM_TARGET := wasm32-unknown-unknown
WASM_RAW := target/$(WASM_TARGET)/release/mail2fa_wasm.wasm
# Paths differ between clones and machines; remapping them keeps the module byte-identical.
# simd128 (wasmtime, Node and every current browser run it): Argon2id ~10-15 % faster and
# the module smaller (bench/RESULTS.md "Speed at the boundary").
WASM_RUSTFLAGS := --remap-path-prefix=$(ROOT)=/mail2fa --remap-path-prefix=$(CARGO_HOME)=/cargo --remap-path-prefix=$(HOME)/.rustup=/rustup \
  -C target-feature=+simd128
# wasm-opt from the npm package binaryen (pinned in package.json, installed by npm ci):
# Debian 12's binaryen 108 writes the export of wasm-bindgen's externref table with the
# index of the funcref table, so the typed API failed to load in every JS runtime.
WASM_OPT := node_modules/.bin/wasm-opt
# -Oz: -O3 measured no faster on a login check or Argon2id (same run) and 2 % larger.
WASM_OPT_FLAGS := -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue --enable-simd

.PHONY: all deps release release-pin release-check host-aarch64 test-release wasm plugin-assets test test-rust test-node test-js test-ui test-e2e test-e2e-pgsql test-dovecot demo lint repro-check fuzz-smoke host test-php clean

all: wasm

# Everything the build and the suites need (Debian packages, Rust targets, wasm-bindgen, npm
# packages): `make test` and `make demo` run it first, so on a fresh Debian 12 machine the
# README's two commands are the whole set-up. Each step checks before it installs.
deps:
	bash scripts/install-deps.sh

wasm: dist/mail2fa.wasm

dist/mail2fa.wasm: $(shell find crates/mail2fa-core crates/mail2fa-wasm -name '*.rs' -o -name Cargo.toml) Cargo.toml Cargo.lock | $(WASM_OPT)
	RUSTFLAGS="$(WASM_RUSTFLAGS)" cargo build --release --locked --target $(WASM_TARGET) -p mail2fa-wasm
	rm -rf build/bindgen && mkdir -p build/bindgen dist
	wasm-bindgen --target web --out-dir build/bindgen --out-name mail2fa $(WASM_RAW)
	$(WASM_OPT) $(WASM_OPT_FLAGS) build/bindgen/mail2fa_bg.wasm -o build/mail2fa.opt.wasm
	cp build/bindgen/mail2fa.js dist/mail2fa.js
	cp build/bindgen/mail2fa.d.ts dist/mail2fa.d.ts
	cp build/mail2fa.opt.wasm dist/mail2fa.wasm
	cd dist && sha256sum mail2fa.wasm > mail2fa.wasm.sha256
	@echo "dist/mail2fa.wasm: $$(stat -c %s dist/mail2fa.wasm) bytes, sha256 $$(cut -d' ' -f1 dist/mail2fa.wasm.sha256)"

# The PHP host library: wasmtime embedding that runs exactly dist/mail2fa.wasm (its sha256
# is compiled in). Own target dir and profile overrides: panics must unwind (they are caught
# at the C boundary so PHP never crashes; the workspace release profile aborts), and fat LTO
# of wasmtime would take many minutes on 2 cores. configure.php writes the FFI header
# (FFI_LIB = this library) and the php.ini snippet for ffi.enable=preload next to it.
HOST_LIB := dist/libmail2fa_host.so
host: $(HOST_LIB)

$(HOST_LIB): dist/mail2fa.wasm $(shell find crates/mail2fa-host -name '*.rs' -o -name Cargo.toml) Cargo.lock plugins-php/mail2fa/lib/mail2fa.h plugins-php/mail2fa/lib/configure.php
	MAIL2FA_WASM_SHA256=$$(cut -d' ' -f1 dist/mail2fa.wasm.sha256) CARGO_TARGET_DIR=target/host \
	  CARGO_PROFILE_RELEASE_PANIC=unwind CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
	  cargo build --release --locked -p mail2fa-host
	cp target/host/release/libmail2fa_host.so $@.tmp && mv -f $@.tmp $@
	php plugins-php/mail2fa/lib/configure.php --library=$(ROOT)/$@ --out=dist

# The Roundcube plugin's copy of the enrollment element (www/ -> plugins-php/mail2fa/assets/,
# not in git): the plugin README's install step, also run by scripts/roundcube-env.sh.
plugin-assets:
	scripts/roundcube-install.sh assets

# PHP through the host library: tests/vectors, the adapter, and php-fpm (ffi.enable=preload)
# serving 200 FastCGI requests (plugins-php/host-tests/).
test-php: $(HOST_LIB)
	phpunit -c plugins-php/host-tests/phpunit.xml.dist

$(WASM_OPT):
	npm ci --no-audit --no-fund
	@test -x $@ || { echo "$@ missing after npm ci"; exit 1; }

# Builds the module a second time from scratch in another target dir and checks the bytes match.
repro-check: dist/mail2fa.wasm
	rm -rf build/repro
	RUSTFLAGS="$(WASM_RUSTFLAGS)" CARGO_TARGET_DIR=build/repro/target cargo build --release --locked --target $(WASM_TARGET) -p mail2fa-wasm
	wasm-bindgen --target web --out-dir build/repro/bindgen --out-name mail2fa build/repro/target/$(WASM_TARGET)/release/mail2fa_wasm.wasm
	$(WASM_OPT) $(WASM_OPT_FLAGS) build/repro/bindgen/mail2fa_bg.wasm -o build/repro/mail2fa.wasm
	cmp dist/mail2fa.wasm build/repro/mail2fa.wasm
	@echo "repro-check: two clean builds give the same sha256 $$(sha256sum < build/repro/mail2fa.wasm | cut -d' ' -f1)"

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	cargo test --workspace --locked

# A few seconds of each cargo-fuzz target (fuzz/README.md). Not part of `test`: installing
# cargo-fuzz and building the targets adds more than 3 minutes on a fresh machine.
fuzz-smoke:
	fuzz/smoke.sh

# Every vector through the raw C ABI, then the contract check: the op list, docs/ops.md,
# the vectors' fields and Core.php's helpers against the types written once in typed.rs.
test-node: dist/mail2fa.wasm
	node --test tests/node/
	node scripts/check-contract.mjs

# The npm package (plugins-js/): vectors through its typed API and the raw ABI, the server
# flow and storage race, the README example; then the packed tarball installed into a fresh
# project, imported from Node and from a Vite page in headless Chromium (plugins-js/test-pack/).
test-js: dist/mail2fa.wasm | $(WASM_OPT)
	node plugins-js/scripts/copy-dist.mjs
	node plugins-js/scripts/sync-types.mjs --check
	cd plugins-js && node --test test/ && node --test test-pack/

# The browser suite: the demo and <mail2fa-enroll> in headless Chromium (www/test/).
test-ui: dist/mail2fa.wasm | $(WASM_OPT)
	node plugins-js/scripts/copy-dist.mjs
	node --test --test-concurrency=1 --test-timeout=600000 www/test/*.test.mjs

# The Roundcube plugin end to end (tests/e2e/): Debian's Roundcube + Dovecot + php-fpm
# (ffi.enable=preload with the PHP host's preload files) + nginx + Chromium, started by
# scripts/roundcube-env.sh; the whole suite on SQLite, storage/replay/limit on PostgreSQL.
# Screenshots: tests/artifacts/e2e/.
# --test-timeout is a backstop only: a stuck scenario fails the run instead of hanging CI.
# node applies it to each test file as a whole too, and the SQLite file alone runs ~11 min
# (it was at 9.5 of the old 10 min), so 25 min. Suites also close every browser a failed
# scenario left open. A scenario whose Chromium died under it is reported and run once more
# (tests/e2e/lib/test.mjs, checked by tests/e2e/harness.test.mjs).
test-e2e: $(HOST_LIB)
	node --test --test-concurrency=1 --test-timeout=1500000 tests/e2e/harness.test.mjs tests/e2e/roundcube-sqlite.test.mjs tests/e2e/roundcube-config.test.mjs tests/e2e/roundcube-dovecot.test.mjs tests/e2e/demo.test.mjs

# The same storage/replay/limit/admin scenarios on PostgreSQL (Debian's postgresql, started by the script).
test-e2e-pgsql: $(HOST_LIB)
	node --test --test-concurrency=1 --test-timeout=600000 tests/e2e/roundcube-pgsql.test.mjs

# The reference JS webmail demo on 127.0.0.1 (MAIL2FA_DEMO_PORT, default 8025).
# The JS webmail demo, and a Roundcube with the plugin beside it when Debian's Roundcube is
# installed (scripts/demo.sh; MAIL2FA_DEMO_ROUNDCUBE=0 for the JS demo only).
demo: deps dist/mail2fa.wasm | $(WASM_OPT)
	node plugins-js/scripts/copy-dist.mjs
	scripts/demo.sh

# The Dovecot passdb (plugins-php/mail2fa/dovecot/): a real Dovecot 2.3 on 127.0.0.1 with the
# shipped snippets, IMAP/POP3/submission logins of 2FA users (app passwords only, exempt webmail
# address), revocation, fail-closed database errors, the cap on checks (tests/dovecot/run.py, root).
test-dovecot: dist/mail2fa.wasm
	python3 tests/dovecot/run.py

test: deps release-check lint test-rust test-node test-js test-ui test-php repro-check test-dovecot test-e2e test-e2e-pgsql test-release

# ---- release (scripts/release.sh; the plugin README's install section) ----
# The aarch64 host library: cross-built with Debian's gcc-aarch64-linux-gnu in the host
# library's target dir (build scripts shared with `make host`), same profile overrides.
HOST_LIB_AARCH64 := build/host-aarch64/libmail2fa_host.so
host-aarch64: $(HOST_LIB_AARCH64)

$(HOST_LIB_AARCH64): dist/mail2fa.wasm $(shell find crates/mail2fa-host -name '*.rs' -o -name Cargo.toml) Cargo.lock
	MAIL2FA_WASM_SHA256=$$(cut -d' ' -f1 dist/mail2fa.wasm.sha256) CARGO_TARGET_DIR=target/host \
	  CARGO_PROFILE_RELEASE_PANIC=unwind CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
	  CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
	  cargo build --release --locked -p mail2fa-host --target aarch64-unknown-linux-gnu
	mkdir -p $(dir $@)
	cp target/host/aarch64-unknown-linux-gnu/release/libmail2fa_host.so $@.tmp && mv -f $@.tmp $@

# dist/release/: the plugin archive (x86_64 + aarch64 host libraries), the .deb, the npm
# tarball and SHA256SUMS. Reuses the host library the other suites built; checks the module's
# published sha256, the libraries' glibc needs, and smoke-tests both (aarch64 under qemu-user).
release: $(HOST_LIB) $(HOST_LIB_AARCH64) | $(WASM_OPT)
	scripts/release.sh

# Versions, licences and composer metadata agree (quick; part of `make test`).
release-check:
	scripts/release-check.sh metadata

# After a deliberate change of the core or the toolchain: publish the new module's sha256
# (the one `make release` then requires). Commit release/mail2fa.wasm.sha256.
release-pin: dist/mail2fa.wasm
	mkdir -p release
	cp dist/mail2fa.wasm.sha256 release/mail2fa.wasm.sha256
	@echo "release/mail2fa.wasm.sha256 = $$(cut -d' ' -f1 release/mail2fa.wasm.sha256) (commit it)"

# Install tests from the artifacts alone (tests/release/): the archive and the .deb into
# Debian's Roundcube, enroll and log in with a code in Chromium, upgrade/remove/purge the
# package keeping tables and config; the machine is left as found.
test-release: release
	node --test --test-concurrency=1 --test-timeout=900000 tests/release/install.test.mjs

clean:
	rm -rf build dist target
