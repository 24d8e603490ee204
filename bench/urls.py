from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@login_not_required
@require_POST
def trivial(request):
    """The baseline: the same middleware stack, no body parsing, no database."""
    return JsonResponse({"status": "ok"})


urlpatterns = [path("bench/trivial", trivial), path("", include("timedify_ops.urls"))]
