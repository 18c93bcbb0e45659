"""HTTP endpoints for locations (sites)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["locations"])
