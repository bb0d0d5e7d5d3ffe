"""`phongdich` command line: serve, db, areas, users, demo, worker.

Commands act with the administrator's rights (whoever can run them on the server can read the
database anyway) and go through the same service functions, and the same audit log, as the web.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.areas.loader import SCHEME_2021, SCHEME_2025, area_rows, load_areas
from phongdich.areas.queries import get_area, search_areas
from phongdich.audit.service import Actor
from phongdich.auth.roles import ROLE_LABELS, Role
from phongdich.auth.service import CLI_PRINCIPAL, create_user
from phongdich.config import Settings, listening_url
from phongdich.core import keyvault
from phongdich.core.clock import SystemClock
from phongdich.core.errors import AppError
from phongdich.db import make_engine, make_session_factory, upgrade
from phongdich.models import User

app = typer.Typer(help="phongdich: nền tảng phòng dịch", no_args_is_help=True)
db_app = typer.Typer(help="Cơ sở dữ liệu", no_args_is_help=True)
areas_app = typer.Typer(help="Đơn vị hành chính", no_args_is_help=True)
users_app = typer.Typer(help="Tài khoản", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(areas_app, name="areas")
app.add_typer(users_app, name="users")
report_app = typer.Typer(help="Báo cáo", no_args_is_help=True)
app.add_typer(report_app, name="report")

console = Console()
CLI_ACTOR = Actor(CLI_PRINCIPAL, "cli")


def _settings() -> Settings:
    """The settings of a CLI command; signing keys are sealed as the server seals them."""
    settings = Settings()
    keyvault.protect_keys(settings.signing_key_secret)
    return settings


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """The CLI's transaction boundary: commit on success, print AppErrors in Vietnamese."""
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    session: Session = factory()
    try:
        yield session
        session.commit()
    except AppError as err:
        session.rollback()
        console.print(f"[red]Lỗi ({err.code}):[/red] {err.message}")
        raise typer.Exit(2) from err
    finally:
        session.close()
        engine.dispose()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Chạy các bản di chuyển (Alembic) tới phiên bản mới nhất."""
    settings = _settings()
    upgrade(make_engine(settings.database_url))
    console.print("[green]Cơ sở dữ liệu đã ở phiên bản mới nhất.[/green]")


@areas_app.command("load")
def areas_load(
    province: Annotated[
        list[int] | None,
        typer.Option("--province", "-p", help="Mã tỉnh (lặp lại được); mặc định: cả nước"),
    ] = None,
    scheme: Annotated[
        list[str] | None, typer.Option(help="2021 và/hoặc 2025; mặc định cả hai")
    ] = None,
) -> None:
    """Nạp danh mục đơn vị hành chính (tỉnh → huyện → xã) từ gói vietnam-provinces."""
    settings = _settings()
    schemes = tuple(scheme or (SCHEME_2021, SCHEME_2025))
    bad = [s for s in schemes if s not in (SCHEME_2021, SCHEME_2025)]
    if bad:
        console.print(f"[red]Danh mục không hợp lệ: {', '.join(bad)} (chỉ 2021 hoặc 2025).[/red]")
        raise typer.Exit(2)
    rows = area_rows(schemes, set(province) if province else None)
    if not rows:
        console.print("[red]Không có tỉnh nào với mã đã cho.[/red]")
        raise typer.Exit(2)
    with _session(settings) as session, _progress() as bar:
        task = bar.add_task("Nạp đơn vị hành chính", total=len(rows))
        counts = load_areas(session, rows, progress=lambda n: bar.advance(task, n))
    console.print(
        f"Thêm mới {counts['created']}, cập nhật {counts['updated']}, "
        f"giữ nguyên {counts['unchanged']}."
    )


@areas_app.command("search")
def areas_search(text: str, scheme: str | None = None) -> None:
    """Tìm đơn vị hành chính theo tên, có dấu hoặc không dấu."""
    with _session(_settings()) as session:
        table = Table("Danh mục", "Cấp", "Mã", "Tên đầy đủ")
        for area, full in search_areas(session, text, scheme=scheme):
            table.add_row(area.scheme, area.level, area.code, full)
        console.print(table)


@users_app.command("create")
def users_create(
    full_name: Annotated[str, typer.Option(help="Họ và tên")],
    role: Annotated[Role, typer.Option(help="Vai trò")],
    username: Annotated[str | None, typer.Option(help="Tên đăng nhập (cán bộ)")] = None,
    phone: Annotated[str | None, typer.Option(help="Số điện thoại")] = None,
    password: Annotated[str | None, typer.Option(help="Mật khẩu; bỏ trống để được hỏi")] = None,
    area: Annotated[
        str | None, typer.Option(help="Địa bàn: danh-mục/cấp/mã, ví dụ 2021/district/040")
    ] = None,
) -> None:
    """Tạo tài khoản với một vai trò."""
    if username and password is None:
        password = typer.prompt("Mật khẩu", hide_input=True, confirmation_prompt=True)
    with _session(_settings()) as session:
        area_obj = None
        if area:
            parts = area.split("/")
            if len(parts) != 3:
                console.print(
                    "[red]Địa bàn phải có dạng danh-mục/cấp/mã, ví dụ 2021/district/040.[/red]"
                )
                raise typer.Exit(2)
            area_obj = get_area(session, *parts)
        user = create_user(
            session,
            CLI_ACTOR,
            now=SystemClock().now(),
            full_name=full_name,
            username=username,
            phone=phone,
            password=password,
            role=role,
            area=area_obj,
        )
        console.print(f"[green]Đã tạo tài khoản #{user.id}: {user.full_name}.[/green]")


@users_app.command("list")
def users_list() -> None:
    """Liệt kê tài khoản và vai trò."""
    from phongdich.auth.service import users_with_grants

    with _session(_settings()) as session:
        table = Table("#", "Họ tên", "Đăng nhập", "Vai trò")
        for user in users_with_grants(session):
            roles = ", ".join(ROLE_LABELS[Role(g.role)] for g in user.grants)
            table.add_row(str(user.id), user.full_name, user.username or user.phone or "", roles)
        console.print(table)


def _print_demo_logins(base_url: str) -> None:
    from phongdich.demo.service import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_VENUE_TEAM

    table = Table("Vai trò", "Đăng nhập", "Mật khẩu / mã", title="Tài khoản dùng thử")
    for acc in (*DEMO_ACCOUNTS, *DEMO_VENUE_TEAM):
        secret = DEMO_PASSWORD if acc.username else "mã SMS: xem Quản trị → Hộp thư SMS đi"
        table.add_row(ROLE_LABELS[acc.role], acc.login, secret)
    console.print(table)
    console.print(f"Mở trình duyệt tại [bold]{base_url}[/bold]")


@app.command()
def demo() -> None:
    """Nạp dữ liệu mẫu Cao Bằng (đơn vị hành chính, tài khoản mọi vai trò)."""
    _fill_demo(_settings())


def _fill_demo(settings: Settings) -> None:
    from phongdich.demo.service import fill_demo

    upgrade(make_engine(settings.database_url))
    with _session(settings) as session, _progress() as bar:
        tasks: dict[str, TaskID] = {}

        def step(stage: str, n: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"Dữ liệu mẫu: {stage}", total=total)
            bar.advance(tasks[stage], n)

        result = fill_demo(session, now=SystemClock().now(), progress=step)
    console.print(result)
    _print_demo_logins(settings.base_url)


@app.command()
def serve(
    demo_data: Annotated[
        bool, typer.Option("--demo", help="Nạp dữ liệu mẫu nếu cơ sở dữ liệu trống")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Địa chỉ lắng nghe")] = None,
    port: Annotated[int | None, typer.Option(help="Cổng")] = None,
) -> None:
    """Chạy máy chủ web (nâng cấp cơ sở dữ liệu trước khi mở)."""
    import uvicorn

    from phongdich.web.app import create_app

    settings = _listening(_settings(), host, port)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    if demo_data:
        with _session(settings) as session:
            empty = not session.scalar(select(func.count()).select_from(User))
        if empty:
            _fill_demo(settings)
        else:
            _print_demo_logins(settings.base_url)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


def _listening(settings: Settings, host: str | None, port: int | None) -> Settings:
    """The settings with `serve`'s own --host and --port. QR codes carry PHONGDICH_BASE_URL
    when it is set, else the listening address: a server open to the network whose codes point
    at this machine's loopback would print posters no phone can open, so that is said."""
    settings.host = host or settings.host
    settings.port = port or settings.port
    if "base_url" not in settings.model_fields_set:
        settings.base_url = listening_url(settings.host, settings.port)
    loopback = ("127.0.0.1", "localhost", "::1")
    if urlsplit(settings.base_url).hostname in loopback and settings.host not in loopback:
        console.print(
            f"[yellow]Mã QR sẽ trỏ tới {settings.base_url}, điện thoại khác không mở được: "
            "hãy đặt PHONGDICH_BASE_URL là địa chỉ công khai của máy chủ.[/yellow]"
        )
    return settings


