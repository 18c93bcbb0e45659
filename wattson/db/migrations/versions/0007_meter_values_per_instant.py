"""meter values: one row per instant, its samples as JSON

A station's meterValue element (the samples it took at one instant) becomes one row instead of a
row per sample: they are always written and read together, and four indexed rows cost the
database four times one (bench/RESULTS.md). Existing rows are grouped by instant, samples in the
order they were stored; downgrading expands them again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

SAMPLE_FIELDS = ("measurand", "value", "unit", "phase", "context", "location", "format")
KEYS = "session_id, charge_point_id, evse, connector, timestamp"


def _create(columns: list[sa.Column]) -> None:
    op.create_table(
        'meter_values',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('charge_point_id', sa.String(length=48), nullable=False),
        sa.Column('evse', sa.Integer(), nullable=False),
        sa.Column('connector', sa.Integer(), nullable=True),
        sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
        *columns,
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'],
                                name=op.f('fk_meter_values_charge_point_id_charge_points'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_meter_values_session_id_sessions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meter_values')))
    op.create_index('ix_meter_values_cp_time', 'meter_values', ['charge_point_id', 'timestamp'], unique=False)
    op.create_index('ix_meter_values_session_time', 'meter_values', ['session_id', 'timestamp'], unique=False)


def _set_aside() -> None:
    """Rename the table and free its index and constraint names for the new one."""
    op.drop_index('ix_meter_values_cp_time', table_name='meter_values')
    op.drop_index('ix_meter_values_session_time', table_name='meter_values')
    op.rename_table('meter_values', 'meter_values_old')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE meter_values_old RENAME CONSTRAINT pk_meter_values TO pk_meter_values_old')


def upgrade() -> None:
    _set_aside()
    _create([sa.Column('samples', sa.JSON(), nullable=False)])
    pairs = ", ".join(f"'{f}', {f}" for f in SAMPLE_FIELDS)
    if op.get_bind().dialect.name == 'postgresql':
        samples = f"json_agg(json_strip_nulls(json_build_object({pairs})) ORDER BY id)"
        source = "meter_values_old"
    else:
        samples = f"json_group_array(json_patch('{{}}', json_object({pairs})))"  # json_patch drops nulls
        source = "(SELECT * FROM meter_values_old ORDER BY id)"  # aggregates see rows in this order
    op.execute(f"INSERT INTO meter_values ({KEYS}, samples, received_at) "
               f"SELECT {KEYS}, {samples}, MIN(received_at) FROM {source} AS old "
               f"GROUP BY {KEYS} ORDER BY MIN(id)")
    op.drop_table('meter_values_old')


def downgrade() -> None:
    _set_aside()
    _create([sa.Column('measurand', sa.String(length=64), nullable=False),
             sa.Column('value', sa.Text(), nullable=False),
             sa.Column('numeric', sa.Double(), nullable=True),
             sa.Column('unit', sa.String(length=16), nullable=True),
             sa.Column('phase', sa.String(length=8), nullable=True),
             sa.Column('context', sa.String(length=32), nullable=True),
             sa.Column('location', sa.String(length=8), nullable=True),
             sa.Column('format', sa.String(length=16), nullable=True)])
    if op.get_bind().dialect.name == 'postgresql':
        fields = ", ".join(f"x.sample ->> '{f}'" for f in SAMPLE_FIELDS)
        expand = "CROSS JOIN LATERAL json_array_elements(old.samples) WITH ORDINALITY AS x(sample, n)"
        value, fmt = "x.sample ->> 'value'", "x.sample ->> 'format'"
        number = f"{value} ~ '^[-+]?[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?$'"
        numeric = f"CASE WHEN {fmt} IS DISTINCT FROM 'SignedData' AND {number} THEN ({value})::float END"
        order = "old.id, x.n"
    else:
        fields = ", ".join(f"json_extract(x.value, '$.{f}')" for f in SAMPLE_FIELDS)
        expand = "CROSS JOIN json_each(old.samples) AS x"
        value, fmt = "json_extract(x.value, '$.value')", "json_extract(x.value, '$.format')"
        number = f"{value} <> '' AND trim({value}, '0123456789.-+eE') = ''"
        numeric = f"CASE WHEN {fmt} IS NOT 'SignedData' AND {number} THEN CAST({value} AS REAL) END"
        order = "old.id, x.key"
    columns = ", ".join(SAMPLE_FIELDS)
    op.execute(f"INSERT INTO meter_values ({KEYS}, {columns}, numeric, received_at) "
               f"SELECT {', '.join('old.' + k for k in KEYS.split(', '))}, {fields}, {numeric}, old.received_at "
               f"FROM meter_values_old AS old {expand} ORDER BY {order}")
    op.drop_table('meter_values_old')
