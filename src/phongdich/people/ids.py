"""Identity documents: CCCD, old CMND, passports, and the chip CCCD card's QR.

CCCD (căn cước công dân, the 12-digit personal identification number) reads `PPP G YY RRRRRR`:
PPP is the province where the birth was registered (`0` + the 2021 two-digit province code,
Cao Bằng 004), G the century and sex (1900s: male 0, female 1; 2000s: 2/3; 2100s: 4/5 …), YY the
last two digits of the birth year, then six random digits. There is no check digit, so only the
structure is validated; a mismatch with the declared birth year or sex is flagged, never refused
(people mistype their birth year far more often than their card number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from phongdich.core.errors import AppError
from phongdich.core.text import normalize

CCCD, CMND, PASSPORT, NONE = "cccd", "cmnd", "passport", "none"
ID_TYPES = (CCCD, CMND, PASSPORT, NONE)
MALE, FEMALE = "male", "female"
SEXES = (MALE, FEMALE)

# The 63 province codes of the 2021 scheme (GSO), as used in the first three digits of a CCCD.
_CODES = """
01 02 04 06 08 10 11 12 14 15 17 19 20 22 24 25 26 27 30 31 33 34 35 36 37 38 40 42 44 45 46 48
49 51 52 54 56 58 60 62 64 66 67 68 70 72 74 75 77 79 80 82 83 84 86 87 89 91 92 93 94 95 96
"""
PROVINCE_CODES_2021 = frozenset(_CODES.split())

FLAG_BIRTH_YEAR = "cccd.birth_year_mismatch"
FLAG_SEX = "cccd.sex_mismatch"

_VN_PASSPORT = re.compile(r"^[A-Z]\d{7}$")
_FOREIGN_PASSPORT = re.compile(r"^[A-Z0-9]{1,9}$")


@dataclass(frozen=True)
class IdCheck:
    """A validated document number, what it encodes, and any mismatch flags."""

    id_type: str
    number: str | None
    birth_year: int | None = None  # encoded in a CCCD
    sex: str | None = None
    province_code: str | None = None
    flags: list[str] = field(default_factory=list)


def _bad(code: str, message: str, raw: str) -> AppError:
    return AppError(code, message, {"id_number": raw})


def decode_cccd(number: str) -> tuple[str, int, str]:
    """(province code, birth year, sex) encoded in a 12-digit CCCD, or an AppError."""
    if not re.fullmatch(r"\d{12}", number):
        raise _bad("id.cccd_format", "Số CCCD gồm đúng 12 chữ số.", number)
    if number[0] != "0" or number[1:3] not in PROVINCE_CODES_2021:
        raise _bad(
            "id.cccd_province",
            "Ba chữ số đầu của số CCCD phải là mã tỉnh nơi đăng ký khai sinh (ví dụ 004).",
            number,
        )
    g = int(number[3])
    year = 1900 + 100 * (g // 2) + int(number[4:6])
    return number[1:3], year, FEMALE if g % 2 else MALE


def check_id(
    id_type: str,
    raw_number: str | None,
    *,
    nationality: str = "VN",
    birth_year: int | None = None,
    sex: str | None = None,
    today: date | None = None,
) -> IdCheck:
    """Validate a document number for its type; flag a CCCD that disagrees with the person."""
    if id_type not in ID_TYPES:
        raise AppError("id.type_unknown", "Loại giấy tờ không hợp lệ.", {"id_type": id_type})
    number = "".join((raw_number or "").split()).upper().replace("-", "").replace(".", "")
    if id_type == NONE:
        if number:
            raise _bad("id.number_unexpected", "Chọn loại giấy tờ cho số đã nhập.", number)
        return IdCheck(NONE, None)
    if not number:
        raise _bad("id.number_required", "Vui lòng nhập số giấy tờ.", "")
    if id_type == CMND:
        if not re.fullmatch(r"\d{9}|\d{12}", number):
            raise _bad("id.cmnd_format", "Số CMND gồm 9 hoặc 12 chữ số.", number)
        return IdCheck(CMND, number)
    if id_type == PASSPORT:
        if nationality.upper() == "VN":
            if not _VN_PASSPORT.match(number):
                raise _bad(
                    "id.passport_vn_format",
                    "Hộ chiếu Việt Nam gồm một chữ cái và 7 chữ số (ví dụ C1234567).",
                    number,
                )
        elif not _FOREIGN_PASSPORT.match(number):
            raise _bad(
                "id.passport_format",
                "Số hộ chiếu nước ngoài gồm tối đa 9 chữ cái và chữ số.",
                number,
            )
        return IdCheck(PASSPORT, number)
    province, encoded_year, encoded_sex = decode_cccd(number)
    if today is not None and encoded_year > today.year:
        raise _bad("id.cccd_year", "Năm sinh trong số CCCD ở tương lai: số không đúng.", number)
    flags = []
    if birth_year is not None and birth_year != encoded_year:
        flags.append(FLAG_BIRTH_YEAR)
    if sex is not None and sex != encoded_sex:
        flags.append(FLAG_SEX)
    return IdCheck(CCCD, number, encoded_year, encoded_sex, province, flags)


def guess_id_type(raw: str) -> str | None:
    """What a typed number most likely is: 12 digits CCCD, 9 CMND, letter+7 digits passport."""
    number = "".join(raw.split()).upper()
    if re.fullmatch(r"\d{12}", number):
        return CCCD
    if re.fullmatch(r"\d{9}", number):
        return CMND
    if _VN_PASSPORT.match(number):
        return PASSPORT
    return None


@dataclass(frozen=True)
class ChipCard:
    """What the chip CCCD card's QR says about its holder."""

    number: str
    old_id: str | None
    full_name: str | None
    birth_date: date | None
    sex: str | None
    address: str | None
    issued_on: date | None


