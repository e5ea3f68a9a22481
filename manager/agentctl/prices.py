"""The hourly price of a VM size in a region, from the Azure Retail Prices API (public, no sign-in).

Only the pay-as-you-go Linux price is taken: Spot, Low Priority, Windows and reservation prices are
left out. Any failure is an answer too: ``Price(None, reason)``, so a report can say why it has no cost.
"""

from __future__ import annotations

import json
import logging
import ssl
import urllib.parse
import urllib.request
from dataclasses import dataclass

from agentctl.urls import odata_string

log = logging.getLogger(__name__)

API_VERSION = "2023-01-01-preview"
HOURS_PER_MONTH = 730  # the hours Azure's pricing pages use for a month
WEEKS_PER_MONTH = HOURS_PER_MONTH / 168


@dataclass(frozen=True)
class Price:
    hourly: float | None
    currency: str = "USD"
    reason: str = ""  # why there is no price


def query(sku: str, region: str) -> dict[str, str]:
    filt = (
        f"serviceName eq 'Virtual Machines' and armRegionName eq {odata_string(region)} "
        f"and armSkuName eq {odata_string(sku)} and priceType eq 'Consumption'"
    )
    return {"api-version": API_VERSION, "$filter": filt}


def pick(items: list[dict[str, object]]) -> float | None:
    """The Linux pay-as-you-go hourly price among a Retail Prices answer's items."""
    prices = [
        float(str(item["retailPrice"]))
        for item in items
        if item.get("type") == "Consumption"
        and item.get("unitOfMeasure") == "1 Hour"
        and "Windows" not in str(item.get("productName", ""))
        and not any(word in str(item.get("skuName", "")) for word in ("Spot", "Low Priority"))
    ]
    return min(prices) if prices else None


def hourly_price(sku: str, region: str, url: str, ca_bundle: str | None = None) -> Price:
    full = f"{url}?{urllib.parse.urlencode(query(sku, region))}"
    context = ssl.create_default_context(cafile=ca_bundle)
    try:
        with urllib.request.urlopen(full, context=context, timeout=10) as resp:
            doc = json.load(resp)
    except (OSError, ValueError) as e:
        log.debug("retail prices: %s", e)
        return Price(None, reason=f"the Azure Retail Prices API did not answer ({e})")
    items = doc.get("Items") if isinstance(doc, dict) else None
    price = pick(items) if isinstance(items, list) else None
    if price is None:
        return Price(None, reason=f"the Azure Retail Prices API lists no Linux price for {sku} in {region}")
    currency = str(items[0].get("currencyCode") or "USD") if items else "USD"
    return Price(price, currency)
