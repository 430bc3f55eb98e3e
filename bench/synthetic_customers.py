"""Generate a messy French customer file with known duplicates (seeded, reproducible).

An *entity* is one contact person at one organisation (or a private customer). Each entity is
written one or more times; every row is rendered on its own, so duplicates differ by typos,
legal-form and case variants, phone layouts, street and town abbreviations, SIRET for SIREN,
swapped or missing fields. Organisations have one to three contacts (colleagues, sometimes of
one family) and common names repeat across towns, so neither "same company" nor "same name"
alone means "same entity".

    python bench/synthetic_customers.py 100000 customers.csv --seed 7

writes a semicolon CSV with French headers and an ``entity_id`` column (the truth).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import unicodedata
from collections.abc import Iterator

HEADER = [
    "Raison sociale",
    "SIREN",
    "Prénom",
    "Nom",
    "E-mail",
    "Téléphone",
    "Portable",
    "Adresse",
    "Code postal",
    "Ville",
]

LAST_NAMES = [
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel",
    "Lefèbvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau",
    "Vincent Müller Lefèvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand",
    "Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu Gautier Masson Marchand",
    "Duval Denis Dumont Marie Lemaire Noël Meyer Dufour Meunier Brun Blanchard Giraud Joly Rivière Lucas",
    "Brunet Gaillard Barbier Arnaud Martinez Gérard Roche Renard Schmitt Roy Leroux Colin Vidal Caron",
    "Picard Roger Fabre Aubert Lemoine Renaud Dumas Lacroix Olivier Philippe Bourgeois Pierre Benoît",
    "Rey Leclerc Payet Rolland Leclercq Guillaume Lecomte Lopez Jean Dupuy Guillot Hubert Berger",
    "Carpentier Sánchez Dupuis Moulin Louis Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein",
    "Jacquet Adam Paris Poirier Marty Aubry Guyot Carré Charles Renault Charpentier Ménard Maillard",
    "Baron Bertin Bailly Hervé Schneider Fernandez Le Gall Collet Léger Bouvier Julien Prévost Millet",
    "Perrot Daniel Le Roux Cousin Germain Breton Besson Langlois Rémy Le Goff Pelletier Lévêque Perrier",
    "Leblanc Barré Lebrun Marchal Weber Mallet Hamon Boulanger Jacob Monnier Michaud Rodriguez Guichard",
    "Gillet Étienne Grondin Poulain Tessier Chevallier Collin Chauvin Da Silva Bouchet Gay Lemaître",
    "Bénard Maréchal Humbert Reynaud Antoine Hoarau Perret Barthélemy Cordier Pichon Lejeune Gilbert",
    "Lamy Delaunay Pasquier Carlier Laporte Kowalski Nguyen Tran Benali Haddad Ozturk Da Costa Ferreira",
    "Kerbrat Quéméner Etxeberria Zimmermann Wagner Schaeffer Bellamy Vautrin Desjardins Lemarchand",
    "Tisserand Vautier Courtois Lagarde Marchetti Orsini Santini Casanova Falcone",
]
LAST_NAMES = [n for line in LAST_NAMES for n in line.split()]
FIRST_NAMES = [
    "Jean",
    "Marie",
    "Pierre",
    "Michel",
    "André",
    "Philippe",
    "Nathalie",
    "Isabelle",
    "Sylvie",
    "Catherine",
    "Françoise",
    "Alain",
    "Patrick",
    "Nicolas",
    "Christophe",
    "Christine",
    "Sophie",
    "Stéphane",
    "Éric",
    "Frédéric",
    "Valérie",
    "Sandrine",
    "Laurent",
    "Julien",
    "Céline",
    "Thomas",
    "Aurélie",
    "Sébastien",
    "Émilie",
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Emma",
    "Hugo",
    "Lucas",
    "Louis",
    "Gabriel",
    "Arthur",
    "Jules",
    "Inès",
    "Sarah",
    "Anne",
    "Claire",
    "Hélène",
    "Jacques",
    "Bernard",
    "Daniel",
    "Gérard",
    "Monique",
    "Dominique",
    "Olivier",
    "Vincent",
    "Thierry",
    "Pascal",
    "Bruno",
    "Didier",
    "Véronique",
    "Martine",
    "Brigitte",
    "Agnès",
    "Élodie",
    "Mathieu",
    "Romain",
    "Antoine",
    "Maxime",
    "Alexandre",
    "Guillaume",
    "Kévin",
    "Mélanie",
    "Laetitia",
    "Audrey",
    "Caroline",
    "Virginie",
    "Jérôme",
    "David",
    "Yannick",
    "Loïc",
    "Gaëlle",
    "Maëlle",
    "Solène",
    "Océane",
    "Jean-Pierre",
    "Jean-Luc",
    "Marie-Claire",
    "Anne-Sophie",
    "Pierre-Yves",
    "Jean-François",
    "Marie-Hélène",
    "Noémie",
    "Yasmine",
    "Mehdi",
    "Karim",
    "Fatima",
    "Nadia",
    "Rachid",
    "Bao",
    "Linh",
    "Anaïs",
    "Margaux",
    "Clément",
    "Baptiste",
    "Quentin",
    "Adrien",
    "Benoît",
    "Cédric",
    "Fabrice",
    "Grégory",
    "Hervé",
    "Joël",
    "Lionel",
    "Luc",
    "Marc",
    "Marcel",
    "Paul",
    "René",
    "Serge",
    "Yves",
    "Josiane",
    "Odile",
    "Colette",
    "Ginette",
    "Renée",
    "Josette",
    "Mireille",
]
TRADES = [
    "Boulangerie",
    "Pâtisserie",
    "Garage",
    "Carrosserie",
    "Cabinet",
    "Transports",
    "Pharmacie",
    "Menuiserie",
    "Plomberie",
    "Restaurant",
    "Hôtel",
    "Imprimerie",
    "Agence",
    "Atelier",
    "Électricité",
    "Maçonnerie",
    "Librairie",
    "Fromagerie",
    "Boucherie",
    "Charcuterie",
    "Coiffure",
    "Informatique",
    "Conseil",
    "Traiteur",
    "Fleurs",
    "Optique",
    "Auto-école",
    "Bâtiment",
    "Couverture",
    "Peinture",
    "Jardins",
    "Nettoyage",
    "Sécurité",
    "Immobilier",
    "Assurances",
    "Expertise",
    "Architecture",
    "Ambulances",
    "Taxis",
    "Vins",
    "Brasserie",
    "Crêperie",
    "Cave",
    "Quincaillerie",
    "Serrurerie",
    "Chauffage",
    "Climatisation",
    "Déménagements",
    "Location",
    "Distribution",
    "Négoce",
    "Matériaux",
    "Logistique",
    "Formation",
    "Communication",
    "Études",
    "Laboratoire",
    "Clinique",
    "Pressing",
    "Bijouterie",
    "Horlogerie",
    "Tapisserie",
    "Ébénisterie",
    "Ferronnerie",
]
PLACES = [
    "Centre",
    "Marché",
    "Port",
    "Château",
    "Moulin",
    "Pont",
    "Lac",
    "Val",
    "Bourg",
    "Plateau",
    "Vallon",
    "Parc",
    "Soleil",
    "Midi",
    "Nord",
    "Sud",
    "Ouest",
    "Est",
    "Gare",
    "Rivage",
    "Littoral",
    "Bocage",
    "Causse",
    "Vignoble",
    "Étang",
    "Forum",
    "Beffroi",
]
FANCY = [
    "Alpha",
    "Horizon",
    "Atlantique",
    "Provence",
    "Bretagne",
    "Avenir",
    "Étoile",
    "Azur",
    "Océan",
    "Cèdre",
    "Olivier",
    "Hermine",
    "Cristal",
    "Phénix",
    "Zénith",
    "Boréal",
    "Lumière",
    "Saphir",
    "Arc-en-Ciel",
    "Orion",
    "Vega",
    "Nova",
    "Delta",
    "Sigma",
    "Iris",
    "Lavande",
    "Mistral",
    "Tramontane",
    "Séquoia",
    "Granit",
    "Ardoise",
    "Ivoire",
    "Émeraude",
    "Topaze",
    "Quartz",
    "Opale",
]
FORMS = ["SARL", "SAS", "SASU", "SA", "EURL", "SNC", "SCI", "", "", ""]
FORM_VARIANTS = {
    "SARL": ["SARL", "S.A.R.L.", "Sarl", "S.A.R.L"],
    "SAS": ["SAS", "S.A.S.", "Sas"],
    "SASU": ["SASU", "S.A.S.U."],
    "SA": ["SA", "S.A."],
    "EURL": ["EURL", "E.U.R.L.", "Eurl"],
    "SNC": ["SNC", "S.N.C."],
    "SCI": ["SCI", "S.C.I."],
}
STREET_TYPES = [
    ("rue", ["rue", "Rue", "R.", "R"]),
    ("avenue", ["avenue", "Avenue", "av.", "Av", "AVE"]),
    ("boulevard", ["boulevard", "Bd", "bd.", "BLD"]),
    ("place", ["place", "Pl.", "PL"]),
    ("chemin", ["chemin", "Ch.", "CHE"]),
    ("route", ["route", "Rte", "RTE"]),
    ("impasse", ["impasse", "Imp.", "IMP"]),
    ("allée", ["allée", "All.", "allee"]),
    ("quai", ["quai", "Qu."]),
]
STREET_NAMES = """de la République|Victor Hugo|Jean Jaurès|des Lilas|du Général de Gaulle|de la Gare|
Pasteur|Gambetta|de la Paix|du Moulin|des Écoles|de l'Église|Carnot|Voltaire|Jean Moulin|
de la Liberté|des Tilleuls|du Stade|Émile Zola|Foch|Clemenceau|de Verdun|Nationale|du Château|
des Acacias|des Roses|Saint-Michel|de Paris|du Port|des Vignes|de la Mairie|Anatole France|
Paul Bert|Marcel Pagnol|Charles de Gaulle|du 8 Mai 1945|du 11 Novembre|Jules Ferry|Lamartine|
de Bretagne|des Frères Lumière|Louis Pasteur|de la Fontaine|des Prés|du Lavoir|Mozart|
Pierre Curie|Marie Curie|Saint-Exupéry|des Peupliers|du Maréchal Leclerc|de Strasbourg""".replace(
    "\n", ""
).split("|")
TOWNS = """75001 Paris|75008 Paris|75011 Paris|75015 Paris|13001 Marseille|13008 Marseille|
69001 Lyon|69003 Lyon|31000 Toulouse|06000 Nice|44000 Nantes|67000 Strasbourg|34000 Montpellier|
33000 Bordeaux|59000 Lille|35000 Rennes|51100 Reims|42000 Saint-Étienne|83000 Toulon|
38000 Grenoble|21000 Dijon|49000 Angers|30000 Nîmes|63000 Clermont-Ferrand|72000 Le Mans|
29200 Brest|37000 Tours|80000 Amiens|87000 Limoges|74000 Annecy|66000 Perpignan|57000 Metz|
25000 Besançon|45000 Orléans|76000 Rouen|14000 Caen|68100 Mulhouse|54000 Nancy|
95000 Cergy|92100 Boulogne-Billancourt|93200 Saint-Denis|94000 Créteil|78000 Versailles|
97400 Saint-Denis|35400 Saint-Malo|44600 Saint-Nazaire|22000 Saint-Brieuc|17100 Saintes|
01000 Bourg-en-Bresse|02000 Laon|03000 Moulins|04000 Digne-les-Bains|05000 Gap|07000 Privas|
08000 Charleville-Mézières|09000 Foix|64100 Bayonne|64000 Pau|40000 Mont-de-Marsan|
71100 Chalon-sur-Saône|26000 Valence|84000 Avignon|13100 Aix-en-Provence|
06400 Cannes|50100 Cherbourg-en-Cotentin|56100 Lorient|56000 Vannes|29000 Quimper|
85000 La Roche-sur-Yon|17000 La Rochelle|79000 Niort|86000 Poitiers|16000 Angoulême|
24000 Périgueux|46000 Cahors|12000 Rodez|81000 Albi|82000 Montauban|65000 Tarbes|
11000 Carcassonne|48000 Mende|15000 Aurillac|43000 Le Puy-en-Velay|03100 Montluçon|
58000 Nevers|89000 Auxerre|10000 Troyes|52000 Chaumont|55000 Bar-le-Duc|88000 Épinal|
70000 Vesoul|39000 Lons-le-Saunier|73000 Chambéry|05100 Briançon""".replace("\n", "").split("|")
TOWNS = [(t[:5], t[6:]) for t in TOWNS]
SAINTS = [
    "Martin",
    "Jean",
    "Pierre",
    "Laurent",
    "Germain",
    "Julien",
    "Georges",
    "Michel",
    "Denis",
    "Étienne",
    "Paul",
    "Hilaire",
    "Genis",
    "Priest",
    "Cyr",
    "Médard",
    "Amand",
    "Aubin",
    "Léger",
    "Vincent",
    "Maurice",
    "Sauveur",
    "Quentin",
    "Marcel",
    "Rémy",
]
VILLAGE_ENDS = ["", "-sur-Loire", "-sur-Mer", "-les-Bains", "-en-Forêt", "-le-Château", "-du-Bois"]
MAIL_DOMAINS = ["gmail.com", "orange.fr", "free.fr", "wanadoo.fr", "laposte.net", "hotmail.fr"]
TYPO_LETTERS = "abcdefghijklmnopqrstuvwxyzéè"


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def _slug(text: str) -> str:
    return "".join(c for c in _plain(text).lower() if c.isalnum())


def _luhn_complete(digits: str) -> str:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return digits + str((10 - total % 10) % 10)


class Generator:
    """Draw organisations, contacts and their messy renderings from one seeded PRNG."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        villages = []
        for _ in range(3000):
            name = f"Saint-{rng.choice(SAINTS)}{rng.choice(VILLAGE_ENDS)}"
            if rng.random() < 0.5:
                name = f"{rng.choice(PLACES)}{rng.choice(VILLAGE_ENDS) or '-le-Vieux'}"
            dept = rng.choice([t[0][:2] for t in TOWNS])
            villages.append((f"{dept}{rng.randrange(100, 999)}", name))
        self.towns = TOWNS * 20 + villages
        # Zipf-like weights: Martin is far more common than Falcone.
        self.last_weights = [1 / (i + 5) for i in range(len(LAST_NAMES))]
        self.first_weights = [1 / (i + 8) for i in range(len(FIRST_NAMES))]
        # An address belongs to one person and a domain to one organisation, as in real life.
        self.used: dict[str, int] = {}

    def unique(self, stem: str, suffix: str) -> str:
        taken = self.used.get(stem + suffix, 0)
        self.used[stem + suffix] = taken + 1
        return f"{stem}{taken + 1 if taken else ''}{suffix}"

    # Entities ------------------------------------------------------------------------------
    def last_name(self) -> str:
        return self.rng.choices(LAST_NAMES, self.last_weights)[0]

    def first_name(self) -> str:
        return self.rng.choices(FIRST_NAMES, self.first_weights)[0]

    def organisation(self) -> dict[str, str]:
        rng = self.rng
        pattern = rng.random()
        if pattern < 0.35:
            name = f"{rng.choice(TRADES)} {self.last_name()}"
        elif pattern < 0.55:
            name = f"{rng.choice(TRADES)} du {rng.choice(PLACES)}"
        elif pattern < 0.75:
            name = f"{rng.choice(FANCY)} {rng.choice(TRADES)}"
        elif pattern < 0.9:
            name = f"{self.last_name()} et Fils"
        else:
            name = f"{self.last_name()} {self.last_name()} {rng.choice(TRADES)}"
        postcode, town = rng.choice(self.towns)
        siren = _luhn_complete(f"{rng.randrange(10**7, 10**8)}")
        return {
            "name": name,
            "form": rng.choice(FORMS),
            "siren": siren if rng.random() < 0.75 else "",
            "siret": _luhn_complete(siren + f"{rng.randrange(1, 999):04d}"),
            "number": str(rng.randrange(1, 180)),
            "street_type": str(rng.randrange(len(STREET_TYPES))),
            "street": rng.choice(STREET_NAMES),
            "postcode": postcode,
            "town": town,
            "phone": f"0{rng.choice('12345')}{rng.randrange(10**8):08d}",
            "domain": self.unique(_slug(name)[:20], rng.choice([".fr", ".fr", ".com"])),
        }

    def contact(self, org: dict[str, str] | None, family: str = "") -> dict[str, str]:
        rng = self.rng
        first = self.first_name()
        last = family or self.last_name()
        if org is not None and org["domain"] and rng.random() < 0.8:
            local = rng.choice([f"{_slug(first)}.{_slug(last)}", f"{_slug(first)[0]}{_slug(last)}"])
            mail = self.unique(local, f"@{org['domain']}")
        else:
            mail = self.unique(f"{_slug(first)}.{_slug(last)}", f"@{rng.choice(MAIL_DOMAINS)}")
        return {
            "first": first,
            "last": last,
            "email": mail,
            "mobile": f"0{rng.choice('67')}{rng.randrange(10**8):08d}"
            if rng.random() < 0.75
            else "",
        }

    def entities(self) -> Iterator[tuple[dict[str, str] | None, dict[str, str]]]:
        rng = self.rng
        while True:
            if rng.random() < 0.1:  # a private customer
                postcode, town = rng.choice(self.towns)
                home = {
                    "name": "",
                    "form": "",
                    "siren": "",
                    "siret": "",
                    "number": str(rng.randrange(1, 180)),
                    "street_type": str(rng.randrange(len(STREET_TYPES))),
                    "street": rng.choice(STREET_NAMES),
                    "postcode": postcode,
                    "town": town,
                    "phone": f"0{rng.choice('12345')}{rng.randrange(10**8):08d}"
                    if rng.random() < 0.3
                    else "",
                    "domain": "",
                }
                yield home, self.contact(None)
                continue
            org = self.organisation()
            size = rng.choices([1, 2, 3, 4], [0.65, 0.2, 0.1, 0.05])[0]
            family = self.last_name() if rng.random() < 0.15 else ""
            seen = set()
            for _ in range(size):
                person = self.contact(org, family)
                if person["first"] in seen:
                    continue
                seen.add(person["first"])
                yield org, person

    # Renderings ------------------------------------------------------------------------------
    def typo(self, text: str) -> str:
        rng = self.rng
        if len(text) < 3:
            return text
        i = rng.randrange(1, len(text))
        op = rng.random()
        if op < 0.3:
            return text[:i] + text[i + 1 :]
        if op < 0.55:
            return text[:i] + rng.choice(TYPO_LETTERS) + text[i:]
        if op < 0.8:
            return text[:i] + rng.choice(TYPO_LETTERS) + text[i + 1 :]
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]

    def case(self, text: str) -> str:
        r = self.rng.random()
        if r < 0.35:
            text = text.upper()
        elif r < 0.4:
            text = text.lower()
        if self.rng.random() < 0.25:
            text = _plain(text)
        return text

    def phone_layout(self, number: str) -> str:
        if not number:
            return ""
        r = self.rng.random()
        pairs = [number[i : i + 2] for i in range(0, 10, 2)]
        if r < 0.35:
            return " ".join(pairs)
        if r < 0.5:
            return ".".join(pairs)
        if r < 0.65:
            return number
        if r < 0.75:
            return "+33 " + number[1] + " " + " ".join(pairs[1:])
        if r < 0.82:
            return "+33 (0)" + number[1:]
        if r < 0.9:
            return number[1:]  # the spreadsheet ate the leading zero
        if r < 0.95:
            return "0033" + number[1:]
        return "-".join(pairs)

    def row(self, org: dict[str, str], person: dict[str, str]) -> list[str]:
        rng = self.rng
        name = ""
        if org["name"]:
            name = org["name"]
            if rng.random() < 0.06:
                name = self.typo(name)
            form = rng.choice(FORM_VARIANTS[org["form"]]) if org["form"] else ""
            if form and rng.random() < 0.75:
                name = f"{form} {name}" if rng.random() < 0.5 else f"{name} {form}"
            name = self.case(name)
        siren = ""
        if org["siren"] and rng.random() < 0.85:
            r = rng.random()
            if r < 0.2:
                siren = org["siret"]
            elif r < 0.4:
                s = org["siren"]
                siren = f"{s[:3]} {s[3:6]} {s[6:]}"
            else:
                siren = org["siren"]
            if rng.random() < 0.02:
                i = rng.randrange(len(siren))
                siren = siren[:i] + rng.choice("0123456789") + siren[i + 1 :]
        first, last = person["first"], person["last"]
        if rng.random() < 0.08:
            first = self.typo(first)
        if rng.random() < 0.08:
            last = self.typo(last)
        if "-" in first and rng.random() < 0.4:
            first = first.replace("-", " ")
        if rng.random() < 0.03:
            first = first[0] + "."
        elif rng.random() < 0.04:
            first = ""
        if rng.random() < 0.03:
            first = rng.choice(["M. ", "Mme ", "Monsieur "]) + first
        first, last = self.case(first), self.case(last)
        if rng.random() < 0.02:
            first, last = last, first
        mail = person["email"] if rng.random() < 0.8 else ""
        if mail:
            if rng.random() < 0.1:
                mail = mail.upper()
            if rng.random() < 0.03:
                mail = self.typo(mail)
            if rng.random() < 0.05:
                mail = f" {mail} "
        phone = org["phone"] if rng.random() < 0.75 else ""
        mobile = person["mobile"] if rng.random() < 0.8 else ""
        if mobile and not phone and rng.random() < 0.3:
            phone, mobile = mobile, ""
        address = ""
        if rng.random() < 0.93:
            kind = STREET_TYPES[int(org["street_type"])]
            street = org["street"]
            if rng.random() < 0.05:
                street = self.typo(street)
            sep = rng.choice([" ", ", ", " "])
            address = self.case(f"{org['number']}{sep}{rng.choice(kind[1])} {street}")
        postcode = org["postcode"] if rng.random() < 0.95 else ""
        if postcode:
            r = rng.random()
            if postcode.startswith("0") and r < 0.3:
                postcode = postcode[1:]
            elif r < 0.05:
                postcode = f"{postcode[:2]} {postcode[2:]}"
            elif r < 0.08:
                postcode = "F-" + postcode
        town = org["town"]
        r = rng.random()
        if town.startswith("Saint-") and r < 0.4:
            town = rng.choice(["St-", "ST ", "St "]) + town[6:]
        elif r < 0.05:
            town = self.typo(town)
        elif r < 0.08:
            town += " Cedex"
        elif r < 0.12:
            town = town.replace("-", " ")
        town = self.case(town) if rng.random() < 0.97 else ""
        return [
            name,
            siren,
            first,
            last,
            mail,
            self.phone_layout(phone),
            self.phone_layout(mobile),
            address,
            postcode,
            town,
        ]


def generate(n_rows: int, seed: int = 7) -> tuple[list[list[str]], list[int]]:
    """Return ``n_rows`` messy rows (columns of :data:`HEADER`) and the entity of each row."""
    gen = Generator(seed)
    rng = gen.rng
    rows: list[list[str]] = []
    truth: list[int] = []
    for entity, (org, person) in enumerate(gen.entities()):
        copies = rng.choices([1, 2, 3, 4, 5], [0.55, 0.27, 0.11, 0.05, 0.02])[0]
        for _ in range(copies):
            rows.append(gen.row(org, person))
            truth.append(entity)
        if len(rows) >= n_rows:
            break
    del rows[n_rows:], truth[n_rows:]
    # Shuffle so that duplicates are not neighbours in the file.
    order = list(range(len(rows)))
    rng.shuffle(order)
    return [rows[i] for i in order], [truth[i] for i in order]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("output")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rows, truth = generate(args.rows, args.seed)
    with open(args.output, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow([*HEADER, "entity_id"])
        for row, entity in zip(rows, truth, strict=True):
            writer.writerow([*row, entity])
    print(f"{len(rows)} rows, {len(set(truth))} entities -> {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
