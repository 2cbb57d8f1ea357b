"""`casedesk bench-seed --cases N`: a realistic desk of N cases for benchmarks and demos.

Run it on an empty database after `casedesk migrate`. At 1,000,000 cases it writes about
5 million messages and takes minutes (see casedesk.core.benchseed for what and how).
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casedesk.core.benchseed import SeedError, seed


class Command(BaseCommand):
    help = "Fill an empty database with a realistic desk: cases, messages, SLA clocks."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--cases", type=int, required=True, help="How many cases.")
        parser.add_argument("--messages-per-case", type=float, default=5.0,
                            help="The average thread length (default 5).")
        parser.add_argument("--seed", type=int, default=20260101,
                            help="The random seed: the same seed writes the same desk.")
        parser.add_argument("--organizations", type=int, default=2000)
        parser.add_argument("--agents", type=int, default=200)
        parser.add_argument("--contacts-per-org", type=int, default=5)
        parser.add_argument("--json", action="store_true",
                            help="End with one JSON line summarizing what was written.")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(line: str) -> None:
            # Progress goes to stderr when stdout carries the JSON summary.
            out = sys.stderr if options["json"] else self.stdout
            out.write(line + "\n")
            out.flush()

        try:
            summary = seed(
                options["cases"], messages_per_case=options["messages_per_case"],
                rng_seed=options["seed"], organizations=options["organizations"],
                agents=options["agents"], contacts_per_org=options["contacts_per_org"],
                progress=progress,
            )
        except SeedError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self.stdout.write(
                f"Seeded {summary['cases']:,} cases, {summary['messages']:,} messages, "
                f"{summary['events']:,} events, {summary['clocks']:,} SLA clocks, "
                f"{summary['escalations']:,} escalations in {summary['seconds']} s. "
                f"Agents sign in as {summary['agent_email']} / {summary['agent_password']}; "
                f"case #{summary['detail_case']} has {summary['detail_messages']} messages."
            )
