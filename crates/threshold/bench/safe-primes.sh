#!/usr/bin/env bash
# How long a 2048-bit threshold RSA dealing takes, against OpenSSL.
#
#   crates/threshold/bench/safe-primes.sh            # 10 runs each
#   RUNS=20 crates/threshold/bench/safe-primes.sh
#
# 1. ceremony-threshold: `shoup::deal(2048, 3, 7)`: two 1024-bit safe primes
#    (crypto-primes), the shares and the verification keys (divan median).
# 2. `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`: an
#    ordinary RSA key, whose primes need not be safe.
# 3. `openssl dhparam 1024`, twice: OpenSSL finding the same two safe primes,
#    the like-for-like comparison.
set -euo pipefail
cd "$(dirname "$0")/../../.."
runs=${RUNS:-10}

median_ms() { # prints the median of the integers on stdin
  sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}

time_ms() { # runs "$@" once, prints milliseconds
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}

echo "== ceremony-threshold: deal 2048-bit 3-of-7 (two 1024-bit safe primes), $runs samples"
cargo bench -q -p ceremony-threshold --bench threshold -- deal_rsa_2048 --sample-count "$runs" --sample-size 1

echo
echo "== openssl genpkey RSA 2048 ($(openssl version)), $runs runs"
rsa=$(for _ in $(seq "$runs"); do
  time_ms openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out /dev/null
done)
echo "runs (ms): $(echo $rsa)"
echo "median: $(echo "$rsa" | median_ms) ms"

echo
echo "== openssl dhparam 1024, twice (two 1024-bit safe primes), $runs runs"
dh=$(for _ in $(seq "$runs"); do
  a=$(time_ms openssl dhparam -out /dev/null 1024)
  b=$(time_ms openssl dhparam -out /dev/null 1024)
  echo $((a + b))
done)
echo "runs (ms): $(echo $dh)"
echo "median: $(echo "$dh" | median_ms) ms"
