#!/usr/bin/env python3
"""A faithful fake of the Azure Instance Metadata Service (IMDS) for aks-node-agent tests.

Serves the two IMDS APIs the agent uses, with the validation rules of the real service,
plus a JSON control API under /fake/ that tests use to script events and inject faults
(arch/FAULTS.md). Python 3 standard library only.

    python3 tests/fakes/fake_imds.py --port 0 --port-file /tmp/imds.port --vm-name aks-spot-1
    -> prints "LISTENING <port>" on stdout once the socket accepts connections.

IMDS API (the part that imitates Azure; see README.md "## fake_imds.py"):
    GET  /metadata/scheduledevents?api-version=2020-07-01
    POST /metadata/scheduledevents?api-version=2020-07-01   {"StartRequests":[{"EventId":"..."}]}
    GET  /metadata/instance[/<route filter>]?api-version=2021-02-01[&format=text]
    GET  /metadata/versions
  Every VM other than the default one is addressed with a /vm/<name> prefix; the agent's
  imds.endpoint is a base URL, so http://127.0.0.1:PORT/vm/<name> makes it talk to <name>.

Control API: /fake/... (default VM) and /vm/<name>/fake/... (VM <name>); JSON in and out.

Design notes (the why):
  * One lock guards all state. Requests are short; the only long waits (slow, hang, the
    first-call delay) wait *outside* the lock or on its condition variable, so a hung request
    never blocks others, and shutdown wakes every waiter.
  * Events live in one server-wide table. A VM sees an event when the event's Resources names
    it, or when the event was created through that VM's control API (or listed in DeliverTo).
    This mirrors Azure, where an availability-set event is delivered to every VM of the set
    while Resources may name only some of them -- which is exactly the case the agent must
    not act on.
  * DocumentIncarnation is per VM and derived from what that VM would see: whenever the
    rendered event list of a VM differs from the last one, its incarnation increases. Time
    driven transitions (NotBefore reached, Started event ending) are applied lazily at the
    start of every request, so there are no timer threads to race with.
  * Faults are consumed only by requests that pass IMDS validation, so a misbehaving client
    cannot burn the counts a test scripted.
"""

from __future__ import annotations

import argparse
import copy
import datetime as _dt
import email.utils
import hashlib
import http.server
import itertools
import json
import os
import re
import select
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from collections import deque
from typing import Any, Callable, Optional

from fake_process import serve

# --------------------------------------------------------------------------------------
# Facts about the real service
# --------------------------------------------------------------------------------------

# Scheduled Events versions (Microsoft Learn, "Version and region availability"). Fields were
# added over time; older versions omit them, which is how the real service answers too.
SCHEDULED_EVENTS_VERSIONS = [
    "2017-03-01", "2017-08-01", "2017-11-01", "2019-01-01", "2019-04-01", "2019-08-01", "2020-07-01",
]
EVENT_FIELD_SINCE = {"Description": "2019-04-01", "EventSource": "2019-08-01", "DurationInSeconds": "2020-07-01"}

# Instance metadata versions documented on Microsoft Learn ("Supported API versions").
INSTANCE_VERSIONS = [
    "2017-03-01", "2017-04-02", "2017-08-01", "2017-10-01", "2017-12-01", "2018-02-01", "2018-04-02",
    "2018-10-01", "2019-02-01", "2019-03-11", "2019-04-30", "2019-06-01", "2019-06-04", "2019-08-01",
    "2019-08-15", "2019-11-01", "2020-06-01", "2020-07-15", "2020-09-01", "2020-10-01", "2020-12-01",
    "2021-01-01", "2021-02-01", "2021-03-01", "2021-05-01", "2021-08-01", "2021-10-01", "2021-11-01",
    "2021-11-15", "2021-12-13",
]
# compute.* keys and the version that introduced them (Microsoft Learn schema breakdown).
COMPUTE_FIELD_SINCE = {
    "azEnvironment": "2018-10-01", "additionalCapabilities": "2021-11-01", "customData": "2019-02-01",
    "evictionPolicy": "2020-12-01", "extendedLocation": "2021-03-01", "host": "2021-11-15",
    "hostGroup": "2021-11-15", "isHostCompatibilityLayerVm": "2020-06-01", "licenseType": "2020-09-01",
    "osProfile": "2020-07-15", "placementGroupId": "2017-08-01", "plan": "2018-04-02",
    "platformSubFaultDomain": "2021-10-01", "priority": "2020-12-01", "provider": "2018-10-01",
    "publicKeys": "2018-04-02", "resourceGroupName": "2017-08-01", "resourceId": "2019-03-11",
    "securityProfile": "2020-06-01", "storageProfile": "2019-06-01", "subscriptionId": "2017-08-01",
    "tags": "2017-08-01", "tagsList": "2019-06-04", "userData": "2021-01-01",
    "virtualMachineScaleSet": "2021-03-01", "vmScaleSetName": "2017-12-01", "zone": "2017-12-01",
}

# The real service answers a missing/unknown api-version with the three newest versions.
NEWEST_VERSIONS = sorted(INSTANCE_VERSIONS, reverse=True)[:3]

# Error texts. The first two are quoted by Microsoft Learn; 404/405 follow the format the IMDS
# load-balancer troubleshooting page documents; the rest are plausible stand-ins.
ERR_NO_METADATA_HEADER = "Bad request. Required metadata header not specified"
ERR_NO_API_VERSION = "Bad request. api-version was not specified in the request. For more information refer to aka.ms/azureimds"
ERR_BAD_API_VERSION = "Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds"
ERR_FORWARDED = "Bad request. X-Forwarded-For header is not allowed"
ERR_DUPLICATE_PARAM = "Bad request. Duplicate query parameter"
ERR_TOO_MANY = "Too many requests"
STATUS_TEXT = {
    400: "Bad request", 404: "Not found", 405: "Method not allowed", 410: "Resource Gone",
    429: ERR_TOO_MANY, 500: "Internal Server Error", 503: "Service Unavailable",
}

# Minimum notice per event type (Microsoft Learn "Event scheduling"); used when a test adds an
# event without saying when it starts.
DEFAULT_NOTICE_S = {"Freeze": 900, "Reboot": 900, "Redeploy": 600, "Preempt": 30, "Terminate": 300}
# Description/EventSource/DurationInSeconds as Azure fills them: the Preempt values come from a
# real `az vm simulate-eviction` run, the others from Microsoft's scheduled-events mock server.
EVENT_TYPE_DEFAULTS = {
    "Preempt": ("", "Platform", -1),
    "Terminate": ("", "Platform", -1),
    "Freeze": ("Host server is undergoing maintenance.", "Platform", 9),
    "Reboot": ("Virtual machine is going to be restarted as requested by authorized user.", "User", -1),
    "Redeploy": ("Virtual machine has encountered a failure.", "Platform", -1),
}

MIN_EPOCH, MAX_EPOCH = -62135596800.0, 253402300799.0  # what a date can be formatted as
MAX_IMDS_BODY = 64 * 1024          # the real service refuses large bodies ("MaxBodyLength")
MAX_CONTROL_BODY = 16 * 1024 * 1024
JSON_CT = "application/json; charset=utf-8"

ENDPOINTS = ("scheduledevents", "instance", "acknowledge")
FAULT_MODES = (
    "status", "slow", "hang", "reset", "truncated", "malformed", "huge", "wrong_types",
    "missing_fields", "unknown_event_type", "bad_not_before", "empty_body", "html", "raw",
)
# For an acknowledgement, does the approval still take effect when this fault hits it?
# Errors and dropped connections: no (the request "did not arrive"); a bad *response* to a
# processed request: yes. Override per fault with "apply": true|false.
ACK_APPLIES_BY_MODE = {"status": False, "reset": False, "hang": False, "raw": False}


def _now() -> tuple[float, float]:
    return time.monotonic(), time.time()


def format_time(epoch: float, fmt: str) -> str:
    if fmt == "iso8601":
        # What Azure-Samples/scheduled-events-mock-server emits.
        return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return email.utils.formatdate(int(epoch), usegmt=True)  # RFC 1123, as documented


def parse_time(text: str) -> Optional[float]:
    """Epoch of an RFC 1123 or ISO 8601 string, None when unreadable (then no auto-start)."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=_dt.timezone.utc)
            return parsed.timestamp()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        parsed = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=_dt.timezone.utc)
        return parsed.timestamp()
    except ValueError:
        return None


def new_event_id() -> str:
    # Azure's spot eviction sample uses upper-case GUIDs; clients must compare case-sensitively
    # only what they got from the service, so upper case also catches accidental lower-casing.
    return str(uuid.uuid4()).upper()


def deep_merge(base: dict, patch: dict) -> dict:
    """Merge patch into base in place; a None value deletes the key."""
    for key, value in patch.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


class ApiError(Exception):
    """A control-API error answered as {"error": message}."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------------------
