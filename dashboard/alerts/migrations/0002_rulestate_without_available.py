"""Every rule's data source is part of the product, so a rule is never "unavailable": the flag goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="rulestate",
            name="available",
        ),
    ]
