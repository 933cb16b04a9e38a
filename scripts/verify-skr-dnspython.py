#!/usr/bin/python3
"""Verify every signature of an ICANN SKR with dnspython, independently of Ceremony.

Usage: verify-skr-dnspython.py SKR.xml [SKR.xml ...]

For every <ResponseBundle>, the DNSKEY RRset is built from the bundle's <Key>
elements (owner = the <KSR domain="..."> attribute, TTL = the keys' <TTL>),
and every <Signature> element becomes an RRSIG that is checked with
dns.dnssec.validate_rrsig against the bundle's own keys. The validation time
is set inside the signature's own validity window, so expired signatures of
old SKRs still verify; a signature whose expiration precedes its inception
fails.

Nothing of Ceremony is used: the XML is read with xml.etree.ElementTree
(DOCTYPE refused, so no entities), the cryptography is dnspython's (which
uses python3-cryptography).

Output: one line per bundle on stdout,
    bundle <id>: <n> signature(s) valid
or
    bundle <id>: FAILED: <reason>
and a summary on stderr. With several files (one Python start for many SKRs,
as the threshold tests need), each is checked in turn: every bundle line is
prefixed with `<file>: `, each file gets its own summary line, and a last line
    ALL: <n> signature(s) in <m> file(s) verify
or
    ALL: FAIL: <k> of <m> file(s) do not verify
totals them.

Exit status: 0 when every signature of every bundle validates; 1 when any
bundle fails (or has no signature); 2 on a usage error, a file that cannot be
read or parsed as an SKR, or when dnspython/cryptography is missing. With
several files, the worst status of any file.
"""

import base64
import binascii
import calendar
import re
import sys
import xml.etree.ElementTree as ET

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

try:
    import dns.dnssec
    import dns.name
    import dns.rdataclass
    import dns.rdataset
    import dns.rdatatype
    import dns.rdtypes.ANY.DNSKEY
    import dns.rdtypes.ANY.RRSIG
    import dns.rrset
except ImportError as err:  # pragma: no cover - environment problem
    print(
        f"dnspython is missing ({err}): run apt-get install python3-dnspython python3-cryptography",
        file=sys.stderr,
    )
    sys.exit(EXIT_USAGE)

if not getattr(dns.dnssec, "_have_pyca", True):  # pragma: no cover - environment problem
    print(
        "dnspython cannot validate without python3-cryptography: "
        "run apt-get install python3-cryptography",
        file=sys.stderr,
    )
    sys.exit(EXIT_USAGE)


class BundleError(Exception):
    """A bundle that does not verify, with the reason."""


class DocumentError(Exception):
    """A file that is not a readable SKR."""


class _NoDoctype(ET.TreeBuilder):
    """A tree builder that refuses any DOCTYPE, and with it every entity declaration."""

    def doctype(self, name, pubid, system):
        raise DocumentError("DOCTYPE declarations are refused")


_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})?$"
)


def parse_datetime(text):
    """Seconds since the epoch for `2017-04-01T00:00:00`, `...Z` or `...+00:00`.

    A time without a zone is UTC, as in the root's early files.
    """
    match = _DATETIME.match(text)
    if not match:
        raise BundleError(f"{text!r} is not a dateTime like 2017-04-01T00:00:00Z")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    zone = match.group(7)
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        raise BundleError(f"{text!r}: no such date")
    if hour > 23 or minute > 59 or second > 59:
        raise BundleError(f"{text!r}: no such time")
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    if not 0 <= seconds < 2**32:
        raise BundleError(f"{text!r} does not fit an RRSIG time field")
    return seconds


def child_text(element, tag, where):
    """The stripped text of the one child `tag` of `element`."""
    found = element.findall(tag)
    if len(found) != 1:
        raise BundleError(f"{where}: expected one <{tag}>, found {len(found)}")
    return (found[0].text or "").strip()


def child_int(element, tag, where, bits):
    text = child_text(element, tag, where)
    if not re.fullmatch(r"\d+", text):
        raise BundleError(f"{where}: <{tag}> {text!r} is not a number")
    value = int(text)
    if value >= 2**bits:
        raise BundleError(f"{where}: <{tag}> {value} does not fit {bits} bits")
    return value