# Instance metadata document
# --------------------------------------------------------------------------------------

VMSS_NAME_RE = re.compile(r"^(?P<scaleset>.+)_(?P<index>\d+)$")
SUBSCRIPTION_ID = "8d10da13-8125-4ba9-a717-bf7490507b3d"
RESOURCE_GROUP = "MC_rg-e6data_aks-e6data_westeurope"


def _base36(number: int, width: int = 6) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
        if number == 0:
            break
    return out.rjust(width, "0")


def default_computer_name(vm_name: str) -> str:
    """osProfile.computerName as Azure derives it.

    A uniform scale-set instance is named `<scaleset>_<id>` in ARM (and in event Resources),
    while its computer name -- the Kubernetes node name on AKS -- is `<scaleset><id base 36,
    6 digits>`. Agents that compare node names with event Resources get this wrong.
    """
    match = VMSS_NAME_RE.match(vm_name)
    if match:
        return match.group("scaleset") + _base36(int(match.group("index")))
    return vm_name


def build_instance_document(vm_name: str, computer_name: Optional[str] = None, *, priority: str = "Spot",
                            vm_size: str = "Standard_D4ps_v5", location: str = "westeurope",
                            zone: str = "1") -> dict:
    """A realistic /metadata/instance document: every leaf a string, absent values ""."""
    computer_name = computer_name or default_computer_name(vm_name)
    digest = hashlib.sha256(vm_name.encode()).digest()
    match = VMSS_NAME_RE.match(vm_name)
    rg_prefix = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.Compute"
    if match:
        scaleset, index = match.group("scaleset"), match.group("index")
        resource_id = f"{rg_prefix}/virtualMachineScaleSets/{scaleset}/virtualMachines/{index}"
        placement_group = str(uuid.UUID(bytes=digest[16:32], version=4))
    else:
        scaleset, resource_id, placement_group = "", f"{rg_prefix}/virtualMachines/{vm_name}", ""
    tags = [
        ("aks-managed-cluster-name", "aks-e6data"),
        ("aks-managed-cluster-rg", "rg-e6data"),
        ("aks-managed-poolName", "spot" if priority == "Spot" else "system"),
        ("aks-managed-createOperationID", str(uuid.UUID(bytes=digest[:16], version=4))),
        ("aks-managed-kubeletIdentityClientID", "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"),
    ]
    if priority == "Spot":
        tags.append(("aks-managed-scalesetPriority", "spot"))
    compute = {
        "azEnvironment": "AzurePublicCloud",
        "additionalCapabilities": {"hibernationEnabled": "false"},
        "customData": "",
        "evictionPolicy": "Delete" if priority == "Spot" else "",
        "extendedLocation": {"type": "", "name": ""},
        "host": {"id": ""},
        "hostGroup": {"id": ""},
        "isHostCompatibilityLayerVm": "false",
        "licenseType": "",
        "location": location,
        "name": vm_name,
        "offer": "",
        "osProfile": {"adminUsername": "azureuser", "computerName": computer_name,
                      "disablePasswordAuthentication": "true"},
        "osType": "Linux",
        "placementGroupId": placement_group,
        "plan": {"name": "", "product": "", "publisher": ""},
        "platformFaultDomain": str(digest[0] % 3),
        "platformSubFaultDomain": "",
        "platformUpdateDomain": str(digest[1] % 5),
        "priority": priority,
        "provider": "Microsoft.Compute",
        "publicKeys": [{"keyData": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0fake azureuser",
                        "path": "/home/azureuser/.ssh/authorized_keys"}],
        "publisher": "",
        "resourceGroupName": RESOURCE_GROUP,
        "resourceId": resource_id,
        "securityProfile": {"secureBootEnabled": "false", "virtualTpmEnabled": "false",
                            "encryptionAtHost": "false", "securityType": ""},
        "sku": "",
        "storageProfile": {
            "dataDisks": [],
            "imageReference": {
                "id": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/AKS-Ubuntu/providers/Microsoft.Compute/"
                      "galleries/AKSUbuntu/images/2204gen2arm64containerd/versions/202411.12.0",
                "offer": "", "publisher": "", "sku": "", "version": "",
            },
            "osDisk": {
                "caching": "ReadOnly", "createOption": "FromImage", "diffDiskSettings": {"option": "Local"},
                "diskSizeGB": "128", "encryptionSettings": {"enabled": "false"}, "image": {"uri": ""},
                "managedDisk": {"id": "", "storageAccountType": "Standard_LRS"},
                "name": f"{vm_name}_OsDisk_1_{digest.hex()[:32]}", "osType": "Linux", "vhd": {"uri": ""},
                "writeAcceleratorEnabled": "false",
            },
            # Dpsv5 sizes have no temporary disk: the real service reports size "0" then.
            "resourceDisk": {"size": "0" if "ps_v" in vm_size and "pds" not in vm_size else "153600"},
        },
        "subscriptionId": SUBSCRIPTION_ID,
        "tags": ";".join(f"{k}:{v}" for k, v in tags),
        "tagsList": [{"name": k, "value": v} for k, v in tags],
        "userData": "",
        "version": "",
        "virtualMachineScaleSet": {"id": ""},
        "vmId": str(uuid.uuid5(uuid.NAMESPACE_DNS, vm_name + ".vm.azure.fake")),
        "vmScaleSetName": scaleset,
        "vmSize": vm_size,
        "zone": zone,
    }
    host_octet = 4 + digest[2] % 250
    network = {"interface": [{
        "ipv4": {"ipAddress": [{"privateIpAddress": f"10.224.{digest[3]}.{host_octet}", "publicIpAddress": ""}],
                 "subnet": [{"address": "10.224.0.0", "prefix": "16"}]},
        "ipv6": {"ipAddress": []},
        "macAddress": "000D3A" + digest[4:7].hex().upper(),
    }]}
    return {"compute": compute, "network": network}


# --------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------

def _validate_settings(body: dict) -> None:
    """Reject values that would break every later request (e.g. a string rate limit)."""
    def number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    checks = {
        "timeFormat": (lambda v: v in ("rfc1123", "iso8601"), "rfc1123 or iso8601"),
        "rateLimitPerSecond": (lambda v: number(v) and v >= 0, "a number >= 0 (0 = off)"),
        "endAfterMs": (number, "a number (-1 = never)"),
        "autoStartAtNotBefore": (lambda v: isinstance(v, bool), "true or false"),
        "firstCallDelayMs": (lambda v: number(v) and v >= 0, "a number >= 0"),
        "requestLogSize": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "an integer >= 1"),
    }
    unknown = set(body) - set(checks)
    if unknown:
        raise ApiError(400, f"unknown settings {sorted(unknown)}; known: {sorted(checks)}")
    for key, value in body.items():
        ok, expected = checks[key]
        if not ok(value):
            raise ApiError(400, f"{key} must be {expected}")


DEFAULT_SETTINGS = {
    "timeFormat": "rfc1123",         # rfc1123 | iso8601: how NotBefore is written
    "rateLimitPerSecond": 5,         # 0 disables the 429 limit
    "endAfterMs": 3000,              # a Started event disappears this long after it started; -1 never
    "autoStartAtNotBefore": True,    # Azure starts a Scheduled event by itself once NotBefore passes
    "firstCallDelayMs": 0,           # Azure: "expect a delayed response in your first call of up to two minutes"
                                     # (until one slow answer reached its client, every call is a first call)
    "requestLogSize": 20000,         # entries kept per VM (bounded for the 100-agent fleet benchmark)
}


