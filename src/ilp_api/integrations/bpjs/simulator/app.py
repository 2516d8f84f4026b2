"""The simulator as a FastAPI app: PCare's peserta routes, and a control API for tests and developers.

PCare routes check what PCare checks (the signature, the timestamp's skew, X-authorization, user_key), then answer
``{"response": <encrypted>, "metaData": {"code": 200, …}}`` keyed by the request's own timestamp. Any other path
answers an HTML 500 page, as the real gateway does. The control API under ``/_simulator`` injects faults
(``html-500``, ``hang``, ``garbage``, ``not-registered``, ``precondition-failed``), replaces the replies of the
unverified cases, and adds members (any name, any script).
"""

import asyncio
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from ilp_api.integrations.bpjs.config import settings_credentials
from ilp_api.integrations.bpjs.protocol import Credentials, authorization, encrypt_response, signature
from ilp_api.integrations.bpjs.simulator.fixtures import (
    NOT_REGISTERED_FOR_SERVICE,
    PRECONDITION_FAILED,
    PRECONDITION_FAILED_FIELD,
    SIMULATOR_CREDENTIALS,
    UNVERIFIED_REPLIES,
    Reply,
    default_members,
)
from ilp_api.settings import Settings

FaultKind = Literal["html-500", "hang", "garbage", "not-registered", "precondition-failed"]


class Fault(BaseModel):
    kind: FaultKind
    seconds: float = Field(default=30.0, ge=0, le=600, description="hang: how long before answering")


@dataclass
class SimulatorState:
    credentials: Credentials
    skew_seconds: int = 300  # PCare's tolerance is unpublished (bpjs-pcare.md §3): a guess, configurable
    clock: Callable[[], float] = time.time
    members: dict[str, dict[str, Any]] = field(default_factory=default_members)
    replies: dict[str, Reply] = field(default_factory=lambda: dict(UNVERIFIED_REPLIES))
    fault: Fault | None = None
    requests: int = 0

    def reset(self) -> None:
        self.members = default_members()
        self.replies = dict(UNVERIFIED_REPLIES)
        self.fault = None
        self.requests = 0


def simulator_state(settings: Settings) -> SimulatorState:
    """The simulator accepts the deployment's ILP_BPJS_* credentials, or the simulator's own when they are unset."""
    return SimulatorState(settings_credentials(settings) or SIMULATOR_CREDENTIALS)


ERROR_PAGE = (
    "<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/' Application.</h1></body></html>"
)


def envelope(reply: Reply, response: Any = None) -> JSONResponse:
    return JSONResponse(
        {"response": response, "metaData": {"message": reply.message, "code": reply.code}},
        status_code=reply.http_status,
    )


def refusal(state: SimulatorState, request: Request) -> Reply | None:
    """Why PCare would refuse this request's credentials, or None when they are right."""
    headers = request.headers
    expected = state.credentials
    timestamp = headers.get("x-timestamp", "")
    sent = headers.get("x-signature", "")
    if headers.get("x-cons-id") != expected.cons_id or not hmac.compare_digest(
        sent.encode(), signature(expected.cons_id, expected.secret, timestamp).encode()
    ):
        return state.replies["bad-signature"]
    if not timestamp.isdigit() or abs(int(timestamp) - state.clock()) > state.skew_seconds:
        return state.replies["stale-timestamp"]
    login = authorization(expected.username, expected.password, expected.kd_aplikasi)
    if not hmac.compare_digest(headers.get("x-authorization", "").encode(), login.encode()):
        return state.replies["bad-login"]
    if not hmac.compare_digest(headers.get("user_key", "").encode(), expected.user_key.encode()):
        return state.replies["bad-user-key"]
    return None


def create_simulator(state: SimulatorState) -> FastAPI:
    app = FastAPI(title="PCare simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.simulator = state
    app.include_router(_control_router(state))
    app.include_router(_pcare_router(state))
    return app


def _pcare_router(state: SimulatorState) -> APIRouter:
    router = APIRouter()

    async def answer(request: Request, find: Callable[[], dict[str, Any] | None]) -> Response:
        state.requests += 1
        fault = state.fault
        if fault is not None and fault.kind == "hang":
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind == "html-500":
            return HTMLResponse(ERROR_PAGE, status_code=500)
        if fault is not None and fault.kind == "garbage":
            return Response(b'\x00{"response": "\xff\xfe', media_type="application/json")
        refused = refusal(state, request)
        if refused is not None:
            return envelope(refused)
        if fault is not None and fault.kind == "not-registered":
            return envelope(NOT_REGISTERED_FOR_SERVICE)
        if fault is not None and fault.kind == "precondition-failed":
            return envelope(PRECONDITION_FAILED, [dict(PRECONDITION_FAILED_FIELD)])
        member = find()
        if member is None:
            return envelope(state.replies["not-found"])
        expected = state.credentials
        encrypted = encrypt_response(expected.cons_id, expected.secret, request.headers["x-timestamp"], member)
        return envelope(Reply(http_status=200, code=200, message="OK"), encrypted)

    @router.get("/peserta/{no_kartu}")
    async def peserta(request: Request, no_kartu: str) -> Response:
        return await answer(request, lambda: state.members.get(no_kartu))

    @router.get("/peserta/{jenis}/{nomor}")
    async def peserta_by(request: Request, jenis: str, nomor: str) -> Response:
        def find() -> dict[str, Any] | None:
            if jenis == "noka":
                return state.members.get(nomor)
            if jenis == "nik":
                return next((m for m in state.members.values() if m["noKTP"] == nomor), None)
            return None

        return await answer(request, find)

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)
    async def unknown(path: str) -> Response:
        # A wrong path or service name gets an HTML page, not JSON (bpjs-pcare.md §4).
        return HTMLResponse(ERROR_PAGE, status_code=500)

    return router


def _control_router(state: SimulatorState) -> APIRouter:
    router = APIRouter(prefix="/_simulator")

    @router.put("/fault", status_code=204)
    def set_fault(fault: Fault) -> None:
        state.fault = fault

    @router.delete("/fault", status_code=204)
    def clear_fault() -> None:
        state.fault = None

    @router.put("/replies/{case}", status_code=204)
    def set_reply(
        case: Literal["not-found", "bad-signature", "stale-timestamp", "bad-login", "bad-user-key"], reply: Reply
    ) -> None:
        state.replies[case] = reply

    @router.put("/members/{no_kartu}", status_code=204)
    def put_member(no_kartu: str, member: dict[str, Any]) -> None:
        state.members[no_kartu] = {**member, "noKartu": no_kartu}

    @router.get("/requests")
    def requests_seen() -> dict[str, int]:
        return {"requests": state.requests}

    @router.post("/reset", status_code=204)
    def reset() -> None:
        state.reset()

    return router
