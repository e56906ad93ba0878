"""Small helpers shared by every module: time, identifiers, copying, API errors."""

import datetime
import json
import random
import string
import uuid


def now_rfc3339():
    """Kubernetes metav1.Time: RFC 3339 with second precision in UTC."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro():
    """metav1.MicroTime (events.k8s.io eventTime)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(s):
    """Parse a metav1.Time / MicroTime string; None when absent or unparseable."""
    if not s or not isinstance(s, str):
        return None
    try:
        return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None


def human_duration(seconds):
    """Port of apimachinery's duration.HumanDuration, used in the AGE columns."""
    s = int(seconds)
    if s < 0:
        s = 0
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        rem = s % 60
        return "%dm" % m if rem == 0 else "%dm%ds" % (m, rem)
    if m < 180:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        rem = m % 60
        return "%dh" % h if rem == 0 else "%dh%dm" % (h, rem)
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        rem = h % 24
        return "%dd" % (h // 24) if rem == 0 else "%dd%dh" % (h // 24, rem)
    if h < 24 * 365 * 2:
        return "%dd" % (h // 24)
    if h < 24 * 365 * 8:
        dy = (h // 24) % 365
        return "%dy" % (h // 24 // 365) if dy == 0 else "%dy%dd" % (h // 24 // 365, dy)
    return "%dy" % (h // 24 // 365)


def age(ts):
    t = parse_time(ts)
    if t is None:
        return "<unknown>"
    return human_duration((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())


def new_uid():
    return str(uuid.uuid4())


_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's utilrand alphabet (no vowels)


def rand_suffix(n=5):
    """Like utilrand.String: what generateName and ReplicaSet pod names use."""
    return "".join(random.choice(_SUFFIX_ALPHABET) for _ in range(n))


def rand_hash(n=10):
    return "".join(random.choice(string.hexdigits.lower()[:16]) for _ in range(n))


def clone(obj):
    """Deep copy of a JSON value. A JSON round trip is faster than copy.deepcopy."""
    return json.loads(json.dumps(obj))


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


class ApiError(Exception):
    """An error the API server answers with a meta/v1 Status body.

    Messages and reasons copy k8s.io/apimachinery/pkg/api/errors so that clients
    (kubectl, the agent) classify them exactly as they would a real server's.
    """

    def __init__(self, code, reason, message, details=None, retry_after=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.retry_after = retry_after

    def status(self):
        st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": self.message, "reason": self.reason}
        if self.details:
            st["details"] = self.details
        st["code"] = self.code
        return st

    # --- constructors mirroring apimachinery's errors.NewXxx -------------------------
    @staticmethod
    def not_found(resource, name, group=""):
        qual = resource if not group else "%s.%s" % (resource, group)
        d = {"name": name, "kind": resource}
        if group:
            d["group"] = group
        return ApiError(404, "NotFound", '%s "%s" not found' % (qual, name), d)

    @staticmethod
    def conflict(resource, name, group="", msg=None):
        qual = resource if not group else "%s.%s" % (resource, group)
        d = {"name": name, "kind": resource}
        if group:
            d["group"] = group
        msg = msg or "the object has been modified; please apply your changes to the latest version and try again"
        return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s' % (qual, name, msg), d)

    @staticmethod
    def already_exists(resource, name, group=""):
        qual = resource if not group else "%s.%s" % (resource, group)
        d = {"name": name, "kind": resource}
        if group:
            d["group"] = group
        return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (qual, name), d)

    @staticmethod
    def bad_request(msg):
        return ApiError(400, "BadRequest", msg)

    @staticmethod
    def invalid(kind, name, msg, group=""):
        d = {"name": name, "kind": kind, "causes": [{"reason": "FieldValueInvalid", "message": msg}]}
        if group:
            d["group"] = group
        return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (kind, name, msg), d)

    @staticmethod
    def unprocessable(msg):
        return ApiError(422, "Invalid", msg)

    @staticmethod
    def unsupported_media(ctype):
        # Same text as the real server's patch handler (it also names apply-patch+yaml).
        return ApiError(415, "UnsupportedMediaType",
                        "the body of the request was in an unknown format - accepted media types include: "
                        "application/json-patch+json, application/merge-patch+json, "
                        "application/apply-patch+yaml, application/strategic-merge-patch+json")

    @staticmethod
    def method_not_allowed(method):
        return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    @staticmethod
    def path_not_found():
        return ApiError(404, "NotFound", "the server could not find the requested resource",
                        {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]})

    @staticmethod
    def unauthorized():
        return ApiError(401, "Unauthorized", "Unauthorized")

    @staticmethod
    def internal(msg):
        return ApiError(500, "InternalError", "Internal error occurred: %s" % msg,
                        {"causes": [{"message": msg}]})

    @staticmethod
    def too_many_requests(msg, retry_after=0, causes=None):
        d = {}
        if retry_after:
            d["retryAfterSeconds"] = retry_after
        if causes:
            d["causes"] = causes
        return ApiError(429, "TooManyRequests", msg, d or None, retry_after or None)


def success_status(code):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}
