"""``column IN (values)`` written so that PostgreSQL sees one statement whatever the number of values.

An IN list has a placeholder per value, so every batch size is a new statement to PostgreSQL:
asyncpg prepares it anew (a round trip and a type lookup) and its cache of prepared statements
churns. Measured in the start storm (``make bench``, batches of a few hundred starts): a tenth of
the server's time went to preparing statements. On PostgreSQL this is ``column = ANY($1)``, one
array parameter; elsewhere the IN list.
"""

from sqlalchemy import ARRAY, any_, bindparam
from sqlalchemy.ext.asyncio import AsyncSession


def one_of(s: AsyncSession, column, values):
    values = list(values)
    if s.bind.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)
