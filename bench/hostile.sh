#!/usr/bin/env bash
# Hostile inputs against the release binary: exit code, wall time and peak RSS.
#
# The same inputs as crates/cli/tests/hostile.rs, which asserts exit codes,
# messages and a 100 MB memory bound but never time; time is measured here.
# Usage: bench/hostile.sh [--keep]   (--keep leaves the inputs in the temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."

data=../shared/data/icann
if [[ ! -f $data/root/ksr-root-2017-q2-0.xml ]]; then
  echo "$data not found: the inputs are made from the real 2017 Q2 KSR" >&2
  exit 2
fi
if [[ ! -x /usr/bin/time ]]; then
  echo "==> installing GNU time"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends time
fi

echo "==> building the release binary"
cargo build --release -q -p ceremony-cli
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/ceremony

dir=$(mktemp -d)
if [[ ${1:-} != --keep ]]; then
  trap 'rm -rf "$dir"' EXIT
fi

echo "==> generating inputs in $dir"
python3 - "$data/root/ksr-root-2017-q2-0.xml" "$dir" <<'EOF'
import os, re, sys

ksr_path, out = sys.argv[1], sys.argv[2]
ksr = open(ksr_path, encoding="utf-8").read()
LIMIT = 16 * 1024 * 1024
ROOT = '<KSR id="x" domain="." serial="1">'

def put(name, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(out, name), mode) as f:
        f.write(data)

def edited(old, new):
    assert old in ksr, old
    return ksr.replace(old, new, 1)

laughs = ['<?xml version="1.0"?>', "<!DOCTYPE KSR [", '  <!ENTITY lol "lol">']
for level in range(1, 10):
    prev = "lol" if level == 1 else f"lol{level - 1}"
    laughs.append(f'  <!ENTITY lol{level} "{("&" + prev + ";") * 10}">')
laughs.append(']>\n<KSR id="&lol9;" domain="." serial="1"><Request>&lol9;</Request></KSR>\n')
put("doctype-laughs.xml", "\n".join(laughs))
put("doctype-xxe.xml", '<?xml version="1.0"?>\n'
    '<!DOCTYPE KSR [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
    '<KSR id="x" domain="." serial="1"><Request>&xxe;</Request></KSR>\n')

with open(os.path.join(out, "sparse-100mb.xml"), "wb") as f:
    f.truncate(100 * 1024 * 1024)
start = ksr.index("<RequestBundle")
end = ksr.index("</RequestBundle>") + len("</RequestBundle>")
with open(os.path.join(out, "real-17mib.xml"), "w") as f:
    f.write(ksr[:start])
    bundle, written = ksr[start:end], start
    while written <= 17 * 1024 * 1024:
        f.write(bundle)
        written += len(bundle)
    f.write("\n  </Request>\n</KSR>\n")

