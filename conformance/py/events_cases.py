"""Conformance case `event_received` for the Python clients (b24pysdk, fast_bitrix24).

An event received by a local handler, end to end through each client's public API:

1. A local HTTP receiver (plain HTTP on 127.0.0.1:0) records every POST.
2. Through the webhook, `event.bind` is refused with 403 WRONG_AUTH_TYPE (application context only).
3. An access token is minted with `leadtrace token create`; through the client in OAuth mode the
   application binds ONCRMLEADADD to the receiver (`event.bind` -> true, `event.get` lists it).
4. An outgoing webhook for ONCRMLEADUPDATE is configured with `leadtrace event add`.
5. Through the webhook a lead is added and updated.
6. The application's ONCRMLEADADD arrives form-encoded with Bitrix24's fields, in order; the
   client parses it (b24pysdk: `OAuthEventData.from_dict`) and calls back with the token from
   `auth[access_token]` (`crm.lead.get` returns the lead).
7. The outgoing webhook's ONCRMLEADUPDATE arrives with no tokens and the application token that
   `leadtrace event add` printed (b24pysdk: a "system" event).
8. Clean-up: `event.unbind` -> {"count": 1}, `leadtrace event remove`.

The server's binary and database come from the environment (conformance/run exports them):
LT_BINARY (the leadtrace executable) and LT_DATABASE_URL (the running server's database).

Wiring (test_b24pysdk.py; test_fast_bitrix24.py likewise with fast_bitrix24_event_received):
    import events_cases

    @suite.case
    def event_received(ctx):
        events_cases.b24pysdk_event_received(ctx)
Run by hand:
    LT_BINARY=... LT_DATABASE_URL=... REQUESTS_CA_BUNDLE=... python events_cases.py \
        --webhook https://127.0.0.1:PORT/rest/1/CODE/ --results out.json
"""

import http.server
import os
import re
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qsl, urlsplit

from harness import Suite, check, eq

WAIT_SECONDS = 20
HEX32 = re.compile(r"^[0-9a-f]{32}$")

# Bitrix24's order of fields (spec/events.md §3); an application's auth block also carries
# `expires` and `user_id`, which the official SDKs read.
APP_KEYS = [
    "event", "event_handler_id", "data[FIELDS][ID]", "ts",
    "auth[access_token]", "auth[expires]", "auth[expires_in]", "auth[scope]", "auth[domain]",
    "auth[server_endpoint]", "auth[status]", "auth[client_endpoint]", "auth[member_id]",
    "auth[user_id]", "auth[application_token]",
]
WEBHOOK_KEYS = [
    "event", "event_handler_id", "data[FIELDS][ID]", "ts",
    "auth[domain]", "auth[client_endpoint]", "auth[server_endpoint]", "auth[member_id]",
    "auth[application_token]",
]


# ---------------------------------------------------------------- the local handler


