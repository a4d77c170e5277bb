"""Generated cohorts for demonstrations and benchmarks: a plan, the operations that carry it out, and a bulk path that
writes the same records fast."""

from __future__ import annotations

import datetime
import math
import random
import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.accounts.operations import create_user
from assessor.cohorts.operations import create_cohort, enrol
from assessor.core import audit, audit_keys
from assessor.core.database import Base
from assessor.core.passwords import hash_password, password_problem
from assessor.domain.audit_states import cohort_state, enrolment_state, evidence_state, mapping_state, user_state
from assessor.domain.completion import obstacles
from assessor.domain.errors import InvalidInput
from assessor.domain.progress import Judgement, assess
from assessor.domain.standards import Unit
from assessor.domain.vocabulary import Context, EnrolmentStatus, Method, Role, Verdict
from assessor.evidence.operations import EvidenceInput, MappingInput, acknowledge, record_evidence
from assessor.models import (
    Acknowledgement,
    AuditEvent,
    Cohort,
    Enrolment,
    EnrolmentProgress,
    Evidence,
    EvidenceMapping,
    UnitVersion,
    User,
    cohort_coordinator,
    enrolment_assessor,
    utcnow,
)
from assessor.models.accounts import search_name_of
from assessor.progress.queries import tally_columns
from assessor.records.operations import Declaration, sign_off
from assessor.standards.queries import targets_of, unit_of

NZ = "us_case_mgmt"
CSC = "cscofm023"
UNITS = (NZ, CSC)
# CSCOFM023 was deleted on 2021-01-24: generated enrolments in it all began before then.
CSC_FIRST_START = datetime.date(2020, 2, 3)
CSC_LAST_START = datetime.date(2021, 1, 18)
COHORT_SIZE = (25, 40)
TRAINEES_PER_ASSESSOR = 40
EVIDENCE_PER_TRAINEE = 20
TARGETS_PER_EVIDENCE = 3
COMPLETING_SHARE = 0.35
NOT_YET_SHARE = 0.15
ACKNOWLEDGED_SHARE = 0.5
MAX_NZ_EVIDENCE = 8
BATCH_TRAINEES = 500

