"""Core screens: home, company profile, users, the user's own profile and API tokens."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from comptoir.core import actions
from comptoir.core.forms import ApiTokenForm, CompanyForm, NewUserForm, ProfileForm, UserForm
from comptoir.core.listing import Column, Filter, ListScreen
from comptoir.core.models import User
from comptoir.core.roles import Role
from comptoir.core.selectors import current_company


def object_for(request: HttpRequest, queryset: QuerySet[Any], pk: int, *permissions: str) -> Any:
    """Return the object of `pk` if the user's `queryset` holds it (404 otherwise, even if it
    exists) and the user has every one of `permissions` on it (403 otherwise)."""
    obj = get_object_or_404(queryset, pk=pk)
    for permission in permissions:
        if not request.user.has_perm(permission, obj):
            raise PermissionDenied
    return obj


class FormScreen(LoginRequiredMixin, View):
    """A form page whose fields validate inline (htmx) and whose save calls an action.

    An htmx request carrying ``X-Validate-Field`` only validates: the page is rendered with
    the errors and htmx swaps in the one field; nothing is saved.
    """

    form_class: type[forms.BaseForm]
    template_name = "core/form.html"
    title: Any = ""
    submit_label: Any = None
    permission: str | None = None
    # The page "Cancel" goes back to (a URL name without arguments), when there is one.
    cancel_view: str | None = None

    def check_access(self) -> None:
        if self.permission and not self.request.user.has_perm(self.permission, self.get_object()):
            raise PermissionDenied

    def get_object(self) -> Any:
        return None

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return self.form_class(data=data, files=files)

    def get_warnings(self, form: forms.BaseForm) -> list[str]:
        return []

    def save(self, form: forms.BaseForm) -> HttpResponse:
        raise NotImplementedError

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        return {
            "form": form,
            "title": self.title,
            "submit_label": self.submit_label,
            "validate_url": self.request.path,
            "object": self.get_object(),
            "cancel_url": reverse(self.cancel_view) if self.cancel_view else None,
            **extra,
        }

    def render(self, form: forms.BaseForm, **extra: Any) -> HttpResponse:
        return render(self.request, self.template_name, self.context(form, **extra))

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check_access()
        return self.render(self.get_form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check_access()
        form = self.get_form(request.POST, request.FILES)
        if request.headers.get("X-Validate-Field"):
            form.is_valid()
            return self.render(form)
        if form.is_valid():
            warnings = self.get_warnings(form)
            if warnings and not request.POST.get("confirm_warnings"):
                return self.render(form, warnings=warnings, needs_confirmation=True)
            try:
                return self.save(form)
            except ValidationError as exc:
                apply_validation_error(form, exc)
        return self.render(form, status_invalid=True)


def apply_validation_error(form: forms.BaseForm, exc: ValidationError) -> None:
    """Attach an action's ValidationError to the form fields it names."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    from comptoir.core.selectors import home_tiles

    company = current_company()
    return render(
        request,
        "core/home.html",
        {
            "title": _("Dashboard"),
            "company": company,
            "missing": company.missing_legal_fields(),
            "tiles": home_tiles(request.user),
        },
    )


@login_required
def company_detail(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("core.view_company"):
        raise PermissionDenied
    company = current_company()
    return render(
        request,
        "core/company.html",
        {
            "title": _("Company profile"),
            "company": company,
            "missing": company.missing_legal_fields(),
            "can_edit": request.user.has_perm("core.change_company"),
            "form": CompanyForm(instance=company),
        },
    )


class CompanyEdit(FormScreen):
    form_class = CompanyForm
    title = gettext_lazy("Edit the company profile")
    permission = "core.change_company"

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return CompanyForm(data=data, files=files, instance=current_company())

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        return super().context(form, cancel_url=reverse("core:company"), **extra)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        values = {k: v for k, v in form.cleaned_data.items() if k != "logo" or v is not None}
        if values.get("logo") is False:  # "clear" ticked
            values["logo"] = ""
        actions.update_company(by=self.request.user, **values)
        messages.success(self.request, _("Company profile saved."))
        return redirect("core:company")


class ProfileEdit(FormScreen):
    form_class = ProfileForm
    title = gettext_lazy("My profile")

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return ProfileForm(data=data, instance=self.request.user)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        user = actions.update_user(
            cast(User, self.request.user), by=self.request.user, **form.cleaned_data
        )
        # The message shows on the next page, in the language just chosen: build it in that one.
        with translation.override(getattr(user, "language", "") or translation.get_language()):
            messages.success(self.request, _("Profile saved."))
        return redirect("core:profile")


class UserList(ListScreen):
    title = gettext_lazy("Users")
    permission = "core.manage_users"
    columns = (
        Column("username", gettext_lazy("Login"), sort="username", link=True),
        Column("get_full_name", gettext_lazy("Name"), sort="last_name"),
        Column("email", gettext_lazy("Email"), sort="email"),
        Column("get_role_display", gettext_lazy("Role"), sort="role"),
        Column("is_active", gettext_lazy("Active"), kind="bool"),
        Column("last_login", gettext_lazy("Last login"), sort="last_login", kind="datetime"),
    )
    search_fields = ("username", "first_name", "last_name", "email")
    filters = (
        Filter(
            "role",
            gettext_lazy("Role"),
            lambda request: Role.choices,
            lambda qs, v: qs.filter(role=v),
        ),
    )
    default_sort = "username"
    export_name = gettext_lazy("users")
    create_label = gettext_lazy("New user")

    def get_queryset(self) -> QuerySet[User]:
        return User.objects.all()

    create_view = "core:user_create"
    detail_view = "core:user_edit"


class UserCreate(FormScreen):
    form_class = NewUserForm
    cancel_view = "core:users"
    title = gettext_lazy("New user")
    permission = "core.manage_users"

    def save(self, form: forms.BaseForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        password = data.pop("password1")
        data.pop("password2", None)
        user = actions.create_user(by=self.request.user, password=password, **data)
        messages.success(self.request, _("User %(user)s created.") % {"user": user})
        return redirect("core:users")


class UserEdit(FormScreen):
    form_class = UserForm
    cancel_view = "core:users"
    title = gettext_lazy("Edit user")
    permission = "core.manage_users"

    def get_object(self) -> User:
        return get_object_or_404(User, pk=self.kwargs["pk"])

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return UserForm(data=data, instance=self.get_object())

    def save(self, form: forms.BaseForm) -> HttpResponse:
        actions.update_user(self.get_object(), by=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("User saved."))
        return redirect("core:users")


class ApiTokens(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(ApiTokenForm())

    def page(self, form: ApiTokenForm, raw_token: str = "") -> HttpResponse:
        return render(
            self.request,
            "core/api_tokens.html",
            {
                "title": _("API tokens"),
                "form": form,
                "tokens": cast(User, self.request.user).api_tokens.filter(revoked_at__isnull=True),
                "raw_token": raw_token,
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        if "revoke" in request.POST:
            token = get_object_or_404(
                cast(User, request.user).api_tokens, pk=request.POST["revoke"]
            )
            actions.revoke_api_token(token, by=request.user)
            messages.success(request, _("Token revoked."))
            return HttpResponseRedirect(reverse("core:api_tokens"))
        form = ApiTokenForm(request.POST)
        if not form.is_valid():
            return self.page(form)
        _token, raw = actions.create_api_token(
            cast(User, request.user), name=form.cleaned_data["name"], by=request.user
        )
        return self.page(ApiTokenForm(), raw_token=raw)
