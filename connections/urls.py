"""URLs of the OAuth 2.0 flow."""

from django.urls import path

from . import views

app_name = "connections"

urlpatterns = [
    path("connections/<int:pk>/authorize/", views.authorize, name="oauth-authorize"),
    path("oauth/callback/", views.callback, name="oauth-callback"),
]