MAORI_FIRST = (
    "Aroha",
    "Tūī",
    "Māia",
    "Wiremu",
    "Hēmi",
    "Rāwiri",
    "Mere",
    "Ngaio",
    "Kahurangi",
    "Tama",
    "Anahera",
    "Mānaia",
    "Hōhepa",
    "Rangi",
    "Kōwhai",
    "Whetū",
    "Tāne",
    "Ātaahua",
    "Pāora",
    "Moana",
    "Tīmoti",
    "Hinewai",
    "Kiri",
    "Ārani",
)
MAORI_LAST = (
    "Ngata",
    "Parata",
    "Tāwhiri",
    "Te Whata",
    "Pōmare",
    "Tāmihana",
    "Kīngi",
    "Ngāpō",
    "Te Rangi",
    "Tūhiwai",
    "Whaanga",
    "Mātene",
    "Pōtae",
    "Kōhere",
    "Te Kani",
    "Horomona",
    "Tūrei",
    "Wētere",
    "Māhuika",
    "Te Āwhina",
)
PAKEHA_FIRST = (
    "Olivia",
    "Jack",
    "Charlotte",
    "Liam",
    "Isla",
    "Oliver",
    "Amelia",
    "Noah",
    "Harper",
    "James",
    "Sophie",
    "Lucas",
    "Emily",
    "George",
    "Ruby",
    "Hamish",
    "Grace",
    "Finn",
    "Zoë",
    "Chloé",
    "Renée",
    "André",
    "Mia",
    "Thomas",
)
PAKEHA_LAST = (
    "Smith",
    "Williams",
    "Brown",
    "Wilson",
    "Taylor",
    "Anderson",
    "Thompson",
    "Walker",
    "Harris",
    "Campbell",
    "Robinson",
    "Clarke",
    "MacDonald",
    "O'Connor",
    "Stewart",
    "Mitchell",
    "Fraser",
    "Kerr",
    "Young",
    "McKenzie",
)
PLACES = (
    "Whangārei",
    "Tāmaki Makaurau",
    "Kirikiriroa Hamilton",
    "Tauranga",
    "Whakatāne",
    "Rotorua",
    "Taupō",
    "Heretaunga",
    "Te Papaioea",
    "Kāpiti",
    "Te Whanganui-a-Tara",
    "Whakatū Nelson",
    "Ōtautahi Christchurch",
    "Ōtepoti Dunedin",
)
LOCATIONS = {
    Method.DIRECT_OBSERVATION: (
        "Service centre, interview room {n}",
        "Community probation office, {place}",
        "Client's home visit, {place}",
    ),
    Method.QUESTIONING: ("Supervision session, {place} office", "Training room {n}, {place}"),
    Method.THIRD_PARTY_REPORT: (
        "Community probation office, {place}",
        "Housing provider, {place}",
        "Marae-based programme, {place}",
    ),
    Method.WORK_PRODUCT: ("Regional office, {place}", "{place} office"),
    Method.SIMULATION: ("Training room {n}, {place}", "Simulation suite, {place} campus"),
}
ACTIVITIES = {
    NZ: (
        "interview a new client about income support and housing",
        "calm a distressed client whose benefit had been stopped",
        "run a whānau hui about a reintegration plan",
        "explain to a client how their information would be used and shared",
        "agree reporting arrangements with a probation officer",
        "follow up a missed appointment with a client and their support worker",
    ),
    CSC: (
        "draft a case management procedure for the reintegration programme",
        "negotiate an appeal process with the team leaders",
        "review a service provider contract against the programme's objectives",
        "present monitoring results to the regional manager",
        "map the community services available to released offenders",
        "lead a case conference with probation and a housing provider",
    ),
}
NARRATIVES = {
    Method.DIRECT_OBSERVATION: "Observed {first} {activity}. {first} {detail}",
    Method.QUESTIONING: "Questioned {first} on how they would {activity}. {first} {detail}",
    Method.THIRD_PARTY_REPORT: "Report from the supervisor: {first} was asked to {activity}. {first} {detail}",
    Method.WORK_PRODUCT: "{first}'s written work, prepared to {activity}. {first} {detail}",
    Method.SIMULATION: "Role-play with an actor: {first} had to {activity}. {first} {detail}",
}
DETAILS = (
    "checked the room was private and safe before starting and explained each step.",
    "used open questions and summarised back what was said.",
    "kept the conversation moving while acknowledging the client's anger calmly.",
    "followed the organisation's protocol and recorded the outcome the same day.",
    "greeted the whānau in te reo Māori and made sure everyone was heard.",
    "set out options clearly and agreed next steps with everyone present.",
)
SATISFIED_COMMENTS = (
    "Shown clearly and consistently throughout.",
    "Met: {first} did this without prompting.",
    "Confirmed by the observation notes.",
    "Consistent with what the supervisor reported.",
    "Well handled; no concerns.",
    "Met to the organisation's standard.",
)
NOT_YET_COMMENTS = (
    "Not yet: {first} needed prompting at this step.",
    "Not yet: only partly shown; observe again.",
    "Not yet: the record is missing key facts.",
    "Not yet: discuss at the next supervision and reassess.",
)
METHOD_WEIGHTS = {
    Method.DIRECT_OBSERVATION: 45,
    Method.QUESTIONING: 15,
    Method.THIRD_PARTY_REPORT: 15,
    Method.WORK_PRODUCT: 15,
    Method.SIMULATION: 10,
}


# --- the plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedMapping:
    unit: str
    target: str
    verdict: Verdict
    comment: str


@dataclass(frozen=True)
class PlannedEvidence:
    method: Method
    context: Context
    observed_on: datetime.date
    location: str
    narrative: str
    mappings: tuple[PlannedMapping, ...]
    acknowledged: bool


@dataclass(frozen=True)
class PlannedPerson:
    username: str
    display_name: str
    email: str


@dataclass(frozen=True)
class PlannedTrainee:
    person: PlannedPerson
    assessor: int  # index into the plan's assessors
    starts: dict[str, datetime.date]
    evidence: tuple[PlannedEvidence, ...]
    signed_on: datetime.date | None  # the NZQA unit's sign-off, if it is completed


