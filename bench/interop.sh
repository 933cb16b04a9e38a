#!/usr/bin/env bash
# Benchmark: `ceremony sign` against the KSK side of Knot DNS (`keymgr
# sign-ksr`) and BIND 9 (`dnssec-ksr sign`), in one run, on this machine, with
# the same key type (RSA-2048), timing each whole process (start, config, key
# access, KSR parse and checks, every signature, re-verification, SKR write):
#
#   row       KSR                                          peer
#   knot-1y   keymgr generate-ksr +0 +1y  (46 signatures)  keymgr sign-ksr
#   knot-5y   keymgr generate-ksr +0 +5y  (222 signatures) keymgr sign-ksr
#   bind-1y   dnssec-ksr request -e +1y   (123 signatures) dnssec-ksr sign
#
# Ceremony signs each KSR twice: with the RSA-2048 test key in a SoftHSM2
# token, and with the same key in Ceremony's keystore (an age-encrypted file,
# work factor 10 as in the tests; a real keystore's calibrated unlock takes a
# second or more and is not what is measured here). The peers keep their
# RSA-2048 KSK in a file (Knot's KASP database, BIND's K*.private).
#
#   bench/interop.sh [RUNS]     RUNS defaults to 10 (at least 5)
#
# Needs the peers (scripts/interop-setup), softhsm2, openssl, hyperfine
# (apt-get install hyperfine) and python3. Target: Ceremony at most half the
# time of the peer on every row (ratio <= 0.50).
#
# Ceremony signs a text KSR's bundles on every core when the key's secret is
# configured (no prompt); the peers use one. On this project's 2-vCPU machine
# the RSA-2048 signature itself is the bound: ring takes about 0.62 ms per
# signature where the OpenSSL under BIND (AVX-512 IFMA) takes about 0.38 ms,
# and BIND signs three RRsets per bundle, so the bind-1y row stays near 1.
set -euo pipefail

runs=${1:-10}
if [ "$runs" -lt 5 ]; then
    echo "at least 5 runs, please" >&2
    exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${CEREMONY_SHARED_DATA:-$repo/../shared/data}
module=/usr/lib/softhsm/libsofthsm2.so
for need in keymgr dnssec-ksr softhsm2-util openssl hyperfine python3; do
    command -v "$need" >/dev/null || {
        echo "$need not found: run scripts/interop-setup; apt-get install softhsm2 openssl hyperfine" >&2
        exit 3
    }
done
[ -e "$module" ] || { echo "$module not found: apt-get install softhsm2" >&2; exit 3; }

echo "== building the release binary"
cargo build --release --quiet -p ceremony-cli --manifest-path "$repo/Cargo.toml"
bin=${CARGO_TARGET_DIR:-$repo/target}/release/ceremony

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "== Knot DNS: KSK side and ZSK side (RSA-2048), KSRs for 1 and 5 years"
mkdir -p knot/{ksk,zsk}/{run,keys,zones}
for side in ksk zsk; do
    sed "s#@WORKDIR@#$work/knot#g" "$shared/knot/$side-side.knot.conf" >"knot/$side.conf"
done
(
    cd knot
    keymgr -c ksk.conf example. generate algorithm=rsasha256 size=2048 ksk=yes zsk=no >/dev/null
    keymgr -c zsk.conf example. pregenerate +5y >/dev/null
    keymgr -c zsk.conf example. generate-ksr +0 +1y >knot-1y.ksr
    keymgr -c zsk.conf example. generate-ksr +0 +5y >knot-5y.ksr
)

echo "== BIND 9: KSK side and ZSK side (RSA-2048), KSR for 1 year"
mkdir -p bind/{ksk,zsk}
cp "$shared/bind/named.conf.dnssec-policy" bind/named.conf
end=$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)
bind_common=(-l named.conf -k offline -i now -e +1y)
(
    cd bind
    dnssec-ksr "${bind_common[@]}" -K zsk keygen example. >/dev/null 2>&1
    dnssec-ksr -o "${bind_common[@]}" -K ksk keygen example. >/dev/null 2>&1
    dnssec-ksr "${bind_common[@]}" -K zsk request example. >bind-1y.ksr
)

echo "== Ceremony: the RSA-2048 test key in a SoftHSM2 token and in the keystore"
mkdir -p cer/tokens
printf 'directories.tokendir = %s/cer/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
    "$work" >cer/softhsm2.conf
SOFTHSM2_CONF=$work/cer/softhsm2.conf softhsm2-util --init-token --free --label ceremony \
    --pin 123456 --so-pin 12345678 >/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$shared/icann/softhsm-keys/rsa-2048-1.pem" -out cer/rsa1.p8
