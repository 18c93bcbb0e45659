"""``wattson commands``: commands go to a station through the server that holds its connection,
so these call a running server's operator API over HTTP (not the database, as the other
commands do) with an API key: ``--api-key`` or ``WATTSON_API_KEY``."""

import sys

import orjson

from wattson.cli.context import document, fail, rows


def send(args, settings) -> None:
    body = _body(args.fields, args.body)
    params = {"wait": "false"} if args.no_wait else {}
    answer = _call(args, settings, "POST", f"/api/v1/charge-points/{args.charge_point}/commands/{args.command}",
                   json=body, params=params, timeout=settings.command_timeout + 10)
    document(answer)


def history(args, settings) -> None:
    answer = _call(args, settings, "GET", f"/api/v1/charge-points/{args.charge_point}/commands")
    rows([{"id": c.get("id"), "name": c.get("name"), "state": c.get("state"), "status": c.get("status"),
           "created_at": c.get("created_at"), "completed_at": c.get("completed_at")} for c in answer["data"]],
         args.json)


def _body(fields: list[str], whole: str | None) -> dict:
    """``name=text`` gives a string (the API reads "1" or "true" where it expects a number or a
    flag), ``name:=json`` any JSON value (lists, objects); or ``--body`` the whole object."""
    if whole is not None:
        if fields:
            fail("give the body either as FIELD=VALUE arguments or as --body, not both")
        try:
            body = orjson.loads(whole)
        except orjson.JSONDecodeError as error:
            fail(f"--body is not JSON: {error}")
        if not isinstance(body, dict):
            fail("--body must be a JSON object")
        return body
    body = {}
    for field in fields:
        name, raw, text = field.partition(":=")
        if raw:
            try:
                body[name] = orjson.loads(text)
            except orjson.JSONDecodeError:
                fail(f"{field!r}: the value after := is not JSON")
            continue
        name, equals, text = field.partition("=")
        if not equals or not name:
            fail(f"{field!r} is not FIELD=VALUE (or FIELD:=JSON)")
        body[name] = text
    return body


def _call(args, settings, method: str, path: str, timeout: float = 30.0, **request) -> dict:
    import httpx

    key = args.api_key or settings.api_key
    if not key:
        fail("an API key is needed: --api-key KEY or WATTSON_API_KEY (create one: wattson api-keys create)")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    base = (args.url or f"http://{host}:{settings.port}").rstrip("/")
    try:
        response = httpx.request(method, base + path, headers={"Authorization": f"Bearer {key}"}, timeout=timeout,
                                 **request)
    except httpx.HTTPError as error:
        fail(f"cannot reach the server at {base}: {error} (is `wattson serve` running? --url)")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code >= 400:
        error = (answer or {}).get("error") if isinstance(answer, dict) else None
        if error:
            if error.get("details"):
                print(orjson.dumps(error["details"]).decode(), file=sys.stderr)
            fail(f"{response.status_code} {error.get('code')}: {error.get('message')}")
        fail(f"{response.status_code} from {base}{path}")
    return answer
