"""GraphiQL at /graphql, as a person uses it in Chromium: it renders from the server's own
origin alone, its docs describe the schema, queries typed into it run, a write token typed
into its Headers tab lets a mutation through, and that token is never stored."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from schema import build_schema
from schema.compat import graphql_schema
from tests.browser.conftest import WRITE_TOKEN, Browser
from tests.e2e.conftest import ROOT, Server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SCREENSHOT = ROOT / "docs" / "graphiql.png"
NESTED_QUERY = (
    "{ products(first: 3) { totalCount nodes { name "
    "tags(first: 3) { edges { priority node { name } } } } } }"
)


def open_graphiql(page: Page, server: Server, query_string: str = "") -> None:
    page.goto(server.graphql + query_string)
    # The schema has loaded (by introspection) when the docs button stops spinning and the
    # editor knows the root type; waiting for the execute button is enough to type.
    expect(page.get_by_role("button", name="Execute query (Ctrl-Enter)")).to_be_visible(
        timeout=30_000
    )


def replace_editor_text(page: Page, editor: Locator, text: str) -> None:
    """Select everything in a GraphiQL editor and type `text` in its place."""
    editor.locator(".CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def run(page: Page, query: str) -> Any:
    """Type a query into the editor, run it, and return what the response pane shows once
    it shows the server's answer."""
    replace_editor_text(page, page.locator(".graphiql-query-editor"), query)
    with page.expect_response(
        lambda r: r.request.method == "POST" and urlsplit(r.url).path == "/graphql"
    ) as answer:
        page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    expected = answer.value.json()
    deadline = time.monotonic() + 15
    while True:
        shown = page.evaluate(
            "document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
        )
        try:
            if json.loads(shown) == expected:
                return expected
        except ValueError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the response pane shows {shown!r}, not {expected!r}")
        page.wait_for_timeout(100)


def headers_editor(page: Page) -> Locator:
    """The Headers tab's editor (the Variables editor beside it is hidden)."""
    page.get_by_role("button", name="Headers", exact=True).click()
    return page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)")


def headers_shown(page: Page) -> str:
    text: str = headers_editor(page).evaluate(
        "editor => editor.querySelector('.CodeMirror').CodeMirror.getValue()"
    )
    return text


def type_headers(page: Page, headers: dict[str, str]) -> None:
    replace_editor_text(page, headers_editor(page), json.dumps(headers))


def stored_everywhere(page: Page) -> str:
    """Everything the page keeps in the browser: localStorage, sessionStorage, cookies."""
    stored: str = page.evaluate(
        """() => JSON.stringify({
            local: Object.assign({}, localStorage),
            session: Object.assign({}, sessionStorage),
            cookies: document.cookie,
        })"""
    )
    return stored


def test_the_page_renders_from_the_servers_own_origin_alone(
    browser: Browser, server: Server
) -> None:
    open_graphiql(browser.page, server)
    browser.page.get_by_role("button", name="Show GraphiQL Explorer").click()
    expect(browser.page.locator(".graphiql-explorer-root")).to_contain_text("products")

    origins = {"{0.scheme}://{0.netloc}".format(urlsplit(r.url)) for r in browser.requests}
    assert origins == {server.url}, [r.url for r in browser.requests]
    assert len(browser.requests) >= 8  # the page, 4 scripts, 3 stylesheets, introspection...
    assert browser.violations() == []
    assert browser.errors == []


