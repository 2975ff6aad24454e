"""Grafana unified-alerting rules for the NOC and SOC, built from the schema like the panels.

One definition serves both outputs: `rules()` gives the API shape (`/api/v1/provisioning/
alert-rules`, used by push) and `provisioning_document()` the file-provisioning shape.
Grafana expands `$NAME` environment variables in alerting files only in some fields: labels and
contact-point settings yes, rule query models and annotations no (grafana/grafana#71007, #82774).
So `$timeFilter` in a query is safe, labels carry no `$`, and annotation
templates use `{{ .Labels.x }}` to stay safe either way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from nocsoc import schema
from nocsoc.dashboards.base import backbone_links, folder_title, folder_uid, localized_uid
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.i18n import Translator
from nocsoc.dashboards.influxql import Select, select
from nocsoc.dashboards.targets import DATASOURCE_TYPE
from nocsoc.inventory.model import Inventory

EXPR = "__expr__"
CONTACT_POINT = "nocsoc-default"
IFACE, OPT, D, A = schema.INTERFACE, schema.OPTICS, schema.DEVICE, schema.ALERT


@dataclass(frozen=True)
class RuleGroup:
    name: str
    folder: str  # a FOLDERS key
    interval: str
    rules: tuple[dict[str, Any], ...]


def _query(ref: str, ds_uid: str, query: str, seconds: int) -> dict[str, Any]:
    return {
        "refId": ref,
        "relativeTimeRange": {"from": seconds, "to": 0},
        "datasourceUid": ds_uid,
        "model": {
            "refId": ref,
            "datasource": {"type": DATASOURCE_TYPE, "uid": ds_uid},
            "query": query,
            "rawQuery": True,
            "resultFormat": "time_series",
            "intervalMs": 60000,
            "maxDataPoints": 43200,
        },
    }


def _expr(ref: str, model: dict[str, Any]) -> dict[str, Any]:
    return {
        "refId": ref,
        "relativeTimeRange": {"from": 0, "to": 0},
        "datasourceUid": EXPR,
        "model": {"refId": ref, "datasource": {"type": EXPR, "uid": EXPR}, **model},
    }


def _reduce(ref: str, of: str, reducer: str) -> dict[str, Any]:
    return _expr(
        ref, {"type": "reduce", "expression": of, "reducer": reducer, "settings": {"mode": "dropNN"}}
    )


def _threshold(ref: str, of: str, op: str, value: float) -> dict[str, Any]:
    return _expr(
        ref,
        {
            "type": "threshold",
            "expression": of,
            "conditions": [{"evaluator": {"type": op, "params": [value]}}],
        },
    )


def _reduce_compare(
    ds_uid: str, query: str, seconds: int, reducer: str, op: str, value: float
) -> list[dict[str, Any]]:
    """The usual rule body: query A over `seconds`, B = A reduced, C = B compared with `value`
    (the condition is "C")."""
    return [_query("A", ds_uid, query, seconds), _reduce("B", "A", reducer), _threshold("C", "B", op, value)]


def _rule(
    tr: Translator,
    uid: str,
    key: str,
    group: str,
    folder: str,
    data: list[dict[str, Any]],
    condition: str,
    for_: str,
    severity: str,
    team: str,
    no_data: str = "OK",
    locale: str = "en",
    threshold: float | None = None,
    subject: str = "",
) -> dict[str, Any]:
    """`threshold` is written into the summary as text, the measured value comes from Grafana's
    `$values` (the reduced query, refId B) when the alert fires; `subject` (a link name) goes
    into the title so per-link rules are told apart in the alert list."""
    title = tr(f"alert.{key}.title") + (f": {subject}" if subject else "")
    summary = tr(f"alert.{key}.summary")
    if threshold is not None:
        summary = summary.replace("{threshold}", f"{threshold:g}")
    return {
        "uid": localized_uid(uid, locale),
        "title": title,
        "ruleGroup": group,
        "folderUID": folder_uid(folder, locale),
        "condition": condition,
        "data": data,
        "noDataState": no_data,
        "execErrState": "Error",
        "for": for_,
        "annotations": {"summary": summary},
        "labels": {"severity": severity, "team": team, "source": "nocsoc"},
        "isPaused": False,
        "orgID": 1,
    }


def link_rule_uid(link: str) -> str:
    """Grafana rule uids are at most 40 characters: a link name can be longer, so its digest."""
    return "nocsoc-link-down-" + hashlib.sha1(link.encode()).hexdigest()[:10]


def rule_groups(cfg: DashboardsConfig, locale: str, inventory: Inventory | None = None) -> list[RuleGroup]:
    """The rule groups; with the inventory, one link-down rule per backbone link (so each link
    has its own state, silence and history), else one rule over every link-tagged interface."""
    tr, ds = Translator(locale), cfg.datasource_uid
    link_tags = (IFACE.t("link"), IFACE.t("device"), IFACE.t("ifname"))

    def link_down(link: str | None) -> Select:
        sel = select(IFACE).agg("last", IFACE.f("oper_status"), "status")
        sel = sel.eq(IFACE.t("link"), link) if link else sel.has(IFACE.t("link"))
        return sel.field_cmp(IFACE.f("admin_status"), "=", 1).by(*link_tags)

    links: list[str | None] = list(backbone_links(inventory)) or [None]
    util_in = select(IFACE).agg("mean", IFACE.f("in_util_pct"), "util").has(IFACE.t("link")).by(*link_tags)
    util_out = select(IFACE).agg("mean", IFACE.f("out_util_pct"), "util").has(IFACE.t("link")).by(*link_tags)
    optics = (
        select(OPT)
        .agg("last", OPT.f("rx_dbm"), "rx_dbm")
        .by(OPT.t("device"), OPT.t("ifname"), OPT.t("sensor"))
    )
    unreachable = select(D).agg("last", D.f("reachable"), "reachable").by(D.t("device"), D.t("site"))
    critical = (
        select(A)
        .agg("sum", A.f("count"), "alerts")
        .eq(A.t("level"), "critical")
        .eq(A.t("state"), "new")
        .by(A.t("rule_title"), A.t("host"))
    )
    pct = cfg.link_utilization_pct
    net, soc = "nocsoc-network", "nocsoc-soc"
    link_rules = tuple(
        _rule(
            tr,
            link_rule_uid(link) if link else "nocsoc-link-down",
            "link_down",
            net,
            "Network",
            _reduce_compare(ds, str(link_down(link)), 300, "last", "gt", 1),
            "C",
            "2m",
            "critical",
            "noc",
            locale=locale,
            subject=link or "",
        )
        for link in links
    )
    network_rules = (
        *link_rules,
        _rule(
            tr,
            "nocsoc-link-utilization",
            "link_util",
            net,
            "Network",
            [
                _query("A", ds, str(util_in), 300),
                _query("B", ds, str(util_out), 300),
                _reduce("C", "A", "mean"),
                _reduce("D", "B", "mean"),
                _expr("E", {"type": "math", "expression": f"$C > {pct:g} || $D > {pct:g}"}),
            ],
            "E",
            cfg.utilization_for,
            "warning",
            "noc",
            locale=locale,
            threshold=pct,
        ),
        _rule(
            tr,
            "nocsoc-optics-low",
            "optics_low",
            net,
            "Network",
            _reduce_compare(ds, str(optics), 600, "last", "lt", cfg.optics_rx_min_dbm),
            "C",
            "5m",
            "warning",
            "noc",
            locale=locale,
            threshold=cfg.optics_rx_min_dbm,
        ),
        _rule(
            tr,
            "nocsoc-device-unreachable",
            "device_unreachable",
            net,
            "Network",
            _reduce_compare(ds, str(unreachable), 300, "last", "lt", 1),
            "C",
            "3m",
            "critical",
            "noc",
            no_data="NoData",
            locale=locale,
        ),
    )
    soc_rules = (
        _rule(
            tr,
            "nocsoc-soc-critical",
            "soc_critical",
            soc,
            "SOC",
            _reduce_compare(ds, str(critical), 300, "sum", "gt", 0),
            "C",
            "0s",
            "critical",
            "soc",
            locale=locale,
        ),
    )
    return [RuleGroup(net, "Network", "1m", network_rules), RuleGroup(soc, "SOC", "1m", soc_rules)]


def rules(cfg: DashboardsConfig, locale: str, inventory: Inventory | None = None) -> list[dict[str, Any]]:
    """Every rule in the provisioning API's shape."""
    return [r for g in rule_groups(cfg, locale, inventory) for r in g.rules]