def child_base64(element, tag, where):
    text = "".join(child_text(element, tag, where).split())
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise BundleError(f"{where}: <{tag}> is not base64: {err}") from None


def build_dnskeys(bundle, owner):
    """The bundle's DNSKEY RRset, checking each keyTag attribute against dnspython's key_id."""
    keys = bundle.findall("Key")
    if not keys:
        raise BundleError("no <Key>")
    ttls = set()
    rdatas = []
    for index, key in enumerate(keys):
        key_where = f"key {key.get('keyIdentifier', index)}"
        ttls.add(child_int(key, "TTL", key_where, 32))
        rdata = dns.rdtypes.ANY.DNSKEY.DNSKEY(
            dns.rdataclass.IN,
            dns.rdatatype.DNSKEY,
            child_int(key, "Flags", key_where, 16),
            child_int(key, "Protocol", key_where, 8),
            child_int(key, "Algorithm", key_where, 8),
            child_base64(key, "PublicKey", key_where),
        )
        claimed = key.get("keyTag")
        if claimed is not None:
            if not re.fullmatch(r"\d+", claimed.strip()):
                raise BundleError(f"{key_where}: keyTag {claimed!r} is not a number")
            if int(claimed) != dns.dnssec.key_id(rdata):
                raise BundleError(
                    f"{key_where}: keyTag attribute {int(claimed)} but the key's tag is "
                    f"{dns.dnssec.key_id(rdata)}"
                )
        rdatas.append(rdata)
    if len(ttls) != 1:
        raise BundleError(f"the keys have different TTLs {sorted(ttls)}")
    rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    rrset.update_ttl(ttls.pop())
    for rdata in rdatas:
        rrset.add(rdata)
    if len(rrset) != len(rdatas):
        raise BundleError("duplicate keys in the RRset")
    return rrset


def build_rrsig(signature, where):
    """The RRSIG rdata a <Signature> element describes, and its validity window."""
    type_text = child_text(signature, "TypeCovered", where)
    try:
        type_covered = dns.rdatatype.from_text(type_text)
    except Exception:
        raise BundleError(f"{where}: <TypeCovered> {type_text!r} is not an RR type") from None
    if type_covered != dns.rdatatype.DNSKEY:
        raise BundleError(f"{where}: covers {type_text}, not DNSKEY")
    signer_text = child_text(signature, "SignersName", where)
    try:
        signer = dns.name.from_text(signer_text, origin=dns.name.root)
    except Exception as err:
        raise BundleError(f"{where}: <SignersName> {signer_text!r}: {err}") from None
    expiration = parse_datetime(child_text(signature, "SignatureExpiration", where))
    inception = parse_datetime(child_text(signature, "SignatureInception", where))
    rrsig = dns.rdtypes.ANY.RRSIG.RRSIG(
        dns.rdataclass.IN,
        dns.rdatatype.RRSIG,
        type_covered,
        child_int(signature, "Algorithm", where, 8),
        child_int(signature, "Labels", where, 8),
        child_int(signature, "OriginalTTL", where, 32),
        expiration,
        inception,
        child_int(signature, "KeyTag", where, 16),
        signer,
        child_base64(signature, "SignatureData", where),
    )
    return rrsig, inception, expiration


