"""PATCH semantics: strategic merge, JSON merge patch (RFC 7386), JSON patch (RFC 6902).

Strategic merge needs the Go struct tags (patchStrategy/patchMergeKey) that the real
server compiles in; MERGE_KEYS below lists the ones that matter for the objects this
fake stores. Lists not listed here are replaced wholesale, which is exactly why the
agent must read-modify-write `spec.taints` (no merge key) with a resourceVersion.
"""

from .util import ApiError, clone

PRIMITIVE = object()  # marker: list of scalars with patchStrategy=merge (union)

# Paths are field names from the object root; list elements are transparent.
MERGE_KEYS = {
    ("metadata", "ownerReferences"): "uid",
    ("metadata", "finalizers"): PRIMITIVE,
    # Node
    ("spec", "podCIDRs"): PRIMITIVE,
    ("status", "conditions"): "type",          # also Pod, PodDisruptionBudget conditions
    ("status", "addresses"): "type",
    ("status", "volumesAttached"): "name",
    # Pod
    ("spec", "containers"): "name",
    ("spec", "initContainers"): "name",
    ("spec", "ephemeralContainers"): "name",
    ("spec", "volumes"): "name",
    ("spec", "imagePullSecrets"): "name",
    ("spec", "containers", "env"): "name",
    ("spec", "containers", "ports"): "containerPort",
    ("spec", "containers", "volumeMounts"): "mountPath",
    ("spec", "initContainers", "env"): "name",
    ("spec", "initContainers", "volumeMounts"): "mountPath",
    ("status", "podIPs"): "ip",
    ("status", "hostIPs"): "ip",
    # Workloads (pod template)
    ("spec", "template", "spec", "containers"): "name",
    ("spec", "template", "spec", "volumes"): "name",
    ("spec", "template", "spec", "containers", "env"): "name",
}

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSONPATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"


class _Delete:
    pass


_DELETE = _Delete()


def strip_directives(v):
    """Remove `$patch`/`$retainKeys`/... from a value that is copied in verbatim."""
    if isinstance(v, dict):
        return {k: strip_directives(x) for k, x in v.items() if not k.startswith("$")}
    if isinstance(v, list):
        return [strip_directives(x) for x in v if not (isinstance(x, dict) and x.get("$patch") == "delete")]
    return v


def strategic_merge(orig, patch, path=()):
    if not isinstance(patch, dict):
        raise ApiError.bad_request("strategic merge patch must be a JSON object")
    out = _merge_map(orig if isinstance(orig, dict) else {}, patch, path)
    return {} if out is _DELETE else out


