"""`casedesk bench-seed`: a realistic desk of any size, written at bulk-load speed.

What it writes (into an empty database, after `casedesk migrate`):

* 2,000 partner organizations (70% on Standard, 30% on Premium) with an email domain and a
  time zone each, 5 contacts each (a fifth with Arabic names), 200 agents spread over the
  escalation levels' teams;
* `cases` cases over three years, Case IDs rising with time, the status mix of a working
  desk (about 8% new, open, waiting on the customer or on hold, the rest resolved or
  closed, recent cases far more often open), priorities, channels, assignees, categories;
* about 5 messages per case (the requester's description, agent replies, customer
  follow-ups, internal notes; some long), a fifth of the cases written in Arabic with the
  spellings people really type (hamza and alef forms, taa marbuta and ha, alef maqsura and
  ya, diacritics, tatweel), a rare word planted in a few messages for search benchmarks;
* each case's first-response SLA clock consistent with its thread and status (met, met
  late, breached, running, or paused while waiting on the customer), escalations up the
  levels for some cases, and the events all of this would have written.

How it is fast: rows are generated in Python from pre-built text pools with one seeded
PRNG and written per batch of cases, by executemany on SQLite (journal in memory,
synchronous off, foreign keys off for the load, all restored afterwards) and by COPY on
PostgreSQL (foreign-key triggers off for the session: the rows are consistent by
construction). Secondary indexes are dropped before the load and rebuilt once after it
(sorting once beats updating a B-tree per row), then ANALYZE.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

AGENT_PASSWORD = "bench-agent-password-2024"  # noqa: S105 - a throwaway benchmark account
AGENT_EMAIL = "agent1@support.bench.example"
RARE_WORD = "zirconium"
COMMON_WORD = "subscribers"
ARABIC_WORD = "المشتركين"
DETAIL_MESSAGES = 50
BATCH = 20_000
YEAR = 365 * 86400

# ------------------------------------------------------------------ English text

PRODUCTS = ["DNS filter", "safe search", "parental profiles", "RADIUS feed", "block page",
            "reports dashboard", "subscriber API", "category database", "licence portal",
            "provisioning script", "allow-list", "mobile app", "router agent", "SSO login",
            "billing export", "captive portal", "DHCP relay", "threat feed"]
PROBLEMS = ["returns errors for", "is slow for", "ignores the settings of",
            "shows the wrong data for", "stopped working for", "times out for",
            "blocks allowed sites for", "lost the configuration of", "crashes for",
            "sends duplicate alerts to"]
WHO = ["some subscribers", "all business subscribers", "one test account", "our NOC team",
       "the Cairo cluster", "new subscribers", "subscribers on fibre", "a reseller",
       "the Riyadh office", "prepaid subscribers", "the hospital network", "our call centre"]
DETAILS = ["It started after the maintenance window last night.",
           "We see HTTP 502 in the logs about once a minute.",
           "Restarting the service did not help.",
           "The problem is intermittent and hard to reproduce.",
           "Our monitoring shows latency above 3 seconds.",
           "Only subscribers with a custom profile are affected.",
           "We attached the output of the diagnostics tool.",
           "Please treat this as urgent: the regulator audits us this week.",
           "Nothing changed on our side since the last release.",
           "About 300 subscribers called our hotline this morning.",
           "The error appears in Chrome and in Safari alike.",
           "Our engineer can join a call any time after 14:00 GST."]
REPLIES = ["Thank you, we are looking into it and will update you within the hour.",
           "We found a configuration mismatch on our side and corrected it. Please check.",
           "Could you send us the subscriber IDs and a timestamp of one failure?",
           "A fix has been deployed to your cluster. Can you confirm it works now?",
           "We escalated this to our engineering team; the next update follows today.",
           "The logs show the resolver pool was saturated; we added capacity.",
           "We could not reproduce this yet. Does it still happen?"]
CUSTOMER = ["Still happening for a third of our subscribers.",
            "Thanks, that fixed it for most users; two still report the problem.",
            "Here are the IDs you asked for: 55102, 55187 and 56020.",
            "Confirmed, it works now. You can close the case.",
            "Any update? Our customers keep calling.",
            "We tried that, same error."]
NOTES = ["Same pattern as the incident last month; checked the resolver pool.",
         "Customer on Premium: keep the first-response clock in mind.",
         "Asked engineering to look at the cache eviction logs.",
         "Reproduced on staging with the customer's profile export.",
         "Waiting for the vendor's answer on the licence key."]
LOG_LINES = ["2024-05-12T08:14:03Z resolver[2231]: upstream timeout after 3000 ms",
             "2024-05-12T08:14:04Z filterd[118]: policy reload failed: profile 8812",
             "2024-05-12T08:14:09Z radius-feed[77]: accounting stop without start",
             "2024-05-12T08:15:40Z blockpage[402]: 502 from backend pool b2"]
FIRST = ["Amira", "Omar", "Layla", "Youssef", "Nour", "Karim", "Sara", "Hassan", "Mona",
         "Tariq", "Dina", "Ali", "Rania", "Samir", "Hana", "Fares", "Lina", "Ziad", "James",
         "Emma", "Priya", "Chen"]
LAST = ["Haddad", "Mansour", "Khalil", "Nasser", "Saleh", "Farouk", "Aziz", "Rahman",
        "Jaber", "Kassem", "Darwish", "Qasim", "Walker", "Moreau", "Sharma"]
ORG_WORDS = ["Nile", "Atlas", "Gulf", "Levant", "Sahara", "Oasis", "Falcon", "Cedar",
             "Delta", "Horizon", "Crescent", "Pearl", "Medina", "Corniche", "Zagros"]
ORG_KINDS = ["Telecom", "Networks", "Broadband", "Mobile", "Fibre", "Online", "Data",
             "Connect", "Net"]
ZONES = ["Asia/Dubai", "Africa/Cairo", "Asia/Riyadh", "Asia/Amman", "Africa/Casablanca",
         "Asia/Qatar", "Europe/London", "UTC"]

# ------------------------------------------------------------------ Arabic text
# Written in the standard spelling; `arabic_variant` then types them the ways people do.

AR_SUBJECTS = ["مشكلة في تسجيل الدخول إلى بوابة العملاء",
               "انقطاع خدمة الإنترنت لدى بعض المشتركين",
               "بطء شديد في لوحة التقارير",
               "خطأ عند إنشاء مستخدم جديد",
               "فلتر المحتوى يحجب مواقع مسموح بها",
               "طلب تجديد الترخيص السنوي",
               "الفاتورة الأخيرة تحتوي على مبلغ خاطئ",
               "تطبيق الهاتف لا يعرض الإشعارات",
               "استفسار عن إعدادات البحث الآمن",
               "فشل المزامنة مع خادم المصادقة",
               "المستشفى لا يستطيع الوصول إلى الشبكة",
               "إضافة نطاق جديد إلى القائمة المسموح بها"]
AR_SENTENCES = ["نواجه هذه المشكلة منذ صباح أمس بعد أعمال الصيانة.",
                "جربنا إعادة تشغيل الخادم لكن المشكلة ما زالت قائمة.",
                "يظهر للمستخدمين خطأ 502 عند فتح الصفحة الرئيسية.",
                "المشكلة تؤثر على أكثر من مئة من المشتركين في القاهرة والإسكندرية.",
                "أرفقنا لقطة شاشة توضح رسالة الخطأ.",
                "نرجو إفادتنا بموعد الحل المتوقع لأن الجهة الرقابية ستراجع الخدمة هذا الأسبوع.",
                "لم نغير أي إعدادات على الشبكة خلال الفترة الأخيرة.",
                "هل يمكن رفع أولوية الطلب إلى عاجلة؟",
                "تم تفعيل الحساب ولكن كلمة المرور لا تعمل.",
                "نلاحظ تأخيرا في الاستجابة يصل إلى ثلاث ثوان.",
                "يرجى التواصل مع مدير الشبكة على الرقم المرفق.",
                "المستشفى الجامعي يعتمد على هذه الخدمة على مدار الساعة.",
                "قامت الإدارة بتحديث قائمة المواقع المسموح بها.",
                "المشتركين في الباقة المنزلية لا يستطيعون فتح البريد الإلكتروني."]
AR_REPLIES = ["شكرا لتواصلكم، نعمل على فحص المشكلة وسنوافيكم بالتحديث خلال ساعة.",
              "وجدنا خطأ في الإعدادات من جهتنا وتم تصحيحه، يرجى التأكد.",
              "هل يمكنكم إرسال أرقام المشتركين المتأثرين ووقت حدوث المشكلة؟",
              "تم نشر إصلاح على الخادم الخاص بكم، هل تعمل الخدمة الآن؟",
              "تم تصعيد الحالة إلى فريق الهندسة وسنعود إليكم اليوم."]
AR_CUSTOMER = ["المشكلة ما زالت موجودة لدى ثلث المشتركين.",
               "شكرا، تم حل المشكلة ويمكنكم إغلاق الطلب.",
               "هل من جديد؟ العملاء يتصلون بنا باستمرار.",
               "جربنا ذلك وظهر نفس الخطأ."]
AR_NOTES = ["نفس نمط الحادثة السابقة، تم فحص مجموعة الخوادم.",
            "العميل على الباقة المميزة، انتبه لموعد الرد الأول.",
            "طلبنا من فريق الهندسة مراجعة سجلات الذاكرة المؤقتة."]
AR_FIRST = ["أحمد", "محمد", "فاطمة", "عائشة", "يوسف", "مريم", "خالد", "ليلى", "عمر", "نور",
            "إبراهيم", "آمنة", "سلمى", "هدى"]
AR_LAST = ["الحداد", "المنصور", "خليل", "الناصر", "صالح", "عبد الرحمن", "الأحمد", "القاسم"]

DIACRITICS = "\u064e\u064f\u0650\u0652\u0651"  # fatha, damma, kasra, sukun, shadda
TATWEEL = "\u0640"


def arabic_variant(text: str, rng: random.Random) -> str:
    """The text as people type it: bare alef for hamza forms, ha for taa marbuta, ya and
    alef maqsura swapped, some diacritics, a stretched word. Search must see through it."""
    words = text.split(" ")
    bare_alef = rng.random() < 0.5
    out = []
    for word in words:
        if bare_alef:
            word = word.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
        if word.endswith("ة") and rng.random() < 0.3:
            word = word[:-1] + "ه"
        elif word.endswith("ى") and rng.random() < 0.3:
            word = word[:-1] + "ي"
        elif word.endswith("ي") and rng.random() < 0.1:
            word = word[:-1] + "ى"
        if len(word) > 3 and rng.random() < 0.08:
            chars = list(word)
            for i in range(len(chars) - 1, 0, -1):
                if rng.random() < 0.5:
                    chars.insert(i, rng.choice(DIACRITICS))
            word = "".join(chars)
        elif len(word) > 3 and rng.random() < 0.03:
            middle = len(word) // 2
            word = word[:middle] + TATWEEL * rng.randint(1, 3) + word[middle:]
        out.append(word)
    return " ".join(out)


class Pools:
    """Pre-built texts: the per-row loop only picks from lists."""

    def __init__(self, rng: random.Random) -> None:
        self.en_subjects = [
            f"{rng.choice(PRODUCTS).capitalize()} {rng.choice(PROBLEMS)} {rng.choice(WHO)}"
            for _ in range(4000)
        ]
        self.ar_subjects = [arabic_variant(rng.choice(AR_SUBJECTS), rng) for _ in range(1500)]
        self.en_descriptions = [self._en_description(rng) for _ in range(6000)]
        self.ar_descriptions = [
            arabic_variant(" ".join(rng.sample(AR_SENTENCES, rng.randint(2, 4))), rng)
            for _ in range(3000)
        ]
        self.en_long = [self._en_long(rng) for _ in range(400)]
        self.ar_long = [
            "\n\n".join(arabic_variant(" ".join(rng.sample(AR_SENTENCES, 6)), rng)
                        for _ in range(rng.randint(4, 8)))
            for _ in range(200)
        ]
        self.en_replies = [self._en_pick(rng, REPLIES, 1, 2) for _ in range(600)]
        self.ar_replies = [arabic_variant(rng.choice(AR_REPLIES), rng) for _ in range(400)]
        self.en_customer = [self._en_pick(rng, CUSTOMER, 1, 2) for _ in range(400)]
        self.ar_customer = [arabic_variant(rng.choice(AR_CUSTOMER), rng) for _ in range(300)]
        self.en_notes = NOTES
        self.ar_notes = [arabic_variant(rng.choice(AR_NOTES), rng) for _ in range(100)]

    @staticmethod
    def _en_pick(rng: random.Random, pool: list[str], low: int, high: int) -> str:
        return " ".join(rng.sample(pool, rng.randint(low, high)))

    @staticmethod
    def _en_description(rng: random.Random) -> str:
        return "\n\n".join(
            f"The {rng.choice(PRODUCTS)} {rng.choice(PROBLEMS)} {rng.choice(WHO)}. "
            + " ".join(rng.sample(DETAILS, 2))
            for _ in range(rng.randint(1, 3))
        )

    @staticmethod
    def _en_long(rng: random.Random) -> str:
        parts = [Pools._en_description(rng) for _ in range(rng.randint(3, 6))]
        parts.append("Log excerpt:\n" + "\n".join(rng.choice(LOG_LINES) for _ in range(12)))
        return "\n\n".join(parts)


# ------------------------------------------------------------------ writing rows


class Table:
    """Rows of one model, written by executemany (SQLite) or COPY (PostgreSQL).

    NOT NULL columns the seed does not name get their model default, so the seed keeps
    working as models gain fields.
    """

    def __init__(self, model: Any, fields: list[str]) -> None:
        from django.db import connection

        meta = model._meta
        qn = connection.ops.quote_name
        self.model = model
        self.extra: tuple[Any, ...] = ()
        names = list(fields)
        for field in meta.concrete_fields:
            if field.name in fields or field.null or field.primary_key:
                continue
            default = field.get_default()
            if default is None:
                continue
            names.append(field.name)
            self.extra += (field.get_db_prep_save(default, connection),)
        columns = ", ".join(qn(meta.get_field(f).column) for f in names)
        marks = ", ".join(["%s"] * len(names))
        self.table = meta.db_table
        self.sql = f"INSERT INTO {qn(self.table)} ({columns}) VALUES ({marks})"  # noqa: S608
        self.copy_sql = f"COPY {qn(self.table)} ({columns}) FROM STDIN"
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    def add(self, *values: Any) -> None:
        self.rows.append(values + self.extra)

    def flush(self, cursor: Any, vendor: str) -> None:
        if not self.rows:
            return
        if vendor == "postgresql":
            with cursor.cursor.copy(self.copy_sql) as copy:
                for row in self.rows:
                    copy.write_row(row)
        else:
            cursor.executemany(self.sql, self.rows)
        self.written += len(self.rows)
        self.rows = []


def _weights(pairs: Sequence[tuple[Any, float]]) -> tuple[list[Any], list[float]]:
    """Values and their cumulative weights, for a bisect-free pick by one random()."""
    total = sum(w for _, w in pairs)
    acc, cum = 0.0, []
    for _, w in pairs:
        acc += w / total
        cum.append(acc)
    cum[-1] = 1.0
    return [v for v, _ in pairs], cum


def _picker(pairs: Sequence[tuple[Any, float]], rnd: Callable[[], float]) -> Callable[[], Any]:
    values, cum = _weights(pairs)

    def pick() -> Any:
        r = rnd()
        for value, edge in zip(values, cum, strict=True):
            if r < edge:
                return value
        return values[-1]

    return pick


PRIORITIES = [(1, 8), (2, 27), (3, 45), (4, 20)]
CHANNELS = [("portal", 52), ("email", 36), ("phone", 8), ("api", 4)]
MESSAGE_COUNTS = [(2, 8), (3, 18), (4, 20), (5, 16), (6, 13), (7, 11), (8, 7), (9, 4),
                  (10, 3)]
# Status of a case still being worked on, by its age: fresh cases are mostly new or open,
# old ones that are still around mostly wait on the customer or are on hold.
ACTIVE_RECENT = [("new", 25), ("open", 45), ("pending", 20), ("on_hold", 10)]
ACTIVE_OLD = [("new", 2), ("open", 40), ("pending", 30), ("on_hold", 28)]
ESCALATION_SOURCES = [("agent", 45), ("portal", 25), ("phone", 15), ("sla", 15)]
REASONS = {
    "agent": "Needs a senior engineer: the fix touches the customer's core network.",
    "portal": "Customer asked to escalate from the portal: no update for two days.",
    "phone": "Customer's NOC called: outage affects all business subscribers.",
    "sla": "SLA target missed.",
}


def _active_share(age_days: float) -> float:
    """The chance that a case this old is still being worked on; ~8% over three years."""
    if age_days < 7:
        return 0.6
    if age_days < 30:
        return 0.3
    if age_days < 90:
        return 0.1
    return 0.07


class Seeder:
    def __init__(self, cases: int, messages_per_case: float, rng_seed: int,
                 organizations: int, agents: int, contacts_per_org: int,
                 progress: Callable[[str], None]) -> None:
        from django.db import connection

        self.cases = cases
        self.messages_per_case = messages_per_case
        self.rng = random.Random(rng_seed)  # noqa: S311 - test data, not secrets
        self.n_orgs = organizations
        self.n_agents = agents
        self.contacts_per_org = contacts_per_org
        self.progress = progress
        self.vendor = connection.vendor
        self.phases: dict[str, float] = {}
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.now_ts = self.now.timestamp()
        if self.vendor == "postgresql":
            def when(ts: float) -> str:
                return f"{datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)}+00"
        else:
            # What Django's SQLite backend stores: naive UTC text.
            def when(ts: float) -> str:
                return str(datetime.fromtimestamp(ts, UTC).replace(tzinfo=None))
        self.when = when

    def phase(self, name: str, started: float) -> None:
        took = time.perf_counter() - started
        self.phases[name] = round(took, 1)
        self.progress(f"{name}: {took:.1f} s")

    # -------------------------------------------------------------- run

    def run(self) -> dict[str, Any]:
        from django.db import connection

        from casedesk.tickets.models import Ticket

        if Ticket.objects.exists():
            raise SeedError(
                f"This database already has {Ticket.objects.count():,} cases: bench-seed "
                "fills an empty database only. Point CASEDESK_DATA_DIR or "
                "CASEDESK_DATABASE_URL at a fresh one and run `casedesk migrate` first."
            )
        t0 = time.perf_counter()
        self.people()
        self.phase("organizations, contacts, agents", t0)
        t1 = time.perf_counter()
        dropped = self.drop_indexes()
        self.bulk_session(True)
        try:
            self.phase("drop secondary indexes", t1)
            t2 = time.perf_counter()
            counts = self.cases_and_threads()
            self.phase("cases, messages, events, clocks, escalations", t2)
        finally:
            self.bulk_session(False)
            t3 = time.perf_counter()
            self.restore_indexes(dropped)
            self.phase("rebuild indexes", t3)
        t4 = time.perf_counter()
        with connection.cursor() as cursor:
            # On PostgreSQL also VACUUM: it marks the freshly loaded pages all-visible, as
            # autovacuum does on a live desk, so reports count from covering indexes alone
            # (index-only scans) instead of reading millions of rows to check visibility.
            cursor.execute("VACUUM ANALYZE" if self.vendor == "postgresql" else "ANALYZE")
        self.phase("analyze", t4)
        search = self.rebuild_search()
        summary = {
            "vendor": self.vendor, **counts,
            "organizations": self.n_orgs, "contacts": len(self.contacts),
            "agents": self.n_agents, "agent_email": AGENT_EMAIL,
            "agent_password": AGENT_PASSWORD, "detail_case": self.detail_id,
            "detail_messages": DETAIL_MESSAGES, "rare_word": RARE_WORD,
            "rare_messages": self.rare_count, "common_word": COMMON_WORD,
            "arabic_word": ARABIC_WORD, "arabic_cases": self.arabic_cases,
            "active_cases": self.active_cases, "search_index": search,
            "organization_ids": self.org_ids[:50], "phases_s": self.phases,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        return summary

    def rebuild_search(self) -> str:
        try:
            from casedesk.search import index  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            self.progress("search index: not available (no casedesk.search.index)")
            return "not available"
        t = time.perf_counter()
        index.rebuild()
        self.phase("search index rebuild", t)
        return "rebuilt"

    # -------------------------------------------------------------- people

    def people(self) -> None:
        from django.contrib.auth.hashers import make_password
        from django.db import transaction

        from casedesk.accounts.models import Organization, User
        from casedesk.escalation.models import Level
        from casedesk.sla.models import Plan
        from casedesk.tickets.models import Category

        rng = self.rng
        plans = {p.name: p for p in Plan.objects.prefetch_related("targets")}
        if not plans:
            raise SeedError("No support plans: run `casedesk migrate` first.")
        standard = plans.get("Standard") or next(iter(plans.values()))
        premium = plans.get("Premium") or standard
        self.targets = {
            (p.pk, t.priority): t.first_response_minutes * 60
            for p in plans.values() for t in p.targets.all()
        }
        self.warn = {p.pk: p.warn_percent for p in plans.values()}
        self.categories = [*Category.objects.values_list("pk", flat=True), None]
        self.levels = list(Level.objects.order_by("number").values_list("number", flat=True))
        password = make_password(AGENT_PASSWORD)
        unusable = make_password(None)
        created = self.now - timedelta(days=3 * 365 + 30)
        with transaction.atomic():
            orgs = Organization.objects.bulk_create([
                Organization(
                    name=f"{ORG_WORDS[n % len(ORG_WORDS)]} "
                         f"{ORG_KINDS[(n // len(ORG_WORDS)) % len(ORG_KINDS)]} {n:04d}",
                    plan=premium if rng.random() < 0.3 else standard,
                    email_domains=f"partner{n:04d}.bench.example",
                    time_zone=rng.choice(ZONES), created_at=created,
                )
                for n in range(1, self.n_orgs + 1)
            ], batch_size=500)
            agents = User.objects.bulk_create([
                User(
                    email=f"agent{n}@support.bench.example", password=password,
                    full_name=(f"{rng.choice(AR_FIRST)} {rng.choice(AR_LAST)}" if n % 5 == 0
                               else f"{FIRST[n % len(FIRST)]} {LAST[(n * 7) % len(LAST)]}"),
                    role=User.Role.AGENT, is_staff=n == 1, is_superuser=n == 1,
                    date_joined=created,
                )
                for n in range(1, self.n_agents + 1)
            ], batch_size=500)
            contacts = User.objects.bulk_create([
                User(
                    email=f"contact{k}@{org.email_domains}", password=unusable,
                    full_name=(f"{rng.choice(AR_FIRST)} {rng.choice(AR_LAST)}"
                               if rng.random() < 0.2
                               else f"{rng.choice(FIRST)} {rng.choice(LAST)}"),
                    role=User.Role.CONTACT, organization=org,
                    phone=f"+971 4 {org.pk % 1000:03d} {k:04d}", date_joined=created,
                )
                for org in orgs for k in range(1, self.contacts_per_org + 1)
            ], batch_size=1000)
            # The escalation teams: most agents at level 1, fewer at each level above.
            through = Level.team.through
            level_ids = dict(Level.objects.values_list("number", "pk"))
            shares = {1: 0.7, 2: 0.18, 3: 0.08, 4: 0.04}
            self.team: dict[int, list[int]] = {}
            members = []
            start = 0
            for number in self.levels:
                size = max(1, round(self.n_agents * shares.get(number, 0.04)))
                ids = [a.pk for a in agents[start:start + size]] or [agents[-1].pk]
                start += size
                self.team[number] = ids
                members += [through(level_id=level_ids[number], user_id=i) for i in ids]
            through.objects.bulk_create(members)
        plan_of: dict[int | None, int] = {o.pk: o.plan_id for o in orgs}  # type: ignore[misc]
        self.org_ids = [o.pk for o in orgs]
        self.agent_ids = [a.pk for a in agents]
        self.contacts: list[tuple[int, int | None, int, str]] = [
            (c.pk, c.organization_id, plan_of[c.organization_id], c.phone) for c in contacts
        ]

    # -------------------------------------------------------------- indexes

    TABLES = ("tickets_ticket", "tickets_message", "tickets_event", "sla_clock",
              "escalation_escalation")

    def drop_indexes(self) -> list[str]:
        """Drop the bulk tables' secondary indexes; returns the SQL that recreates them."""
        from django.db import connection

        tables = self.TABLES
        with connection.cursor() as cursor:
            if self.vendor == "sqlite":
                marks = ", ".join(["%s"] * len(tables))
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT "  # noqa: S608
                    f"NULL AND tbl_name IN ({marks})", tables,
                )
            else:
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = "
                    "current_schema() AND tablename = ANY(%s) AND indexname NOT IN "
                    "(SELECT conname FROM pg_constraint)", [list(tables)],
                )
            found = cursor.fetchall()
            for name, _sql in found:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        return [sql for _name, sql in found]

    def restore_indexes(self, statements: list[str]) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute("SET maintenance_work_mem = '512MB'")
            for sql in statements:
                cursor.execute(sql)

    def bulk_session(self, on: bool) -> None:
        """Session settings for the load (on) and back to the project's (off)."""
        from django.db import connection

        with connection.cursor() as cursor:
            if self.vendor == "sqlite":
                if on:
                    # A rollback journal in memory: the load goes into a fresh database
                    # (if it fails, start again from `casedesk migrate`).
                    for pragma in ("journal_mode=MEMORY", "synchronous=OFF",
                                   "foreign_keys=OFF", "cache_size=-1000000"):
                        cursor.execute(f"PRAGMA {pragma}")
                else:
                    for pragma in ("journal_mode=WAL", "synchronous=NORMAL",
                                   "foreign_keys=ON", "cache_size=-65536"):
                        cursor.execute(f"PRAGMA {pragma}")
            else:
                cursor.execute("SET synchronous_commit = " + ("off" if on else "on"))
                try:
                    # Foreign-key triggers off: every row refers to rows written before it.
                    cursor.execute("SET session_replication_role = "
                                   + ("replica" if on else "origin"))
                except Exception:  # noqa: BLE001 - not a superuser: keep the checks
                    self.progress("foreign-key checks stay on (not a superuser)")

    # -------------------------------------------------------------- cases

    def cases_and_threads(self) -> dict[str, int]:  # noqa: C901, PLR0912, PLR0915
        from django.conf import settings
        from django.core.management.color import no_style
        from django.db import connection, transaction

        from casedesk.escalation.models import Escalation
        from casedesk.sla.models import Clock
        from casedesk.tickets.models import CaseCounter, Event, Message, Ticket

        rng = self.rng
        rnd = rng.random
        pools = Pools(rng)
        when = self.when
        now = self.now_ts
        tickets = Table(Ticket, [
            "id", "subject", "requester", "organization", "requester_phone", "category",
            "priority", "status", "channel", "assignee", "escalation_level", "created_at",
            "updated_at", "last_message_at", "resolved_at", "closed_at",
        ])
        messages = Table(Message, ["id", "ticket", "author", "kind", "body", "channel",
                                   "created_at"])
        events = Table(Event, ["ticket", "kind", "actor", "data", "created_at"])
        clocks = Table(Clock, [
            "id", "ticket", "kind", "plan", "priority", "started_at", "target_seconds",
            "due_at", "warn_at", "warned_at", "breached_at", "met_at", "paused_at",
            "cancelled_at", "cancel_reason", "next_check_at",
        ])
        escalations = Table(Escalation, [
            "id", "ticket", "from_level", "to_level", "source", "reason", "actor",
            "assigned_to", "nobody_on_shift", "created_at",
        ])
        tables = [tickets, messages, events, clocks, escalations]

        pick_priority = _picker(PRIORITIES, rnd)
        pick_channel = _picker(CHANNELS, rnd)
        # Message counts scaled so the mean is --messages-per-case (5 by default).
        base_mean = sum(v * w for v, w in MESSAGE_COUNTS) / sum(w for _, w in MESSAGE_COUNTS)
        scale = self.messages_per_case / base_mean
        pick_count = _picker(MESSAGE_COUNTS, rnd)
        pick_recent = _picker(ACTIVE_RECENT, rnd)
        pick_old = _picker(ACTIVE_OLD, rnd)
        pick_source = _picker(ESCALATION_SOURCES, rnd)
        levels = self.levels
        top_level = levels[-1] if levels else 1
        contacts = self.contacts
        n_contacts = len(contacts)
        agent_ids = self.agent_ids
        n_agents = len(agent_ids)
        team = self.team
        categories = self.categories
        targets = self.targets
        warn = self.warn

        first_id = settings.CASEDESK_CASE_ID_START
        span = 3 * YEAR
        created = sorted(now - 600 - rnd() * span for _ in range(self.cases))
        # The case the benchmark opens: a recent open case with a 50-message thread.
        detail_n = max(0, self.cases - 1 - max(1, self.cases // 400))
        self.detail_id = first_id + detail_n
        rare_every = max(1, self.cases // 12)
        self.rare_count = 0
        self.arabic_cases = 0
        self.active_cases = 0
        message_id = clock_id = escalation_id = 0

        def dumps(data: dict[str, Any]) -> str:
            return json.dumps(data, ensure_ascii=False)

        for batch_start in range(0, self.cases, BATCH):
            batch_t = time.perf_counter()
            for n in range(batch_start, min(self.cases, batch_start + BATCH)):
                case_id = first_id + n
                at = created[n]
                age_days = (now - at) / 86400
                arabic = rnd() < 0.2
                requester, org_id, plan_id, phone = contacts[int(rnd() * n_contacts)]
                agent = agent_ids[int(rnd() * n_agents)]
                if n == detail_n:
                    status = "open"
                elif rnd() < _active_share(age_days):
                    status = pick_recent() if age_days < 30 else pick_old()
                else:
                    status = "closed" if age_days > 10 or rnd() < 0.3 else "resolved"
                active = status not in ("resolved", "closed")
                priority = pick_priority()
                channel = pick_channel()
                if arabic:
                    self.arabic_cases += 1
                    subject = pools.ar_subjects[int(rnd() * len(pools.ar_subjects))]
                else:
                    subject = pools.en_subjects[int(rnd() * len(pools.en_subjects))]

                # The thread: the description, then agent and customer in turn.
                if status == "new":
                    count = 1 if rnd() < 0.8 else 2
                elif n == detail_n:
                    count = DETAIL_MESSAGES
                else:
                    count = max(2, round(pick_count() * scale))
                # Done cases ran their course within days; open ones are still running.
                end = min(now - 60, at + (rnd() * 6 + 0.2) * 86400) if not active else now - 60
                if end <= at:
                    end = at + 60
                # The first answer comes within the plan's target nine times in ten.
                target = targets.get((plan_id, priority))
                first = min(at + (target or 14400) * (0.05 + rnd() * 1.05), (at + end) / 2)
                step = (end - first) / count
                times = [at, first] + [
                    first + step * (i + rnd() * 0.9) for i in range(1, count - 1)]
                del times[count:]
                thread: list[tuple[int, int, str, str, float]] = []
                first_reply: float | None = None
                last_public = at
                for i, t in enumerate(times):
                    if i == 0:
                        author, kind = requester, "public"
                        if rnd() < 0.03:
                            body = (pools.ar_long if arabic else pools.en_long)[
                                int(rnd() * (200 if arabic else 400))]
                        else:
                            body = (pools.ar_descriptions if arabic else pools.en_descriptions)[
                                int(rnd() * (3000 if arabic else 6000))]
                    elif status == "new" or (i % 2 == 0 and rnd() < 0.8):
                        author, kind = requester, "public"
                        pool = pools.ar_customer if arabic else pools.en_customer
                        body = pool[int(rnd() * len(pool))]
                    elif rnd() < 0.15:
                        author, kind = agent, "internal"
                        pool = pools.ar_notes if arabic else pools.en_notes
                        body = pool[int(rnd() * len(pool))]
                    else:
                        author, kind = agent, "public"
                        pool = pools.ar_replies if arabic else pools.en_replies
                        body = pool[int(rnd() * len(pool))]
                        if first_reply is None:
                            first_reply = t
                    if n % rare_every == 0 and i == 0:
                        body = (f"The {RARE_WORD} probe on the edge router {body[:1].lower()}"
                                f"{body[1:]}")
                        self.rare_count += 1
                    message_id += 1
                    thread.append((message_id, author, kind, body, t))
                    if kind == "public":
                        last_public = t
                if status == "new":
                    first_reply = None
                last = times[-1]
                resolved_at = closed_at = None
                if not active:
                    resolved_at = last + 60 + rnd() * 3600
                    if status == "closed":
                        closed_at = min(now - 30, resolved_at + 3 * 86400)
                    last = closed_at or resolved_at
                else:
                    self.active_cases += 1

                # Escalations: a few cases moved up the levels.
                esc_level = 1
                if levels and rnd() < (0.12 if active else 0.04):
                    r = rnd()
                    esc_level = min(top_level, 2 if r < 0.7 else 3 if r < 0.92 else 4)
                assignee = None if status == "new" or (active and rnd() < 0.1) else agent
                if esc_level > 1:
                    members = team.get(esc_level) or agent_ids
                    assignee = members[int(rnd() * len(members))]

                tickets.add(
                    case_id, subject, requester, org_id, phone,
                    categories[int(rnd() * len(categories))], priority, status, channel,
                    assignee, esc_level, when(at), when(last), when(last_public),
                    when(resolved_at) if resolved_at else None,
                    when(closed_at) if closed_at else None,
                )
                events.add(case_id, "created", requester, dumps({
                    "channel": channel, "priority": priority, "subject": subject,
                    "attachments": 0}), when(at))
                for mid, author, kind, body, t in thread:
                    messages.add(mid, case_id, author, kind, body,
                                 channel if author == requester else "portal", when(t))
                    if author != requester:
                        events.add(case_id, "note" if kind == "internal" else "reply", author,
                                   f'{{"message": {mid}, "attachments": 0}}', when(t))

                # The first-response clock, as the sweep and the reply would have left it.
                if target:
                    clock_id += 1
                    due = at + target
                    warn_at = at + target * warn[plan_id] / 100
                    met = first_reply
                    cancelled = None
                    if met is None and not active:
                        cancelled = resolved_at
                    paused = None
                    if met is None and status == "pending":
                        # Waiting on the customer: the clock stopped when the case did.
                        paused = last
                    decided = met or cancelled or paused or now
                    warned = when(warn_at) if decided > warn_at else None
                    breached = when(due) if decided > due else None
                    next_check = None
                    if met is None and cancelled is None and paused is None:
                        if decided <= warn_at:
                            next_check = when(warn_at)
                        elif decided <= due:
                            next_check = when(due)
                    clocks.add(
                        clock_id, case_id, "first_response", plan_id, priority, when(at),
                        target, when(due), when(warn_at), warned, breached,
                        when(met) if met else None, when(paused) if paused else None,
                        when(cancelled) if cancelled else None,
                        "resolved" if cancelled else "", next_check,
                    )
                    if breached:
                        events.add(case_id, "sla_breach", None, dumps({
                            "clock": clock_id, "kind": "first_response",
                            "due_at": when(due), "escalate": True}), when(due))
                    if met:
                        events.add(case_id, "sla_met", agent, dumps({
                            "clock": clock_id, "kind": "first_response", "due_at": when(due),
                            "late_seconds": max(0, int(met - due))}), when(met))
                if status != "new":
                    changed = resolved_at or times[min(1, count - 1)]
                    events.add(case_id, "status", agent,
                               f'{{"old": "new", "new": "{status}"}}', when(changed))
                level = 1
                while level < esc_level:
                    escalation_id += 1
                    source = pick_source()
                    t = at + (last - at) * (0.2 + 0.3 * level / top_level)
                    members = team.get(level + 1) or agent_ids
                    to_agent = members[int(rnd() * len(members))]
                    actor = (requester if source == "portal"
                             else None if source == "sla" else agent)
                    escalations.add(escalation_id, case_id, level, level + 1, source,
                                    REASONS[source], actor, to_agent, False, when(t))
                    events.add(case_id, "escalated", actor, dumps({
                        "from": level, "to": level + 1, "source": source,
                        "reason": REASONS[source], "assigned_to": None,
                        "nobody_on_shift": False, "escalation": escalation_id}), when(t))
                    level += 1
            with transaction.atomic(), connection.cursor() as cursor:
                for table in tables:
                    table.flush(cursor, self.vendor)
            done = min(self.cases, batch_start + BATCH)
            if done % (BATCH * 10) == 0 or done == self.cases:
                self.progress(
                    f"  {done:,} cases, {messages.written:,} messages "
                    f"({time.perf_counter() - batch_t:.2f} s for the last batch)"
                )
        with transaction.atomic(), connection.cursor() as cursor:
            # Ids were given explicitly: PostgreSQL's identity sequences must move past them.
            for sql in connection.ops.sequence_reset_sql(
                no_style(), [Message, Event, Clock, Escalation]
            ):
                cursor.execute(sql)
            # New cases continue after the seeded Case IDs.
            CaseCounter.objects.update_or_create(
                pk=1, defaults={"last_value": first_id + self.cases - 1}
            )
        return {"cases": tickets.written, "messages": messages.written,
                "events": events.written, "clocks": clocks.written,
                "escalations": escalations.written}


class SeedError(Exception):
    """The seed cannot run; the message says why."""


def seed(cases: int, *, messages_per_case: float = 5.0, rng_seed: int = 20260101,
         organizations: int = 2000, agents: int = 200, contacts_per_org: int = 5,
         progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Fill an empty, migrated database; returns what was written and how long it took."""
    if cases < 1:
        raise SeedError("--cases must be at least 1.")
    if not 1 <= messages_per_case <= 100:
        raise SeedError("--messages-per-case must be between 1 and 100.")
    if organizations < 1 or agents < 1 or contacts_per_org < 1:
        raise SeedError("--organizations, --agents and --contacts-per-org must be at least 1.")
    return Seeder(cases, messages_per_case, rng_seed, organizations, agents,
                  contacts_per_org, progress).run()
