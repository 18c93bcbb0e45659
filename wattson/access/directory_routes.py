"""HTTP endpoints for drivers, groups and access rights."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["drivers and access"])