keys_app = typer.Typer(help="Khoá ký mã QR và chứng nhận", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("new-secret")
def keys_new_secret() -> None:
    """In ra một khoá bí mật mới cho PHONGDICH_SIGNING_KEY_SECRET (giữ ngoài cơ sở dữ liệu)."""
    console.print(keyvault.new_secret())


@keys_app.command("seal")
def keys_seal() -> None:
    """Niêm phong các khoá ký đang lưu chưa mã hoá bằng PHONGDICH_SIGNING_KEY_SECRET."""
    from phongdich.core.signing import seal_stored_keys

    settings = _settings()
    if not keyvault.protected():
        console.print("[red]Chưa đặt PHONGDICH_SIGNING_KEY_SECRET.[/red]")
        raise typer.Exit(2)
    with _session(settings) as session:
        console.print(f"Đã niêm phong {seal_stored_keys(session)} khoá ký.")


@app.command()
def worker(once: Annotated[bool, typer.Option(help="Chạy một lượt rồi thoát")] = False) -> None:
    """Chạy tác vụ định kỳ và tác vụ nền (nhiều worker chạy song song được trên PostgreSQL)."""
    from phongdich.worker import run_worker

    run_worker(_settings(), once=once)


@report_app.command("venues")
def report_venues(
    date_from: Annotated[str, typer.Option("--from", help="Từ ngày, dd/mm/yyyy")],
    date_to: Annotated[str, typer.Option("--to", help="Đến ngày, dd/mm/yyyy")],
    district: Annotated[str | None, typer.Option(help="Mã huyện (2021), ví dụ 051")] = None,
    xlsx: Annotated[str | None, typer.Option(help="Ghi thêm ra tệp Excel")] = None,
) -> None:
    """Địa điểm đã đăng ký, có và không có lượt quét, theo huyện (và tệp Excel)."""
    from pathlib import Path

    from phongdich.reports.exports import venue_report_xlsx
    from phongdich.reports.venues import district_by_code, parse_day, venue_activity_report

    with _session(_settings()) as session:
        report = venue_activity_report(
            session,
            CLI_PRINCIPAL,
            date_from=parse_day(date_from),
            date_to=parse_day(date_to),
            now=SystemClock().now(),
            within=district_by_code(session, district) if district else None,
        )
        table = Table("Mã", "Huyện / xã", "Đã đăng ký", "Có quét", "Không quét", "%", "Lượt quét")
        rows = report.by_district if not district else report.by_commune
        for r in [*rows, report.total]:
            table.add_row(
                r.key, r.name, str(r.registered), str(r.active), str(r.dormant),
                f"{r.active_percent}", str(r.scans),
            )  # fmt: skip
        console.print(f"{report.scope} · {date_from} – {date_to}")
        console.print(table)
        if xlsx:
            Path(xlsx).write_bytes(venue_report_xlsx(report))
            console.print(f"[green]Đã ghi {xlsx}.[/green]")


if __name__ == "__main__":
    app()
