"""Seed the French VAT rates as data: four standard rates and the usual 0 % cases.

Each 0 % rate carries its EN 16931 category, the mention an invoice must print, and its
VATEX exemption reason code (CEF VATEX code list).
"""

from decimal import Decimal

from django.db import migrations

VAT_RATES = [
    # code, label, rate, category, exemption reason, VATEX code
    ("tva-20", "TVA 20 %", "20.00", "S", "", ""),
    ("tva-10", "TVA 10 %", "10.00", "S", "", ""),
    ("tva-5-5", "TVA 5,5 %", "5.50", "S", "", ""),
    ("tva-2-1", "TVA 2,1 %", "2.10", "S", "", ""),
    (
        "franchise-293b",
        "Franchise en base de TVA (0 %)",
        "0.00",
        "E",
        "TVA non applicable, art. 293 B du CGI",
        "VATEX-FR-FRANCHISE",
    ),
    (
        "exoneration-formation",
        "Exonéré – formation professionnelle (0 %)",
        "0.00",
        "E",
        "Exonération de TVA, article 261-4-4° du CGI",
        "VATEX-EU-132-1I",
    ),
    (
        "livraison-intracom",
        "Livraison intracommunautaire (0 %)",
        "0.00",
        "K",
        "Exonération de TVA, article 262 ter, I du CGI",
        "VATEX-EU-IC",
    ),
    (
        "autoliquidation",
        "Autoliquidation (0 %)",
        "0.00",
        "AE",
        "Autoliquidation",
        "VATEX-EU-AE",
    ),
    (
        "export-hors-ue",
        "Export hors UE (0 %)",
        "0.00",
        "G",
        "Exonération de TVA, article 262 I du CGI",
        "VATEX-EU-G",
    ),
]


def seed_vat_rates(apps, schema_editor):
    VatRate = apps.get_model("catalogue", "VatRate")
    for code, label, rate, category, reason, vatex in VAT_RATES:
        VatRate.objects.update_or_create(
            code=code,
            defaults={
                "label": label,
                "rate": Decimal(rate),
                "category": category,
                "exemption_reason": reason,
                "exemption_code": vatex,
                "active": True,
            },
        )


def remove_vat_rates(apps, schema_editor):
    VatRate = apps.get_model("catalogue", "VatRate")
    VatRate.objects.filter(code__in=[row[0] for row in VAT_RATES], products__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]

    operations = [migrations.RunPython(seed_vat_rates, remove_vat_rates)]
