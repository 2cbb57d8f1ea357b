"""casedesk's benchmark: `python -m bench` (see bench/README.md).

Nothing here imports Django at module level: the orchestrator runs outside any Django
settings and starts Django-configured subprocesses (migrate, seed, the server) per database.
"""
