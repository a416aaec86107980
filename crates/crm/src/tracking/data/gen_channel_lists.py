#!/usr/bin/env python3
"""Regenerates channel_lists.json, the data table behind the GA4-style channel groups
(sales-intelligence.md §14).

Search-engine and social-network hosts come from Matomo's searchengine-and-social-list
(https://github.com/matomo-org/searchengine-and-social-list, public domain: Unlicense / CC0), which
the spec names as embeddable. Video and shopping lists, the aliases that utm_source values use and
the medium sets are ours. Snowplow's referers.yml (GPLv3) and Google's own lists are NOT used.

Usage: gen_channel_lists.py PATH_TO_MATOMO_CHECKOUT > channel_lists.json
"""
import json
import re
import sys

import yaml

# Matomo lists YouTube and other video sites as social networks; GA4's grouping treats them as
# video, which tells a video campaign apart from a social one.
SOCIAL_TO_VIDEO = {"YouTube", "Vimeo", "Twitcast", "Niconico", "bilibili", "Douyu", "Huya"}
# Search "engines" that are really a shopping or video vertical.
SEARCH_TO_SHOPPING = {"Google Shopping", "SmartShopping", "Toppreise.ch"}
SEARCH_TO_VIDEO = {"Google Video", "Nifty Videos", "So-net Videos", "Seznam Videa", "Yahoo! Japan Videos"}

VIDEO_HOSTS = ["twitch.tv", "dailymotion.com", "rutube.ru", "vkvideo.ru", "dzen.ru", "wistia.com",
               "ted.com", "vk.com/video", "kick.com", "odysee.com", "peertube.tv"]
SHOPPING_HOSTS = ["amazon.{}", "ebay.{}", "etsy.com", "aliexpress.com", "aliexpress.ru", "alibaba.com",
                  "walmart.com", "target.com", "bestbuy.com", "shopify.com", "shop.app", "ozon.ru",
                  "wildberries.ru", "market.yandex.ru", "avito.ru", "mercadolibre.{}", "rakuten.{}",
                  "allegro.pl", "zalando.{}", "otto.de", "bol.com", "flipkart.com", "temu.com",
                  "shein.com", "idealo.{}", "shopping.google.com", "pricerunner.{}", "kaspi.kz"]

# utm_source spellings people use that are not a host (compared case-insensitively).
SEARCH_ALIASES = ["google", "bing", "yandex", "yahoo", "baidu", "duckduckgo", "ecosia", "naver",
                  "seznam", "sogou", "qwant", "brave", "startpage", "mail.ru", "go.mail.ru",
                  "googleads", "google_ads", "google-ads", "adwords", "yandex_direct",
                  "yandexdirect", "yandex-direct", "direct.yandex", "bing_ads", "bingads",
                  "microsoft_ads", "chatgpt", "perplexity"]
SOCIAL_ALIASES = ["facebook", "fb", "meta", "ig", "instagram", "vk", "vkontakte", "vkads", "vk_ads",
                  "vk-ads", "mytarget", "ok", "odnoklassniki", "twitter", "tw", "x", "x.com",
                  "linkedin", "li", "lnkd", "tiktok", "telegram", "tg", "whatsapp", "wa", "pinterest",
                  "reddit", "threads", "snapchat", "discord", "wechat", "line", "viber", "tumblr",
                  "mastodon", "bluesky", "quora", "xing", "facebook_ads", "fb_ads", "meta_ads"]
VIDEO_ALIASES = ["youtube", "yt", "vimeo", "twitch", "dailymotion", "rutube", "vkvideo", "dzen"]
SHOPPING_ALIASES = ["amazon", "ebay", "etsy", "aliexpress", "alibaba", "walmart", "shopify", "ozon",
                    "wildberries", "avito", "yandex_market", "mercadolibre", "google_shopping",
                    "merchant_center", "temu", "shein", "idealo"]

MEDIUMS = {
    "display": ["display", "banner", "expandable", "interstitial", "cpm"],
    "social": ["social", "social-network", "social-media", "sm", "social network", "social media"],
    "email": ["email", "e-mail", "e_mail", "e mail"],
    "referral": ["referral", "app", "link"],
    "none": ["", "(none)", "(not set)"],
}
PATTERNS = {
    "paid_medium": "^(.*cp.*|ppc|retargeting|paid.*)$",
    "shopping_campaign": "^(.*(([^a-df-z]|^)shop|shopping).*)$",
    "video_medium": "^(.*video.*)$",
}


def hosts_of(urls):
    out = []
    for u in urls:
        u = str(u).strip().lower()
        # Entries with a path or an app scheme cannot be told apart by host alone.
        if not u or "/" in u or ":" in u or " " in u or "." not in u:
            continue
        out.append(u)
    return out


def name_of(key):
    """`Yahoo! Japan` -> `yahoojapan`: how the name is written as a utm_source."""
    return re.sub(r"[\s!'()%+,-]+", "", key.lower().replace("%2b", "plus"))


def covered(host, patterns):
    return any(host == p or host.endswith("." + p) for p in patterns)


def main():
    root = sys.argv[1]
    with open(f"{root}/SearchEngines.yml", encoding="utf-8") as f:
        engines = yaml.safe_load(f)
    with open(f"{root}/Socials.yml", encoding="utf-8") as f:
        socials = yaml.safe_load(f)

    groups = {g: {"names": set(), "hosts": set()} for g in ("search", "social", "video", "shopping")}
    for key, hosts in socials.items():
        group = "video" if key in SOCIAL_TO_VIDEO else "social"
        groups[group]["names"].add(name_of(key))
        groups[group]["hosts"].update(hosts_of(hosts))
    for key, configs in engines.items():
        group = "shopping" if key in SEARCH_TO_SHOPPING else "video" if key in SEARCH_TO_VIDEO else "search"
        for c in configs:
            groups[group]["hosts"].update(hosts_of(c.get("urls", [])))
        groups[group]["names"].add(name_of(key))
    for group, aliases, hosts in (("search", SEARCH_ALIASES, []), ("social", SOCIAL_ALIASES, []),
                                  ("video", VIDEO_ALIASES, VIDEO_HOSTS),
                                  ("shopping", SHOPPING_ALIASES, SHOPPING_HOSTS)):
        groups[group]["names"].update(aliases)
        groups[group]["hosts"].update(hosts_of(hosts))
    # A site in two lists (Facebook runs a search box) belongs to the more specific one: social,
    # video and shopping win over search, so `utm_source=facebook&utm_medium=cpc` is Paid Social.
    # Hosts match their subdomains too, so a host under another list's host goes as well.
    for loser, winners in (("search", ("social", "video", "shopping")), ("social", ("video",))):
        for other in winners:
            groups[loser]["names"] -= groups[other]["names"]
            groups[loser]["hosts"] = {h for h in groups[loser]["hosts"]
                                      if not covered(h, groups[other]["hosts"])}
    for g in groups.values():
        g["names"].discard("")

    out = {
        "about": "Channel-group lists for leadtrace (sales-intelligence.md §14). Search and social "
                 "hosts: Matomo searchengine-and-social-list (public domain); the rest: leadtrace. "
                 "Regenerate with gen_channel_lists.py.",
        "mediums": MEDIUMS,
        "patterns": PATTERNS,
    }
    for name, g in groups.items():
        out[name] = {"names": sorted(g["names"]), "hosts": sorted(g["hosts"])}
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
