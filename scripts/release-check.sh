#!/usr/bin/env bash
# Release checks (run by `make test` and `make release`):
#
#   scripts/release-check.sh metadata       one version everywhere (Cargo workspace + lock, npm package
#                                           + lock, composer, CHANGELOG's first release heading), licences
#                                           matching every manifest and their files present,
#                                           no placeholder URLs, `composer validate --strict` clean
#   scripts/release-check.sh module         dist/mail2fa.wasm has the published sha256
#                                           (release/mail2fa.wasm.sha256) and rustc is the pinned one
#   scripts/release-check.sh glibc SO MAX   the library needs no glibc symbol version above MAX
#   scripts/release-check.sh version        prints the release version
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
bad() { echo "release-check: $*" >&2; fail=1; }

version() { sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml; }

metadata() {
  local v; v=$(version)
  [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || bad "Cargo.toml [workspace.package] version '$v' is not x.y.z"
  local crate
  for crate in crates/*/Cargo.toml; do
    grep -q '^version.workspace = true' "$crate" || bad "$crate: version must be version.workspace = true"
    grep -q '^license.workspace = true' "$crate" || bad "$crate: license must be license.workspace = true"
    local name; name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$crate" | head -1)
    local locked
    locked=$(awk -v n="$name" '$0 == "name = \"" n "\"" {getline; gsub(/version = |"/, ""); print}' Cargo.lock)
    [ "$locked" = "$v" ] || bad "Cargo.lock has $name $locked, Cargo.toml $v (run: cargo update -w --offline)"
  done
  grep -q '^license = "MIT OR Apache-2.0"' Cargo.toml || bad "Cargo.toml: workspace license must be MIT OR Apache-2.0"
  if grep -Eq '^(repository|homepage|documentation) = ".*(example|invalid|placeholder)' Cargo.toml; then
    bad "Cargo.toml: a placeholder URL"
  fi

  # npm package, its lock entry, composer, the changelog, the licence files.
  V="$v" node --input-type=module -e '
    import { readFileSync, existsSync } from "node:fs";
    const v = process.env.V;
    const errors = [];
    const pkg = JSON.parse(readFileSync("plugins-js/package.json", "utf8"));
    if (pkg.version !== v) errors.push(`plugins-js/package.json version ${pkg.version} != ${v}`);
    if (pkg.license !== "MIT OR Apache-2.0") errors.push(`plugins-js/package.json license ${pkg.license} != MIT OR Apache-2.0`);
    for (const f of ["LICENSE-MIT", "LICENSE-APACHE"]) {
      if (!pkg.files.includes(f)) errors.push(`plugins-js/package.json files lacks ${f}`);
      if (!existsSync(f) || !existsSync(`plugins-js/${f}`)) errors.push(`${f} missing (root or plugins-js/)`);
      else if (readFileSync(f, "utf8") !== readFileSync(`plugins-js/${f}`, "utf8")) errors.push(`plugins-js/${f} differs from ${f}`);
    }
    for (const k of ["repository", "homepage", "bugs"]) {
      if (JSON.stringify(pkg[k] ?? "").match(/example|invalid|placeholder/)) errors.push(`plugins-js/package.json ${k} is a placeholder`);
    }
    const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
    const entry = lock.packages?.["plugins-js"];
    if (entry?.version !== v) errors.push(`package-lock.json plugins-js version ${entry?.version} != ${v} (run: npm install --package-lock-only)`);
    if (entry?.license !== pkg.license) errors.push(`package-lock.json plugins-js license ${entry?.license} != ${pkg.license}`);
    const composer = JSON.parse(readFileSync("plugins-php/mail2fa/composer.json", "utf8"));
    if ("version" in composer && composer.version !== v) errors.push(`composer.json version ${composer.version} != ${v}`);
    if (composer.license !== "GPL-3.0-or-later") errors.push(`composer.json license ${composer.license} != GPL-3.0-or-later`);
    const gpl = existsSync("plugins-php/mail2fa/LICENSE") ? readFileSync("plugins-php/mail2fa/LICENSE", "utf8") : "";
    if (!/GNU GENERAL PUBLIC LICENSE\s+Version 3, 29 June 2007/.test(gpl)) errors.push("plugins-php/mail2fa/LICENSE is not the GPL-3.0 text");
    if (!/Apache License\s+Version 2\.0, January 2004/.test(readFileSync("LICENSE-APACHE", "utf8"))) errors.push("LICENSE-APACHE is not the Apache-2.0 text");
    if (!/^MIT License/.test(readFileSync("LICENSE-MIT", "utf8"))) errors.push("LICENSE-MIT is not the MIT text");
    const log = readFileSync("CHANGELOG.md", "utf8");
    const first = log.match(/^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$/m);
    if (!first) errors.push("CHANGELOG.md has no \"## [x.y.z] - YYYY-MM-DD\" heading");
    else if (first[1] !== v) errors.push(`CHANGELOG.md first release heading ${first[1]} != ${v}`);
    if (!/^## \[Unreleased\]$/m.test(log)) errors.push("CHANGELOG.md has no [Unreleased] section");
    for (const e of errors) console.error(`release-check: ${e}`);
    process.exit(errors.length ? 1 : 0);
  ' || fail=1

  if command -v composer >/dev/null; then
    (cd plugins-php/mail2fa && COMPOSER_ALLOW_SUPERUSER=1 composer validate --strict --no-check-lock --no-interaction -q) \
      || bad "composer validate --strict plugins-php/mail2fa/composer.json failed"
  else
    bad "composer missing (scripts/install-deps.sh installs it)"
  fi
  [ $fail = 0 ] && echo "release-check: metadata ok: version $v in Cargo, npm, CHANGELOG; licences MIT OR Apache-2.0 (crates, npm) and GPL-3.0-or-later (plugin)"
}

module() {
  local pinned published built rustc_v
  pinned=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
  rustc_v=$(rustc --version | awk '{print $2}')
  [ "$rustc_v" = "$pinned" ] || bad "rustc is $rustc_v, rust-toolchain.toml pins $pinned"
  published=$(awk '{print $1}' release/mail2fa.wasm.sha256)
  built=$(sha256sum dist/mail2fa.wasm | awk '{print $1}')
  if [ "$built" != "$published" ]; then
    bad "dist/mail2fa.wasm sha256 $built is not the published $published (release/mail2fa.wasm.sha256)."
    echo "  A deliberate change of the core or the toolchain: refresh it with  make release-pin  and commit release/mail2fa.wasm.sha256." >&2
  fi
  [ $fail = 0 ] && echo "release-check: module ok: dist/mail2fa.wasm sha256 $built = release/mail2fa.wasm.sha256 (rustc $rustc_v)"
}

glibc() {
  local so=$1 max=$2 need
  need=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
  [ -n "$need" ] || bad "$so: no GLIBC symbol versions found (objdump -T)"
  if [ "$(printf '%s\n%s\n' "$need" "$max" | sort -V | tail -1)" != "$max" ]; then
    bad "$so needs glibc $need, above the stated minimum $max (README, .deb Depends)"
  fi
  [ $fail = 0 ] && echo "release-check: $so needs glibc >= $need (stated minimum $max)"
}

case "${1:-}" in
  metadata) metadata ;;
  module) module ;;
  glibc) glibc "${2:?library}" "${3:?max glibc version}" ;;
  version) version ;;
  *) echo "usage: $0 metadata|module|glibc SO MAX|version" >&2; exit 2 ;;
esac
exit $fail
