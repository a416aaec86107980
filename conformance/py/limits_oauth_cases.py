"""Limits and OAuth cases for the Python clients (b24pysdk, fast_bitrix24), through their own APIs.

Runs against a leadtrace server started for these cases (see conformance/LIMITS_OAUTH.md):

    leadtrace app create --name conformance --scope crm,user --redirect-uri https://app.example.com/cb
    leadtrace serve --tls --rate-limit 50/20 --access-token-ttl 5s ...

    python limits_oauth_cases.py --client b24pysdk|fast_bitrix24 \\
        --webhook https://127.0.0.1:PORT/rest/1/CODE/ --client-id local.X --client-secret S \\
        --rate 50/20 --access-ttl 5 --results out.json [--only burst_500 token_refresh]

Cases:
* burst_500 — 500 crm.lead.add calls fired as fast as each client goes (b24pysdk: back to back;
  fast_bitrix24: 500 coroutines, 5 at a time) against the server's leaky bucket. The server answers some of them 503
  QUERY_LIMIT_EXCEEDED; every call must still complete through the client's own retry logic, and
  afterwards exactly the 500 leads exist (none lost, none duplicated: a refused request is not run).
* token_refresh — the OAuth application's authorization-code flow (the user step scripted with the
  webhook's credentials), calls with the access token, expiry (the server runs with a short
  --access-token-ttl), the server's 401 expired_token, the client's refresh against our
  /oauth/token/, and more calls with the new token; app.info answers in application context.

Writes {"<client>/<case>": "pass"|"fail"} to --results after every case (like harness.py).
"""

import argparse
import asyncio
import json
import os
import secrets
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import requests

BURST = 500
FAST_BITRIX24_CONCURRENCY = int(os.environ.get("LT_FAST_BITRIX24_CONCURRENCY", "5"))
B24PYSDK_THREADS = int(os.environ.get("LT_B24PYSDK_THREADS", "1"))


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


class Ctx:
    def __init__(self, args, client, case):
        self.args = args
        self.client = client
        self.case = case
        self.webhook = args.webhook.rstrip("/") + "/"
        url = urlsplit(self.webhook)
        self.host = url.netloc
        self.base = f"{url.scheme}://{url.netloc}"
        parts = url.path.strip("/").split("/")
        self.user_id, self.webhook_code = parts[1], parts[2]
        self.marker = f"ct{secrets.token_hex(4)}-{client}-{case.replace('_', '-')}"
        burst, rate = args.rate.split("/")
        self.burst, self.rate = float(burst), float(rate)

    def authorization_code(self):
        """The user's step of the flow: /oauth/authorize/ with the webhook's credentials
        (aplogin = user id, ap = webhook code) answers 302 to the redirect URI with ?code=..."""
        state = secrets.token_hex(4)
        r = requests.get(
            f"{self.base}/oauth/authorize/",
            params={"client_id": self.args.client_id, "state": state,
                    "aplogin": self.user_id, "ap": self.webhook_code},
            allow_redirects=False,
            timeout=30,
        )
        eq(r.status_code, 302, f"/oauth/authorize/ status ({r.text[:300]})")
        query = parse_qs(urlsplit(r.headers["Location"]).query)
        eq(query["state"], [state], "state echoed in the redirect")
        eq(query["domain"], [self.host], "domain in the redirect")
        check(len(query["member_id"][0]) == 32, f"member_id: {query['member_id']}")
        return query["code"][0]

    def leads_with_marker(self):
        """Lead titles with this case's marker, read through the webhook (plain HTTP, paged)."""
        titles, start = [], 0
        while True:
            r = requests.post(
                f"{self.webhook}crm.lead.list",
                json={"filter": {"SOURCE_DESCRIPTION": self.marker}, "select": ["ID", "TITLE"],
                      "order": {"ID": "ASC"}, "start": start},
                timeout=30,
            )
            if r.status_code == 503:  # the bucket is shared with the case's own burst
                time.sleep(1)
                continue
            body = r.json()
            check("result" in body, f"crm.lead.list failed: {body}")
            titles += [lead["TITLE"] for lead in body["result"]]
            if "next" not in body:
                return titles
            start = body["next"]