def _merge_map(orig, patch, path):
    directive = patch.get("$patch")
    if directive == "replace":
        return strip_directives(patch)
    if directive == "delete":
        return _DELETE
    if directive is not None:
        raise ApiError.bad_request("Unknown patch type: %s in map: %s" % (directive, patch))
    out = dict(orig)
    for k, v in patch.items():
        if k.startswith("$setElementOrder/") or k in ("$retainKeys", "$patch"):
            continue  # ordering hints and handled directives do not change content
        if k.startswith("$deleteFromPrimitiveList/"):
            real = k.split("/", 1)[1]
            if isinstance(out.get(real), list) and isinstance(v, list):
                out[real] = [x for x in out[real] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
            continue
        sub = path + (k,)
        if isinstance(v, dict):
            merged = _merge_map(out[k] if isinstance(out.get(k), dict) else {}, v, sub)
            if merged is _DELETE:
                out.pop(k, None)
            else:
                out[k] = merged
        elif isinstance(v, list) and sub in MERGE_KEYS:
            cur = out.get(k) if isinstance(out.get(k), list) else []
            out[k] = _merge_list(cur, v, MERGE_KEYS[sub], sub)
        else:
            out[k] = strip_directives(v)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _merge_list(orig, patch, key, path):
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return strip_directives([x for x in patch if not (isinstance(x, dict) and x.get("$patch") == "replace")])
    if key is PRIMITIVE:
        out = list(orig)
        for x in patch:
            if x not in out:
                out.append(x)
        return out
    out = [clone(x) for x in orig]
    for item in patch:
        if not isinstance(item, dict):
            raise ApiError.bad_request("merging list %s: item is not a map" % ".".join(path))
        if key not in item:
            raise ApiError.bad_request("map: %s does not contain declared merge key: %s" % (item, key))
        kv = item[key]
        idx = next((i for i, x in enumerate(out) if isinstance(x, dict) and x.get(key) == kv), None)
        if item.get("$patch") == "delete":
            out = [x for x in out if not (isinstance(x, dict) and x.get(key) == kv)]
            continue
        if idx is None:
            out.append(strip_directives(item))
        else:
            merged = _merge_map(out[idx], item, path)
            if merged is _DELETE:
                del out[idx]
            else:
                out[idx] = merged
    return out


def merge_patch(orig, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return clone(patch)
    out = dict(orig) if isinstance(orig, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# ---- RFC 6902 -------------------------------------------------------------------------

def _json_equal(a, b):
    """Strict JSON equality (Python's True == 1 and 1 == 1.0 must not leak in)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    return a == b


def _pointer(p):
    if p == "":
        return []
    if not isinstance(p, str) or not p.startswith("/"):
        raise ApiError.unprocessable('invalid JSON pointer "%s"' % p)
    return [t.replace("~1", "/").replace("~0", "~") for t in p[1:].split("/")]


def _walk(doc, toks, op):
    cur = doc
    for t in toks:
        if isinstance(cur, dict):
            if t not in cur:
                raise ApiError.unprocessable("%s operation does not apply: doc is missing path: /%s" % (op, "/".join(toks)))
            cur = cur[t]
        elif isinstance(cur, list):
            i = _index(t, len(cur), False, op, toks)
            cur = cur[i]
        else:
            raise ApiError.unprocessable("%s operation does not apply: doc is missing path: /%s" % (op, "/".join(toks)))
    return cur


def _index(t, n, allow_end, op, toks):
    if allow_end and t == "-":
        return n
    if not t.isdigit() or (len(t) > 1 and t[0] == "0"):
        raise ApiError.unprocessable("%s operation does not apply: invalid index %s in /%s" % (op, t, "/".join(toks)))
    i = int(t)
    if i > n or (i == n and not allow_end):
        raise ApiError.unprocessable("%s operation does not apply: index out of range: /%s" % (op, "/".join(toks)))
    return i


def _add(doc, toks, value, op="add"):
    if not toks:
        return value
    parent = _walk(doc, toks[:-1], op)
    last = toks[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(last, len(parent), True, op, toks), value)
    else:
        raise ApiError.unprocessable("%s operation does not apply: doc is missing path: /%s" % (op, "/".join(toks)))
    return doc


def _remove(doc, toks, op="remove"):
    if not toks:
        raise ApiError.unprocessable("%s operation does not apply: cannot remove the document root" % op)
    parent = _walk(doc, toks[:-1], op)
    last = toks[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise ApiError.unprocessable("%s operation does not apply: doc is missing path: /%s" % (op, "/".join(toks)))
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(last, len(parent), False, op, toks))
    raise ApiError.unprocessable("%s operation does not apply: doc is missing path: /%s" % (op, "/".join(toks)))


def json_patch(orig, ops):
    if not isinstance(ops, list):
        raise ApiError.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = clone(orig)
    for o in ops:
        if not isinstance(o, dict) or "op" not in o:
            raise ApiError.bad_request("invalid JSON patch operation: %s" % (o,))
        op = o["op"]
        toks = _pointer(o.get("path"))
        if op == "add":
            if "value" not in o:
                raise ApiError.unprocessable("add operation does not apply: missing value")
            doc = _add(doc, toks, clone(o["value"]))
        elif op == "remove":
            _remove(doc, toks)
        elif op == "replace":
            if "value" not in o:
                raise ApiError.unprocessable("replace operation does not apply: missing value")
            if not toks:
                doc = clone(o["value"])
                continue
            _walk(doc, toks, "replace")  # must exist
            parent = _walk(doc, toks[:-1], "replace")
            if isinstance(parent, dict):
                parent[toks[-1]] = clone(o["value"])
            else:
                parent[_index(toks[-1], len(parent), False, "replace", toks)] = clone(o["value"])
        elif op == "move":
            frm = _pointer(o.get("from"))
            val = _remove(doc, frm, "move")
            doc = _add(doc, toks, val, "move")
        elif op == "copy":
            frm = _pointer(o.get("from"))
            doc = _add(doc, toks, clone(_walk(doc, frm, "copy")), "copy")
        elif op == "test":
            actual = _walk(doc, toks, "test")
            if not _json_equal(actual, o.get("value")):
                raise ApiError.unprocessable("testing value /%s failed: test failed" % "/".join(toks))
        else:
            raise ApiError.bad_request("Unexpected kind: %s" % op)
    return doc


def apply_patch(content_type, orig, body):
    """Dispatch on the request's Content-Type (parameters such as charset ignored)."""
    ct = (content_type or "").split(";")[0].strip().lower()
    if ct == STRATEGIC:
        return strategic_merge(orig, body)
    if ct == MERGE:
        return merge_patch(orig, body)
    if ct == JSONPATCH:
        return json_patch(orig, body)
    raise ApiError.unsupported_media(ct)
