"""Every policy's table is part of the product, so a run never skips one: the list goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="retentionrun",
            name="skipped",
        ),
    ]
