"""duijie's commands speak DUIJIE_LANG (Chinese when it is unset); machine-read output stays."""

from __future__ import annotations

import re

from flask import Flask

from seeds.demo import WEEK


def _run(app: Flask, language: str | None, *args: str) -> tuple[int, str]:
    done = app.test_cli_runner().invoke(args=list(args), env={"DUIJIE_LANG": language})
    return done.exit_code, done.output


def test_commands_print_chinese_by_default_and_english_on_request(demo_app: Flask) -> None:
    for language in (None, "zh_CN"):
        code, seeded = _run(demo_app, language, "seed")
        assert code == 0 and seeded.strip() == "已载入：无。"
        code, intact = _run(demo_app, language, "audit", "verify")
        assert code == 0 and intact.startswith("审计记录完整：共 "), intact
        code, stranger = _run(demo_app, language, "token", "create", "nobody")
        assert code == 1 and "没有用户 'nobody'" in stranger
    code, seeded = _run(demo_app, "en", "seed")
    assert code == 0 and seeded.strip() == "Seeded: nothing."
    code, intact = _run(demo_app, "en", "audit", "verify")
    assert code == 0 and intact.startswith("audit trail intact: "), intact
    code, stranger = _run(demo_app, "en", "token", "create", "nobody")
    assert code == 1 and "no user 'nobody'" in stranger


def test_the_allocate_summary_in_each_language_with_the_same_figures(demo_app: Flask) -> None:
    code, chinese = _run(demo_app, "zh_CN", "allocate", "--week", WEEK, "--time-limit", "3")
    assert code == 0, chinese
    code, english = _run(demo_app, "en", "allocate", "--week", WEEK, "--time-limit", "3")
    assert code == 0, english
    assert re.search(rf"第{WEEK}周预览方案 \d+", chinese) and "贪心法（先到先得）" in chinese
    assert re.search(rf"Preview run \d+ for week {WEEK}", english) and "greedy" in english
    served = re.compile(r"(?:已服务 / 可到达的村|villages served / reachable) (\d+) / (\d+)")
    chinese_served, english_served = served.search(chinese), served.search(english)
    assert chinese_served and english_served
    # The same week both times: as many villages reachable, whichever language prints it.
    assert chinese_served.group(2) == english_served.group(2)
    assert "objective" not in chinese and "目标值" not in english


def test_machine_read_output_is_the_same_in_both_languages(demo_app: Flask) -> None:
    heads = {_run(demo_app, language, "audit", "head") for language in ("zh_CN", "en")}
    assert len(heads) == 1
    ((code, head),) = heads
    assert code == 0 and re.fullmatch(r"\d+:[0-9a-f]{64}\n", head)


def test_an_unknown_language_is_refused_by_name_and_nothing_runs(demo_app: Flask) -> None:
    code, refused = _run(demo_app, "fr", "allocate", "--week", WEEK, "--commit")
    assert code == 2 and "DUIJIE_LANG must be one of zh_CN, en, not 'fr'" in refused
    assert "Preview" not in refused and "Traceback" not in refused
    from web.extensions import db
    from web.models import AllocationRun

    with demo_app.app_context():
        assert db.session.query(AllocationRun).count() == 0
