"""``tradein questionnaire`` and ``tradein grade``: questionnaires rendered, answers graded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import VERIFICATIONS, _command, _locale, _print_json, _read_json_file
from tradein_sdk._errors import questionnaire_errors

if TYPE_CHECKING:
    import argparse

    from grading_questionnaire import Questionnaire


def _questionnaire(args: argparse.Namespace) -> Questionnaire:
    import grading_questionnaire as gq  # noqa: PLC0415 - loaded by its sub-command only

    with questionnaire_errors():
        if getattr(args, "questionnaire_file", None):
            return gq.load_questionnaire_file(args.questionnaire_file)
        return gq.load_questionnaire(args.category)


def _questionnaire_command(args: argparse.Namespace) -> int:
    from grading_questionnaire import Audience  # noqa: PLC0415 - loaded by its sub-command only

    questionnaire = _questionnaire(args)
    with questionnaire_errors():
        rendered = questionnaire.render(
            _locale(args), audience=Audience.STAFF if args.staff else Audience.SHOPPER
        )
    document = rendered.to_json()
    if args.json:
        _print_json(document)
        return 0
    print(f"{document['title']} ({questionnaire.id} {questionnaire.version}, {document['locale']})")
    for section in document["sections"]:
        print(f"\n{section['title']}")
        for question in section["questions"]:
            choices = " / ".join(option["label"] for option in question.get("options", []))
            print(f"  [{question['id']}] {question['text']}" + (f"  ({choices})" if choices else ""))
    return 0


def _grade_command(args: argparse.Namespace) -> int:
    from grading_questionnaire import VerificationDepth  # noqa: PLC0415 - loaded by its sub-command only

    questionnaire = _questionnaire(args)
    answers = _read_json_file(args.answers_file, "answers")
    with questionnaire_errors():
        diagnostics = (
            questionnaire.import_diagnostics(
                _read_json_file(args.diagnostics, "diagnostics"), source=args.diagnostics
            )
            if args.diagnostics
            else None
        )
        report = questionnaire.evaluate(
            answers, verification=VerificationDepth(args.verification), diagnostics=diagnostics
        )
    if args.json:
        _print_json(report.to_json())
        return 0
    print(f"pricing grade: {report.pricing_grade or 'none (recycling only)'}")
    print(
        f"cosmetic {report.cosmetic.value} · functional {report.functional} · lock {report.lock.value} · "
        f"battery {report.battery.value} · liquid {report.liquid.value} · {report.verification.value}"
    )
    for knockout in report.knockouts:
        print(f"knockout {knockout.code}: {questionnaire.translate(knockout.message_id, _locale(args))}")
    for finding in report.findings:
        print(f"  - {questionnaire.translate(finding.message_id, _locale(args))}")
    return 0


def _add_questionnaire_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--questionnaire",
        dest="questionnaire_file",
        metavar="FILE",
        help="a shop's own definition instead of the bundled one",
    )


def _add_grading_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    questionnaire = _command(
        commands,
        "questionnaire",
        "print a questionnaire rendered for a locale",
        handler=_questionnaire_command,
        json="print JSON (schemas/rendered-questionnaire.schema.json)",
        locale="the questions",
    )
    questionnaire.add_argument("category", metavar="CATEGORY", help="smartphone, tablet or smartwatch")
    questionnaire.add_argument("--staff", action="store_true", help="include the staff-only checks")
    _add_questionnaire_option(questionnaire)

    grade = _command(
        commands,
        "grade",
        "grade an answers file into a condition report",
        handler=_grade_command,
        json="print JSON (schemas/condition-report.schema.json)",
        locale="the findings",
    )
    grade.add_argument("category", metavar="CATEGORY", help="smartphone, tablet or smartwatch")
    grade.add_argument("answers_file", metavar="ANSWERS_FILE", help="the questionnaire answers (JSON)")
    grade.add_argument("--verification", default="self_declared", choices=VERIFICATIONS)
    grade.add_argument("--diagnostics", metavar="FILE", help="automated test results, merged in as measured")
    _add_questionnaire_option(grade)
