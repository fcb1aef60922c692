"""Finding an API token's owner (and noting when the token was last used), and the tokens
a person may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Field, Model, QuerySet

from minsheng.core import clock

from .actors import Actor
from .models import ApiToken, Profile, Role, Unit, hash_token

TOUCH_EVERY_S = 60


@dataclass(frozen=True)
class _Columns:
    """One model's columns in the look-up's row: where they start, their attribute names
    and each one's converters from the database's value (as the ORM applies them)."""

    model: type[Model]
    start: int
    names: tuple[str, ...]
    converters: tuple[tuple[Any, ...], ...]
    cols: tuple[Any, ...]

    def build(self, alias: str, row: tuple[Any, ...], connection: Any) -> Any:
        values = list(row[self.start : self.start + len(self.names)])
        if values[0] is None:  # the primary key: no row joined
            return None
        for i, converters in enumerate(self.converters):
            for convert in converters:
                values[i] = convert(values[i], self.cols[i], connection)
        return self.model.from_db(alias, self.names, values)


@dataclass(frozen=True)
class _TokenLookup:
    sql: str
    token: _Columns
    user: _Columns
    profile: _Columns
    unit: _Columns


def _columns(model: type[Model], fields: list[Field], start: int, connection: Any) -> _Columns:
    table = model._meta.db_table
    cols = tuple(f.get_col(table) for f in fields)
    ops = connection.ops
    converters = tuple((*ops.get_db_converters(c), *c.get_db_converters(connection)) for c in cols)
    return _Columns(model, start, tuple(f.attname for f in fields), converters, cols)


def _lookup(connection: Any) -> _TokenLookup:
    """The look-up as one statement, written from the models' own metadata: the token by its
    hash's unique index, live (not revoked, not expired) and of an active user, with the user,
    the profile and its unit joined as ``select_related`` would join them, and read back with
    the ORM's own converters. Building that query with the ORM on every request was most of
    what an API call's authentication cost (1.4 ms of CPU against 0.1 ms)."""
    user_model = get_user_model()
    q = connection.ops.quote_name

    def col(model: type[Model], name: str) -> str:
        field = cast(Field, model._meta.get_field(name))
        return f"{q(model._meta.db_table)}.{q(field.column)}"

    selected = (
        (ApiToken, [ApiToken._meta.pk, ApiToken._meta.get_field("last_used_at")]),
        (user_model, list(user_model._meta.concrete_fields)),
        (Profile, list(Profile._meta.concrete_fields)),
        (Unit, list(Unit._meta.concrete_fields)),
    )
    parts, start = [], 0
    for model, fields in selected:
        parts.append(_columns(model, fields, start, connection))
        start += len(fields)
    columns = ", ".join(col(model, f.name) for model, fields in selected for f in fields)
    user_pk = col(user_model, user_model._meta.pk.name)
    unit_pk = col(Unit, Unit._meta.pk.name)
    # Names from the models, quoted by the backend; the two values are parameters.
    sql = (
        f"SELECT {columns} FROM {q(ApiToken._meta.db_table)}"  # noqa: S608
        f" INNER JOIN {q(user_model._meta.db_table)} ON {col(ApiToken, 'user')} = {user_pk}"
        f" LEFT OUTER JOIN {q(Profile._meta.db_table)} ON {col(Profile, 'user')} = {user_pk}"
        f" LEFT OUTER JOIN {q(Unit._meta.db_table)} ON {col(Profile, 'unit')} = {unit_pk}"
        f" WHERE {col(ApiToken, 'key_hash')} = %s AND NOT {col(ApiToken, 'revoked')}"
        f" AND {col(ApiToken, 'expires_at')} > %s AND {col(user_model, 'is_active')}"
    )
    return _TokenLookup(sql, *parts)


_LOOKUPS: dict[str, _TokenLookup] = {}


def user_for_token(raw: str) -> Any | None:
    """The active user whose token ``raw`` is, while the token is neither expired nor revoked;
    the user's profile and unit come with it. Every request asks the database (nothing is
    kept between requests), so a revocation, an expiry, a new password (which revokes) or a
    deactivated user takes effect at the next request."""
    at = clock.now()
    alias = ApiToken.objects.db
    connection = connections[alias]
    lookup = _LOOKUPS.get(connection.vendor)
    if lookup is None:
        lookup = _LOOKUPS[connection.vendor] = _lookup(connection)
    with connection.cursor() as cursor:
        cursor.execute(lookup.sql, [hash_token(raw), connection.ops.adapt_datetimefield_value(at)])
        row = cursor.fetchone()
    if row is None:
        return None
    token = lookup.token.build(alias, row, connection)
    user = lookup.user.build(alias, row, connection)
    profile = lookup.profile.build(alias, row, connection)
    profile_field = Profile._meta.get_field("user")
    profile_field.remote_field.set_cached_value(user, profile)  # user.profile, None included
    if profile is not None:
        profile_field.set_cached_value(profile, user)
        Profile._meta.get_field("unit").set_cached_value(profile, lookup.unit.build(alias, row, connection))
    # Noted at most once a minute (as a sensor key's): a write, and on its own a commit,
    # on every request would double what an API call costs the database.
    if token.last_used_at is None or (at - token.last_used_at).total_seconds() > TOUCH_EVERY_S:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
    return user


def manages_tokens(user: Any) -> bool:
    """An administrator sees and revokes everyone's tokens."""
    return user is not None and user.is_authenticated and Actor.of(user).role == Role.ADMIN


def tokens_visible_to(user: Any) -> QuerySet[ApiToken]:
    """A person's own tokens; every token for an administrator."""
    tokens = ApiToken.objects.select_related("user")
    return tokens if manages_tokens(user) else tokens.filter(user_id=user.pk)
