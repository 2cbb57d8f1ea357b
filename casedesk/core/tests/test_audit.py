"""The audit history: every permission change and every admin-site change is recorded with
who, when, from where, through which door and the fields before and after, whichever door
it came through (admin site, desk, API, command line); and /desk/audit/ shows it to admins
only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from casedesk.accounts.models import Organization, User
from casedesk.api.tests.conftest import api_for
from casedesk.conftest import PASSWORD, make_agent, make_contact, make_org
from casedesk.core.audit import record_audit
from casedesk.core.models import AuditEntry
from casedesk.escalation.models import Level
from casedesk.sla.models import Plan
from casedesk.tickets.models import Category

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.7"


@pytest.fixture
def boss(db) -> User:
    return make_agent(email="boss@casedesk.example", full_name="Boss Admin", is_staff=True,
                      is_superuser=True)


def latest(**filters) -> AuditEntry:
    return AuditEntry.objects.filter(**filters).latest("pk")


# -- the admin site ---------------------------------------------------------------------


def test_an_admin_making_someone_staff_in_the_admin_is_recorded(client, boss):
    org = make_org("GulfNet")
    agent = make_agent(email="sami@casedesk.example", full_name="Sami")
    group = Group.objects.create(name="Supervisors")
    client.force_login(boss)

    response = client.post(
        reverse("admin:accounts_user_change", args=[agent.pk]),
        {
            "email": agent.email, "full_name": "Sami", "phone": "", "time_zone": "",
            "language": "", "role": "agent", "organization": org.pk,
            "case_visibility": agent.case_visibility, "is_active": "on", "is_staff": "on",
            "groups": [group.pk],
            "date_joined_0": "2026-01-01", "date_joined_1": "08:00:00",
        },
        REMOTE_ADDR=ADDRESS,
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    entry = latest(object_type="accounts.user", object_id=str(agent.pk),
                   changes__has_key="is_staff")
    assert (entry.actor, entry.actor_email) == (boss, boss.email)
    assert (entry.address, entry.via, entry.action) == (ADDRESS, "admin", "change")
    assert entry.changes["is_staff"] == [False, True]
    assert entry.changes["organization"] == [None, org.pk]
    groups = latest(object_id=str(agent.pk), changes__has_key="groups")
    assert groups.changes["groups"] == [[], ["Supervisors"]]
    assert groups.via == "admin"


def test_any_model_added_and_deleted_in_the_admin_is_recorded(client, boss):
    client.force_login(boss)

    client.post(reverse("admin:tickets_category_add"),
                {"name": "Billing", "description": "", "position": 3, "is_active": "on"},
                REMOTE_ADDR=ADDRESS)
    category = Category.objects.get(name="Billing")
    client.post(reverse("admin:tickets_category_delete", args=[category.pk]), {"post": "yes"},
                REMOTE_ADDR=ADDRESS)

    added = latest(object_type="tickets.category", action="create")
    deleted = latest(object_type="tickets.category", action="delete")
    assert added.changes["name"] == [None, "Billing"] and added.via == "admin"
    assert deleted.changes["name"] == ["Billing", None] and deleted.actor == boss
    assert not Category.objects.filter(name="Billing").exists()


def test_behind_a_trusted_proxy_the_visitor_is_recorded_not_the_proxy(client, boss, settings):
    from ipaddress import ip_network

    settings.CASEDESK_TRUSTED_PROXIES = [ip_network("10.0.0.0/24")]
    client.force_login(boss)

    client.post(reverse("admin:tickets_category_add"),
                {"name": "Billing", "description": "", "position": 3, "is_active": "on"},
                REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"10.9.9.9, {ADDRESS}")

    assert latest(object_type="tickets.category", action="create").address == ADDRESS


def test_the_admin_shows_the_history_read_only(client, boss):
    record_audit(boss, "2fa.enable", boss, {})
    client.force_login(boss)

    listing = client.get(reverse("admin:core_auditentry_changelist"))
    adding = client.get(reverse("admin:core_auditentry_add"))

    assert listing.status_code == 200 and "2fa.enable" in listing.content.decode()
    assert adding.status_code == 403
    entry = AuditEntry.objects.get(action="2fa.enable")
    deleting = client.post(reverse("admin:core_auditentry_delete", args=[entry.pk]),
                           {"post": "yes"})
    assert deleting.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


# -- the desk, the API, the command line -------------------------------------------------


def test_an_api_token_made_and_revoked_on_the_desk_is_recorded(client):
    agent = make_agent()
    client.force_login(agent)

    client.post(reverse("api_pages:desk_tokens"), {"name": "CI"}, REMOTE_ADDR=ADDRESS)
    token = agent.api_tokens.get()
    client.post(reverse("api_pages:desk_revoke", args=[token.pk]), REMOTE_ADDR=ADDRESS)

    made = latest(object_type="accounts.apitoken", action="create")
    revoked = latest(object_type="accounts.apitoken", action="revoke")
    assert (made.via, made.actor, made.address) == ("desk", agent, ADDRESS)
    assert made.changes["name"] == [None, "CI"] and "token_hash" not in made.changes
    assert revoked.object_id == str(token.pk) and revoked.changes["revoked_at"][0] is None


def test_a_contact_moved_to_another_organization_over_the_api_is_recorded(client):
    first, second = make_org("GulfNet"), make_org("Atlas")
    contact = make_contact(first)
    agent = make_agent()

    response = api_for(agent).patch(f"/api/v1/contacts/{contact.pk}",
                                    {"organization": second.pk})

    assert response.status_code == 200, response.content
    entry = latest(object_type="accounts.user", object_id=str(contact.pk))
    assert (entry.via, entry.actor, entry.action) == ("api", agent, "change")
    assert entry.changes == {"organization": [first.pk, second.pk]}


def test_an_admin_made_on_the_command_line_is_recorded(capsys):
    call_command("createadmin", email="root@casedesk.example", password=PASSWORD)

    entry = latest(object_type="accounts.user", action="create")
    assert entry.via == "cli" and entry.actor is None and entry.address is None
    assert entry.changes["is_staff"] == [None, True]
    assert entry.changes["email"] == [None, "root@casedesk.example"]


def test_escalation_teams_sla_plans_and_webhook_secrets_are_recorded_without_secrets():
    from casedesk.webhooks.models import Subscription

    level = Level.objects.order_by("number").first()
    agent = make_agent(full_name="On Call")
    plan = Plan.objects.first()
    assert level is not None and plan is not None

    level.team.add(agent)
    plan.warn_percent = 55
    plan.save()
    Subscription.objects.create(url="https://hooks.example/x", secret="s3cret", events=[])

    team = latest(object_type="escalation.level", object_id=str(level.pk))
    assert team.changes["team"][1] == [str(agent)]
    assert latest(object_type="sla.plan").changes["warn_percent"][1] == 55
    hook = latest(object_type="webhooks.subscription")
    assert hook.changes["secret"] == [None, "(hidden)"]
    assert "s3cret" not in str(AuditEntry.objects.values_list("changes", flat=True))


def test_a_new_logo_is_recorded_by_its_stored_name():
    from django.core.files.base import ContentFile

    from casedesk.conftest import png_upload
    from casedesk.core.models import SiteConfiguration

    config = SiteConfiguration.current()
    config.logo.save("logo.png", ContentFile(png_upload().read()), save=False)
    config.save()

    before, after = latest(object_type="core.siteconfiguration").changes["logo"]
    assert not before and after == config.logo.name and after.endswith(".png")


def test_group_membership_changed_from_the_groups_side_is_recorded_on_the_person():
    agent = make_agent(full_name="Hana")
    group = Group.objects.create(name="Leads")

    group.user_set.add(agent)
    group.permissions.add(Permission.objects.get(codename="view_user"))

    entry = latest(object_type="accounts.user", object_id=str(agent.pk))
    assert entry.changes == {"groups": [[], ["Leads"]]}
    assert latest(object_type="auth.group").changes["permissions"][0] == []


def test_nothing_is_recorded_for_a_save_that_changes_no_watched_field():
    agent = make_agent()
    before = AuditEntry.objects.count()

    agent.full_name = "Renamed"
    agent.save()
    Organization.objects.create(name="Quiet")  # a creation is recorded...
    User.objects.filter(pk=agent.pk).update(is_staff=True)  # ...a bulk update is not

    assert AuditEntry.objects.count() == before + 1


# -- /desk/audit/ --------------------------------------------------------------------------


def test_only_admins_see_the_audit_page(client, boss):
    url = reverse("audit:history")
    contact = make_contact(make_org("GulfNet"))

    assert client.get(url).status_code == 302  # to sign in
    client.force_login(make_agent())
    assert client.get(url).status_code == 404
    client.force_login(contact)
    assert client.get(url).status_code in (302, 404)
    client.force_login(boss)
    assert client.get(url).status_code == 200


def test_the_audit_page_filters_and_pages_by_key(client, boss, settings):
    from casedesk.core import audit_views

    settings.LANGUAGE_CODE = "en"
    other = make_agent(email="other@casedesk.example")
    for n in range(5):
        record_audit(boss, "change", other, {"role": [f"role-was-{n}", f"role-now-{n}"]})
    record_audit(other, "2fa.enable", other, {})
    client.force_login(boss)
    audit_views.PAGE_SIZE, saved = 2, audit_views.PAGE_SIZE
    try:
        first = client.get(reverse("audit:history"), {"actor": boss.email, "action": "change"})
        page = first.content.decode()
        # Markers no random token in the page (a CSP nonce, the CSRF token) can contain.
        assert "role-now-4" in page and "role-now-3" in page
        assert "role-now-2" not in page and "2fa.enable" not in page
        after = first.context["next_after"]
        second = client.get(reverse("audit:history"),
                            {"actor": boss.email, "action": "change", "after": after})
        page = second.content.decode()
        assert "role-now-2" in page and "role-now-1" in page and "role-now-4" not in page
    finally:
        audit_views.PAGE_SIZE = saved


def test_a_bad_filter_says_what_is_wrong_and_shows_nothing(client, boss):
    record_audit(boss, "change", boss, {"role": ["a", "b"]})
    client.force_login(boss)

    response = client.get(reverse("audit:history"),
                          {"since": "2026-05-02", "until": "2026-05-01"})

    assert response.status_code == 200
    assert "must not be after" in response.content.decode()
    assert response.context["entries"] == []


def test_signing_in_records_nothing(client):
    agent = make_agent(email="sami@casedesk.example")
    before = AuditEntry.objects.count()

    client.post(reverse("accounts:signin"), {"email": agent.email, "password": PASSWORD})

    assert User.objects.get(pk=agent.pk).last_login is not None
    assert AuditEntry.objects.count() == before
