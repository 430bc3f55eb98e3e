"""Catalogue screens: lists, forms, exports (CSV, XLSX, PDF), price check and publication."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from comptoir.catalogue import actions
from comptoir.catalogue.models import PriceListScope, PriceMethod, PriceRule, Product
from comptoir.core.actions import update_company
from comptoir.parties.models import CustomerCategory
from tests.factories import (
    PartyFactory,
    PriceListFactory,
    PriceRuleFactory,
    ProductFactory,
    ProductFamilyFactory,
    vat_rate,
)

pytestmark = pytest.mark.django_db
FORMULA = "=cmd|' /C calc'!A0"


def body(response: Any) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


# -- products ------------------------------------------------------------------------------


def test_product_list_shows_margin_and_runs_few_queries(client_for: Any, assistant: Any) -> None:
    family = ProductFamilyFactory(name="Papeterie")
    for n in range(12):
        ProductFactory(
            family=family, sale_price=Decimal("10"), purchase_cost=Decimal("6"), label=f"P{n}"
        )
    client = client_for(assistant)
    client.get(reverse("catalogue:products"))  # warm the session and content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("catalogue:products"))
    assert response.status_code == 200
    # session + user + count + page + family filter + VAT filter: no query per product.
    assert len(queries) <= 8, [q["sql"] for q in queries]
    page = body(response)
    assert "Papeterie" in page and "40,00" in page  # margin (10 − 6) / 10
    assert "10,00" in page


def test_product_list_search_and_filters(client_for: Any, assistant: Any) -> None:
    family = ProductFamilyFactory(name="Mobilier")
    ProductFactory(reference="DESK-1", label="Bureau chêne", family=family)
    ProductFactory(reference="PEN-1", label="Stylo", vat_rate=vat_rate("tva-5-5"))
    client = client_for(assistant)
    page = body(client.get(reverse("catalogue:products"), {"q": "chêne"}))
    assert "DESK-1" in page and "PEN-1" not in page
    assert "Log out" in page  # conftest pins English: wording assertions hold once translated
    page = body(client.get(reverse("catalogue:products"), {"family": family.pk}))
    assert "DESK-1" in page and "PEN-1" not in page
    page = body(client.get(reverse("catalogue:products"), {"vat_rate": vat_rate("tva-5-5").pk}))
    assert "PEN-1" in page and "DESK-1" not in page


def test_rep_reads_products_without_costs(client_for: Any, rep: Any) -> None:
    ProductFactory(reference="P-1", purchase_cost=Decimal("6.1234"))
    response = client_for(rep).get(reverse("catalogue:products"))
    assert response.status_code == 200
    page = body(response)
    assert "P-1" in page and "Purchase cost" not in page and "6,1234" not in page
    csv_text = body(client_for(rep).get(reverse("catalogue:products"), {"export": "csv"}))
    assert "Purchase cost" not in csv_text and "6,1234" not in csv_text
    assert client_for(rep).get(reverse("catalogue:product_create")).status_code == 403


def test_product_exports_neutralise_formulas(client_for: Any, assistant: Any) -> None:
    ProductFactory(reference="EVIL-1", label=FORMULA, sale_price=Decimal("12.5"))
    client = client_for(assistant)
    response = client.get(reverse("catalogue:products"), {"export": "csv"})
    rows = list(csv.reader(io.StringIO(body(response)), delimiter=";"))
    header, row = rows[0], rows[1]
    assert row[header.index("Label")] == "'" + FORMULA
    assert row[header.index("Sale price excl. VAT")] == "12,5000"

    response = client.get(reverse("catalogue:products"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for cell in sheet[2]]
    assert "'" + FORMULA in values
    assert FORMULA not in values
    assert Decimal(
        str(values[[c.value for c in sheet[1]].index("Sale price excl. VAT")])
    ) == Decimal("12.5")


def test_create_product_with_inline_validation(client_for: Any, assistant: Any) -> None:
    client = client_for(assistant)
    url = reverse("catalogue:product_create")
    data = {
        "reference": "NEW-1",
        "label": "Agrafeuse",
        "kind": "goods",
        "unit": "H87",
        "sale_price": "-3",
        "vat_rate": vat_rate().pk,
        "active": "on",
    }
    response = client.post(url, data, headers={"X-Validate-Field": "sale_price"})
    assert "A sale price cannot be negative." in body(response)
    assert not Product.objects.filter(reference="NEW-1").exists()
    response = client.post(url, {**data, "sale_price": "8.90", "purchase_cost": "4.1"})
    product = Product.objects.get(reference="NEW-1")
    assert response.status_code == 302
    assert response["Location"] == reverse("catalogue:product_detail", args=[product.pk])
    assert (product.sale_price, product.unit) == (Decimal("8.90"), "H87")
    detail = body(client.get(response["Location"]))
    assert "8,90" in detail and "Agrafeuse" in detail


def test_edit_and_deactivate_product(client_for: Any, manager: Any) -> None:
    product = ProductFactory(sale_price=Decimal("10"))
    client = client_for(manager)
    url = reverse("catalogue:product_edit", args=[product.pk])
    form = {
        "reference": product.reference,
        "label": "Renamed",
        "kind": "service",
        "unit": "HUR",
        "sale_price": "55",
        "vat_rate": vat_rate().pk,
        "active": "on",
    }
    assert client.post(url, form).status_code == 302
    product.refresh_from_db()
    assert (product.label, product.kind, product.sale_price) == ("Renamed", "service", Decimal(55))
    client.post(reverse("catalogue:product_deactivate", args=[product.pk]))
    product.refresh_from_db()
    assert product.active is False


def test_families_and_vat_rates_lists(client_for: Any, assistant: Any, rep: Any) -> None:
    ProductFamilyFactory(name="Informatique")
    page = body(client_for(rep).get(reverse("catalogue:families")))
    assert "Informatique" in page
    page = body(client_for(rep).get(reverse("catalogue:vat_rates")))
    assert "VATEX-FR-FRANCHISE" in page and "TVA 5,5 %" in page
    response = client_for(assistant).post(
        reverse("catalogue:family_create"), {"code": "services", "name": "Services"}
    )
    assert response.status_code == 302
    assert (
        client_for(rep)
        .post(reverse("catalogue:family_create"), {"code": "x", "name": "X"})
        .status_code
        == 403
    )


# -- price lists ---------------------------------------------------------------------------


@pytest.fixture
def price_list_setup(rep: Any) -> dict[str, Any]:
    category = CustomerCategory.objects.create(code="reseller", name="Revendeurs")
    family = ProductFamilyFactory(name="Papeterie")
    product = ProductFactory(
        reference="PAP-0001",
        label="Ramette A4",
        family=family,
        sale_price=Decimal("4.90"),
        purchase_cost=Decimal("2.7777"),
    )
    evil = ProductFactory(reference="EVIL-1", label=FORMULA, family=family)
    price_list = PriceListFactory(
        name="Revendeurs", scope=PriceListScope.CATEGORY, category=category, priority=10
    )
    PriceRuleFactory(price_list=price_list, min_quantity=Decimal(10), value=Decimal(12))
    customer = PartyFactory(name="Dupont SA", category=category, sales_rep=rep)
    return {
        "category": category,
        "product": product,
        "evil": evil,
        "price_list": price_list,
        "customer": customer,
    }


def test_price_list_detail_and_price_check(
    client_for: Any, assistant: Any, price_list_setup: dict[str, Any]
) -> None:
    price_list = price_list_setup["price_list"]
    url = reverse("catalogue:price_list_detail", args=[price_list.pk])
    client = client_for(assistant)
    page = body(client.get(url))
    assert "Revendeurs" in page and "−12 %" in page and 'id="publish"' in page
    params = {
        "product": price_list_setup["product"].pk,
        "party": price_list_setup["customer"].pk,
        "quantity": "10",
        "on_date": "2026-06-15",
    }
    page = body(client.get(url, params))
    assert "4,312 €" in page
    assert (
        "Price list «Revendeurs» (category Revendeurs), all products, from 10 units: −12 %" in page
    )
    fragment = body(client.get(reverse("catalogue:price_check", args=[price_list.pk]), params))
    assert fragment.lstrip().startswith('<div id="price-check-result">')
    assert "4,312 €" in fragment
    fragment = body(
        client.get(
            reverse("catalogue:price_check", args=[price_list.pk]), {**params, "quantity": "1"}
        )
    )
    assert "4,90 €" in fragment and "catalogue price" in fragment
    # The product page lists the rules that may price it, "all products" rules included.
    detail = body(
        client.get(reverse("catalogue:product_detail", args=[price_list_setup["product"].pk]))
    )
    assert "Revendeurs" in detail and "all products" in detail and "−12 %" in detail


def test_add_edit_remove_rule_from_the_page(
    client_for: Any, assistant: Any, price_list_setup: dict[str, Any]
) -> None:
    price_list = price_list_setup["price_list"]
    client = client_for(assistant)
    response = client.post(
        reverse("catalogue:rule_create", args=[price_list.pk]),
        {"method": "percentage", "value": "150", "min_quantity": "0"},
    )
    assert response.status_code == 200
    assert "A discount is between 0 and 100 %." in body(response)
    response = client.post(
        reverse("catalogue:rule_create", args=[price_list.pk]),
        {
            "product": price_list_setup["product"].pk,
            "method": PriceMethod.FIXED,
            "value": "3.99",
            "min_quantity": "100",
        },
    )
    assert response.status_code == 302
    rule = PriceRule.objects.get(price_list=price_list, product=price_list_setup["product"])
    response = client.post(
        reverse("catalogue:rule_edit", args=[price_list.pk, rule.pk]),
        {
            "product": price_list_setup["product"].pk,
            "method": PriceMethod.FIXED,
            "value": "3.50",
            "min_quantity": "100",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.value == Decimal("3.5")
    client.post(reverse("catalogue:rule_remove", args=[price_list.pk, rule.pk]))
    assert not PriceRule.objects.filter(pk=rule.pk).exists()


def test_price_list_form_refuses_customer_scope_without_customer(
    client_for: Any, assistant: Any
) -> None:
    response = client_for(assistant).post(
        reverse("catalogue:price_list_create"),
        {"code": "dupont", "name": "Dupont", "scope": "customer", "priority": "0", "active": "on"},
    )
    assert response.status_code == 200
    assert "Choose the customer this price list is for." in body(response)


def test_rep_reads_only_price_lists_of_own_customers(
    client_for: Any, rep: Any, other_rep: Any, price_list_setup: dict[str, Any]
) -> None:
    price_list = price_list_setup["price_list"]
    url = reverse("catalogue:price_list_detail", args=[price_list.pk])
    page = body(client_for(rep).get(url))
    assert 'id="publish"' not in page and "Add a rule" not in page
    assert client_for(other_rep).get(url).status_code == 403
    assert "Revendeurs" not in body(client_for(other_rep).get(reverse("catalogue:price_lists")))
    assert "Revendeurs" in body(client_for(rep).get(reverse("catalogue:price_lists")))
    assert (
        client_for(rep)
        .post(reverse("catalogue:rule_create", args=[price_list.pk]), {"value": "1"})
        .status_code
        == 403
    )


def test_price_list_exports_csv_xlsx(
    client_for: Any, accountant: Any, price_list_setup: dict[str, Any]
) -> None:
    price_list = price_list_setup["price_list"]
    client = client_for(accountant)
    response = client.get(reverse("catalogue:price_list_export", args=[price_list.pk, "csv"]))
    rows = list(csv.reader(io.StringIO(body(response)), delimiter=";"))
    assert rows[0][:3] == ["Family", "Reference", "Product"]
    ramette = [row for row in rows if row[1] == "PAP-0001"]
    assert [(row[4], row[5]) for row in ramette] == [("1", "4,9000"), ("10", "4,3120")]
    evil = [row for row in rows if row[1] == "EVIL-1"]
    assert evil and all(row[2] == "'" + FORMULA for row in evil)
    assert all("2,7777" not in cell for row in rows for cell in row)  # no purchase cost

    response = client.get(reverse("catalogue:price_list_export", args=[price_list.pk, "xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    labels = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'" + FORMULA in labels and FORMULA not in labels


def test_price_list_pdf_holds_references_and_prices(
    client_for: Any, assistant: Any, price_list_setup: dict[str, Any]
) -> None:
    update_company(by=assistant, legal_name="Papeterie Dupont", siren="732829320")
    price_list = price_list_setup["price_list"]
    response = client_for(assistant).get(
        reverse("catalogue:price_list_export", args=[price_list.pk, "pdf"])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "PAP-0001" in text
    assert "4,90" in text and "4,312" in text  # list price and the price from 10 units
    assert "Papeterie" in text  # the family heading
    assert "SIREN 732829320" in text  # legal footer
    assert "2,7777" not in text  # never the purchase cost


# -- publication ---------------------------------------------------------------------------


def test_publication_is_public_until_revoked(
    client_for: Any, assistant: Any, price_list_setup: dict[str, Any], settings: Any
) -> None:
    price_list = price_list_setup["price_list"]
    client = client_for(assistant)
    client.post(reverse("catalogue:price_list_publish", args=[price_list.pk]))
    publication = price_list.publications.get()
    public_url = reverse("catalogue:public_price_list", args=[publication.token])
    assert public_url in body(
        client.get(reverse("catalogue:price_list_detail", args=[price_list.pk]))
    )
    # The link starts with the address the page was opened at (no COMPTOIR_SITE_URL given),
    # not with the default port 8000 the server may not listen on.
    settings.SITE_URL_EXPLICIT = False
    settings.ALLOWED_HOSTS = ["comptoir.local", "testserver"]
    page = body(
        client.get(
            reverse("catalogue:price_list_detail", args=[price_list.pk]),
            HTTP_HOST="comptoir.local:8795",
        )
    )
    assert f"http://comptoir.local:8795{public_url}" in page

    anonymous = Client()
    response = anonymous.get(public_url)
    assert response.status_code == 200
    page = body(response)
    assert "PAP-0001" in page and "4,90 €" in page and "4,312 €" in page
    assert "2,7777" not in page and "Purchase cost" not in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    # A guessed token is not found.
    assert anonymous.get(reverse("catalogue:public_price_list", args=["x" * 43])).status_code == 404

    client.post(reverse("catalogue:publication_revoke", args=[price_list.pk, publication.pk]))
    response = anonymous.get(public_url)
    assert response.status_code == 404
    assert "This price list is not available" in body(response)
    assert "PAP-0001" not in body(response)


def test_only_back_office_publishes(
    client_for: Any, rep: Any, price_list_setup: dict[str, Any]
) -> None:
    price_list = price_list_setup["price_list"]
    response = client_for(rep).post(reverse("catalogue:price_list_publish", args=[price_list.pk]))
    assert response.status_code == 403
    assert not price_list.publications.exists()


def test_public_page_of_deactivated_list_is_gone(
    assistant: Any, price_list_setup: dict[str, Any]
) -> None:
    price_list = price_list_setup["price_list"]
    publication = actions.publish_price_list(price_list, by=assistant)
    actions.update_price_list(price_list, by=assistant, active=False)
    url = reverse("catalogue:public_price_list", args=[publication.token])
    assert Client().get(url).status_code == 404


def test_price_list_pdf_prints_the_company_logo(
    settings: Any, tmp_path: Any, assistant: Any, price_list_setup: dict[str, Any]
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from comptoir.catalogue.printing import render_price_list_pdf

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (60, 20), (200, 30, 30)).save(buffer, "PNG")
    update_company(
        by=assistant,
        legal_name="Papeterie Dupont",
        logo=SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png"),
    )
    reader = PdfReader(io.BytesIO(render_price_list_pdf(price_list_setup["price_list"])))
    images = [image for page in reader.pages for image in page.images]
    assert len(images) == 1
    assert "PAP-0001" in reader.pages[0].extract_text()


def test_switching_a_list_to_general_drops_its_category(
    client_for: Any, assistant: Any, price_list_setup: dict[str, Any]
) -> None:
    price_list = price_list_setup["price_list"]
    response = client_for(assistant).post(
        reverse("catalogue:price_list_edit", args=[price_list.pk]),
        {
            "code": price_list.code,
            "name": price_list.name,
            "scope": "general",
            "category": price_list_setup["category"].pk,
            "priority": "10",
            "active": "on",
        },
    )
    assert response.status_code == 302
    price_list.refresh_from_db()
    assert (price_list.scope, price_list.category_id) == ("general", None)


@pytest.mark.django_db
def test_legal_footer_does_not_repeat_what_the_footer_text_restates(assistant: Any) -> None:
    from comptoir.catalogue.printing import legal_footer
    from comptoir.core.selectors import current_company

    update_company(
        by=assistant,
        legal_name="Papeterie Dupont",
        legal_form="SAS",
        share_capital_amount=Decimal("150000"),
        siren="732829320",
        rcs_city="Lyon",
        document_footer="Papeterie Dupont — SAS au capital de 150 000 € — RCS Lyon 732 829 320"
        " — Merci de votre confiance",
    )
    footer = legal_footer(current_company())
    assert footer.count("732") == 1
    assert footer.endswith("Merci de votre confiance")
