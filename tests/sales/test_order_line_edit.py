"""Editing an open order's lines: the rules (quantity floor, locked prices, down payments),
totals, stock reservations, the audit trail, the screen and the API."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comptoir.catalogue.models import VatRate
from comptoir.core.audit import ACTION_LABELS, history_for
from comptoir.invoicing import from_orders
from comptoir.sales import actions
from comptoir.sales.models import Order
from comptoir.sales.states import OrderStatus
from comptoir.stock import actions as stock_actions
from comptoir.stock.selectors import level_of
from tests.factories import ProductFactory, vat_rate


def _lines(order: Order) -> dict[str, Any]:
    return {line.label: line for line in order.lines.all()}


def _keep(order: Order, **changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Every line of the order by id, with the changes given per label."""
    return [
        {"id": line.pk, **changes.get(line.label, {})}
        for line in order.lines.order_by("position", "pk")
    ]


def _ship_part(order: Order, by: Any, quantities: dict[int, Decimal]) -> Any:
    """Receive the goods and ship these quantities of the order; return the delivery."""
    for line in order.lines.all():
        stock_actions.record_stock_move(
            line.product, quantity=Decimal("100"), kind="receipt", by=by
        )
    delivery = stock_actions.create_delivery(order, by=by, quantities=quantities)
    return stock_actions.ship_delivery(delivery, by=by, produce_documents=False)


def _ship(order: Order, by: Any, quantities: dict[int, Decimal]) -> None:
    _ship_part(order, by, quantities)
    # The rest went to a backorder note in preparation: cancel it to free the quantities.
    for backorder in order.deliveries.filter(status="draft"):  # type: ignore[attr-defined]
        stock_actions.cancel_delivery(backorder, by=by)


# -- the action -----------------------------------------------------------------------------


def test_changes_recompute_totals_as_a_new_order_would(
    order: Order, assistant: Any, customer: Any, paper: Any, chair: Any
) -> None:
    reduced = vat_rate("tva-10")
    actions.update_order_lines(
        order,
        by=assistant,
        lines=_keep(
            order,
            **{
                "Ramette A4": {
                    "quantity": Decimal("25"),
                    "unit_price": Decimal("4.5000"),
                    "discount_rate": Decimal("5"),
                },
                "Fauteuil ergonomique": {"vat": reduced, "label": "Fauteuil ergonomique noir"},
            },
        ),
    )
    order.refresh_from_db()
    same = actions.create_order(
        party=customer,
        by=assistant,
        lines=[
            {
                "product": paper,
                "quantity": Decimal("25"),
                "unit_price": Decimal("4.5"),
                "discount_rate": Decimal("5"),
            },
            {
                "product": chair,
                "quantity": Decimal("2"),
                "unit_price": Decimal("189"),
                "vat": reduced,
            },
        ],
    )
    fields = ("lines_net_amount", "tax_basis_amount", "vat_amount", "total_amount")
    assert [getattr(order, f) for f in fields] == [getattr(same, f) for f in fields]
    assert order.vat_breakdown == same.vat_breakdown
    assert order.lines_net_amount == Decimal("106.87") + Decimal("378.00")  # 112.50 less 5.63
    assert {row["rate"] for row in order.vat_breakdown} == {"20.00", str(reduced.rate)}
    assert _lines(order)["Fauteuil ergonomique noir"].vat_rate == reduced.rate


def test_add_catalogue_and_free_lines_and_remove_one(
    order: Order, assistant: Any, paper: Any
) -> None:
    stapler = ProductFactory(label="Agrafeuse", sale_price=Decimal("12.0000"))
    lines = _keep(order)
    chair_line = lines.pop()  # the chair line goes
    lines.append({"product": stapler, "quantity": Decimal("3")})
    lines.append(
        {
            "label": "Installation",
            "description": "Sur site, une demi-journée",
            "quantity": Decimal("1"),
            "unit_price": Decimal("150"),
            "vat": vat_rate(),
        }
    )
    actions.update_order_lines(order, by=assistant, lines=lines)
    order.refresh_from_db()
    by_label = _lines(order)
    assert set(by_label) == {"Ramette A4", "Agrafeuse", "Installation"}
    assert not order.lines.filter(pk=chair_line["id"]).exists()
    assert by_label["Agrafeuse"].unit_price == Decimal("12.0000")
    assert by_label["Agrafeuse"].price_rule  # priced by the catalogue, which says why
    assert by_label["Installation"].description == "Sur site, une demi-journée"
    assert [line.position for line in order.lines.order_by("position")] == [1, 2, 3]
    assert order.tax_basis_amount == Decimal("49.00") + Decimal("36.00") + Decimal("150.00")


