from django.urls import path

from licenses import department_views as views

app_name = "department"

urlpatterns = [
    path("", views.home, name="home"),
    path("request/<str:code>/", views.request_create, name="request"),
    path("requests/<str:ref>/read", views.read, name="read"),
]
