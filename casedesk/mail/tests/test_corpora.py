"""The public mail corpora (../shared/corpora/README.md) against our parsing.

The corpora are downloaded, never committed: set CASEDESK_CORPORA to the folder
`bash ../shared/corpora/fetch.sh DIR` filled (default /work/corpora when present).
Expected results are read from the corpora's own test files, not copied here.
"""

from __future__ import annotations

import ast
import email
import email.policy
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from casedesk.mail.parse import ParsedMail, parse_message
from casedesk.mail.reply import _strip_signature, extract_reply


def _corpora() -> Path | None:
    value = os.environ.get("CASEDESK_CORPORA")
    path = Path(value) if value else Path("/work/corpora")
    return path if path.is_dir() else None


CORPORA = _corpora()
pytestmark = pytest.mark.skipif(
    CORPORA is None,
    reason="mail corpora absent: run `bash ../shared/corpora/fetch.sh DIR` and set "
    "CASEDESK_CORPORA=DIR",
)


def _dir(*parts: str) -> Path:
    assert CORPORA is not None
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not in the corpora folder")
    return path


def _files(pattern: str, *parts: str) -> list[Path]:
    if CORPORA is None:
        return []
    return sorted(CORPORA.joinpath(*parts).glob(pattern))


TALON = ("talon", "talon-1.4.4", "tests", "fixtures")
FLUFL = ("flufl.bounce", "flufl_bounce-6.0.0", "tests")
MAILBOX = ("django-mailbox", "django-mailbox-4.10.1", "django_mailbox", "tests", "messages")
STDLIB = ("python-stdlib", "test_email", "data")
ROUNDUP = ("roundup", "roundup-2.6.0", "test")
WS = re.compile(r"\s+")


# ---- talon: reply extraction ------------------------------------------------------


@pytest.mark.parametrize("path", _files("*.eml", *TALON, "standard_replies"), ids=lambda p: p.name)
def test_talon_standard_reply_is_extracted(path: Path) -> None:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    expected = {"Hello"}
    reply_file = path.with_name(path.stem + "_reply_text")
    if reply_file.exists():
        # talon keeps the signature in its expectation; we cut it, so both count
        full = reply_file.read_text().strip()
        expected |= {full, "\n".join(_strip_signature(full.split("\n"))).strip()}
    assert extract_reply(text) in expected
    # and the whole message through parse_message gives the same
    assert parse_message(path.read_bytes()).reply_text in expected


@pytest.mark.parametrize("path", _files("*.html", *TALON, "html_replies"), ids=lambda p: p.name)
def test_talon_html_reply_is_extracted(path: Path) -> None:
    reply = extract_reply("", path.read_text(encoding="utf-8"))
    assert WS.sub("", reply) == WS.sub("", "Hi. I am fine.\n\nThanks,\nAlex")


# ---- roundup: quote and signature removal (test_mailsplit.py's own cases) ----------


def _roundup_split_cases() -> list[tuple[str, str, str]]:
    """(test name, input, expected content) for parseContent(s, 0, 0) cases."""
    if CORPORA is None:
        return []
    path = CORPORA.joinpath(*ROUNDUP, "test_mailsplit.py")
    if not path.exists():
        return []
    cases = []
    for func in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(func, ast.FunctionDef) or not func.name.startswith("test"):
            continue
        given = None
        wants_plain = False
        for stmt in func.body:
            if isinstance(stmt, ast.Assign) and getattr(stmt.targets[0], "id", "") == "s":
                try:
                    given = ast.literal_eval(stmt.value)
                except ValueError:  # built from other names: not a literal case
                    given = None
            elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                args = stmt.value.args
                wants_plain = len(args) == 3 and all(
                    isinstance(a, ast.Constant) and a.value == 0 for a in args[1:]
                )
            elif (
                isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Call)
                and getattr(stmt.value.func, "attr", "") == "assertEqual"
                and getattr(stmt.value.args[0], "id", "") == "content"
                and wants_plain
                and isinstance(given, str)
            ):
                try:
                    cases.append((func.name, given, ast.literal_eval(stmt.value.args[1])))
                except ValueError:
                    continue
    return cases


@pytest.mark.parametrize(
    ("given", "expected"),
    [(g, e) for _, g, e in _roundup_split_cases()],
    ids=[n for n, _, _ in _roundup_split_cases()],
)
def test_roundup_quote_and_signature_removal(given: str, expected: str) -> None:
    assert extract_reply(given) == expected.strip()


# ---- flufl.bounce: bounces, their failed addresses and permanence ------------------


def _bounce_table() -> list[tuple[str, list[bytes], bool]]:
    """test_detectors.py's DETECTORS table: (file, failed addresses, temporary)."""
    if CORPORA is None:
        return []
    path = CORPORA.joinpath(*FLUFL, "test_detectors.py")
    if not path.exists():
        return []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DETECTORS":
            return [(f, exp, temp) for _, f, exp, temp in ast.literal_eval(node.value) if exp]
    return []


