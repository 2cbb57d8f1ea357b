from django.contrib import admin

from casedesk.sla.models import Plan, Target


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default"]
    inlines = [TargetInline]
