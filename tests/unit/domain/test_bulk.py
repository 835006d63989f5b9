"""The verdict on a bulk task's recipient list, row by row."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain import bulk
from smscloud.domain.templates import SmsType

NOTICE = "尊敬的{1}，您的订单{2}已发货。"


@dataclass(frozen=True)
class Row:
    line: int
    cells: tuple[str, ...]


def plan(*rows: tuple[str, ...], template: str = NOTICE, international: bool = False) -> bulk.Plan:
    return bulk.plan_rows(
        [Row(i + 1, r) for i, r in enumerate(rows)],
        template=template,
        sms_type=SmsType.NOTIFICATION,
        sign=None if international else "商城",
        international=international,
        max_param_length=None,
    )


def test_a_valid_row_is_rendered_with_the_signature_and_counted_in_parts() -> None:
    p = plan(("13800138000", "张三", "A1"))
    (row,) = p.rows
    assert (row.state, row.phone, row.nation_code, row.iso_code) == (
        bulk.WAITING,
        "+8613800138000",
        "86",
        "CN",
    )
    assert row.content == "【商城】尊敬的张三，您的订单A1已发货。"
    assert (p.valid, p.parts) == (1, 1)


def test_a_long_message_counts_its_parts() -> None:
    p = plan(("13800138000", "张" * 60, "B" * 50))
    assert p.rows[0].parts == 2 and p.parts == 2


def test_invalid_rows_carry_the_apis_error_codes() -> None:
    p = plan(
        ("12345", "a", "b"),
        ("+442071838750", "a", "b"),
        ("13800138000", "only one"),
        ("13800138001", "a", "b", *["x"] * 20),
        ("13800138002", "a", "http://t.cn/x"),
        (),
    )
    assert [r.code for r in p.rows] == [
        "InvalidParameterValue.IncorrectPhoneNumber",
        bulk.MAINLAND_TEMPLATE_ABROAD,
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
        bulk.TOO_MANY_CELLS,
        "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        "InvalidParameterValue.IncorrectPhoneNumber",
    ]
    assert all(r.state == bulk.INVALID and r.message for r in p.rows)
    assert (p.valid, p.invalid, p.parts) == (0, 6, 0)


def test_an_international_template_refuses_mainland_numbers() -> None:
    p = plan(
        ("+8613800138000", "1"), ("+14155550100", "1234"), template="Code {1}", international=True
    )
    assert [r.state for r in p.rows] == [bulk.INVALID, bulk.WAITING]
    assert p.rows[0].code == bulk.GLOBAL_TEMPLATE_AT_HOME
    assert p.rows[1].content == "Code 1234"


def test_duplicates_are_the_same_number_however_written() -> None:
    p = plan(
        ("13800138000", "a", "b"),
        ("+86 138 0013 8000", "c", "d"),
        ("008613800138000", "e", "f"),
        ("13800138001", "g", "h"),
    )
    assert [r.state for r in p.rows] == [bulk.WAITING, bulk.DUPLICATE, bulk.DUPLICATE, 0]
    assert (p.valid, p.duplicates, p.invalid) == (2, 2, 0)
    assert p.rows[1].line == 2 and p.rows[1].code == bulk.DUPLICATE_CODE


def test_a_bad_number_is_kept_short_to_show_back() -> None:
    p = plan(("9" * 500, "a", "b"))
    assert len(p.rows[0].raw) == bulk.MAX_RAW


@given(
    st.lists(
        st.tuples(st.integers(0, 99_999_999), st.text("张三李四ab12", min_size=1, max_size=8)),
        max_size=60,
    )
)
def test_every_row_gets_one_verdict_and_the_counts_add_up(
    numbers: list[tuple[int, str]],
) -> None:
    rows = [(f"138{n:08d}", name, "X") for n, name in numbers]
    p = plan(*rows)
    assert len(p.rows) == len(rows)
    assert p.valid + p.invalid + p.duplicates == len(rows)
    assert p.valid == len({n for n, _ in numbers})
    assert p.parts == sum(r.parts for r in p.rows if r.state == bulk.WAITING)
    sent = [r.phone for r in p.rows if r.state == bulk.WAITING]
    assert len(sent) == len(set(sent))
