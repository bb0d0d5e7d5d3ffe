"""Excel files of the venue report and of the dormant-venue follow-up list."""

from __future__ import annotations

from phongdich.core.clock import format_date, format_datetime
from phongdich.core.phone import display_phone
from phongdich.core.spreadsheet import add_sheet, new_workbook, to_bytes
from phongdich.reports.schemas import DormantList, VenueReport, VenueReportRow

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_COUNTS = ["Đã đăng ký", "Có lượt quét", "Không có lượt quét", "Tỷ lệ có quét (%)", "Lượt quét"]


def _counts(row: VenueReportRow) -> list[int | float]:
    return [row.registered, row.active, row.dormant, row.active_percent, row.scans]


def venue_report_xlsx(report: VenueReport) -> bytes:
    """Sheets: summary and districts, communes, types; the totals equal the page's."""
    period = f"{format_date(report.date_from)} – {format_date(report.date_to)}"
    wb = new_workbook()
    add_sheet(
        wb,
        "Theo huyện",
        ["Mã", "Huyện / thành phố", *_COUNTS],
        [
            *[[r.key, r.name, *_counts(r)] for r in report.by_district],
            ["", report.total.name, *_counts(report.total)],
        ],
        widths=[8, 44, 14, 14, 18, 18, 12],
    )
    add_sheet(
        wb,
        "Theo xã",
        ["Mã", "Xã / phường / thị trấn", "Thuộc", *_COUNTS],
        [[r.key, r.name, r.parent_name or "", *_counts(r)] for r in report.by_commune],
        widths=[8, 30, 26, 14, 14, 18, 18, 12],
    )
    add_sheet(
        wb,
        "Theo loại",
        ["Mã loại", "Loại địa điểm", *_COUNTS],
        [[r.key, r.name, *_counts(r)] for r in report.by_type],
        widths=[16, 40, 14, 14, 18, 18, 12],
    )
    add_sheet(
        wb,
        "Thông tin",
        ["Mục", "Giá trị"],
        [
            ["Báo cáo", "Địa điểm quét mã QR: đã đăng ký, có và không có lượt quét"],
            ["Địa bàn", report.scope],
            ["Thời gian", period],
            ["Lập lúc", format_datetime(report.generated_at)],
        ],
        widths=[16, 80],
    )
    return to_bytes(wb)


def dormant_xlsx(data: DormantList) -> bytes:
    """The follow-up list: who to call about each venue without scans."""
    wb = new_workbook()
    add_sheet(
        wb,
        "Không có lượt quét",
        [
            "Tên địa điểm",
            "Mã",
            "Loại",
            "Địa chỉ",
            "Xã / phường",
            "Huyện / thành phố",
            "Trạng thái",
            "Lượt quét gần nhất",
            "Chủ địa điểm",
            "Điện thoại chủ",
            "Điện thoại liên hệ",
        ],
        [
            [
                v.name,
                v.short_code,
                v.type_name,
                v.street_address,
                v.commune,
                v.district,
                v.status,
                format_datetime(v.last_scan_at),
                v.owner_name or "",
                display_phone(v.owner_phone) if v.owner_phone else "",
                display_phone(v.contact_phone) if v.contact_phone else "",
            ]
            for v in data.venues
        ],
        widths=[36, 11, 28, 34, 24, 24, 12, 18, 24, 16, 16],
    )
    return to_bytes(wb)
