/*
 * _logfast_fw: C twins of the firewall parsers (paloalto.py's CSV reading), compiled into the _logfast extension (see _logfast_fw.h).
 *
 * Why C: on the mix of the new formats (bench/bench_detections.py) Palo Alto (~17 us a CSV line,
 * csv.reader, a loop over ~25 positions, then _finish's passes) and FortiGate (~15.6 us a line,
 * ~28 pairs, then ~40 dict.get with fallbacks) were the heaviest parsers in pure Python.
 *
 * The rule of a twin: the Python parser stays the reference and the fallback. A twin returns a
 * result only for a line it reads exactly as Python does (same fields, key order, value types,
 * logsource, time, host); for anything else (non-ASCII text, control characters, odd quoting,
 * a number int() might read otherwise, a time fromisoformat might read otherwise) it returns
 * None and the Python parser reads the line. Only printable ASCII lines are taken: re's \s, \d
 * and \w are Unicode-aware, str.strip() strips more than spaces, and `$` matches before a
 * trailing newline, none of which then comes into it.
 * tests/collectors/logs/test_logfast_fw.py compares both paths on the samples, on lines made
 * from the formats' field lists and on mutations of them.
 */
#include "_logfast_fw.h"

#include <string.h>

/* --- small helpers ------------------------------------------------------------------------ */