class Event:
    _seq = itertools.count(1)

    def __init__(self, owner: str, spec: dict, now_mono: float, now_wall: float):
        self.seq = next(Event._seq)
        self.owner = owner
        self.created_mono, self.created_wall = now_mono, now_wall
        self.id = str(spec.get("EventId") or new_event_id())
        self.type = spec.get("EventType", "Preempt")
        desc, source, duration = EVENT_TYPE_DEFAULTS.get(self.type, ("", "Platform", -1))
        self.description = spec.get("Description", desc)
        self.source = spec.get("EventSource", source)
        self.duration = spec.get("DurationInSeconds", duration)
        self.resources = copy.deepcopy(spec.get("Resources", [owner]))
        if not isinstance(spec.get("DeliverTo", []), list):
            raise ValueError("DeliverTo must be a list of VM names")
        self.deliver_to = set(spec.get("DeliverTo", [])) | {owner}
        self.time_format = spec.get("TimeFormat")
        self.end_after_ms = spec.get("EndAfterMs")
        self.auto_start = spec.get("AutoStart")
        self.raw = copy.deepcopy(spec.get("Raw", {}))
        self.status = "Scheduled"
        self.started_mono: Optional[float] = None
        self.started_by: Optional[str] = None
        self.not_before_epoch: Optional[float] = None
        self.not_before_raw: Optional[str] = None
        self.set_not_before(spec, now_wall, default=True)
        status = spec.get("EventStatus", "Scheduled")
        if status == "Started":
            self.start(now_mono, "created")
        else:
            self.status = status

    def set_not_before(self, spec: dict, now_wall: float, default: bool = False) -> None:
        if "NotBeforeIn" in spec:
            epoch = now_wall + float(spec["NotBeforeIn"])
            if not MIN_EPOCH < epoch < MAX_EPOCH:
                raise ValueError("NotBeforeIn puts NotBefore outside years 1-9999")
            self.not_before_epoch = epoch
            self.not_before_raw = None
        elif "NotBefore" in spec:
            # Kept verbatim, garbage included; parsed only to know when to auto-start.
            self.not_before_raw = spec["NotBefore"]
            self.not_before_epoch = parse_time(spec["NotBefore"]) if isinstance(spec["NotBefore"], str) else None
        elif default:
            self.not_before_epoch = now_wall + DEFAULT_NOTICE_S.get(self.type, 300)

    def start(self, now_mono: float, by: str) -> None:
        if self.status != "Started":
            self.status = "Started"
            self.started_mono = now_mono
            self.started_by = by

    def visible_to(self, vm_name: str) -> bool:
        if vm_name in self.deliver_to:
            return True
        return isinstance(self.resources, list) and vm_name in self.resources

    def render(self, time_format: str, api_version: Optional[str] = None) -> dict:
        if self.status == "Started":
            not_before = ""  # documented: blank once the event has started
        elif self.not_before_raw is not None:
            not_before = self.not_before_raw
        elif self.not_before_epoch is not None:
            not_before = format_time(self.not_before_epoch, self.time_format or time_format)
        else:
            not_before = ""
        doc = {
            "EventId": self.id, "EventStatus": self.status, "EventType": self.type,
            "ResourceType": "VirtualMachine", "Resources": copy.deepcopy(self.resources),
            "NotBefore": not_before, "Description": self.description, "EventSource": self.source,
            "DurationInSeconds": self.duration,
        }
        if api_version:
            for field, since in EVENT_FIELD_SINCE.items():
                if api_version < since:
                    doc.pop(field, None)
        doc.update(copy.deepcopy(self.raw))
        return doc

    def describe(self, time_format: str, now_mono: float) -> dict:
        """The control-API view: the IMDS rendering plus the fake's bookkeeping."""
        return {
            "owner": self.owner,
            "deliverTo": sorted(self.deliver_to),
            "notBeforeEpoch": self.not_before_epoch,
            "startedBy": self.started_by,
            "startedAgoMs": None if self.started_mono is None else int((now_mono - self.started_mono) * 1000),
            "endAfterMs": self.end_after_ms,
            "autoStart": self.auto_start,
            **self.render(time_format),
        }


class Fault:
    _ids = itertools.count(1)

    def __init__(self, spec: dict, scope: str):
        endpoint = spec.get("endpoint", "all")
        mode = spec.get("mode")
        if endpoint not in ENDPOINTS + ("all",):
            raise ApiError(400, f"endpoint must be one of {list(ENDPOINTS) + ['all']}")
        if mode not in FAULT_MODES:
            raise ApiError(400, f"mode must be one of {list(FAULT_MODES)}")
        count = spec.get("count", -1)
        if not isinstance(count, int) or isinstance(count, bool) or count < -1:
            raise ApiError(400, "count must be an integer >= -1 (-1 = until cleared)")
        if mode == "status" and not isinstance(spec.get("status", 500), int):
            raise ApiError(400, "status must be an integer")
        self.id = f"f{next(Fault._ids)}"
        self.endpoint, self.mode, self.count, self.remaining = endpoint, mode, count, count
        self.params = {k: v for k, v in spec.items() if k not in ("endpoint", "mode", "count")}
        self.scope = scope
        self.hits = 0
        self.cleared = False

    def matches(self, endpoint: str) -> bool:
        return not self.cleared and self.remaining != 0 and self.endpoint in (endpoint, "all")

    def take(self) -> None:
        if self.remaining > 0:
            self.remaining -= 1
        self.hits += 1

    def describe(self) -> dict:
        return {"id": self.id, "endpoint": self.endpoint, "mode": self.mode, "count": self.count,
                "remaining": self.remaining, "hits": self.hits, "scope": self.scope, **self.params}


class Vm:
    def __init__(self, name: str, settings: dict, instance: dict):
        self.name = name
        self.settings = copy.deepcopy(settings)
        self.instance = instance
        self.incarnation = 1
        self.last_signature: Optional[str] = None
        self.faults: list[Fault] = []
        self.requests: deque = deque(maxlen=max(1, int(self.settings["requestLogSize"])))
        self.acks: list[dict] = []
        self.rate_window: deque = deque()
        # Scheduled Events is enabled by the first call, which answers only after
        # firstCallDelayMs, and only once that slow answer reached a client still waiting for
        # it: a client that gives up first leaves the service disabled, and its next call is a
        # slow first call again (a client with a short timeout never gets past it).
        self.service_enabled = False
        self.stats = {"requests": 0, "byEndpoint": {}, "rateLimited": 0, "faultsInjected": {},
                      "acks": 0, "firstRequestWall": None, "lastRequestWall": None,
                      "serviceEnabled": False, "firstCallsAbandoned": 0}

    def count(self, endpoint: str, status: Any) -> None:
        per = self.stats["byEndpoint"].setdefault(endpoint, {})
        per[str(status)] = per.get(str(status), 0) + 1