def test_quantity_never_below_delivered_plus_cancelled(
    order: Order, assistant: Any, paper: Any
) -> None:
    paper_line = order.lines.get(product=paper)
    _ship(order, assistant, {paper_line.pk: Decimal("4")})
    with pytest.raises(ValidationError) as refused:
        actions.update_order_lines(
            order, by=assistant, lines=_keep(order, **{"Ramette A4": {"quantity": Decimal("3")}})
        )
    assert "at least 4" in str(refused.value)
    actions.update_order_lines(
        order, by=assistant, lines=_keep(order, **{"Ramette A4": {"quantity": Decimal("4")}})
    )
    paper_line.refresh_from_db()
    assert paper_line.quantity == Decimal("4")
    assert paper_line.remaining_quantity == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_DELIVERED  # the chairs are still to deliver


def test_quantity_never_below_what_a_note_in_preparation_holds(
    order: Order, assistant: Any, paper: Any
) -> None:
    paper_line = order.lines.get(product=paper)
    stock_actions.create_delivery(order, by=assistant, quantities={paper_line.pk: Decimal("6")})
    with pytest.raises(ValidationError) as refused:
        actions.update_order_lines(
            order, by=assistant, lines=_keep(order, **{"Ramette A4": {"quantity": Decimal("5")}})
        )
    assert "delivery note in preparation" in str(refused.value)
    lines = [line for line in _keep(order) if line["id"] != paper_line.pk]
    with pytest.raises(ValidationError, match="delivery note in preparation"):
        actions.update_order_lines(order, by=assistant, lines=lines)


def _ship_leaving_a_backorder(order: Order, by: Any, quantities: dict[int, Decimal]) -> Any:
    """Ship part of the order; return the backorder note Comptoir made for the rest."""
    delivery = _ship_part(order, by, quantities)
    backorder = order.deliveries.get(status="draft")  # type: ignore[attr-defined]
    assert backorder.backorder_of == delivery
    return backorder


def _held(delivery: Any) -> dict[str, Decimal]:
    return {line.order_line.label: line.quantity for line in delivery.lines.all()}


def test_ordering_less_trims_the_backorder_note_instead_of_refusing(
    client_for: Any, order: Order, assistant: Any, paper: Any
) -> None:
    paper_line = order.lines.get(product=paper)
    backorder = _ship_leaving_a_backorder(order, assistant, {paper_line.pk: Decimal("4")})
    assert _held(backorder)["Ramette A4"] == Decimal("6")
    actions.update_order_lines(
        order, by=assistant, lines=_keep(order, **{"Ramette A4": {"quantity": Decimal("7")}})
    )
    backorder.refresh_from_db()
    assert backorder.status == "draft"
    assert _held(backorder) == {"Ramette A4": Decimal("3"), "Fauteuil ergonomique": Decimal("2")}
    entry = history_for(backorder).get(action="trim_delivery")
    assert entry.changes["lines"] == [
        {"order_line": paper_line.pk, "label": "Ramette A4", "quantity": ["6", "3"]}
    ]
    page = client_for(assistant).get(reverse("stock:delivery_detail", args=[backorder.pk]))
    assert "Delivery reduced to follow its order : Ramette A4: 6 → 3" in page.content.decode()
    assert str(ACTION_LABELS["trim_delivery"]) == "Delivery reduced to follow its order"
    # Down to what already left: the paper comes off the note, the chairs stay on it.
    actions.update_order_lines(
        order, by=assistant, lines=_keep(order, **{"Ramette A4": {"quantity": Decimal("4")}})
    )
    backorder.refresh_from_db()
    assert _held(backorder) == {"Fauteuil ergonomique": Decimal("2")}
    # Below what left is still refused.
    with pytest.raises(ValidationError, match="at least 4"):
        actions.update_order_lines(
            order, by=assistant, lines=_keep(order, **{"Ramette A4": {"quantity": Decimal("3")}})
        )


