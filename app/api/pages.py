"""Server-rendered pages: home, interview, report, history and login."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from statistics import fmean
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.api.auth import OptionalUser
from app.api.deps import AppState, get_state
from app.config import PROJECT_ROOT
from app.grading.signals import turn_signals
from app.interview.errors import Conflict, NotFound, RapportError
from app.interview.models import Turn
from app.services import NewInterview

TEMPLATES = Jinja2Templates(directory=str(PROJECT_ROOT / "web" / "templates"))
HISTORY_LIMIT = 50

router = APIRouter(include_in_schema=False)


# --- what every page needs -----------------------------------------------------------------


def _state(request: Request) -> AppState:
    return get_state(request)


def _as_dict(value: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = value.model_dump(mode="json")
    return dumped


def _rubric_titles(request: Request) -> dict[str, str]:
    return {rubric.id: rubric.title for rubric in _state(request).rubrics.list()}


def _render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    state = _state(request)
    base = {
        "backend_description": state.models.description,
        "login_required": state.access.enabled,
        "user": None,
        "active": "",
    }
    return TEMPLATES.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _not_found(request: Request, user: str, message: str) -> HTMLResponse:
    return _render(request, "not_found.html", {"user": user, "message": message}, status_code=404)


def _local_path(target: str) -> str:
    # Only paths on this site, so links to the login page cannot bounce people elsewhere.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def _date(value: Any) -> str:
    moment = _when(value)
    return f"{moment:%d %b %Y, %H:%M}".lstrip("0") if moment else ""


def _mean(values: Iterable[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return round(fmean(present), 2) if present else None


# --- view models built from the API shapes --------------------------------------------------


def _live_signals(interview: dict[str, Any]) -> dict[str, Any]:
    """The live panel's starting values, so a reloaded page shows the same as a live one."""
    turns = [Turn(speaker=t["speaker"], text=t["text"]) for t in interview.get("turns", [])]
    mine = [i for i, t in enumerate(turns) if t.speaker == interview["human_side"]]
    if not mine:
        return {"question_streak": None}
    return {"question_streak": turn_signals(turns, mine[-1])["question_streak"]}


def _timeline(turns: list[dict[str, Any]], human_side: str) -> list[dict[str, Any]]:
    points = []
    mine = [t for t in turns if t["speaker"] == human_side]
    for number, turn in enumerate(mine, start=1):
        value = _mean(g.get("score") for g in turn.get("grades", []))
        points.append({"label": str(number), "value": value, "hint": f"Your turn {number}"})
    return points


def _highlight(item: dict[str, Any]) -> dict[str, Any]:
    index = item.get("turn_index")
    return {
        "title": item.get("title") or item.get("rubric_id", ""),
        "score": item.get("score"),
        "quote": item.get("quote", ""),
        "note": item.get("rationale", ""),
        "tip": item.get("tip", ""),
        "where": f"Turn {index + 1}" if isinstance(index, int) else "",
        "same_as_above": False,
    }