class Receiver:
    """Records every POST: (path, headers, raw body, ordered flattened fields)."""

    def __init__(self):
        self.got = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                with outer.lock:
                    outer.got.append({
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "pairs": parse_qsl(body, keep_blank_values=True),
                    })
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, path, event, lead_id):
        """The first POST at `path` of `event` about lead `lead_id`."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            with self.lock:
                for r in self.got:
                    fields = dict(r["pairs"])
                    if (r["path"] == path and fields.get("event") == event
                            and fields.get("data[FIELDS][ID]") == str(lead_id)):
                        return r
            time.sleep(0.05)
        raise AssertionError(f"no {event} for lead {lead_id} at {path} within {WAIT_SECONDS}s; got {self.got!r}")

    def close(self):
        self.server.shutdown()


# ---------------------------------------------------------------- the server's CLI


def leadtrace(*args):
    binary, db = os.environ.get("LT_BINARY"), os.environ.get("LT_DATABASE_URL")
    check(binary and db, "LT_BINARY and LT_DATABASE_URL must name the server's binary and database")
    out = subprocess.run([binary, *args], env={**os.environ, "DATABASE_URL": db},
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"leadtrace {' '.join(args)} failed: {out.stderr}")
    return out.stdout.strip()


def mint_token():
    return leadtrace("token", "create", "--user", "1", "--scope", "crm,user", "--ttl", "1h")


def add_outgoing_webhook(event, url):
    handler_id, token = leadtrace("event", "add", "--event", event, "--handler", url).split("\t")
    return int(handler_id), token


# ---------------------------------------------------------------- shared checks


def server_of(ctx):
    url = urlsplit(ctx.webhook)
    return url.netloc, f"{url.scheme}://{url.netloc}"


def check_app_event(ctx, received, lead_id):
    """The application's ONCRMLEADADD: Bitrix24's fields in order, our portal's values."""
    netloc, base = server_of(ctx)
    keys = [k for k, _ in received["pairs"]]
    eq(keys, APP_KEYS, "fields of an application's event, in order")
    check("%5B" in received["body"], "brackets must be percent-encoded (http_build_query)")
    eq(received["headers"].get("content-type"), "application/x-www-form-urlencoded", "Content-Type")
    check(HEX32.match(received["headers"].get("x-leadtrace-event-id", "")), "X-Leadtrace-Event-Id")
    f = dict(received["pairs"])
    eq(f["event"], "ONCRMLEADADD", "event")
    eq(f["data[FIELDS][ID]"], str(lead_id), "data[FIELDS][ID]")
    check(f["event_handler_id"].isdigit(), "event_handler_id is a number")
    check(abs(int(f["ts"]) - time.time()) < 300, f"ts is the sending time: {f['ts']}")
    eq(f["auth[domain]"], netloc, "auth[domain]")
    eq(f["auth[client_endpoint]"], f"{base}/rest/", "auth[client_endpoint]")
    eq(f["auth[server_endpoint]"], f"{base}/rest/", "auth[server_endpoint]")
    eq(f["auth[status]"], "L", "auth[status] (local application)")
    eq(f["auth[user_id]"], "1", "auth[user_id] (the webhook's user caused it)")
    eq(f["auth[expires_in]"], "3600", "auth[expires_in]")
    eq(f["auth[scope]"], "crm,user", "auth[scope] (the binding token's scopes)")
    for key in ("auth[member_id]", "auth[application_token]"):
        check(HEX32.match(f[key]), f"{key} is 32 hex digits: {f[key]!r}")
    return f


def check_webhook_event(ctx, received, lead_id, handler_id, token):
    """An outgoing webhook's event: no tokens; the webhook's application token."""
    netloc, base = server_of(ctx)
    eq([k for k, _ in received["pairs"]], WEBHOOK_KEYS, "fields of an outgoing webhook's event, in order")
    f = dict(received["pairs"])
    eq(f["event"], "ONCRMLEADUPDATE", "event")
    eq(f["event_handler_id"], str(handler_id), "event_handler_id (the ID `event add` printed)")
    eq(f["data[FIELDS][ID]"], str(lead_id), "data[FIELDS][ID]")
    eq(f["auth[domain]"], netloc, "auth[domain]")
    eq(f["auth[client_endpoint]"], f"{base}/rest/", "auth[client_endpoint]")
    eq(f["auth[application_token]"], token, "auth[application_token] (printed by `event add`)")
    return f


def bound_handler(handlers, url):
    return {"event": "ONCRMLEADADD", "handler": url, "auth_type": "0", "offline": 0} in handlers


# ---------------------------------------------------------------- b24pysdk