def test_a_line_only_on_the_backorder_note_can_go_and_an_empty_note_is_cancelled(
    order: Order, assistant: Any, paper: Any, chair: Any
) -> None:
    paper_line = order.lines.get(product=paper)
    backorder = _ship_leaving_a_backorder(order, assistant, {paper_line.pk: Decimal("4")})
    lines = [
        {"id": line["id"], **({"quantity": Decimal("4")} if line["id"] == paper_line.pk else {})}
        for line in _keep(order)
        if line["id"] == paper_line.pk
    ]
    actions.update_order_lines(order, by=assistant, lines=lines)  # the chairs removed
    assert not order.lines.filter(product=chair).exists()
    backorder.refresh_from_db()
    assert backorder.status == "cancelled"
    assert not backorder.lines.exists()
    assert history_for(backorder).filter(action="transition").exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED  # what is left was all delivered


def test_cancelling_an_order_cancels_its_notes_still_to_ship(
    order: Order, assistant: Any, paper: Any
) -> None:
    paper_line = order.lines.get(product=paper)
    backorder = _ship_leaving_a_backorder(order, assistant, {paper_line.pk: Decimal("4")})
    actions.cancel_order(order, by=assistant, reason="Client parti")
    backorder.refresh_from_db()
    # It could never have left: the order has nothing more to deliver.
    assert backorder.status == "cancelled"
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED


def test_invoiced_line_keeps_its_price_and_stays(
    order: Order, assistant: Any, paper: Any, company: Any
) -> None:
    from_orders.invoice_order(order, by=assistant)  # a draft invoice counts too
    paper_line = order.lines.get(product=paper)
    for change in (
        {"quantity": Decimal("9")},
        {"unit_price": Decimal("5")},
        {"discount_rate": Decimal("10")},
        {"vat": vat_rate("tva-5-5")},
    ):
        with pytest.raises(ValidationError, match="at least 10|no longer change"):
            actions.update_order_lines(
                order, by=assistant, lines=_keep(order, **{"Ramette A4": change})
            )
    with pytest.raises(ValidationError, match="the line stays"):
        actions.update_order_lines(
            order, by=assistant, lines=[x for x in _keep(order) if x["id"] != paper_line.pk]
        )
    # More of it, and a new label, are fine: the invoiced quantities keep their price.
    actions.update_order_lines(
        order,
        by=assistant,
        lines=_keep(
            order, **{"Ramette A4": {"quantity": Decimal("12"), "label": "Ramette A4 80 g"}}
        ),
    )
    paper_line.refresh_from_db()
    assert (paper_line.quantity, paper_line.label) == (Decimal("12"), "Ramette A4 80 g")
    assert paper_line.unit_price == Decimal("4.9000")


def test_delivered_line_keeps_its_price(order: Order, assistant: Any, paper: Any) -> None:
    paper_line = order.lines.get(product=paper)
    _ship(order, assistant, {paper_line.pk: Decimal("2")})
    with pytest.raises(ValidationError, match="no longer change"):
        actions.update_order_lines(
            order,
            by=assistant,
            lines=_keep(order, **{"Ramette A4": {"unit_price": Decimal("4.0000")}}),
        )
    with pytest.raises(ValidationError, match="the line stays"):
        actions.update_order_lines(
            order, by=assistant, lines=[x for x in _keep(order) if x["id"] != paper_line.pk]
        )
    # The untouched chair line still changes freely.
    actions.update_order_lines(
        order,
        by=assistant,
        lines=_keep(order, **{"Fauteuil ergonomique": {"unit_price": Decimal("170")}}),
    )
    assert order.lines.get(label="Fauteuil ergonomique").unit_price == Decimal("170")


def test_total_never_below_the_down_payments(order: Order, assistant: Any, company: Any) -> None:
    down = from_orders.create_down_payment_invoice(
        order, by=assistant, rate=Decimal("50"), issue=True
    )
    order.refresh_from_db()
    assert from_orders.down_payments_taken(order) == down.tax_basis_amount
    total_before = order.total_amount
    with pytest.raises(ValidationError) as refused:
        actions.update_order_lines(
            order,
            by=assistant,
            lines=_keep(
                order,
                **{
                    "Fauteuil ergonomique": {"quantity": Decimal("1")},
                    "Ramette A4": {"quantity": Decimal("1")},
                },
            ),
        )
    assert "less than the down payments" in str(refused.value)
    order.refresh_from_db()
    assert order.total_amount == total_before  # nothing changed
    assert order.lines.get(label="Ramette A4").quantity == Decimal("10")
    # A change that keeps the total above the down payments goes through.
    actions.update_order_lines(
        order,
        by=assistant,
        lines=_keep(
            order, **{"Ramette A4": {"quantity": Decimal("5"), "unit_price": Decimal("4")}}
        ),
    )
    order.refresh_from_db()
    assert down.total_amount <= order.total_amount < total_before