def check_burst_result(ctx, results, refused):
    print(f"  {ctx.client}/{ctx.case}: {refused} answers were 503 and retried by the client", file=sys.stderr)
    check(refused > 0, "the server never answered 503: the burst did not reach the rate limit "
                       f"(is the server running with --rate-limit {ctx.args.rate}?)")
    ids = [int(r) for r in results]
    eq(len(set(ids)), BURST, "distinct ids returned by the adds")
    titles = ctx.leads_with_marker()
    eq(len(titles), BURST, f"leads stored (503 answers: {refused})")
    eq(sorted(titles), sorted(f"{ctx.marker} #{i}" for i in range(BURST)),
       "every add stored exactly once")


def lead_fields(ctx, i):
    return {"TITLE": f"{ctx.marker} #{i}", "SOURCE_DESCRIPTION": ctx.marker}


# ------------------------------------------------------------------------------------ b24pysdk

def b24pysdk_oauth_server(ctx):
    """b24pysdk hard-codes its OAuth server (https://oauth.bitrix24.tech) as class attributes of
    BitrixOAuthRequester; pointing it at leadtrace means overriding them (no public option)."""
    from b24pysdk.api.requesters import BitrixOAuthRequester
    BitrixOAuthRequester._OAUTH_TOKEN_URL = f"{ctx.base}/oauth/token/"


