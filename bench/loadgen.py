"""A closed-loop HTTP load generator on the standard library (http.client + threads).

Each client is a thread with one keep-alive connection and its own cookie jar; it sends a
request, reads the whole response, records the time, and goes again until its deadline.
It only ever talks to 127.0.0.1.

Forms are read, not assumed: the first GET of a page is parsed to find the form's fields
(names, which are required, the options of selects and radios), and each iteration then
only picks up the fresh CSRF token. The harness keeps working while the views change.
"""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

HOST = "127.0.0.1"
CSRF_TOKEN = re.compile(
    r'<input[^>]*name="csrfmiddlewaretoken"[^>]*value="([^"]+)"'
    r'|<input[^>]*value="([^"]+)"[^>]*name="csrfmiddlewaretoken"'
)


class HttpError(Exception):
    """A response the scenario did not expect; the message says what came back."""


class Client:
    """One keep-alive connection to the server with a minimal cookie jar."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes | None = None,
        headers: dict[str, str] | None = None, *, retry: bool = True,
    ) -> tuple[int, str, bytes]:
        """(status, Location header, body). Reconnects once if the server closed the socket
        (unless `retry` is False: a request that must not be sent twice, as the soak's)."""
        sent = {"Host": f"{HOST}:{self.port}", "User-Agent": "casedesk-bench"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if headers:
            sent.update(headers)
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive socket the server dropped between requests: one retry on a
                # new connection. A second failure is a real error.
                self.conn.close()
                if attempt or not retry:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie, _, _ = value.partition(";")
                key, _, val = cookie.partition("=")
                if val in ('""', ""):
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = val
        if (response.getheader("Connection") or "").lower() == "close":
            self.conn.close()
        return response.status, response.getheader("Location") or "", data

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------- forms


@dataclass
class Field:
    name: str
    kind: str  # input type, "select" or "textarea"
    required: bool = False
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    action: str
    method: str
    enctype: str
    fields: dict[str, Field] = field(default_factory=dict)

    def has_file(self) -> bool:
        return any(f.kind == "file" for f in self.fields.values())


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(
                action=a.get("action", ""), method=a.get("method", "get").lower(),
                enctype=a.get("enctype", "application/x-www-form-urlencoded"),
            ))
            return
        if not self.forms or "name" not in a:
            if tag == "option" and self._select is not None:
                self._select.options.append(a.get("value", ""))
            return
        form = self.forms[-1]
        name, required = a["name"], "required" in a
        if tag == "input":
            kind = a.get("type", "text").lower()
            existing = form.fields.get(name)
            if existing is not None and kind in ("radio", "checkbox"):
                existing.options.append(a.get("value", "on"))
                existing.required = existing.required or required
                return
            form.fields[name] = Field(
                name, kind, required, a.get("value", ""),
                [a.get("value", "on")] if kind in ("radio", "checkbox") else [],
            )
        elif tag == "textarea":
            form.fields[name] = Field(name, "textarea", required)
        elif tag == "select":
            self._select = Field(name, "select", required)
            form.fields[name] = self._select

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def csrf_token(html: str) -> str:
    match = CSRF_TOKEN.search(html)
    if not match:
        raise HttpError("no csrfmiddlewaretoken in the page")
    return match.group(1) or match.group(2)


def main_form(html: str, *, want: Callable[[Form], bool]) -> Form:
    """The POST form of a page that `want` accepts, the one with most fields first."""
    forms = [f for f in parse_forms(html) if f.method == "post" and want(f)]
    if not forms:
        raise HttpError("no matching POST form in the page")
    return max(forms, key=lambda f: len(f.fields))


# ---------------------------------------------------------------- bodies


def urlencoded(values: dict[str, str]) -> tuple[bytes, str]:
    return urllib.parse.urlencode(values).encode(), "application/x-www-form-urlencoded"


def multipart(
    values: dict[str, str], files: list[tuple[str, str, str, bytes]]
) -> tuple[bytes, str]:
    """A multipart/form-data body: values, then (field, filename, content type, bytes)."""
    boundary = f"casedeskbench{random.getrandbits(64):016x}"
    parts: list[bytes] = []
    for name, value in values.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, filename, content_type, data in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        parts.append(data)
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# ---------------------------------------------------------------- runs


@dataclass
class Sample:
    ok: bool
    seconds: float
    post_seconds: float | None = None
    error: str = ""


@dataclass
class RunResult:
    clients: int
    elapsed: float
    samples: list[Sample]

    @property
    def ok(self) -> int:
        return sum(1 for s in self.samples if s.ok)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if not s.ok)

    def first_errors(self, n: int = 3) -> list[str]:
        seen: list[str] = []
        for s in self.samples:
            if not s.ok and s.error not in seen:
                seen.append(s.error)
            if len(seen) == n:
                break
        return seen

    def stats(self) -> dict[str, float | int | None]:
        latencies = sorted(s.seconds for s in self.samples if s.ok)
        posts = sorted(s.post_seconds for s in self.samples if s.ok and s.post_seconds is not None)
        out: dict[str, float | int | None] = {
            "clients": self.clients, "ok": self.ok, "errors": self.errors,
            "seconds": round(self.elapsed, 2),
            "per_s": round(self.ok / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": percentile(latencies, 50), "p90_ms": percentile(latencies, 90),
            "p99_ms": percentile(latencies, 99),
            "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        }
        if posts:
            out["post_p50_ms"] = percentile(posts, 50)
            out["post_p99_ms"] = percentile(posts, 99)
        return out


def percentile(sorted_seconds: list[float], p: float) -> float | None:
    """Nearest-rank percentile in milliseconds (with few samples p99 is close to the max)."""
    if not sorted_seconds:
        return None
    rank = max(1, -(-len(sorted_seconds) * p // 100))  # ceil(n * p / 100)
    return round(sorted_seconds[int(rank) - 1] * 1000, 2)


Iteration = Callable[[Client, int, int], Sample]


def run_closed_loop(
    port: int, clients: int, seconds: float, iteration: Iteration,
    prepare: Callable[[Client, int], None] | None = None,
) -> RunResult:
    """`clients` threads, each looping `iteration(client, index, k)` until the deadline.

    `prepare` runs once per client before the clock starts (sign in, first page).
    A run never outlasts its deadline by more than one request's timeout.
    """
    conns = [Client(port) for _ in range(clients)]
    if prepare is not None:
        for i, c in enumerate(conns):
            prepare(c, i)
    results: list[list[Sample]] = [[] for _ in range(clients)]
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def loop(i: int) -> None:
        start_gate.wait()
        k = 0
        c = conns[i]
        while time.perf_counter() < deadline[0]:
            k += 1
            t0 = time.perf_counter()
            try:
                results[i].append(iteration(c, i, k))
            except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the run
                results[i].append(Sample(False, time.perf_counter() - t0, error=repr(exc)[:300]))
                c.close()

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    t_start = time.perf_counter()
    deadline[0] = t_start + seconds
    start_gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t_start
    for c in conns:
        c.close()
    return RunResult(clients, elapsed, [s for rs in results for s in rs])


# ---------------------------------------------------------------- scenarios


SUBJECTS = [
    "Safe search not enforced on {n} subscriber lines",
    "DNS filtering returns SERVFAIL for {n} domains",
    "Reports dashboard times out after the {n}th page",
    "RADIUS accounting drops sessions for {n} users",
    "Licence count shows {n} more subscribers than we have",
    "Parental profile ignores schedule for {n} accounts",
]
DESCRIPTION = (
    "Since this morning's change window our subscribers on the {where} cluster see the "
    "block page for sites that are allowed in their profile. We checked the category "
    "list and the allow-list; both look right. Steps: sign in as a test subscriber, open "
    "any news site, the block page appears after about two seconds. Case reference from "
    "our side: {ref}. Please call our NOC if you need access."
)


@dataclass
class SubmitPlan:
    """What to type into the portal's form, worked out once from the first GET."""

    form: Form
    path: str
    email_domains: list[str]
    attachment: bytes | None

    def values(self, rng: random.Random, client: int, k: int) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self.form.fields.values():
            name = f.name.lower()
            if f.kind in ("hidden", "submit", "button", "file", "reset", "image"):
                continue
            known = any(w in name for w in ("email", "name", "subject", "description",
                                            "priority", "category", "body", "message"))
            if not (f.required or known) or "org" in name or "phone" in name:
                continue
            if f.kind == "email" or "email" in name:
                domain = self.email_domains[(client * 7919 + k) % len(self.email_domains)]
                out[f.name] = f"bench.c{client}.n{k}.{rng.getrandbits(24):06x}@{domain}"
            elif f.kind in ("select", "radio"):
                choices = [o for o in f.options if o]
                if choices:
                    out[f.name] = rng.choice(choices)
            elif f.kind == "checkbox":
                out[f.name] = f.options[0] if f.options else "on"
            elif f.kind == "textarea" or "description" in name or "body" in name:
                out[f.name] = DESCRIPTION.format(
                    where=rng.choice(["Dubai", "Cairo", "Riyadh", "Casablanca"]),
                    ref=f"NOC-{client}-{k}",
                )
            elif "subject" in name:
                out[f.name] = rng.choice(SUBJECTS).format(n=rng.randint(2, 900))
            elif "name" in name:
                out[f.name] = f"Bench Client {client}-{k}"
            else:
                out[f.name] = "bench"
        return out

    def file_field(self) -> str | None:
        for f in self.form.fields.values():
            if f.kind == "file":
                return f.name
        return None


def plan_submission(
    port: int, path: str, email_domains: list[str], attachment: bytes | None
) -> SubmitPlan:
    c = Client(port)
    try:
        status, _, body = c.request("GET", path)
        if status != 200:
            raise HttpError(f"GET {path} answered {status}: {body[:120]!r}")
        form = main_form(body.decode("utf-8", "replace"),
                         want=lambda f: "csrfmiddlewaretoken" in f.fields)
    finally:
        c.close()
    plan = SubmitPlan(form, path, email_domains, attachment)
    if attachment is not None and plan.file_field() is None:
        raise HttpError(f"the form at {path} has no file input")
    return plan


def submit_iteration(plan: SubmitPlan) -> Iteration:
    """GET the form, then POST it; success is a redirect to the confirmation page."""
    file_field = plan.file_field()
    post_path = plan.form.action or plan.path
    if not post_path.startswith("/"):
        post_path = plan.path
    rngs: dict[int, random.Random] = {}

    def iteration(c: Client, i: int, k: int) -> Sample:
        rng = rngs.setdefault(i, random.Random(9000 + i))
        t0 = time.perf_counter()
        status, _, body = c.request("GET", plan.path)
        if status != 200:
            return Sample(False, time.perf_counter() - t0, error=f"GET {status}")
        values = plan.values(rng, i, k)
        values["csrfmiddlewaretoken"] = csrf_token(body.decode("utf-8", "replace"))
        files = []
        if plan.attachment is not None and file_field:
            files.append((file_field, f"screenshot-{i}-{k}.png", "image/png", plan.attachment))
        data, content_type = multipart(values, files)
        t1 = time.perf_counter()
        status, location, body = c.request("POST", post_path, data, {
            "Content-Type": content_type,
            "Referer": f"http://{HOST}:{c.port}{plan.path}",
        })
        t2 = time.perf_counter()
        ok = status in (302, 303) and "/submitted/" in location
        error = "" if ok else f"POST {status} {location or body[:160]!r}"
        return Sample(ok, t2 - t0, t2 - t1, error)

    return iteration


def sign_in(c: Client, path: str, email: str, password: str) -> None:
    """Sign the client in through the real form (CSRF included); raises if it fails."""
    status, _, body = c.request("GET", path)
    if status != 200:
        raise HttpError(f"GET {path} answered {status}: {body[:120]!r}")
    html = body.decode("utf-8", "replace")
    form = main_form(html, want=lambda f: any(x.kind == "password" for x in f.fields.values()))
    values = {f.name: f.value for f in form.fields.values() if f.kind == "hidden"}
    for f in form.fields.values():
        if f.kind == "password":
            values[f.name] = password
        elif f.kind in ("email", "text") and f.name not in values:
            values[f.name] = email
    values["csrfmiddlewaretoken"] = csrf_token(html)
    data, content_type = urlencoded(values)
    status, location, body = c.request("POST", form.action or path, data, {
        "Content-Type": content_type, "Referer": f"http://{HOST}:{c.port}{path}",
    })
    if status not in (302, 303) or "sessionid" not in c.cookies:
        raise HttpError(f"sign-in failed: POST {status} {location or body[:200]!r}")


def get_iteration(path: str) -> Iteration:
    def iteration(c: Client, i: int, k: int) -> Sample:
        t0 = time.perf_counter()
        status, location, body = c.request("GET", path)
        dt = time.perf_counter() - t0
        if status != 200:
            return Sample(False, dt, error=f"GET {path} {status} {location or body[:120]!r}")
        return Sample(True, dt)

    return iteration
