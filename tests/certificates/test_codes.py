import pytest

from app.certificates import codes


def test_a_new_code_is_well_formed_and_displayed_in_groups() -> None:
    code = codes.new_code()
    assert codes.check(code) is codes.CodeCheck.WELL_FORMED
    shown = codes.display(code)
    assert len(shown) == 19 and shown.count("-") == 3
    assert codes.normalise(shown.lower()) == code


def test_typing_slips_are_read_kindly() -> None:
    code = "0123456789ABCD"
    full = code + codes._check_characters(code)
    typed = " o123-4567 89ab-" + full[12:].lower()
    assert codes.normalise(typed) == full


@pytest.mark.parametrize("position", range(16))
def test_changing_any_one_character_is_detected(position: int) -> None:
    code = codes.new_code()
    replacement = next(c for c in codes.ALPHABET if c != code[position])
    altered = code[:position] + replacement + code[position + 1 :]
    # Two check characters from a hash: a single changed character slips through 1 time in 1,024.
    assert codes.check(altered) in (codes.CodeCheck.ALTERED, codes.CodeCheck.WELL_FORMED)
    if position >= codes.RANDOM_LENGTH:
        assert codes.check(altered) is codes.CodeCheck.ALTERED


def test_altered_codes_are_caught_nearly_always() -> None:
    caught = 0
    for _ in range(300):
        code = codes.new_code()
        altered = ("1" if code[0] != "1" else "2") + code[1:]
        caught += codes.check(altered) is codes.CodeCheck.ALTERED
    assert caught >= 290


@pytest.mark.parametrize("text", ["", "ABC", "ABCD-EFGH-JKMN-PQRSX", "ABCD-EFGH-JKMN-PQR!", "ＡＢＣＤ"])
def test_anything_else_is_malformed(text: str) -> None:
    assert codes.check(codes.normalise(text)) is codes.CodeCheck.MALFORMED
