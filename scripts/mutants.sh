#!/usr/bin/env bash
# Opt-in mutation testing (not run by CI): cargo-mutants over the code that decides what a run is
# judged by: the network, the engine's event loop and timers, the fault application, the generic
# liveness and durable-state checkers, and the Raft checkers. A mutant that survives is a change to
# that logic that no test notices: kill it with a test, or say at the code why it is equivalent.
#
# Usage: scripts/mutants.sh [FILE...]        (default: every file below, one after the other)
#   MUTANTS_SHARD_<name>=k/n  tests a sample of a large file: every n-th mutant from the k-th
#                             (<name>: the path with / and . as _, e.g. MUTANTS_SHARD_src_sim_world_rs=0/3)
#   MUTANTS_OUT=dir           where each file's mutants.out goes (default target/mutants/out)
# Needs `cargo install cargo-mutants --locked` (last measured with 27.1.0). One mutant at a time
# (--in-place), niced: 10 to 20 s a mutant with the unit tests on a busy two-core machine, about a
# minute with integration tests. All nine files hold some 520 mutants (hours): the README's numbers
# came from samples, e.g. MUTANTS_SHARD_src_sim_world_rs=0/10 for one mutant in ten of world.rs.
#
# The mutants are made in a lab copy of the tree (target/mutants/lab) that keeps its own target/
# between runs: the copy is refreshed with cp -a, which keeps modification times, so a run rebuilds
# only this crate. (cargo-mutants' own copy does not keep them, and rebuilds every dependency for
# every invocation.)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=(
    src/sim/timers.rs
    src/check/durable.rs
    src/fault/apply.rs
    src/fault/action.rs
    src/fault/target.rs
    src/net/mod.rs
    src/check/liveness.rs
    src/protocols/raft/checkers.rs
    src/sim/world.rs
  )
fi

# Two stages a file, to keep each mutant's test run short. First the unit tests alone (the Raft
# checkers', the network's, the timers' and the generic checkers' own tests are among them), which
# rebuild the crate once a mutant. Then the mutants they missed are tried again, by name, with the
# integration tests that drive that file through whole runs; each integration test binary costs a
# second build of the crate a mutant, so only these few. The rest of the suite is left out,
# tests/scenarios.rs (every shipped scenario, about two minutes) above all: a mutant that only an
# unselected test catches counts as missed here.
wide_tests_for() {
  case "$1" in
    src/sim/world.rs | src/sim/timers.rs | src/net/* | src/fault/*)
      echo --test engine --test fault_kinds --test golden --test world_mutants ;;
    src/check/liveness.rs) echo --test false_alarms --test fault_kinds ;;
    src/check/durable.rs | src/protocols/raft/checkers.rs) echo --test raft_mutants ;;
  esac
}

count() { wc -l < "$1/mutants.out/$2.txt" 2>/dev/null || echo 0; }

# Runs cargo-mutants on file $1 into $2, testing with the cargo test arguments after them.
mutate() {
  local f=$1 out=$2
  shift 2
  local cargo_args=()
  for arg in "$@"; do cargo_args+=("--cargo-arg=$arg"); done
  # --in-place: mutate the lab copy itself (restored after each mutant). --baseline=skip: the lab
  # was just built, and the tree is expected green (run cargo test first); a mutant that hangs a
  # test is cut off at --timeout seconds. The test selection goes in --cargo-arg, not after --, so
  # that the build step builds only the selected targets (what follows -- reaches the test step
  # alone). cargo-mutants exits non-zero when a mutant survives: the summary below says which.
  nice -n 15 cargo mutants --dir "$lab" --in-place --file "$f" "${shard[@]}" --no-shuffle \
    --baseline=skip --timeout 120 --build-timeout 600 "${cargo_args[@]}" \
    --output "$out" || true
}

lab="$root/target/mutants/lab"
out_root="${MUTANTS_OUT:-$root/target/mutants/out}"
mkdir -p "$lab" "$out_root"
# Refresh the lab's sources (not its target/) with cp -a, which keeps modification times.
find "$lab" -mindepth 1 -maxdepth 1 ! -name target -exec rm -rf {} +
for entry in "$root"/* "$root"/.[!.]*; do
  case "$(basename "$entry")" in target | .git) continue ;; esac
  cp -a "$entry" "$lab/"
done
# Build once before the first mutant, so the first mutant's time is its own.
(cd "$lab" && nice -n 15 cargo test --no-run -q --lib --test engine --test fault_kinds --test golden \
  --test false_alarms --test raft_mutants --test world_mutants)

for f in "${files[@]}"; do
  name="${f//[\/.]/_}"
  out="$out_root/$name"
  shard_var="MUTANTS_SHARD_${name}"
  shard=()
  if [ -n "${!shard_var:-}" ]; then shard=(--shard "${!shard_var}" --sharding round-robin); fi
  echo "== $f ${shard[*]}"
  mutate "$f" "$out" --lib
  unit_caught=$(count "$out" caught)
  unit_unviable=$(count "$out" unviable)
  wide=$(wide_tests_for "$f")
  again=()
  while IFS= read -r mutant; do
    # The mutant's exact name as a regex: escape what the regex crate treats as special.
    again+=(--re "^$(printf '%s' "$mutant" | sed 's/[][(){}.*+?^$|\\]/\\&/g')\$")
  done < <(cat "$out/mutants.out/missed.txt" "$out/mutants.out/timeout.txt" 2>/dev/null)
  if [ -n "$wide" ] && [ ${#again[@]} -gt 0 ]; then
    echo "-- the $((${#again[@]} / 2)) missed or timed out, again with --lib $wide"
    shard=("${again[@]}")
    # shellcheck disable=SC2086 # $wide is a list of arguments
    mutate "$f" "$out" --lib $wide
  else
    unit_caught=0 unit_unviable=0
  fi
  echo "$f: caught $((unit_caught + $(count "$out" caught))) missed $(count "$out" missed)" \
    "unviable $((unit_unviable + $(count "$out" unviable))) timeout $(count "$out" timeout)"
  cat "$out/mutants.out/missed.txt" 2>/dev/null || true
done