class FakeImdsState:
    """All mutable state of the fake, shared by the handler threads."""

    def __init__(self, default_vm: str = "aks-spot-1", computer_name: Optional[str] = None,
                 settings: Optional[dict] = None, instance_kwargs: Optional[dict] = None):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.stopping = threading.Event()
        self.default_vm_name = default_vm
        self.default_computer_name = computer_name
        # Pristine copy: /fake/reset returns to the command-line settings even after
        # PUT /fake/settings {"applyToAllVms": true} changed the defaults for new VMs.
        self.initial_defaults = dict(DEFAULT_SETTINGS, **(settings or {}))
        self.defaults = dict(self.initial_defaults)
        self.instance_kwargs = instance_kwargs or {}
        self.started_wall = time.time()
        self.reset_all()

    # ---- VMs -------------------------------------------------------------------------

    def reset_all(self) -> None:
        with self.lock:
            for fault in self._all_faults():
                fault.cleared = True
            self.defaults = dict(self.initial_defaults)
            self.vms: dict[str, Vm] = {}
            self.events: dict[str, Event] = {}
            self.server_faults: list[Fault] = []
            self.vm(self.default_vm_name, computer_name=self.default_computer_name)
            self.cond.notify_all()

    def _all_faults(self) -> list[Fault]:
        faults = list(getattr(self, "server_faults", []))
        for vm in getattr(self, "vms", {}).values():
            faults.extend(vm.faults)
        return faults

    def vm(self, name: str, *, create: bool = True, computer_name: Optional[str] = None) -> Vm:
        """The VM called name; VMs spring into existence on first use (the fleet needs 100)."""
        with self.lock:
            found = self.vms.get(name)
            if found is None:
                if not create:
                    raise ApiError(404, f"no VM named {name!r}")
                instance = build_instance_document(name, computer_name, **self.instance_kwargs)
                found = Vm(name, self.defaults, instance)
                self.vms[name] = found
                self._refresh_incarnation(found)
            return found

    def reset_vm(self, vm: Vm) -> None:
        with self.lock:
            for fault in vm.faults:
                fault.cleared = True
            for event_id in [e.id for e in self.events.values() if e.owner == vm.name]:
                del self.events[event_id]
            computer = self.default_computer_name if vm.name == self.default_vm_name else None
            self.vms[vm.name] = Vm(vm.name, self.defaults, build_instance_document(vm.name, computer, **self.instance_kwargs))
            self.refresh_all()
            self.cond.notify_all()

    # ---- events and incarnations -------------------------------------------------------

    def visible_events(self, vm: Vm) -> list[Event]:
        return sorted((e for e in self.events.values() if e.visible_to(vm.name)), key=lambda e: e.seq)

    def _refresh_incarnation(self, vm: Vm) -> None:
        view = [e.render(vm.settings["timeFormat"]) for e in self.visible_events(vm)]
        signature = json.dumps(view, sort_keys=True)
        if vm.last_signature is not None and signature != vm.last_signature:
            vm.incarnation += 1
        vm.last_signature = signature

    def refresh_all(self) -> None:
        for vm in self.vms.values():
            self._refresh_incarnation(vm)

    def _setting_for(self, event: Event, key: str, explicit: Any) -> Any:
        if explicit is not None:
            return explicit
        owner = self.vms.get(event.owner)
        return (owner.settings if owner else self.defaults)[key]

    def advance(self) -> None:
        """Apply time-driven transitions: NotBefore reached -> Started; Started long enough -> gone."""
        now_mono, now_wall = _now()
        with self.lock:
            changed = False
            for event in list(self.events.values()):
                if (event.status == "Scheduled" and event.not_before_epoch is not None
                        and now_wall >= event.not_before_epoch
                        and self._setting_for(event, "autoStartAtNotBefore", event.auto_start)):
                    event.start(now_mono, "NotBefore")
                    changed = True
                if event.status == "Started" and event.started_mono is not None:
                    end_ms = self._setting_for(event, "endAfterMs", event.end_after_ms)
                    if end_ms is not None and end_ms >= 0 and (now_mono - event.started_mono) * 1000 >= end_ms:
                        del self.events[event.id]
                        changed = True
            if changed:
                self.refresh_all()

    def scheduled_events_doc(self, vm: Vm, api_version: Optional[str]) -> dict:
        with self.lock:
            self._refresh_incarnation(vm)
            return {"DocumentIncarnation": vm.incarnation,
                    "Events": [e.render(vm.settings["timeFormat"], api_version) for e in self.visible_events(vm)]}

    def add_event(self, vm: Vm, spec: dict) -> Event:
        if not isinstance(spec, dict):
            raise ApiError(400, "event must be a JSON object")
        now_mono, now_wall = _now()
        with self.lock:
            try:
                event = Event(vm.name, spec, now_mono, now_wall)
            except (TypeError, ValueError) as exc:
                raise ApiError(400, f"bad event: {exc}") from None
            if event.id in self.events:
                raise ApiError(409, f"event {event.id} exists")
            self.events[event.id] = event
            self.refresh_all()
            return event

    def event(self, vm: Vm, event_id: str) -> Event:
        found = self.events.get(event_id)
        if found is None or not found.visible_to(vm.name):
            raise ApiError(404, f"no event {event_id!r} visible to VM {vm.name!r}")
        return found

    def update_event(self, vm: Vm, event_id: str, spec: dict) -> Event:
        try:
            return self._update_event(vm, event_id, spec)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, f"bad event update: {exc}") from None

    def _update_event(self, vm: Vm, event_id: str, spec: dict) -> Event:
        now_mono, now_wall = _now()
        with self.lock:
            event = self.event(vm, event_id)
            simple = {"EventType": "type", "Description": "description", "EventSource": "source",
                      "DurationInSeconds": "duration", "TimeFormat": "time_format",
                      "EndAfterMs": "end_after_ms", "AutoStart": "auto_start"}
            for key, attr in simple.items():
                if key in spec:
                    setattr(event, attr, spec[key])
            if "Resources" in spec:
                event.resources = copy.deepcopy(spec["Resources"])
            if "DeliverTo" in spec:
                if not isinstance(spec["DeliverTo"], list):
                    raise ValueError("DeliverTo must be a list of VM names")
                event.deliver_to = set(spec["DeliverTo"]) | {event.owner}
            if "Raw" in spec:
                event.raw = copy.deepcopy(spec["Raw"])
            event.set_not_before(spec, now_wall)
            if "EventStatus" in spec:
                if spec["EventStatus"] == "Started":
                    event.start(now_mono, "control")
                else:
                    event.status, event.started_mono, event.started_by = spec["EventStatus"], None, None
            self.refresh_all()
            return event

    def replace_event(self, vm: Vm, event_id: str, new_id: Optional[str]) -> Event:
        with self.lock:
            event = self.event(vm, event_id)
            new_id = str(new_id or new_event_id())
            if new_id in self.events:
                raise ApiError(409, f"event {new_id} exists")
            del self.events[event.id]
            event.id = new_id
            self.events[new_id] = event
            self.refresh_all()
            return event

    def delete_event(self, vm: Vm, event_id: Optional[str]) -> int:
        with self.lock:
            if event_id is None:
                doomed = [e.id for e in self.visible_events(vm)]
            else:
                doomed = [self.event(vm, event_id).id]
            for eid in doomed:
                del self.events[eid]
            self.refresh_all()
            return len(doomed)

    def acknowledge(self, vm: Vm, body: bytes, apply: bool, fault: Optional[str] = None,
                    reported_status: Any = None) -> tuple[int, Optional[str]]:
        """Handle POST StartRequests; returns (status, error message or None).

        Every StartRequests received is recorded in the VM's ack log, including ones a fault
        swallowed (apply=False, reported_status = what the client got), so tests can see retries.
        """
        now_mono, now_wall = _now()
        record = {"t_mono": now_mono, "t_wall": now_wall, "vm": vm.name, "body": body.decode("utf-8", "replace"),
                  "StartRequests": None, "eventIds": [], "applied": False, "status": None, "fault": fault}
        status, message, ids = 200, None, []
        try:
            parsed = json.loads(body.decode("utf-8"))
            requests = parsed["StartRequests"] if isinstance(parsed, dict) else None
            if not isinstance(requests, list) or not requests:
                raise ValueError("StartRequests must be a non-empty list")
            for item in requests:
                if not isinstance(item, dict) or not isinstance(item.get("EventId"), str):
                    raise ValueError("each StartRequest needs a string EventId")
                ids.append(item["EventId"])
            record["StartRequests"], record["eventIds"] = requests, ids
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            status = 400
            message = ("Bad request. " + str(exc)) if "StartRequest" in str(exc) \
                else "Bad request. Request body is not a valid StartRequests document"
        with self.lock:
            vm.acks.append(record)
            vm.stats["acks"] += 1
            if status == 200:
                unknown = [i for i in ids if i not in self.events or not self.events[i].visible_to(vm.name)]
                if unknown:
                    status, message = 400, f"Bad request. Unknown EventId {unknown[0]}"
            if status == 200 and apply:
                for eid in ids:
                    # Approving lets the event proceed for every VM in Resources: one shared event.
                    self.events[eid].start(now_mono, f"ack:{vm.name}")
                record["applied"] = True
                self.refresh_all()
            record["status"] = reported_status if reported_status is not None else status
            return status, message

    # ---- faults ------------------------------------------------------------------------

    def add_fault(self, vm: Vm, spec: dict) -> Fault:
        if not isinstance(spec, dict):
            raise ApiError(400, "fault must be a JSON object")
        scope = spec.pop("scope", "vm")
        if scope not in ("vm", "server"):
            raise ApiError(400, "scope must be vm or server")
        fault = Fault(spec, scope)
        with self.lock:
            (self.server_faults if scope == "server" else vm.faults).append(fault)
        return fault

    def clear_faults(self, vm: Vm, fault_id: Optional[str] = None) -> int:
        with self.lock:
            pools = [vm.faults, self.server_faults]
            n = 0
            for pool in pools:
                for fault in list(pool):
                    if fault_id is None and pool is self.server_faults and vm.name != self.default_vm_name:
                        continue  # /vm/X/fake/fault clears X's faults only
                    if fault_id is None or fault.id == fault_id:
                        fault.cleared = True
                        pool.remove(fault)
                        n += 1
            self.cond.notify_all()  # wake hung requests
            return n

    def take_fault(self, vm: Vm, endpoint: str) -> Optional[Fault]:
        with self.lock:
            for fault in itertools.chain(vm.faults, self.server_faults):
                if fault.matches(endpoint):
                    fault.take()
                    vm.stats["faultsInjected"][fault.mode] = vm.stats["faultsInjected"].get(fault.mode, 0) + 1
                    return fault
            return None

    # ---- rate limit --------------------------------------------------------------------

    def rate_limited(self, vm: Vm, now_mono: float) -> bool:
        """Sliding one-second window of answered requests; IMDS allows 5 per second per VM."""
        with self.lock:
            limit = vm.settings.get("rateLimitPerSecond") or 0
            window = vm.rate_window
            while window and now_mono - window[0] >= 1.0:
                window.popleft()
            if limit > 0 and len(window) >= limit:
                vm.stats["rateLimited"] += 1
                return True
            window.append(now_mono)
            return False