static inline int fw_digit(char c) { return c >= '0' && c <= '9'; }
static inline int fw_hex(char c) {
    return fw_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static inline int fw_word(char c) {
    return fw_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* every character printable ASCII (0x20-0x7e); the caller has checked the text is ASCII */
static int fw_printable(const char *s, Py_ssize_t n) {
    for (Py_ssize_t k = 0; k < n; k++)
        if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f) return 0;
    return 1;
}

/* `what in s[0:n]` */
static int fw_has(const char *s, Py_ssize_t n, const char *what) {
    size_t wn = strlen(what);
    if (n < (Py_ssize_t)wn) return 0;
    return memmem(s, (size_t)n, what, wn) != NULL;
}

static inline int fw_eq(const char *s, Py_ssize_t n, const char *what) {
    return (Py_ssize_t)strlen(what) == n && memcmp(s, what, (size_t)n) == 0;
}

/* base.is_ip on printable ASCII text:
 *   ^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?)$
 * Each part is decided by one scan: a run of digits (hex digits) ends at a `.` (`:`), which the
 * class refuses, so no shorter run can be followed by what the pattern needs next. */
static int fw_is_ip(const char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    int g;
    for (g = 0; g < 4; g++) {
        Py_ssize_t d = i;
        while (i < n && fw_digit(s[i])) i++;
        if (i - d < 1 || i - d > 3) break;
        if (g < 3) {
            if (i < n && s[i] == '.') i++;
            else break;
        }
    }
    if (g == 4 && i == n) return 1;
    i = 0;
    while (i < n && fw_hex(s[i])) i++;
    if (i > 4) return 0;
    int groups = 0;
    while (i < n && s[i] == ':' && groups < 7) {
        Py_ssize_t d = ++i;
        while (i < n && fw_hex(s[i])) i++;
        if (i - d > 4) return 0;
        groups++;
    }
    if (groups < 2) return 0;
    if (i == n) return 1;
    if (s[i] != '%') return 0;
    Py_ssize_t w = ++i;
    while (i < n && fw_word(s[i])) i++;
    return i > w && i == n;
}

/* a str's ASCII characters, or NULL when it is not an ASCII str */
static const char *fw_ascii(PyObject *v, Py_ssize_t *n) {
    if (v == NULL || !PyUnicode_Check(v) || !PyUnicode_IS_ASCII(v)) return NULL;
    *n = PyUnicode_GET_LENGTH(v);
    return (const char *)PyUnicode_DATA(v);
}

static PyObject *S_TRUE, *S_FALSE, *S_FIREWALL_T, *S_EMPTY_T, *S_NETWORK_PROTOCOL, *S_USER, *S_SRC_IP, *S_DST_IP,
    *S_SRC_HOST, *S_DST_HOST, *S_ACTION, *S_BLOCKED, *S_SRC_PORT, *S_DST_PORT, *S_PROTO;
static PyObject *IANA; /* base.IANA_PROTO */

static int fw_intern(PyObject **slot, const char *text) {
    if (*slot == NULL && (*slot = PyUnicode_InternFromString(text)) == NULL) return -1;
    return 0;
}

static int fw_common_init(void) {
    static int ready = 0;
    if (ready) return 0;
    if (fw_intern(&S_TRUE, "true") < 0 || fw_intern(&S_FALSE, "false") < 0 ||
        fw_intern(&S_NETWORK_PROTOCOL, "network_protocol") < 0 || fw_intern(&S_USER, "user") < 0 ||
        fw_intern(&S_SRC_IP, "src_ip") < 0 || fw_intern(&S_DST_IP, "dst_ip") < 0 ||
        fw_intern(&S_SRC_HOST, "src_host") < 0 || fw_intern(&S_DST_HOST, "dst_host") < 0 ||
        fw_intern(&S_ACTION, "action") < 0 || fw_intern(&S_BLOCKED, "blocked") < 0 ||
        fw_intern(&S_SRC_PORT, "src_port") < 0 || fw_intern(&S_DST_PORT, "dst_port") < 0 ||
        fw_intern(&S_PROTO, "proto") < 0)
        return -1;
    if (S_EMPTY_T == NULL && (S_EMPTY_T = PyTuple_New(0)) == NULL) return -1;
    if (S_FIREWALL_T == NULL && (S_FIREWALL_T = Py_BuildValue("(s)", "firewall")) == NULL) return -1;
    ready = 1;
    return 0;
}

/* base.transport(v) for a str v of printable ASCII: v.strip().lower() (spaces are the only
 * whitespace here), IANA_PROTO's name for a number; None (a new reference) when empty */
static PyObject *fw_transport(const char *v, Py_ssize_t n) {
    Py_ssize_t a = 0, b = n;
    while (a < b && v[a] == ' ') a++;
    while (b > a && v[b - 1] == ' ') b--;
    if (a == b) Py_RETURN_NONE;
    PyObject *low = PyUnicode_New(b - a, 127);
    if (low == NULL) return NULL;
    char *o = (char *)PyUnicode_DATA(low);
    for (Py_ssize_t k = a; k < b; k++) o[k - a] = (v[k] >= 'A' && v[k] <= 'Z') ? (char)(v[k] + 32) : v[k];
    if (IANA != NULL) {
        PyObject *named = PyDict_GetItemWithError(IANA, low);
        if (named != NULL) {
            Py_DECREF(low);
            Py_INCREF(named);
            return named;
        }
        if (PyErr_Occurred()) {
            Py_DECREF(low);
            return NULL;
        }
    }
    return low;
}

/* d[key] = v, v consumed (NULL: its error is set). 0, or -1 with an error set. */
static int fw_put(PyObject *d, PyObject *key, PyObject *v) {
    if (v == NULL) return -1;
    int rc = PyDict_SetItem(d, key, v);
    Py_DECREF(v);
    return rc;
}

/* d[new] = d.pop(old): the value moved to the end of the dict's order */
static int fw_rename(PyObject *d, PyObject *old, PyObject *new) {
    PyObject *v = PyDict_GetItemWithError(d, old);
    if (v == NULL) return PyErr_Occurred() ? -1 : 0;
    Py_INCREF(v);
    if (PyDict_DelItem(d, old) < 0) {
        Py_DECREF(v);
        return -1;
    }
    return fw_put(d, new, v);
}

/* ============================================================================================
 * Palo Alto: paloalto.parse_paloalto for a CSV line (`<future>,<receive time>,<serial>,<TYPE>,
 * <subtype>,...`), i.e. _csv() and _finish(). The field tables are paloalto.py's own, handed
 * over once by paloalto_setup (so the two cannot drift apart).
 *
 * csv.reader's default dialect on one line of printable ASCII: a field starting with `"` is
 * quoted, `""` in it one `"`, and its closing `"` must be followed by `,` or the end (else:
 * None; csv would append the rest, which this does not try); any other `"` is a plain
 * character. A quoted field left open, or a field past 100,000 characters (csv's own limit is
 * 131,072), gives None.
 * _finish: empty values dropped; _INT_FIELDS read by int() when all digits (up to 18 of them;
 * a value int() might read otherwise, with a sign, `_` or spaces, gives None); `proto` read by
 * base.transport; the user (src_user, user, dst_user) bare, or an `x-fwd-for: ` one moved to
 * xff; src_ip/dst_ip that are no addresses renamed to _host; a THREAT url's misc as c-uri;
 * TRAFFIC's `blocked`. A SYSTEM line with a description goes back to Python for _finish (its
 * description regexes), as (kind, subtype, fields, False): the fields as _csv builds them.
 * ============================================================================================ */

#define PA_MAX_TYPES 32
#define PA_MAX_MAP 96
#define PA_MAX_FIELDS 128
typedef struct {
    PyObject *name;         /* the log type, as paloalto._TYPES spells it */
    PyObject *services;     /* (name.lower(),) */
    int n;                  /* entries of its _BY_TYPE map */
    int idx[PA_MAX_MAP];    /* CSV positions */
    PyObject *key[PA_MAX_MAP];
    char is_int[PA_MAX_MAP]; /* the key is one of _INT_FIELDS */
} pa_type;

static pa_type PA[PA_MAX_TYPES];
static int PA_N = 0, PA_TRAFFIC = -1, PA_THREAT = -1, PA_SYSTEM = -1, PA_CONFIG = -1;
static PyObject *PA_BLOCKING; /* paloalto._BLOCKING */
static PyObject *S_LOG_TYPE, *S_LOG_SUBTYPE, *S_SERIAL, *S_SRC_USER, *S_DST_USER, *S_DESCRIPTION, *S_XFF,
    *S_MISC, *S_C_URI;

PyObject *fw_paloalto_setup(PyObject *self, PyObject *args) {
    PyObject *types, *by_type, *int_fields, *blocking, *iana;
    if (!PyArg_ParseTuple(args, "O!O!OOO!:paloalto_setup", &PyTuple_Type, &types, &PyDict_Type, &by_type,
                          &int_fields, &blocking, &PyDict_Type, &iana))
        return NULL;
    if (fw_common_init() < 0 || fw_intern(&S_LOG_TYPE, "log_type") < 0 ||
        fw_intern(&S_LOG_SUBTYPE, "log_subtype") < 0 || fw_intern(&S_SERIAL, "serial") < 0 ||
        fw_intern(&S_SRC_USER, "src_user") < 0 || fw_intern(&S_DST_USER, "dst_user") < 0 ||
        fw_intern(&S_DESCRIPTION, "description") < 0 || fw_intern(&S_XFF, "xff") < 0 ||
        fw_intern(&S_MISC, "misc") < 0 || fw_intern(&S_C_URI, "c-uri") < 0)
        return NULL;
    Py_ssize_t nt = PyTuple_GET_SIZE(types);
    if (nt > PA_MAX_TYPES) {
        PyErr_SetString(PyExc_ValueError, "paloalto_setup: too many log types");
        return NULL;
    }
    PA_N = 0; /* (a second call replaces the tables; the old references stay: a few strings) */
    for (Py_ssize_t t = 0; t < nt; t++) {
        PyObject *name = PyTuple_GET_ITEM(types, t);
        Py_ssize_t ln;
        const char *txt = fw_ascii(name, &ln);
        if (txt == NULL) {
            PyErr_SetString(PyExc_ValueError, "paloalto_setup: a log type is not ASCII text");
            return NULL;
        }
        pa_type *pt = &PA[t];
        Py_INCREF(name);
        pt->name = name;
        PyObject *low = PyObject_CallMethod(name, "lower", NULL);
        if (low == NULL) return NULL;
        pt->services = PyTuple_Pack(1, low);
        Py_DECREF(low);
        if (pt->services == NULL) return NULL;
        pt->n = 0;
        PyObject *map = PyDict_GetItemWithError(by_type, name);
        if (map == NULL && PyErr_Occurred()) return NULL;
        if (map != NULL) {
            if (!PyDict_Check(map) || PyDict_GET_SIZE(map) > PA_MAX_MAP) {
                PyErr_SetString(PyExc_ValueError, "paloalto_setup: a field map is not a small dict");
                return NULL;
            }
            Py_ssize_t pos = 0;
            PyObject *k, *v;
            while (PyDict_Next(map, &pos, &k, &v)) {
                long i = PyLong_AsLong(k);
                if (i == -1 && PyErr_Occurred()) return NULL;
                if (i < 0 || i >= PA_MAX_FIELDS || !PyUnicode_Check(v)) {
                    PyErr_SetString(PyExc_ValueError, "paloalto_setup: a position out of range");
                    return NULL;
                }
                int isint = PySequence_Contains(int_fields, v);
                if (isint < 0) return NULL;
                Py_INCREF(v);
                pt->idx[pt->n] = (int)i;
                pt->key[pt->n] = v;
                pt->is_int[pt->n] = (char)isint;
                pt->n++;
            }
        }
        if (fw_eq(txt, ln, "TRAFFIC")) PA_TRAFFIC = (int)t;
        if (fw_eq(txt, ln, "THREAT")) PA_THREAT = (int)t;
        if (fw_eq(txt, ln, "SYSTEM")) PA_SYSTEM = (int)t;
        if (fw_eq(txt, ln, "CONFIG")) PA_CONFIG = (int)t;
    }
    Py_INCREF(blocking);
    PA_BLOCKING = blocking;
    Py_INCREF(iana);
    IANA = iana;
    PA_N = (int)nt;
    Py_RETURN_NONE;
}

/* the log type spelled s[0:n], or -1 */
static int pa_type_of(const char *s, Py_ssize_t n) {
    for (int t = 0; t < PA_N; t++) {
        Py_ssize_t ln = PyUnicode_GET_LENGTH(PA[t].name);
        if (ln == n && memcmp(PyUnicode_DATA(PA[t].name), s, (size_t)n) == 0) return t;
    }
    return -1;
}

/* paloalto._CSV_TYPE.search(text, 0, 100) is not None: `,TYPE,` ending within s[0:n] */
static int pa_type_within(const char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] != ',') continue;
        Py_ssize_t j = i + 1;
        while (j < n && s[j] >= 'A' && s[j] <= 'Z') j++;
        if (j < n && s[j] == ',' && pa_type_of(s + i + 1, j - i - 1) >= 0) return 1;
    }
    return 0;
}