def b24pysdk_event_received(ctx):
    from b24pysdk import BitrixApp, BitrixToken, BitrixWebhook, Client
    from b24pysdk.credentials import OAuthEventData
    from b24pysdk.errors import BitrixAPIError

    netloc, _ = server_of(ctx)
    parts = urlsplit(ctx.webhook).path.strip("/").split("/")
    hook = Client(BitrixWebhook(domain=netloc, webhook_token=f"{parts[1]}/{parts[2]}"), timeout=30, max_retries=1)
    rx = Receiver()
    app_url, hook_url = f"{rx.url}/app", f"{rx.url}/hook"
    # An application token needs an application object (only used to refresh tokens, which never
    # happens here): the SDK treats a token without one as a webhook's.
    local_app = BitrixApp(client_id="local.leadtrace.conformance", client_secret="unused")

    def oauth_client(domain, access_token):
        token = BitrixToken(domain=domain, auth_token=access_token, expires_in=3600, bitrix_app=local_app)
        return Client(token, timeout=30, max_retries=1)

    app = oauth_client(netloc, mint_token())
    webhook_handler = None
    try:
        try:
            hook.event.bind("ONCRMLEADADD", app_url).result
        except BitrixAPIError as exc:
            eq((exc.status_code, exc.error), (403, "WRONG_AUTH_TYPE"), "event.bind through a webhook")
        else:
            raise AssertionError("event.bind through a webhook must fail")

        eq(app.event.bind("onCrmLeadAdd", app_url).result, True, "event.bind result")
        handlers = app.event.get().response.result
        check(bound_handler(handlers, app_url), f"event.get lists the handler: {handlers!r}")
        webhook_handler, token = add_outgoing_webhook("ONCRMLEADUPDATE", hook_url)

        lead_id = hook.crm.lead.add({"TITLE": f"{ctx.marker} event"}).result
        eq(hook.crm.lead.update(lead_id, {"TITLE": f"{ctx.marker} event 2"}).result, True, "update")

        received = rx.wait_for("/app", "ONCRMLEADADD", lead_id)
        check_app_event(ctx, received, lead_id)
        # The official SDK's own parser of event callbacks accepts it ...
        event = OAuthEventData.from_dict(dict(received["pairs"]))
        eq(event.event, "ONCRMLEADADD", "OAuthEventData.event")
        eq(event.data, {"FIELDS": {"ID": str(lead_id)}}, "OAuthEventData.data")
        check(not event.is_system, "an application's event carries the user's token")
        eq(event.auth.user_id, 1, "OAuthEventData.auth.user_id")
        # ... and its token calls back. (`auth[domain]`, not `BitrixToken.from_oauth`: that takes the
        # host of `client_endpoint` and drops the port, which only a portal on 443 can afford.)
        back = oauth_client(event.auth.domain, event.auth.oauth_token.access_token)
        eq(back.crm.lead.get(lead_id).result["ID"], str(lead_id), "crm.lead.get with the event's token")

        received = rx.wait_for("/hook", "ONCRMLEADUPDATE", lead_id)
        check_webhook_event(ctx, received, lead_id, webhook_handler, token)
        system = OAuthEventData.from_dict(dict(received["pairs"]))
        check(system.is_system, "an outgoing webhook's event has no tokens")
        eq(system.auth.application_token, token, "OAuthEventData.auth.application_token")

        eq(app.event.unbind("ONCRMLEADADD", app_url).result, {"count": 1}, "event.unbind result")
    finally:
        if webhook_handler is not None:
            leadtrace("event", "remove", str(webhook_handler))
        rx.close()


# ---------------------------------------------------------------- fast_bitrix24


def fast_bitrix24_event_received(ctx):
    import aiohttp
    from fast_bitrix24 import Bitrix

    _, base = server_of(ctx)
    hook = Bitrix(ctx.webhook, verbose=False)
    rx = Receiver()
    app_url, hook_url = f"{rx.url}/app", f"{rx.url}/hook"
    access = mint_token()

    async def bound_token():
        return access

    # OAuth mode: the portal's /rest/ and a token function.
    app = Bitrix(f"{base}/rest/", token_func=bound_token, verbose=False)
    webhook_handler = None
    try:
        try:
            hook.call("event.bind", {"event": "ONCRMLEADADD", "handler": app_url}, raw=True)
        except aiohttp.ClientResponseError as exc:
            eq(exc.status, 403, "HTTP status of event.bind through a webhook")
        else:
            raise AssertionError("event.bind through a webhook must fail")

        eq(app.call("event.bind", {"event": "onCrmLeadAdd", "handler": app_url}, raw=True)["result"], True,
           "event.bind result")
        handlers = app.call("event.get", {}, raw=True)["result"]
        check(bound_handler(handlers, app_url), f"event.get lists the handler: {handlers!r}")
        webhook_handler, token = add_outgoing_webhook("ONCRMLEADUPDATE", hook_url)

        lead_id = hook.call("crm.lead.add", {"fields": {"TITLE": f"{ctx.marker} event"}})
        eq(hook.call("crm.lead.update", {"ID": lead_id, "fields": {"TITLE": f"{ctx.marker} event 2"}}), True,
           "update")

        received = rx.wait_for("/app", "ONCRMLEADADD", lead_id)
        fields = check_app_event(ctx, received, lead_id)

        async def event_token():
            return fields["auth[access_token]"]

        back = Bitrix(fields["auth[client_endpoint]"], token_func=event_token, verbose=False)
        lead = back.call("crm.lead.get", {"ID": lead_id}, raw=True)["result"]
        eq(lead["TITLE"], f"{ctx.marker} event 2", "crm.lead.get with the event's token")

        received = rx.wait_for("/hook", "ONCRMLEADUPDATE", lead_id)
        check_webhook_event(ctx, received, lead_id, webhook_handler, token)

        eq(app.call("event.unbind", {"event": "ONCRMLEADADD", "handler": app_url}, raw=True)["result"],
           {"count": 1}, "event.unbind result")
    finally:
        if webhook_handler is not None:
            leadtrace("event", "remove", str(webhook_handler))
        rx.close()


if __name__ == "__main__":
    suite = Suite("events")
    suite.case(b24pysdk_event_received)
    suite.case(fast_bitrix24_event_received)
    sys.exit(suite.main())
