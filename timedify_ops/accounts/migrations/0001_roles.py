"""The roles: `viewer` reads everything, `operator` may also act. Permissions are checked in code
(timedify_ops.permissions), so the groups carry no model permissions.

Idempotent: a database made before this app existed has the groups already (the console app's
migration 0002 created them), and they are kept. Unapplying leaves them too: accounts belong to
them, and the console's own migration history still names them.
"""

from django.db import migrations

ROLES = ["viewer", "operator"]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    initial = True

    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