put("nested-10000.xml", ROOT + "\n" + "<Request>\n" * 10000 + "</Request>\n" * 10000 + "</KSR>\n")
put("attributes-1m.xml", "<KSR" + "".join(f' a{i}=""' for i in range(1_000_000)) + "/>")
element = "<a " + " ".join(f'b{i}=""' for i in range(32)) + "/>"
put("attributes-spread.xml", ROOT + element * 70_000 + "</KSR>")
put("nodes-4m.xml", ROOT + "<a/>" * 4_000_000 + "</KSR>")
head = "<KSR>" + '<a b="1" c="2">x</a>' * 49_000 + "<a>x</a>" * 190_000
put("every-bound.xml", head + "&#x41;" * ((LIMIT - len(head) - 6) // 6) + "</KSR>")

put("base64-publickey.xml", edited("<PublicKey>AwEAAZLs", "<PublicKey>AwE!AZLs"))
put("base64-signaturedata.xml", edited("<SignatureData>kRfw", "<SignatureData>kR$w"))
put("keytag-negative.xml", edited('keyTag="14796"', 'keyTag="-5"'))
put("keytag-70000.xml", edited('keyTag="14796"', 'keyTag="70000"'))
put("serial-huge.xml", edited('serial="1"', 'serial="999999999999999999999999"'))
put("ttl-over-u32.xml", edited("<TTL>172800</TTL>", "<TTL>4294967296</TTL>"))
put("ttl-split-by-comment.xml", edited("<TTL>172800</TTL>", "<TTL>17<!-- -->2800</TTL>"))
ids = re.findall(r'<RequestBundle id="([^"]+)"', ksr)
put("duplicate-bundle-ids.xml", ksr.replace(f'<RequestBundle id="{ids[1]}"', f'<RequestBundle id="{ids[0]}"', 1))

put("empty.xml", "")
put("whitespace.xml", " \n\t\r\n   \n")
state, noise = 0x9E3779B97F4A7C15, bytearray()
for _ in range(64 * 1024):
    state ^= (state << 13) & 0xFFFFFFFFFFFFFFFF
    state ^= state >> 7
    state ^= (state << 17) & 0xFFFFFFFFFFFFFFFF
    noise.append((state >> 24) & 0xFF)
put("binary.xml", b"\x00\x01\x02\xff\xfe\x80" + bytes(noise))
put("binary-ascii-nul.xml", bytes(b & 0x7F for b in noise))
put("truncated-half.xml", ksr[: len(ksr) // 2])
put("truncated-in-tag.xml", ksr[: ksr.rindex("<PublicKey>") + 15])
put("utf16le-bom.xml", b"\xff\xfe" + ksr.encode("utf-16-le"))
put("utf16be-no-bom.xml", ksr.encode("utf-16-be"))
put("html.xml", "<html>\n<head><title>KSR</title></head>\n<body><p>Not a KSR.</p></body>\n</html>\n")
EOF

# case, then the command's arguments after `ceremony`.
cases=(
  "real KSR (baseline)|ksr validate $data/root/ksr-root-2017-q2-0.xml"
  "real SKR (baseline)|skr verify $data/root/skr-root-2017-q2-0.xml"
  "DOCTYPE, billion laughs|ksr validate $dir/doctype-laughs.xml"
  "DOCTYPE, external entity|ksr validate $dir/doctype-xxe.xml"
  "100 MB sparse file|ksr validate $dir/sparse-100mb.xml"
  "17 MiB of real bundles|ksr validate $dir/real-17mib.xml"
  "/dev/zero (endless)|ksr validate /dev/zero"
  "10,000 nested elements|ksr validate $dir/nested-10000.xml"
  "1M attributes, one element|ksr validate $dir/attributes-1m.xml"
  "2.2M attributes, spread|ksr validate $dir/attributes-spread.xml"
  "4M elements|ksr validate $dir/nodes-4m.xml"
  "every bound at once|ksr validate $dir/every-bound.xml"
  "bad base64, PublicKey|ksr validate $dir/base64-publickey.xml"
  "bad base64, SignatureData|ksr validate $dir/base64-signaturedata.xml"
  "keyTag=-5|ksr validate $dir/keytag-negative.xml"
  "keyTag=70000|ksr validate $dir/keytag-70000.xml"
  "serial=10^24-1|ksr validate $dir/serial-huge.xml"
  "TTL=2^32|ksr validate $dir/ttl-over-u32.xml"
  "TTL split by a comment|ksr validate $dir/ttl-split-by-comment.xml"
  "duplicate bundle ids|ksr validate $dir/duplicate-bundle-ids.xml"
  "empty file|ksr validate $dir/empty.xml"
  "whitespace only|ksr validate $dir/whitespace.xml"
  "binary, invalid UTF-8|ksr validate $dir/binary.xml"
  "binary, valid UTF-8 with NUL|ksr validate $dir/binary-ascii-nul.xml"
  "truncated in half|ksr validate $dir/truncated-half.xml"
  "truncated inside a value|ksr validate $dir/truncated-in-tag.xml"
  "UTF-16LE with BOM|ksr validate $dir/utf16le-bom.xml"
  "UTF-16BE without BOM|ksr validate $dir/utf16be-no-bom.xml"
  "HTML|ksr validate $dir/html.xml"
  "SKR to ksr validate|ksr validate $data/root/skr-root-2017-q2-0.xml"
  "DOCTYPE to skr verify|skr verify $dir/doctype-laughs.xml"
  "4M elements to anchor verify|anchor verify $dir/nodes-4m.xml"
)

echo
printf '%-32s %4s %8s %10s\n' "case" "exit" "seconds" "peak KiB"
printf '%-32s %4s %8s %10s\n' "----" "----" "-------" "--------"
for entry in "${cases[@]}"; do
  name=${entry%%|*}
  read -r -a args <<<"${entry#*|}"
  set +e
  /usr/bin/time -o "$dir/time.txt" -f "%e %M" \
    "$bin" "${args[@]}" --now 2017-03-15T00:00:00Z >/dev/null 2>"$dir/stderr.txt"
  code=$?
  set -e
  # GNU time prefixes a "Command exited with non-zero status" line: keep the last.
  last=$(tail -n 1 "$dir/time.txt")
  seconds=${last% *}
  kib=${last#* }
  printf '%-32s %4s %8s %10s\n' "$name" "$code" "$seconds" "$kib"
done
