from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.http import HttpRequest

from casedesk.accounts.models import (
    ApiToken,
    Invitation,
    Organization,
    RecoveryCode,
    SecurityPolicy,
    TwoFactor,
    User,
)
from casedesk.sla.clocks import schedule_recompute


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "org_wide_visibility", "time_zone", "language"]
    list_filter = ["plan", "org_wide_visibility", "language"]
    search_fields = ["name", "email_domains"]

    def save_model(self, request: HttpRequest, obj: Organization, form: Any,
                   change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "plan" in form.changed_data:
            # The organization's open cases are recomputed under the new plan, from their
            # original starts, by a job once this save commits.
            schedule_recompute(organization_id=obj.pk)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "organization", "is_active", "is_staff"]
    list_filter = ["role", "is_active", "is_staff", "organization"]
    search_fields = ["email", "full_name"]
    autocomplete_fields = ["organization"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "phone", "time_zone", "language")}),
        ("Role", {"fields": ("role", "organization", "case_visibility")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {
            "classes": ("wide",),
            "fields": ("email", "full_name", "role", "organization", "language", "password1",
                       "password2"),
        }),
    )


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are made by casedesk.accounts.actions.invite (with a first case, or a
    reset); every field here is read-only, so an add form could only save an empty row."""

    list_display = ["user", "created_at", "expires_at", "used_at"]
    readonly_fields = ["user", "token_hash", "created_at", "expires_at", "used_at"]
    search_fields = ["user__email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made in the desk, the portal or with `casedesk token create` (the secret is
    shown once there); the admin lists and revokes them."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "expires_at",
                    "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__email", "name", "prefix"]
    readonly_fields = ["user", "prefix", "token_hash", "created_at", "created_by",
                       "last_used_at"]
    fields = ["user", "name", "prefix", "token_hash", "created_at", "created_by",
              "last_used_at", "expires_at", "revoked_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SecurityPolicy)
class SecurityPolicyAdmin(admin.ModelAdmin):
    """One row: the sign-in rules for the whole desk."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SecurityPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(TwoFactor)
class TwoFactorAdmin(admin.ModelAdmin):
    """Who has two-factor sign-in on. Deleting a row turns it off for that person (their
    phone and recovery codes lost): they sign in with their password and set it up again."""

    list_display = ["user", "confirmed_at"]
    search_fields = ["user__email"]
    fields = ["user", "confirmed_at"]
    readonly_fields = ["user", "confirmed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: TwoFactor) -> None:
        with transaction.atomic():
            obj.user.recovery_codes.all().delete()
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            RecoveryCode.objects.filter(user__in=queryset.values("user")).delete()
            super().delete_queryset(request, queryset)
