"""HTTP endpoints for id tokens and API keys."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AfterValidator

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID, no_nul
from wattson.access.schemas import (
    ApiKeyCreate, ApiKeyCreated, ApiKeyOut, IdTokenCreate, IdTokenOut, IdTokenUpdate, TokenStatus,
)

router = APIRouter(prefix="/api/v1", tags=["access"])
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="The id token's id (not its uid).")]


def _access(request: Request):
    return request.app.state.services.access


@router.post("/id-tokens", status_code=201, response_model=IdTokenOut, dependencies=[auth.operator])
async def create_id_token(request: Request, body: IdTokenCreate):
    """Add a driver's tag; its status defaults to Accepted. Times without a zone are UTC."""
    return await _access(request).create_id_token(
        body.uid, body.status, body.type, body.valid_from, body.expires_at, body.parent_id_tag,
        visual_number=body.visual_number, invoicable=body.invoicable, driver_id=body.driver_id)


@router.get("/id-tokens", response_model=Page[IdTokenOut], dependencies=[auth.viewer])
async def list_id_tokens(request: Request,
                         uid: Annotated[str | None, Query(max_length=36, description="Look a tag up by its uid."),
                                        AfterValidator(no_nul)] = None,
                         driver_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                         status: TokenStatus | None = None,
                         limit: int = Limit, cursor: str | None = CursorParam):
    """Tags in id order; the filters given narrow the list."""
    after = pagination.decode(cursor, int)
    rows = await _access(request).list_id_tokens(limit + 1, after[0] if after else None, uid=uid,
                                                 driver_id=driver_id, status=status)
    return pagination.page(rows, limit, lambda t: (t.id,))


@router.get("/id-tokens/{token_id}", response_model=IdTokenOut, dependencies=[auth.viewer])
async def get_id_token(request: Request, token_id: TokenId):
    return await _access(request).get_id_token(token_id)


@router.patch("/id-tokens/{token_id}", response_model=IdTokenOut, dependencies=[auth.operator])
async def update_id_token(request: Request, token_id: TokenId, body: IdTokenUpdate):
    """Change the fields sent; null clears valid_from, expires_at, parent_id_tag, visual_number or driver_id."""
    return await _access(request).update_id_token(token_id, body.model_dump(exclude_unset=True))


@router.delete("/id-tokens/{token_id}", status_code=204, dependencies=[auth.operator])
async def delete_id_token(request: Request, token_id: TokenId):
    """Remove a tag: it is Invalid from then on. Sessions keep the uid they were started with."""
    await _access(request).delete_id_token(token_id)
    return Response(status_code=204)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated, dependencies=[auth.admin])
async def create_api_key(request: Request, body: ApiKeyCreate):
    """Create a key; the secret is in this answer only."""
    row, secret = await _access(request).create_api_key(body.name, body.role)
    return {**ApiKeyOut.model_validate(row).model_dump(), "key": secret}


@router.get("/api-keys", response_model=Page[ApiKeyOut], dependencies=[auth.admin])
async def list_api_keys(request: Request, limit: int = Limit, cursor: str | None = CursorParam):
    after = pagination.decode(cursor, int)
    rows = await _access(request).list_api_keys(limit + 1, after[0] if after else None)
    return pagination.page(rows, limit, lambda k: (k.id,))


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut, dependencies=[auth.admin])
async def revoke_api_key(request: Request, key_id: Annotated[int, Path(le=MAX_ID)]):
    return await _access(request).revoke_api_key(key_id)
