"""The HTTP layer in front of the app: slow clients timed out, errors that reveal nothing.

A proxy in front is not guaranteed, so the server protects itself:

- Headers: aiohttp closes a connection whose request has not fully arrived when its
  keep-alive timer fires; that timer starts when the connection opens (and again after every
  response) and is not pushed back by the bytes that trickle in. So ``keepalive_timeout`` set to
  the header timeout ends a client that sends one header byte every half second.
- Bodies: ``body_timeout`` reads the whole body within its time or answers 408 and closes.
- aiohttp answers a request it cannot parse (an over-long URL or header) itself, quoting what
  it got and logging a traceback, with ``Server: Python/… aiohttp/…``. ``QuietRequestHandler``
  answers with the status alone and logs one line; every response names only "Leerkring".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

log = logging.getLogger(__name__)

SERVER_NAME = "Leerkring"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def body_timeout(seconds: float) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists:
            try:
                async with asyncio.timeout(seconds):
                    await request.read()  # kept by aiohttp: the handler reads it again for free
            except TimeoutError:
                log.warning("request body not received within %ss; connection closed", seconds)
                response = web.json_response({"error": "request body too slow"}, status=408)
                response.force_close()
                return response
        return await handler(request)

    return middleware


async def name_server(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: aiohttp only adds its own Server header when none is set."""
    response.headers[hdrs.SERVER] = SERVER_NAME


class QuietRequestHandler(RequestHandler):
    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:  # a bug of ours: keep aiohttp's logging, traceback included
            self.log_exception("Error handling request", exc_info=exc)
        else:  # a request aiohttp could not parse; what it said may quote the input
            log.info("unreadable HTTP request refused: %s %s", status, type(exc).__name__)
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; cannot send an error")
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        response = web.Response(status=status, text=f"{status} {phrase}\n".replace(" \n", "\n"))
        response.headers[hdrs.SERVER] = SERVER_NAME
        response.force_close()
        return response


class _QuietServer(web.Server):
    def __call__(self) -> RequestHandler:
        return QuietRequestHandler(self, loop=self._loop, **self._kwargs)


class LeerkringRunner(web.AppRunner):
    """``web.AppRunner`` whose connections use ``QuietRequestHandler``."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # aiohttp builds its Server itself and takes no protocol class; the subclass only
        # changes which RequestHandler a new connection gets.
        server.__class__ = _QuietServer
        return server


def run(app: web.Application, host: str, port: int) -> None:
    """``web.run_app`` with ``LeerkringRunner``: serve until SIGINT or SIGTERM, then clean up."""

    async def serve() -> None:
        runner = LeerkringRunner(app, access_log=None, handle_signals=True)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(web.GracefulExit, KeyboardInterrupt):
        asyncio.run(serve())