# The keys of a rule in a provisioning file; the API's rule adds its group and folder (there a
# file gives them once per group). `push` compares exactly the API's keys to decide an update.
RULE_FILE_KEYS = (
    "uid",
    "title",
    "condition",
    "data",
    "noDataState",
    "execErrState",
    "for",
    "annotations",
    "labels",
    "isPaused",
)
RULE_API_KEYS = (*RULE_FILE_KEYS, "ruleGroup", "folderUID")


def provisioning_document(
    cfg: DashboardsConfig, locale: str, inventory: Inventory | None = None
) -> dict[str, Any]:
    """provisioning/alerting/nocsoc.yaml: contact point placeholder, policy, rule groups."""
    return {
        "apiVersion": 1,
        "contactPoints": [
            {
                "orgId": 1,
                "name": CONTACT_POINT,
                "receivers": [
                    {
                        "uid": "nocsoc-webhook",
                        "type": "webhook",
                        "settings": {"url": f"${{{cfg.contact_webhook_env}}}"},
                        "disableResolveMessage": False,
                    }
                ],
            }
        ],
        "policies": [
            {
                "orgId": 1,
                "receiver": CONTACT_POINT,
                "group_by": ["grafana_folder", "alertname"],
                "group_wait": "30s",
                "group_interval": "5m",
                "repeat_interval": "4h",
            }
        ],
        "groups": [
            {
                "orgId": 1,
                "name": g.name,
                "folder": folder_title(g.folder, locale),
                "interval": g.interval,
                "rules": [{k: r[k] for k in RULE_FILE_KEYS} for r in g.rules],
            }
            for g in rule_groups(cfg, locale, inventory)
        ],
    }
