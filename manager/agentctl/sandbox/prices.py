"""The Azure Retail Prices API (``GET /api/retail/prices``): public, no sign-in, OData ``$filter``.

Answers in the service's shape (``BillingCurrency``, ``Items``, ``NextPageLink``, ``Count``) with,
for each VM size the sandbox knows, the meters the real API lists for it: Linux and Windows
pay-as-you-go, Spot and Low Priority. The prices are illustrative, not Microsoft's.
"""

from __future__ import annotations

import re
from typing import Any

from agentctl.sandbox.http import Request, Response

PATH = "/api/retail/prices"
# Linux pay-as-you-go USD per hour in the world's regions (illustrative).
LINUX_HOURLY = {
    "Standard_D2s_v5": 0.096,
    "Standard_D4s_v5": 0.192,
    "Standard_D8s_v5": 0.384,
    "Standard_D2ads_v5": 0.103,
    "Standard_D4ads_v5": 0.206,
    "Standard_D8ads_v5": 0.412,
}
_CLAUSE = re.compile(r"(\w+)\s+eq\s+'([^']*)'", re.IGNORECASE)


def _meters(sku: str, region: str, linux: float) -> list[dict[str, Any]]:
    size = sku.removeprefix("Standard_").replace("_", " ")
    series = f"Virtual Machines {sku.split('_')[1].rstrip('0123456789').upper()} Series"
    base = {
        "currencyCode": "USD",
        "tierMinimumUnits": 0.0,
        "armRegionName": region,
        "location": region,
        "effectiveStartDate": "2026-01-01T00:00:00Z",
        "serviceName": "Virtual Machines",
        "serviceFamily": "Compute",
        "unitOfMeasure": "1 Hour",
        "type": "Consumption",
        "isPrimaryMeterRegion": True,
        "armSkuName": sku,
    }
    variants = [
        (series, size, linux),
        (series + " Windows", size, round(linux * 1.84, 3)),
        (series, size + " Spot", round(linux * 0.2, 4)),
        (series, size + " Low Priority", round(linux * 0.2, 4)),
    ]
    return [
        {
            **base,
            "retailPrice": price,
            "unitPrice": price,
            "productName": product,
            "skuName": name,
            "meterName": name,
        }
        for product, name, price in variants
    ]


def answer(req: Request) -> Response:
    """The prices that match the request's ``$filter`` (serviceName, armRegionName, armSkuName, priceType)."""
    clauses = {k.lower(): v for k, v in _CLAUSE.findall(req.arg("$filter") or "")}
    items = [
        meter
        for sku, linux in LINUX_HOURLY.items()
        for meter in _meters(sku, clauses.get("armregionname", "westeurope"), linux)
        if clauses.get("armskuname", sku).lower() == sku.lower()
        and clauses.get("servicename", "Virtual Machines") == "Virtual Machines"
        and clauses.get("pricetype", "Consumption") == "Consumption"
    ]
    body = {
        "BillingCurrency": "USD",
        "CustomerEntityId": "Default",
        "CustomerEntityType": "Retail",
        "Items": items,
        "NextPageLink": None,
        "Count": len(items),
    }
    return Response(200, body)
