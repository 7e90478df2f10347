from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from crm.api_docs import DETAIL_ERRORS, LIST_ERRORS, WRITE_ERRORS
from customers.api.serializers import (
    ContactCreateSerializer,
    ContactSerializer,
    CustomerCreateSerializer,
    CustomerSerializer,
)
from customers.filtersets import ContactFilterSet, CustomerFilterSet
from customers.selectors import contacts_visible_to, customers_visible_to
from customers.services import contact_create, customer_create


@extend_schema_view(
    list=extend_schema(
        summary=_("Customers you can see"),
        description=_("Customers of your visible opportunities, plus those you recorded yourself."),
        responses={200: CustomerSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary=_("Customer"), responses={200: CustomerSerializer, **DETAIL_ERRORS}),
    create=extend_schema(
        summary=_("Record a customer company"),
        request=CustomerCreateSerializer,
        responses={201: CustomerSerializer, **WRITE_ERRORS},
    ),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    search_fields = ["name", "country", "industry"]
    ordering_fields = ["name", "country", "created_at", "id"]
    ordering = ["name"]

    def get_queryset(self):
        return customers_visible_to(user=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = CustomerCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        customer = customer_create(by=request.user, **serializer.validated_data)
        return Response(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary=_("Contacts you can see"),
        description=_("Contacts of the customers you can see."),
        responses={200: ContactSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary=_("Contact"), responses={200: ContactSerializer, **DETAIL_ERRORS}),
    create=extend_schema(
        summary=_("Add a contact (a business card) to a customer you can see"),
        request=ContactCreateSerializer,
        responses={201: ContactSerializer, **WRITE_ERRORS},
    ),
)
class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    search_fields = ["name", "email", "phone", "wechat", "whatsapp", "customer__name"]
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name"]

    def get_queryset(self):
        return contacts_visible_to(user=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = ContactCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        contact = contact_create(by=request.user, **serializer.validated_data)
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)