class Count503:
    """Counts HTTP 503 answers seen by `requests` (which b24pysdk uses) while active."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()
        self.original = requests.Session.send

    def __enter__(self):
        counter = self

        def send(session, request, **kwargs):
            response = counter.original(session, request, **kwargs)
            if response.status_code == 503:
                with counter.lock:
                    counter.count += 1
            return response

        requests.Session.send = send
        return self

    def __exit__(self, *exc):
        requests.Session.send = self.original


def b24pysdk_burst_500(ctx):
    from b24pysdk import BitrixWebhook, Client

    url = urlsplit(ctx.webhook)
    parts = url.path.strip("/").split("/")
    # Default retry policy: 3 attempts, sleeping 1 s then 2 s, on HTTP 503 only. b24pysdk has no
    # client-side limiter, so the calls go back to back from one thread, as fast as the server
    # answers: each time the bucket is full the SDK sleeps and retries. (With several threads the
    # ones not sleeping take every slot the bucket frees, and a thread can lose three times in a
    # row: the SDK then raises, which is its documented behaviour, not a server fault.)
    client = Client(BitrixWebhook(domain=url.netloc, webhook_token=f"{parts[1]}/{parts[2]}"), timeout=30)

    def add(i):
        return client.crm.lead.add(lead_fields(ctx, i)).result

    with Count503() as seen, ThreadPoolExecutor(max_workers=B24PYSDK_THREADS) as pool:
        results = list(pool.map(add, range(BURST)))
    check_burst_result(ctx, results, seen.count)


def b24pysdk_token_refresh(ctx):
    from b24pysdk import BitrixApp, BitrixToken, Client
    from b24pysdk.schemas.app import AppInfoApplication

    b24pysdk_oauth_server(ctx)
    app = BitrixApp(client_id=ctx.args.client_id, client_secret=ctx.args.client_secret)
    # The code exchange through the SDK itself (GET {oauth}/oauth/token/?grant_type=authorization_code...).
    oauth = app.get_oauth_token(ctx.authorization_code())
    eq(oauth.portal_domain, urlsplit(ctx.base).hostname, "portal host from client_endpoint")
    eq(oauth.oauth_token.expires_in, ctx.args.access_ttl, "expires_in (the server's --access-token-ttl)")
    eq(str(oauth.status), "L", "status")
    check(set(oauth.scope) == {"crm", "user"}, f"scope {oauth.scope}")

    # 1) Reactive refresh: the SDK does not know when the token expires, calls, gets 401
    #    expired_token from the server, refreshes against our /oauth/token/ and repeats once.
    token = BitrixToken(domain=ctx.host, auth_token=oauth.oauth_token.access_token,
                        refresh_token=oauth.oauth_token.refresh_token, bitrix_app=app)
    client = Client(token, timeout=30)
    first = client.crm.lead.add(lead_fields(ctx, 0)).result
    info = AppInfoApplication.from_bitrix(client.app.info().result)  # the SDK's own schema
    eq(info.code, ctx.args.client_id, "app.info CODE")
    eq(str(info.status), "L", "app.info STATUS")
    before = token.auth_token
    time.sleep(ctx.args.access_ttl + 1)
    second = client.crm.lead.add(lead_fields(ctx, 1)).result
    check(token.auth_token != before, "the SDK refreshed the access token after expired_token")
    check(token.refresh_token != oauth.oauth_token.refresh_token, "and stored the new refresh token")

    # 2) Proactive refresh: a token built from the OAuth answer knows its expiry and refreshes
    #    before calling once it has passed.
    fresh = app.get_oauth_token(ctx.authorization_code())
    token2 = BitrixToken.from_oauth(oauth=fresh, bitrix_app=app)
    token2.domain = ctx.host  # from_oauth takes the host without the port from client_endpoint
    client2 = Client(token2, timeout=30)
    client2.crm.lead.add(lead_fields(ctx, 2)).result  # requests are lazy: .result sends it
    before = token2.auth_token
    time.sleep(ctx.args.access_ttl + 1)
    client2.crm.lead.add(lead_fields(ctx, 3)).result
    check(token2.auth_token != before, "the SDK refreshed the expired token before calling")

    titles = sorted(ctx.leads_with_marker())
    eq(titles, [f"{ctx.marker} #{i}" for i in range(4)], "each add stored exactly once")
    check(second > first, "ids increase")


# ------------------------------------------------------------------------------------ fast_bitrix24

def fast_bitrix24_burst_500(ctx):
    from fast_bitrix24 import BitrixAsync
    from fast_bitrix24 import srh

    refused = {"count": 0}
    original_failure = srh.ServerRequestHandler.failure

    def failure(self, err):
        cause = err.__cause__
        if getattr(cause, "status", None) == 503:
            refused["count"] += 1
        return original_failure(self, err)

    # The client's own leaky bucket is set a quarter faster than the server's so that the server's
    # 503 answers (and the client's retry with auto-throttling) are exercised, not just avoided.
    # Five calls at a time: fast_bitrix24's bucket only spaces requests one after another, so a
    # wide fan-out overshoots the server many times over and its back-off then takes minutes.
    # operating_time_limit is raised out of the way: fast_bitrix24's operating-time window adds up
    # every answer's time.operating as if it were that call's own duration, but the figure is the
    # method's running total over ten minutes (docs), so after a few hundred calls to one method it
    # believes 480 s are used and sleeps for up to ten minutes (see LIMITS_OAUTH.md). Turning the
    # window off instead (respect_velocity_policy=False) makes it raise KeyError on every answer.
    b = BitrixAsync(ctx.webhook, request_pool_size=int(ctx.burst),
                    requests_per_second=ctx.rate * 1.25, operating_time_limit=10**9,
                    verbose=False, ssl=True)
    lanes = asyncio.Semaphore(FAST_BITRIX24_CONCURRENCY)

    async def add(i):
        async with lanes:
            return await b.call("crm.lead.add", {"fields": lead_fields(ctx, i)}, raw=True)

    async def burst():
        return await asyncio.gather(*(add(i) for i in range(BURST)))

    srh.ServerRequestHandler.failure = failure
    try:
        responses = asyncio.run(burst())
    finally:
        srh.ServerRequestHandler.failure = original_failure
    results = []
    for r in responses:
        check(isinstance(r, dict) and "result" in r, f"raw add answer: {r!r}")
        results.append(r["result"])
    check_burst_result(ctx, results, refused["count"])


def fast_bitrix24_token_refresh(ctx):
    from fast_bitrix24 import BitrixAsync

    # fast_bitrix24 leaves OAuth to the application: token_func is called for the first token and
    # again after any 401; ours talks to leadtrace's /oauth/token/ (code first, then refresh).
    calls = []
    tokens = {}

    async def token_func():
        if "refresh" not in tokens:
            params = {"grant_type": "authorization_code", "code": ctx.authorization_code()}
        else:
            params = {"grant_type": "refresh_token", "refresh_token": tokens["refresh"]}
        params |= {"client_id": ctx.args.client_id, "client_secret": ctx.args.client_secret}
        r = requests.post(f"{ctx.base}/oauth/token/", data=params, timeout=30)
        eq(r.status_code, 200, f"/oauth/token/ ({params['grant_type']}): {r.text[:300]}")
        answer = r.json()
        eq(answer["client_endpoint"], f"{ctx.base}/rest/", "client_endpoint")
        tokens["refresh"] = answer["refresh_token"]
        calls.append(params["grant_type"])
        return answer["access_token"]

    b = BitrixAsync(f"{ctx.base}/rest/", token_func=token_func, verbose=False,
                    request_pool_size=int(ctx.burst), requests_per_second=ctx.rate)

    async def flow():
        first = await b.call("crm.lead.add", {"fields": lead_fields(ctx, 0)}, raw=True)
        info = await b.call("app.info", {}, raw=True)
        eq(info["result"]["CODE"], ctx.args.client_id, "app.info CODE")
        eq(info["result"]["STATUS"], "L", "app.info STATUS")
        await asyncio.sleep(ctx.args.access_ttl + 1)
        second = await b.call("crm.lead.add", {"fields": lead_fields(ctx, 1)}, raw=True)
        # Through fast_bitrix24's batch path as well.
        third = await b.call("crm.lead.add", {"fields": lead_fields(ctx, 2)})
        return first, second, third

    first, second, third = asyncio.run(flow())
    eq(calls, ["authorization_code", "refresh_token"], "token_func calls")
    check(int(third) > int(second["result"]) > int(first["result"]), "ids increase")
    eq(sorted(ctx.leads_with_marker()), [f"{ctx.marker} #{i}" for i in range(3)],
       "each add stored exactly once")


CASES = {
    "b24pysdk": [("burst_500", b24pysdk_burst_500), ("token_refresh", b24pysdk_token_refresh)],
    "fast_bitrix24": [("burst_500", fast_bitrix24_burst_500),
                      ("token_refresh", fast_bitrix24_token_refresh)],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True, choices=sorted(CASES))
    ap.add_argument("--webhook", default=os.environ.get("LT_WEBHOOK"))
    ap.add_argument("--client-id", default=os.environ.get("LT_CLIENT_ID"))
    ap.add_argument("--client-secret", default=os.environ.get("LT_CLIENT_SECRET"))
    ap.add_argument("--rate", default=os.environ.get("LT_RATE", "50/20"),
                    help="the server's --rate-limit BURST/RATE")
    ap.add_argument("--access-ttl", type=int, default=int(os.environ.get("LT_ACCESS_TTL", "5")),
                    help="the server's --access-token-ttl, in seconds")
    ap.add_argument("--results", required=True)
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    if not (args.webhook and args.client_id and args.client_secret):
        ap.error("--webhook, --client-id and --client-secret (or LT_* variables) are required")

    results = {}
    for name, fn in CASES[args.client]:
        if args.only and name not in args.only:
            continue
        key = f"{args.client}/{name}"
        started = time.monotonic()
        try:
            fn(Ctx(args, args.client, name))
        except BaseException as exc:  # noqa: BLE001 - a case fails on anything
            if isinstance(exc, KeyboardInterrupt):
                raise
            results[key] = "fail"
            print(f"FAIL {key} ({time.monotonic() - started:.1f}s): {type(exc).__name__}: {exc}",
                  file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
        else:
            results[key] = "pass"
            print(f"pass {key} ({time.monotonic() - started:.1f}s)", file=sys.stderr)
        with open(args.results, "w") as fh:
            json.dump(results, fh, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
