"""Identity documents: CCCD structure, flags instead of refusals, CMND, passports, chip QR."""

from __future__ import annotations

from datetime import date

import pytest

from phongdich.core.errors import AppError
from phongdich.people.ids import (
    FLAG_BIRTH_YEAR,
    FLAG_SEX,
    check_id,
    decode_cccd,
    guess_id_type,
    parse_chip_qr,
)


@pytest.mark.parametrize(
    ("number", "province", "year", "sex"),
    [
        ("004090001234", "04", 1990, "male"),  # Cao Bằng, 1900s, male
        ("004190001234", "04", 1990, "female"),
        ("001205000001", "01", 2005, "male"),  # Hà Nội, 2000s
        ("079312000001", "79", 2012, "female"),  # TP HCM
    ],
)
def test_cccd_encodes_province_century_sex_and_year(
    number: str, province: str, year: int, sex: str
) -> None:
    assert decode_cccd(number) == (province, year, sex)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("00409000123", "id.cccd_format"),  # 11 digits
        ("0040900012345", "id.cccd_format"),
        ("00409000123A", "id.cccd_format"),
        ("104090001234", "id.cccd_province"),  # must start with 0
        ("003090001234", "id.cccd_province"),  # 03 is no 2021 province code
        ("099090001234", "id.cccd_province"),
    ],
)
def test_malformed_cccd_is_refused(number: str, code: str) -> None:
    with pytest.raises(AppError) as err:
        check_id("cccd", number)
    assert err.value.code == code


def test_mismatch_with_declared_birth_year_or_sex_is_flagged_not_refused() -> None:
    ok = check_id("cccd", "004 0 90 001234", birth_year=1990, sex="male")
    assert ok.number == "004090001234" and ok.flags == []
    flagged = check_id("cccd", "004090001234", birth_year=1991, sex="female")
    assert flagged.flags == [FLAG_BIRTH_YEAR, FLAG_SEX]
    with pytest.raises(AppError) as err:  # born in 2099 cannot have a card in 2021
        check_id("cccd", "004299001234", today=date(2021, 11, 15))
    assert err.value.code == "id.cccd_year"


def test_cmnd_and_passports() -> None:
    assert check_id("cmnd", "085 123 456").number == "085123456"
    assert check_id("cmnd", "004090001234").number == "004090001234"
    for bad in ("12345678", "1234567890"):
        with pytest.raises(AppError):
            check_id("cmnd", bad)
    assert check_id("passport", "c1234567").number == "C1234567"
    with pytest.raises(AppError) as err:
        check_id("passport", "AB123456")
    assert err.value.code == "id.passport_vn_format"
    assert check_id("passport", "X12AB3456", nationality="US").number == "X12AB3456"
    with pytest.raises(AppError):
        check_id("passport", "X12AB34567", nationality="US")  # 10 characters
    assert check_id("none", "").number is None
    assert guess_id_type("004090001234") == "cccd"
    assert guess_id_type("085123456") == "cmnd"
    assert guess_id_type("C1234567") == "passport"
    assert guess_id_type("hello") is None


@pytest.mark.parametrize(
    "text",
    [
        "004190012345|085123456|Nông Thị Lan|15031990|Nữ|Tổ 5, Sông Hiến, Cao Bằng|20042021",
        "004190012345||Nông Thị Lan|15031990|Nữ|Tổ 5, Sông Hiến, Cao Bằng|20042021",
        "004190012345|Nông Thị Lan|15031990|Nữ|Tổ 5, Sông Hiến, Cao Bằng|20042021|",
        " 004190012345|085123456|Nông  Thị Lan|15031990|Nữ|Tổ 5, Sông Hiến, Cao Bằng|20042021|x|y",
    ],
)
def test_chip_card_qr_is_parsed_leniently(text: str) -> None:
    card = parse_chip_qr(text)
    assert card.number == "004190012345"
    assert card.full_name == "Nông Thị Lan"
    assert card.birth_date == date(1990, 3, 15)
    assert card.sex == "female"
    assert card.address == "Tổ 5, Sông Hiến, Cao Bằng"
    assert card.issued_on == date(2021, 4, 20)


def test_unreadable_chip_qr_is_refused() -> None:
    with pytest.raises(AppError) as err:
        parse_chip_qr("not a card|at all")
    assert err.value.code == "id.chip_qr_unreadable"