def test_reservations_follow_the_quantities(
    order: Order, assistant: Any, paper: Any, chair: Any
) -> None:
    assert level_of(paper).reserved == Decimal("10")
    assert level_of(chair).reserved == Decimal("2")
    lines = _keep(order, **{"Ramette A4": {"quantity": Decimal("15")}})
    lines = [line for line in lines if line["id"] != order.lines.get(product=chair).pk]
    lines.append({"product": paper, "quantity": Decimal("5")})
    actions.update_order_lines(order, by=assistant, lines=lines)
    assert level_of(paper).reserved == Decimal("20")  # reserve more
    assert level_of(chair).reserved == Decimal("0")  # release the removed line
    first, added = order.lines.filter(product=paper).order_by("position")
    actions.update_order_lines(
        order,
        by=assistant,
        lines=[{"id": first.pk, "quantity": Decimal("1")}, {"id": added.pk}],
    )
    assert level_of(paper).reserved == Decimal("6")  # release less


def test_change_is_audited_with_before_and_after(order: Order, assistant: Any) -> None:
    total_before = order.total_amount
    actions.update_order_lines(
        order, by=assistant, lines=_keep(order, **{"Ramette A4": {"quantity": Decimal("12")}})
    )
    order.refresh_from_db()
    entry = history_for(order).filter(action="update_order_lines").get()
    assert entry.actor == assistant
    assert entry.changes["changed"] == [
        {
            "line": order.lines.get(label="Ramette A4").pk,
            "label": "Ramette A4",
            "quantity": ["10.000", "12.000"],
        }
    ]
    assert entry.changes["total_amount"] == [str(total_before), str(order.total_amount)]
    assert entry.changes["added"] == [] and entry.changes["removed"] == []
    assert "update_order_lines" in ACTION_LABELS
    with translation.override("fr"):
        assert str(ACTION_LABELS["update_order_lines"]) == "Lignes de la commande modifiées"


def test_closed_order_and_empty_order_refused(order: Order, assistant: Any) -> None:
    with pytest.raises(ValidationError, match="at least one line"):
        actions.update_order_lines(order, by=assistant, lines=[])
    actions.cancel_order(order, by=assistant, reason="Client parti")
    with pytest.raises(ValidationError, match="no longer changes"):
        actions.update_order_lines(order, by=assistant, lines=_keep(order))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    quantity=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("5000"), places=3),
    unit_price=st.decimals(min_value=Decimal("0"), max_value=Decimal("99999"), places=4),
    discount=st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2),
)
def test_edited_totals_match_a_fresh_order(
    order: Order,
    assistant: Any,
    customer: Any,
    chair: Any,
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal,
) -> None:
    change = {"quantity": quantity, "unit_price": unit_price, "discount_rate": discount}
    actions.update_order_lines(order, by=assistant, lines=_keep(order, **{"Ramette A4": change}))
    order.refresh_from_db()
    fresh = actions.create_order(
        party=customer,
        by=assistant,
        lines=[
            {"product": order.lines.get(label="Ramette A4").product, **change},
            {"product": chair, "quantity": Decimal("2"), "unit_price": Decimal("189")},
        ],
    )
    assert order.total_amount == fresh.total_amount
    assert order.vat_breakdown == fresh.vat_breakdown
    assert order.total_amount == order.tax_basis_amount + order.vat_amount


# -- the screen -------------------------------------------------------------------------------


def _post_data(order: Order, **changes: dict[str, str]) -> dict[str, str]:
    """The screen's form as it comes, with the changes typed per line label (or new rows)."""
    lines = list(order.lines.order_by("position", "pk"))
    data = {
        "line-TOTAL_FORMS": str(len(lines) + 1),
        "line-INITIAL_FORMS": str(len(lines)),
        "line-MIN_NUM_FORMS": "0",
        "line-MAX_NUM_FORMS": "1000",
    }
    for index, line in enumerate(lines):
        vat = VatRate.objects.get(code=line.vat_rate_code)
        row = {
            "line_id": str(line.pk),
            "label": line.label,
            "description": line.description,
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price),
            "discount_rate": str(line.discount_rate),
            "vat": str(vat.pk),
            **changes.get(line.label, {}),
        }
        data.update({f"line-{index}-{name}": value for name, value in row.items()})
    for name, value in changes.get("new", {}).items():
        data[f"line-{len(lines)}-{name}"] = value
    return data