def _report_view(
    interview: dict[str, Any], report: dict[str, Any], titles: dict[str, str]
) -> dict[str, Any]:
    """Shape the grading report (see app.grading.report.Report) for the template."""
    human_side = interview["human_side"]
    turns = interview.get("turns", [])
    rubric_rows = [
        {
            "title": r.get("title") or titles.get(r["rubric_id"], r["rubric_id"]),
            "score": r.get("score"),
            "scope": r.get("scope", "turn"),
        }
        for r in report.get("rubrics", [])
    ]
    share = report.get("talk_share") or {}
    talk = None
    if any(share.values()):
        talk = {
            "you_pct": round(100 * float(share.get(human_side, 0.0))),
            "note": report.get("talk_share_note", ""),
        }
    best = report.get("best_moment")
    best_view = None
    if best:
        count = len(best.get("scores", {}))
        best_view = {
            "quote": best.get("quote", ""),
            "note": f"Turn {best['turn_index'] + 1} · average {best['score']:.1f} / 5 across "
            f"{count} rubric{'s' if count != 1 else ''}",
        }
    facts = report.get("hidden_facts") if human_side == "interviewer" else None
    strengths = [_highlight(h) for h in report.get("strengths", [])]
    improvements = [_highlight(h) for h in report.get("improvements", [])]
    seen: set[str] = set()
    for item in strengths + improvements:
        # One turn often shows several rubrics; quote it once and point back to it after.
        if item["quote"] and item["quote"] in seen:
            item["quote"], item["same_as_above"] = "", True
        elif item["quote"]:
            seen.add(item["quote"])
    graded = [t for t in turns if t["speaker"] == human_side and t.get("grades")]
    methods = {r.get("method") for r in report.get("rubrics", [])}
    return {
        "interview_id": interview["id"],
        "persona": interview["persona"],
        "human_side": human_side,
        "status": interview.get("status"),
        "started": _date(interview.get("created_at")),
        "overall": report.get("overall_score"),
        "graded_turns": len(graded),
        "turn_count": len(turns),
        "graded_by": "judge model and signals"
        if methods & {"llm+signals", "mixed"}
        else "signals (no judge model)",
        "rq_ratio": report.get("reflection_to_question_ratio")
        if human_side == "interviewer"
        else None,
        "rq_note": report.get("reflection_to_question_note", "")
        if human_side == "interviewer"
        else "",
        "longest_streak": report.get("longest_question_streak"),
        "talk": talk,
        "rubric_rows": rubric_rows,
        "timeline": _timeline(turns, human_side),
        "strengths": strengths,
        "improvements": improvements,
        "best_moment": best_view,
        "hidden_facts": facts if facts and facts.get("total") else None,
    }


def _trends(sessions: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:
    """One line per rubric across finished sessions, oldest first, from each session's report."""
    series: dict[str, dict[str, Any]] = {}
    for interview, report in sessions:
        moment = _when(interview.get("created_at"))
        for rubric in report.get("rubrics", []):
            if rubric.get("score") is None:
                continue
            entry = series.setdefault(
                rubric["rubric_id"],
                {
                    "title": rubric.get("title") or rubric["rubric_id"],
                    "side": interview["human_side"],
                    "points": [],
                },
            )
            entry["points"].append(
                {
                    "label": f"{moment:%d %b}".lstrip("0") if moment else "",
                    "value": rubric["score"],
                    "hint": f"{_date(interview.get('created_at'))} with "
                    f"{interview['persona']['name']}",
                }
            )
    for entry in series.values():
        entry["latest"] = entry["points"][-1]["value"]
        labels = [p["label"] for p in entry["points"]]
        if len(set(labels)) != len(labels):
            # Several sessions on one day: number them instead of repeating the date.
            for number, point in enumerate(entry["points"], start=1):
                point["label"] = f"#{number}"
    return sorted(series.values(), key=lambda e: (e["side"], e["title"]))


# --- routes -----------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request, user: OptionalUser, side: str = "candidate", error: str | None = None
) -> Response:
    if user is None:
        return _to_login(request)
    catalog = _state(request).personas
    groups = [
        {
            "human_side": "candidate",
            "label": "Hiring managers who will interview you",
            "personas": catalog.list("interviewer"),
        },
        {
            "human_side": "interviewer",
            "label": "Candidates you will interview",
            "personas": catalog.list("candidate"),
        },
    ]
    side = side if side in ("candidate", "interviewer") else "candidate"
    backends = _state(request).runtime.backends
    choices = [{"name": name, "label": backends.describe(name)} for name in backends.available()]
    return _render(
        request,
        "home.html",
        {
            "user": user,
            "active": "home",
            "groups": groups,
            "side": side,
            "error": error,
            "backends": choices,
        },
    )


