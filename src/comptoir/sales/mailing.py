"""Email texts: editable templates filled with ``string.Template`` (sandboxed by design).

A template only substitutes ``$name`` placeholders with plain strings from a fixed context:
no attribute access, no filters, no tags, so a user-edited text cannot reach anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from comptoir.sales.models import EmailTemplate

# code: (subject, body). French: they go to French customers whatever the user's language.
DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    "quote": (
        "Devis $reference – $company",
        "Bonjour,\n\nVeuillez trouver ci-joint notre devis $reference d'un montant de "
        "$total TTC, valable jusqu'au $valid_until.\n\nVous pouvez le consulter et "
        "l'accepter en ligne : $link\n\nCordialement,\n$sender\n$company",
    ),
    "order": (
        "Accusé de réception de votre commande – $reference",
        "Bonjour,\n\nNous avons bien reçu votre commande$your_reference et vous en adressons "
        "l'accusé de réception $reference.\n\nCordialement,\n$sender\n$company",
    ),
    "delivery_note": (
        "Bon de livraison $reference – $company",
        "Bonjour,\n\nVeuillez trouver ci-joint le bon de livraison $reference.\n\n"
        "Cordialement,\n$sender\n$company",
    ),
    "invoice": (
        "Facture $reference – $company",
        "Bonjour,\n\nVeuillez trouver ci-joint la facture $reference.\n\n"
        "Cordialement,\n$sender\n$company",
    ),
    "document": (
        "$reference – $company",
        "Bonjour,\n\nVeuillez trouver ci-joint le document $reference.\n\n"
        "Cordialement,\n$sender\n$company",
    ),
}
PLACEHOLDERS = (
    "reference",
    "company",
    "customer",
    "total",
    "valid_until",
    "link",
    "sender",
    # " (votre référence BC-118)" when the order carries the customer's own reference, else "".
    "your_reference",
)


@dataclass(frozen=True)
class EmailText:
    subject: str
    body: str


def template_text(code: str) -> EmailText:
    """Return the stored text of a template, or the shipped default."""
    stored = EmailTemplate.objects.filter(code=code).first()
    if stored is not None:
        return EmailText(stored.subject, stored.body)
    subject, body = DEFAULT_TEMPLATES.get(code, DEFAULT_TEMPLATES["document"])
    return EmailText(subject, body)


def fill(text: str, context: dict[str, str]) -> str:
    """Substitute the known placeholders; anything else stays as typed."""
    known = {name: str(context.get(name, "")) for name in PLACEHOLDERS}
    return Template(text).safe_substitute(known)


def render_email(code: str, context: dict[str, str]) -> EmailText:
    text = template_text(code)
    return EmailText(fill(text.subject, context).replace("\n", " "), fill(text.body, context))
