from django.db import migrations

FRIENDLY = """Bonjour,

Sauf erreur de notre part, {% if count > 1 %}les factures suivantes restent{% else %}la facture suivante reste{% endif %} impayée{% if count > 1 %}s{% endif %} à ce jour :
{% for item in items %}
- {{ item.number }} du {{ item.issue_date }}, échue le {{ item.due_date }} : {{ item.open }} € restant dus
{% endfor %}
Total : {{ total_due }} €.

Si votre règlement est déjà parti, merci de ne pas tenir compte de ce message. Sinon, nous vous remercions de procéder au paiement{% if company_iban %} par virement sur notre compte {{ company_iban }}{% endif %}.

Cordialement,
{{ company }}"""

SECOND = """Bonjour,

Malgré notre précédent rappel, {% if count > 1 %}les factures suivantes restent{% else %}la facture suivante reste{% endif %} impayée{% if count > 1 %}s{% endif %} :
{% for item in items %}
- {{ item.number }}, échue le {{ item.due_date }} ({{ item.days_late }} jours de retard) : {{ item.open }} €
{% endfor %}
Total échu : {{ total_due }} €.
{% if indemnity != "0,00" %}
Nous vous rappelons qu'une indemnité forfaitaire pour frais de recouvrement de 40 € par facture est due de plein droit (art. L441-10 et D441-5 du Code de commerce), soit {{ indemnity }} €.
{% endif %}
Merci de régulariser cette situation sous huit jours.

Cordialement,
{{ company }}"""

LETTER = """Madame, Monsieur,

Nos relances sont restées sans effet : à ce jour, {{ count }} facture{% if count > 1 %}s restent impayées{% else %} reste impayée{% endif %} pour un total de {{ total_due }} €.

Conformément à nos conditions générales de vente et à l'article L441-10 du Code de commerce, des pénalités de retard ({{ interest }} €) et l'indemnité forfaitaire pour frais de recouvrement ({{ indemnity }} €) s'y ajoutent.

Nous vous prions de nous adresser votre règlement de {{ total_claimed }} € dans les meilleurs délais.

Veuillez agréer, Madame, Monsieur, nos salutations distinguées.

{{ company }}"""

NOTICE = """Madame, Monsieur,

Malgré nos relances, vous restez nous devoir la somme de {{ total_due }} € au titre des factures ci-dessous.

Par la présente, nous vous mettons en demeure de nous régler sous quinze jours la somme de {{ total_claimed }} €, comprenant les pénalités de retard ({{ interest }} €) et l'indemnité forfaitaire pour frais de recouvrement ({{ indemnity }} €), en application de l'article L441-10 du Code de commerce.

À défaut de paiement dans ce délai, nous engagerons sans autre avis une procédure de recouvrement judiciaire, à vos frais.

Veuillez agréer, Madame, Monsieur, nos salutations distinguées.

{{ company }}"""

SCRIPT = """1. Se présenter : {{ company }}, service comptabilité clients.
2. Demander la personne en charge des paiements fournisseurs.
3. Rappeler les factures en retard ({{ count }}, {{ total_due }} € au total, la plus ancienne échue le {{ items.0.due_date }}).
4. Demander si les factures ont bien été reçues et si un litige les bloque.
5. Obtenir une date et un montant de paiement ; les noter comme promesse.
6. Sinon, annoncer l'envoi d'une lettre de relance puis d'une mise en demeure."""

LEVELS = [
    (1, "Rappel amiable", 5, "email", "Rappel : facture{% if count > 1 %}s{% endif %} en attente de règlement", FRIENDLY, "", False, False),
    (2, "Deuxième relance", 15, "email", "Deuxième relance : {{ total_due }} € échus", SECOND, "", False, True),
    (3, "Appel téléphonique", 25, "phone", "Appel de relance", "Appel de relance : {{ total_due }} € échus.", SCRIPT, False, True),
    (4, "Lettre de relance", 35, "letter", "Relance de paiement", LETTER, "", True, True),
    (5, "Mise en demeure", 50, "formal_notice", "Mise en demeure de payer", NOTICE, "", True, True),
]


def create_default_policy(apps, schema_editor):
    Policy = apps.get_model("dunning", "DunningPolicy")
    Level = apps.get_model("dunning", "DunningLevel")
    if Policy.objects.exists():
        return
    policy = Policy.objects.create(name="Standard", is_default=True)
    for rank, name, delay, channel, subject, body, script, interest, indemnity in LEVELS:
        Level.objects.create(
            policy=policy,
            rank=rank,
            name=name,
            delay_days=delay,
            channel=channel,
            subject=subject,
            body=body,
            call_script=script,
            claim_interest=interest,
            claim_indemnity=indemnity,
        )


def remove_default_policy(apps, schema_editor):
    apps.get_model("dunning", "DunningPolicy").objects.filter(name="Standard").delete()


class Migration(migrations.Migration):
    dependencies = [("dunning", "0001_initial")]

    operations = [migrations.RunPython(create_default_policy, remove_default_policy)]