@pytest.mark.parametrize(("filename", "addresses", "temporary"), _bounce_table())
def test_flufl_bounce_is_detected_with_its_addresses(
    filename: str, addresses: list[bytes], temporary: bool
) -> None:
    parsed = parse_message((_dir(*FLUFL, "data") / filename).read_bytes())
    assert parsed.auto == "bounce"
    assert parsed.bounce is not None
    assert {a.decode().lower() for a in addresses} <= set(parsed.bounce.addresses)
    assert parsed.bounce.permanent is (not temporary)


def test_groupwise_human_reply_is_not_a_bounce() -> None:
    parsed = parse_message((_dir(*FLUFL, "data") / "groupwise_03.txt").read_bytes())
    assert parsed.bounce is None and parsed.auto is None
    assert parsed.reply_text.strip()


def test_qmail_auto_reply_is_automatic_but_not_a_bounce() -> None:
    parsed = parse_message((_dir(*FLUFL, "data") / "qmail_08.txt").read_bytes())
    assert parsed.bounce is None
    assert parsed.auto is not None


# ---- Python's test_email: parser edge cases -------------------------------------


@pytest.mark.parametrize("path", _files("msg_*.txt", *STDLIB), ids=lambda p: p.name)
def test_stdlib_message_parses(path: Path) -> None:
    parsed = parse_message(path.read_bytes())
    assert isinstance(parsed.text, str)
    if path.name in ("msg_05.txt", "msg_25.txt", "msg_43.txt"):
        assert parsed.auto == "bounce" and parsed.bounce is not None


# ---- django-mailbox: real MIME ---------------------------------------------------


def _mailbox(name: str) -> ParsedMail:
    return parse_message((_dir(*MAILBOX) / name).read_bytes())


def test_koi8r_attachment_names() -> None:
    parsed = _mailbox("message_with_koi8r_filename_attachments.eml")
    names = [name for name, _, _ in parsed.attachments]
    assert names == [
        "Пакет предложений HSE Career Fair 8 апреля 2016.pdf",
        "Ведомости.pdf",
        "Пакет предложений 2016.pptx",
    ]


def test_utf8_attachment_names() -> None:
    parsed = _mailbox("message_with_utf8_attachment.eml")
    assert [n for n, _, _ in parsed.attachments] == ["piłkochwyty.jpg", "odpowiedź Burmistrza.jpg"]
    parsed = _mailbox("message_with_not_decoded_attachment_header.eml")
    assert [n for n, _, _ in parsed.attachments] == ["ð̞oβ̞le.png"]


def test_rfc822_attachment_is_one_eml() -> None:
    parsed = _mailbox("message_with_rfc822_attachment.eml")
    [(name, ctype, data)] = parsed.attachments
    assert ctype == "message/rfc822" and name.endswith(".eml") and data


def test_single_byte_charset_body() -> None:
    parsed = _mailbox("message_with_single_byte_encoding.eml")
    assert parsed.text.strip().startswith("Это сообщение имеет неправильную кодировка.")


def test_human_replies_with_precedence_bulk_are_kept() -> None:
    bulk = [p for p in _files("*.eml", *MAILBOX) if parse_message(p.read_bytes()).bulk]
    assert len(bulk) >= 2
    for path in bulk:
        parsed = parse_message(path.read_bytes())
        assert parsed.auto is None, path.name
        assert parsed.reply_text.strip(), path.name


@pytest.mark.parametrize("path", _files("*.eml", *MAILBOX), ids=lambda p: p.name)
def test_django_mailbox_message_parses(path: Path) -> None:
    parsed = parse_message(path.read_bytes())
    assert parsed.text.strip() or parsed.attachments


def test_talon_outlook_source_section_is_cut() -> None:
    page = (_dir(*TALON) / "OLK_SRC_BODY_SECTION.html").read_text(encoding="utf-8")
    assert extract_reply("", page) == "Reply"


def _small_real_messages() -> list[bytes]:
    paths = _files("*.eml", *TALON, "standard_replies") + _files("dsn_0*.txt", *FLUFL, "data")
    paths += _files("*.eml", *MAILBOX)
    return [p.read_bytes() for p in paths if p.stat().st_size < 20_000]


REAL = _small_real_messages()


@pytest.mark.skipif(not REAL, reason="no small corpus messages found")
@hsettings(max_examples=200, deadline=None)
@given(
    st.data(),
    st.lists(st.tuples(st.floats(0, 1), st.binary(max_size=12)), min_size=1, max_size=10),
)
def test_mutated_real_messages_never_raise(
    data: st.DataObject, edits: list[tuple[float, bytes]]
) -> None:
    raw = bytearray(data.draw(st.sampled_from(REAL)))
    for where, chunk in edits:
        pos = int(where * (len(raw) - 1))
        if data.draw(st.booleans()):
            raw[pos : pos + len(chunk)] = chunk  # overwrite
        else:
            del raw[pos : pos + len(chunk)]  # cut
    parsed = parse_message(bytes(raw))
    assert isinstance(parsed.reply_text, str)