# --------------------------------------------------------------------------------------
# Fault payloads
# --------------------------------------------------------------------------------------

def synthetic_event(vm: Vm, fault: Fault) -> dict:
    """An event for this VM, so content faults bite even when no event is pending."""
    return {
        "EventId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-imds/{fault.id}")).upper(),
        "EventStatus": "Scheduled", "EventType": "Preempt", "ResourceType": "VirtualMachine",
        "Resources": [vm.name], "NotBefore": format_time(time.time() + 30, vm.settings["timeFormat"]),
        "Description": "", "EventSource": "Platform", "DurationInSeconds": -1,
    }


def _events_or_synthetic(doc: dict, vm: Vm, fault: Fault) -> list:
    if not doc.get("Events"):
        doc["Events"] = [synthetic_event(vm, fault)]
    return doc["Events"]


def _wrong_types_events(doc: dict, vm: Vm, fault: Fault) -> Any:
    variant = fault.params.get("variant", "mixed")
    events = _events_or_synthetic(doc, vm, fault)
    if variant == "mixed":
        doc["DocumentIncarnation"] = str(doc["DocumentIncarnation"])
        for i, ev in enumerate(events):
            ev["EventId"] = 12345 + i
            # A string still *contains* the VM name: a sloppy substring check would match.
            ev["Resources"] = ",".join(ev["Resources"]) if isinstance(ev["Resources"], list) else str(ev["Resources"])
            ev["NotBefore"] = int(time.time()) + 30
            ev["DurationInSeconds"] = str(ev.get("DurationInSeconds", -1))
            ev["EventStatus"] = 1
        return doc
    variants: dict[str, Callable[[], Any]] = {
        "incarnation_string": lambda: doc.update(DocumentIncarnation=str(doc["DocumentIncarnation"])),
        "incarnation_float": lambda: doc.update(DocumentIncarnation=doc["DocumentIncarnation"] + 0.5),
        "incarnation_huge": lambda: doc.update(DocumentIncarnation=2 ** 70),
        "incarnation_negative": lambda: doc.update(DocumentIncarnation=-1),
        "events_object": lambda: doc.update(Events={str(i): e for i, e in enumerate(events)}),
        "events_null": lambda: doc.update(Events=None),
        "events_string": lambda: doc.update(Events="[]"),
        "event_scalars": lambda: doc.update(Events=[None, 5, "Preempt", [], *events]),
        "resources_string": lambda: [e.update(Resources=",".join(e["Resources"])) for e in events],
        "resources_null": lambda: [e.update(Resources=None) for e in events],
        "resources_numbers": lambda: [e.update(Resources=[1, 2, None]) for e in events],
        "eventid_number": lambda: [e.update(EventId=12345) for e in events],
        "eventtype_number": lambda: [e.update(EventType=3) for e in events],
        "notbefore_number": lambda: [e.update(NotBefore=int(time.time()) + 30) for e in events],
        "duration_string": lambda: [e.update(DurationInSeconds="-1") for e in events],
    }
    if variant == "document_array":
        return [doc]
    if variant not in variants:
        raise ApiError(400, f"unknown wrong_types variant {variant!r}")
    variants[variant]()
    return doc


def _wrong_types_instance(doc: dict, fault: Fault) -> Any:
    variant = fault.params.get("variant", "mixed")
    if variant == "document_array":
        return [doc]
    if variant == "compute_array":
        doc["compute"] = []
        return doc
    compute = doc["compute"]
    compute["name"] = 42
    compute["osProfile"] = "computerName"
    compute["priority"] = True
    compute["vmScaleSetName"] = None
    doc["network"] = []
    return doc


def _drop(obj: Any, dotted: str) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        obj = obj.get(part) if isinstance(obj, dict) else None
        if obj is None:
            return
    if isinstance(obj, dict):
        obj.pop(parts[-1], None)


def transform_content(endpoint: str, doc: Any, vm: Vm, fault: Fault) -> Any:
    """Apply a content fault (wrong_types, missing_fields, ...) to a parsed response."""
    mode = fault.mode
    if endpoint == "scheduledevents":
        if mode == "wrong_types":
            return _wrong_types_events(doc, vm, fault)
        if mode == "missing_fields":
            fields = fault.params.get("fields", ["DocumentIncarnation", "NotBefore", "Description",
                                                 "EventSource", "DurationInSeconds", "ResourceType"])
            events = _events_or_synthetic(doc, vm, fault)
            for field in fields:
                if field in ("DocumentIncarnation", "Events"):
                    doc.pop(field, None)
                else:
                    for ev in events:
                        ev.pop(field, None)
            return doc
        if mode == "unknown_event_type":
            for ev in _events_or_synthetic(doc, vm, fault):
                ev["EventType"] = fault.params.get("eventType", "Hibernate")
            return doc
        if mode == "bad_not_before":
            for ev in _events_or_synthetic(doc, vm, fault):
                ev["EventStatus"] = "Scheduled"
                ev["NotBefore"] = fault.params.get("notBefore", "soon")
            return doc
    elif endpoint == "instance" and isinstance(doc, dict) and "compute" in doc:
        if mode == "wrong_types":
            return _wrong_types_instance(doc, fault)
        if mode == "missing_fields":
            for field in fault.params.get("fields", ["compute.name", "compute.osProfile", "compute.priority",
                                                     "compute.vmScaleSetName"]):
                _drop(doc, field)
            return doc
    return doc  # this mode means nothing for this endpoint: answer normally


def huge_body(endpoint: str, doc: Any, vm: Vm, size: int) -> bytes:
    """Valid JSON of at least size bytes that looks like the endpoint's document."""
    if endpoint == "scheduledevents" and isinstance(doc, dict):
        doc = copy.deepcopy(doc)
        filler = {"EventId": new_event_id(), "EventStatus": "Scheduled", "EventType": "Freeze",
                  "ResourceType": "VirtualMachine", "Resources": ["padding-vm-not-this-one"],
                  "NotBefore": format_time(time.time() + 900, "rfc1123"), "Description": "x" * size,
                  "EventSource": "Platform", "DurationInSeconds": -1}
        doc.setdefault("Events", []).append(filler)
    elif endpoint == "instance" and isinstance(doc, dict):
        doc = copy.deepcopy(doc)
        doc["compute"]["userData"] = "A" * size
    else:
        doc = {"padding": "x" * size}
    return json.dumps(doc).encode()


HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Network login</title></head>"
             b"<body><h1>Sign in to continue</h1><p>This network requires authentication.</p></body></html>\n")


# --------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------

class Response:
    def __init__(self, status: int, body: bytes = b"", content_type: str = JSON_CT, doc: Any = None,
                 headers: Optional[dict] = None):
        self.status, self.body, self.content_type, self.doc = status, body, content_type, doc
        self.headers = headers or {}

    @classmethod
    def json(cls, status: int, doc: Any) -> "Response":
        return cls(status, json.dumps(doc).encode(), JSON_CT, doc)

    @classmethod
    def error(cls, status: int, message: str, **extra: Any) -> "Response":
        return cls.json(status, {"error": message, **extra})


