"""Short codes: look-alike-free, and the check character catches typing mistakes."""

from __future__ import annotations

import pytest

from phongdich.core.errors import AppError
from phongdich.core.shortcode import ALPHABET, format_short_code, new_short_code, parse_short_code


def test_new_codes_parse_back_in_any_typed_form() -> None:
    for _ in range(200):
        code = new_short_code()
        assert len(code) == 8
        assert not set(code) & set("0O1IL5S2Z8BUV")
        assert parse_short_code(code) == code
        assert parse_short_code(format_short_code(code).lower()) == code


def test_every_single_character_error_and_neighbour_swap_is_caught() -> None:
    code = new_short_code()
    for i, original in enumerate(code):
        for replacement in ALPHABET:
            if replacement != original:
                with pytest.raises(AppError) as info:
                    parse_short_code(code[:i] + replacement + code[i + 1 :])
                assert info.value.code == "short_code.check_failed"
    for i in range(len(code) - 1):
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        if swapped != code:
            with pytest.raises(AppError):
                parse_short_code(swapped)


@pytest.mark.parametrize("raw", ["", "ABC", "K7QW3MA00", "Đ7QW3MAX", "K7QW3MA1"])
def test_malformed_codes_are_refused_in_vietnamese(raw: str) -> None:
    with pytest.raises(AppError) as info:
        parse_short_code(raw)
    assert info.value.code == "short_code.malformed"
    assert "Mã gồm 8 ký tự" in info.value.message
