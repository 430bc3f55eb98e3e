"""Seed the record of processing activities with what Comptoir itself does with personal data."""

from django.db import migrations

SECURITY = (
    "Access by role (administrator, sales manager, assistant, rep on own portfolio, accountant); "
    "Argon2 passwords, login throttling; audit trail of every change; backups."
)
ACTIVITIES = [
    {
        "name": "Customer management",
        "purpose": "Manage customers, their contacts and addresses; quotes, orders, deliveries.",
        "legal_basis": "contract",
        "data_subjects": "Customers' contacts; private customers",
        "data_categories": "Identity, job title, professional contact details, addresses, order history",
        "recipients": "Sales team, accounting; carriers for deliveries",
        "retention": "Duration of the business relationship, then 3 years for prospecting",
    },
    {
        "name": "Invoicing and accounting",
        "purpose": "Issue invoices and credit notes, record payments, keep the books.",
        "legal_basis": "legal_obligation",
        "data_subjects": "Customers and their billing contacts",
        "data_categories": "Identity, billing address, invoices, payments",
        "recipients": "Accounting, chartered accountant, tax authorities, e-invoicing platform",
        "retention": "10 years (Code de commerce L123-22); 6 years for tax",
    },
    {
        "name": "Prospecting",
        "purpose": "Find and qualify prospects; calls, mailings and emails about our products.",
        "legal_basis": "legitimate_interest",
        "data_subjects": "Prospects' contacts (B2B); consumers who consented",
        "data_categories": "Identity, job title, professional contact details, consent per channel",
        "recipients": "Sales team; emailing service provider",
        "retention": "3 years after the last contact from the prospect's side",
    },
    {
        "name": "Customer file imports",
        "purpose": "Import lists (trade shows, sales reps' files) into the customer file, deduplicated.",
        "legal_basis": "legitimate_interest",
        "data_subjects": "People listed in the imported files",
        "data_categories": "As in the file: identity, job title, contact details, source of the data",
        "recipients": "Sales team",
        "retention": "As for prospecting; import files deleted after the import",
    },
    {
        "name": "Requests about personal data",
        "purpose": "Answer access, rectification, erasure and opt-out requests.",
        "legal_basis": "legal_obligation",
        "data_subjects": "Anyone whose data we hold",
        "data_categories": "Identity, the request and its answer; opt-outs",
        "recipients": "Administrator",
        "retention": "Opt-outs kept as long as the person could be prospected again; requests 5 years",
    },
]


def seed(apps, schema_editor):
    activity = apps.get_model("customerfile", "ProcessingActivity")
    for values in ACTIVITIES:
        activity.objects.get_or_create(
            name=values["name"],
            defaults={**values, "transfers": "None", "security_measures": SECURITY},
        )


def unseed(apps, schema_editor):
    activity = apps.get_model("customerfile", "ProcessingActivity")
    activity.objects.filter(name__in=[a["name"] for a in ACTIVITIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("customerfile", "0001_consent_imports_register")]

    operations = [migrations.RunPython(seed, unseed)]
