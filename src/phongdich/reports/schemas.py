"""Shapes of the venue report, shared by the page, the Excel export, the API and the CLI."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, computed_field


class VenueReportRow(BaseModel):
    """One line of the report: a district, a commune, a venue type, or the total."""

    key: str  # area code or venue-type code; "" for the total
    name: str
    parent_name: str | None = None  # the district of a commune (communes share names)
    registered: int = 0  # approved venues that existed during the range
    active: int = 0  # of which with at least one scan (visit) in the range
    scans: int = 0  # visits in the range (poster checks not included)
    visitors: int = 0  # distinct people per venue per day, added up over the range

    @computed_field  # type: ignore[prop-decorator]
    @property
    def dormant(self) -> int:
        return self.registered - self.active

    @computed_field  # type: ignore[prop-decorator]
    @property
    def active_percent(self) -> float:
        return round(100 * self.active / self.registered, 1) if self.registered else 0.0

    def add(self, other: VenueReportRow) -> None:
        self.registered += other.registered
        self.active += other.active
        self.scans += other.scans
        self.visitors += other.visitors


class VenueReport(BaseModel):
    """Registered, active and dormant venues and their scans, for a range of local days."""

    date_from: date
    date_to: date
    scope: str  # the area the report covers, e.g. "Huyện Hoà An, Tỉnh Cao Bằng"
    generated_at: datetime
    total: VenueReportRow
    by_district: list[VenueReportRow]
    by_commune: list[VenueReportRow]
    by_type: list[VenueReportRow]


class DormantVenue(BaseModel):
    """A venue without any scan in the range, with whom to call about it."""

    id: int
    name: str
    short_code: str
    type_name: str
    status: str
    street_address: str
    commune: str
    district: str
    last_scan_at: datetime | None
    owner_name: str | None
    owner_phone: str | None
    contact_phone: str | None


class DormantList(BaseModel):
    date_from: date
    date_to: date
    scope: str
    total: int
    venues: list[DormantVenue]
