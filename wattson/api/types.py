"""Bounded id types for paths, queries and bodies.

Ids are 32-bit integer keys on PostgreSQL: a larger number cannot name anything, and passing it
to the database would be an error there rather than a clean 404 or 422 here.
"""

from typing import Annotated

from fastapi import Path
from pydantic import Field

MAX_ID = 2**31 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
