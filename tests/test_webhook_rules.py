"""The webhook rules alone: signatures, back-off, giving up, pausing, and refused addresses."""

import json
import random
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone

from pathlib import Path

import pytest

from wattson.webhooks import rules

BODY = b'{"id":"evt_1","type":"ping"}'
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac
    header = rules.sign(BODY, ["whsec_a"], 1_700_000_000)
    expected = hmac.new(b"whsec_a", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_verify_accepts_the_right_secret_within_the_window_only():
    header = rules.sign(BODY, ["whsec_a"], 1000)
    assert rules.verify(header, BODY, "whsec_a", now=1000 + 299)
    assert not rules.verify(header, BODY, "whsec_a", now=1000 + 301)  # replayed too late
    assert not rules.verify(header, BODY, "whsec_b", now=1000)
    assert not rules.verify(header, BODY + b" ", "whsec_a", now=1000)  # body changed
    assert not rules.verify(header.replace("t=1000", "t=1001"), BODY, "whsec_a", now=1000)
    assert not rules.verify("v1=abc", BODY, "whsec_a", now=1000)
    assert not rules.verify("", BODY, "whsec_a", now=1000)


def test_during_a_rotation_both_secrets_verify():
    secrets = rules.signing_secrets("new", "old", T0 + timedelta(hours=1), T0)
    header = rules.sign(BODY, secrets, 1000)
    assert header.count("v1=") == 2
    assert rules.verify(header, BODY, "new", 1000) and rules.verify(header, BODY, "old", 1000)
    assert rules.signing_secrets("new", "old", T0, T0) == ["new"]  # the grace is over
    assert rules.signing_secrets("new", None, None, T0) == ["new"]


def test_backoff_doubles_with_jitter_and_is_capped():
    rng = random.Random(7)
    delays = [rules.backoff(n, rng, 10, 3600) for n in range(1, 8)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(3600, 10 * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)
    assert rules.backoff(500, rng, 10, 3600) <= 3600
    assert rules.backoff(3, random.Random(1), 10, 3600) == rules.backoff(3, random.Random(1), 10, 3600)


def test_next_attempt_gives_up_past_the_horizon():
    assert rules.next_attempt(T0, T0 + timedelta(hours=1), 60, 86400) == T0 + timedelta(hours=1, minutes=1)
    assert rules.next_attempt(T0, T0 + timedelta(hours=23, minutes=59), 120, 86400) is None


def test_pauses_after_the_bound_and_never_with_zero():
    assert not rules.pauses(19, 20) and rules.pauses(20, 20)
    assert not rules.pauses(10_000, 0)


@pytest.mark.parametrize("address,kind", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.1", "private"),
    ("172.16.5.4", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("240.0.0.1", "reserved"), ("fc00::1", "private"), ("100.64.0.1", "non-global"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"), ("::ffff:10.0.0.1", "private"),
    ("2002:7f00:1::", "loopback"), ("64:ff9b::a00:1", "private"),
    ("8.8.8.8", None), ("2606:4700:4700::1111", None), ("::ffff:8.8.8.8", None),
])
def test_address_kinds(address, kind):
    assert rules.address_kind(address) == kind


def test_private_targets_need_the_setting_and_http_needs_a_reason():
    assert "not public" in rules.refusal("https", ["10.0.0.1"], allow_private=False, allow_http=False)
    assert "not public" in rules.refusal("https", ["8.8.8.8", "127.0.0.1"], allow_private=False, allow_http=False)
    assert rules.refusal("https", ["10.0.0.1"], allow_private=True, allow_http=False) is None
    assert rules.refusal("http", ["127.0.0.1"], allow_private=True, allow_http=False) is None
    assert "https" in rules.refusal("http", ["8.8.8.8"], allow_private=True, allow_http=False)
    assert "https" in rules.refusal("http", ["169.254.1.1"], allow_private=True, allow_http=False)
    assert rules.refusal("http", ["8.8.8.8"], allow_private=False, allow_http=True) is None
    assert rules.refusal("https", ["8.8.8.8"], allow_private=False, allow_http=False) is None
    assert "resolve" in rules.refusal("https", [], allow_private=True, allow_http=True)


@pytest.mark.parametrize("url,message", [
    ("ftp://example.com/x", "http"), ("https://", "no host"), ("https://u:p@example.com/", "credentials"),
    ("https://example.com:99999/", "valid URL"), ("https://example.com/#frag", "fragment"), ("example.com", "http"), ("https://example.com:0/", "port 0"),
])
def test_bad_urls(url, message):
    with pytest.raises(rules.Refused, match=message):
        rules.parse_target(url)


def test_parse_target_defaults_the_port():
    assert rules.parse_target("https://Example.com/hook") == ("https", "example.com", 443)
    assert rules.parse_target("http://127.0.0.1:8080/x?y=1") == ("http", "127.0.0.1", 8080)


# --- docs/webhooks.md ---------------------------------------------------------------------------
DOC = Path(__file__).parent.parent / "docs" / "webhooks.md"


def _snippet(language: str) -> str:
    return re.search(rf"```{language}\n(.*?)```", DOC.read_text(), re.S).group(1)


def test_the_documented_python_verifier_accepts_what_wattson_signs():
    scope: dict = {}
    exec(compile(_snippet("python"), "docs/webhooks.md", "exec"), scope)  # noqa: S102 - our own docs
    now = int(time.time())
    header = rules.sign(BODY, ["whsec_new", "whsec_old"], now)
    assert scope["verify"](header, BODY, "whsec_new") and scope["verify"](header, BODY, "whsec_old")
    assert not scope["verify"](header, BODY, "whsec_other")
    assert not scope["verify"](header, BODY + b"x", "whsec_new")
    assert not scope["verify"](rules.sign(BODY, ["whsec_new"], now - 600), BODY, "whsec_new")
    assert not scope["verify"]("garbage", BODY, "whsec_new")


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_documented_javascript_verifier_accepts_what_wattson_signs():
    now = int(time.time())
    cases = [(rules.sign(BODY, ["whsec_new", "whsec_old"], now), "whsec_old", True),
             (rules.sign(BODY, ["whsec_new"], now), "whsec_new", True),
             (rules.sign(BODY, ["whsec_new"], now), "whsec_other", False),
             (rules.sign(BODY, ["whsec_new"], now - 600), "whsec_new", False),
             ("t=1,v1=zz", "whsec_new", False)]
    script = _snippet("javascript") + (
        "\nconst body = Buffer.from(process.argv[1]);\n"
        "console.log(JSON.stringify(JSON.parse(process.argv[2]).map(([h, s]) => verify(h, body, s))));\n")
    out = subprocess.run(["node", "-e", script, BODY.decode(), json.dumps([c[:2] for c in cases])],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert json.loads(out) == [c[2] for c in cases]


def test_the_docs_show_every_event_type_with_its_example():
    from wattson.webhooks.catalogue import TYPES
    text = DOC.read_text()
    for name in TYPES:
        section = re.search(rf"^### {re.escape(name)}\n(.*?)(?=^##)", text, re.S | re.M)
        assert section, name
        example = json.loads(re.search(r"```json\n(.*?)```", section.group(1), re.S).group(1))
        assert example["type"] == name and example["id"].startswith("evt_") and "data" in example
