"""Error messages that name values: filled in for Vietnamese, translated before filling."""

from __future__ import annotations

import pytest

from phongdich.core.errors import AppError, NotFound, fill
from phongdich.core.i18n import gettext_for


def test_a_message_naming_values_is_filled_from_its_details() -> None:
    err = AppError(
        "x.too_many", "Tối đa {max} người, bạn chọn {n}.", {"max": 5, "n": 7, "ids": [1]}
    )
    assert err.message == str(err) == "Tối đa 5 người, bạn chọn 7."
    assert err.template == "Tối đa {max} người, bạn chọn {n}."
    assert err.named == {"max": 5, "n": 7}  # not the ids, which only the API needs
    assert err.text(lambda m: {"Tối đa {max} người, bạn chọn {n}.": "At most {max}, not {n}."}
                    .get(m, m)) == "At most 5, not 7."  # fmt: skip


def test_values_are_not_read_as_templates_themselves() -> None:
    err = NotFound("venue_type.unknown", "Không có loại địa điểm mã «{code}».", {"code": "{x}"})
    assert err.message == "Không có loại địa điểm mã «{x}»."


def test_a_plain_message_is_left_alone() -> None:
    err = AppError("x.plain", "Không hợp lệ.", {"value": 3})
    assert err.params is None and err.named is None
    assert err.text(gettext_for("en")) == "Không hợp lệ."  # no entry: the Vietnamese stays
    assert fill("Có {n}.", None) == "Có {n}."


def test_a_template_naming_a_missing_value_fails_where_it_is_raised() -> None:
    with pytest.raises(KeyError):
        AppError("x.bug", "Tối đa {max}.", {"limit": 5})


def test_the_catalogue_translates_a_real_template() -> None:
    err = AppError("checkin.batch_too_large", "Mỗi lần gửi tối đa {max} lượt quét; hãy chia nhỏ.",
                   {"max": 2000})  # fmt: skip
    assert err.text(gettext_for("en")) == "At most 2000 scans per upload; please split them up."
    assert err.text(gettext_for("vi")) == "Mỗi lần gửi tối đa 2000 lượt quét; hãy chia nhỏ."
