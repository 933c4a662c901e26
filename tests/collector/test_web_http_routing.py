"""`HttpServer` routing: exact paths first, then the longest `/*` prefix route (the dashboard's
`/models/<model>`, `/static/<file>`, `/api/v1/pages/<page>`), on a real server on a free port."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator

import pytest

from inferwatch_collector.receive.http_server import Answer, HttpRequest, HttpServer, Route


def named(name: str) -> Route:
    def route(request: HttpRequest) -> Answer:
        return 200, {"Content-Type": "text/plain"}, f"{name} {request.path}".encode()

    return route


def plain_error(headers: dict[str, str], status: int, message: str) -> Answer:
    return status, {"Content-Type": "text/plain"}, message.encode()


@pytest.fixture
def server() -> Iterator[HttpServer]:
    routes = {
        "/": {"GET": named("root")},
        "/items/*": {"GET": named("items")},
        "/items/special/*": {"GET": named("special")},
        "/items/exact": {"GET": named("exact"), "POST": named("exact-post")},
    }
    running = HttpServer(("127.0.0.1", 0), routes, plain_error, thread_name="routing-test")
    running.start()
    yield running
    running.stop()


def request(port: int, path: str, method: str = "GET") -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path)
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "root /"),
        ("/items/a", "items /items/a"),
        ("/items/a%2Fb?x=1", "items /items/a%2Fb"),  # the route reads the raw rest of the path
        ("/items/special/x", "special /items/special/x"),  # the longest prefix wins
        ("/items/exact", "exact /items/exact"),  # an exact path before any prefix
        ("/items/", "items /items/"),
    ],
)
def test_exact_paths_then_the_longest_prefix_route(
    server: HttpServer, path: str, expected: str
) -> None:
    assert request(server.port, path) == (200, expected)


def test_paths_outside_every_route_are_404_and_methods_405(server: HttpServer) -> None:
    assert request(server.port, "/items")[0] == 404  # "/items/*" needs the slash
    assert request(server.port, "/other/items/a")[0] == 404
    assert request(server.port, "/items/a", "POST")[0] == 405
    assert request(server.port, "/items/exact", "POST") == (200, "exact-post /items/exact")


def test_the_server_thread_carries_its_name(server: HttpServer) -> None:
    assert "routing-test" in {thread.name for thread in threading.enumerate()}
    assert server.route_for("/items/special/deep/er") is not None
    assert server.route_for("/nowhere") is None
