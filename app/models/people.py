"""Organizations, people and their affiliations."""

from __future__ import annotations

from sqlalchemy import Index, true
from sqlmodel import Field

from app.models.base import Entity, Table
from app.models.sort_keys import key_field


class Organization(Entity, table=True):
    __table_args__ = (Index("ix_organization_name_key", "name_key", "id"),)

    name: str = Field(max_length=300)
    name_key: str = key_field()
    short_name: str | None = Field(default=None, max_length=60)
    url: str | None = Field(default=None, max_length=500)
    parent_id: int | None = Field(default=None, foreign_key="organization.id", index=True)


class Person(Entity, table=True):
    __table_args__ = (
        Index("ix_person_name_key", "name_key", "id"),
        Index("ix_person_sort_name_key", "sort_name_key", "id"),
    )

    name: str = Field(max_length=200)
    sort_name: str = Field(max_length=200)
    name_key: str = key_field()
    sort_name_key: str = key_field()
    title: str | None = Field(default=None, max_length=500)
    degrees: str | None = Field(default=None, max_length=200)
    bio: str | None = None
    bio_text: str | None = None
    photo_url: str | None = Field(default=None, max_length=500)
    photo_alt: str | None = Field(default=None, max_length=500)
    photo_credit: str | None = Field(default=None, max_length=300)
    email: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=100)
    office: str | None = Field(default=None, max_length=500)
    profile_url: str | None = Field(default=None, max_length=500)
    cv_url: str | None = Field(default=None, max_length=500)


class Affiliation(Table, table=True):
    __table_args__ = (Index("ix_affiliation_person_position", "person_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    organization_id: int = Field(foreign_key="organization.id", index=True)
    role: str = Field(max_length=300)
    start_year: int | None = None
    end_year: int | None = None
    # False: it has ended, whether or not `end_year` says when ("former Chief Operating
    # Officer of Meta"). Never true with an end year (the write model's rule).
    is_current: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    is_primary: bool = Field(default=False)
    position: int = Field(default=0)
