"""django-helpdesk 2.6.1's equivalents of the desk pages, timed the way bench/desk.py times
ours: in-process through Django's test Client, signed in as the staff user.

Runs in the peer's own interpreter (var/peer-dh/venv, made by the peer's setup.sh), so it
uses only the standard library and what django-helpdesk installs. Before measuring it
plants what our seed has and the peer's seed has not, once: the rare word in 12 tickets
and a ticket with 50 follow-ups.

    PEER_SITE=var/peer-dh/site SQLITE_PATH=... var/peer-dh/venv/bin/python bench/peer_desk.py
"""

import argparse
import json
import os
import re
import sys
import time
from datetime import timedelta

RARE_WORD = "zirconium"
COMMON_WORD = "printer"  # the peer's own search benchmark word (~1/16 of the tickets)
DT_URL = re.compile(r'"url":\s*"([^"]*datatables_ticket_list/[^"]*)"')


def percentile(sorted_ms, p):
    k = min(len(sorted_ms) - 1, max(0, round(p / 100 * len(sorted_ms) + 0.5) - 1))
    return round(sorted_ms[k], 2)


def rss():
    found = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


def calibration_ms():
    """The fixed loop bench/desk.py times before each page (~60 ms on an idle core)."""
    t0 = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i * i
    return round((time.perf_counter() - t0) * 1000, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--budget", type=float, default=40.0)
    args = parser.parse_args()
    sys.path.insert(0, os.environ.get("PEER_SITE", "/tmp/peer-dh/site"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersite.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone
    from helpdesk.models import FollowUp, Ticket

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    staff = get_user_model().objects.get(username="staff")
    # What the comparison needs and the peer's seed does not write.
    if not Ticket.objects.filter(description__contains=RARE_WORD).exists():
        step = max(1, Ticket.objects.count() // 12)
        ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True)[::step][:12])
        for ticket in Ticket.objects.filter(pk__in=ids):
            Ticket.objects.filter(pk=ticket.pk).update(
                description=f"The {RARE_WORD} probe on the edge router. {ticket.description}")
    busy = Ticket.objects.filter(title="Bench: fifty follow-ups").first()
    if busy is None:
        busy = Ticket.objects.filter(status=Ticket.OPEN_STATUS).order_by("-pk").first()
        Ticket.objects.filter(pk=busy.pk).update(title="Bench: fifty follow-ups")
    have = FollowUp.objects.filter(ticket=busy).count()
    if have < 50:
        start = timezone.now() - timedelta(days=2)
        FollowUp.objects.bulk_create([
            FollowUp(ticket=busy, date=start + timedelta(minutes=30 * i), title="Comment",
                     public=i % 5 != 0, user=staff if i % 2 else None,
                     comment=f"Follow-up {i}: still seeing the error on the printer queue.")
            for i in range(have, 50)
        ])

    client = Client()
    client.force_login(staff)

    def data_url(path):
        """The datatables JSON call the list page makes (its rows come from there)."""
        body = client.get(path).content.decode()
        match = DT_URL.search(body)
        if not match:
            return None
        return match.group(1) + "?draw=1&start=0&length=25"

    def timed(urls):
        times, cpu = [], []
        calib = calibration_ms()
        began = time.perf_counter()
        while len(times) < args.samples and (len(times) < 3
                                             or time.perf_counter() - began < args.budget):
            t0, c0 = time.perf_counter(), time.process_time()
            for url in urls:
                response = client.get(url)
                if response.status_code != 200:
                    return {"skipped": f"HTTP {response.status_code} from {url}"}
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        times.sort()
        cpu.sort()
        return {"n": len(times), "p50_ms": percentile(times, 50),
                "p99_ms": percentile(times, 99), "cpu_p50_ms": percentile(cpu, 50),
                "calib_ms": calib, "load": round(os.getloadavg()[0], 1),
                "url": " + ".join(u[:60] for u in urls)}

    # Our page = its list shell + the datatables call that fills it (both, as a browser does).
    lists = {
        "open": "/helpdesk/tickets/",
        "filtered": f"/helpdesk/tickets/?status=1&assigned_to={staff.pk}",
        "search_rare": f"/helpdesk/tickets/?q={RARE_WORD}",
        "search_common": f"/helpdesk/tickets/?q={COMMON_WORD}",
    }
    rows = {}
    for key, path in lists.items():
        dt = data_url(path)
        rows[key] = timed([path, dt]) if dt else {"skipped": f"no datatables URL in {path}"}
        if dt:
            rows[key + "_data"] = timed([dt])
    rows["breaching"] = {"skipped": "no equivalent (no SLA due times)"}
    rows["case"] = timed([f"/helpdesk/tickets/{busy.pk}/"])
    rows["report"] = timed(["/helpdesk/dashboard/"])
    rows["report"]["url"] = "/helpdesk/dashboard/ (its overview; its reports have no date range)"
    first = rss()
    for key in ("open", "case"):
        if "url" in rows[key]:
            timed([f"/helpdesk/tickets/{busy.pk}/"])
    print(json.dumps({"rows": rows, "rss_after_first_pass": first, "rss_end": rss(),
                      "tickets": Ticket.objects.count(),
                      "followups": FollowUp.objects.count()}))


if __name__ == "__main__":
    main()
