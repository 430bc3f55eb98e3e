"""The demo catalogue: 80 products in 6 families and 3 price lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction

from comptoir.catalogue.models import (
    PriceList,
    PriceListScope,
    PriceMethod,
    PriceRule,
    Product,
    ProductFamily,
    ProductKind,
    Unit,
    VatCategory,
    VatRate,
)
from comptoir.core.models import User
from comptoir.parties.models import CustomerCategory, Party

if TYPE_CHECKING:
    from comptoir.demo.builder import Generator

# family code, family name, [(label, unit, base price excl. VAT)]
FAMILIES = [
    (
        "papeterie",
        "Papeterie",
        [
            ("Ramette papier A4 80 g blanc (500 feuilles)", Unit.PACK, "4.90"),
            ("Ramette papier A4 80 g recyclé", Unit.PACK, "5.40"),
            ("Ramette papier A3 80 g", Unit.PACK, "11.20"),
            ("Bloc-notes A4 ligné 100 pages", Unit.UNIT, "2.10"),
            ("Cahier spirale 24×32 180 pages", Unit.UNIT, "3.60"),
            ("Enveloppes DL blanches (boîte de 500)", Unit.BOX, "18.50"),
            ("Enveloppes C4 kraft (boîte de 250)", Unit.BOX, "24.90"),
            ("Post-it 76×76 jaune (12 blocs)", Unit.PACK, "9.80"),
            ("Papier photo brillant A4 (50 feuilles)", Unit.PACK, "14.90"),
            ("Étiquettes adresse 99×38 (1 400)", Unit.BOX, "21.00"),
            ("Carnet de bons de livraison dupli", Unit.UNIT, "6.30"),
            ("Chemises cartonnées 240 g (100)", Unit.PACK, "12.40"),
            ("Papier cadeau kraft 50 m", Unit.UNIT, "16.00"),
            ("Registre du personnel", Unit.UNIT, "19.90"),
        ],
    ),
    (
        "ecriture",
        "Écriture et correction",
        [
            ("Stylo bille bleu (boîte de 50)", Unit.BOX, "11.50"),
            ("Stylo gel noir rétractable", Unit.UNIT, "1.45"),
            ("Surligneurs assortis (pochette de 4)", Unit.PACK, "3.20"),
            ("Marqueurs tableau blanc (4 couleurs)", Unit.PACK, "5.60"),
            ("Crayons graphite HB (12)", Unit.PACK, "2.90"),
            ("Roller correcteur 5 mm", Unit.UNIT, "1.95"),
            ("Feutres fins assortis (20)", Unit.PACK, "7.40"),
            ("Stylo plume rechargeable", Unit.UNIT, "12.90"),
            ("Cartouches d'encre bleue (30)", Unit.BOX, "4.50"),
            ("Marqueurs permanents noirs (10)", Unit.PACK, "8.20"),
            ("Porte-mines 0,5 mm", Unit.UNIT, "3.10"),
            ("Gommes blanches (20)", Unit.BOX, "6.00"),
            ("Taille-crayons à réservoir", Unit.UNIT, "2.20"),
        ],
    ),
    (
        "classement",
        "Classement et archivage",
        [
            ("Classeur à levier dos 80 mm", Unit.UNIT, "2.95"),
            ("Classeur 4 anneaux A4", Unit.UNIT, "2.40"),
            ("Intercalaires A4 12 touches", Unit.PACK, "1.90"),
            ("Pochettes perforées (100)", Unit.BOX, "4.80"),
            ("Boîte d'archives dos 100 mm (25)", Unit.PACK, "29.00"),
            ("Trieur 12 compartiments", Unit.UNIT, "9.90"),
            ("Parapheur 18 compartiments", Unit.UNIT, "14.50"),
            ("Boîte de classement à élastiques", Unit.UNIT, "3.30"),
            ("Dossiers suspendus (25)", Unit.BOX, "17.80"),
            ("Porte-revues carton (10)", Unit.PACK, "15.20"),
            ("Étiquettes pour classeurs (100)", Unit.PACK, "3.40"),
            ("Agrafeuse 25 feuilles", Unit.UNIT, "8.90"),
            ("Agrafes 24/6 (5 000)", Unit.BOX, "1.60"),
            ("Perforatrice 2 trous 30 feuilles", Unit.UNIT, "11.40"),
        ],
    ),
    (
        "mobilier",
        "Mobilier de bureau",
        [
            ("Bureau droit 160×80 chêne clair", Unit.UNIT, "289.00"),
            ("Bureau compact 140×120 blanc", Unit.UNIT, "349.00"),
            ("Bureau assis-debout électrique", Unit.UNIT, "649.00"),
            ("Fauteuil ergonomique synchrone", Unit.UNIT, "329.00"),
            ("Chaise visiteur empilable", Unit.UNIT, "69.00"),
            ("Caisson 3 tiroirs sur roulettes", Unit.UNIT, "179.00"),
            ("Armoire haute à portes battantes", Unit.UNIT, "459.00"),
            ("Table de réunion 8 personnes", Unit.UNIT, "799.00"),
            ("Étagère métallique 5 tablettes", Unit.UNIT, "139.00"),
            ("Lampe LED de bureau", Unit.UNIT, "49.00"),
            ("Repose-pieds réglable", Unit.UNIT, "29.00"),
            ("Cloison acoustique 160×120", Unit.UNIT, "219.00"),
            ("Vestiaire métallique 2 cases", Unit.UNIT, "259.00"),
        ],
    ),
    (
        "informatique",
        "Informatique et consommables",
        [
            ("Cartouche toner noir laser (compatible)", Unit.UNIT, "59.00"),
            ("Cartouche jet d'encre couleur", Unit.UNIT, "34.90"),
            ("Clé USB 64 Go", Unit.UNIT, "9.90"),
            ("Disque SSD externe 1 To", Unit.UNIT, "89.00"),
            ("Souris sans fil", Unit.UNIT, "19.90"),
            ("Clavier AZERTY filaire", Unit.UNIT, "24.90"),
            ("Écran 27 pouces QHD", Unit.UNIT, "249.00"),
            ("Casque audio USB avec micro", Unit.UNIT, "39.00"),
            ("Multiprise parafoudre 6 prises", Unit.UNIT, "27.50"),
            ("Câble HDMI 2 m", Unit.UNIT, "8.90"),
            ("Station d'accueil USB-C", Unit.UNIT, "129.00"),
            ("Destructeur de documents P-4", Unit.UNIT, "189.00"),
            ("Calculatrice imprimante", Unit.UNIT, "79.00"),
        ],
    ),
    (
        "services",
        "Services",
        [
            ("Livraison et installation au poste", Unit.HOUR, "55.00"),
            ("Montage de mobilier", Unit.HOUR, "48.00"),
            ("Aménagement d'espace (étude)", Unit.DAY, "650.00"),
            ("Enlèvement et recyclage de mobilier", Unit.HOUR, "45.00"),
            ("Contrat de maintenance imprimante (an)", Unit.UNIT, "240.00"),
            ("Formation ergonomie au poste", Unit.HOUR, "85.00"),
            ("Personnalisation (marquage logo)", Unit.UNIT, "0.60"),
            ("Livraison express J+1", Unit.UNIT, "19.00"),
            ("Audit des consommables", Unit.DAY, "590.00"),
            ("Archivage externalisé (carton/an)", Unit.UNIT, "3.20"),
            ("Installation de poste informatique", Unit.HOUR, "65.00"),
            ("Reprise de matériel informatique", Unit.UNIT, "15.00"),
            ("Destruction sécurisée d'archives (bac)", Unit.UNIT, "39.00"),
        ],
    ),
]


def standard_rate(percent: str) -> VatRate:
    return VatRate.objects.get(category=VatCategory.STANDARD, rate=Decimal(percent), active=True)


@transaction.atomic
def build_catalogue(gen: Generator, users: dict[str, User]) -> dict[str, int]:
    """Create the families, 80 products and the 3 price lists; return the counts."""
    rng = gen.rng
    full_rate = standard_rate("20")
    products: list[Product] = []
    number = 0
    families = {}
    for code, name, items in FAMILIES:
        families[code] = family = ProductFamily.objects.create(code=code, name=name)
        for label, unit, price in items:
            number += 1
            sale_price = Decimal(price)
            margin = Decimal(rng.randint(28, 55)) / 100
            kind = ProductKind.SERVICE if code == "services" else ProductKind.GOODS
            products.append(
                Product(
                    reference=f"{code[:3].upper()}-{number:04d}",
                    label=label,
                    description="",
                    kind=kind,
                    unit=unit,
                    family=family,
                    purchase_cost=(sale_price * (1 - margin)).quantize(Decimal("0.0001")),
                    sale_price=sale_price,
                    vat_rate=full_rate,
                )
            )
    Product.objects.bulk_create(products)
    products = list(Product.objects.order_by("reference"))

    general = PriceList.objects.create(
        code="tarif-2026",
        name="Tarif général 2026",
        scope=PriceListScope.GENERAL,
        priority=0,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
        notes="Remises par quantité sur les consommables.",
    )
    for family_code in ("papeterie", "ecriture", "classement"):
        PriceRule.objects.create(
            price_list=general,
            family=families[family_code],
            min_quantity=Decimal("10"),
            method=PriceMethod.PERCENTAGE,
            value=Decimal("5"),
        )
        PriceRule.objects.create(
            price_list=general,
            family=families[family_code],
            min_quantity=Decimal("50"),
            method=PriceMethod.PERCENTAGE,
            value=Decimal("10"),
        )
    resellers = PriceList.objects.create(
        code="revendeurs",
        name="Revendeurs",
        scope=PriceListScope.CATEGORY,
        category=CustomerCategory.objects.get(code="reseller"),
        priority=10,
        notes="Conditions revendeurs : −15 % sur tout le catalogue, −20 % dès 20 unités.",
    )
    PriceRule.objects.create(
        price_list=resellers,
        min_quantity=Decimal("1"),
        method=PriceMethod.PERCENTAGE,
        value=Decimal("15"),
    )
    PriceRule.objects.create(
        price_list=resellers,
        min_quantity=Decimal("20"),
        method=PriceMethod.PERCENTAGE,
        value=Decimal("20"),
    )
    town_hall = (
        Party.objects.filter(name__startswith="Mairie ").order_by("pk").first()
        or Party.objects.customers().order_by("pk").first()
    )
    contract = PriceList.objects.create(
        code="contrat-mairie",
        name=f"Marché {town_hall.name}" if town_hall else "Marché public",
        scope=PriceListScope.CUSTOMER,
        party=town_hall,
        priority=20,
        valid_from=date(2026, 3, 1),
        valid_until=date(2027, 2, 28),
        notes="Prix fermes du marché à bons de commande.",
    )
    for product in rng.sample([p for p in products if p.family_id == families["mobilier"].pk], 6):
        PriceRule.objects.create(
            price_list=contract,
            product=product,
            min_quantity=Decimal("1"),
            method=PriceMethod.FIXED,
            value=(product.sale_price * Decimal("0.82")).quantize(Decimal("0.01")),
        )
    return {"products": len(products), "families": len(families), "price lists": 3}