typedef struct {
    Py_ssize_t a, b; /* the value's characters, quotes excluded */
    char dq;         /* holds `""` pairs to turn into `"` */
} pa_field;

/* a CSV field's value as a str */
static PyObject *pa_value(const char *s, const pa_field *f) {
    if (!f->dq) return ascii_sub(s, f->a, f->b);
    char *buf = PyMem_Malloc((size_t)(f->b - f->a) + 1);
    if (buf == NULL) return PyErr_NoMemory();
    Py_ssize_t o = 0;
    for (Py_ssize_t k = f->a; k < f->b; k++) {
        buf[o++] = s[k];
        if (s[k] == '"') k++; /* (a `"` inside is always doubled) */
    }
    PyObject *r = ascii_sub(buf, 0, o);
    PyMem_Free(buf);
    return r;
}

/* _bare_user(u): `\\` -> `\`, the part after the last `\`, then before the first `@` when one
 * follows the first character */
static PyObject *pa_bare_user(const char *u, Py_ssize_t n) {
    char *buf = PyMem_Malloc((size_t)n + 1);
    if (buf == NULL) return PyErr_NoMemory();
    Py_ssize_t m = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        buf[m++] = u[k];
        if (u[k] == '\\' && k + 1 < n && u[k + 1] == '\\') k++;
    }
    Py_ssize_t a = 0;
    for (Py_ssize_t k = m - 1; k >= 0; k--)
        if (buf[k] == '\\') {
            a = k + 1;
            break;
        }
    Py_ssize_t b = m;
    if (m - a > 1 && memchr(buf + a + 1, '@', (size_t)(m - a - 1)) != NULL) {
        b = (const char *)memchr(buf + a, '@', (size_t)(m - a)) - buf;
    }
    PyObject *r = ascii_sub(buf, a, b);
    PyMem_Free(buf);
    return r;
}

