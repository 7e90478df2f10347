"""Customer and contact representations; input serializers check shape only — the services
in customers/services.py decide and write."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from customers.models import Contact, Customer
from customers.selectors import customers_visible_to


class CustomerSerializer(serializers.ModelSerializer):
    # Blank when unknown: a plain string, since an empty value is not a valid "uri" format.
    website = serializers.CharField(read_only=True, help_text=_("A URL, or empty."))

    class Meta:
        model = Customer
        fields = ["id", "name", "country", "website", "industry", "notes", "created_at", "updated_at"]
        read_only_fields = fields


class CustomerCreateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["name", "country", "website", "industry", "notes"]


class ContactSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    email = serializers.CharField(read_only=True, help_text=_("An e-mail address, or empty."))

    class Meta:
        model = Contact
        fields = [
            "id",
            "customer",
            "customer_name",
            "name",
            "title",
            "phone",
            "email",
            "wechat",
            "whatsapp",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContactCreateSerializer(serializers.ModelSerializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none())

    class Meta:
        model = Contact
        fields = ["customer", "name", "title", "phone", "email", "wechat", "whatsapp"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Only customers the caller can see: anyone else's is "does not exist", not "forbidden".
            self.fields["customer"].queryset = customers_visible_to(user=request.user)