def test_order_page_offers_edit_lines_to_who_may(
    client_for: Any, order: Order, assistant: Any, accountant: Any
) -> None:
    url = reverse("sales:order_detail", args=[order.pk])
    assert b'id="edit-order-lines"' in client_for(assistant).get(url).content
    assert b'id="edit-order-lines"' not in client_for(accountant).get(url).content


def test_screen_shows_the_lines(client_for: Any, order: Order, assistant: Any) -> None:
    response = client_for(assistant).get(reverse("sales:order_lines_edit", args=[order.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Lines of order" in page and order.number in page
    assert 'value="Ramette A4"' in page and 'value="Fauteuil ergonomique"' in page
    assert page.count("existing-line") == 2


def test_screen_saves_and_goes_back_to_the_order(
    client_for: Any, order: Order, assistant: Any
) -> None:
    client = client_for(assistant)
    response = client.post(
        reverse("sales:order_lines_edit", args=[order.pk]),
        _post_data(
            order,
            **{
                "Ramette A4": {"quantity": "20"},
                "Fauteuil ergonomique": {"remove": "on"},
                "new": {
                    "label": "Livraison express",
                    "quantity": "1",
                    "unit_price": "35",
                    "vat": str(vat_rate().pk),
                },
            },
        ),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("sales:order_detail", args=[order.pk])
    assert f"Lines of order {order.number} saved." in response.content.decode()
    order.refresh_from_db()
    assert {line.label: line.quantity for line in order.lines.all()} == {
        "Ramette A4": Decimal("20"),
        "Livraison express": Decimal("1"),
    }
    assert order.tax_basis_amount == Decimal("98.00") + Decimal("35.00")


def test_screen_refusal_keeps_what_was_typed(
    client_for: Any, order: Order, assistant: Any, paper: Any
) -> None:
    paper_line = order.lines.get(product=paper)
    _ship(order, assistant, {paper_line.pk: Decimal("4")})
    response = client_for(assistant).post(
        reverse("sales:order_lines_edit", args=[order.pk]),
        _post_data(
            order,
            **{
                "Ramette A4": {"quantity": "3", "label": "Ramette A4 recyclée"},
                "new": {
                    "label": "Stylos",
                    "quantity": "7",
                    "unit_price": "1.20",
                    "vat": str(vat_rate().pk),
                },
            },
        ),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "at least 4" in page
    assert 'value="Ramette A4 recyclée"' in page and 'value="3"' in page
    assert 'value="Stylos"' in page and 'value="1.20"' in page
    paper_line.refresh_from_db()
    assert (paper_line.quantity, paper_line.label) == (Decimal("10"), "Ramette A4")


def test_screen_forbidden_without_the_permission(
    client_for: Any, order: Order, accountant: Any, other_rep: Any
) -> None:
    url = reverse("sales:order_lines_edit", args=[order.pk])
    assert client_for(accountant).get(url).status_code == 403
    assert client_for(accountant).post(url, _post_data(order)).status_code == 403
    # A rep never sees another portfolio's orders.
    assert client_for(other_rep).get(url).status_code == 404
    assert order.lines.get(label="Ramette A4").quantity == Decimal("10")


def test_screen_of_a_closed_order_goes_back_to_it(
    client_for: Any, order: Order, assistant: Any
) -> None:
    actions.cancel_order(order, by=assistant, reason="Doublon")
    response = client_for(assistant).get(reverse("sales:order_lines_edit", args=[order.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:order_detail", args=[order.pk])


# -- the API ---------------------------------------------------------------------------------


def test_api_changes_lines_with_the_same_rules(
    api_client_for: Any, order: Order, assistant: Any, accountant: Any, paper: Any
) -> None:
    url = f"/api/v1/orders/{order.pk}/lines"
    paper_line = order.lines.get(product=paper)
    chair_line = order.lines.exclude(pk=paper_line.pk).get()
    body = {"lines": [{"id": paper_line.pk, "quantity": "30"}, {"id": chair_line.pk}]}
    denied = api_client_for(accountant).put(url, json.dumps(body), content_type="application/json")
    assert denied.status_code == 403
    client = api_client_for(assistant)
    response = client.put(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert Decimal(data["lines"][0]["quantity"]) == Decimal("30")
    assert Decimal(data["tax_basis_amount"]) == Decimal("147.00") + Decimal("378.00")
    _ship(order, assistant, {paper_line.pk: Decimal("4")})
    refused = client.put(
        url,
        json.dumps({"lines": [{"id": paper_line.pk, "unit_price": "3"}, {"id": chair_line.pk}]}),
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert "no longer change" in json.dumps(refused.json())
