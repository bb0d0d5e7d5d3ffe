"""Every ORM class, one module per domain; importing this package registers them all."""

from phongdich.models.accounts import ApiToken, AuthAttempt, PhoneCode, RoleGrant, User, WebSession
from phongdich.models.areas import Area, AreaSetting
from phongdich.models.audit import AuditEntry
from phongdich.models.checkins import HistoryLookup, UncountedVisit, Visit
from phongdich.models.jobs import BackgroundJob, JobRun
from phongdich.models.messaging import SmsMessage
from phongdich.models.people import Person, PersonQrCode
from phongdich.models.tracing import (
    Case,
    Contact,
    EpiTimeline,
    ExposureCandidate,
    ExposureNotice,
    FollowUp,
    TracingExport,
    VenueAlert,
)
from phongdich.models.venues import (
    SigningKey,
    Venue,
    VenueDailyActivity,
    VenueLocation,
    VenueType,
    VenueVisitor,
)

__all__ = [
    "ApiToken",
    "Area",
    "AreaSetting",
    "AuditEntry",
    "AuthAttempt",
    "BackgroundJob",
    "Case",
    "Contact",
    "EpiTimeline",
    "ExposureCandidate",
    "ExposureNotice",
    "FollowUp",
    "HistoryLookup",
    "JobRun",
    "Person",
    "PersonQrCode",
    "PhoneCode",
    "RoleGrant",
    "SigningKey",
    "SmsMessage",
    "TracingExport",
    "UncountedVisit",
    "User",
    "Venue",
    "VenueAlert",
    "VenueDailyActivity",
    "VenueLocation",
    "VenueType",
    "VenueVisitor",
    "Visit",
    "WebSession",
]