def as_rendered(markdown: str) -> re.Pattern[str]:
    """A description as the docs pane shows it: GraphiQL renders it as Markdown, so code
    spans and emphasis lose their marks; whitespace may differ."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)  # [text](url) -> text
    words = re.sub(r"[`*]", "", text).split()
    return re.compile(r"^\s*" + r"\s+".join(map(re.escape, words)) + r"\s*$")


def test_the_docs_pane_lists_product_and_tag_with_their_descriptions(
    browser: Browser, server: Server
) -> None:
    page = browser.page
    schema = graphql_schema(build_schema())
    open_graphiql(page, server)
    page.get_by_role("button", name="Show Documentation Explorer").click()
    docs = page.locator(".graphiql-doc-explorer")

    for type_name in ("Product", "Tag"):
        description = schema.type_map[type_name].description
        assert description, f"{type_name} has no description"
        docs.get_by_role("link", name=type_name, exact=True).first.click()
        expect(docs.locator(".graphiql-doc-explorer-title")).to_have_text(type_name)
        shown = docs.locator(".graphiql-markdown-description").first
        expect(shown).to_have_text(as_rendered(description))
        docs.get_by_role("link", name="Go back to Docs").click()

    assert browser.violations() == []


def test_a_query_typed_into_the_editor_shows_data(browser: Browser, server: Server) -> None:
    page = browser.page
    open_graphiql(page, server)

    shown = run(page, NESTED_QUERY)

    products = shown["data"]["products"]
    assert products["totalCount"] > 0
    assert len(products["nodes"]) == 3
    assert all("edges" in p["tags"] for p in products["nodes"])
    assert "errors" not in shown
    if os.environ.get("CATALOG_UPDATE_SCREENSHOT") == "1":  # docs/graphiql.png, for the README
        page.get_by_role("button", name="Prettify query (Shift-Ctrl-P)").click()
        page.get_by_role("button", name="Show Documentation Explorer").click()
        page.locator(".graphiql-doc-explorer").get_by_role("link", name="Product").first.click()
        page.screenshot(path=str(SCREENSHOT))


def create_tag_mutation(name: str) -> str:
    return (
        f'mutation {{ createTag(input: {{name: "{name}"}}) '
        "{ tag { name } userErrors { code } } }"
    )


def tag_exists(server: Server, name: str) -> bool:
    response = httpx.post(
        server.graphql,
        json={
            "query": "query ($name: String) { tag(name: $name) { name } }",
            "variables": {"name": name},
        },
        timeout=10,
    )
    return response.json()["data"]["tag"] is not None


def test_a_mutation_with_a_token_typed_into_the_headers_tab_succeeds(
    browser: Browser, server: Server
) -> None:
    page = browser.page
    name = f"Browser {uuid.uuid4().hex[:8]}"
    open_graphiql(page, server)

    without_token = run(page, create_tag_mutation(name))
    type_headers(page, {"Authorization": f"Bearer {WRITE_TOKEN}"})
    with_token = run(page, create_tag_mutation(name))

    assert without_token["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert with_token == {"data": {"createTag": {"tag": {"name": name}, "userErrors": []}}}
    assert tag_exists(server, name)
    sent = [r for r in browser.requests if r.method == "POST"]
    assert sent[-1].headers.get("authorization") == f"Bearer {WRITE_TOKEN}"


def test_after_a_reload_the_token_is_nowhere_in_the_browser(
    browser: Browser, server: Server
) -> None:
    page = browser.page
    open_graphiql(page, server)
    type_headers(page, {"Authorization": f"Bearer {WRITE_TOKEN}"})
    name = f"Reload {uuid.uuid4().hex[:8]}"
    run(page, create_tag_mutation(name))
    assert WRITE_TOKEN in headers_shown(page)

    page.reload()
    open_graphiql(page, server)

    assert WRITE_TOKEN not in stored_everywhere(page)
    assert WRITE_TOKEN not in page.url
    assert WRITE_TOKEN not in headers_shown(page)
    assert name in stored_everywhere(page)  # the run itself is in GraphiQL's history


def test_headers_in_the_url_are_ignored(browser: Browser, server: Server) -> None:
    page = browser.page
    planted = json.dumps({"Authorization": "Bearer planted-by-a-link"})
    open_graphiql(page, server, f"?headers={quote(planted)}")

    run(page, "{ products(first: 1) { totalCount } }")

    sent = [r for r in browser.requests if r.method == "POST"]
    assert sent and all("authorization" not in r.headers for r in sent)
    assert "planted-by-a-link" not in headers_shown(page)
    assert "planted-by-a-link" not in stored_everywhere(page)


def log_after(server: Server, cursor: str | None) -> list[dict[str, Any]]:
    """The change log's entries after `cursor` (from its start without one), every page, as
    events show them."""
    entries: list[dict[str, Any]] = []
    for _ in range(1000):
        response = httpx.post(
            server.graphql,
            json={
                "query": "query ($after: String) { changes(after: $after, first: 100) "
                "{ edges { cursor node { kind tag { name } } } pageInfo { hasNextPage } } }",
                "variables": {"after": cursor},
            },
            timeout=10,
        )
        changes = response.json()["data"]["changes"]
        entries += [{"cursor": edge["cursor"], **edge["node"]} for edge in changes["edges"]]
        if not changes["pageInfo"]["hasNextPage"]:
            return entries
        cursor = entries[-1]["cursor"]
    raise AssertionError("the change log has more than 1,000 pages")


def create_tag(server: Server, name: str) -> None:
    response = httpx.post(
        server.graphql,
        json={"query": create_tag_mutation(name)},
        headers={"Authorization": f"Bearer {WRITE_TOKEN}"},
        timeout=10,
    )
    assert response.json()["data"]["createTag"]["userErrors"] == [], response.text


def wait_for_pane(page: Page, expected: Any) -> None:
    """Wait (15 s at most) until the response pane shows `expected`."""
    deadline = time.monotonic() + 15
    shown = None
    while time.monotonic() < deadline:
        shown = page.evaluate(
            "document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
        )
        try:
            if json.loads(shown) == expected:
                return
        except ValueError:
            pass
        page.wait_for_timeout(100)
    raise AssertionError(f"the response pane shows {shown!r}, not {expected!r}")


def test_a_subscription_shows_each_change_as_it_is_committed(
    browser: Browser, server: Server
) -> None:
    page = browser.page
    create_tag(server, f"Before {uuid.uuid4().hex[:8]}")
    # `after` the log's last change: the writes below are shown whenever they commit.
    head = log_after(server, None)[-1]["cursor"]
    open_graphiql(page, server)
    subscription = (
        f'subscription {{ catalogChanges(after: "{head}") {{ cursor kind tag {{ name }} }} }}'
    )
    replace_editor_text(page, page.locator(".graphiql-query-editor"), subscription)
    page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    stop = page.get_by_role("button", name="Stop query (Ctrl-Enter)")
    expect(stop).to_be_visible(timeout=10_000)

    shown = []
    for name in (f"Live {uuid.uuid4().hex[:8]}", f"Live {uuid.uuid4().hex[:8]}"):
        create_tag(server, name)
        change = log_after(server, shown[-1]["cursor"] if shown else head)[0]
        wait_for_pane(page, {"data": {"catalogChanges": change}})
        shown.append(change)
    stop.click()

    assert [change["kind"] for change in shown] == ["TAG_CREATED", "TAG_CREATED"]
    assert [change["tag"]["name"] for change in shown] == [
        name["tag"]["name"] for name in log_after(server, head)
    ]
    expect(page.get_by_role("button", name="Execute query (Ctrl-Enter)")).to_be_visible()
    streams = [r for r in browser.requests if r.headers.get("accept") == "text/event-stream"]
    assert len(streams) == 1 and streams[0].method == "POST", [r.url for r in streams]
    assert json.loads(streams[0].post_data or "{}")["query"] == subscription
    assert browser.violations() == []
    assert browser.errors == []


def test_the_screenshot_in_docs_is_committed() -> None:
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(Path("docs") / "graphiql.png") in (ROOT / "README.md").read_text()
