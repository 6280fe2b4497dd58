"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("odoo/", include("connections.urls")),
    path("admin/", admin.site.urls),
]
