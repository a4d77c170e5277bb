"""The records as typed SQLAlchemy models, one module per aggregate; importing this package registers every table."""

from assessor.models import pending  # noqa: F401  (hides the rows of imports still being written from every query)
from assessor.models.accounts import AccountToken, LoginFailure, NameContains, RecoveryCode, User, UserSession
from assessor.models.api import ApiToken, ApiWrite
from assessor.models.audit import AuditEvent
from assessor.models.columns import AmongIds, utcnow
from assessor.models.credentials import IssuedCredential
from assessor.models.enrolments import Cohort, Enrolment, EnrolmentProgress, cohort_coordinator, enrolment_assessor
from assessor.models.evidence import Acknowledgement, Attachment, Evidence, EvidenceMapping, GroupObservation
from assessor.models.jobs import Job
from assessor.models.mail import MailMessage
from assessor.models.quality import CountersignRule, ReviewDecision, SampleReview, SamplingPlan
from assessor.models.records import CompletionRecord, Credit, LogbookEntry, Revocation
from assessor.models.retention import LegalHold
from assessor.models.standards import UnitStatus, UnitVersion

__all__ = [
    "AccountToken",
    "Acknowledgement",
    "AmongIds",
    "ApiToken",
    "ApiWrite",
    "Attachment",
    "AuditEvent",
    "Cohort",
    "CompletionRecord",
    "CountersignRule",
    "Credit",
    "Enrolment",
    "EnrolmentProgress",
    "Evidence",
    "EvidenceMapping",
    "GroupObservation",
    "IssuedCredential",
    "Job",
    "LegalHold",
    "LogbookEntry",
    "LoginFailure",
    "MailMessage",
    "RecoveryCode",
    "ReviewDecision",
    "Revocation",
    "SampleReview",
    "SamplingPlan",
    "UnitStatus",
    "UnitVersion",
    "NameContains",
    "User",
    "UserSession",
    "cohort_coordinator",
    "enrolment_assessor",
    "utcnow",
]
