"""Stakeholder roles from bios: written by hand, not taken from the sample generator's phrases."""

from __future__ import annotations

import pytest

from models.roles import ROLES, stakeholder_role, stakeholder_roles


@pytest.mark.parametrize(
    ("bio", "role"),
    [
        ("Salaried GP in Bristol, trainer. Opinions mine", "gp"),
        ("General practitioner and medical educator", "gp"),
        ("Paediatric nurse | mum of two", "nurse"),
        ("Health visitor in Hackney", "nurse"),
        ("Community pharmacist & independent prescriber", "pharmacist"),
        ("Physiotherapist, MSK and sports", "allied_health"),
        ("Paramedic. Coffee. Cycling.", "allied_health"),
        ("Mum, carer for my son who has cerebral palsy", "patient_carer"),
        ("Living with MS since 2009", "patient_carer"),
        ("Professor of primary care at a Scottish university", "researcher"),
        ("PhD student studying waiting lists", "researcher"),
        ("The official account of Anytown NHS Foundation Trust", "nhs_org"),
        ("News and updates from the Integrated Care Board for Blankshire", "nhs_org"),
        ("Co-founder & CEO of a remote monitoring startup", "industry"),
        ("Clinical entrepreneur, ex-ED registrar", "industry"),
        ("Health correspondent at a national paper", "journalist"),
        ("Labour MP for Somewhere North", "politician"),
        ("Cllr for Riverside ward", "politician"),
    ],
)
def test_roles_from_bios(bio: str, role: str) -> None:
    found, evidence = stakeholder_role(bio)
    assert found == role
    assert evidence and evidence.lower() in bio.lower()


def test_first_declared_role_wins_and_plain_bios_have_none() -> None:
    assert stakeholder_role("Pharmacist in general practice")[0] == "pharmacist"
    assert stakeholder_role("Researching carers' health")[0] == "researcher"
    assert stakeholder_role("Keep our NHS public! Views my own.") == (None, "")
    assert stakeholder_roles([None, "", " ", "x" * 10_000]) == [(None, "")] * 4
    assert set(ROLES) == {
        "gp",
        "nurse",
        "pharmacist",
        "allied_health",
        "patient_carer",
        "researcher",
        "nhs_org",
        "industry",
        "journalist",
        "politician",
    }