SOFTHSM2_CONF=$work/cer/softhsm2.conf softhsm2-util --import cer/rsa1.p8 --token ceremony \
    --label RSA1 --id 11 --pin 123456 >/dev/null
rm cer/rsa1.p8
key='[keys.ksk]
label = "RSA1"
algorithm = "RSASHA256"
rsa_size = 2048
valid_from = "2020-01-01T00:00:00Z"'
printf '[hsm.soft]\nmodule = "%s"\ntoken_label = "ceremony"\npin = "123456"\nenv = { SOFTHSM2_CONF = "softhsm2.conf" }\n\n%s\n' \
    "$module" "$key" >cer/softhsm.toml
echo "bench passphrase" >cer/passphrase
printf '[keystore]\ndir = "keys"\npassphrase_file = "passphrase"\nwork_factor = 10\n\n%s\n' "$key" >cer/keystore.toml
"$bin" key import RSA1 --pem "$shared/icann/softhsm-keys/rsa-2048-1.pem" --config cer/keystore.toml >/dev/null

# name|peer command|ceremony arguments after KSR
rows=(
    "knot-1y|cd $work/knot && keymgr -c ksk.conf example. sign-ksr knot-1y.ksr|$work/knot/knot-1y.ksr"
    "knot-5y|cd $work/knot && keymgr -c ksk.conf example. sign-ksr knot-5y.ksr|$work/knot/knot-5y.ksr"
    "bind-1y|cd $work/bind && dnssec-ksr ${bind_common[*]} -K ksk -f bind-1y.ksr sign example.|$work/bind/bind-1y.ksr --end $end"
)

echo "== one run each, checked"
for row in "${rows[@]}"; do
    IFS='|' read -r name peer ours <<<"$row"
    sh -c "$peer" >"$work/$name.peer.skr"
    peer_sigs=$(grep -c RRSIG "$work/$name.peer.skr")
    for store in softhsm keystore; do
        # shellcheck disable=SC2086
        "$bin" sign $ours --config "cer/$store.toml" -o "$work/$name.$store.skr" --yes >/dev/null
        "$bin" skr verify "$work/$name.$store.skr" --ksr ${ours%% *} >/dev/null
        our_sigs=$(grep -c RRSIG "$work/$name.$store.skr")
        [ "$our_sigs" = "$peer_sigs" ] || {
            echo "$name: $our_sigs signatures from Ceremony ($store), $peer_sigs from the peer" >&2
            exit 1
        }
    done
    echo "  $name: $peer_sigs signatures each, ours pass skr verify --ksr"
done

echo "== timing, $runs runs each (hyperfine $(hyperfine --version | awk '{print $2}'), load $(cut -d' ' -f1-3 /proc/loadavg))"
for row in "${rows[@]}"; do
    IFS='|' read -r name peer ours <<<"$row"
    hyperfine --warmup 2 --runs "$runs" --style none --export-json "$work/$name.json" \
        -n peer "$peer >/dev/null" \
        -n softhsm "$bin sign $ours --config $work/cer/softhsm.toml -o $work/o.skr --yes" \
        -n keystore "$bin sign $ours --config $work/cer/keystore.toml -o $work/o.skr --yes" \
        >/dev/null 2>>"$work/hyperfine.log"
done

python3 - "$work" "${rows[@]}" <<'EOF'
import json, sys
work, rows = sys.argv[1], sys.argv[2:]
print()
print("| KSR | signatures | peer | peer ms | Ceremony SoftHSM ms | ratio | Ceremony keystore ms | ratio |")
print("|---|---|---|---|---|---|---|---|")
worst = 0.0
for row in rows:
    name = row.split("|")[0]
    results = {r["command"]: r for r in json.load(open(f"{work}/{name}.json"))["results"]}
    sigs = open(f"{work}/{name}.peer.skr").read().count("RRSIG")
    peer = results["peer"]["median"] * 1e3
    cells = []
    for store in ("softhsm", "keystore"):
        ms = results[store]["median"] * 1e3
        worst = max(worst, ms / peer)
        cells += [f"{ms:.1f}", f"{ms / peer:.2f}"]
    who = "keymgr sign-ksr" if name.startswith("knot") else "dnssec-ksr sign"
    print(f"| {name} | {sigs} | {who} | {peer:.1f} | " + " | ".join(cells) + " |")
print()
print(f"medians of the whole process; ratio = Ceremony / peer; target <= 0.50, worst {worst:.2f}")
EOF
