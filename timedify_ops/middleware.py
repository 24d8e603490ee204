from __future__ import annotations

from django.core.exceptions import PermissionDenied

from timedify_ops.permissions import has_role


class RoleRequiredMiddleware:
    """A logged-in account without the viewer or operator role sees nothing.

    Runs after LoginRequiredMiddleware; views marked @login_not_required (the
    ingress, /health, /login/) are left alone, and so is the Django admin, which
    checks staff status itself.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(view_func, "login_required", True):
            return None
        if request.path.startswith("/admin/"):
            return None
        if request.user.is_authenticated and not has_role(request.user):
            raise PermissionDenied(
                "Your account has no role yet: ask an administrator to add you to viewer or operator."
            )
        return None
