from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("autocomplete/", views.customer_autocomplete, name="autocomplete"),
    path("contacts/", views.customer_contact_options, name="contact_options"),
]
