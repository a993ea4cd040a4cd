"""The ceiling: the fastest Django can answer the cached product list on this stack.

A plain Django view (no DRF, no rate limit, no cache stamps) returning the bytes the app
caches for GET /api/v1/products/ page 1, read with one django-redis GET, under the
production settings and middleware and the same gunicorn config as the app. The harness
stores the bytes under CEILING_KEY before it starts the load.

    gunicorn -c config/gunicorn.conf.py bench.ceiling:application
"""

import os

from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import re_path

from bench.dataset import CEILING_KEY

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.ceiling_settings"


def product_list_bytes(request):
    """Answer with the cached product-list bytes, whatever the path."""
    return HttpResponse(cache.get(CEILING_KEY), content_type="application/json")


urlpatterns = [re_path(r"", product_list_bytes)]

application = get_wsgi_application()
