"""Reply-extraction hit rate on the public corpora (issue 4, point 8).

    python bench/reply_hit_rate.py [CORPORA_DIR] [-v]

CORPORA_DIR defaults to $CASEDESK_CORPORA, else /work/corpora (fetched with
`bash ../shared/corpora/fetch.sh DIR`). Measures casedesk.mail.reply.extract_reply on:

* talon standard_replies/*.eml: the expected reply is "Hello", or the
  `*_reply_text` file beside it (which keeps the signature; our extraction cuts
  signatures, so the file's text with its signature cut also counts);
* talon html_replies/*.html: "Hi. I am fine. Thanks, Alex", compared without whitespace;
  talon's two other HTML fixtures (OLK_SRC_BODY_SECTION.html: "Reply",
  reply-separated-by-hr.html: "Hi there", where talon also drops the "Bob" typed
  above the separator, which we keep);
* roundup's test_mailsplit.py cases that strip quotes and signature
  (parseContent(s, 0, 0)), read from that file.

When the libraries we evaluated are installed (mail-parser-reply,
email-reply-parser, quotequail), their scores on the plain-text set are printed too.
"""

from __future__ import annotations

import ast
import email
import email.policy
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casedesk.mail.reply import _strip_signature, extract_reply  # noqa: E402

WS = re.compile(r"\s+")
HTML_EXPECTED = WS.sub("", "Hi. I am fine.\n\nThanks,\nAlex")


def corpora_dir(argv: list[str]) -> Path | None:
    args = [a for a in argv if not a.startswith("-")]
    path = Path(args[0]) if args else Path(os.environ.get("CASEDESK_CORPORA", "/work/corpora"))
    return path if path.is_dir() else None


def talon_fixtures(root: Path) -> Path:
    return root / "talon" / "talon-1.4.4" / "tests" / "fixtures"


def standard_cases(root: Path) -> list[tuple[str, str, set[str]]]:
    folder = talon_fixtures(root) / "standard_replies"
    cases = []
    for path in sorted(folder.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = msg.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        expected = {"Hello"}
        reply_file = path.with_name(path.stem + "_reply_text")
        if reply_file.exists():
            full = reply_file.read_text().strip()
            expected.add(full)
            expected.add("\n".join(_strip_signature(full.split("\n"))).strip())
        cases.append((path.name, text, expected))
    return cases


def html_cases(root: Path) -> list[tuple[str, str]]:
    folder = talon_fixtures(root) / "html_replies"
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.html"))]


def other_html_cases(root: Path) -> list[tuple[str, str, str]]:
    folder = talon_fixtures(root)
    cases = [("OLK_SRC_BODY_SECTION.html", "Reply"), ("reply-separated-by-hr.html", "Hithere")]
    return [
        (name, (folder / name).read_text(encoding="utf-8"), expected)
        for name, expected in cases
        if (folder / name).exists()
    ]


def roundup_cases(root: Path) -> list[tuple[str, str, set[str]]]:
    """(test name, input, {expected}) for roundup's parseContent(s, 0, 0) cases."""
    path = root / "roundup" / "roundup-2.6.0" / "test" / "test_mailsplit.py"
    if not path.exists():
        return []
    cases = []
    for func in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(func, ast.FunctionDef) or not func.name.startswith("test"):
            continue
        given, plain = None, False
        for stmt in func.body:
            if isinstance(stmt, ast.Assign) and getattr(stmt.targets[0], "id", "") == "s":
                try:
                    given = ast.literal_eval(stmt.value)
                except ValueError:
                    given = None
            elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                args = stmt.value.args
                plain = len(args) == 3 and all(
                    isinstance(a, ast.Constant) and a.value == 0 for a in args[1:]
                )
            elif (
                isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Call)
                and getattr(stmt.value.func, "attr", "") == "assertEqual"
                and getattr(stmt.value.args[0], "id", "") == "content"
                and plain
                and isinstance(given, str)
            ):
                try:
                    expected = ast.literal_eval(stmt.value.args[1])
                except ValueError:
                    continue
                cases.append((func.name, given, {expected.strip()}))
    return cases


def score_text(
    name: str, fn: Callable[[str], str], cases: list[tuple[str, str, set[str]]], verbose: bool
) -> tuple[int, int]:
    hits = 0
    for fname, text, expected in cases:
        try:
            out = (fn(text) or "").strip()
        except Exception as exc:  # a library crashing is a miss
            out = f"<error {exc!r}>"
        ok = out in expected
        hits += ok
        if verbose and not ok:
            print(f"  miss {name} {fname}: {out[:160]!r}")
    return hits, len(cases)


def score_html(cases: list[tuple[str, str]], verbose: bool) -> tuple[int, int]:
    hits = 0
    for fname, html in cases:
        out = WS.sub("", extract_reply("", html))
        ok = out == HTML_EXPECTED
        hits += ok
        if verbose and not ok:
            print(f"  miss html {fname}: {out[:160]!r}")
    return hits, len(cases)


def candidates() -> list[tuple[str, Callable[[str], str]]]:
    found: list[tuple[str, Callable[[str], str]]] = []
    try:
        from mailparser_reply import EmailReplyParser

        found.append(
            ("mail-parser-reply", lambda t: EmailReplyParser(languages=["en"]).parse_reply(t))
        )
    except ImportError:
        pass
    try:
        from email_reply_parser import EmailReplyParser as Erp

        found.append(("email-reply-parser", Erp.parse_reply))
    except ImportError:
        pass
    try:
        import quotequail

        def unwrap(text: str) -> str:
            result = quotequail.unwrap(text)
            return result.get("text_top", text) if result else text

        found.append(("quotequail.unwrap", unwrap))
    except ImportError:
        pass
    return found


def main(argv: list[str]) -> int:
    root = corpora_dir(argv)
    verbose = "-v" in argv
    if root is None or not talon_fixtures(root).is_dir():
        print("corpora not found: pass a folder or set CASEDESK_CORPORA", file=sys.stderr)
        return 2
    std = standard_cases(root)
    html = html_cases(root)
    h1, n1 = score_text("casedesk", extract_reply, std, verbose)
    h2, n2 = score_html(html, verbose)
    others = other_html_cases(root)
    h3 = 0
    for fname, page, expected in others:
        out = WS.sub("", extract_reply("", page))
        h3 += out == expected
        if verbose and out != expected:
            print(f"  miss html {fname}: {out[:160]!r}")
    rcases = roundup_cases(root)
    h4, n4 = score_text("casedesk", extract_reply, rcases, verbose) if rcases else (0, 0)
    print(f"casedesk talon standard_replies (plain text): {h1}/{n1} = {100 * h1 / n1:.0f}%")
    print(f"casedesk talon html_replies (HTML only):      {h2}/{n2} = {100 * h2 / n2:.0f}%")
    print(f"casedesk talon other HTML fixtures:           {h3}/{len(others)}")
    print(f"casedesk roundup test_mailsplit cases:        {h4}/{n4}")
    hits, total = h1 + h2 + h3 + h4, n1 + n2 + len(others) + n4
    print(f"casedesk overall:                     {hits}/{total} = {100 * hits // total}%")
    for name, fn in candidates():
        h, n = score_text(name, fn, std, verbose)
        hr, nr = score_text(name, fn, rcases, verbose) if rcases else (0, 0)
        print(f"{name}: talon standard_replies {h}/{n}, roundup cases {hr}/{nr}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
