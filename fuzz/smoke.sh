#!/usr/bin/env bash
# Short fuzz smoke for CI: every target for a few seconds from the committed seeds.
#   fuzz/smoke.sh            # all targets, 20 s or 20000 runs each
#   FUZZ_SECONDS=5 fuzz/smoke.sh otpauth
# Needs cargo-fuzz (installed here if missing) and only the stable toolchain: see README.md.
set -euo pipefail
cd "$(dirname "$0")"

CARGO_FUZZ_VERSION=0.13.2
SECONDS_PER_TARGET=${FUZZ_SECONDS:-20}
RUNS_PER_TARGET=${FUZZ_RUNS:-20000}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(dispatcher dispatcher_structured otpauth)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

# cargo-fuzz passes -Z flags to rustc; RUSTC_BOOTSTRAP lets the stable compiler take them.
# No sanitizer: the core is forbid(unsafe_code), so ASan adds cost and finds nothing more.
export RUSTC_BOOTSTRAP=1
FUZZ=(cargo fuzz run --sanitizer none)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in "${TARGETS[@]}"; do
  mkdir -p "$work/$target" artifacts
  seeds=()
  [ -d "seeds/$target" ] && seeds=("seeds/$target")
  echo "fuzz-smoke: $target (${SECONDS_PER_TARGET}s or ${RUNS_PER_TARGET} runs)"
  # New inputs go to the first (temporary) corpus dir; the committed seeds stay as they are.
  status=0
  "${FUZZ[@]}" "$target" "$work/$target" "${seeds[@]}" -- \
    -runs="$RUNS_PER_TARGET" -max_total_time="$SECONDS_PER_TARGET" \
    -artifact_prefix="artifacts/$target-" >"$work/$target.log" 2>&1 || status=$?
  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^Done' "$work/$target.log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$work/$target.log"
    echo "fuzz-smoke: $target FAILED (exit $status); the input is in fuzz/artifacts/"
    exit 1
  fi
done
echo "fuzz-smoke: ok"
