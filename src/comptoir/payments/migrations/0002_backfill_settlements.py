from django.db import migrations

RECEIVABLE = {"invoice", "down_payment"}


def backfill(apps, schema_editor):
    """Give the documents issued before this app existed their settlement row."""
    Invoice = apps.get_model("invoicing", "Invoice")
    Settlement = apps.get_model("payments", "InvoiceSettlement")
    rows = []
    for invoice in Invoice.objects.filter(status="issued", settlement__isnull=True).iterator():
        total = invoice.due_amount
        rows.append(
            Settlement(
                invoice_id=invoice.pk,
                party_id=invoice.party_id,
                kind=invoice.kind,
                number=invoice.number or "",
                issue_date=invoice.issue_date,
                due_date=invoice.due_date or invoice.issue_date,
                total_amount=total,
                paid_amount=0,
                open_amount=total,
                state="issued" if total > 0 else "paid",
            )
        )
    Settlement.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
