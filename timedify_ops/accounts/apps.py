from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "timedify_ops.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"
