"""In headless Chromium on a phone: a district official imports a file too big to write within
the request; the page hands over to the job's status page, which refreshes itself until the
job (run here by a worker's own calls) is done, then links to the venue list."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from phongdich.core.clock import SystemClock
from phongdich.jobs.registry import background_handlers
from phongdich.jobs.runner import claim_next, run_background_job
from phongdich.models import Venue
from phongdich.venues.imports import IN_REQUEST_ROWS
from tests.browser.conftest import LiveServer, fits_the_screen, screenshot
from tests.browser.test_venue_flow import sign_in_official

pytestmark = pytest.mark.browser
ROWS = IN_REQUEST_ROWS + 50
SHOWN = f"{ROWS:,}".replace(",", ".")  # 2.050: counts are written the Vietnamese way
SONG_HIEN = "01267"  # a ward of Thành phố Cao Bằng, the official's district


def test_a_big_import_goes_through_its_status_page(live_server: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    header = "Tên địa điểm,Loại địa điểm,Địa chỉ,Mã xã\n"
    rows = "".join(f"Chợ nhập lô {i},market,Tổ {i},{SONG_HIEN}\n" for i in range(ROWS))
    sign_in_official(live_server, page, "huyen.tpcaobang")
    page.goto(live_server.url + "/venues/import")
    page.get_by_label("Chọn tệp").set_input_files(
        {"name": "lo-lon.csv", "mimeType": "text/csv", "buffer": (header + rows).encode()}
    )
    page.get_by_role("button", name="Xem trước").click()
    page.get_by_role("button", name=f"Nhập tất cả {SHOWN} địa điểm").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    status = page.locator("[data-status]")
    assert status.get_attribute("data-status") == "queued" and status.inner_text() == "Đang chờ"
    assert fits_the_screen(page)

    job_id = claim_next(live_server.factory, "browser-test-worker", SystemClock().now())
    assert job_id is not None and page.url.endswith(f"/jobs/{job_id}")
    outcome = run_background_job(live_server.factory, background_handlers(), job_id, SystemClock())
    assert outcome == "done"
    # No reload by the test: the page's own refresh brings the result.
    page.get_by_text(f"Đã nhập {SHOWN} địa điểm.").wait_for(timeout=10_000)
    assert status.get_attribute("data-status") == "done"
    assert page.get_by_text(f"{SHOWN} / {SHOWN}").is_visible()
    screenshot(page, "import-job-done")
    page.get_by_role("link", name="Xem danh sách địa điểm").click()
    page.wait_for_url(re.compile(r".*/venues(\?.*)?$"))
    with live_server.factory() as s:
        written = s.scalar(
            select(func.count()).select_from(Venue).where(Venue.name.like("Chợ nhập lô %"))
        )
    assert written == ROWS
