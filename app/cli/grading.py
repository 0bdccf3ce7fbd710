"""Commands: grading (``rapport calibrate``; ``rapport grade`` lives here too)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.cli.base import cli
from app.config import Settings
from app.grading.calibrate import Calibration, LabelledTurn, calibrate_signals, load_labels
from app.grading.models import Grade, Rubric
from app.grading.rubrics import RubricCatalog
from app.interview.errors import RapportError

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def calibration_table(result: Calibration, title: str) -> Table:
    table = Table(title=title)
    for name, justify in (
        ("rubric", "left"),
        ("n", "right"),
        ("exact", "right"),
        ("within one", "right"),
        ("Spearman", "right"),
        ("QWK", "right"),
        ("N/A", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in [*result.rows, result.overall]:
        bold = row is result.overall
        cells = [
            row.name,
            str(row.n),
            f"{row.exact:.2f}",
            f"{row.within_one:.2f}",
            "–" if row.spearman is None else f"{row.spearman:.2f}",
            "–" if row.qwk is None else f"{row.qwk:.2f}",
            str(row.not_applicable),
        ]
        table.add_row(*[f"[bold]{c}[/bold]" if bold else c for c in cells], end_section=bold)
    return table


async def _judge_calibration(items: list[LabelledTurn], rubrics: list[Rubric]) -> Calibration:
    # Imported here so the signals path needs neither a model nor its client libraries.
    from rich.progress import Progress

    from app.grading.calibrate import calibrate_with
    from app.grading.grader import Grader
    from app.llm.factory import build_models

    settings = Settings()
    if not settings.judge_enabled:
        raise RapportError("The judge is off (RAPPORT_JUDGE_MODEL=off); run without --judge.")
    models = build_models(settings)
    if models.judge is None or not models.judge.can_judge:
        raise RapportError(
            f"No judge model is configured ({models.description}). Set RAPPORT_LLM and "
            "RAPPORT_JUDGE_MODEL (or OPENAI_API_KEY), or run without --judge."
        )
    grader = Grader(rubrics, models.judge)

    async def grade(item: LabelledTurn, rubric: Rubric) -> Grade:
        turns = item.turns()
        if rubric.scope == "session":
            grades = await grader.grade_session(turns, human_side=item.human_side)
        else:
            grades = await grader.grade_turn(turns, len(turns) - 1, human_side=item.human_side)
        return next(g for g in grades if g.rubric_id == rubric.id)

    try:
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task(f"judging with {models.description}", total=len(items))
            return await calibrate_with(
                items, rubrics, grade, progress=lambda: progress.advance(task)
            )
    finally:
        await models.persona.aclose()
        if models.judge is not models.persona:
            await models.judge.aclose()


@cli.command()
def calibrate(
    labels: Annotated[Path, typer.Argument(help="Labelled turns (YAML list or JSON Lines).")],
    judge: Annotated[
        bool, typer.Option("--judge", help="Grade with the configured judge model too.")
    ] = False,
    rubrics_dir: Annotated[
        Path | None, typer.Option("--rubrics-dir", help="Folder of rubric files.")
    ] = None,
    split: Annotated[
        str | None, typer.Option("--split", help="Only items of this split (dev or holdout).")
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print Markdown tables (for the README).")
    ] = False,
) -> None:
    """Agreement between the grader and hand labels: exact, within one, Spearman, QWK."""
    try:
        catalog = RubricCatalog.from_dir(rubrics_dir or Settings().rubrics_dir)
        items = load_labels(labels)
        if split is not None:
            items = [i for i in items if i.split == split]
            if not items:
                raise RapportError(f"--split: no labelled items have split '{split}'")
        rubrics = catalog.list()
        results = [("signals grader", calibrate_signals(items, rubrics))]
        if judge:
            results.append(("judge (llm+signals)", asyncio.run(_judge_calibration(items, rubrics))))
    except RapportError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(1) from None
    for title, result in results:
        if markdown:
            out.print(f"\n**{title}** ({labels.name}, {len(items)} items)\n")
            out.print(result.markdown(), soft_wrap=True)
        else:
            out.print(calibration_table(result, f"{title}: {labels.name}, {len(items)} items"))


# --- rapport grade --------------------------------------------------------------------------


def _report_table(source: str, report: Any) -> Table:
    from app.grading.report import trend_text

    overall = "–" if report.overall_score is None else f"{report.overall_score:.1f}"
    table = Table(title=f"{escape(Path(source).name)}: {report.human_side}, overall {overall}")
    for name, justify in (("rubric", "left"), ("score", "right"), ("trend", "left"),
                          ("graded", "right"), ("method", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for item in report.rubrics:
        table.add_row(
            escape(item.title),
            "N/A" if item.score is None else f"{item.score:.1f}",
            trend_text(item.trend),
            "session" if item.scope == "session" else str(item.n_graded),
            item.method,
        )
    share = round(100 * report.talk_share.get(report.human_side, 0))
    table.caption = escape(
        f"talk share {share}% · {report.reflection_to_question_note} · longest question-only "
        f"streak {report.longest_question_streak}"
    )
    return table


@cli.command()
def grade(
    files: Annotated[list[Path], typer.Argument(help="Transcripts: .json, or .md/.txt Markdown.")],
    side: Annotated[
        Literal["interviewer", "candidate"] | None,
        typer.Option("--side", help="The side the human took (else the file's human_side)."),
    ] = None,
    rubric: Annotated[
        list[str] | None, typer.Option("--rubric", help="Grade only this rubric; repeatable.")
    ] = None,
    output: Annotated[
        Literal["table", "json", "md"], typer.Option("--format", help="table, json or md.")
    ] = "table",
    signals_only: Annotated[
        bool, typer.Option("--signals-only", help="Grade from signals alone, without the judge.")
    ] = False,
) -> None:
    """Grade interview transcripts on the rubrics, as Rapport grades a live interview.

    JSON files hold {"human_side": ..., "turns": [{"speaker": ..., "text": ...}]} or a bare list
    of turns; Markdown files have one '**Interviewer:** text' or 'Candidate: text' per turn.
    """
    # Imported here so that other commands start without the grading and model stack.
    import json

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from app.grading.report import Report, report_markdown
    from app.grading.transcripts import grade_file
    from app.llm.factory import ModelSet, build_models

    settings = Settings()
    try:
        catalog = RubricCatalog.from_dir(settings.rubrics_dir)
        chosen = [catalog.get(r).id for r in rubric or []]
        models: ModelSet | None = None
        if not signals_only and settings.judge_enabled:
            models = build_models(settings)
    except RapportError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(2) from None

    async def grade_all() -> tuple[list[tuple[dict[str, Any], Report]], list[str]]:
        done: list[tuple[dict[str, Any], Report]] = []
        failed: list[str] = []
        judge = models.judge if models is not None else None
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        try:
            with Progress(*columns, console=err, transient=True, disable=len(files) < 2) as bar:
                task = bar.add_task("grading", total=len(files))
                for path in files:
                    bar.update(task, description=f"grading {escape(path.name)}")
                    try:
                        done.append(await grade_file(
                            path, catalog=catalog, rubric_ids=chosen, side=side, judge=judge
                        ))
                    except RapportError as exc:
                        failed.append(exc.message)
                    bar.advance(task)
        finally:
            if models is not None:
                await models.aclose()
        return done, failed

    done, failed = asyncio.run(grade_all())
    if output == "json":
        results = [data for data, _ in done]
        single = len(files) == 1 and len(results) == 1
        typer.echo(json.dumps(results[0] if single else results, indent=2, ensure_ascii=False))
    else:
        for data, report in done:
            if output == "md":
                title = "Interview report" + ("" if len(files) == 1 else f": {data['file']}")
                typer.echo(report_markdown(report, title=title))
            else:
                out.print(_report_table(data["file"], report))
    for message in failed:
        err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    if failed:
        raise typer.Exit(1)
