"""The roles of `domain.md`, the scope each is held in, and the actions each may take."""

from __future__ import annotations

from enum import StrEnum

from phongdich.core.i18n import N_


class Role(StrEnum):
    CITIZEN = "citizen"
    VENUE_OWNER = "venue_owner"
    VENUE_STAFF = "venue_staff"
    CHECKPOINT_OFFICER = "checkpoint_officer"
    HEALTH_OFFICER = "health_officer"
    VACCINATION_STAFF = "vaccination_staff"
    COMMUNE_OFFICIAL = "commune_official"
    DISTRICT_OFFICIAL = "district_official"
    PROVINCE_OFFICIAL = "province_official"
    ADMIN = "admin"


class Scope(StrEnum):
    SELF = "self"  # acts on their own data only
    AREA = "area"  # held in an administrative area
    AREA_OR_NATION = "area_or_nation"
    OBJECT = "object"  # held for one venue / vaccination site


ROLE_LABELS = {
    Role.CITIZEN: N_("Người dân"),
    Role.VENUE_OWNER: N_("Chủ địa điểm"),
    Role.VENUE_STAFF: N_("Người kiểm soát địa điểm"),
    Role.CHECKPOINT_OFFICER: N_("Cán bộ chốt kiểm dịch"),
    Role.HEALTH_OFFICER: N_("Cán bộ y tế / truy vết"),
    Role.VACCINATION_STAFF: N_("Nhân viên điểm tiêm"),
    Role.COMMUNE_OFFICIAL: N_("Cán bộ xã"),
    Role.DISTRICT_OFFICIAL: N_("Cán bộ huyện"),
    Role.PROVINCE_OFFICIAL: N_("Cán bộ tỉnh"),
    Role.ADMIN: N_("Quản trị Sở TT&TT"),
}

ROLE_SCOPE = {
    Role.CITIZEN: Scope.SELF,
    Role.VENUE_OWNER: Scope.OBJECT,
    Role.VENUE_STAFF: Scope.OBJECT,
    Role.CHECKPOINT_OFFICER: Scope.AREA,
    Role.HEALTH_OFFICER: Scope.AREA,
    Role.VACCINATION_STAFF: Scope.OBJECT,
    Role.COMMUNE_OFFICIAL: Scope.AREA,
    Role.DISTRICT_OFFICIAL: Scope.AREA,
    Role.PROVINCE_OFFICIAL: Scope.AREA,
    Role.ADMIN: Scope.AREA_OR_NATION,
}

# The area level an area role is held at; a grant at another level is refused.
ROLE_AREA_LEVEL = {
    Role.COMMUNE_OFFICIAL: {"commune"},
    Role.DISTRICT_OFFICIAL: {"district"},
    Role.PROVINCE_OFFICIAL: {"province"},
    Role.HEALTH_OFFICER: {"commune", "district", "province"},
    Role.CHECKPOINT_OFFICER: {"commune", "district", "province"},
    Role.ADMIN: {"province"},
}

ROLE_OBJECT_TYPE = {
    Role.VENUE_OWNER: "venue",
    Role.VENUE_STAFF: "venue",
    Role.VACCINATION_STAFF: "vaccination_site",
}

_OFFICIAL = {
    "area.settings.read",
    "area.settings.change",
    "report.read",
    "user.read",
    "venue.read",
    "venue.create",
    "venue.approve",
    "venue.manage",
    # People and movement history (check-ins): look-ups need a stated purpose and are logged.
    "person.read",
    "person.merge",
    "person.history.read",
}

# Which actions each role may take, within the scope of its grant.
ROLE_ACTIONS: dict[Role, frozenset[str]] = {
    Role.CITIZEN: frozenset({"self.read", "self.change", "venue.register"}),
    Role.VENUE_OWNER: frozenset(
        {
            "venue.read",
            "venue.manage",
            "venue.staff.manage",
            "venue.scan",
            "venue.visits.read",
            "api_token.manage",
        }
    ),
    Role.VENUE_STAFF: frozenset({"venue.read", "venue.scan", "venue.visits.read"}),
    Role.CHECKPOINT_OFFICER: frozenset({"checkpoint.scan", "declaration.read"}),
    Role.HEALTH_OFFICER: frozenset(
        {
            "case.read",
            "case.manage",
            "person.read",
            "person.merge",
            "person.history.read",
            "report.read",
            "venue.read",
        }
    ),
    Role.VACCINATION_STAFF: frozenset({"vaccination.record", "vaccination.correct"}),
    Role.COMMUNE_OFFICIAL: frozenset(_OFFICIAL | {"zone.level.propose"}),
    Role.DISTRICT_OFFICIAL: frozenset(_OFFICIAL | {"zone.level.propose"}),
    Role.PROVINCE_OFFICIAL: frozenset(_OFFICIAL | {"zone.level.set"}),
    Role.ADMIN: frozenset(
        _OFFICIAL
        | {
            "user.manage",
            "audit.read",
            "sms.outbox.read",
            "api_token.manage",
            "jobs.read",
            "venue.type.manage",
        }
    ),
}

# Where each role lands after signing in, and what its home page offers first.
OFFICIAL_ROLES = {
    Role.COMMUNE_OFFICIAL,
    Role.DISTRICT_OFFICIAL,
    Role.PROVINCE_OFFICIAL,
    Role.ADMIN,
}
