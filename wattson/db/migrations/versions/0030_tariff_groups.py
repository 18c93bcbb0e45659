"""tariff groups (issue 20): a named set of tariffs (tariff_group_tariffs) assigned together at
locations, charge points and driver groups (tariff_group_assignments) and named by EVSEs (the
foreign key of evses.tariff_group_id, which 0029 added); tariff snapshots: each tariff version a
session took at its start, stored once (tariff_snapshots), sessions.tariff_snapshot_id naming it,
filled for the sessions already stored

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04
"""

import hashlib
import json

from alembic import op
import sqlalchemy as sa

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

#: (table, column, referred table, ON DELETE) of the foreign keys added to existing tables.
REFERRING = (('evses', 'tariff_group_id', 'tariff_groups', 'RESTRICT'),
             ('sessions', 'tariff_snapshot_id', 'tariff_snapshots', 'RESTRICT'))
CHUNK = 2000  # sessions read at a time when their snapshots are stored


def upgrade() -> None:
    op.create_table(
        'tariff_groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.String(length=1000), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tariff_groups')),
        sa.UniqueConstraint('name', name=op.f('uq_tariff_groups_name')),
    )
    op.create_table(
        'tariff_group_tariffs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tariff_group_id', sa.Integer(), nullable=False),
        sa.Column('tariff_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('driver_group_id', sa.Integer(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tariff_group_id'], ['tariff_groups.id'],
                                name=op.f('fk_tariff_group_tariffs_tariff_group_id_tariff_groups'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tariff_id'], ['tariffs.id'], name=op.f('fk_tariff_group_tariffs_tariff_id_tariffs'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['driver_group_id'], ['driver_groups.id'],
                                name=op.f('fk_tariff_group_tariffs_driver_group_id_driver_groups'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tariff_group_tariffs')),
    )
    op.create_index(op.f('ix_tariff_group_tariffs_tariff_group_id'), 'tariff_group_tariffs', ['tariff_group_id'])
    op.create_index(op.f('ix_tariff_group_tariffs_tariff_id'), 'tariff_group_tariffs', ['tariff_id'])
    op.create_table(
        'tariff_group_assignments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tariff_group_id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=True),
        sa.Column('charge_point_id', sa.String(length=48), nullable=True),
        sa.Column('driver_group_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tariff_group_id'], ['tariff_groups.id'],
                                name=op.f('fk_tariff_group_assignments_tariff_group_id_tariff_groups'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'],
                                name=op.f('fk_tariff_group_assignments_location_id_locations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'],
                                name=op.f('fk_tariff_group_assignments_charge_point_id_charge_points'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['driver_group_id'], ['driver_groups.id'],
                                name=op.f('fk_tariff_group_assignments_driver_group_id_driver_groups'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tariff_group_assignments')),
    )
    for column in ('tariff_group_id', 'location_id', 'charge_point_id'):
        op.create_index(op.f(f'ix_tariff_group_assignments_{column}'), 'tariff_group_assignments', [column])
    op.create_table(
        'tariff_snapshots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('tariff_id', sa.String(length=36), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tariff_snapshots')),
        sa.UniqueConstraint('digest', name=op.f('uq_tariff_snapshots_digest')),
    )
    op.create_index(op.f('ix_tariff_snapshots_tariff_id'), 'tariff_snapshots', ['tariff_id'])
    # Plain ALTER TABLE on both databases, never a batch copy: copying evses or sessions would drop
    # the old table and, through ON DELETE CASCADE, every row that refers to it.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.add_column('sessions', sa.Column('tariff_snapshot_id', sa.Integer(), nullable=True))
    op.execute('UPDATE evses SET tariff_group_id = NULL')  # no group existed to be named
    for table, column, referred, on_delete in REFERRING:
        if sqlite:
            _sqlite_schema(table, lambda sql: sql[:sql.rstrip().rindex(')')].rstrip()
                           + _fk(table, column, referred, on_delete) + '\n)')
        else:
            op.create_foreign_key(op.f(_fk_name(table, column, referred)), table, referred, [column], ['id'],
                                  ondelete=on_delete)
    op.create_index(op.f('ix_evses_tariff_group_id'), 'evses', ['tariff_group_id'])
    _store_snapshots()


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index(op.f('ix_evses_tariff_group_id'), table_name='evses')
    for table, column, referred, on_delete in REFERRING:
        if sqlite:
            _sqlite_schema(table, lambda sql: sql.replace(_fk(table, column, referred, on_delete), ''))
        else:
            op.drop_constraint(op.f(_fk_name(table, column, referred)), table, type_='foreignkey')
    op.execute('ALTER TABLE sessions DROP COLUMN tariff_snapshot_id')
    op.drop_index(op.f('ix_tariff_snapshots_tariff_id'), table_name='tariff_snapshots')
    op.drop_table('tariff_snapshots')
    for column in ('charge_point_id', 'location_id', 'tariff_group_id'):
        op.drop_index(op.f(f'ix_tariff_group_assignments_{column}'), table_name='tariff_group_assignments')
    op.drop_table('tariff_group_assignments')
    op.drop_index(op.f('ix_tariff_group_tariffs_tariff_id'), table_name='tariff_group_tariffs')
    op.drop_index(op.f('ix_tariff_group_tariffs_tariff_group_id'), table_name='tariff_group_tariffs')
    op.drop_table('tariff_group_tariffs')
    op.drop_table('tariff_groups')


def _store_snapshots() -> None:
    """Each distinct tariff copy the sessions already stored hold becomes one snapshot, and those
    sessions name it: read in chunks by id, written one UPDATE per snapshot and chunk. The digest is
    ``tariffs.snapshots.digest`` as it was written here (a migration must not change with the code)."""
    bind = op.get_bind()
    sessions = sa.table('sessions', sa.column('id', sa.Integer()), sa.column('tariff_snapshot', sa.JSON()),
                        sa.column('tariff_snapshot_id', sa.Integer()), sa.column('started_at', sa.DateTime(True)))
    snapshots = sa.table('tariff_snapshots', sa.column('id', sa.Integer()), sa.column('digest', sa.String()),
                         sa.column('tariff_id', sa.String()), sa.column('body', sa.JSON()),
                         sa.column('created_at', sa.DateTime(True)))
    known: dict[str, int] = {}
    last = 0
    while True:
        rows = bind.execute(sa.select(sessions.c.id, sessions.c.tariff_snapshot, sessions.c.started_at)
                            .where(sessions.c.id > last, sessions.c.tariff_snapshot.is_not(None))
                            .order_by(sessions.c.id).limit(CHUNK)).all()
        if not rows:
            return
        last = rows[-1][0]
        ids: dict[str, list[int]] = {}
        for id_, body, started_at in rows:
            body = json.loads(body) if isinstance(body, str) else body
            digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(',', ':')).encode()).hexdigest()
            if digest not in known:
                known[digest] = bind.execute(sa.insert(snapshots).values(
                    digest=digest, tariff_id=str(body.get('id', ''))[:36], body=body, created_at=started_at)
                    .returning(snapshots.c.id)).scalar_one()
            ids.setdefault(digest, []).append(id_)
        for digest, members in ids.items():
            bind.execute(sa.update(sessions).where(sessions.c.id.in_(members)).values(tariff_snapshot_id=known[digest]))


def _fk_name(table: str, column: str, referred: str) -> str:
    return f'fk_{table}_{column}_{referred}'


def _fk(table: str, column: str, referred: str, on_delete: str) -> str:
    """The table constraint SQLite's CREATE TABLE text gets, as SQLAlchemy writes (and reflects) one."""
    return (f", \n\tCONSTRAINT {_fk_name(table, column, referred)} FOREIGN KEY({column}) REFERENCES {referred} (id) "
            f"ON DELETE {on_delete}")


def _sqlite_schema(table: str, change) -> None:
    """Add or remove a foreign key constraint of a SQLite table by changing its stored CREATE TABLE
    text (as 0024 does): SQLite's ALTER TABLE cannot, and the usual copy of the table would cascade
    its deletion to every row that refers to it. The columns are NULL where the constraint is new
    (evses.tariff_group_id is cleared first: no group existed to be named), so every row meets it."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (change(sql), table))
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