@dataclass(frozen=True)
class PlannedCohort:
    name: str
    trainees: tuple[PlannedTrainee, ...]


@dataclass(frozen=True)
class Plan:
    """Everything to generate: assessors first, then cohorts one at a time (made lazily, to keep memory flat)."""

    assessors: tuple[PlannedPerson, ...]
    cohorts: Iterator[PlannedCohort]
    trainees: int


@dataclass
class Summary:
    """What was generated."""

    trainees: int = 0
    assessors: int = 0
    cohorts: int = 0
    enrolments: int = 0
    evidence: int = 0
    mappings: int = 0
    completions: int = 0


def parse_cohort_size(text: str) -> tuple[int, int]:
    """'30' or '25-40' as (smallest, largest); ValueError when it is not that."""
    low, _, high = text.partition("-")
    smallest, largest = int(low), int(high or low)
    if not 1 <= smallest <= largest:
        raise ValueError(f"cohort size {text!r}: expected N or MIN-MAX with 1 <= MIN <= MAX")
    return smallest, largest


def make_plan(
    count: int,
    units: dict[str, Unit],
    today: datetime.date,
    seed: int = 1,
    cohort_size: tuple[int, int] = COHORT_SIZE,
    first_trainee: int = 0,
    first_assessor: int = 0,
    first_cohort: int = 0,
) -> Plan:
    """A reproducible plan of `count` trainees; the `first_*` numbers keep names unique across runs."""
    rng = random.Random(f"{seed}:{first_trainee}:assessors")
    assessors = tuple(
        _person(rng, f"as{first_assessor + k + 1}") for k in range(math.ceil(count / TRAINEES_PER_ASSESSOR))
    )
    sizes = _cohort_sizes(random.Random(f"{seed}:{first_trainee}:sizes"), count, cohort_size)

    def cohorts() -> Iterator[PlannedCohort]:
        done = 0
        for k, size in enumerate(sizes):
            rng = random.Random(f"{seed}:{first_trainee}:cohort:{k}")
            number = first_cohort + k + 1
            name = f"{rng.choice(PLACES)} case management intake {number}"
            trainees = tuple(
                _trainee(rng, first_trainee + done + i + 1, (done + i) // TRAINEES_PER_ASSESSOR, units, today)
                for i in range(size)
            )
            done += size
            yield PlannedCohort(name, trainees)

    return Plan(assessors, cohorts(), count)


def _cohort_sizes(rng: random.Random, count: int, bounds: tuple[int, int]) -> list[int]:
    sizes: list[int] = []
    while sum(sizes) < count:
        sizes.append(min(rng.randint(*bounds), count - sum(sizes)))
    return sizes


def _person(rng: random.Random, suffix: str) -> PlannedPerson:
    first = rng.choice(MAORI_FIRST if rng.random() < 0.45 else PAKEHA_FIRST)
    last = rng.choice(MAORI_LAST if rng.random() < 0.4 else PAKEHA_LAST)
    username = f"{_ascii(first)}.{_ascii(last)}.{suffix}"
    return PlannedPerson(username, f"{first} {last}", f"{username}@example.org")


def _ascii(name: str) -> str:
    """A name as username letters: macrons and accents dropped, spaces and apostrophes gone."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _trainee(
    rng: random.Random, number: int, assessor: int, units: dict[str, Unit], today: datetime.date
) -> PlannedTrainee:
    person = _person(rng, str(number))
    first = person.display_name.split(" ")[0]
    starts = {
        NZ: today - datetime.timedelta(days=rng.randint(90, 420)),
        CSC: CSC_FIRST_START + datetime.timedelta(days=rng.randint(0, (CSC_LAST_START - CSC_FIRST_START).days)),
    }
    completing = rng.random() < COMPLETING_SHARE
    nz = _unit_evidence(rng, NZ, units[NZ], first, None if completing else rng.randint(1, 5), completing)
    csc = _unit_evidence(rng, CSC, units[CSC], first, EVIDENCE_PER_TRAINEE - len(nz), False)
    nz_last = today - datetime.timedelta(days=2)
    csc_last = min(starts[CSC] + datetime.timedelta(days=900), nz_last)
    dated = _dated(rng, nz, starts[NZ] + datetime.timedelta(days=7), nz_last) + _dated(
        rng, csc, starts[CSC] + datetime.timedelta(days=14), csc_last
    )
    evidence = tuple(sorted(dated, key=lambda e: e.observed_on))
    signed_on = None
    if completing:
        last_nz = max(e.observed_on for e in evidence if e.mappings[0].unit == NZ)
        signed_on = min(last_nz + datetime.timedelta(days=rng.randint(1, 10)), today)
    return PlannedTrainee(person, assessor, starts, evidence, signed_on)


def _unit_evidence(
    rng: random.Random, unit_id: str, unit: Unit, first: str, count: int | None, complete: bool
) -> list[PlannedEvidence]:
    """Evidence for one unit, each mapped to three targets, the unsatisfied ones first; `complete` goes on until all are
    met."""
    targets = [c.number for c in unit.criteria()] + [i.id for i in unit.assessable_items()]
    met: set[str] = set()
    pieces: list[PlannedEvidence] = []
    while (len(met) < len(targets) and len(pieces) < MAX_NZ_EVIDENCE) if complete else len(pieces) < (count or 0):
        method = rng.choices(list(METHOD_WEIGHTS), weights=list(METHOD_WEIGHTS.values()))[0]
        context = _context(rng, method, complete)
        open_ = [t for t in targets if t not in met]
        chosen = rng.sample(open_[:5], min(TARGETS_PER_EVIDENCE, len(open_[:5])))
        chosen += rng.sample([t for t in targets if t not in chosen], TARGETS_PER_EVIDENCE - len(chosen))
        last_chance = complete and len(pieces) == MAX_NZ_EVIDENCE - 1
        mappings = []
        for target in sorted(chosen, key=targets.index):
            ok = last_chance or rng.random() >= NOT_YET_SHARE
            comment = rng.choice(SATISFIED_COMMENTS if ok else NOT_YET_COMMENTS).format(first=first)
            mappings.append(PlannedMapping(unit_id, target, Verdict.SATISFIED if ok else Verdict.NOT_YET, comment))
            if ok and unit.rules.accepts(context.value):
                met.add(target)
        place = rng.choice(PLACES)
        location = rng.choice(LOCATIONS[method]).format(n=rng.randint(1, 6), place=place)
        narrative = NARRATIVES[method].format(
            first=first, activity=rng.choice(ACTIVITIES[unit_id]), detail=rng.choice(DETAILS)
        )
        pieces.append(
            PlannedEvidence(
                method,
                context,
                datetime.date.min,
                location,
                narrative,
                tuple(mappings),
                rng.random() < ACKNOWLEDGED_SHARE,
            )
        )
    return pieces


def _context(rng: random.Random, method: Method, complete: bool) -> Context:
    if method == Method.SIMULATION:
        return Context.SIMULATED_WORKPLACE
    if method == Method.QUESTIONING and not complete and rng.random() < 0.3:
        return Context.OFF_THE_JOB  # not accepted by either unit: realistic, and it shows as discounted
    return Context.WORKPLACE


def _dated(
    rng: random.Random, pieces: list[PlannedEvidence], first: datetime.date, last: datetime.date
) -> list[PlannedEvidence]:
    span = max((last - first).days, 0)
    days = sorted(rng.randint(0, span) for _ in pieces)
    return [replace(p, observed_on=first + datetime.timedelta(days=d)) for p, d in zip(pieces, days, strict=True)]


# --- where generation starts --------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """What generation builds on: the demo's admin and coordinator, the unit versions, and the counts so far."""

    admin: User
    coordinator: User
    versions: dict[str, UnitVersion]
    trainees: int
    assessors: int
    cohorts: int


def starting_point(session: so.Session) -> Start:
    """The demo's staff and the latest version of each seed unit; refused when the demo is not there."""
    staff = {u.username: u for u in session.scalars(sa.select(User).where(User.username.in_(("admin", "coordinator"))))}
    if set(staff) != {"admin", "coordinator"}:
        raise InvalidInput(
            {"demo": "Generated cohorts build on the demo accounts admin and coordinator: create the demo first."}
        )
    versions = {
        v.unit_id: v
        for v in session.scalars(
            sa.select(UnitVersion).where(UnitVersion.unit_id.in_(UNITS)).order_by(UnitVersion.version)
        )
    }
    if set(versions) != set(UNITS):
        raise InvalidInput({"units": f"Load both seed units ({', '.join(UNITS)}) first."})
    counts = dict(session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all())
    cohorts = session.scalar(sa.select(sa.func.count()).select_from(Cohort)) or 0
    return Start(
        staff["admin"],
        staff["coordinator"],
        versions,
        counts.get(Role.TRAINEE, 0),
        counts.get(Role.ASSESSOR, 0),
        cohorts,
    )


def plan_from(start: Start, count: int, today: datetime.date, seed: int, cohort_size: tuple[int, int]) -> Plan:
    """The plan for `count` more trainees after what the database holds."""
    units = {unit_id: unit_of(v) for unit_id, v in start.versions.items()}
    return make_plan(count, units, today, seed, cohort_size, start.trainees, start.assessors, start.cohorts)


# --- the reference path: the operations themselves ------------------------------------------------


def generate_with_operations(
    session: so.Session,
    count: int,
    password: str,
    today: datetime.date | None = None,
    seed: int = 1,
    cohort_size: tuple[int, int] = COHORT_SIZE,
) -> Summary:
    """Carry out the plan through the operations users use, in the caller's transaction: slow, and the model for the
    bulk path."""
    today = today or datetime.date.today()
    start = starting_point(session)
    plan = plan_from(start, count, today, seed, cohort_size)
    summary = Summary(assessors=len(plan.assessors))
    assessors = [
        create_user(session, None, p.username, p.display_name, Role.ASSESSOR, password, p.email) for p in plan.assessors
    ]
    for planned in plan.cohorts:
        cohort = create_cohort(session, start.admin, planned.name, [start.coordinator])
        sign_offs = []
        for t in planned.trainees:
            trainee = create_user(
                session, None, t.person.username, t.person.display_name, Role.TRAINEE, password, t.person.email
            )
            assessor = assessors[t.assessor]
            enrolments = {
                u: enrol(session, _enroller(start, u), trainee, start.versions[u], [assessor], t.starts[u], cohort)
                for u in UNITS
            }
            for e in t.evidence:
                mappings = [MappingInput(enrolments[m.unit].id, m.target, m.verdict, m.comment) for m in e.mappings]
                data = EvidenceInput(e.method, e.context, e.observed_on, e.narrative, e.location)
                evidence = record_evidence(session, assessor, trainee, data, mappings, today=today)
                if e.acknowledged:
                    acknowledge(session, trainee, evidence)
                summary.evidence += 1
                summary.mappings += len(mappings)
            if t.signed_on is not None:
                sign_offs.append((assessor, enrolments[NZ], t.signed_on))
        for assessor, enrolment, signed_on in sign_offs:
            sign_off(session, assessor, enrolment, Declaration(True, True, True, True), signed_on)
        summary.cohorts += 1
        summary.trainees += len(planned.trainees)
        summary.enrolments += len(planned.trainees) * len(UNITS)
        summary.completions += len(sign_offs)
    return summary


def _enroller(start: Start, unit_id: str) -> User:
    """Who enrols trainees in a unit: the coordinator, or the admin where the unit is no longer current (a carry-
    over)."""
    return start.coordinator if unit_of(start.versions[unit_id]).usage.is_current else start.admin


# --- the bulk path ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Actor:
    id: int
    username: str
    search_name: str


@dataclass
class _OpenEnrolment:
    """What the bulk path tracks of an enrolment while evidence is added: its state and its judgements."""

    id: int
    unit_id: str
    trainee_name: str
    state: dict[str, Any]
    judgements: list[Judgement] = field(default_factory=list)
    satisfied: set[str] = field(default_factory=set)
    version: int = 1


# The models' tables, typed as tables (`Model.__table__` is typed as any FROM clause).
_TABLES: dict[type[Base], sa.Table] = {
    model: Base.metadata.tables[model.__tablename__]
    for model in (User, Cohort, Enrolment, EnrolmentProgress, Evidence, EvidenceMapping, Acknowledgement, AuditEvent)
}
# Tables written with explicit ids, in the order foreign keys need; audit events go last.
_ID_TABLES = (
    _TABLES[User],
    _TABLES[Cohort],
    _TABLES[Enrolment],
    _TABLES[Evidence],
    _TABLES[EvidenceMapping],
    _TABLES[Acknowledgement],
)
_INSERT_ORDER = (
    _TABLES[User],
    _TABLES[Cohort],
    cohort_coordinator,
    _TABLES[Enrolment],
    _TABLES[EnrolmentProgress],
    enrolment_assessor,
    _TABLES[Evidence],
    _TABLES[EvidenceMapping],
    _TABLES[Acknowledgement],
    _TABLES[AuditEvent],
)


class _BulkWriter:
    """Rows and chained audit events made in memory exactly as the operations make them, written with executemany."""

    def __init__(self, session: so.Session, start: Start, password_hash: str):
        self.session = session
        self.password_hash = password_hash
        self.admin = _Actor(start.admin.id, start.admin.username, start.admin.search_name)
        self.coordinator = _Actor(start.coordinator.id, start.coordinator.username, start.coordinator.search_name)
        self.versions = {u: (v.id, v.key, unit_of(v), targets_of(v)) for u, v in start.versions.items()}
        self.rows: dict[sa.Table, list[dict[str, Any]]] = defaultdict(list)
        self.begin()

    def begin(self) -> None:
        """Take up the chain (its lock, its key) and the ids where the database leaves them (at the start of each
        transaction)."""
        end = audit.tail(self.session)
        self.next_id = {t: (self.session.scalar(sa.select(sa.func.max(t.c.id))) or 0) + 1 for t in _ID_TABLES}
        self.seq, self.prev_hash, self.key, self.chain = end.seq, end.hash, end.key, end.chain

    def add(self, table: sa.Table, **values: Any) -> int:
        """Queue one row, with the next id when the table has one; return the id."""
        if table in self.next_id:
            values["id"] = self.next_id[table]
            self.next_id[table] += 1
        self.rows[table].append(values)
        return values.get("id", 0)

    def event(
        self,
        actor: _Actor | None,
        action: str,
        entity_type: str,
        entity_id: object,
        before: dict | None,
        after: dict | None,
    ) -> None:
        """Queue one audit event chained to the last, exactly as audit.record makes it."""
        self.seq += 1
        event = audit.link(
            self.seq,
            self.prev_hash,
            (actor.id, actor.username) if actor else None,
            action,
            entity_type,
            entity_id,
            before,
            after,
            self.key,
            self.chain,
        )
        self.rows[_TABLES[AuditEvent]].append(vars(event))
        self.prev_hash = event.hash

    def flush(self) -> None:
        """Write every queued row, table by table, one executemany each."""
        for table in _INSERT_ORDER:
            if rows := self.rows.pop(table, None):
                self.session.execute(sa.insert(table), rows)
                if table is _TABLES[AuditEvent]:
                    audit_keys.appended(self.session, self.chain, self.seq, self.prev_hash)  # for the checkpoint

    def finish(self) -> None:
        """After explicit ids, move PostgreSQL's sequences on so that later inserts do not collide."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        for table in _ID_TABLES:
            self.session.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
                )
            )

    # --- the operations, as rows ---

    def user(self, person: PlannedPerson, role: Role) -> _Actor:
        """create_user by the system."""
        user_id = self.add(
            _TABLES[User],
            username=person.username,
            display_name=person.display_name,
            email=person.email,
            password_hash=self.password_hash,
            role=role,
            active=True,
            created_at=utcnow(),
            session_token=secrets.token_urlsafe(32),
            search_name=(search_name := search_name_of(person.display_name, person.username)),
        )
        state = user_state(person.username, person.display_name, person.email, role, True)
        self.event(None, "user.create", "user", user_id, None, state)
        return _Actor(user_id, person.username, search_name)

    def cohort(self, name: str) -> int:
        """create_cohort by the admin, run by the coordinator."""
        cohort_id = self.add(_TABLES[Cohort], name=name, created_at=utcnow())
        self.add(cohort_coordinator, cohort_id=cohort_id, user_id=self.coordinator.id)
        self.event(
            self.admin, "cohort.create", "cohort", cohort_id, None, cohort_state(name, [self.coordinator.username])
        )
        return cohort_id

    def enrol(
        self, trainee: _Actor, unit_id: str, assessor: _Actor, start_date: datetime.date, cohort_id: int
    ) -> _OpenEnrolment:
        """enrol by the coordinator; the row itself is queued once its evidence is in (see close)."""
        _version_id, key, unit, _targets = self.versions[unit_id]
        enrolment_id = self.next_id[_TABLES[Enrolment]]
        self.next_id[_TABLES[Enrolment]] += 1
        self.add(enrolment_assessor, enrolment_id=enrolment_id, user_id=assessor.id)
        state = enrolment_state(trainee.id, key, cohort_id, [assessor.id], EnrolmentStatus.ACTIVE, start_date, None)
        enroller = self.coordinator if unit.usage.is_current else self.admin  # as _enroller
        self.event(enroller, "enrolment.create", "enrolment", enrolment_id, None, state)
        return _OpenEnrolment(enrolment_id, unit_id, trainee.search_name, state)

    def close(self, enrolment: _OpenEnrolment, version_id: int, start_date: datetime.date) -> None:
        """Queue the enrolment's row and its tally as they stand after its evidence."""
        unit = self.versions[enrolment.unit_id][2]
        self.add(
            _TABLES[EnrolmentProgress],
            enrolment_id=enrolment.id,
            unit_title=unit.title,
            trainee_name=enrolment.trainee_name,
            **tally_columns(assess(unit, enrolment.judgements).tally()),
        )
        self.rows[_TABLES[Enrolment]].append(
            {
                "id": enrolment.id,
                "trainee_id": enrolment.state["trainee"],
                "unit_version_id": version_id,
                "cohort_id": enrolment.state["cohort"],
                "status": EnrolmentStatus(enrolment.state["status"]),
                "start_date": start_date,
                "end_date": None,
                "version": enrolment.version,
            }
        )

    def evidence(
        self, assessor: _Actor, trainee: _Actor, planned: PlannedEvidence, enrolments: dict[str, _OpenEnrolment]
    ) -> int:
        """record_evidence by the assessor, then acknowledge by the trainee when planned."""
        evidence_id = self.add(
            _TABLES[Evidence],
            trainee_id=trainee.id,
            method=planned.method,
            context=planned.context,
            observed_on=planned.observed_on,
            location=planned.location.strip(),
            narrative=planned.narrative.strip(),
            recorded_by_id=assessor.id,
            recorded_at=utcnow(),
            submitted_by_trainee=False,
            version=1,
        )
        state = evidence_state(
            trainee.id,
            planned.method,
            planned.context,
            planned.observed_on,
            planned.location.strip(),
            planned.narrative.strip(),
            [],
        )
        self.event(assessor, "evidence.record", "evidence", evidence_id, None, state)
        touched = {}
        for m in planned.mappings:
            enrolment = enrolments[m.unit]
            self._map(assessor, evidence_id, planned, enrolment, m)
            touched[enrolment.id] = enrolment
        for enrolment_id in sorted(touched):
            self._reassess(assessor, touched[enrolment_id])
        if planned.acknowledged:
            self.add(
                _TABLES[Acknowledgement],
                evidence_id=evidence_id,
                evidence_version=1,
                trainee_id=trainee.id,
                acknowledged_at=utcnow(),
            )
            self.event(trainee, "evidence.acknowledge", "evidence", evidence_id, None, {"version": 1})
        return evidence_id

    def _map(
        self, assessor: _Actor, evidence_id: int, planned: PlannedEvidence, enrolment: _OpenEnrolment, m: PlannedMapping
    ) -> None:
        targets = self.versions[enrolment.unit_id][3]
        comment = m.comment.strip()
        mapping_id = self.add(
            _TABLES[EvidenceMapping],
            evidence_id=evidence_id,
            enrolment_id=enrolment.id,
            target_kind=targets[m.target],
            target=m.target,
            verdict=m.verdict,
            comment=comment,
            judged_by_id=assessor.id,
            judged_at=utcnow(),
            version=1,
        )
        state = mapping_state(mapping_id, enrolment.id, m.target, m.verdict, comment)
        self.event(assessor, "mapping.add", "evidence", evidence_id, None, state)
        enrolment.judgements.append(
            Judgement(evidence_id, m.target, m.verdict, planned.context.value, planned.observed_on)
        )
        if m.verdict == Verdict.SATISFIED:
            enrolment.satisfied.add(m.target)

    def _reassess(self, actor: _Actor, enrolment: _OpenEnrolment) -> None:
        """reassess: between active and ready for sign-off, by the same rules."""
        _version_id, _key, unit, targets = self.versions[enrolment.unit_id]
        current = EnrolmentStatus(enrolment.state["status"])
        # A target with no satisfied judgement at all is an obstacle for certain, so the full check can wait until none
        # is left.
        if current == EnrolmentStatus.ACTIVE and len(enrolment.satisfied) < len(targets):
            return
        found = obstacles(unit, assess(unit, enrolment.judgements), current)
        status = EnrolmentStatus.ACTIVE if found else EnrolmentStatus.READY_FOR_SIGN_OFF
        if status != current:
            before = enrolment.state
            enrolment.state = {**before, "status": status.value}
            enrolment.version += 1
            self.event(actor, "enrolment.status", "enrolment", enrolment.id, before, enrolment.state)


def generate(
    sessions: so.sessionmaker,
    count: int,
    password: str,
    today: datetime.date | None = None,
    seed: int = 1,
    cohort_size: tuple[int, int] = COHORT_SIZE,
    batch: int = BATCH_TRAINEES,
    on_batch: Callable[[Summary], None] | None = None,
) -> Summary:
    """The plan written in bulk: the same rows and audit events as generate_with_operations, one transaction per batch
    of cohorts."""
    today = today or datetime.date.today()
    if (why := password_problem(password)) is not None:
        raise InvalidInput({"password": why})
    password_hash = hash_password(password)  # once: argon2 for every generated account would take hours
    summary = Summary()
    with sessions.begin() as session:
        start = starting_point(session)
        plan = plan_from(start, count, today, seed, cohort_size)
        writer = _BulkWriter(session, start, password_hash)
        assessors = [writer.user(p, Role.ASSESSOR) for p in plan.assessors]
        summary.assessors = len(assessors)
        writer.flush()
        writer.finish()
    cohorts = iter(plan.cohorts)
    while True:
        with sessions.begin() as session:
            writer.session = session
            writer.begin()
            written = 0
            for planned in cohorts:
                _write_cohort(writer, planned, assessors, start, summary)
                written += len(planned.trainees)
                if written >= batch:
                    break
            writer.finish()
        if on_batch is not None:
            on_batch(summary)
        if summary.trainees >= plan.trainees:
            return summary


def _write_cohort(
    writer: _BulkWriter, planned: PlannedCohort, assessors: Sequence[_Actor], start: Start, summary: Summary
) -> None:
    """One cohort: its rows and events in memory, written, then its completed units signed off through sign_off."""
    cohort_id = writer.cohort(planned.name)
    sign_offs = []
    for t in planned.trainees:
        trainee = writer.user(t.person, Role.TRAINEE)
        assessor = assessors[t.assessor]
        enrolments = {u: writer.enrol(trainee, u, assessor, t.starts[u], cohort_id) for u in UNITS}
        for e in t.evidence:
            writer.evidence(assessor, trainee, e, enrolments)
            summary.evidence += 1
            summary.mappings += len(e.mappings)
        for u, enrolment in enrolments.items():
            writer.close(enrolment, writer.versions[u][0], t.starts[u])
        if t.signed_on is not None:
            sign_offs.append((assessor.id, enrolments[NZ].id, t.signed_on))
    writer.flush()
    session = writer.session
    for assessor_id, enrolment_id, signed_on in sign_offs:
        sign_off(
            session,
            session.get_one(User, assessor_id),
            session.get_one(Enrolment, enrolment_id),
            Declaration(True, True, True, True),
            signed_on,
        )
    if sign_offs:
        session.expunge_all()
        last = session.execute(
            sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        ).one()
        writer.seq, writer.prev_hash = last.seq, last.hash
    summary.cohorts += 1
    summary.trainees += len(planned.trainees)
    summary.enrolments += len(planned.trainees) * len(UNITS)
    summary.completions += len(sign_offs)