/* an int field's value: 1 (*out an int), 0 (stays a str), -1 (undecided: None to the caller),
 * -2 (error) */
static int pa_int(const char *s, Py_ssize_t a, Py_ssize_t b, PyObject **out) {
    int all = 1, odd = 1;
    for (Py_ssize_t k = a; k < b; k++) {
        char c = s[k];
        if (!fw_digit(c)) all = 0;
        if (!(fw_digit(c) || c == '+' || c == '-' || c == '_' || c == ' ')) odd = 0;
    }
    if (all && b - a <= 18) {
        long long v = 0;
        for (Py_ssize_t k = a; k < b; k++) v = v * 10 + (s[k] - '0');
        *out = PyLong_FromLongLong(v);
        return *out == NULL ? -2 : 1;
    }
    return odd ? -1 : 0; /* (only digits, signs, `_` and spaces: int() may read it) */
}

PyObject *fw_paloalto_line(PyObject *self, PyObject *msg) {
    if (!PyUnicode_Check(msg)) {
        PyErr_SetString(PyExc_TypeError, "paloalto_line() takes a str");
        return NULL;
    }
    if (PA_N == 0 || !PyUnicode_IS_ASCII(msg)) Py_RETURN_NONE;
    const char *s = (const char *)PyUnicode_DATA(msg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(msg);
    if (n < 2 || s[0] == ' ' || s[n - 1] == ' ' || !fw_printable(s, n)) Py_RETURN_NONE;
    if (fw_has(s, n < 60 ? n : 60, "|Palo Alto Networks|")) Py_RETURN_NONE; /* the CEF reading */
    Py_ssize_t p = 0;
    if (s[0] == ':')
        while (p < n && (s[p] == ':' || s[p] == ' ')) p++;
    const char *t = s + p;
    Py_ssize_t m = n - p;
    if (m < 2 || !fw_digit(t[0]) || t[1] != ',') Py_RETURN_NONE;
    if (!pa_type_within(t, m < 100 ? m : 100)) Py_RETURN_NONE;
    pa_field f[PA_MAX_FIELDS];
    int nf = 0;
    Py_ssize_t i = 0;
    for (;;) {
        pa_field cur = {i, i, 0};
        if (i < m && t[i] == '"') {
            Py_ssize_t k = i + 1;
            for (;;) {
                if (k >= m) Py_RETURN_NONE; /* left open */
                if (t[k] == '"') {
                    if (k + 1 < m && t[k + 1] == '"') {
                        cur.dq = 1;
                        k += 2;
                        continue;
                    }
                    break;
                }
                k++;
            }
            cur.a = i + 1;
            cur.b = k;
            i = k + 1;
            if (i < m && t[i] != ',') Py_RETURN_NONE; /* `"a"b`: csv appends b */
        } else {
            const char *c = memchr(t + i, ',', (size_t)(m - i));
            i = c != NULL ? c - t : m;
            cur.b = i;
        }
        if (cur.b - cur.a > 100000) Py_RETURN_NONE;
        if (nf < PA_MAX_FIELDS) f[nf] = cur;
        nf++;
        if (i >= m) break;
        i++;
    }
    if (nf < 8 || f[3].dq) Py_RETURN_NONE;
    int ty = pa_type_of(t + f[3].a, f[3].b - f[3].a);
    if (ty < 0) Py_RETURN_NONE;
    const pa_type *pt = &PA[ty];
    int nrow = nf < PA_MAX_FIELDS ? nf : PA_MAX_FIELDS;
    /* the fields _csv builds, then handed to _finish in Python: a SYSTEM line with a description */
    int raw = 0;
    if (ty == PA_SYSTEM || ty == PA_CONFIG) {
        for (int e = 0; e < pt->n; e++)
            if (pt->idx[e] < nrow && PyUnicode_Compare(pt->key[e], S_DESCRIPTION) == 0 &&
                f[pt->idx[e]].b > f[pt->idx[e]].a)
                raw = 1;
    }
    PyObject *fields = PyDict_New();
    if (fields == NULL) return NULL;
    PyObject *subtype = pa_value(t, &f[4]);
    if (subtype == NULL) goto fail;
    if (PyDict_SetItem(fields, S_LOG_TYPE, pt->name) < 0) goto fail_sub;
    if ((raw || f[4].b > f[4].a) && PyDict_SetItem(fields, S_LOG_SUBTYPE, subtype) < 0) goto fail_sub;
    if ((raw || f[2].b > f[2].a) && fw_put(fields, S_SERIAL, pa_value(t, &f[2])) < 0) goto fail_sub;
    for (int e = 0; e < pt->n; e++) {
        int k = pt->idx[e];
        if (k >= nrow) continue;
        const pa_field *fk = &f[k];
        if (!raw && fk->b == fk->a) continue; /* _finish drops empty values */
        PyObject *v = NULL;
        if (!raw && pt->is_int[e] && !fk->dq) {
            int got = pa_int(t, fk->a, fk->b, &v);
            if (got == -2) goto fail_sub;
            if (got == -1) {
                Py_DECREF(subtype);
                Py_DECREF(fields);
                Py_RETURN_NONE;
            }
        } else if (!raw && pt->is_int[e]) { /* a quoted value: int() of it, when not plain text */
            Py_DECREF(subtype);
            Py_DECREF(fields);
            Py_RETURN_NONE;
        }
        if (v == NULL) v = pa_value(t, fk);
        if (fw_put(fields, pt->key[e], v) < 0) goto fail_sub;
    }
    if (raw) {
        PyObject *r = Py_BuildValue("(ONNO)", pt->name, subtype, fields, Py_False);
        return r;
    }
    /* _finish */
    PyObject *proto = PyDict_GetItemWithError(fields, S_PROTO);
    if (proto == NULL && PyErr_Occurred()) goto fail_sub;
    Py_ssize_t ln;
    const char *txt;
    if (proto != NULL) {
        if ((txt = fw_ascii(proto, &ln)) == NULL) goto decline;
        if (fw_put(fields, S_NETWORK_PROTOCOL, fw_transport(txt, ln)) < 0) goto fail_sub;
    }
    PyObject *user = NULL, *keys[3] = {S_SRC_USER, S_USER, S_DST_USER};
    for (int k = 0; k < 3 && user == NULL; k++) {
        user = PyDict_GetItemWithError(fields, keys[k]);
        if (user == NULL && PyErr_Occurred()) goto fail_sub;
    }
    if (user != NULL) {
        if ((txt = fw_ascii(user, &ln)) == NULL) goto decline;
        if (ln >= 11 && memcmp(txt, "x-fwd-for: ", 11) == 0) {
            PyObject *had = PyDict_GetItemWithError(fields, S_XFF);
            if (had == NULL && PyErr_Occurred()) goto fail_sub;
            if (had == NULL && fw_put(fields, S_XFF, ascii_sub(txt, 11, ln)) < 0) goto fail_sub;
            if (PyDict_GetItemWithError(fields, S_SRC_USER) != NULL) {
                if (PyDict_DelItem(fields, S_SRC_USER) < 0) goto fail_sub;
            } else if (PyErr_Occurred()) {
                goto fail_sub;
            }
        } else if (fw_put(fields, S_USER, pa_bare_user(txt, ln)) < 0) {
            goto fail_sub;
        }
    }
    PyObject *ipkeys[2] = {S_SRC_IP, S_DST_IP}, *hostkeys[2] = {S_SRC_HOST, S_DST_HOST};
    for (int k = 0; k < 2; k++) {
        PyObject *v = PyDict_GetItemWithError(fields, ipkeys[k]);
        if (v == NULL) {
            if (PyErr_Occurred()) goto fail_sub;
            continue;
        }
        if ((txt = fw_ascii(v, &ln)) == NULL) goto decline;
        if (!fw_is_ip(txt, ln) && fw_rename(fields, ipkeys[k], hostkeys[k]) < 0) goto fail_sub;
    }
    if (ty == PA_THREAT && PyUnicode_CompareWithASCIIString(subtype, "url") == 0) {
        PyObject *misc = PyDict_GetItemWithError(fields, S_MISC);
        if (misc == NULL && PyErr_Occurred()) goto fail_sub;
        if (misc != NULL && PyDict_SetItem(fields, S_C_URI, misc) < 0) goto fail_sub;
    }
    PyObject *cats = S_EMPTY_T;
    if (ty == PA_TRAFFIC) {
        cats = S_FIREWALL_T;
        PyObject *act = PyDict_GetItemWithError(fields, S_ACTION);
        if (act == NULL && PyErr_Occurred()) goto fail_sub;
        int blocked = 0;
        if (act != NULL) {
            if ((txt = fw_ascii(act, &ln)) == NULL) goto decline;
            PyObject *low = PyUnicode_New(ln, 127);
            if (low == NULL) goto fail_sub;
            char *o = (char *)PyUnicode_DATA(low);
            for (Py_ssize_t k = 0; k < ln; k++) o[k] = (txt[k] >= 'A' && txt[k] <= 'Z') ? (char)(txt[k] + 32) : txt[k];
            blocked = PySequence_Contains(PA_BLOCKING, low);
            Py_DECREF(low);
            if (blocked < 0) goto fail_sub;
        }
        if (PyDict_SetItem(fields, S_BLOCKED, blocked ? S_TRUE : S_FALSE) < 0) goto fail_sub;
    }
    Py_DECREF(subtype);
    return Py_BuildValue("(NOO)", fields, pt->services, cats);
decline:
    Py_DECREF(subtype);
    Py_DECREF(fields);
    Py_RETURN_NONE;
fail_sub:
    Py_DECREF(subtype);
fail:
    Py_DECREF(fields);
    return NULL;
}

/* FortiGate: not yet (Python reads every line). */
PyObject *fw_fortigate_line(PyObject *self, PyObject *msg) { Py_RETURN_NONE; }
