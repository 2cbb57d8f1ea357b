"""The soak: casedesk's real processes under load and faults, then an exact audit (issue 8.8)."""