class _ClientGone(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real service
    server_version = "fake-imds/1.0"
    sys_version = ""
    # Idle keep-alive connections release their thread after this long.
    timeout = 300

    server: "FakeImdsServer"

    # -- plumbing -----------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base-class signature
        if self.server.verbose:
            sys.stderr.write("fake_imds: %s - %s\n" % (self.address_string(), format % args))

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    @property
    def state(self) -> FakeImdsState:
        return self.server.state

    def _read_body(self, limit: int) -> Optional[bytes]:
        """The request body, or None when it is larger than limit (connection is then closed)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise _ClientGone()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > limit:
                    self.close_connection = True
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            self.close_connection = True  # do not read megabytes just to throw them away
            return None
        data = self.rfile.read(length) if length else b""
        if len(data) < length:
            raise _ClientGone()
        return data

    def _send(self, resp: Response, *, declared_length: Optional[int] = None, body: Optional[bytes] = None,
              chunked: bool = False) -> None:
        body = resp.body if body is None else body
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        for key, value in resp.headers.items():
            self.send_header(key, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body) if declared_length is None else declared_length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if chunked:
            step = 64 * 1024
            for i in range(0, len(body), step):
                piece = body[i:i + step]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    def _abort(self) -> None:
        """Close with a TCP RST and no answer: what a crashed peer or middlebox looks like."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.wfile.close()
            self.rfile.close()
            self.connection.close()  # last reference gone -> kernel sends RST (linger 0)
        except OSError:
            pass

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _wait(self, seconds: float) -> bool:
        """Sleep unless the server stops first; False when it stopped."""
        return not self.state.stopping.wait(max(0.0, seconds))

    def _wait_for_client(self, seconds: float) -> bool:
        """Sleep like _wait, but False as soon as the client closes its end (it gave up)."""
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return not self._client_gone()
            if self.state.stopping.wait(min(left, 0.05)) or self._client_gone():
                return False

    # -- dispatch -----------------------------------------------------------------------

    def _dispatch(self) -> None:
        try:
            self._dispatch_inner()
        except _ClientGone:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Exception as exc:  # keep serving whatever a test throws at us
            sys.stderr.write(f"fake_imds: internal error on {self.command} {self.path}: {exc!r}\n")
            self.close_connection = True
            try:
                self._send(Response.error(500, f"fake_imds internal error: {exc!r}"))
            except OSError:
                pass

    def _dispatch_inner(self) -> None:
        now_mono, now_wall = _now()
        split = urllib.parse.urlsplit(self.path)
        raw_path = split.path
        vm_name, rest = self.state.default_vm_name, raw_path
        if raw_path.startswith("/vm/"):
            parts = raw_path.split("/", 3)
            vm_name = urllib.parse.unquote(parts[2])
            rest = "/" + parts[3] if len(parts) > 3 else "/"
            if not vm_name:
                self._send(Response.error(404, "empty VM name"))
                return
        if rest == "/fake" or rest.startswith("/fake/"):
            body = self._read_body(MAX_CONTROL_BODY)
            self._control(vm_name, rest[len("/fake"):] or "/", split.query, body)
            return
        body = self._read_body(MAX_IMDS_BODY)
        self._imds(vm_name, rest, split.query, body, now_mono, now_wall)

    # -- IMDS API -----------------------------------------------------------------------

    def _imds(self, vm_name: str, path: str, query: str, body: Optional[bytes], now_mono: float,
              now_wall: float) -> None:
        state = self.state
        state.advance()
        vm = state.vm(vm_name)
        entry = {"t_mono": now_mono, "t_wall": now_wall, "method": self.command, "path": path,
                 "query": query, "headers": {k: v for k, v in self.headers.items()}, "vm": vm.name,
                 "endpoint": None, "status": None, "fault": None}
        if body:
            entry["body"] = body[:4096].decode("utf-8", "replace")
        with state.lock:
            vm.requests.append(entry)
            vm.stats["requests"] += 1
            vm.stats["firstRequestWall"] = vm.stats["firstRequestWall"] or now_wall
            vm.stats["lastRequestWall"] = now_wall

        resp, endpoint, api_version, filt = self._validate(vm, path, query, body)
        entry["endpoint"] = endpoint
        if resp is None and state.rate_limited(vm, now_mono):
            resp = Response.error(429, ERR_TOO_MANY)
        if resp is not None:
            self._finish(vm, entry, endpoint or "invalid", resp)
            return
        assert endpoint is not None
        fault = state.take_fault(vm, endpoint) if endpoint in ENDPOINTS else None
        if fault is None:
            self._finish(vm, entry, endpoint, self._normal(vm, endpoint, api_version, filt, body, entry, True))
            return
        entry["fault"] = fault.mode
        self._run_fault(vm, entry, endpoint, fault, api_version, filt, body)

    def _validate(self, vm: Vm, path: str, query: str, body: Optional[bytes]):
        """IMDS request checks in the order the real service reports them; (error|None, endpoint, version, filter)."""
        norm = path.rstrip("/") or "/"
        filt: list[str] = []
        if norm == "/metadata/scheduledevents":
            endpoint = "acknowledge" if self.command == "POST" else "scheduledevents"
            allowed = ("GET", "POST")
            versions = SCHEDULED_EVENTS_VERSIONS
        elif norm == "/metadata/instance" or norm.startswith("/metadata/instance/"):
            endpoint, allowed, versions = "instance", ("GET",), INSTANCE_VERSIONS
            filt = [urllib.parse.unquote(p) for p in norm[len("/metadata/instance"):].split("/") if p]
        elif norm == "/metadata/versions":
            endpoint, allowed, versions = "versions", ("GET",), []
        else:
            return Response.error(404, f'API is not found: Path = "{path}", Method = "{self.command}"'), None, None, filt
        if self.command not in allowed:
            return (Response.error(405, f'Http method is not allowed: Path = "{path}", Method = "{self.command}"'),
                    endpoint, None, filt)
        if self.headers.get("Metadata", "").strip().lower() != "true":
            return Response.error(400, ERR_NO_METADATA_HEADER), endpoint, None, filt
        if self.headers.get("X-Forwarded-For") is not None:
            return Response.error(400, ERR_FORWARDED), endpoint, None, filt
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        names = [k for k, _ in pairs]
        if len(names) != len(set(names)):
            return Response.error(400, ERR_DUPLICATE_PARAM), endpoint, None, filt
        params = dict(pairs)
        api_version = params.get("api-version")
        if endpoint != "versions":
            if not api_version:
                return Response.error(400, ERR_NO_API_VERSION, **{"newest-versions": NEWEST_VERSIONS}), endpoint, None, filt
            if api_version not in versions:
                return Response.error(400, ERR_BAD_API_VERSION, **{"newest-versions": NEWEST_VERSIONS}), endpoint, None, filt
        if body is None:
            return Response.error(400, f"Request body is larger than MaxBodyLength: {MAX_IMDS_BODY}"), endpoint, None, filt
        fmt = params.get("format", "json")
        if fmt not in ("json", "text"):
            return Response.error(400, "Bad request. format must be json or text"), endpoint, None, filt
        return None, endpoint, api_version, filt

    def _normal(self, vm: Vm, endpoint: str, api_version: Optional[str], filt: list[str],
                body: Optional[bytes], entry: dict, apply: bool, fault: Optional[str] = None) -> Response:
        state = self.state
        if endpoint == "scheduledevents":
            delay = 0.0
            with state.lock:
                if not vm.service_enabled:
                    delay = vm.settings["firstCallDelayMs"] / 1000.0
                    if delay <= 0:
                        vm.service_enabled = vm.stats["serviceEnabled"] = True
            if delay > 0:
                entry["firstCallDelayMs"] = delay * 1000.0
                if not self._wait_for_client(delay):
                    with state.lock:
                        entry["firstCall"] = "abandoned"
                        vm.stats["firstCallsAbandoned"] += 1
                    raise _ClientGone()
                entry["firstCall"] = "answering"  # _finish enables the service once it is sent
            return Response.json(200, state.scheduled_events_doc(vm, api_version))
        if endpoint == "acknowledge":
            status, message = state.acknowledge(vm, body or b"", apply, fault)
            if status != 200:
                return Response.error(status, message or "Bad request")
            return Response(200, b"", JSON_CT)
        if endpoint == "versions":
            return Response.json(200, {"apiVersions": INSTANCE_VERSIONS})
        # instance
        with state.lock:
            doc = copy.deepcopy(vm.instance)
        compute = doc.get("compute")
        if isinstance(compute, dict) and api_version:
            for key, since in COMPUTE_FIELD_SINCE.items():
                if api_version < since:
                    compute.pop(key, None)
        if not filt:
            return Response.json(200, doc)
        node: Any = doc
        for part in filt:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return Response.error(404, "Not found")
        text = "format=text" in (entry.get("query") or "")
        if isinstance(node, (dict, list)):
            if text:
                return Response.error(400, "Bad request. format=text is only supported for leaf nodes")
            return Response.json(200, node)
        if not text:
            return Response.error(400, "Bad request. Querying a leaf node requires format=text")
        return Response(200, str(node).encode(), "text/plain; charset=utf-8")

    def _finish(self, vm: Vm, entry: dict, endpoint: str, resp: Response, **send_kwargs: Any) -> None:
        with self.state.lock:
            entry["status"] = resp.status
            vm.count(endpoint, resp.status)
        self._send(resp, **send_kwargs)
        if entry.get("firstCall") == "answering":
            self.wfile.flush()  # raises if the client has gone: then the service stays disabled
            with self.state.lock:
                entry["firstCall"] = "answered"
                vm.service_enabled = vm.stats["serviceEnabled"] = True

    def _run_fault(self, vm: Vm, entry: dict, endpoint: str, fault: Fault, api_version: Optional[str],
                   filt: list[str], body: Optional[bytes]) -> None:
        mode, params = fault.mode, fault.params
        apply = bool(params.get("apply", ACK_APPLIES_BY_MODE.get(mode, True)))

        def normal(apply_ack: bool = apply) -> Response:
            return self._normal(vm, endpoint, api_version, filt, body, entry, apply_ack, mode)

        def unapplied(reported: Any) -> None:
            """Record an acknowledgement the fault swallowed, and apply it if asked to."""
            if endpoint == "acknowledge":
                if apply:
                    normal()
                else:
                    self.state.acknowledge(vm, body or b"", False, mode, reported)

        if mode == "status":
            status = int(params.get("status", 500))
            unapplied(status)
            message = params.get("message") or STATUS_TEXT.get(status, "Error")
            if status == 404:
                message = params.get("message") or f'API is not found: Path = "{entry["path"]}", Method = "{self.command}"'
            resp = Response.error(status, message)
            resp.headers = dict(params.get("headers") or {})  # e.g. {"Retry-After": "1000000000"}
            self._finish(vm, entry, endpoint, resp)
        elif mode == "raw":
            unapplied(int(params.get("status", 200)))
            raw = params.get("body", "")
            self._finish(vm, entry, endpoint, Response(int(params.get("status", 200)),
                                                       raw.encode() if isinstance(raw, str) else json.dumps(raw).encode(),
                                                       params.get("contentType", JSON_CT),
                                                       headers=dict(params.get("headers") or {})))
        elif mode == "slow":
            delay = float(params.get("delayMs", 3000)) / 1000.0
            if params.get("dribble"):
                # Headers at once, then the body a byte-slice at a time: beats idle timeouts,
                # only a total deadline catches it.
                resp = normal()
                with self.state.lock:
                    entry["status"] = resp.status
                    vm.count(endpoint, resp.status)
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                pieces = max(1, min(len(resp.body), 20))
                step = -(-len(resp.body) // pieces) if resp.body else 1
                for i in range(0, len(resp.body), step):
                    if not self._wait(delay / pieces):
                        raise _ClientGone()
                    self.wfile.write(resp.body[i:i + step])
                    self.wfile.flush()
                return
            if not self._wait(delay):
                raise _ClientGone()
            self._finish(vm, entry, endpoint, normal())
        elif mode == "hang":
            self._hang(fault)
            if self.state.stopping.is_set() or self._client_gone():
                unapplied("abandoned")
                with self.state.lock:
                    entry["status"] = "abandoned"
                    vm.count(endpoint, "abandoned")
                self._abort()
                return
            self._finish(vm, entry, endpoint, normal(True))  # fault cleared: answer after all
        elif mode == "reset":
            unapplied("reset")
            with self.state.lock:
                entry["status"] = "reset"
                vm.count(endpoint, "reset")
            self._abort()
        elif mode == "truncated":
            resp = normal()
            declared = max(len(resp.body), 64)
            self.close_connection = True
            with self.state.lock:
                entry["status"] = "truncated"
                vm.count(endpoint, "truncated")
            self._send(resp, declared_length=declared, body=resp.body[: len(resp.body) // 2])
            self.wfile.flush()
        elif mode == "malformed":
            resp = normal()
            variant = params.get("variant", "unclosed")
            if variant == "garbage":
                bad = b"\x00\xff\xfe not json at all \x81"
            elif variant == "trailing":
                bad = (resp.body or b"{}") + b" garbage"
            else:
                text = resp.body.rstrip() or b'{"error": "'
                bad = text[:-1] + b"," if text.endswith(b"}") else text
            self._finish(vm, entry, endpoint, Response(200, bad, JSON_CT))
        elif mode == "huge":
            resp = normal()
            size = int(params.get("sizeBytes", 2 * 1024 * 1024))
            payload = huge_body(endpoint, resp.doc, vm, size)
            self._finish(vm, entry, endpoint, Response(200, payload, JSON_CT),
                         chunked=params.get("transfer") == "chunked")
        elif mode in ("wrong_types", "missing_fields", "unknown_event_type", "bad_not_before"):
            resp = normal()
            if resp.status == 200 and resp.doc is not None and not filt:
                doc = transform_content(endpoint, copy.deepcopy(resp.doc), vm, fault)
                resp = Response.json(200, doc)
            self._finish(vm, entry, endpoint, resp)
        elif mode == "empty_body":
            normal()
            self._finish(vm, entry, endpoint, Response(200, b"", JSON_CT))
        elif mode == "html":
            normal()
            self._finish(vm, entry, endpoint, Response(200, HTML_PAGE, "text/html; charset=utf-8"))
        else:  # pragma: no cover - Fault() validated the mode
            self._finish(vm, entry, endpoint, Response.error(500, f"unknown fault mode {mode}"))

    def _hang(self, fault: Fault) -> None:
        """Hold the request until the fault is cleared, the client leaves, or the server stops."""
        state = self.state
        while True:
            with state.lock:
                if fault.cleared or state.stopping.is_set():
                    return
                state.cond.wait(0.05)
                if fault.cleared or state.stopping.is_set():
                    return
            if self._client_gone():
                return

    # -- control API --------------------------------------------------------------------

    def _control(self, vm_name: str, path: str, query: str, body: Optional[bytes]) -> None:
        try:
            if body is None:
                raise ApiError(413, "control body too large")
            spec: Any = None
            if body.strip():
                try:
                    spec = json.loads(body.decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as exc:
                    raise ApiError(400, f"invalid JSON: {exc}") from None
            self.state.advance()
            status, doc = self._control_route(vm_name, path.rstrip("/") or "/", urllib.parse.parse_qs(query), spec)
            self._send(Response.json(status, doc))
        except ApiError as exc:
            self._send(Response.error(exc.status, exc.message))

    def _control_route(self, vm_name: str, path: str, query: dict, spec: Any) -> tuple[int, Any]:
        state, method = self.state, self.command
        parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
        is_default = vm_name == state.default_vm_name and not self.path.startswith("/vm/")
        now_mono = time.monotonic()

        def obj() -> dict:
            if spec is None:
                return {}
            if not isinstance(spec, dict):
                raise ApiError(400, "expected a JSON object")
            return spec

        if parts == ["health"] and method == "GET":
            return 200, {"ok": True, "vm": vm_name}
        if parts == ["vms"]:
            if method == "GET":
                with state.lock:
                    return 200, {"default": state.default_vm_name, "vms": sorted(state.vms)}
            if method == "POST":
                # Create or update: an agent polling /vm/X may have created X already.
                body = obj()
                name = body.get("name")
                if not isinstance(name, str) or not name:
                    raise ApiError(400, "name required")
                settings = body.get("settings", {})
                instance = body.get("instance", {})
                if not isinstance(settings, dict) or not isinstance(instance, dict):
                    raise ApiError(400, "settings and instance must be objects")
                _validate_settings(settings)
                with state.lock:
                    existed = name in state.vms
                    vm = state.vm(name, computer_name=body.get("computerName"))
                    if existed and body.get("computerName"):
                        deep_merge(vm.instance, {"compute": {"osProfile": {"computerName": body["computerName"]}}})
                    vm.settings.update(settings)
                    deep_merge(vm.instance, instance)
                    state.refresh_all()
                    return (200 if existed else 201), {"name": name, "settings": vm.settings,
                                                       "instance": vm.instance}
        if len(parts) == 2 and parts[0] == "vms" and method == "DELETE":
            with state.lock:
                if parts[1] == state.default_vm_name:
                    raise ApiError(400, "the default VM cannot be deleted")
                if state.vms.pop(parts[1], None) is None:
                    raise ApiError(404, f"no VM named {parts[1]!r}")
                return 200, {"deleted": parts[1]}

        vm = state.vm(vm_name)
        if parts == ["reset"] and method == "POST":
            if is_default:
                state.reset_all()
                return 200, {"reset": "all"}
            state.reset_vm(vm)
            return 200, {"reset": vm.name}

        if parts and parts[0] == "events":
            tf = vm.settings["timeFormat"]
            if len(parts) == 1:
                if method == "GET":
                    with state.lock:
                        state._refresh_incarnation(vm)
                        return 200, {"DocumentIncarnation": vm.incarnation,
                                     "Events": [e.describe(tf, now_mono) for e in state.visible_events(vm)]}
                if method == "POST":
                    event = state.add_event(vm, obj())
                    return 201, event.describe(tf, now_mono)
                if method == "DELETE":
                    return 200, {"deleted": state.delete_event(vm, None)}
            elif len(parts) == 2:
                if method == "GET":
                    with state.lock:
                        return 200, state.event(vm, parts[1]).describe(tf, now_mono)
                if method in ("PUT", "PATCH"):
                    return 200, state.update_event(vm, parts[1], obj()).describe(tf, now_mono)
                if method == "DELETE":
                    return 200, {"deleted": state.delete_event(vm, parts[1])}
            elif len(parts) == 3 and method == "POST":
                if parts[2] == "start":
                    with state.lock:
                        event = state.event(vm, parts[1])
                        event.start(time.monotonic(), "control")
                        state.refresh_all()
                        return 200, event.describe(tf, now_mono)
                if parts[2] == "replace":
                    return 200, state.replace_event(vm, parts[1], obj().get("EventId")).describe(tf, now_mono)
            raise ApiError(405 if len(parts) <= 3 else 404, f"{method} /fake/{'/'.join(parts)} not supported")

        if parts == ["ack-behaviour"] or parts == ["ack-behavior"]:
            if method == "GET":
                return 200, {"endAfterMs": vm.settings["endAfterMs"],
                             "autoStartAtNotBefore": vm.settings["autoStartAtNotBefore"]}
            if method in ("POST", "PUT"):
                body = obj()
                with state.lock:
                    if "endAfterMs" in body:
                        if not isinstance(body["endAfterMs"], (int, float)) or isinstance(body["endAfterMs"], bool):
                            raise ApiError(400, "endAfterMs must be a number (-1 = never)")
                        vm.settings["endAfterMs"] = body["endAfterMs"]
                    if "autoStartAtNotBefore" in body:
                        vm.settings["autoStartAtNotBefore"] = bool(body["autoStartAtNotBefore"])
                    return 200, {"endAfterMs": vm.settings["endAfterMs"],
                                 "autoStartAtNotBefore": vm.settings["autoStartAtNotBefore"]}
        if parts == ["acks"]:
            with state.lock:
                if method == "GET":
                    return 200, {"acks": copy.deepcopy(vm.acks)}
                if method == "DELETE":
                    n = len(vm.acks)
                    vm.acks.clear()
                    return 200, {"deleted": n}

        if parts and parts[0] in ("fault", "faults"):
            if len(parts) == 1:
                if method == "GET":
                    with state.lock:
                        return 200, {"faults": [f.describe() for f in vm.faults + state.server_faults]}
                if method == "POST":
                    return 201, state.add_fault(vm, dict(obj())).describe()
                if method == "DELETE":
                    return 200, {"cleared": state.clear_faults(vm)}
            if len(parts) == 2 and method == "DELETE":
                return 200, {"cleared": state.clear_faults(vm, parts[1])}

        if parts == ["requests"]:
            with state.lock:
                if method == "DELETE":
                    n = len(vm.requests)
                    vm.requests.clear()
                    return 200, {"deleted": n}
                if method != "GET":
                    raise ApiError(405, f"{method} /fake/requests not supported")
                entries = list(vm.requests)
            since = float(query["since"][0]) if "since" in query else None
            endpoint = query.get("endpoint", [None])[0]
            if since is not None:
                entries = [e for e in entries if e["t_mono"] > since]
            if endpoint:
                entries = [e for e in entries if e["endpoint"] == endpoint]
            if "limit" in query:
                entries = entries[-int(query["limit"][0]):]
            return 200, {"requests": copy.deepcopy(entries), "now_mono": time.monotonic()}

        if parts == ["stats"] and method == "GET":
            with state.lock:
                state._refresh_incarnation(vm)
                total = sum(v.stats["requests"] for v in state.vms.values())
                return 200, {**copy.deepcopy(vm.stats), "vm": vm.name, "incarnation": vm.incarnation,
                             "events": len(state.visible_events(vm)),
                             "server": {"vms": len(state.vms), "requests": total, "events": len(state.events),
                                        "uptimeS": time.time() - state.started_wall}}

        if parts == ["settings"]:
            if method == "GET":
                with state.lock:
                    return 200, {**vm.settings, "DocumentIncarnation": vm.incarnation}
            if method in ("PUT", "POST", "PATCH"):
                body = dict(obj())
                everywhere = bool(body.pop("applyToAllVms", False))
                incarnation = body.pop("DocumentIncarnation", None)
                _validate_settings(body)
                with state.lock:
                    targets = list(state.vms.values()) if everywhere else [vm]
                    if everywhere:
                        state.defaults.update(body)
                    for target in targets:
                        target.settings.update(body)
                        if "requestLogSize" in body:
                            target.requests = deque(target.requests, maxlen=max(1, int(body["requestLogSize"])))
                    if incarnation is not None:
                        vm.incarnation = int(incarnation)
                    state.refresh_all()
                    return 200, {**vm.settings, "DocumentIncarnation": vm.incarnation}

        if parts == ["instance"]:
            with state.lock:
                if method == "GET":
                    return 200, copy.deepcopy(vm.instance)
                if method in ("PUT", "PATCH", "POST"):
                    body = obj()
                    if body.get("replace"):
                        vm.instance = copy.deepcopy(body.get("document", {}))
                    else:
                        deep_merge(vm.instance, body)
                    return 200, copy.deepcopy(vm.instance)

        raise ApiError(404, f"no control route {method} /fake/{'/'.join(parts)}")


class FakeImdsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False       # a hung request must never hold up server_close()
    request_queue_size = 256     # 100 agents connect at once in the fleet benchmark
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: FakeImdsState, verbose: bool = False):
        self.state = state
        self.verbose = verbose
        super().__init__(address, Handler)

    def stop(self) -> None:
        """Stop serving and release every waiting handler; safe from any thread but the serving one."""
        self.state.stopping.set()
        with self.state.lock:
            self.state.cond.notify_all()
        self.shutdown()
        self.server_close()


LOOPBACK = ("127.0.0.1", "localhost")


def start_in_thread(state: Optional[FakeImdsState] = None, port: int = 0, host: str = "127.0.0.1",
                    verbose: bool = False) -> FakeImdsServer:
    """Run a fake in this process (for Python tests and benchmarks); call .stop() when done."""
    server = FakeImdsServer((host, port), state or FakeImdsState(), verbose)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="fake-imds", daemon=True)
    thread.start()
    return server


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Fake Azure IMDS (Scheduled Events + instance metadata).")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port, 0 = any free port (default)")
    parser.add_argument("--port-file", help="write the bound port to this file once listening")
    parser.add_argument("--vm-name", default="aks-spot-1", help="compute.name of the default VM (event Resources)")
    parser.add_argument("--computer-name", help="osProfile.computerName of the default VM (default derived from the name)")
    parser.add_argument("--priority", default="Spot", help='compute.priority: "Spot" (default), "Regular" or ""')
    parser.add_argument("--vm-size", default="Standard_D4ps_v5")
    parser.add_argument("--location", default="westeurope")
    parser.add_argument("--zone", default="1")
    parser.add_argument("--no-rate-limit", action="store_true", help="disable the 5 requests/s/VM limit (fleet benchmark)")
    parser.add_argument("--time-format", choices=("rfc1123", "iso8601"), default="rfc1123",
                        help="NotBefore format (rfc1123 like Azure, iso8601 like Microsoft's mock server)")
    parser.add_argument("--end-after-ms", type=int, default=DEFAULT_SETTINGS["endAfterMs"],
                        help="how long a Started event stays before it disappears (-1 = until deleted)")
    parser.add_argument("--first-call-delay-ms", type=int, default=0,
                        help="delay the first Scheduled Events answer per VM (Azure: up to 2 minutes)")
    parser.add_argument("--request-log-size", type=int, default=DEFAULT_SETTINGS["requestLogSize"])
    parser.add_argument("--exit-with-parent", action="store_true", help="exit when the parent process dies")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    if args.host not in LOOPBACK and not args.host.startswith("127."):
        parser.error("the fake listens on loopback only")
    settings = {"timeFormat": args.time_format, "rateLimitPerSecond": 0 if args.no_rate_limit else 5,
                "endAfterMs": args.end_after_ms, "firstCallDelayMs": args.first_call_delay_ms,
                "requestLogSize": args.request_log_size}
    state = FakeImdsState(args.vm_name, args.computer_name, settings,
                          {"priority": args.priority, "vm_size": args.vm_size, "location": args.location,
                           "zone": args.zone})
    server = FakeImdsServer((args.host, args.port), state, args.verbose)
    return serve(server, state.stopping, args.exit_with_parent, args.port_file)


if __name__ == "__main__":
    sys.exit(main())
