from django.contrib import admin

from casedesk.escalation.models import Level


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "contact_name", "email", "phone", "show_on_portal"]