@router.post("/interviews")
async def start_from_form(
    request: Request,
    user: OptionalUser,
    persona_id: Annotated[str, Form()] = "",
    job_description: Annotated[str, Form()] = "",
    resume: Annotated[str, Form()] = "",
    backend: Annotated[str, Form()] = "",
) -> Response:
    """The same start as POST /api/interviews, for browsers without JavaScript."""
    if user is None:
        return _to_login(request)
    try:
        body = NewInterview.model_validate(
            {
                "persona_id": persona_id,
                "job_description": job_description,
                "resume": resume,
                "backend": backend or None,
            }
        )
        interview = await _state(request).service.start(user, body)
    except (RapportError, ValueError) as error:
        message = getattr(error, "message", None) or str(error)
        return RedirectResponse(f"/?error={quote(message)}", status_code=303)
    return RedirectResponse(f"/interviews/{interview.id}", status_code=303)


@router.get("/interviews/{interview_id}", response_class=HTMLResponse)
async def interview_page(request: Request, user: OptionalUser, interview_id: str) -> Response:
    if user is None:
        return _to_login(request)
    try:
        interview = _as_dict(await _state(request).service.get(user, interview_id))
    except NotFound as error:
        return _not_found(request, user, error.message)
    titles = _rubric_titles(request)
    settings = _state(request).settings
    page_data = {
        "id": interview["id"],
        "human_side": interview["human_side"],
        "persona_side": interview["persona"]["side"],
        "persona_name": interview["persona"]["name"],
        "max_chars": settings.max_turn_chars,
        "rubric_titles": titles,
        "turns_url": f"/api/interviews/{interview['id']}/turns",
        "finish_url": f"/api/interviews/{interview['id']}/finish",
        "report_url": f"/interviews/{interview['id']}/report",
    }
    return _render(
        request,
        "interview.html",
        {
            "user": user,
            "interview": interview,
            "persona": interview["persona"],
            "human_side": interview["human_side"],
            "rubric_titles": titles,
            "max_chars": settings.max_turn_chars,
            "live": _live_signals(interview),
            "page_data": page_data,
        },
    )


@router.get("/interviews/{interview_id}/report", response_class=HTMLResponse)
async def report_page(request: Request, user: OptionalUser, interview_id: str) -> Response:
    if user is None:
        return _to_login(request)
    service = _state(request).service
    try:
        interview = _as_dict(await service.get(user, interview_id))
        if interview["status"] != "finished":
            # The report is written at the end; until then the interview page is the place.
            return RedirectResponse(f"/interviews/{interview_id}", status_code=303)
        report = _as_dict(await service.report(user, interview_id))
    except (NotFound, Conflict) as error:
        return _not_found(request, user, error.message)
    view = _report_view(interview, report, _rubric_titles(request))
    return _render(request, "report.html", {"user": user, **view})


@router.get("/history", response_class=HTMLResponse)
async def history_page(request: Request, user: OptionalUser) -> Response:
    if user is None:
        return _to_login(request)
    service = _state(request).service
    page = await service.list(user, limit=HISTORY_LIMIT, offset=0)
    interviews = [_as_dict(item) for item in page.items]
    sessions = []
    for interview in reversed(interviews):  # oldest first, so trend lines read left to right
        if interview["status"] == "finished":
            try:
                report = await service.report(user, interview["id"])
            except (NotFound, Conflict):
                continue
            sessions.append((interview, _as_dict(report)))
    rows = [
        {
            "url": f"/interviews/{i['id']}/report"
            if i["status"] == "finished"
            else f"/interviews/{i['id']}",
            "date": _date(i.get("created_at")),
            "created_iso": i.get("created_at") or "",
            "persona_name": i["persona"]["name"],
            "persona_role": f"{i['persona']['role']} · {i['persona']['company']}",
            "human_side": i["human_side"],
            "status": i["status"],
            "score": i.get("overall_score"),
        }
        for i in interviews
    ]
    return _render(
        request,
        "history.html",
        {
            "user": user,
            "active": "history",
            "rows": rows,
            "total": page.total,
            "trends": _trends(sessions),
        },
    )


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/", error: str | None = None) -> Response:
    next = _local_path(next)
    if not _state(request).access.enabled:
        return RedirectResponse(next, status_code=303)
    message = "That key is not valid. Check it and try again." if error else None
    return _render(request, "login.html", {"next_url": next, "error": message})