def _ddmmyyyy(text: str) -> date | None:
    if not re.fullmatch(r"\d{8}", text):
        return None
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        return None


def looks_like_chip_qr(text: str) -> bool:
    return text.count("|") >= 3 and bool(re.match(r"^\s*\d{12}\s*\|", text))


def parse_chip_qr(text: str) -> ChipCard:
    """Parse the pipe-separated QR of a chip CCCD, leniently.

    Published parsers disagree on the field count (6, 7 or more; the old CMND may be empty or
    missing), so fields are recognised by shape: the 12-digit number comes first, dates are
    8 digits, sex is Nam/Nữ, the name is the first text after the numbers and the address the
    text after the sex.
    """
    parts = [normalize(p) for p in text.strip().split("|")]
    if not parts or not re.fullmatch(r"\d{12}", parts[0]):
        raise AppError(
            "id.chip_qr_unreadable",
            "Không đọc được mã QR trên thẻ CCCD: cần bắt đầu bằng số CCCD 12 chữ số.",
        )
    number, rest = parts[0], parts[1:]
    old_id = rest[0] if rest and re.fullmatch(r"\d{9}|\d{12}", rest[0]) else None
    if rest and (old_id or rest[0] == ""):
        rest = rest[1:]
    dates = [d for d in (_ddmmyyyy(p) for p in rest) if d is not None]
    sex = None
    texts: list[str] = []
    after_sex: list[str] = []
    for p in rest:
        low = p.lower()
        if low in ("nam", "male"):
            sex = MALE
        elif low in ("nữ", "nu", "female"):
            sex = FEMALE
        elif p and not re.fullmatch(r"\d+", p):
            (after_sex if sex else texts).append(p)
    name = texts[0] if texts else None
    address = after_sex[0] if after_sex else (texts[1] if len(texts) > 1 else None)
    return ChipCard(
        number=number,
        old_id=old_id,
        full_name=name,
        birth_date=dates[0] if dates else None,
        sex=sex,
        address=address,
        issued_on=dates[1] if len(dates) > 1 else None,
    )
