"""path_for: the same path as reverse() for a one-argument URL, whatever the argument."""

from __future__ import annotations

from django.urls import reverse, set_script_prefix

from casedesk.core.paths import path_for


def test_a_case_id_and_a_token_give_the_path_reverse_gives() -> None:
    assert path_for("desk:case", 100042) == reverse("desk:case", args=[100042]) \
        == "/desk/cases/100042/"
    token = "Abc-_09xyz"
    assert path_for("accounts:invitation", token) == reverse("accounts:invitation", args=[token])
    # the second call reuses the first's pattern, for another value
    assert path_for("desk:case", 7) == "/desk/cases/7/"


def test_a_value_a_path_would_change_goes_through_reverse() -> None:
    for value in ("a b", "casedesk.slot", "caf\u00e9", "50%"):
        assert path_for("accounts:invitation", value) == reverse(
            "accounts:invitation", args=[value])


def test_each_script_prefix_has_its_own_pattern() -> None:
    path_for("desk:case", 1)
    set_script_prefix("/support/")
    try:
        assert path_for("desk:case", 2) == "/support/desk/cases/2/"
    finally:
        set_script_prefix("/")
