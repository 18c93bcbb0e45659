"""HTTP endpoints for id tokens and API keys."""

from datetime import timezone

from fastapi import APIRouter, Request

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.access.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, IdTokenCreate, IdTokenOut

router = APIRouter(prefix="/api/v1", tags=["access"])


def _utc(value):
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


@router.post("/id-tokens", status_code=201, response_model=IdTokenOut, dependencies=[auth.operator])
async def create_id_token(request: Request, body: IdTokenCreate):
    """Add a driver's tag; its status defaults to Accepted. Times without a zone are UTC."""
    return await request.app.state.services.access.create_id_token(
        body.uid, body.status, body.type, _utc(body.valid_from), _utc(body.expires_at), body.parent_id_tag)


@router.get("/id-tokens", response_model=Page[IdTokenOut], dependencies=[auth.viewer])
async def list_id_tokens(request: Request, limit: int = Limit, cursor: str | None = CursorParam):
    after = pagination.decode(cursor, int)
    rows = await request.app.state.services.access.list_id_tokens(limit + 1, after[0] if after else None)
    return pagination.page(rows, limit, lambda t: (t.id,))


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated, dependencies=[auth.admin])
async def create_api_key(request: Request, body: ApiKeyCreate):
    """Create a key; the secret is in this answer only."""
    row, secret = await request.app.state.services.access.create_api_key(body.name, body.role)
    return {**ApiKeyOut.model_validate(row).model_dump(), "key": secret}


@router.get("/api-keys", response_model=Page[ApiKeyOut], dependencies=[auth.admin])
async def list_api_keys(request: Request):
    return {"data": await request.app.state.services.access.list_api_keys()}


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut, dependencies=[auth.admin])
async def revoke_api_key(request: Request, key_id: int):
    return await request.app.state.services.access.revoke_api_key(key_id)
