"""The menu and the home page offer each role only what it may open."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.billing_fixtures import company  # noqa: F401 - fixture found by name

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("company")]

ROLES = ["administrator", "manager", "assistant", "accountant", "rep"]


def menu_links(html: str) -> list[str]:
    nav = html.split('<nav class="navbar', 1)[1].split("</nav>", 1)[0]
    return [
        href
        for href in re.findall(r'<a class="dropdown-item" href="([^"#]+)"', nav)
        if href.startswith("/")
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_item_opens_for_the_role_that_sees_it(
    role: str, request: pytest.FixtureRequest, client_for: Any
) -> None:
    client = client_for(request.getfixturevalue(role))
    home = client.get("/").content.decode()
    refused = [href for href in menu_links(home) if client.get(href).status_code == 403]
    assert refused == []
    content = home.split("</nav>", 1)[1]
    tile_links = re.findall(r'<li><a href="(/[^"]*)"', content)
    assert {"/sales/quotes/", "/sales/orders/", "/invoices/"} <= {
        h.split("?")[0] for h in tile_links
    }
    assert [href for href in tile_links if client.get(href).status_code == 403] == []


def test_a_sales_rep_sees_neither_batch_invoicing_nor_email_templates(
    rep: Any, assistant: Any, client_for: Any
) -> None:
    page = client_for(rep).get("/").content.decode()
    assert 'id="nav-batch-invoicing"' not in page and 'id="nav-email-templates"' not in page
    page = client_for(assistant).get("/").content.decode()
    assert 'id="nav-batch-invoicing"' in page and 'id="nav-email-templates"' in page