def verify_bundle(bundle, owner):
    """Validates every signature of one bundle; returns how many there were."""
    rrset = build_dnskeys(bundle, owner)
    signatures = bundle.findall("Signature")
    if not signatures:
        raise BundleError("no <Signature>")
    # Only the bundle's own keys: the dictionary dnspython looks the signer up in.
    keys = {owner: rrset}
    for index, signature in enumerate(signatures, start=1):
        sig_where = f"signature {index} (keyIdentifier {signature.get('keyIdentifier')})"
        rrsig, inception, expiration = build_rrsig(signature, sig_where)
        if rrsig.signer != owner:
            raise BundleError(f"{sig_where}: signer {rrsig.signer} is not the owner {owner}")
        if expiration < inception:
            raise BundleError(f"{sig_where}: expiration precedes inception")
        if not any(
            dns.dnssec.key_id(key) == rrsig.key_tag and key.algorithm == rrsig.algorithm
            for key in rrset
        ):
            raise BundleError(
                f"{sig_where}: no key in the bundle has tag {rrsig.key_tag} "
                f"and algorithm {int(rrsig.algorithm)}"
            )
        now = inception + (expiration - inception) // 2
        try:
            dns.dnssec.validate_rrsig(rrset, rrsig, keys, now=now)
        except dns.dnssec.ValidationFailure as err:
            raise BundleError(f"{sig_where}: {err}") from None
        except dns.dnssec.UnsupportedAlgorithm as err:
            raise BundleError(f"{sig_where}: unsupported algorithm: {err}") from None
    return len(signatures)


def load(path):
    try:
        with open(path, "rb") as handle:
            data = handle.read(64 * 1024 * 1024 + 1)
    except OSError as err:
        raise DocumentError(f"cannot read {path}: {err.strerror or err}") from None
    if len(data) > 64 * 1024 * 1024:
        raise DocumentError(f"{path} is larger than 64 MiB")
    # Belt and braces: the tree builder refuses a DOCTYPE too.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise DocumentError(f"{path}: DOCTYPE/ENTITY declarations are refused")
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(data)
        root = parser.close()
    except ET.ParseError as err:
        raise DocumentError(f"{path} is not well-formed XML: {err}") from None
    if root.tag != "KSR":
        raise DocumentError(f"{path}: the root element is <{root.tag}>, not <KSR>")
    responses = root.findall("Response")
    if len(responses) != 1:
        raise DocumentError(f"{path}: expected one <Response> (is this an SKR?)")
    domain = root.get("domain")
    if domain is None:
        raise DocumentError(f"{path}: <KSR> has no domain attribute")
    try:
        owner = dns.name.from_text(domain, origin=dns.name.root)
    except Exception as err:
        raise DocumentError(f"{path}: domain {domain!r}: {err}") from None
    bundles = responses[0].findall("ResponseBundle")
    if not bundles:
        raise DocumentError(f"{path}: no <ResponseBundle>")
    return owner, bundles


def verify_file(path, prefix):
    """Verifies one SKR file; returns (exit status, valid signatures)."""
    try:
        owner, bundles = load(path)
    except DocumentError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE, 0
    failed = 0
    total = 0
    for bundle in bundles:
        bundle_id = bundle.get("id", "?")
        try:
            count = verify_bundle(bundle, owner)
        except BundleError as err:
            failed += 1
            print(f"{prefix}bundle {bundle_id}: FAILED: {err}")
            continue
        total += count
        print(f"{prefix}bundle {bundle_id}: {count} signature(s) valid")
    if failed:
        print(
            f"FAIL: {failed} of {len(bundles)} bundle(s) in {path} do not verify",
            file=sys.stderr,
        )
        return EXIT_INVALID, total
    print(
        f"OK: {total} signature(s) in {len(bundles)} bundle(s) of {path} verify",
        file=sys.stderr,
    )
    return EXIT_OK, total


def main(argv):
    if len(argv) < 2 or any(arg in ("-h", "--help") for arg in argv[1:]):
        print(f"usage: {argv[0]} SKR.xml [SKR.xml ...]", file=sys.stderr)
        return EXIT_USAGE
    paths = argv[1:]
    if len(paths) == 1:
        return verify_file(paths[0], "")[0]
    worst = EXIT_OK
    bad = 0
    total = 0
    for path in paths:
        status, count = verify_file(path, f"{path}: ")
        total += count
        if status != EXIT_OK:
            bad += 1
            worst = max(worst, status)
    if bad:
        print(f"ALL: FAIL: {bad} of {len(paths)} file(s) do not verify", file=sys.stderr)
    else:
        print(f"ALL: {total} signature(s) in {len(paths)} file(s) verify", file=sys.stderr)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv))
