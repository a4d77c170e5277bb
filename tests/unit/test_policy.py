"""The access policy as tables: who may see or change what, from plain facts."""

from __future__ import annotations

import pytest

from assessor.domain import policy
from assessor.domain.policy import Actor, CohortFacts, EnrolmentFacts, EvidenceFacts
from assessor.domain.vocabulary import EnrolmentStatus, Role, TokenScope

TRAINEE, OTHER_TRAINEE, ASSESSOR, OTHER_ASSESSOR, COORDINATOR, OTHER_COORDINATOR, ADMIN = range(1, 8)
PEOPLE = {
    "trainee": Actor(TRAINEE, Role.TRAINEE),
    "other trainee": Actor(OTHER_TRAINEE, Role.TRAINEE),
    "assessor": Actor(ASSESSOR, Role.ASSESSOR),
    "other assessor": Actor(OTHER_ASSESSOR, Role.ASSESSOR),
    "coordinator": Actor(COORDINATOR, Role.COORDINATOR),
    "other coordinator": Actor(OTHER_COORDINATOR, Role.COORDINATOR),
    "admin": Actor(ADMIN, Role.ADMIN),
    "deactivated admin": Actor(ADMIN, Role.ADMIN, active=False),
    "deactivated assessor": Actor(ASSESSOR, Role.ASSESSOR, active=False),
}
OPEN = EnrolmentFacts(TRAINEE, frozenset({ASSESSOR}), frozenset({COORDINATOR}), EnrolmentStatus.ACTIVE)
ELSEWHERE = EnrolmentFacts(TRAINEE, frozenset({OTHER_ASSESSOR}), frozenset({OTHER_COORDINATOR}), EnrolmentStatus.ACTIVE)
SIGNED_OFF = EnrolmentFacts(TRAINEE, frozenset({ASSESSOR}), frozenset({COORDINATOR}), EnrolmentStatus.COMPLETED)


def who(rule, *facts) -> set[str]:
    return {name for name, actor in PEOPLE.items() if rule(actor, *facts)}


def test_an_enrolment_is_seen_by_its_trainee_assessors_coordinators_and_admins():
    assert who(policy.may_see_enrolment, OPEN) == {"trainee", "assessor", "coordinator", "admin"}


def test_only_its_assessors_assess_and_only_its_coordinators_and_admins_manage_an_enrolment():
    assert who(policy.may_assess, OPEN) == {"assessor"}
    assert who(policy.may_manage_enrolment, OPEN) == {"coordinator", "admin"}


def test_only_the_trainee_takes_the_credential_of_their_record():
    assert who(policy.may_take_credential, SIGNED_OFF) == {"trainee"}
    assert not policy.may_take_credential(Actor(TRAINEE, Role.TRAINEE, active=False), SIGNED_OFF)


@pytest.mark.parametrize(
    ("mapped_to", "seen_by"),
    [
        pytest.param((OPEN,), {"trainee", "assessor", "coordinator", "admin"}, id="mapped to one enrolment"),
        pytest.param((ELSEWHERE,), {"trainee", "other assessor", "other coordinator", "admin"}, id="mapped elsewhere"),
        pytest.param(
            (OPEN, ELSEWHERE),
            {"trainee", "assessor", "other assessor", "coordinator", "other coordinator", "admin"},
            id="mapped to both",
        ),
        pytest.param(
            (),
            {"trainee", "assessor", "other assessor", "coordinator", "other coordinator", "admin"},
            id="mapped to none: through any enrolment of the trainee",
        ),
    ],
)
def test_evidence_is_seen_through_the_enrolments_it_is_mapped_to(mapped_to, seen_by):
    evidence = EvidenceFacts(TRAINEE, mapped_to, (OPEN, ELSEWHERE))
    assert who(policy.may_see_evidence, evidence) == seen_by


@pytest.mark.parametrize(
    ("mapped_to", "edit", "details"),
    [
        pytest.param((OPEN,), {"assessor"}, {"assessor"}, id="own unit only"),
        pytest.param((ELSEWHERE,), {"other assessor"}, {"other assessor"}, id="another unit only"),
        pytest.param((OPEN, ELSEWHERE), {"assessor", "other assessor"}, set(), id="two units, two assessors"),
        pytest.param((SIGNED_OFF,), set(), set(), id="supports a signed-off record"),
        pytest.param((), {"assessor", "other assessor"}, {"assessor", "other assessor"}, id="mapped to none"),
    ],
)
def test_evidence_is_edited_by_its_units_assessors_and_its_details_only_by_one_who_assesses_them_all(
    mapped_to, edit, details
):
    evidence = EvidenceFacts(TRAINEE, mapped_to, (OPEN, ELSEWHERE))
    assert who(policy.may_edit_evidence, evidence) == edit
    assert who(policy.may_change_evidence_details, evidence) == details


