"""Properties that hold for any input: bounds of the figures, invariance of the normaliser."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from matcher.figures import gini
from matcher.normalize import fold, tokens
from matcher.sameness import FundedProject, project_sameness

CJK = st.text(alphabet=st.sampled_from("棉被书包化肥砂糖橘茶叶五十两百村道硬化组第三，。（）! 123"),
              max_size=20)


@given(st.lists(st.floats(min_value=0, max_value=1), max_size=30))
def test_gini_is_between_0_and_1(values: list[float]) -> None:
    assert 0.0 <= gini(values) < 1.0 + 1e-9


@given(st.lists(st.tuples(st.sampled_from("ABCDEF"),
                          st.sampled_from(["funds", "goods", "jobs", "medical"])), max_size=20))
def test_project_sameness_is_between_0_and_1(pairs: list[tuple[str, str]]) -> None:
    projects = [FundedProject(v, "X", c) for v, c in pairs]
    assert 0.0 <= project_sameness(projects, "X") <= 1.0


@given(CJK)
def test_full_width_folds_to_half_width(text: str) -> None:
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    assert fold(wide) == fold(text)
    assert tokens(wide) == tokens(text)


@given(CJK)
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
