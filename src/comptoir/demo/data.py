"""Word lists for the demo company: French towns, names and trades (all fictitious)."""

# (town, postcode, department) spread over France.
TOWNS = [
    ("Paris", "75008", "75"), ("Paris", "75011", "75"), ("Paris", "75015", "75"),
    ("Boulogne-Billancourt", "92100", "92"), ("Nanterre", "92000", "92"), ("Montreuil", "93100", "93"),
    ("Saint-Denis", "93200", "93"), ("Créteil", "94000", "94"), ("Versailles", "78000", "78"),
    ("Argenteuil", "95100", "95"), ("Évry-Courcouronnes", "91000", "91"), ("Melun", "77000", "77"),
    ("Lille", "59000", "59"), ("Roubaix", "59100", "59"), ("Amiens", "80000", "80"),
    ("Reims", "51100", "51"), ("Rouen", "76000", "76"), ("Le Havre", "76600", "76"),
    ("Caen", "14000", "14"), ("Strasbourg", "67000", "67"), ("Metz", "57000", "57"),
    ("Nancy", "54000", "54"), ("Dijon", "21000", "21"), ("Besançon", "25000", "25"),
    ("Lyon", "69002", "69"), ("Lyon", "69003", "69"), ("Lyon", "69007", "69"),
    ("Villeurbanne", "69100", "69"), ("Vénissieux", "69200", "69"), ("Saint-Étienne", "42000", "42"),
    ("Grenoble", "38000", "38"), ("Chambéry", "73000", "73"), ("Annecy", "74000", "74"),
    ("Clermont-Ferrand", "63000", "63"), ("Valence", "26000", "26"), ("Marseille", "13001", "13"),
    ("Marseille", "13008", "13"), ("Aix-en-Provence", "13100", "13"), ("Toulon", "83000", "83"),
    ("Nice", "06000", "06"), ("Avignon", "84000", "84"), ("Montpellier", "34000", "34"),
    ("Nîmes", "30000", "30"), ("Perpignan", "66000", "66"), ("Toulouse", "31000", "31"),
    ("Bordeaux", "33000", "33"), ("Mérignac", "33700", "33"), ("Pau", "64000", "64"),
    ("Bayonne", "64100", "64"), ("Limoges", "87000", "87"), ("Poitiers", "86000", "86"),
    ("La Rochelle", "17000", "17"), ("Nantes", "44000", "44"), ("Saint-Nazaire", "44600", "44"),
    ("Rennes", "35000", "35"), ("Brest", "29200", "29"), ("Angers", "49000", "49"),
    ("Le Mans", "72000", "72"), ("Tours", "37000", "37"), ("Orléans", "45000", "45"),
]

SURNAMES = [
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand", "Duval",
    "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun",
    "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
]

FIRST_NAMES = [
    "Marie", "Jean", "Camille", "Nicolas", "Sophie", "Pierre", "Julie", "Thomas", "Claire",
    "Antoine", "Léa", "Julien", "Manon", "Maxime", "Sarah", "Alexandre", "Laura", "Romain",
    "Émilie", "Guillaume", "Chloé", "Mathieu", "Pauline", "Hugo", "Inès", "Lucas", "Anaïs",
    "Karim", "Nadia", "Mehdi", "Yasmine", "Paul", "Élodie", "François", "Isabelle", "Olivier",
]

# (trade pattern, legal form, category code)
TRADES = [
    ("Cabinet {name} Avocats", "SELARL", "liberal"),
    ("Cabinet d'expertise comptable {name}", "SAS", "liberal"),
    ("Pharmacie {name}", "SELARL", "liberal"),
    ("Étude notariale {name}", "SCP", "liberal"),
    ("{name} Immobilier", "SARL", "business"),
    ("Agence {name} Assurances", "SARL", "business"),
    ("{name} Bâtiment", "SAS", "business"),
    ("Transports {name}", "SAS", "business"),
    ("{name} Conseil", "SASU", "business"),
    ("Imprimerie {name}", "SARL", "business"),
    ("{name} Informatique", "SAS", "business"),
    ("Clinique vétérinaire {name}", "SELARL", "liberal"),
    ("Garage {name}", "SARL", "business"),
    ("Hôtel {name}", "SAS", "business"),
    ("Librairie-Papeterie {name}", "SARL", "reseller"),
    ("{name} Bureautique", "SAS", "reseller"),
    ("Papeterie {name}", "EURL", "reseller"),
    ("Groupe scolaire {name}", "", "public"),
]

PUBLIC_BODIES = [
    "Mairie de {town}", "Communauté de communes de {town}", "Lycée Jean-Moulin de {town}",
    "Centre hospitalier de {town}", "Collège Victor-Hugo de {town}",
]

STREETS = [
    "rue de la République", "avenue Jean-Jaurès", "boulevard Gambetta", "rue Victor-Hugo",
    "place de la Mairie", "rue Pasteur", "avenue de la Gare", "rue du Commerce",
    "allée des Tilleuls", "rue Nationale", "quai des Chartrons", "rue de Verdun",
    "avenue Foch", "rue des Écoles", "chemin des Vignes", "zone d'activités des Landes",
]

JOB_TITLES = [
    ("Gérant", ["decision_maker", "management"]),
    ("Directrice administrative et financière", ["decision_maker", "billing"]),
    ("Responsable des achats", ["purchasing"]),
    ("Assistante de direction", ["purchasing", "billing"]),
    ("Comptable", ["billing"]),
    ("Responsable des services généraux", ["purchasing", "delivery"]),
    ("Office manager", ["purchasing", "delivery"]),
    ("Directeur général", ["decision_maker", "management"]),
]

SUPPLIER_NAMES = [
    ("Papeteries de l'Est", "SA"), ("Clairefontaine Distribution Pro", "SAS"),
    ("Mobilier Pro Bourgogne", "SAS"), ("Encres & Toners de France", "SARL"),
    ("Sièges Ergonomiques du Jura", "SAS"), ("Classement Rhône-Alpes", "SARL"),
    ("Écriture Fine Industrie", "SA"), ("Cartonnages du Nord", "SAS"),
    ("Informatique Grossiste Ouest", "SAS"), ("Logistique Express Lyonnaise", "SAS"),
    ("Bois & Bureaux d'Auvergne", "SARL"), ("Enveloppes Vosgiennes", "SAS"),
    ("Accessoires Bureau Méditerranée", "SARL"), ("Stylos Provence", "SARL"),
    ("Rangements Métalliques du Centre", "SAS"), ("Éclairage Bureau Pro", "SARL"),
    ("Consommables Numériques", "SAS"), ("Atelier de Montage Rhodanien", "EURL"),
    ("Transports Vallée du Rhône", "SAS"), ("Archivage Sécurisé Normand", "SAS"),
]
