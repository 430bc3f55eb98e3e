"""The streamlined schematrons report exactly what the shipped ones report, faster."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from comptoir.invoicing import actions, validation
from comptoir.invoicing._schematron_worker import MAX_NAMED_WALKS, matched_names, streamline
from comptoir.invoicing.einvoice import build_cii
from comptoir.invoicing.models import Invoice
from comptoir.invoicing.ubl import build_ubl
from comptoir.parties.models import Party
from tests.invoicing.conftest import EXEMPT, INTRA_EU, REDUCED_10, STANDARD_20, line

XSL = "{http://www.w3.org/1999/XSL/Transform}"


def test_matched_names_reads_the_last_step_of_each_alternative() -> None:
    assert matched_names("//ram:A/ram:B[ram:C/@x = 'a/b|c']") == ["ram:B"]
    assert matched_names("/rsm:X/ram:Y | ram:Z[1]") == ["ram:Y", "ram:Z"]
    assert matched_names("//*[not(*) and not(normalize-space())]") == ["*"]
    assert matched_names("//cac:Party/cbc:EndpointID/@schemeID") is None
    assert matched_names("/") is None
    assert matched_names("text()") is None


def test_streamline_applies_each_pattern_to_the_elements_it_can_match() -> None:
    root = etree.fromstring(streamline(validation.SCHEMATRONS["en16931"].read_text()).encode())
    (main,) = [
        t for t in root.iter(f"{XSL}template") if t.get("match") == "/" and not t.get("mode")
    ]
    selects = [a.get("select") for a in main.iter(f"{XSL}apply-templates")]
    assert len(selects) == 66 and "/" not in selects and None not in selects
    assert not list(root.iter("{http://purl.oclc.org/dsdl/svrl}fired-rule"))
    assert not list(root.iter("{http://purl.oclc.org/dsdl/svrl}active-pattern"))
    # A pattern naming many elements (the structural one names ~300) walks every element
    # once instead of once per name.
    assert "descendant::*" in selects
    assert max(select.count("|") + 1 for select in selects) <= MAX_NAMED_WALKS
    # No template of a pattern's mode walks down the tree any more.
    for template in root.iter(f"{XSL}template"):
        mode = template.get("mode") or ""
        if mode.startswith("M"):
            assert not [a for a in template.iter(f"{XSL}apply-templates") if a.get("mode") == mode]


def _mutants(xml: bytes, count: int, seed: int) -> Iterator[bytes]:
    """Yield broken variants: elements dropped, emptied, given odd values, repeated."""
    # Codes outside and inside the code lists, which the streamlined XSLT finds through keys.
    yield xml.replace(b'unitCode="C62"', b'unitCode="ZZZ"').replace(b">FR<", b">XF<")
    yield xml.replace(b'unitCode="C62"', b'unitCode="KGM"').replace(b">EUR<", b">EUX<")
    rnd = random.Random(seed)
    values = ["", "X", "0", "-1.50", "20261399", "ZZ", "380", "S", "E", "12.345", "0225"]
    for _ in range(count):
        root = etree.fromstring(xml)
        for _change in range(rnd.randint(1, 3)):
            element = rnd.choice([e for e in root.iter() if isinstance(e.tag, str)][1:])
            roll = rnd.random()
            if roll < 0.3:
                element.getparent().remove(element)
            elif roll < 0.65:
                element.text = rnd.choice(values)
            elif roll < 0.85:
                element.addnext(copy.deepcopy(element))
            else:
                element.set(rnd.choice(["schemeID", "unitCode", "currencyID"]), rnd.choice(values))
        yield etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _findings(worker: validation.SchematronWorker, xml: bytes, names: list[str]) -> Any:
    try:
        reports = worker.run(xml, names)
    except validation.SchematronUnavailable as error:
        return str(error)  # Saxon's dynamic error, e.g. a letter where a number must be
    return {name: validation.parse_svrl(name, report) for name, report in reports.items()}


@pytest.mark.slow
@pytest.mark.django_db
def test_streamlined_and_shipped_schematrons_give_the_same_findings(
    customer: Party, eu_customer: Party, issued_for: Callable[..., Invoice], assistant: Any
) -> None:
    invoice = issued_for(
        customer,
        [
            line("Farine", "12.5", "1.8765", STANDARD_20, discount_rate=Decimal("7.5")),
            line("Repas", "3", "14.90", REDUCED_10),
            line("Formation", "1", "650", EXEMPT),
        ],
        discount_rate=Decimal("4"),
        operation_category="mixed",
        produce_documents=False,
    )
    export = issued_for(
        eu_customer, [line("Four", "1", "12000", INTRA_EU)], produce_documents=False
    )
    credit = actions.issue_invoice(
        actions.create_credit_note(invoice, by=assistant), by=assistant, produce_documents=False
    )
    documents = []
    for number, document in enumerate((invoice, export, credit)):
        lines = list(document.lines.order_by("position", "pk"))
        for xml, names in (
            (build_cii(document, lines), validation.CII_CHECKS),
            (build_ubl(document, lines), validation.UBL_CHECKS),
        ):
            documents.append((xml, names))
            documents += [(m, names) for m in _mutants(xml, 12, seed=number)]
    shipped = validation.SchematronWorker(verbatim=True)
    try:
        found = 0
        for xml, names in documents:
            expected = _findings(shipped, xml, names)
            assert _findings(validation.worker, xml, names) == expected, xml.decode()
            found += sum(map(len, expected.values())) if isinstance(expected, dict) else 0
    finally:
        shipped.stop()
    assert found > 50  # the mutants did break rules: the comparison compared something
