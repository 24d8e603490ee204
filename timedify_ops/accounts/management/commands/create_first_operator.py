import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from timedify_ops.permissions import OPERATOR


class Command(BaseCommand):
    help = (
        "Create a first operator account when the database has no users, and print its generated "
        "password once. Does nothing when any user exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        User = get_user_model()
        with transaction.atomic():
            if User.objects.exists():
                self.stdout.write("Users exist already; no operator created.")
                return
            password = secrets.token_urlsafe(12)
            # A superuser, so the first account can also add the others in /admin/.
            user = User.objects.create_superuser(username=username, password=password, email="")
            user.groups.add(Group.objects.get_or_create(name=OPERATOR)[0])
        self.stdout.write(
            self.style.SUCCESS(
                f"Created the first operator.\n  username: {username}\n  password: {password}\n"
                "This password is shown once: change it in /admin/password_change/ or with "
                f"`manage.py changepassword {username}`."
            )
        )