def test_only_the_trainee_acknowledges_and_submits():
    evidence = EvidenceFacts(TRAINEE, (OPEN,), (OPEN,))
    assert who(policy.may_acknowledge, evidence) == {"trainee"}
    assert who(policy.may_submit_evidence) == {"trainee", "other trainee"}


def test_evidence_is_recorded_by_an_assessor_of_an_open_enrolment_of_the_trainee():
    assert who(policy.may_record_evidence, (OPEN, SIGNED_OFF)) == {"assessor"}
    assert who(policy.may_record_evidence, (SIGNED_OFF,)) == set()


@pytest.mark.parametrize(
    ("trainee_enrolments", "may_enrol"),
    [
        pytest.param((), {"coordinator", "admin"}, id="a trainee enrolled nowhere yet"),
        pytest.param((OPEN,), {"coordinator", "admin"}, id="a trainee of the coordinator's cohorts"),
        pytest.param((OPEN, ELSEWHERE), {"admin"}, id="a trainee also in another coordinator's cohort"),
        pytest.param(
            (EnrolmentFacts(TRAINEE, frozenset(), frozenset()),), {"admin"}, id="a trainee enrolled outside any cohort"
        ),
    ],
)
def test_a_coordinator_enrols_only_in_their_cohort_and_only_trainees_they_already_reach(trainee_enrolments, may_enrol):
    assert who(policy.may_enrol, CohortFacts(frozenset({COORDINATOR})), trainee_enrolments) == may_enrol


def test_cohorts_accounts_and_carry_over():
    assert who(policy.may_run_cohort, CohortFacts(frozenset({COORDINATOR}))) == {"coordinator", "admin"}
    assert who(policy.may_run_cohorts) == {"coordinator", "other coordinator", "admin"}
    assert who(policy.may_manage_accounts) == {"admin"}
    assert who(policy.may_enrol_in_retired_unit) == {"admin"}
    assert who(policy.may_create_account, Role.ASSESSOR) == {"coordinator", "other coordinator", "admin"}
    assert who(policy.may_create_account, Role.COORDINATOR) == {"admin"}
    assert policy.may_create_account(None, Role.ADMIN)  # the command line


@pytest.mark.parametrize(
    ("enrolments", "recorders"),
    [
        pytest.param((OPEN,), {"coordinator", "admin"}, id="in one coordinator's cohorts"),
        pytest.param((OPEN, ELSEWHERE), {"admin"}, id="in two coordinators' cohorts: only an administrator"),
        pytest.param((), {"admin"}, id="enrolled nowhere"),
    ],
)
def test_a_credit_is_recorded_by_an_admin_or_the_coordinator_of_every_enrolment_of_the_trainee(enrolments, recorders):
    assert who(policy.may_record_credit, enrolments) == recorders
    # As the pages pass them: an iterator, read once and only if needed.
    assert {name for name, actor in PEOPLE.items() if policy.may_record_credit(actor, iter(enrolments))} == recorders


def test_whether_a_credit_may_be_recorded_reads_the_trainees_enrolments_only_for_a_coordinator():
    def unread():
        raise AssertionError("the trainee's enrolments were read")
        yield  # a generator, as Permissions.record_credit passes them

    others = {name: actor for name, actor in PEOPLE.items() if actor.role != Role.COORDINATOR}
    assert {name for name, actor in others.items() if policy.may_record_credit(actor, unread())} == {"admin"}


def test_a_loaded_unit_version_is_read_by_anyone_and_a_unit_file_not_loaded_by_nobody():
    loaded, not_loaded = policy.UnitFacts(loaded=True), policy.UnitFacts(loaded=False)
    assert who(policy.may_read_unit, loaded) == set(PEOPLE)  # deactivated accounts read it as the public does
    assert policy.may_read_unit(None, loaded)  # signed in or not
    assert who(policy.may_read_unit, not_loaded) == set()
    assert not policy.may_read_unit(None, not_loaded)


def test_a_token_is_made_by_any_active_account_and_revoked_by_its_owner_alone():
    assert who(policy.may_hold_tokens) == set(PEOPLE) - {"deactivated admin", "deactivated assessor"}
    assert who(policy.may_revoke_token, TRAINEE) == {"trainee"}
    assert who(policy.may_revoke_token, ADMIN) == {"admin"}  # not the deactivated one, and nobody else's


@pytest.mark.parametrize(
    ("granted", "needed", "allowed"),
    [
        (TokenScope.READ, TokenScope.READ, True),
        (TokenScope.READ, TokenScope.WRITE, False),
        (TokenScope.WRITE, TokenScope.READ, True),
        (TokenScope.WRITE, TokenScope.WRITE, True),
    ],
)
def test_a_write_token_also_reads_and_a_read_token_only_reads(granted, needed, allowed):
    assert policy.scope_allows(granted, needed) is allowed
