"""What an administrator may not do to their own account (no I/O): lock themself out by
disabling, demoting or deleting it. Another administrator can."""


def self_change_problem(actor_id: int, target_id: int, *, role: str | None = None, disable: bool = False,
                        delete: bool = False) -> str | None:
    """Why the admin ``actor_id`` may not make this change to account ``target_id``, or None."""
    if actor_id != target_id:
        return None
    if delete:
        return "you cannot delete your own account; another administrator can"
    if disable:
        return "you cannot disable your own account; another administrator can"
    if role is not None and role != "admin":
        return "you cannot take the admin role from yourself; another administrator can"
    return None
