"""Every ORM class, one module per domain; importing this package registers them all."""

from phongdich.models.accounts import ApiToken, AuthAttempt, PhoneCode, RoleGrant, User, WebSession
from phongdich.models.areas import Area, AreaSetting
from phongdich.models.audit import AuditEntry
from phongdich.models.checkins import HistoryLookup, Visit
from phongdich.models.jobs import BackgroundJob, JobRun
from phongdich.models.messaging import SmsMessage
from phongdich.models.people import Person, PersonQrCode
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
    "HistoryLookup",
    "JobRun",
    "Person",
    "PersonQrCode",
    "PhoneCode",
    "RoleGrant",
    "SigningKey",
    "SmsMessage",
    "User",
    "Venue",
    "VenueDailyActivity",
    "VenueLocation",
    "VenueType",
    "VenueVisitor",
    "Visit",
    "WebSession",
]
