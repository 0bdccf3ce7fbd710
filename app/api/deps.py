"""What routes receive: the app's typed state, the service and the calling user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.api.auth import AccessPolicy, CurrentUser, OptionalUser
from app.config import Settings
from app.grading.rubrics import RubricCatalog
from app.interview.personas import PersonaCatalog
from app.llm.factory import ModelSet
from app.services import RapportService, Runtime

__all__ = ["AppState", "CurrentUser", "OptionalUser", "ServiceDep", "StateDep"]


@dataclass
class AppState:
    """Built once by create_app and handed to every request and to the lifespan."""

    settings: Settings
    runtime: Runtime
    service: RapportService
    access: AccessPolicy

    @property
    def personas(self) -> PersonaCatalog:
        return self.runtime.personas

    @property
    def rubrics(self) -> RubricCatalog:
        return self.runtime.rubrics

    @property
    def models(self) -> ModelSet:
        return self.runtime.models


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.rapport
    return state


# Dependencies are ``async def`` so FastAPI calls them on the event loop; a plain ``def`` one
# costs a trip through the thread pool on every request.
async def state_dependency(request: Request) -> AppState:
    return get_state(request)


async def get_service(request: Request) -> RapportService:
    return get_state(request).service


StateDep = Annotated[AppState, Depends(state_dependency)]
ServiceDep = Annotated[RapportService, Depends(get_service)]
