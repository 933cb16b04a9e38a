#!/usr/bin/env bash
# Benchmark: `ceremony sign` of the real 9-bundle root KSR (2017 Q2), with the
# test KSK RSA1 in a SoftHSM2 token, timed as a whole process (start, config,
# PKCS#11 module load and login, KSR and previous-SKR checks, 9 RSA-2048
# signatures in the token, software re-verification, SKR checks, atomic write).
#
#   bench/sign.sh [RUNS]          RUNS defaults to 20 (at least 10)
#
# Needs softhsm2 and openssl; uses hyperfine when installed (apt-get install
# hyperfine), else a loop timed with date +%s%N; perf for the breakdown when
# it can record. The chain checks that need the real KSK-2010 are off, as in
# testdata/signer/root-softhsm.toml. Target: median under 50 ms (the reference
# Python signer takes about 0.5 s).
set -euo pipefail

runs=${1:-20}
if [ "$runs" -lt 10 ]; then
    echo "at least 10 runs, please" >&2
    exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
data=${CEREMONY_SHARED_DATA:-$repo/../shared/data/icann}
module=/usr/lib/softhsm/libsofthsm2.so
for need in softhsm2-util openssl; do
    command -v "$need" >/dev/null || { echo "$need not found: apt-get install softhsm2 openssl" >&2; exit 3; }
done
[ -e "$module" ] || { echo "$module not found: apt-get install softhsm2" >&2; exit 3; }
[ -e "$data/root/ksr-root-2017-q2-0.xml" ] || { echo "no shared data in $data (set CEREMONY_SHARED_DATA)" >&2; exit 3; }

echo "== building the release binary"
cargo build --release --quiet -p ceremony-cli --manifest-path "$repo/Cargo.toml"
bin=$repo/target/release/ceremony

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== SoftHSM2 token with RSA1 (tag 25486) in $work"
mkdir "$work/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
    "$work" >"$work/softhsm2.conf"
SOFTHSM2_CONF=$work/softhsm2.conf softhsm2-util --init-token --free --label ceremony \
    --pin 123456 --so-pin 12345678 >/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$data/softhsm-keys/rsa-2048-1.pem" -out "$work/rsa1.p8"
SOFTHSM2_CONF=$work/softhsm2.conf softhsm2-util --import "$work/rsa1.p8" --token ceremony \
    --label RSA1 --id 11 --pin 123456 >/dev/null
rm "$work/rsa1.p8"
cp "$repo/testdata/signer/root-softhsm.toml" "$work/"

ksr=$data/root/ksr-root-2017-q2-0.xml
previous=$data/root/skr-root-2017-q1-0.xml
sign=("$bin" sign "$ksr" --config "$work/root-softhsm.toml" --previous-skr "$previous"
      --now 2017-03-15T00:00:00Z -o "$work/skr.xml" --yes)
printf -v sign_line '%q ' "${sign[@]}"

echo "== one run, checked"
"${sign[@]}" >"$work/sign.out"
grep -q 'Signed 9 bundles' "$work/sign.out"
if [ -x /usr/bin/python3 ] && /usr/bin/python3 "$repo/scripts/verify-skr-dnspython.py" "$work/skr.xml" >/dev/null 2>&1; then
    echo "dnspython: all 9 signatures valid"
fi

median_ms() { # times in ns on stdin, one a line
    sort -n | awk '{ t[NR] = $1 } END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.1f", m / 1e6 }'
}

loop_ns() { # RUNS COMMAND...: one elapsed time in ns per line
    local n=$1; shift
    for _ in $(seq "$n"); do
        local t0 t1
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1
        t1=$(date +%s%N)
        echo $((t1 - t0))
    done
}

# The whole command, and the parts it is made of, as separate processes:
# start-up alone; the KSR checks without any key (parse, POP and previous SKR
# verification in software); and the HSM without signing (`key list`: module
# load, C_Initialize, login, finding the objects and reading the public keys).
declare -A cmds=(
    [sign]="$sign_line"
    [startup]="$(printf '%q ' "$bin" --version)"
    [ksr-validate]="$(printf '%q ' "$bin" ksr validate "$ksr" --previous-skr "$previous" --now 2017-03-15T00:00:00Z)"
    [hsm-open]="$(printf '%q ' "$bin" key list --config "$work/root-softhsm.toml")"
)
order=(sign ksr-validate hsm-open startup)

echo "== timing, $runs runs each"
declare -A median
if command -v hyperfine >/dev/null; then
    for name in "${order[@]}"; do
        hyperfine --warmup 3 --runs "$runs" --style none -N --export-json "$work/$name.json" \
            "${cmds[$name]}" >/dev/null 2>&1 ||
            hyperfine --warmup 3 --runs "$runs" --style none --export-json "$work/$name.json" \
                "${cmds[$name]}" >/dev/null
        median[$name]=$(
            /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f %.1f %.1f %.1f" % (r["median"]*1e3, r["min"]*1e3, r["max"]*1e3, r["stddev"]*1e3))' \
                "$work/$name.json"
        )
    done
    tool="hyperfine $(hyperfine --version | awk '{print $2}')"
else
    for name in "${order[@]}"; do
        eval "loop_ns 3 ${cmds[$name]}" >/dev/null
        times=$(eval "loop_ns $runs ${cmds[$name]}")
        med=$(echo "$times" | median_ms)
        min=$(echo "$times" | sort -n | head -1 | awk '{printf "%.1f", $1/1e6}')
        max=$(echo "$times" | sort -n | tail -1 | awk '{printf "%.1f", $1/1e6}')
        median[$name]="$med $min $max -"
    done
    tool="a shell loop (date +%s%N; install hyperfine for less noise)"
fi

echo
echo "Results ($tool; milliseconds: median, min, max, stddev)"
for name in "${order[@]}"; do
    printf '  %-13s %s\n' "$name" "${median[$name]}"
done
read -r sign_ms _ <<<"${median[sign]}"
read -r validate_ms _ <<<"${median[ksr-validate]}"
read -r startup_ms _ <<<"${median[startup]}"
read -r hsm_ms _ <<<"${median[hsm-open]}"
awk -v s="$sign_ms" -v v="$validate_ms" -v u="$startup_ms" -v h="$hsm_ms" 'BEGIN {
    printf "\nWhere the time goes (medians, by difference):\n"
    printf "  process start-up                          %6.1f ms\n", u
    printf "  read, parse and check the KSR + prev SKR  %6.1f ms\n", v - u
    printf "  PKCS#11 module load, login, find the key  %6.1f ms\n", h - u
    printf "  sign 9 bundles in the token, re-verify,\n"
    printf "    SKR checks, safety, atomic write        %6.1f ms\n", s - v - h + u
    printf "\nceremony sign, median of the whole process: %.1f ms (target < 50 ms): %s\n", s, (s < 50 ? "MET" : "MISSED")
}'

if command -v perf >/dev/null &&
    perf record -q -F 10000 -o "$work/perf.data" -- \
        bash -c "for i in \$(seq $runs); do $sign_line >/dev/null; done" >/dev/null 2>&1; then
    echo
    echo "CPU profile of $runs runs (perf, share of samples by shared object):"
    perf report -i "$work/perf.data" --no-children --sort dso --stdio 2>/dev/null |
        grep -v '^#' | grep -v '^$' | awk '$1 ~ /%$/ && $1+0 >= 0.5 { print "  " $0 }' | head -12
    echo
    echo "Hottest functions:"
    perf report -i "$work/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null |
        grep -v '^#' | grep -v '^$' | awk '$1 ~ /%$/ { print "  " $0 }' | head -12
fi
