#!/usr/bin/env bash
# Verification of a 100,000-entry transcript against sha256sum over the same
# bytes, measured in the same run. Target: verify <= 2x sha256sum.
#
# Builds the transcript with the release example (acts of 10 entries, one
# fsync pair per act; a checkpoint, cosigned by a witness, every 1,000
# entries), then times, warm cache, best of RUNS:
#   sha256sum over every file verify reads (entries, index, checkpoints/*)
#   transcript_bench verify (verify_dir: parse, hash, rebuild the tree,
#   check every signature, cosignature and consistency proof)
# Usage: bench/transcript.sh [ENTRIES [CHECKPOINT_EVERY]]   (defaults 100000 1000)
set -euo pipefail
cd "$(dirname "$0")/.."

entries=${1:-100000}
every=${2:-1000}
runs=${RUNS:-5}

echo "==> building the release example"
cargo build --release -q -p ceremony-transcript --example transcript_bench
bin=$PWD/target/release/examples/transcript_bench

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "==> building a $entries-entry transcript in $dir"
"$bin" build "$dir" "$entries" "$every"
t=$dir/transcript
files=("$t/entries" "$t/index" "$t"/checkpoints/*)
bytes=$(cat "${files[@]}" | wc -c)
echo "    $(ls "$t/checkpoints" | wc -l) checkpoints, $bytes bytes"

# Runs the command $runs times; prints the best wall time and the best CPU
# time (user + sys), in ms. On a busy machine wall time includes waiting
# for a core: the load average is printed so the numbers can be judged.
best() {
  local best_wall= best_cpu= line wall cpu
  for _ in $(seq "$runs"); do
    line=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null; } 2>&1 | tail -1)
    read -r wall cpu <<<"$(awk '{ printf "%d %d", $1 * 1000, ($2 + $3) * 1000 }' <<<"$line")"
    if [[ -z $best_wall || $wall -lt $best_wall ]]; then best_wall=$wall; fi
    if [[ -z $best_cpu || $cpu -lt $best_cpu ]]; then best_cpu=$cpu; fi
  done
  echo "$best_wall $best_cpu"
}

echo "==> timing, best of $runs (load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
read -r sha_wall sha_cpu <<<"$(best sha256sum "${files[@]}")"
read -r ver_wall ver_cpu <<<"$(best "$bin" verify "$dir")"
"$bin" verify "$dir"
echo "sha256sum: ${sha_wall} ms wall, ${sha_cpu} ms CPU"
echo "verify:    ${ver_wall} ms wall, ${ver_cpu} ms CPU (scans on every core)"
awk -v v="$ver_wall" -v s="$sha_wall" -v vc="$ver_cpu" -v sc="$sha_cpu" 'BEGIN {
  r = (s > 0) ? v / s : 0
  printf "ratio verify / sha256sum = %.2f wall (target <= 2), %.2f CPU\n", r, (sc > 0) ? vc / sc : 0
  exit (r <= 2) ? 0 : 1
}'
