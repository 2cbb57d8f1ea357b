"""`casedesk demo`: a helpdesk with partners, agents and cases to try casedesk with.

Safe to repeat: every object is looked up by its natural key first (an organization by
name, a person by email, a case by requester and subject), so a second run creates and
changes nothing. Cases are made through the same actions the portal and the desk use, so
their history events and mail are the real ones.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse

from casedesk.accounts.models import Organization, User
from casedesk.core.choices import Priority
from casedesk.core.files import check_upload
from casedesk.core.models import SiteConfiguration
from casedesk.escalation.models import Level, Shift
from casedesk.kb.demo import publish_demo_articles
from casedesk.sla.models import Plan
from casedesk.tickets import actions
from casedesk.tickets.models import Category, Ticket

# Printed at the end of every run: these are for trying casedesk out, never for real use.
DEMO_ADMIN_PASSWORD = "demo-admin-passphrase"  # noqa: S105
DEMO_AGENT_PASSWORD = "demo-agent-passphrase"  # noqa: S105
DEMO_CONTACT_PASSWORD = "demo-customer-passphrase"  # noqa: S105

SITE = {
    "company_name": "Kidzonet",
    "support_phone": "+44 808 175 0480",
    "support_email": "support@kidzonet.example",
}

# Level number -> (contact name, email, phone).
LEVEL_CONTACTS = {
    1: ("Support desk (24/7)", "support@kidzonet.example", "+44 808 175 0480"),
    2: ("Sami Youssef", "sami@casedesk.example", "+971 4 555 0142"),
    3: ("Hana Idris", "hana@casedesk.example", "+971 4 555 0177"),
    4: ("Adam Clarke", "adam.clarke@kidzonet.example", "+44 20 7946 0321"),
}


# Level number -> the agents on its team. With the shifts below, levels 1 and 2 are
# covered around the clock (Sami by day, Hana by night, Dubai time); level 3 only on the
# working week, so an escalation there at the weekend shows the "nobody on shift" alert.
LEVEL_TEAMS = {
    1: ["sami@casedesk.example", "hana@casedesk.example"],
    2: ["sami@casedesk.example", "hana@casedesk.example"],
    3: ["admin@casedesk.example"],
    4: ["admin@casedesk.example"],
}
AGENT_TIME_ZONE = "Asia/Dubai"
# Agent -> (weekdays 0=Mon..6=Sun, start, end); an end at or before the start is the next day.
SHIFTS = {
    "sami@casedesk.example": (range(7), time(6), time(18)),
    "hana@casedesk.example": (range(7), time(18), time(6)),
    "admin@casedesk.example": ((6, 0, 1, 2, 3), time(8), time(18)),
}


@dataclass(frozen=True)
class DemoOrg:
    name: str
    plan: str
    domains: str
    org_wide_visibility: bool


ORGANIZATIONS = [
    DemoOrg("Gulfnet Telecom", "Premium", "gulfnet.example", True),
    DemoOrg("Atlas Broadband", "Standard", "atlasbb.example", False),
    DemoOrg("Cedar Schools Network", "Standard", "cedarschools.example", True),
]


@dataclass(frozen=True)
class DemoPerson:
    email: str
    full_name: str
    role: str
    password: str
    organization: str = ""
    phone: str = ""
    case_visibility: str = User.Visibility.INHERIT
    admin: bool = False
    note: str = ""


PEOPLE = [
    DemoPerson("admin@casedesk.example", "Rania Saleh", "agent", DEMO_ADMIN_PASSWORD,
               admin=True, note="admin and agent: /desk/ and /admin/"),
    DemoPerson("sami@casedesk.example", "Sami Youssef", "agent", DEMO_AGENT_PASSWORD,
               note="agent: /desk/"),
    DemoPerson("hana@casedesk.example", "Hana Idris", "agent", DEMO_AGENT_PASSWORD,
               note="agent: /desk/"),
    DemoPerson("noor@gulfnet.example", "Noor Haddad", "contact", DEMO_CONTACT_PASSWORD,
               "Gulfnet Telecom", "+971 50 555 0101",
               note="Gulfnet Telecom (Premium): sees all of Gulfnet's cases"),
    DemoPerson("omar@gulfnet.example", "Omar Khalil", "contact", DEMO_CONTACT_PASSWORD,
               "Gulfnet Telecom", note="Gulfnet Telecom (Premium)"),
    DemoPerson("lina@atlasbb.example", "Lina Benali", "contact", DEMO_CONTACT_PASSWORD,
               "Atlas Broadband", note="Atlas Broadband (Standard): sees only her own cases"),
    DemoPerson("karim@atlasbb.example", "Karim Mansour", "contact", DEMO_CONTACT_PASSWORD,
               "Atlas Broadband", case_visibility=User.Visibility.ORGANIZATION,
               note="Atlas Broadband: overridden to see all of Atlas's cases"),
    DemoPerson("sara@cedarschools.example", "Sara Mitchell", "contact",
               DEMO_CONTACT_PASSWORD, "Cedar Schools Network",
               note="Cedar Schools Network (Standard)"),
]

# A visitor with no account: their case brings an invitation, as on a real first contact.
WALK_IN = ("yusuf@desertisp.example", "Yusuf Amrani")

# One step of a case's life after it is submitted: (action, who's email, text or value,
# and for a reply optionally the status it sets).
Step = tuple[str, ...]


@dataclass(frozen=True)
class DemoCase:
    requester: str
    subject: str
    priority: int
    category: str
    description: str
    steps: list[Step] = field(default_factory=list)
    screenshot: bool = False


SAMI, HANA, ADMIN = "sami@casedesk.example", "hana@casedesk.example", "admin@casedesk.example"
NOOR, OMAR = "noor@gulfnet.example", "omar@gulfnet.example"
LINA, KARIM = "lina@atlasbb.example", "karim@atlasbb.example"
SARA = "sara@cedarschools.example"

CASES = [
    DemoCase(
        NOOR, "DNS filtering stopped on resolver 2", Priority.HIGH, "Service outage",
        "Since 09:10 GST the second resolver (10.20.0.2) answers without filtering: adult "
        "sites open for subscribers routed to it. Resolver 1 is fine.",
        [("assign", ADMIN, SAMI),
         ("note", SAMI, "Resolver 2 lost its policy feed after the 09:00 deploy."),
         ("reply", SAMI, "We have found the cause: resolver 2 lost its policy feed. We are "
          "restoring it now and will confirm within 30 minutes.")],
        screenshot=True,
    ),
    DemoCase(
        OMAR, "Safe search not enforced on video sites", Priority.MEDIUM,
        "Filtering and blocking",
        "Profiles with safe search on still get unrestricted results on the video site's "
        "mobile app. The web version is fine.",
    ),
    DemoCase(
        NOOR, "Monthly usage report export is empty", Priority.LOW, "Reports and analytics",
        "The CSV export of the October usage report has headers but no rows.",
        [("reply", HANA, "Which time zone is set on the report? An export in a zone with no "
          "data for the month comes out empty.", "pending")],
    ),
    DemoCase(
        KARIM, "RADIUS accounting packets rejected", Priority.HIGH,
        "Integration and provisioning",
        "Our BNGs get Access-Reject for accounting since we rotated the shared secret last "
        "night. Subscribers are not mapped to their profiles.",
        [("assign", ADMIN, HANA),
         ("reply", HANA, "The new secret is not on our side yet. Please send it through the "
          "secure channel and we will apply it at once."),
         ("customer", KARIM, "Sent by the secure channel five minutes ago.")],
        screenshot=True,
    ),
    DemoCase(
        LINA, "Add 2,000 subscriber licences", Priority.QUESTION, "Billing and licensing",
        "We are launching in a new region next month. How do we add 2,000 licences?",
        [("reply", ADMIN, "Done: your licence count is now 12,000, effective today.",
          "resolved")],
    ),
    DemoCase(
        LINA, "Parental profile resets after router reboot", Priority.MEDIUM,
        "Accounts and profiles",
        "After a CPE reboot, some subscribers' parental profiles fall back to the default.",
        [("assign", ADMIN, SAMI),
         ("reply", SAMI, "We can reproduce it with firmware 4.2 and have asked the vendor "
          "for a fix. We will update you when we hear back.", "on_hold")],
    ),
    DemoCase(
        SARA, "Teachers cannot reach the e-learning portal", Priority.HIGH,
        "Filtering and blocking",
        "Since this morning the e-learning portal is blocked in all 14 schools as "
        "'uncategorised'.",
        [("reply", HANA, "We have recategorised the portal as Education. Please try again "
          "in five minutes."),
         ("customer", SARA, "Two schools still see the block page.")],
    ),
    DemoCase(
        SARA, "How do we allow a domain for one school only?", Priority.QUESTION,
        "General question",
        "One school needs a video site the others keep blocked. Can we allow it there "
        "only?",
        [("reply", SAMI, "Yes: create a profile for that school's network and add the "
          "domain to its allow list. Guide attached in our knowledge base.", "resolved"),
         ("close", SARA, "")],
    ),
    DemoCase(
        OMAR, "API returns 500 on profile update", Priority.MEDIUM,
        "Integration and provisioning",
        "PATCH /v2/profiles/{id} returns 500 when the schedule field is empty.",
        [("assign", ADMIN, SAMI)],
    ),
    DemoCase(
        WALK_IN[0], "Trial of the filtering service for our ISP", Priority.QUESTION,
        "General question",
        "We are a regional ISP with 40,000 subscribers. Can we run a 30-day trial?",
    ),
    DemoCase(
        KARIM, "Blocked category list is out of date", Priority.LOW, "Filtering and blocking",
        "The category list in the admin console does not show the new gambling category.",
        [("reply", HANA, "The list refreshes at 02:00; it shows the new category now.",
          "resolved"),
         ("close", KARIM, ""),
         ("reopen", KARIM, "")],
    ),
    DemoCase(
        NOOR, "Invoice shows the wrong subscriber count", Priority.LOW,
        "Billing and licensing",
        "Invoice 2024-117 bills 48,000 subscribers; our count was 45,200.",
        [("reply", ADMIN, "Could you send the export your count comes from?", "pending")],
    ),
    DemoCase(
        SARA, "Dashboard is slow in the afternoons", Priority.MEDIUM, "Reports and analytics",
        "Between 13:00 and 15:00 the dashboard takes a minute to load.",
        [("note", HANA, "Matches the nightly report job running late; checking with ops."),
         ("reply", HANA, "Thank you, we are looking into it.")],
    ),
    DemoCase(
        OMAR, "Latency spike on the filtering proxy", Priority.HIGH, "Service outage",
        "p99 latency on the proxy went from 40 ms to 900 ms at 18:20.",
        [("assign", ADMIN, SAMI),
         ("reply", SAMI, "A failed node was still in the pool; it is out now and latency "
          "is back to normal.", "resolved")],
    ),
    DemoCase(
        LINA, "How long do you keep DNS query logs?", Priority.QUESTION, "General question",
        "Our regulator asks how long query logs are retained, and where.",
    ),
]


def demo_screenshot() -> bytes:
    """A small PNG that looks like a dashboard with an error banner (made here, so the
    demo needs no image file)."""
    width, height = 480, 300
    navy, white, grey, red, line = b"\x1f\x2f\x4a", b"\xff\xff\xff", b"\xee\xf0\xf4", \
        b"\xd9\x3b\x3b", b"\xc8\xcd\xd6"
    rows = []
    for y in range(height):
        if y < 36:
            row = navy * width
        elif 52 <= y < 84:
            row = grey * 16 + red * (width - 32) + grey * 16
        elif y >= 100 and (y - 100) % 28 < 2:
            row = grey * 16 + line * (width - 32) + grey * 16
        else:
            row = grey * 16 + white * (width - 32) + grey * 16
        rows.append(b"\x00" + row)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
    )


class Command(BaseCommand):
    help = "Load demo data (partners, agents, contacts, cases). Safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            self.configure_site()
            orgs = self.organizations()
            people = self.people(orgs)
            self.teams(people)
            publish_demo_articles(people.get("admin@casedesk.example"))
        created = 0
        for spec in CASES:
            # One transaction per case: a case is there whole (with its replies) or not at
            # all, so a run that stops halfway is finished by the next one.
            with transaction.atomic():
                if self.make_case(spec, people):
                    created += 1
        existing = len(CASES) - created
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {created} case(s) created, {existing} already there."
        ))
        self.print_sign_ins()

    def configure_site(self) -> None:
        """Fill in the demo's branding only where an admin has not set anything yet."""
        config = SiteConfiguration.objects.filter(pk=1).first() or SiteConfiguration(pk=1)
        changed = config._state.adding
        untouched = SiteConfiguration()
        for name, value in SITE.items():
            default = getattr(untouched, name)
            if getattr(config, name) in ("", default) and getattr(config, name) != value:
                setattr(config, name, value)
                changed = True
        if changed:
            config.save()
        for number, (name, email, phone) in LEVEL_CONTACTS.items():
            level = Level.objects.filter(number=number).first()
            if level is None:
                continue
            updates = {
                attr: value
                for attr, value in (("contact_name", name), ("email", email), ("phone", phone))
                if not getattr(level, attr)
            }
            if updates:
                Level.objects.filter(pk=level.pk).update(**updates)

    def organizations(self) -> dict[str, Organization]:
        orgs = {}
        for spec in ORGANIZATIONS:
            orgs[spec.name], _ = Organization.objects.get_or_create(
                name=spec.name,
                defaults={
                    "plan": Plan.objects.filter(name=spec.plan).first(),
                    "email_domains": spec.domains,
                    "org_wide_visibility": spec.org_wide_visibility,
                },
            )
        return orgs

    def people(self, orgs: dict[str, Organization]) -> dict[str, User]:
        people = {}
        for spec in PEOPLE:
            user = User.objects.filter(email=spec.email).first()
            if user is None:
                # A password only on creation: a second run never undoes a change of it.
                user = User.objects.create_user(
                    spec.email, spec.password, full_name=spec.full_name, phone=spec.phone,
                    role=spec.role, organization=orgs.get(spec.organization),
                    case_visibility=spec.case_visibility,
                    is_staff=spec.admin, is_superuser=spec.admin,
                )
            people[spec.email] = user
        return people

    def teams(self, people: dict[str, User]) -> None:
        """Teams and shifts for the escalation matrix, only where an admin set none."""
        for email, (weekdays, start, end) in SHIFTS.items():
            agent = people[email]
            if not agent.time_zone:
                User.objects.filter(pk=agent.pk).update(time_zone=AGENT_TIME_ZONE)
            if not Shift.objects.filter(agent=agent).exists():
                Shift.objects.bulk_create(
                    Shift(agent=agent, weekday=day, start=start, end=end) for day in weekdays
                )
        for number, emails in LEVEL_TEAMS.items():
            level = Level.objects.filter(number=number).first()
            if level is not None and not level.team.exists():
                level.team.add(*(people[email] for email in emails))

    def make_case(self, spec: DemoCase, people: dict[str, User]) -> bool:
        """Submit the case and play its steps through the actions. False if it exists."""
        if Ticket.objects.filter(requester__email=spec.requester, subject=spec.subject).exists():
            return False
        requester = people.get(spec.requester)
        files = []
        if spec.screenshot:
            files.append(check_upload(SimpleUploadedFile(
                "dashboard-error.png", demo_screenshot(), content_type="image/png"
            )))
        submission = actions.submit_case(
            email=spec.requester,
            full_name=requester.full_name if requester else WALK_IN[1],
            subject=spec.subject,
            description=spec.description,
            priority=spec.priority,
            category=Category.objects.filter(name=spec.category).first(),
            files=files,
            phone=requester.phone if requester else "",
            submitted_by=requester,
        )
        case_id = submission.ticket.pk
        for action, who, value, *rest in spec.steps:
            actor = people[who]
            if action == "assign":
                actions.assign(case_id, actor, people[value])
            elif action == "note":
                actions.add_message(case_id, actor, value, [], internal=True)
            elif action in {"reply", "customer"}:
                actions.add_message(case_id, actor, value, [], new_status=rest[0] if rest else None)
            elif action == "close":
                actions.close_by_contact(case_id, actor)
            elif action == "reopen":
                actions.reopen_by_contact(case_id, actor)
            else:
                raise ValueError(f"unknown demo step {action!r}")
        return True

    def print_sign_ins(self) -> None:
        base = settings.CASEDESK_BASE_URL
        rows = [("role", "email", "password", "")]
        rows += [
            ("admin" if p.admin else p.role, p.email, p.password, p.note) for p in PEOPLE
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        self.stdout.write("")
        self.stdout.write(f"Demo sign-ins ({base}{reverse('accounts:signin')}):")
        for role, email, password, note in rows:
            self.stdout.write(
                f"  {role:<{widths[0]}}  {email:<{widths[1]}}  {password:<{widths[2]}}  {note}"
                .rstrip()
            )
        self.stdout.write(
            f"Portal: {base}/   Agent desk: {base}/desk/   Admin: {base}/admin/"
        )
        where = "the mail the worker sends"
        if settings.CASEDESK_EMAIL_URL.startswith("file://"):
            where = f"the outbox, {settings.CASEDESK_EMAIL_URL.removeprefix('file://')}"
        self.stdout.write(
            f"{WALK_IN[0]} has no password yet: the invitation to set one is in {where}."
        )
