"""Label and field selectors, following k8s.io/apimachinery/pkg/labels and /fields.

Only the grammar real clients send is supported; anything else is a 400, as on a
real server, so that a client bug shows up in tests instead of silently matching.
"""

from .util import ApiError


def _split_top_level(s):
    """Split on commas that are not inside parentheses (`a in (x,y),b`)."""
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


class LabelSelector:
    """A parsed label selector: a conjunction of requirements (key, op, values)."""

    def __init__(self, reqs):
        self.reqs = reqs  # list of (key, op, set(values)); op in =, !=, in, notin, exists, !exists, gt, lt

    @property
    def empty(self):
        return not self.reqs

    def matches(self, labels):
        labels = labels or {}
        for key, op, vals in self.reqs:
            present = key in labels
            v = labels.get(key)
            if op in ("=", "in"):
                if not present or v not in vals:
                    return False
            elif op in ("!=", "notin"):
                if present and v in vals:
                    return False
            elif op == "exists":
                if not present:
                    return False
            elif op == "!exists":
                if present:
                    return False
            elif op in ("gt", "lt"):
                try:
                    lv, rv = int(v), int(next(iter(vals)))
                except (TypeError, ValueError, StopIteration):
                    return False
                if (op == "gt" and not lv > rv) or (op == "lt" and not lv < rv):
                    return False
        return True

    @staticmethod
    def parse(text):
        reqs = []
        if not text:
            return LabelSelector(reqs)
        for part in _split_top_level(text):
            reqs.append(_parse_label_req(part))
        return LabelSelector(reqs)

    @staticmethod
    def from_object(sel):
        """metav1.LabelSelector (matchLabels + matchExpressions). None -> None."""
        if sel is None:
            return None
        if not isinstance(sel, dict):
            raise ApiError.bad_request("invalid label selector")
        reqs = []
        for k, v in sorted((sel.get("matchLabels") or {}).items()):
            reqs.append((k, "=", {v}))
        for e in sel.get("matchExpressions") or []:
            op = e.get("operator")
            vals = set(e.get("values") or [])
            key = e.get("key")
            if op == "In":
                reqs.append((key, "in", vals))
            elif op == "NotIn":
                reqs.append((key, "notin", vals))
            elif op == "Exists":
                reqs.append((key, "exists", set()))
            elif op == "DoesNotExist":
                reqs.append((key, "!exists", set()))
            else:
                raise ApiError.bad_request('"%s" is not a valid label selector operator' % op)
        return LabelSelector(reqs)


def _parse_label_req(part):
    p = part.strip()
    if p.startswith("!"):
        return (p[1:].strip(), "!exists", set())
    for word, op in ((" notin ", "notin"), (" in ", "in")):
        idx = p.find(word)
        if idx > 0:
            key = p[:idx].strip()
            rest = p[idx + len(word):].strip()
            if not (rest.startswith("(") and rest.endswith(")")):
                raise ApiError.bad_request("unable to parse requirement: found '%s', expected: '('" % rest)
            vals = {v.strip() for v in rest[1:-1].split(",")}
            return (key, op, vals)
    for tok, op in (("!=", "!="), ("==", "="), ("=", "="), (">", "gt"), ("<", "lt")):
        idx = p.find(tok)
        if idx > 0:
            return (p[:idx].strip(), op, {p[idx + len(tok):].strip()})
    if any(c in p for c in " ()"):
        raise ApiError.bad_request("unable to parse requirement: invalid label key \"%s\"" % p)
    return (p, "exists", set())


def _split_unescaped(s, sep):
    """fields.Parse allows `\\,` `\\=` `\\\\` escapes inside values."""
    out, cur, i = [], [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur.append(s[i:i + 2])
            i += 2
            continue
        if s.startswith(sep, i):
            out.append("".join(cur))
            cur = []
            i += len(sep)
            continue
        cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def _unescape(v):
    return v.replace("\\,", ",").replace("\\=", "=").replace("\\\\", "\\")


class FieldSelector:
    """A parsed field selector: (field, op, value) with op '=' or '!='."""

    def __init__(self, reqs):
        self.reqs = reqs

    @staticmethod
    def parse(text):
        reqs = []
        if not text:
            return FieldSelector(reqs)
        for part in _split_unescaped(text, ","):
            part = part.strip()
            if not part:
                continue
            for tok, op in (("!=", "!="), ("==", "="), ("=", "=")):
                pieces = _split_unescaped(part, tok)
                if len(pieces) == 2:
                    reqs.append((pieces[0].strip(), op, _unescape(pieces[1].strip())))
                    break
            else:
                raise ApiError.bad_request("invalid selector: '%s'; can't understand '%s'" % (text, part))
        return FieldSelector(reqs)

    def validate(self, supported, kind):
        for f, _, _ in self.reqs:
            if f not in supported:
                # Same text as the real server ("field label not supported: x").
                raise ApiError.bad_request('field label not supported: %s' % f)

    def value_for(self, field):
        """The required value of an `field=value` term (used to pick an index)."""
        for f, op, v in self.reqs:
            if f == field and op == "=":
                return v
        return None

    def matches(self, fields):
        for f, op, v in self.reqs:
            actual = fields.get(f, "")
            if op == "=" and actual != v:
                return False
            if op == "!=" and actual == v:
                return False
        return True
