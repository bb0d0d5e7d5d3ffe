"""Every page a signed-in person can reach by following links from the home page, on a phone: each
link leads somewhere the person may go (no 403 behind an offered link), every page fits a
360-px screen and loads without a browser console error."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser.conftest import LiveServer, fits_the_screen
from tests.browser.test_venue_flow import sign_in_by_code, sign_in_official

pytestmark = pytest.mark.browser
# Files are fetched for their status only; switching language and signing out end the walk.
DOWNLOAD = re.compile(r"\.(pdf|xlsx|csv|svg)$")
LEAVE = re.compile(r"^/(lang/|logout|api/)")
MAX_PAGES = 40  # pages of one shape (ids replaced by N) are visited once


def walk(live: LiveServer, page) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    shapes: set[str] = set()
    queue, visited, problems = ["/"], [], []
    while queue and len(visited) < MAX_PAGES:
        path = queue.pop(0)
        shape = re.sub(r"\d+", "N", path)
        if shape in shapes:
            continue
        shapes.add(shape)
        if DOWNLOAD.search(urlsplit(path).path):
            status = page.request.get(live.url + path).status
            if status >= 400:
                problems.append(f"{path}: {status}")
            continue
        response = page.goto(live.url + path)
        visited.append(path)
        if response is None or response.status >= 400:
            problems.append(f"{path}: {response.status if response else 'no answer'}")
        if not fits_the_screen(page):
            problems.append(f"{path}: wider than the screen")
        if errors:
            problems.append(f"{path}: {errors[:2]}")
            errors.clear()
        for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
            url = urlsplit(urljoin(live.url + path, href))
            if url.netloc == urlsplit(live.url).netloc and not LEAVE.search(url.path):
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return visited, problems


# Officials by user name; a citizen, a venue owner and a venue's staff by phone (each phone may
# ask for 3 codes in 15 minutes: the other browser tests use at most 2 of them).
LOGINS = ["quantri", "huyen.tpcaobang", "xa.songhien", "yte.tpcaobang",
          "0912 000 001", "0912 000 002", "0912 000 003"]  # fmt: skip


@pytest.mark.parametrize("login", LOGINS)
def test_every_linked_page_opens_and_fits_a_phone(
    live_server: LiveServer, page, login: str
) -> None:  # type: ignore[no-untyped-def]
    if login[0].isdigit():
        sign_in_by_code(live_server, page, login)
    else:
        sign_in_official(live_server, page, login)
    visited, problems = walk(live_server, page)
    assert len(visited) >= 5, visited  # the walk really went through the site
    assert not problems, problems
