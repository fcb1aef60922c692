"""Model fields for personal data and secrets at rest (see :mod:`minsheng.core.crypto`).

``EncryptedTextField`` holds text that the database only ever sees encrypted: Python code
reads and writes plain text, so every caller stays as it was, but a copy of the database (a
dump, a backup, a stolen disk) holds tokens. Encryption is randomised, so the column itself cannot
be compared or searched: a value to be found keeps a :class:`BlindIndexField` beside it, and
``field=value`` is then answered through that keyed hash (under every index key, so look-ups
hold during a rotation). Other look-ups, and ``field=value`` on a field without an index,
are refused rather than silently matching nothing; ``isnull`` and ``field=""`` stay plain.

``BlindIndexField(of="requester_phone")`` keeps the keyed hash of another field of the same
row, computed whenever the row is saved (with ``update_fields``, list both).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.expressions import Col
from django.db.models.lookups import Exact, In, IsNull

from . import crypto


class EncryptedTextField(models.TextField):
    """Text encrypted at rest. ``max_length`` limits the plain text (forms and
    ``full_clean``); the column is unbounded text, since a token is longer than its text."""

    description = "Text encrypted at rest"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _ExactThroughIndex
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted at rest and cannot be searched by "
            f"{lookup_name!r}; compare it with = (through its blind index)"
        )

    def blind_index_field(self) -> BlindIndexField | None:
        for f in self.model._meta.concrete_fields:
            if isinstance(f, BlindIndexField) and f.of == self.name:
                return f
        return None

    def formfield(self, **kwargs: Any) -> Any:  # type: ignore[override]
        # A one-line input, as the CharField this replaced had.
        return super().formfield(**{"form_class": forms.CharField, "widget": forms.TextInput, **kwargs})


class _ExactThroughIndex(Exact):
    """``field=""`` (nothing stored) is a plain comparison. ``field=value`` is asked of the
    field's blind index: the hash of ``value`` under each index key."""

    def get_prep_lookup(self) -> Any:
        if self.rhs in ("", None):
            return super().get_prep_lookup()
        if not isinstance(self.rhs, str):
            raise FieldError("an encrypted field can only be compared with a string")
        field = self.lhs.output_field
        if not isinstance(self.lhs, Col) or field.blind_index_field() is None:
            raise FieldError(
                f"{field.model.__name__}.{field.name} is encrypted at rest and has no blind index "
                "to be searched by"
            )
        return self.rhs

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        if self.rhs in ("", None):
            return super().as_sql(compiler, connection)
        index = self.lhs.output_field.blind_index_field()
        return In(index.get_col(self.lhs.alias), crypto.blind_indexes(self.rhs)).as_sql(compiler, connection)


class BlindIndexField(models.CharField):
    """The keyed hash (HMAC-SHA256, hex) of the field named ``of``, set on every save."""

    description = "Keyed hash of another field"

    def __init__(self, *args: Any, of: str, **kwargs: Any) -> None:
        self.of = of
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["of"] = self.of
        for key, value in (("max_length", 64), ("blank", True), ("editable", False), ("db_index", True)):
            if kwargs.get(key) == value:
                del kwargs[key]
        if kwargs.get("default") == "":
            del kwargs["default"]
        return name, path, args, kwargs

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        value = crypto.blind_index(getattr(model_instance, self.of) or "")
        setattr(model_instance, self.attname, value)
        return value
