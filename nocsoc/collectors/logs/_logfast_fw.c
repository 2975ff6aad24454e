/*
 * _logfast_fw: C twins of the firewall parsers (paloalto.py's CSV reading, fortigate.py's
 * key=value reading), compiled into the _logfast extension (see _logfast_fw.h).
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

#include <stdint.h>
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
int fw_printable(const char *s, Py_ssize_t n) {
    /* eight at a time: a byte below 0x20, or a byte 0x7f (a zero byte of x ^ 0x7f..), sets the top
     * bit of its lane (exact for bytes below 0x80, which ASCII text is) */
    const uint64_t ones = 0x0101010101010101ULL, tops = 0x8080808080808080ULL;
    Py_ssize_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t x, y;
        memcpy(&x, s + k, 8);
        y = x ^ (ones * 0x7f);
        if (((x - ones * 0x20) & ~x & tops) | ((y - ones) & ~y & tops)) return 0;
    }
    for (; k < n; k++)
        if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f) return 0;
    return 1;
}

/* `what in s[0:n]` (its first character by memchr, then the rest compared: glibc's memmem
 * costs ~400 instructions a call to set up, more than a FortiGate line's whole search) */
static int fw_has(const char *s, Py_ssize_t n, const char *what) {
    size_t wn = strlen(what);
    if (n < (Py_ssize_t)wn || wn == 0) return wn == 0;
    const char *p = s, *last = s + n - wn;
    while (p <= last && (p = memchr(p, what[0], (size_t)(last - p) + 1)) != NULL) {
        if (memcmp(p + 1, what + 1, wn - 1) == 0) return 1;
        p++;
    }
    return 0;
}

static inline int fw_eq(const char *s, Py_ssize_t n, const char *what) {
    return (Py_ssize_t)strlen(what) == n && memcmp(s, what, (size_t)n) == 0;
}

/* A twin's one str argument: 1 with its ASCII text in *s[0:*n]; 0: a str that is not ASCII
 * (the twin declines: Python reads it); -1: not a str (TypeError naming the twin `fn`). Why one
 * helper: every twin taking a line begins so. */
static int fw_text(PyObject *msg, const char *fn, const char **s, Py_ssize_t *n) {
    if (!PyUnicode_Check(msg)) {
        PyErr_Format(PyExc_TypeError, "%s() takes a str", fn);
        return -1;
    }
    if (!PyUnicode_IS_ASCII(msg)) return 0;
    *s = (const char *)PyUnicode_DATA(msg);
    *n = PyUnicode_GET_LENGTH(msg);
    return 1;
}

/* The twins' shared fail path: drop the references a twin holds (any may be NULL) and return
 * NULL, its error already set. */
static PyObject *fw_fail(PyObject *a, PyObject *b, PyObject *c) {
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(c);
    return NULL;
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
static PyObject *PA_INTS;     /* paloalto._INT_FIELDS, as a tuple */
static PyObject *PA_CEF_MAP, *PA_JSON_MAP; /* paloalto._CEF_MAP, _JSON_MAP */
static PyObject *PA_PANOS, *PA_JSON_NAMES; /* CEF `PanOSx` -> `panos.x`, JSON `x` -> `panos.x` (bounded) */
static PyObject *S_LOG_TYPE, *S_LOG_SUBTYPE, *S_SERIAL, *S_SRC_USER, *S_DST_USER, *S_DESCRIPTION, *S_XFF,
    *S_MISC, *S_C_URI, *S_REQUEST, *S_LOGTYPE, *S_SUBTYPE_J, *S_SUBTYPE_J2, *S_EMPTY, *S_EVENT_ID, *S_OUTCOME,
    *S_SUCCESS, *S_FAILURE;

static void pa_keys_clear(void);
static void pa_class_init(void);

PyObject *fw_paloalto_setup(PyObject *self, PyObject *args) {
    PyObject *types, *by_type, *int_fields, *blocking, *iana, *cef_map, *json_map;
    if (!PyArg_ParseTuple(args, "O!O!OOO!O!O!:paloalto_setup", &PyTuple_Type, &types, &PyDict_Type, &by_type,
                          &int_fields, &blocking, &PyDict_Type, &iana, &PyDict_Type, &cef_map, &PyDict_Type,
                          &json_map))
        return NULL;
    if (fw_common_init() < 0 || fw_intern(&S_LOG_TYPE, "log_type") < 0 ||
        fw_intern(&S_LOG_SUBTYPE, "log_subtype") < 0 || fw_intern(&S_SERIAL, "serial") < 0 ||
        fw_intern(&S_SRC_USER, "src_user") < 0 || fw_intern(&S_DST_USER, "dst_user") < 0 ||
        fw_intern(&S_DESCRIPTION, "description") < 0 || fw_intern(&S_XFF, "xff") < 0 ||
        fw_intern(&S_MISC, "misc") < 0 || fw_intern(&S_C_URI, "c-uri") < 0 ||
        fw_intern(&S_REQUEST, "request") < 0 || fw_intern(&S_LOGTYPE, "LogType") < 0 ||
        fw_intern(&S_SUBTYPE_J, "Subtype") < 0 || fw_intern(&S_SUBTYPE_J2, "SubType") < 0 ||
        fw_intern(&S_EMPTY, "") < 0 || fw_intern(&S_EVENT_ID, "event_id") < 0 ||
        fw_intern(&S_OUTCOME, "outcome") < 0 || fw_intern(&S_SUCCESS, "success") < 0 ||
        fw_intern(&S_FAILURE, "failure") < 0)
        return NULL;
    if (PA_PANOS == NULL && (PA_PANOS = PyDict_New()) == NULL) return NULL;
    if (PA_JSON_NAMES == NULL && (PA_JSON_NAMES = PyDict_New()) == NULL) return NULL;
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
    if ((PA_INTS = PySequence_Tuple(int_fields)) == NULL) return NULL;
    Py_INCREF(cef_map);
    PA_CEF_MAP = cef_map;
    Py_INCREF(json_map);
    PA_JSON_MAP = json_map;
    Py_INCREF(iana);
    IANA = iana;
    pa_keys_clear(); /* (names from the old maps) */
    pa_class_init();
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
        if (!(fw_digit(c) || c == '+' || c == '-' || c == '_' || (unsigned char)c <= ' ')) odd = 0;
    }
    if (all && b - a <= 18) {
        long long v = 0;
        for (Py_ssize_t k = a; k < b; k++) v = v * 10 + (s[k] - '0');
        *out = PyLong_FromLongLong(v);
        return *out == NULL ? -2 : 1;
    }
    return odd ? -1 : 0; /* (only digits, signs, `_`, whitespace and controls: int() may read it) */
}

/* a str value _finish reads as text: 1 (printable ASCII: *t, *n), 0 (anything else: undecided) */
static int pa_text(PyObject *v, const char **t, Py_ssize_t *n) {
    *t = fw_ascii(v, n);
    return *t != NULL && fw_printable(*t, *n);
}

/* lower-cased ASCII as a new str */
static PyObject *pa_lower(const char *t, Py_ssize_t n) {
    PyObject *low = PyUnicode_New(n, 127);
    if (low == NULL) return NULL;
    char *o = (char *)PyUnicode_DATA(low);
    for (Py_ssize_t k = 0; k < n; k++) o[k] = (t[k] >= 'A' && t[k] <= 'Z') ? (char)(t[k] + 32) : t[k];
    return low;
}

/* --- _finish's reading of a SYSTEM/CONFIG description (printable ASCII d[0:n]; \s is then the
 * space alone). Each regex of paloalto.py is walked as re.search walks it: start positions left
 * to right, its alternatives in order; the comments say why each quantifier is decided by one
 * scan (a shorter repeat is followed by a character of its own class, which what comes next
 * refuses), or how the lazy one is tried. */

/* d[i:] starts with the (non-empty) literal; its first character is compared first: the walks
 * below try several literals at every position of a description (~2/3 of a SYSTEM line's
 * instructions went to strlen and memcmp before) */
static inline int pa_at(const char *d, Py_ssize_t n, Py_ssize_t i, const char *lit) {
    if (i < 0 || i >= n || d[i] != lit[0]) return 0;
    size_t k = strlen(lit);
    return (size_t)(n - i) >= k && memcmp(d + i, lit, k) == 0;
}

/* \d{1,3}(?:\.\d{1,3}){3} at d[j:] (no anchor after it): its end, or -1. The first three runs
 * must be 1-3 digits followed by `.`; the last takes up to three digits. */
static Py_ssize_t pa_v4(const char *d, Py_ssize_t n, Py_ssize_t j) {
    Py_ssize_t k = j;
    for (int g = 0; g < 3; g++) {
        Py_ssize_t a = k;
        while (k < n && fw_digit(d[k])) k++;
        if (k - a < 1 || k - a > 3 || k >= n || d[k] != '.') return -1;
        k++;
    }
    Py_ssize_t a = k;
    while (k < n && k - a < 3 && fw_digit(d[k])) k++;
    return k > a ? k : -1;
}

/* _AUTH_USER: (?:authenticated for user|authentication for user|authenticating user|failed
 * authentication for user|job succeeded +for user) '?(?P<user>[^'\s]+?)'?(?:\.\s|\.?$|'|,|\s)
 * At most one alternative starts at a position (they differ within their first words; ` +` is
 * followed by `f`). `'?` is greedy, and without it the user would start at `'`, which its class
 * refuses. The lazy user is tried one character longer at a time, `'?` with then without. */
static int pa_auth_user(const char *d, Py_ssize_t n, Py_ssize_t *u0, Py_ssize_t *u1) {
    static const char *const ALTS[4] = {"authenticated for user", "authentication for user", "authenticating user",
                                        "failed authentication for user"};
    for (Py_ssize_t i = 0; i < n; i++) {
        if (d[i] != 'a' && d[i] != 'f' && d[i] != 'j') continue; /* (no alternative starts here) */
        Py_ssize_t j = -1;
        for (int a = 0; a < 4 && j < 0; a++)
            if (pa_at(d, n, i, ALTS[a])) j = i + (Py_ssize_t)strlen(ALTS[a]);
        if (j < 0 && pa_at(d, n, i, "job succeeded ")) {
            Py_ssize_t k = i + 13;
            while (k < n && d[k] == ' ') k++;
            if (pa_at(d, n, k, "for user")) j = k + 8;
        }
        if (j < 0 || j >= n || d[j] != ' ') continue;
        Py_ssize_t a = j + 1;
        if (a < n && d[a] == '\'') a++;
        for (Py_ssize_t e = a + 1; e <= n && d[e - 1] != '\'' && d[e - 1] != ' '; e++) {
            for (int q = 1; q >= 0; q--) { /* `'?` greedy: with the quote first */
                Py_ssize_t p = e;
                if (q) {
                    if (p < n && d[p] == '\'') p++;
                    else continue;
                }
                if ((p < n && d[p] == '.' && p + 1 < n && d[p + 1] == ' ') || (p < n && d[p] == '.' && p + 1 == n) ||
                    p == n || (p < n && (d[p] == '\'' || d[p] == ',' || d[p] == ' '))) {
                    *u0 = a;
                    *u1 = e;
                    return 1;
                }
            }
        }
    }
    return 0;
}

/* _FROM: (?:From: ?|from '?|initiated by:? )(?P<ip>\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+)
 * The optional characters are greedy, and without them the address would start at a space or a
 * quote, which neither branch takes. The second branch: a run of hex digits must meet `:` (a
 * shorter run meets a hex digit), then the longest run of [0-9A-Fa-f:.]. */
static int pa_from(const char *d, Py_ssize_t n, Py_ssize_t *a, Py_ssize_t *b) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (d[i] != 'F' && d[i] != 'f' && d[i] != 'i') continue; /* (no alternative starts here) */
        Py_ssize_t j = -1;
        if (pa_at(d, n, i, "From:")) {
            j = i + 5;
            if (j < n && d[j] == ' ') j++;
        } else if (pa_at(d, n, i, "from ")) {
            j = i + 5;
            if (j < n && d[j] == '\'') j++;
        } else if (pa_at(d, n, i, "initiated by")) {
            j = i + 12;
            if (j < n && d[j] == ':') j++;
            if (j < n && d[j] == ' ') j++;
            else j = -1;
        }
        if (j < 0) continue;
        Py_ssize_t e = pa_v4(d, n, j);
        if (e < 0) {
            Py_ssize_t k = j;
            while (k < n && fw_hex(d[k])) k++;
            if (k < n && d[k] == ':') {
                Py_ssize_t r = ++k;
                while (k < n && (fw_hex(d[k]) || d[k] == ':' || d[k] == '.')) k++;
                if (k > r) e = k;
            }
        }
        if (e >= 0) {
            *a = j;
            *b = e;
            return 1;
        }
    }
    return 0;
}

/* _SERVER: (?:[Ss]erver [Aa]ddress '?|connected to server |connect to address: )
 *          (?P<ip>\d{1,3}(?:\.\d{1,3}){3})'?(?:(?::| port: )(?P<port>\d+))?
 * (after the address everything is optional: the first reading stands, quote taken if there) */
static int pa_server(const char *d, Py_ssize_t n, Py_ssize_t *a, Py_ssize_t *b, Py_ssize_t *p0, Py_ssize_t *p1) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (d[i] != 'S' && d[i] != 's' && d[i] != 'c') continue; /* (no alternative starts here) */
        Py_ssize_t j = -1;
        if ((d[i] == 'S' || d[i] == 's') && pa_at(d, n, i + 1, "erver ") && i + 7 < n &&
            (d[i + 7] == 'A' || d[i + 7] == 'a') && pa_at(d, n, i + 8, "ddress ")) {
            j = i + 15;
            if (j < n && d[j] == '\'') j++;
        } else if (pa_at(d, n, i, "connected to server ") || pa_at(d, n, i, "connect to address: ")) {
            j = i + 20;
        }
        if (j < 0) continue;
        Py_ssize_t e = pa_v4(d, n, j);
        if (e < 0) continue;
        *a = j;
        *b = e;
        *p0 = *p1 = -1;
        Py_ssize_t p = e;
        if (p < n && d[p] == '\'') p++;
        Py_ssize_t q = -1;
        if (p < n && d[p] == ':' && p + 1 < n && fw_digit(d[p + 1])) q = p + 1;
        else if (pa_at(d, n, p, " port: ") && p + 7 < n && fw_digit(d[p + 7])) q = p + 7;
        if (q >= 0) {
            Py_ssize_t r = q;
            while (r < n && fw_digit(d[r])) r++;
            *p0 = q;
            *p1 = r;
        }
        return 1;
    }
    return 0;
}

static inline int pa_by_char(char c) {
    return fw_word(c) || c == '.' || c == '@' || c == '\\' || c == '-';
}

/* _ADMIN_USER: ^User (?P<user>\S+) logged (?:in|out) via |\bby (?P<by>[A-Za-z_][\w.@\\-]*)\.?$
 * The user is the longest run of non-spaces (a shorter one meets a non-space where ` logged`
 * needs a space); `by`'s run must reach the end (`.` is in its class, so `\.?$` adds nothing). */
static int pa_admin_user(const char *d, Py_ssize_t n, Py_ssize_t *a, Py_ssize_t *b) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (d[i] != 'U' && d[i] != 'b') continue; /* (neither alternative starts here) */
        if (i == 0 && pa_at(d, n, 0, "User ")) {
            Py_ssize_t k = 5;
            while (k < n && d[k] != ' ') k++;
            if (k > 5 && pa_at(d, n, k, " logged ") &&
                (pa_at(d, n, k + 8, "in via ") || pa_at(d, n, k + 8, "out via "))) {
                *a = 5;
                *b = k;
                return 1;
            }
        }
        if ((i == 0 || !fw_word(d[i - 1])) && pa_at(d, n, i, "by ") && i + 3 < n &&
            (d[i + 3] == '_' || (d[i + 3] >= 'A' && d[i + 3] <= 'Z') || (d[i + 3] >= 'a' && d[i + 3] <= 'z'))) {
            Py_ssize_t k = i + 4;
            while (k < n && pa_by_char(d[k])) k++;
            if (k == n) {
                *a = i + 3;
                *b = n;
                return 1;
            }
        }
    }
    return 0;
}

static inline int pa_ipchar(char c) { return fw_digit(c) || c == '.'; }

/* _DHCP.match: DHCP (?:RENEW|BOUND|REBIND)\w*: interface [^,]+, ip (?P<ip>[\d.]+) .*dhcp server: (?P<server>[\d.]+)
 * `[^,]+` ends at the first comma, `.*` backs off to the last `dhcp server: ` followed by [\d.]. */
static int pa_dhcp(const char *d, Py_ssize_t n, Py_ssize_t *i0, Py_ssize_t *i1, Py_ssize_t *s0, Py_ssize_t *s1) {
    Py_ssize_t p;
    if (pa_at(d, n, 5, "RENEW") || pa_at(d, n, 5, "BOUND")) p = 10;
    else if (pa_at(d, n, 5, "REBIND")) p = 11;
    else return 0;
    while (p < n && fw_word(d[p])) p++;
    if (!pa_at(d, n, p, ": interface ")) return 0;
    p += 12;
    const char *c = memchr(d + p, ',', (size_t)(n - p));
    if (c == NULL || c - d == p || !pa_at(d, n, c - d, ", ip ")) return 0;
    Py_ssize_t a = c - d + 5, k = a;
    while (k < n && pa_ipchar(d[k])) k++;
    if (k == a || k >= n || d[k] != ' ') return 0;
    for (Py_ssize_t q = n - 13; q >= k + 1; q--) {
        if (pa_at(d, n, q, "dhcp server: ") && q + 13 < n && pa_ipchar(d[q + 13])) {
            Py_ssize_t r = q + 13;
            while (r < n && pa_ipchar(d[r])) r++;
            *i0 = a;
            *i1 = k;
            *s0 = q + 13;
            *s1 = r;
            return 1;
        }
    }
    return 0;
}

/* _ELECTED.match: CLOUD ELECTION: (?P<host>\S+) IP: (?P<ip>[\d.]+) was elected */
static int pa_elected(const char *d, Py_ssize_t n, Py_ssize_t *h0, Py_ssize_t *h1, Py_ssize_t *i0, Py_ssize_t *i1) {
    if (!pa_at(d, n, 0, "CLOUD ELECTION: ")) return 0;
    Py_ssize_t k = 16;
    while (k < n && d[k] != ' ') k++;
    if (k == 16 || !pa_at(d, n, k, " IP: ")) return 0;
    Py_ssize_t a = k + 5, e = a;
    while (e < n && pa_ipchar(d[e])) e++;
    if (e == a || !pa_at(d, n, e, " was elected")) return 0;
    *h0 = 16;
    *h1 = k;
    *i0 = a;
    *i1 = e;
    return 1;
}

/* fields.setdefault(key, d[a:b]) */
static int pa_setdefault(PyObject *fields, PyObject *key, const char *d, Py_ssize_t a, Py_ssize_t b) {
    PyObject *v = ascii_sub(d, a, b);
    if (v == NULL) return -1;
    PyObject *got = PyDict_SetDefault(fields, key, v);
    Py_DECREF(v);
    return got == NULL ? -1 : 0;
}

/* _finish's `if desc and kind in ("SYSTEM", "CONFIG"):` block on desc d[0:n]; `user` is the
 * user so far (truthy or not): *found gets a new reference to the description's user when it
 * gives one. 0; 1: undecided (None to the caller); -1 on error. */
static int pa_describe(PyObject *fields, PyObject *subtype, const char *d, Py_ssize_t n, int user, PyObject **found) {
    Py_ssize_t a, b, c, e;
    *found = NULL;
    if (pa_auth_user(d, n, &a, &b) && !user) {
        if ((*found = ascii_sub(d, a, b)) == NULL) return -1;
        user = 1;
    }
    if (pa_from(d, n, &a, &b) && pa_setdefault(fields, S_SRC_IP, d, a, b) < 0) goto fail;
    Py_ssize_t p0, p1;
    if (pa_server(d, n, &a, &b, &p0, &p1)) { /* (a dotted quad of 1-3 digit runs: is_ip holds) */
        if (pa_setdefault(fields, S_DST_IP, d, a, b) < 0) goto fail;
        if (p0 >= 0 && p1 - p0 <= 18) {
            long long v = 0;
            for (Py_ssize_t k = p0; k < p1; k++) v = v * 10 + (d[k] - '0');
            PyObject *port = PyLong_FromLongLong(v);
            if (port == NULL) goto fail;
            PyObject *got = PyDict_SetDefault(fields, S_DST_PORT, port);
            Py_DECREF(port);
            if (got == NULL) goto fail;
        }
    }
    if (!user && pa_admin_user(d, n, &a, &b) && !fw_eq(d + a, b - a, "system")) {
        if ((*found = ascii_sub(d, a, b)) == NULL) goto fail;
    }
    if (pa_at(d, n, 0, "DHCP ")) {
        if (pa_dhcp(d, n, &a, &b, &c, &e) &&
            (pa_setdefault(fields, S_SRC_IP, d, a, b) < 0 || pa_setdefault(fields, S_DST_IP, d, c, e) < 0))
            goto fail;
    } else if (pa_elected(d, n, &a, &b, &c, &e) &&
               (pa_setdefault(fields, S_DST_IP, d, c, e) < 0 || pa_setdefault(fields, S_DST_HOST, d, a, b) < 0)) {
        goto fail;
    }
    /* `subtype == "auth" or "auth" in str(event_id)`: outcome by "fail" in event_id + desc[:40] */
    PyObject *ev = PyDict_GetItemWithError(fields, S_EVENT_ID);
    if (ev == NULL && PyErr_Occurred()) goto fail;
    Py_ssize_t en = 0, dn = n < 40 ? n : 40;
    const char *et = "";
    if (ev != NULL && PyUnicode_Check(ev) && (et = fw_ascii(ev, &en)) == NULL) goto undecided;
    if (ev != NULL && !PyUnicode_Check(ev) && !PyLong_CheckExact(ev)) goto undecided; /* (str(int): digits) */
    if (PyUnicode_CompareWithASCIIString(subtype, "auth") == 0 || fw_has(et, en, "auth")) {
        char buf[128];
        if (en + dn > (Py_ssize_t)sizeof buf) goto undecided;
        memcpy(buf, et, (size_t)en);
        memcpy(buf + en, d, (size_t)dn);
        int fail = fw_has(buf, en + dn, "fail");
        if (PyDict_SetItem(fields, S_OUTCOME, fail ? S_FAILURE : S_SUCCESS) < 0) goto fail;
    }
    return 0;
undecided: /* (a non-ASCII event_id, one past ~90 characters, or a float or bool) */
    Py_CLEAR(*found);
    return 1;
fail:
    Py_CLEAR(*found);
    return -1;
}

/* _finish's user step for a truthy str user u[0:n]: an `x-fwd-for: ` one as xff (src_user
 * dropped), else the bare user as `user`. 0, or -1 on error. */
static int pa_user(PyObject *fields, const char *txt, Py_ssize_t ln) {
    if (ln >= 11 && memcmp(txt, "x-fwd-for: ", 11) == 0) {
        PyObject *had = PyDict_GetItemWithError(fields, S_XFF);
        if (had == NULL && PyErr_Occurred()) return -1;
        if (had == NULL && fw_put(fields, S_XFF, ascii_sub(txt, 11, ln)) < 0) return -1;
        if (PyDict_GetItemWithError(fields, S_SRC_USER) != NULL) return PyDict_DelItem(fields, S_SRC_USER);
        return PyErr_Occurred() ? -1 : 0;
    }
    return fw_put(fields, S_USER, pa_bare_user(txt, ln));
}

/* paloalto._finish(kind, subtype, fields) on `fields` in place (`filtered`: PA_NO_EMPTIES, the
 * empty values are already left out; PA_INTS_READ, the int fields read too, as the CSV and JSON
 * readings do while they build them).
 * 1: done, *cats the categories (borrowed); 0: undecided (the caller returns None; `fields`
 * may be half-finished, so it is dropped); -1: error. */
enum { PA_NO_EMPTIES = 1, PA_INTS_READ = 2, PA_FILTERED = 3 };
static int pa_finish(PyObject *fields, PyObject *kind, PyObject *subtype, int filtered, PyObject **cats) {
    Py_ssize_t ln;
    const char *txt;
    PyObject *k, *v;
    if (!(filtered & PA_NO_EMPTIES)) {
        /* {k: v for k, v in fields.items() if v is not None and v != ""} (deleting keeps the order) */
        PyObject *drop = PyList_New(0);
        if (drop == NULL) return -1;
        Py_ssize_t pos = 0;
        while (PyDict_Next(fields, &pos, &k, &v)) {
            if ((v == Py_None || (PyUnicode_Check(v) && PyUnicode_GET_LENGTH(v) == 0)) && PyList_Append(drop, k) < 0) {
                Py_DECREF(drop);
                return -1;
            }
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(drop); i++)
            if (PyDict_DelItem(fields, PyList_GET_ITEM(drop, i)) < 0) {
                Py_DECREF(drop);
                return -1;
            }
        Py_DECREF(drop);
    }
    if (!(filtered & PA_INTS_READ)) {
        /* _INT_FIELDS' str values by to_int */
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(PA_INTS); i++) {
            PyObject *key = PyTuple_GET_ITEM(PA_INTS, i);
            v = PyDict_GetItemWithError(fields, key);
            if (v == NULL) {
                if (PyErr_Occurred()) return -1;
                continue;
            }
            if (!PyUnicode_Check(v)) continue;
            if ((txt = fw_ascii(v, &ln)) == NULL) return 0;
            PyObject *num = NULL;
            int got = pa_int(txt, 0, ln, &num);
            if (got == -2) return -1;
            if (got == -1) return 0;
            if (got == 1 && fw_put(fields, key, num) < 0) return -1;
        }
    }
    PyObject *proto = PyDict_GetItemWithError(fields, S_PROTO);
    if (proto == NULL && PyErr_Occurred()) return -1;
    if (proto != NULL) {
        PyObject *named;
        if (PyLong_CheckExact(proto)) { /* str(int): its digits */
            PyObject *text = PyObject_Str(proto);
            if (text == NULL) return -1;
            txt = fw_ascii(text, &ln);
            named = fw_transport(txt, ln);
            Py_DECREF(text);
        } else {
            if (!PyUnicode_Check(proto) || !pa_text(proto, &txt, &ln)) return 0;
            named = fw_transport(txt, ln);
        }
        if (fw_put(fields, S_NETWORK_PROTOCOL, named) < 0) return -1;
    }
    PyObject *user = NULL, *keys[3] = {S_SRC_USER, S_USER, S_DST_USER};
    for (int k = 0; k < 3; k++) { /* src_user or user or dst_user */
        user = PyDict_GetItemWithError(fields, keys[k]);
        if (user == NULL && PyErr_Occurred()) return -1;
        if (user == NULL) continue;
        int t = PyObject_IsTrue(user);
        if (t < 0) return -1;
        if (t || k == 2) break;
    }
    int truthy = 0;
    if (user != NULL && (truthy = PyObject_IsTrue(user)) < 0) return -1;
    PyObject *found = NULL; /* the description's user */
    if (PyUnicode_CompareWithASCIIString(kind, "SYSTEM") == 0 || PyUnicode_CompareWithASCIIString(kind, "CONFIG") == 0) {
        PyObject *desc = PyDict_GetItemWithError(fields, S_DESCRIPTION);
        if (desc == NULL && PyErr_Occurred()) return -1;
        if (desc != NULL) {
            if (!PyUnicode_Check(desc) || !pa_text(desc, &txt, &ln)) return 0; /* (str() of it, or \s, \d...) */
            if (ln > 0) {
                int got = pa_describe(fields, subtype, txt, ln, truthy, &found);
                if (got != 0) return got < 0 ? -1 : 0;
            }
        }
    }
    if (found != NULL) { /* (a str of printable ASCII, truthy or "") */
        int rc = pa_user(fields, (const char *)PyUnicode_DATA(found), PyUnicode_GET_LENGTH(found));
        Py_DECREF(found);
        if (rc < 0) return -1;
    } else if (user != NULL && PyUnicode_Check(user) && PyUnicode_GET_LENGTH(user) > 0) {
        if (!pa_text(user, &txt, &ln)) return 0;
        if (pa_user(fields, txt, ln) < 0) return -1;
    }
    PyObject *ipkeys[2] = {S_SRC_IP, S_DST_IP}, *hostkeys[2] = {S_SRC_HOST, S_DST_HOST};
    for (int k = 0; k < 2; k++) {
        PyObject *v = PyDict_GetItemWithError(fields, ipkeys[k]);
        if (v == NULL) {
            if (PyErr_Occurred()) return -1;
            continue;
        }
        int ip = 0;
        if (PyUnicode_Check(v)) {
            if (!pa_text(v, &txt, &ln)) return 0;
            ip = fw_is_ip(txt, ln);
        }
        if (!ip && fw_rename(fields, ipkeys[k], hostkeys[k]) < 0) return -1;
    }
    int traffic = PyUnicode_CompareWithASCIIString(kind, "TRAFFIC") == 0;
    if (PyUnicode_CompareWithASCIIString(kind, "THREAT") == 0 && PyUnicode_CompareWithASCIIString(subtype, "url") == 0) {
        PyObject *misc = PyDict_GetItemWithError(fields, S_MISC);
        if (misc == NULL && PyErr_Occurred()) return -1;
        if (misc != NULL && PyUnicode_Check(misc) && PyDict_SetItem(fields, S_C_URI, misc) < 0) return -1;
    }
    *cats = S_EMPTY_T;
    if (traffic) {
        *cats = S_FIREWALL_T;
        PyObject *act = PyDict_GetItemWithError(fields, S_ACTION);
        if (act == NULL && PyErr_Occurred()) return -1;
        int blocked = 0;
        if (act != NULL) {
            if (!PyUnicode_Check(act) || !pa_text(act, &txt, &ln)) return 0;
            PyObject *low = pa_lower(txt, ln);
            if (low == NULL) return -1;
            blocked = PySequence_Contains(PA_BLOCKING, low);
            Py_DECREF(low);
            if (blocked < 0) return -1;
        }
        if (PyDict_SetItem(fields, S_BLOCKED, blocked ? S_TRUE : S_FALSE) < 0) return -1;
    }
    return 1;
}

/* the services of a kind: the cached (kind.lower(),) of a known type, else a new one */
static PyObject *pa_services(PyObject *kind) {
    Py_ssize_t ln;
    const char *txt = fw_ascii(kind, &ln);
    if (txt != NULL) {
        int t = pa_type_of(txt, ln);
        if (t >= 0) {
            Py_INCREF(PA[t].services);
            return PA[t].services;
        }
    }
    PyObject *low = PyObject_CallMethod(kind, "lower", NULL);
    if (low == NULL) return NULL;
    PyObject *r = PyTuple_Pack(1, low);
    Py_DECREF(low);
    return r;
}

/* the end of _cef / _json: (fields, services, categories), or None (undecided); consumes fields */
static PyObject *pa_result(PyObject *fields, PyObject *kind, PyObject *subtype) {
    PyObject *cats;
    int got = pa_finish(fields, kind, subtype, 0, &cats);
    if (got <= 0) {
        Py_DECREF(fields);
        if (got < 0) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *services = pa_services(kind);
    if (services == NULL) {
        Py_DECREF(fields);
        return NULL;
    }
    return Py_BuildValue("(NNO)", fields, services, cats);
}

/* paloalto._cef after parse_cef: its mapping of the extension (_CEF_MAP's names assigned,
 * `PanOS*` keys as `panos.*`, any other key kept unless taken), THREAT url's request as c-uri,
 * then _finish. */
PyObject *fw_paloalto_cef(PyObject *self, PyObject *args) {
    PyObject *ext, *signature, *name;
    if (!PyArg_ParseTuple(args, "O!UU:paloalto_cef", &PyDict_Type, &ext, &signature, &name)) return NULL;
    if (PA_N == 0 || PA_CEF_MAP == NULL || !PyUnicode_IS_ASCII(signature)) Py_RETURN_NONE;
    PyObject *kind = PyObject_CallMethod(signature, "upper", NULL);
    if (kind == NULL) return NULL;
    PyObject *fields = dict_sized(PyDict_GET_SIZE(ext) + 8);
    if (fields == NULL || PyDict_SetItem(fields, S_LOG_TYPE, kind) < 0 || PyDict_SetItem(fields, S_LOG_SUBTYPE, name) < 0)
        goto fail;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(ext, &pos, &k, &v)) {
        PyObject *mapped = PyDict_GetItemWithError(PA_CEF_MAP, k);
        if (mapped != NULL) {
            if (PyDict_SetItem(fields, mapped, v) < 0) goto fail;
            continue;
        }
        if (PyErr_Occurred()) goto fail;
        Py_ssize_t ln;
        const char *txt = fw_ascii(k, &ln);
        if (txt == NULL) goto decline; /* (CEF keys are ASCII: not reached) */
        if (ln >= 5 && memcmp(txt, "PanOS", 5) == 0) {
            PyObject *pk = PyDict_GetItemWithError(PA_PANOS, k);
            if (pk == NULL) {
                if (PyErr_Occurred()) goto fail;
                PyObject *rest = PyUnicode_Substring(k, 5, ln);
                if (rest == NULL) goto fail;
                pk = PyUnicode_FromFormat("panos.%U", rest);
                Py_DECREF(rest);
                if (pk == NULL) goto fail;
                if (PyDict_GET_SIZE(PA_PANOS) < 4096 && PyDict_SetItem(PA_PANOS, k, pk) < 0) {
                    Py_DECREF(pk);
                    goto fail;
                }
                int rc = PyDict_SetItem(fields, pk, v);
                Py_DECREF(pk);
                if (rc < 0) goto fail;
            } else if (PyDict_SetItem(fields, pk, v) < 0) {
                goto fail;
            }
            continue;
        }
        if (PyDict_SetDefault(fields, k, v) == NULL) goto fail;
    }
    if (PyUnicode_CompareWithASCIIString(kind, "THREAT") == 0 && PyUnicode_CompareWithASCIIString(name, "url") == 0) {
        int has = PyDict_Contains(fields, S_C_URI);
        if (has < 0) goto fail;
        PyObject *req = PyDict_GetItemWithError(ext, S_REQUEST);
        if (req == NULL && PyErr_Occurred()) goto fail;
        if (!has && req != NULL && PyDict_SetItem(fields, S_C_URI, req) < 0) goto fail;
    }
    PyObject *r = pa_result(fields, kind, name);
    Py_DECREF(kind);
    return r;
decline:
    Py_DECREF(fields);
    Py_DECREF(kind);
    Py_RETURN_NONE;
fail:
    return fw_fail(fields, kind, NULL);
}

/* --- Palo Alto CEF in one walk ---------------------------------------------------------------
 * fw_paloalto_cef_span: fw_paloalto_cef(cef_ext_core(s, n), signature, name) without the first
 * dict. Why: a PAN-OS CEF line carries up to ~150 pairs (avg ~100 on SEKOIA's samples); the
 * extension's dict was made, walked, looked up twice a key (_CEF_MAP, then the `panos.` names)
 * and freed, ~60k of a line's ~240k instructions (callgrind). Here each key's text finds its
 * field name and how it is set (a small cache by the key's bytes) and the value goes straight
 * into the fields. The same result as the dict path: with every key of the line distinct, the
 * extension's dict holds the pairs in the line's order with the line's values, so its walk does
 * the same assignments in the same order; a line with a key twice (the dict keeps the last value
 * at the first one's place) or with more pairs than PA_SPAN_MAX gets Py_NotImplemented: the
 * caller takes the dict path. s[0:n]: the extension of a printable ASCII line (the reader has
 * checked). */

#define PA_KEY_SLOTS 1024
#define PA_SPAN_MAX 512
enum { PA_K_MAPPED, PA_K_PANOS, PA_K_OTHER };
typedef struct {
    PyObject *raw; /* the key's text (NULL: empty slot) */
    PyObject *out; /* its field name: _CEF_MAP's, `panos.<rest>`, or the key itself */
    int mode;      /* PA_K_*: assigned (the first two) or set if absent */
    int request;   /* the key is `request` (a THREAT url's c-uri when none is mapped) */
} pa_key_slot;
static pa_key_slot PA_KEYS[PA_KEY_SLOTS];


/* character classes of cef_ext_core (is_space: str.isspace() of ASCII; a key's characters),
 * as a table: bit 1 space, bit 2 key character */
static unsigned char PA_CLASS[256];
static void pa_class_init(void) {
    for (int c = 0; c < 256; c++) {
        int space = (c >= 9 && c <= 13) || (c >= 28 && c <= 32);
        int key = fw_word((char)c) || c == '.' || c == '[' || c == ']' || c == '-';
        PA_CLASS[c] = (unsigned char)(space | (key << 1));
    }
}
static inline int pa_space(unsigned char c) { return PA_CLASS[c] & 1; }
static inline int pa_cef_key_char(unsigned char c) { return PA_CLASS[c] & 2; }

/* the cache slot of key s[0:n] (hash h: pa_next_key's), filled from the maps on a miss; NULL on
 * error. A key may sit in any of PA_KEY_WAYS slots from its hash's (filled first to last, the
 * first one replaced when all are taken). Why: with one slot, ~1 key in 6 of SEKOIA's PAN-OS CEF
 * lines (~200 distinct keys) met another's slot and was looked up in the maps again each line. */
#define PA_KEY_WAYS 4
static pa_key_slot *pa_key(const char *s, Py_ssize_t n, unsigned int h) {
    pa_key_slot *e = NULL;
    for (int w = 0; w < PA_KEY_WAYS; w++) {
        pa_key_slot *x = &PA_KEYS[(h + (unsigned int)w) & (PA_KEY_SLOTS - 1)];
        if (x->raw == NULL) { /* (never emptied but all at once: the key is in no later way) */
            e = x;
            break;
        }
        if (PyUnicode_GET_LENGTH(x->raw) == n && memcmp(PyUnicode_DATA(x->raw), s, (size_t)n) == 0) return x;
    }
    if (e == NULL) e = &PA_KEYS[h & (PA_KEY_SLOTS - 1)];
    PyObject *raw = ascii_sub(s, 0, n), *out;
    if (raw == NULL) return NULL;
    int mode;
    PyObject *mapped = PyDict_GetItemWithError(PA_CEF_MAP, raw);
    if (mapped != NULL) {
        out = Py_NewRef(mapped);
        mode = PA_K_MAPPED;
    } else if (PyErr_Occurred()) {
        Py_DECREF(raw);
        return NULL;
    } else if (n >= 5 && memcmp(s, "PanOS", 5) == 0) { /* as fw_paloalto_cef names it */
        out = PyDict_GetItemWithError(PA_PANOS, raw);
        if (out != NULL) {
            Py_INCREF(out);
        } else {
            PyObject *rest = PyErr_Occurred() ? NULL : ascii_sub(s, 5, n);
            out = rest != NULL ? PyUnicode_FromFormat("panos.%U", rest) : NULL;
            Py_XDECREF(rest);
            if (out == NULL || (PyDict_GET_SIZE(PA_PANOS) < 4096 && PyDict_SetItem(PA_PANOS, raw, out) < 0)) {
                Py_XDECREF(out);
                Py_DECREF(raw);
                return NULL;
            }
        }
        mode = PA_K_PANOS;
    } else {
        out = Py_NewRef(raw);
        mode = PA_K_OTHER;
    }
    Py_XSETREF(e->raw, raw);
    Py_XSETREF(e->out, out);
    e->mode = mode;
    e->request = fw_eq(s, n, "request");
    return e;
}

/* cef_ext_core's value of s[v0:v1] (already stripped): the five unescapes when it holds `\` */
static PyObject *pa_cef_value(const char *s, Py_ssize_t v0, Py_ssize_t v1) {
    const char *bs = memchr(s + v0, '\\', (size_t)(v1 - v0));
    if (bs == NULL) return ascii_sub(s, v0, v1);
    Py_ssize_t m = v1 - v0;
    char *buf = PyMem_Malloc((size_t)m);
    if (buf == NULL) return PyErr_NoMemory();
    memcpy(buf, s + v0, (size_t)m);
    static const char pairs[5][2] = {{'=', '='}, {'|', '|'}, {'n', '\n'}, {'r', '\r'}, {'\\', '\\'}};
    for (int r = 0; r < 5; r++) { /* (str.replace passes in _cef_unescape's order) */
        Py_ssize_t o = 0;
        for (Py_ssize_t i = 0; i < m; i++) {
            if (buf[i] == '\\' && i + 1 < m && buf[i + 1] == pairs[r][0]) {
                buf[o++] = pairs[r][1];
                i++;
            } else {
                buf[o++] = buf[i];
            }
        }
        m = o;
    }
    PyObject *u = PyUnicode_New(m, 127);
    if (u != NULL) memcpy(PyUnicode_DATA(u), buf, (size_t)m);
    PyMem_Free(buf);
    return u;
}

/* the first key at or after `from` (cef_ext_core's NEXT_KEY: the leftmost start p >= from, at 0
 * or after whitespace, of a run of key characters ending at a `=`): its start, *kend past its
 * `=`; -1. Found from the `=` rather than from every start: key runs do not overlap, so the
 * leftmost start's `=` is the first `=` whose run begins at 0 or after whitespace (a run cannot
 * reach back before `from`, which follows a `=`). ~5x fewer instructions on a PAN-OS line. */
static Py_ssize_t pa_next_key(const char *s, Py_ssize_t n, Py_ssize_t from, Py_ssize_t *kend, unsigned int *hash) {
    const char *end = s + n;
    for (const char *eq = s + from; eq < end && (eq = memchr(eq, '=', (size_t)(end - eq))) != NULL; eq++) {
        const char *p = eq;
        unsigned int h = 2166136261u; /* (FNV-1a of the key read backwards, made on the walk) */
        while (p > s + from && pa_cef_key_char((unsigned char)p[-1])) {
            p--;
            h = (h ^ (unsigned char)*p) * 16777619u;
        }
        if (p < eq && (p == s || pa_space((unsigned char)p[-1]))) {
            *kend = eq - s + 1;
            *hash = h ^ (unsigned int)(eq - p);
            return p - s;
        }
    }
    return -1;
}

PyObject *fw_paloalto_cef_span(const char *s, Py_ssize_t n, PyObject *signature, PyObject *name) {
    if (PA_N == 0 || PA_CEF_MAP == NULL || !PyUnicode_IS_ASCII(signature)) Py_RETURN_NONE;
    /* the pairs' spans, each key's hash; a key seen twice: the dict path */
    Py_ssize_t ks[PA_SPAN_MAX], ke[PA_SPAN_MAX];
    unsigned int kh[PA_SPAN_MAX];
    uint16_t seen[2 * PA_SPAN_MAX]; /* open addressing: pair index + 1 */
    memset(seen, 0, sizeof seen);
    int np = 0;
    unsigned int h = 0;
    Py_ssize_t kend = -1, k = pa_next_key(s, n, 0, &kend, &h);
    while (k >= 0) {
        if (np == PA_SPAN_MAX) Py_RETURN_NOTIMPLEMENTED;
        Py_ssize_t len = kend - 1 - k;
        for (unsigned int slot = h & (2 * PA_SPAN_MAX - 1);; slot = (slot + 1) & (2 * PA_SPAN_MAX - 1)) {
            int j = seen[slot];
            if (j == 0) {
                seen[slot] = (uint16_t)(np + 1);
                break;
            }
            j--;
            if (kh[j] == h && ke[j] - 1 - ks[j] == len && memcmp(s + ks[j], s + k, (size_t)len) == 0)
                Py_RETURN_NOTIMPLEMENTED;
        }
        ks[np] = k;
        ke[np] = kend;
        kh[np] = h;
        np++;
        k = pa_next_key(s, n, kend, &kend, &h);
    }
    PyObject *kind = PyObject_CallMethod(signature, "upper", NULL);
    if (kind == NULL) return NULL;
    /* the names set to "" (new references): _finish's filter deletes those still "" at the end,
     * rather than walking every field (~150) */
    PyObject *empty[PA_SPAN_MAX + 3];
    int ne = 0;
    PyObject *fields = dict_sized(np + 8), *req = NULL, *r = NULL;
    if (fields == NULL || PyDict_SetItem(fields, S_LOG_TYPE, kind) < 0 || PyDict_SetItem(fields, S_LOG_SUBTYPE, name) < 0)
        goto fail;
    if (PyUnicode_GET_LENGTH(kind) == 0) empty[ne++] = Py_NewRef(S_LOG_TYPE);
    if (PyUnicode_GET_LENGTH(name) == 0) empty[ne++] = Py_NewRef(S_LOG_SUBTYPE);
    for (int i = 0; i < np; i++) {
        Py_ssize_t v0 = ke[i], v1 = i + 1 < np ? ks[i + 1] : n;
        while (v0 < v1 && pa_space((unsigned char)s[v0])) v0++;
        while (v1 > v0 && pa_space((unsigned char)s[v1 - 1])) v1--;
        pa_key_slot *e = pa_key(s + ks[i], ke[i] - 1 - ks[i], kh[i]);
        if (e == NULL) goto fail;
        PyObject *v = pa_cef_value(s, v0, v1); /* ("" only from an empty span: no unescape empties one) */
        if (v == NULL) goto fail;
        int rc = e->mode == PA_K_OTHER ? (PyDict_SetDefault(fields, e->out, v) == NULL ? -1 : 0)
                                       : PyDict_SetItem(fields, e->out, v);
        if (rc == 0 && e->request) Py_XSETREF(req, Py_NewRef(v));
        Py_DECREF(v);
        if (rc < 0) goto fail;
        if (v0 == v1) empty[ne++] = Py_NewRef(e->out);
    }
    if (req != NULL && PyUnicode_CompareWithASCIIString(kind, "THREAT") == 0 &&
        PyUnicode_CompareWithASCIIString(name, "url") == 0) {
        int has = PyDict_Contains(fields, S_C_URI);
        if (has < 0 || (!has && PyDict_SetItem(fields, S_C_URI, req) < 0)) goto fail;
        if (!has && PyUnicode_GET_LENGTH(req) == 0) empty[ne++] = Py_NewRef(S_C_URI);
    }
    for (int i = 0; i < ne; i++) { /* {k: v ... if v != ""} on the names that were set to "" */
        PyObject *v = PyDict_GetItemWithError(fields, empty[i]);
        if (v == NULL && PyErr_Occurred()) goto fail;
        if (v != NULL && PyUnicode_Check(v) && PyUnicode_GET_LENGTH(v) == 0 && PyDict_DelItem(fields, empty[i]) < 0)
            goto fail;
    }
    PyObject *cats;
    int got = pa_finish(fields, kind, name, PA_NO_EMPTIES, &cats);
    if (got < 0) goto fail;
    if (got == 0) {
        r = Py_NewRef(Py_None);
    } else {
        PyObject *services = pa_services(kind);
        if (services == NULL) goto fail;
        r = Py_BuildValue("(ONO)", fields, services, cats);
        if (r == NULL) goto fail;
    }
    for (int i = 0; i < ne; i++) Py_DECREF(empty[i]);
    Py_XDECREF(req);
    Py_DECREF(fields);
    Py_DECREF(kind);
    return r;
fail:
    for (int i = 0; i < ne; i++) Py_DECREF(empty[i]);
    Py_XDECREF(req);
    return fw_fail(fields, kind, NULL);
}

/* The JSON keys' names, by the key object: orjson hands out the same str object for a key it has
 * seen (its key cache), so a pointer compared finds the key's _JSON_MAP name and its `panos.`
 * name (made when first needed) where two dict lookups a key were ~1/4 of the mapping's cost
 * (~60 keys a CDL document). A key object not seen before (another one, or json's new strs)
 * is looked up in the maps as before; the slot holds a reference, so its address is not reused. */
#define PA_JKEY_SLOTS 1024
typedef struct {
    PyObject *key, *mapped, *panos; /* mapped: _JSON_MAP's name or NULL; panos: NULL until made */
    int is_int;                     /* mapped is one of _INT_FIELDS */
} pa_jkey;
static pa_jkey PA_JKEYS[PA_JKEY_SLOTS];

/* empty the CEF and JSON key caches (paloalto_setup: the maps may have changed) */
static void pa_keys_clear(void) {
    for (int i = 0; i < PA_KEY_SLOTS; i++) {
        Py_CLEAR(PA_KEYS[i].raw);
        Py_CLEAR(PA_KEYS[i].out);
    }
    for (int i = 0; i < PA_JKEY_SLOTS; i++) {
        Py_CLEAR(PA_JKEYS[i].key);
        Py_CLEAR(PA_JKEYS[i].mapped);
        Py_CLEAR(PA_JKEYS[i].panos);
    }
}

/* the slot of exact str key k; NULL on error */
static pa_jkey *pa_jkey_of(PyObject *k) {
    uintptr_t h = (uintptr_t)k >> 4;
    pa_jkey *e = &PA_JKEYS[(h ^ (h >> 10)) & (PA_JKEY_SLOTS - 1)];
    if (e->key == k) return e;
    PyObject *mapped = PyDict_GetItemWithError(PA_JSON_MAP, k);
    if (mapped == NULL && PyErr_Occurred()) return NULL;
    int is_int = mapped != NULL ? PySequence_Contains(PA_INTS, mapped) : 0;
    if (is_int < 0) return NULL;
    Py_XSETREF(e->key, Py_NewRef(k));
    Py_XSETREF(e->mapped, Py_XNewRef(mapped));
    Py_CLEAR(e->panos);
    e->is_int = is_int;
    return e;
}

/* `panos.<k>` for key k (borrowed): the slot's, else from PA_JSON_NAMES (bounded), else made */
static PyObject *pa_jkey_panos(pa_jkey *e) {
    if (e->panos != NULL) return e->panos;
    PyObject *pk = PyDict_GetItemWithError(PA_JSON_NAMES, e->key);
    if (pk != NULL) {
        e->panos = Py_NewRef(pk);
        return pk;
    }
    if (PyErr_Occurred() || (pk = PyUnicode_FromFormat("panos.%U", e->key)) == NULL) return NULL;
    if (PyDict_GET_SIZE(PA_JSON_NAMES) < 4096 && PyDict_SetItem(PA_JSON_NAMES, e->key, pk) < 0) {
        Py_DECREF(pk);
        return NULL;
    }
    e->panos = pk;
    return pk;
}

/* paloalto._json after the document is read (orjson or json): its mapping (_JSON_MAP's names
 * set once from values that are not None, "" or []; a list's first item; any other scalar as
 * `panos.<key>`), then _finish. A mapped dict (json.dumps in Python), a list's first item that
 * is a list or dict, a LogType or Subtype that is not a str, give None.
 * _finish's first two steps are done while the fields are built (pa_finish's `filtered`): an
 * empty value is not set (a `panos.` name is set by its key alone, a mapped one is never set from
 * an empty value: leaving either out changes no other assignment) and a mapped _INT_FIELDS str is
 * read by pa_int when set (the value setdefault keeps is the one _finish would read). A list
 * whose first item is empty (it would block the name's later values, then be dropped) and a key
 * that is not an exact str give None. Why: the second pass over ~60-150 fields, its deletions and
 * the int names' lookups were ~1/6 of a CDL document's mapping. */
PyObject *fw_paloalto_json(PyObject *self, PyObject *obj) {
    if (!PyDict_Check(obj)) {
        PyErr_SetString(PyExc_TypeError, "paloalto_json() takes a dict");
        return NULL;
    }
    if (PA_N == 0 || PA_JSON_MAP == NULL) Py_RETURN_NONE;
    PyObject *lt = PyDict_GetItemWithError(obj, S_LOGTYPE);
    if (lt == NULL && PyErr_Occurred()) return NULL;
    if (lt == NULL || !PyUnicode_Check(lt) || !PyUnicode_IS_ASCII(lt)) Py_RETURN_NONE;
    PyObject *sub = NULL, *subkeys[2] = {S_SUBTYPE_J, S_SUBTYPE_J2};
    for (int k = 0; k < 2; k++) {
        PyObject *v = PyDict_GetItemWithError(obj, subkeys[k]);
        if (v == NULL && PyErr_Occurred()) return NULL;
        if (v == NULL) continue;
        int t = PyObject_IsTrue(v);
        if (t < 0) return NULL;
        if (t) {
            sub = v;
            break;
        }
    }
    if (sub != NULL && !PyUnicode_CheckExact(sub)) Py_RETURN_NONE;
    PyObject *kind = PyObject_CallMethod(lt, "upper", NULL);
    if (kind == NULL) return NULL;
    PyObject *subtype = sub != NULL ? sub : S_EMPTY;
    Py_INCREF(subtype);
    PyObject *fields = dict_sized(PyDict_GET_SIZE(obj) + 8);
    if (fields == NULL || (PyUnicode_GET_LENGTH(kind) > 0 && PyDict_SetItem(fields, S_LOG_TYPE, kind) < 0) ||
        (PyUnicode_GET_LENGTH(subtype) > 0 && PyDict_SetItem(fields, S_LOG_SUBTYPE, subtype) < 0))
        goto fail;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(obj, &pos, &k, &v)) {
        if (!PyUnicode_CheckExact(k)) goto decline;
        pa_jkey *slot = pa_jkey_of(k);
        if (slot == NULL) goto fail;
        PyObject *name = slot->mapped;
        int str = PyUnicode_CheckExact(v);
        if (str && PyUnicode_GET_LENGTH(v) == 0) continue; /* (set or not, _finish drops it) */
        if (name != NULL && v != Py_None && !(PyList_CheckExact(v) && PyList_GET_SIZE(v) == 0)) {
            if (!(str || PyLong_CheckExact(v) || PyFloat_CheckExact(v) || PyBool_Check(v) || PyList_CheckExact(v)))
                goto decline; /* a dict: json.dumps in Python */
            if (PyList_CheckExact(v)) {
                v = PyList_GET_ITEM(v, 0);
                str = PyUnicode_CheckExact(v);
                if (!(str || PyLong_CheckExact(v) || PyFloat_CheckExact(v) || PyBool_Check(v)))
                    goto decline; /* (None too: it would block the name, then be dropped) */
                if (str && PyUnicode_GET_LENGTH(v) == 0) goto decline;
            }
            if (slot->is_int && str) {
                int had = PyDict_Contains(fields, name);
                if (had < 0) goto fail;
                if (had) continue; /* (setdefault: the first value stays) */
                Py_ssize_t ln;
                const char *txt = fw_ascii(v, &ln);
                if (txt == NULL) goto decline;
                PyObject *num = NULL;
                int got = pa_int(txt, 0, ln, &num);
                if (got == -2) goto fail;
                if (got == -1) goto decline;
                if (got == 1) {
                    int rc = PyDict_SetItem(fields, name, num);
                    Py_DECREF(num);
                    if (rc < 0) goto fail;
                    continue;
                }
            }
            if (PyDict_SetDefault(fields, name, v) == NULL) goto fail;
        } else if (str || PyLong_CheckExact(v) || PyFloat_CheckExact(v) || PyBool_Check(v)) {
            PyObject *spk = pa_jkey_panos(slot);
            if (spk == NULL || PyDict_SetDefault(fields, spk, v) == NULL) goto fail;
        }
    }
    PyObject *cats;
    int got = pa_finish(fields, kind, subtype, PA_FILTERED, &cats);
    if (got <= 0) {
        if (got < 0) goto fail;
        goto decline;
    }
    PyObject *services = pa_services(kind);
    Py_DECREF(kind);
    Py_DECREF(subtype);
    if (services == NULL) {
        Py_DECREF(fields);
        return NULL;
    }
    return Py_BuildValue("(NNO)", fields, services, cats);
decline:
    Py_DECREF(fields);
    Py_DECREF(kind);
    Py_DECREF(subtype);
    Py_RETURN_NONE;
fail:
    return fw_fail(fields, kind, subtype);
}

PyObject *fw_paloalto_line(PyObject *self, PyObject *msg) {
    const char *s;
    Py_ssize_t n;
    int ascii = fw_text(msg, "paloalto_line", &s, &n);
    if (ascii < 0) return NULL;
    if (ascii == 0 || PA_N == 0) Py_RETURN_NONE;
    if (n < 2 || !(fw_digit(s[0]) || s[0] == ':')) Py_RETURN_NONE; /* (JSON, CEF: not read here) */
    if (s[n - 1] == ' ' || !fw_printable(s, n)) Py_RETURN_NONE;
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
    const int raw = 0; /* (1: _csv's fields as built, empty values and str ints kept) */
    PyObject *fields = dict_sized(nrow + 8);
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
    /* _finish (empties and ints done above) */
    PyObject *cats;
    int got = pa_finish(fields, pt->name, subtype, PA_FILTERED, &cats);
    if (got < 0) goto fail_sub;
    if (got == 0) goto decline;
    Py_DECREF(subtype);
    return Py_BuildValue("(NOO)", fields, pt->services, cats);
decline:
    Py_DECREF(subtype);
    Py_DECREF(fields);
    Py_RETURN_NONE;
fail_sub:
    Py_DECREF(subtype);
fail:
    return fw_fail(fields, NULL, NULL);
}

/* ============================================================================================
 * FortiGate: fortigate.parse_fortigate for a key=value line (space- or comma-separated, `logid=`
 * or `log_id=`): the pairs by _logfast.c's kv_pairs (base.kv_pairs' twin), the same dict as
 * the fields (Python copies it: the same keys, values and order), then parse_fortigate's
 * derived fields in its order and _fortigate_time. CEF lines (`|Fortinet|`) go to Python.
 * Every value is read before any is written (Python reads them from the pairs, not from the
 * fields it writes), each held by a reference of its own.
 * _fortigate_time: `eventtime` of up to 20 digits (an unsigned 64-bit number, else None) at
 * the first scale giving less than 1e10, else `date` YYYY-MM-DD and `time` HH:MM:SS with `tz`
 * (+HHMM; anything else +0000) read as datetime.fromisoformat does; any other date or time
 * text, or a year fromisoformat/timestamp() could refuse (1, 9999), gives None (Python decides).
 * ============================================================================================ */

enum { G_SRCIP, G_SRC, G_USERIP, G_SPROC, G_REMIP, G_SUBTYPE, G_UI, G_LOGDESC, G_IP, G_DSTIP, G_DST, G_LOCIP,
       G_SRCPORT, G_SRC_PORT, G_REMPORT, G_DSTPORT, G_DST_PORT, G_LOCPORT, G_TRANSIP, G_TRANIP, G_TUNNELIP,
       G_SENTDELTA, G_SENTBYTE, G_OBYTES, G_RCVDDELTA, G_RCVDBYTE, G_IBYTES, G_PROTO, G_USER, G_SRCUSER,
       G_UNAUTHUSER, G_DSTUSER, G_URL, G_HTTPMETHOD, G_METHOD, G_AGENT, G_HOSTNAME, G_ACTION, G_STATUS,
       G_DEVNAME, G_EVENTTIME, G_DATE, G_TIME, G_TZ, G_TYPE, G_LOGID, G_LOG_ID, G_VD,
       /* the fields it writes */
       O_NAT_SRC, O_NAT_DST, O_SRC_BYTES, O_DST_BYTES, O_C_URI, O_CS_METHOD, O_C_USERAGENT, O_CS_HOST,
       O_OUTCOME, O_SUCCESS, O_FAILURE, G_N };
static const char *const G_NAMES[G_N] = {
    "srcip", "src", "userip", "sproc", "remip", "subtype", "ui", "logdesc", "ip", "dstip", "dst", "locip",
    "srcport", "src_port", "remport", "dstport", "dst_port", "locport", "transip", "tranip", "tunnelip",
    "sentdelta", "sentbyte", "obytes", "rcvddelta", "rcvdbyte", "ibytes", "proto", "user", "srcuser",
    "unauthuser", "dstuser", "url", "httpmethod", "method", "agent", "hostname", "action", "status",
    "devname", "eventtime", "date", "time", "tz", "type", "logid", "log_id", "vd",
    "source.nat.ip", "destination.nat.ip", "source.bytes", "destination.bytes", "c-uri", "cs-method",
    "c-useragent", "cs-host", "outcome", "success", "failure"};
static PyObject *G[G_N];
static PyObject *FG_CEF_STD, *FG_NAMES, *FG_CAT, *FG_CEF_NAME, *S_EMPTY_STR; /* _CEF_STD; CEF key -> native */
#define G_IN O_NAT_SRC /* the keys parse_fortigate reads (G_* below it): a line's slots */

/* FortiGate's keys by their text: one str for each (its hash computed once, so the dict compares
 * pointers) and its slot (G_* < G_IN, or -1). Why: the pairs are split with each key's value put
 * in its slot as it is read, and parse_fortigate's ~50 reads (`kv.get(...)`, ~9k instructions
 * a line as dict lookups) become array reads. Bounded: FK_MAX keys of at most FK_LEN characters
 * (the keys parse_fortigate reads are added first, so they are always found); any other key is
 * made as kv_pairs makes it. */
#define FK_CAP 8192
#define FK_MAX 4096
#define FK_LEN 48
typedef struct {
    PyObject *key;
    unsigned int h;
    int slot;
} fg_key_t;
static fg_key_t FK[FK_CAP];
static int FK_N = 0;

/* the entry of the key s[0:n] (FNV-1a), added when it is new and there is room; NULL otherwise
 * (an error set only when making its str failed) */
static fg_key_t *fk_find(const char *s, Py_ssize_t n) {
    if (n > FK_LEN) return NULL;
    unsigned int h = 2166136261u;
    for (Py_ssize_t k = 0; k < n; k++) h = (h ^ (unsigned char)s[k]) * 16777619u;
    for (unsigned int i = h & (FK_CAP - 1);; i = (i + 1) & (FK_CAP - 1)) {
        fg_key_t *e = &FK[i];
        if (e->key == NULL) {
            if (FK_N >= FK_MAX) return NULL;
            PyObject *u = PyUnicode_New(n, 127);
            if (u == NULL) return NULL;
            memcpy(PyUnicode_DATA(u), s, (size_t)n);
            if (PyObject_Hash(u) == -1) {
                Py_DECREF(u);
                return NULL;
            }
            e->key = u, e->h = h, e->slot = -1;
            FK_N++;
            return e;
        }
        if (e->h == h && PyUnicode_GET_LENGTH(e->key) == n && memcmp(PyUnicode_DATA(e->key), s, (size_t)n) == 0)
            return e;
    }
}

/* the slot of a key str (-1: none) */
static int fk_slot(PyObject *key) {
    if (!PyUnicode_IS_ASCII(key)) return -1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(key);
    fg_key_t *e = fk_find((const char *)PyUnicode_DATA(key), n);
    if (e == NULL) PyErr_Clear(); /* (no room: not one of the slots' keys, which are all in) */
    return e != NULL ? e->slot : -1;
}

/* v (a line's value, borrowed) when it is a non-empty str, else NULL; 2 in *err for a str
 * parse_fortigate's ASCII reading here does not take (`checked`: a key=value line's value, cut
 * from a line already found printable ASCII) */
static PyObject *fg_val(PyObject *v, int checked, int *err) {
    if (v == NULL) return NULL;
    if (checked) return PyUnicode_GET_LENGTH(v) > 0 ? v : NULL;
    if (!PyUnicode_Check(v) || !PyUnicode_IS_ASCII(v) ||
        !fw_printable((const char *)PyUnicode_DATA(v), PyUnicode_GET_LENGTH(v))) {
        *err = 2; /* (a key=value line's values are printable ASCII; a CEF one's may not be) */
        return NULL;
    }
    return PyUnicode_GET_LENGTH(v) > 0 ? v : NULL;
}

/* kv_value of latin-1 text s[v0:v1] (a str's 1-byte characters) that holds characters past ASCII:
 * the same str, of the kind its characters need (quoted: the quotes dropped, each `\"` made `"`) */
static PyObject *fg_wide_value(const char *s, Py_ssize_t v0, Py_ssize_t v1) {
    int quoted = v1 - v0 >= 2 && s[v0] == '"' && s[v1 - 1] == '"';
    if (quoted) v0++, v1--;
    char *buf = PyMem_Malloc((size_t)(v1 - v0) + 1);
    if (buf == NULL) return PyErr_NoMemory();
    Py_ssize_t m = 0;
    for (Py_ssize_t k = v0; k < v1; k++) {
        if (quoted && s[k] == '\\' && k + 1 < v1 && s[k + 1] == '"') k++; /* (str.replace's left-to-right) */
        buf[m++] = s[k];
    }
    PyObject *u = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, buf, m);
    PyMem_Free(buf);
    return u;
}

/* base.kv_pairs(msg) (comma: kv_pairs_comma) of printable s[0:n], each key put in its slot as it
 * is read: the dict (the same keys, values and order as kv_pairs') with slots[G_*] the value of
 * each key parse_fortigate reads (borrowed from the dict: a repeated key's last, the one the dict
 * keeps), or NULL on error. `covered` NULL: s is ASCII; else s is latin-1 and *covered counts its
 * characters past ASCII that the values hold (fw_fortigate_line's condition). */
static PyObject *fg_split(const char *s, Py_ssize_t n, int comma, PyObject **slots, Py_ssize_t *covered) {
    PyObject *out = dict_sized(count_char(s, n, '=') + 16); /* (+16: the fields added) */
    if (out == NULL) return NULL;
    Py_ssize_t i = 0, k0, k1, v0, v1;
    while (kv_next(s, n, comma, &i, &k0, &k1, &v0, &v1)) {
        fg_key_t *e = fk_find(s + k0, k1 - k0);
        PyObject *key;
        if (e != NULL) {
            key = Py_NewRef(e->key);
        } else {
            PyErr_Clear(); /* (made below as kv_pairs makes it, or its error set there) */
            if ((key = ascii_sub(s, k0, k1)) == NULL) goto fail;
        }
        Py_ssize_t wide = 0;
        for (Py_ssize_t k = v0; covered != NULL && k < v1; k++) wide += (unsigned char)s[k] >= 0x80;
        PyObject *val = wide ? fg_wide_value(s, v0, v1) : kv_value(s, v0, v1);
        if (covered != NULL) *covered += wide;
        if (val != NULL && e != NULL && e->slot >= 0) slots[e->slot] = val;
        if (set_pair(out, key, val) < 0) goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

static inline const char *fg_text(PyObject *v, Py_ssize_t *n) {
    *n = PyUnicode_GET_LENGTH(v);
    return (const char *)PyUnicode_DATA(v);
}

/* base.digits(v) for an ASCII str: an int, or NULL (with no error) when it is not one */
static PyObject *fg_digits(PyObject *v) {
    Py_ssize_t n;
    const char *t = fg_text(v, &n);
    if (n > 18 || n == 0) return NULL;
    long long x = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (!fw_digit(t[k])) return NULL;
        x = x * 10 + (t[k] - '0');
    }
    return PyLong_FromLongLong(x);
}

/* fortigate._UI_IP.search(ui): `\((\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]+:[0-9A-Fa-f:]+)\)`'s group
 * as [*a, *b), or 0. Both branches are decided by one scan: a run of digits ends at `.` or `)`,
 * and the second branch's run of [0-9A-Fa-f:] ends where its `)` must be. */
static int fg_ui_ip(const char *s, Py_ssize_t n, Py_ssize_t *a, Py_ssize_t *b) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] != '(') continue;
        Py_ssize_t j = i + 1, k = j;
        int g;
        for (g = 0; g < 4; g++) {
            Py_ssize_t d = k;
            while (k < n && fw_digit(s[k])) k++;
            if (k - d < 1 || k - d > 3) break;
            if (g < 3) {
                if (k < n && s[k] == '.') k++;
                else break;
            }
        }
        if (g == 4 && k < n && s[k] == ')') {
            *a = j;
            *b = k;
            return 1;
        }
        k = j;
        while (k < n && (fw_hex(s[k]) || s[k] == ':')) k++;
        if (k < n && s[k] == ')' && k - j >= 3) {
            for (Py_ssize_t c = j + 1; c < k - 1; c++)
                if (s[c] == ':') {
                    *a = j;
                    *b = k;
                    return 1;
                }
        }
    }
    return 0;
}

static int fg_days_in_month(long y, long m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return days[m - 1];
}

/* days from 1970-01-01 to y-m-d (proleptic Gregorian) */
static long long fg_days(long y, long m, long d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static long fg_num(const char *t, int a, int b) {
    long v = 0;
    for (int k = a; k < b; k++) {
        if (!fw_digit(t[k])) return -1;
        v = v * 10 + (t[k] - '0');
    }
    return v;
}

/* _fortigate_time(kv) on the line's slots: 1 (*out a float or None, new reference), 0 (undecided) */
static int fg_time(PyObject **slots, int checked, PyObject **out) {
    int err = 0;
    PyObject *et = fg_val(slots[G_EVENTTIME], checked, &err);
    if (err) return 0;
    Py_ssize_t n;
    const char *t;
    if (et != NULL && (t = fg_text(et, &n), n <= 20)) {
        int all = 1;
        unsigned long long x = 0;
        for (Py_ssize_t k = 0; k < n; k++) {
            if (!fw_digit(t[k])) {
                all = 0;
                break;
            }
            unsigned d = (unsigned)(t[k] - '0');
            if (x > (~0ULL - d) / 10) return 0; /* past 64 bits: Python decides */
            x = x * 10 + d;
        }
        if (all) {
            static const double scales[4] = {1.0, 1e3, 1e6, 1e9};
            for (int k = 0; k < 4; k++) {
                double q = (double)x / scales[k];
                if (q < 1e10) {
                    *out = PyFloat_FromDouble(q);
                    return *out == NULL ? -1 : 1;
                }
            }
        }
    }
    PyObject *date = slots[G_DATE], *tm = slots[G_TIME], *tz = slots[G_TZ];
    if (date == NULL || tm == NULL) {
        *out = Py_None;
        Py_INCREF(Py_None);
        return 1;
    }
    Py_ssize_t dn = 0, tn = 0, zn = 0;
    const char *dt = fw_ascii(date, &dn), *tt = fw_ascii(tm, &tn), *zt = tz != NULL ? fw_ascii(tz, &zn) : "+0000";
    if (dt == NULL || tt == NULL || zt == NULL) return 0;
    if (!(zn == 5 && (zt[0] == '+' || zt[0] == '-') && fg_num(zt, 1, 5) >= 0)) zt = "+0000";
    if (dn != 10 || dt[4] != '-' || dt[7] != '-' || tn != 8 || tt[2] != ':' || tt[5] != ':') return 0;
    long y = fg_num(dt, 0, 4), mo = fg_num(dt, 5, 7), d = fg_num(dt, 8, 10);
    long hh = fg_num(tt, 0, 2), mi = fg_num(tt, 3, 5), ss = fg_num(tt, 6, 8);
    long zh = fg_num(zt, 1, 3), zm = fg_num(zt, 3, 5);
    if (y < 2 || y > 9998 || mo < 1 || mo > 12 || d < 1 || d > fg_days_in_month(y, mo) || hh < 0 || hh > 23 ||
        mi < 0 || mi > 59 || ss < 0 || ss > 59 || zh > 23 || zm > 59)
        return 0;
    long long off = (long long)zh * 3600 + zm * 60;
    long long secs = fg_days(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - (zt[0] == '-' ? -off : off);
    *out = PyFloat_FromDouble((double)secs);
    return *out == NULL ? -1 : 1;
}

static int fg_ready(void) {
    static int ready = 0;
    if (ready) return 1;
    if (fw_common_init() < 0) return -1;
    for (int k = 0; k < G_N; k++)
        if (fw_intern(&G[k], G_NAMES[k]) < 0) return -1;
    if (fw_intern(&S_EMPTY_STR, "") < 0) return -1;
    for (int k = 0; k < G_IN; k++) { /* the slots' keys: their entries hold G's strings */
        fg_key_t *e = fk_find(G_NAMES[k], (Py_ssize_t)strlen(G_NAMES[k]));
        if (e == NULL) return PyErr_Occurred() ? -1 : (PyErr_SetString(PyExc_SystemError, "fortigate keys"), -1);
        Py_SETREF(e->key, Py_NewRef(G[k]));
        e->slot = k;
    }
    ready = 1;
    return 1;
}

#define FG_GET(var, key)                  \
    do {                                  \
        var = fg_val(slots[key], checked, &err); \
        if (err) goto decline;            \
    } while (0)

/* parse_fortigate's derived fields on the pairs `kv` (in place: they are the fields) whose values
 * of the keys it reads are in `slots`, in its order: (fields, services, categories, time, host),
 * None (undecided) or NULL (error). */
static PyObject *fg_finish(PyObject *kv, PyObject **slots, int checked) {
    /* every reference taken below, released at the end */
    PyObject *own[24];
    int nown = 0;
#define OWN(v) (own[nown++] = (v))
    PyObject *ret = NULL, *src = NULL, *dst = NULL, *ports[2] = {NULL, NULL}, *nat[3] = {NULL, NULL, NULL},
             *bytes[2] = {NULL, NULL}, *proto = NULL, *user = NULL, *http[4] = {NULL, NULL, NULL, NULL},
             *action = NULL, *outcome = NULL, *time = NULL, *host = NULL;
    int err = 0;
    PyObject *ftype = slots[G_TYPE] != NULL ? slots[G_TYPE] : S_EMPTY_STR; /* (kv.get("type", "")) */
    Py_ssize_t ln, tl;
    const char *txt, *ty = fw_ascii(ftype, &tl);
    if (ty == NULL) goto decline;
    PyObject *v, *subtype;
    FG_GET(subtype, G_SUBTYPE);
    Py_ssize_t sl = 0;
    const char *st = subtype != NULL ? fg_text(subtype, &sl) : "";
    int vpn = fw_eq(st, sl, "vpn");
    /* src: srcip or src or userip or sproc or (remip for vpn), else ui's `(address)`, else ip for
     * a system DHCP event */
    static const int SRC_KEYS[4] = {G_SRCIP, G_SRC, G_USERIP, G_SPROC};
    for (int k = 0; k < 4 && src == NULL; k++) FG_GET(src, SRC_KEYS[k]);
    if (src == NULL && vpn) FG_GET(src, G_REMIP);
    if (src != NULL) {
        Py_INCREF(src);
        OWN(src);
    } else {
        PyObject *ui;
        FG_GET(ui, G_UI);
        Py_ssize_t a, b;
        if (ui != NULL && (txt = fg_text(ui, &ln), fg_ui_ip(txt, ln, &a, &b))) {
            if ((src = ascii_sub(txt, a, b)) == NULL) goto fail;
            OWN(src);
        } else if (fw_eq(st, sl, "system")) {
            PyObject *ld;
            FG_GET(ld, G_LOGDESC);
            int dhcp = 0;
            if (ld != NULL) {
                txt = fg_text(ld, &ln);
                for (Py_ssize_t k = 0; k + 4 <= ln && !dhcp; k++) {
                    char c[4];
                    for (int q = 0; q < 4; q++) c[q] = (txt[k + q] >= 'A' && txt[k + q] <= 'Z') ? txt[k + q] + 32 : txt[k + q];
                    dhcp = memcmp(c, "dhcp", 4) == 0;
                }
            }
            if (dhcp) {
                FG_GET(src, G_IP);
                if (src != NULL) {
                    Py_INCREF(src);
                    OWN(src);
                }
            }
        }
    }
    static const int DST_KEYS[2] = {G_DSTIP, G_DST};
    for (int k = 0; k < 2 && dst == NULL; k++) FG_GET(dst, DST_KEYS[k]);
    if (dst == NULL && vpn) FG_GET(dst, G_LOCIP);
    if (src != NULL && (txt = fg_text(src, &ln), !fw_is_ip(txt, ln))) src = NULL;
    if (dst != NULL && (txt = fg_text(dst, &ln), !fw_is_ip(txt, ln))) dst = NULL;
    if (dst != NULL) {
        Py_INCREF(dst);
        OWN(dst);
    }
    static const int PORT_KEYS[2][3] = {{G_SRCPORT, G_SRC_PORT, G_REMPORT}, {G_DSTPORT, G_DST_PORT, G_LOCPORT}};
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 3 && ports[p] == NULL; k++) {
            FG_GET(v, PORT_KEYS[p][k]);
            if (v != NULL && (ports[p] = fg_digits(v)) != NULL) OWN(ports[p]);
            else if (PyErr_Occurred()) goto fail;
        }
    static const int NAT_KEYS[3] = {G_TRANSIP, G_TRANIP, G_TUNNELIP};
    for (int k = 0; k < 3; k++) {
        FG_GET(v, NAT_KEYS[k]);
        if (v != NULL && (txt = fg_text(v, &ln), fw_is_ip(txt, ln) && !fw_eq(txt, ln, "0.0.0.0"))) {
            Py_INCREF(v);
            OWN(nat[k] = v);
        }
    }
    static const int BYTE_KEYS[2][3] = {{G_SENTDELTA, G_SENTBYTE, G_OBYTES}, {G_RCVDDELTA, G_RCVDBYTE, G_IBYTES}};
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 3; k++) {
            FG_GET(v, BYTE_KEYS[p][k]);
            if (v == NULL) continue;
            if ((bytes[p] = fg_digits(v)) != NULL) OWN(bytes[p]);
            else if (PyErr_Occurred()) goto fail;
            break;
        }
    FG_GET(v, G_PROTO);
    if (v != NULL) {
        txt = fg_text(v, &ln);
        if ((proto = fw_transport(txt, ln)) == NULL) goto fail;
        OWN(proto);
    }
    static const int USER_KEYS[4] = {G_USER, G_SRCUSER, G_UNAUTHUSER, G_DSTUSER};
    for (int k = 0; k < 4 && user == NULL; k++) FG_GET(user, USER_KEYS[k]);
    if (user != NULL) {
        txt = fg_text(user, &ln);
        if (fw_eq(txt, ln, "N/A") || fw_eq(txt, ln, "system")) {
            user = NULL;
        } else {
            const char *c = memchr(txt, ',', (size_t)ln);
            Py_ssize_t b = c != NULL ? c - txt : ln, a = 0;
            for (Py_ssize_t k = b - 1; k >= 0; k--)
                if (txt[k] == '\\') {
                    a = k + 1;
                    break;
                }
            if ((user = ascii_sub(txt, a, b)) == NULL) goto fail;
            OWN(user);
        }
    }
    static const int HTTP_KEYS[4][2] = {{G_URL, -1}, {G_HTTPMETHOD, G_METHOD}, {G_AGENT, -1}, {G_HOSTNAME, -1}};
    int utm = fw_eq(ty, tl, "utm"), rest = fw_eq(st, sl, "rest-api");
    for (int h = 0; h < 4; h++)
        for (int k = 0; k < 2 && http[h] == NULL && HTTP_KEYS[h][k] >= 0; k++) {
            FG_GET(v, HTTP_KEYS[h][k]);
            if (v != NULL && !(HTTP_KEYS[h][k] == G_METHOD && !utm && !rest)) {
                Py_INCREF(v);
                OWN(http[h] = v);
            }
        }
    FG_GET(action, G_ACTION);
    if (action != NULL) {
        Py_INCREF(action);
        OWN(action);
    }
    FG_GET(v, G_STATUS);
    if (v != NULL) {
        txt = fg_text(v, &ln);
        outcome = (fw_eq(txt, ln, "success") || fw_eq(txt, ln, "200")) ? G[O_SUCCESS] : G[O_FAILURE];
    }
    host = slots[G_DEVNAME] != NULL ? slots[G_DEVNAME] : Py_None;
    Py_INCREF(host);
    OWN(host);
    int got = fg_time(slots, checked, &time);
    if (got < 0) goto fail;
    if (got == 0) goto decline;
    OWN(time);
    /* the writes, in parse_fortigate's order */
    if ((src != NULL && PyDict_SetItem(kv, S_SRC_IP, src) < 0) || (dst != NULL && PyDict_SetItem(kv, S_DST_IP, dst) < 0) ||
        (ports[0] != NULL && PyDict_SetItem(kv, S_SRC_PORT, ports[0]) < 0) ||
        (ports[1] != NULL && PyDict_SetItem(kv, S_DST_PORT, ports[1]) < 0) ||
        (nat[0] != NULL && PyDict_SetItem(kv, G[O_NAT_SRC], nat[0]) < 0) ||
        (nat[1] != NULL && PyDict_SetItem(kv, G[O_NAT_DST], nat[1]) < 0) ||
        (nat[2] != NULL && PyDict_SetItem(kv, G[O_NAT_SRC], nat[2]) < 0) ||
        (bytes[0] != NULL && PyDict_SetItem(kv, G[O_SRC_BYTES], bytes[0]) < 0) ||
        (bytes[1] != NULL && PyDict_SetItem(kv, G[O_DST_BYTES], bytes[1]) < 0) ||
        (proto != NULL && PyDict_SetItem(kv, S_NETWORK_PROTOCOL, proto) < 0) ||
        (user != NULL && PyDict_SetItem(kv, S_USER, user) < 0))
        goto fail;
    static const int HTTP_OUT[4] = {O_C_URI, O_CS_METHOD, O_C_USERAGENT, O_CS_HOST};
    for (int h = 0; h < 4; h++)
        if (http[h] != NULL && PyDict_SetItem(kv, G[HTTP_OUT[h]], http[h]) < 0) goto fail;
    if (action != NULL && PyDict_SetItem(kv, S_ACTION, action) < 0) goto fail;
    PyObject *cats = S_EMPTY_T;
    if (fw_eq(ty, tl, "traffic")) {
        cats = S_FIREWALL_T;
        int blocked = 0;
        if (action != NULL) {
            static const char *const BLOCKING[6] = {"deny", "blocked", "block", "drop", "dropped", "reject"};
            txt = fg_text(action, &ln);
            for (int k = 0; k < 6; k++) blocked |= fw_eq(txt, ln, BLOCKING[k]);
        }
        if (PyDict_SetItem(kv, S_BLOCKED, blocked ? S_TRUE : S_FALSE) < 0) goto fail;
    }
    if (outcome != NULL && PyDict_SetItem(kv, G[O_OUTCOME], outcome) < 0) goto fail;
    PyObject *services = tl > 0 ? PyTuple_Pack(1, ftype) : (Py_INCREF(S_EMPTY_T), S_EMPTY_T);
    if (services == NULL) goto fail;
    ret = PyTuple_New(5);
    if (ret == NULL) {
        Py_DECREF(services);
        goto fail;
    }
    Py_INCREF(kv);
    Py_INCREF(cats);
    Py_INCREF(time);
    Py_INCREF(host);
    PyTuple_SET_ITEM(ret, 0, kv);
    PyTuple_SET_ITEM(ret, 1, services);
    PyTuple_SET_ITEM(ret, 2, cats);
    PyTuple_SET_ITEM(ret, 3, time);
    PyTuple_SET_ITEM(ret, 4, host);
    goto done;
decline:
    ret = Py_None;
    Py_INCREF(ret);
    goto done;
fail:
    ret = NULL;
done:
    for (int k = 0; k < nown; k++) Py_DECREF(own[k]);
    return ret;
#undef OWN
}
#undef FG_GET

PyObject *fw_fortigate_line(PyObject *self, PyObject *msg) {
    const char *s;
    Py_ssize_t n;
    int ascii = fw_text(msg, "fortigate_line", &s, &n);
    if (ascii < 0) return NULL;
    /* a latin-1 line (`profile="Filtrage_web_Avancé"`: the whole Python way was ~13 us): read
     * here when its characters past ASCII are letters and signs (0xa1 and up: none is a space,
     * a control or a key's character here) that the pairs' values hold, where the code-point
     * split (kv_pairs_wide) finds the same pairs as this one; the values parse_fortigate reads
     * must then be printable ASCII (fg_finish's checks, as for a CEF line's) */
    Py_ssize_t wide = 0, covered = 0;
    if (ascii == 0) {
        if (PyUnicode_KIND(msg) != PyUnicode_1BYTE_KIND) Py_RETURN_NONE;
        s = (const char *)PyUnicode_DATA(msg);
        n = PyUnicode_GET_LENGTH(msg);
        for (Py_ssize_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)s[k];
            if (c >= 0x80 && c < 0xa1) Py_RETURN_NONE;
            wide += c >= 0x80;
        }
    }
    if (fg_ready() < 0) return NULL;
    if (fw_has(s, n < 40 ? n : 40, "|Fortinet|") || !fw_printable(s, n)) Py_RETURN_NONE;
    if (!fw_has(s, n, "logid") && !fw_has(s, n, "log_id") && !fw_has(s, n, "subtype=")) Py_RETURN_NONE;
    /* no `type=` a key can start (nothing of [\w.-] before it): no "type" among the pairs, which
     * parse_fortigate refuses, so the pairs need not be split (Sophos' log_id= lines come here) */
    int typed = 0;
    for (const char *p = s; !typed && p + 5 <= s + n && (p = memchr(p, 't', (size_t)(s + n - 5 - p) + 1)) != NULL; p++)
        typed = memcmp(p, "type=", 5) == 0 && (p == s || !(fw_word(p[-1]) || p[-1] == '.' || p[-1] == '-'));
    if (!typed) Py_RETURN_FALSE;
    Py_ssize_t hn = n < 200 ? n : 200;
    int comma = memchr(s, ',', (size_t)hn) != NULL &&
                (fw_has(s, hn, ",time=") || fw_has(s, hn, ",logid=") || fw_has(s, hn, ",devname="));
    PyObject *slots[G_IN] = {NULL};
    PyObject *kv = fg_split(s, n, comma, slots, wide ? &covered : NULL);
    if (kv == NULL) return NULL;
    if (covered != wide) { /* (a character past ASCII in a key or between pairs: Python reads it) */
        Py_DECREF(kv);
        Py_RETURN_NONE;
    }
    /* _native: logid from log_id, else a subtype with vd or devname; a type */
    if (slots[G_LOGID] == NULL) {
        if (slots[G_LOG_ID] != NULL) {
            if (PyDict_SetItem(kv, G[G_LOGID], slots[G_LOG_ID]) < 0) goto fail;
            slots[G_LOGID] = slots[G_LOG_ID];
        } else if (!(slots[G_SUBTYPE] != NULL && (slots[G_VD] != NULL || slots[G_DEVNAME] != NULL))) {
            goto not_fortigate;
        }
    }
    if (slots[G_TYPE] == NULL) goto not_fortigate;
    PyObject *ret = fg_finish(kv, slots, !wide);
    Py_DECREF(kv);
    return ret;
not_fortigate: /* (the pairs are the ones base.kv_pairs gives this printable ASCII line) */
    Py_DECREF(kv);
    Py_RETURN_FALSE;
fail:
    return fw_fail(kv, NULL, NULL);
}

/* a CEF extension key as FortiOS's own (_cef_native_name: a FTNTFGT / FortinetFortiGate / ad.
 * prefix dropped, else _CEF_STD's name, else the key), a new reference; *slot its G_* (or -1) */
static PyObject *fg_cef_native(PyObject *k, int *slot) {
    static const char *const PREFIXES[3] = {"FTNTFGT", "FortinetFortiGate", "ad."};
    Py_ssize_t kn = PyUnicode_GET_LENGTH(k);
    PyObject *native = NULL;
    for (int p = 0; p < 3 && native == NULL; p++) {
        Py_ssize_t pn = (Py_ssize_t)strlen(PREFIXES[p]);
        PyObject *pre = PyUnicode_FromString(PREFIXES[p]);
        if (pre == NULL) return NULL;
        int starts = (int)PyUnicode_Tailmatch(k, pre, 0, kn, -1);
        Py_DECREF(pre);
        if (starts < 0) return NULL;
        if (starts && (native = PyUnicode_Substring(k, pn, kn)) == NULL) return NULL;
    }
    if (native == NULL) {
        native = PyDict_GetItemWithError(FG_CEF_STD, k);
        if (native == NULL && PyErr_Occurred()) return NULL;
        native = Py_NewRef(native != NULL ? native : k);
    }
    *slot = fk_slot(native);
    return native;
}

/* _native's CEF reading after its pairs (`kv`, consumed; `slots` their values of the keys
 * parse_fortigate reads): type and subtype from `cat` or the CEF name (`type:subtype action`),
 * logid from the signature, cef_name; then fg_finish */
static PyObject *fg_cef_tail(PyObject *kv, PyObject **slots, PyObject *signature, PyObject *name) {
    /* cat = kv.get("cat", "") or (name.split(" ", 1)[0] if ":" in name else "") */
    PyObject *cat = PyDict_GetItemWithError(kv, FG_CAT);
    if (cat == NULL && PyErr_Occurred()) goto fail;
    if (cat != NULL && !PyUnicode_Check(cat)) goto decline;
    if (cat != NULL && PyUnicode_GET_LENGTH(cat) > 0) {
        Py_INCREF(cat);
    } else if (PyUnicode_FindChar(name, ':', 0, PyUnicode_GET_LENGTH(name), 1) >= 0) {
        Py_ssize_t sp = PyUnicode_FindChar(name, ' ', 0, PyUnicode_GET_LENGTH(name), 1);
        if (sp == -2 || (cat = PyUnicode_Substring(name, 0, sp >= 0 ? sp : PyUnicode_GET_LENGTH(name))) == NULL)
            goto fail;
    } else {
        cat = NULL;
    }
    int has = PyDict_Contains(kv, G[G_TYPE]);
    if (has < 0) {
        Py_XDECREF(cat);
        goto fail;
    }
    if (!has && cat != NULL && PyUnicode_GET_LENGTH(cat) > 0) {
        Py_ssize_t cn = PyUnicode_GET_LENGTH(cat), colon = PyUnicode_FindChar(cat, ':', 0, cn, 1);
        PyObject *t = colon == -2 ? NULL : PyUnicode_Substring(cat, 0, colon >= 0 ? colon : cn);
        int rc = t == NULL ? -1 : PyDict_SetItem(kv, G[G_TYPE], t);
        slots[G_TYPE] = t; /* (borrowed: the dict holds it) */
        Py_XDECREF(t);
        if (rc == 0 && colon >= 0) {
            PyObject *st = PyUnicode_Substring(cat, colon + 1, cn);
            rc = st == NULL || (slots[G_SUBTYPE] = PyDict_SetDefault(kv, G[G_SUBTYPE], st)) == NULL ? -1 : 0;
            Py_XDECREF(st);
        }
        if (rc < 0) {
            Py_DECREF(cat);
            goto fail;
        }
    }
    Py_XDECREF(cat);
    has = PyDict_Contains(kv, G[G_LOGID]);
    if (has < 0 || (!has && PyDict_SetItem(kv, G[G_LOGID], signature) < 0) ||
        PyDict_SetDefault(kv, FG_CEF_NAME, name) == NULL)
        goto fail;
    if (!has) slots[G_LOGID] = signature;
    PyObject *ret = fg_finish(kv, slots, 0);
    Py_DECREF(kv);
    return ret;
decline:
    Py_DECREF(kv);
    Py_RETURN_NONE;
fail:
    return fw_fail(kv, NULL, NULL);
}

/* _native's CEF reading after parse_cef: each extension key as FortiOS's own (fg_cef_native), a
 * value between double quotes without them, the first of a name kept; then fg_cef_tail. */
PyObject *fw_fortigate_cef(PyObject *self, PyObject *args) {
    PyObject *ext, *signature, *name;
    if (!PyArg_ParseTuple(args, "O!UU:fortigate_cef", &PyDict_Type, &ext, &signature, &name)) return NULL;
    if (FG_CEF_STD == NULL) Py_RETURN_NONE;
    if (fg_ready() < 0) return NULL;
    PyObject *kv = dict_sized(PyDict_GET_SIZE(ext) + 20);
    if (kv == NULL) return NULL;
    PyObject *slots[G_IN] = {NULL};
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(ext, &pos, &k, &v)) {
        PyObject *entry = PyDict_GetItemWithError(FG_NAMES, k), *native = NULL; /* (native, its slot) */
        if (entry == NULL) {
            if (PyErr_Occurred()) goto fail;
            int slot = -1;
            if ((native = fg_cef_native(k, &slot)) == NULL) goto fail;
            entry = Py_BuildValue("(Ni)", native, slot);
            if (entry == NULL) goto fail;
            if (PyDict_GET_SIZE(FG_NAMES) < 4096 && PyDict_SetItem(FG_NAMES, k, entry) < 0) {
                Py_DECREF(entry);
                goto fail;
            }
            Py_DECREF(entry); /* (the cache holds it; borrowed below, as a cache hit is) */
            entry = PyDict_GetItemWithError(FG_NAMES, k);
            if (entry == NULL) {
                if (PyErr_Occurred()) goto fail;
                goto decline; /* (the cache is full: Python reads this line) */
            }
        }
        native = PyTuple_GET_ITEM(entry, 0);
        long slot = PyLong_AsLong(PyTuple_GET_ITEM(entry, 1));
        Py_ssize_t vn = PyUnicode_GET_LENGTH(v);
        PyObject *got;
        if (vn >= 2 && PyUnicode_READ_CHAR(v, 0) == '"' && PyUnicode_READ_CHAR(v, vn - 1) == '"') {
            PyObject *inner = PyUnicode_Substring(v, 1, vn - 1);
            if (inner == NULL) goto fail;
            got = PyDict_SetDefault(kv, native, inner);
            Py_DECREF(inner);
        } else {
            got = PyDict_SetDefault(kv, native, v);
        }
        if (got == NULL) goto fail;
        if (slot >= 0) slots[slot] = got; /* (the dict's value of that name, the first one kept) */
    }
    return fg_cef_tail(kv, slots, signature, name);
decline:
    Py_DECREF(kv);
    Py_RETURN_NONE;
fail:
    return fw_fail(kv, NULL, NULL);
}

/* --- FortiGate's and Check Point's CEF in one walk --------------------------------------------
 * fw_fortigate_cef_span and fw_checkpoint_cef_span: fw_fortigate_cef / fw_checkpoint_cef of
 * cef_ext_core(s, n), without that dict. Why: on SEKOIA's samples ~28k of a FortiGate CEF line's
 * ~55k instructions, and more of a Check Point one's, went to the extension's dict: its keys
 * found from every word start, the dict made, walked, each key looked up again, freed
 * (callgrind). Here cef_pairs finds the pairs (from each `=`: pa_next_key, Palo Alto's walk),
 * each key's text finds its field name in a small cache by its bytes, and each value (made as
 * cef_ext_core makes it: stripped, pa_cef_value's unescapes) goes straight into the fields.
 * The same pairs in the same order as the dict: a key twice keeps its first place and its last
 * value. More than CEF_PAIRS_MAX pairs: Py_NotImplemented (the caller takes the dict path).
 * s[0:n]: the extension of a printable ASCII line (the reader has checked). */
#define CEF_PAIRS_MAX 512
typedef struct {
    Py_ssize_t k0, k1, v0, v1; /* the key s[k0:k1], its value s[v0:v1] stripped */
    unsigned int h;            /* pa_next_key's hash of the key */
} cef_pair;

/* the distinct keys of cef_ext_core's dict in its order, each with its last value; their count,
 * or -1 past CEF_PAIRS_MAX */
static int cef_pairs(const char *s, Py_ssize_t n, cef_pair *pr) {
    uint16_t seen[2 * CEF_PAIRS_MAX]; /* open addressing: pair index + 1 */
    memset(seen, 0, sizeof seen);
    int np = 0;
    unsigned int h = 0, nh = 0;
    Py_ssize_t kend = -1, k = pa_next_key(s, n, 0, &kend, &h);
    while (k >= 0) {
        Py_ssize_t nend = -1, nk = pa_next_key(s, n, kend, &nend, &nh), v0 = kend, v1 = nk >= 0 ? nk : n;
        while (v0 < v1 && pa_space((unsigned char)s[v0])) v0++;
        while (v1 > v0 && pa_space((unsigned char)s[v1 - 1])) v1--;
        Py_ssize_t len = kend - 1 - k;
        for (unsigned int slot = h & (2 * CEF_PAIRS_MAX - 1);; slot = (slot + 1) & (2 * CEF_PAIRS_MAX - 1)) {
            int j = seen[slot];
            if (j == 0) { /* a new key */
                if (np == CEF_PAIRS_MAX) return -1;
                seen[slot] = (uint16_t)(np + 1);
                pr[np++] = (cef_pair){k, kend - 1, v0, v1, h};
                break;
            }
            cef_pair *q = &pr[j - 1];
            if (q->h == h && q->k1 - q->k0 == len && memcmp(s + q->k0, s + k, (size_t)len) == 0) {
                q->v0 = v0, q->v1 = v1; /* (the dict's: the first place, the last value) */
                break;
            }
        }
        k = nk, kend = nend, h = nh;
    }
    return np;
}

/* a CEF key's field name by the key's bytes: a cache of (key text, name, slot), each key in one
 * of CEF_NAME_WAYS slots from its hash's (~40 keys a FortiGate line: a key of the same line
 * taking another's only slot cost ~2k instructions a line in misses) */
#define CEF_NAME_SLOTS 2048
#define CEF_NAME_WAYS 4
typedef struct {
    PyObject *raw, *out; /* the key's text (NULL: empty), its field name */
    int slot;            /* FortiGate's G_* of the name, or -1 */
} cef_name;
static cef_name FG_CNAMES[CEF_NAME_SLOTS], CP_CNAMES[CEF_NAME_SLOTS];

static void cef_names_clear(cef_name *tab) {
    for (int i = 0; i < CEF_NAME_SLOTS; i++) {
        Py_CLEAR(tab[i].raw);
        Py_CLEAR(tab[i].out);
    }
}

/* the entry of key s[0:n] (hash h) in tab, made by make(key, &slot) on a miss (in an empty slot
 * of its ways, else in its first); NULL on error */
static cef_name *cef_name_of(cef_name *tab, const char *s, Py_ssize_t n, unsigned int h,
                             PyObject *(*make)(PyObject *, int *)) {
    cef_name *e = NULL;
    for (unsigned int w = 0; w < CEF_NAME_WAYS; w++) {
        cef_name *t = &tab[(h + w) & (CEF_NAME_SLOTS - 1)];
        if (t->raw == NULL) {
            e = t;
            break;
        }
        if (PyUnicode_GET_LENGTH(t->raw) == n && memcmp(PyUnicode_DATA(t->raw), s, (size_t)n) == 0) return t;
    }
    if (e == NULL) e = &tab[h & (CEF_NAME_SLOTS - 1)];
    PyObject *raw = ascii_sub(s, 0, n);
    if (raw == NULL) return NULL;
    int slot = -1;
    PyObject *out = make(raw, &slot);
    if (out == NULL) {
        Py_DECREF(raw);
        return NULL;
    }
    Py_XSETREF(e->raw, raw);
    Py_XSETREF(e->out, out);
    e->slot = slot;
    return e;
}

PyObject *fw_fortigate_cef_span(const char *s, Py_ssize_t n, PyObject *const *head) {
    PyObject *signature = head[0], *name = head[1];
    if (FG_CEF_STD == NULL) Py_RETURN_NONE;
    if (fg_ready() < 0) return NULL;
    cef_pair pr[CEF_PAIRS_MAX];
    int np = cef_pairs(s, n, pr);
    if (np < 0) Py_RETURN_NOTIMPLEMENTED;
    PyObject *kv = dict_sized(np + 20);
    if (kv == NULL) return NULL;
    PyObject *slots[G_IN] = {NULL};
    for (int i = 0; i < np; i++) {
        cef_name *e = cef_name_of(FG_CNAMES, s + pr[i].k0, pr[i].k1 - pr[i].k0, pr[i].h, fg_cef_native);
        if (e == NULL) goto fail;
        /* a value between double quotes without them (the unescapes never touch a `"`) */
        Py_ssize_t v0 = pr[i].v0, v1 = pr[i].v1;
        if (v1 - v0 >= 2 && s[v0] == '"' && s[v1 - 1] == '"') v0++, v1--;
        PyObject *v = pa_cef_value(s, v0, v1);
        if (v == NULL) goto fail;
        PyObject *got = PyDict_SetDefault(kv, e->out, v);
        Py_DECREF(v);
        if (got == NULL) goto fail;
        if (e->slot >= 0) slots[e->slot] = got; /* (the dict's value of that name, the first one kept) */
    }
    return fg_cef_tail(kv, slots, signature, name);
fail:
    return fw_fail(kv, NULL, NULL);
}

PyObject *fw_fortigate_setup(PyObject *self, PyObject *cef_std) {
    if (!PyDict_Check(cef_std)) {
        PyErr_SetString(PyExc_TypeError, "fortigate_setup(cef_std: dict)");
        return NULL;
    }
    if (fg_ready() < 0 || fw_intern(&FG_CAT, "cat") < 0 || fw_intern(&FG_CEF_NAME, "cef_name") < 0) return NULL;
    if (FG_NAMES == NULL && (FG_NAMES = PyDict_New()) == NULL) return NULL;
    Py_INCREF(cef_std);
    Py_XSETREF(FG_CEF_STD, cef_std);
    PyDict_Clear(FG_NAMES);
    cef_names_clear(FG_CNAMES);
    pa_class_init(); /* (cef_pairs' character classes) */
    Py_RETURN_NONE;
}

/* ============================================================================================
 * base.cef_extension for text that is not ASCII (_logfast.c's cef_extension takes ASCII only,
 * and the regex path cost ~480 us on a 4 kB Palo Alto CEF line with one zero-width space).
 * The same reading on any str, by code point: a key is a run of [A-Za-z0-9_.\[\]-] (ASCII, as
 * the pattern spells it) followed by `=`, starting the text or after a character re's \s takes
 * (Py_UNICODE_ISSPACE, what str.strip() strips too); a run not followed by `=` fails at once (a
 * shorter run meets a key character), and the next start inside it has no space before it.
 * Each value runs to the next key, is stripped, then _cef_unescape's five replace passes in
 * its order (\= \| \n \r \\), each left to right without overlap.
 * ============================================================================================ */

static inline int cw_key_char(Py_UCS4 c) {
    return c < 128 && (fw_word((char)c) || c == '.' || c == '[' || c == ']' || c == '-');
}

/* the first key at or after `from`: its start (*ks) and the index after its `=` (*ke); 0: none */
static int cw_next_key(int kind, const void *data, Py_ssize_t n, Py_ssize_t from, Py_ssize_t *ks, Py_ssize_t *ke) {
    for (Py_ssize_t p = from; p < n; p++) {
        if (p > 0 && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, p - 1))) continue;
        Py_ssize_t q = p;
        while (q < n && cw_key_char(PyUnicode_READ(kind, data, q))) q++;
        if (q > p && q < n && PyUnicode_READ(kind, data, q) == '=') {
            *ks = p;
            *ke = q + 1;
            return 1;
        }
    }
    return 0;
}

/* one `str.replace("\\" + a, to)` pass over buf[0:m] in place */
static Py_ssize_t cw_replace(Py_UCS4 *buf, Py_ssize_t m, Py_UCS4 a, Py_UCS4 to) {
    Py_ssize_t o = 0;
    for (Py_ssize_t i = 0; i < m; i++) {
        if (buf[i] == '\\' && i + 1 < m && buf[i + 1] == a) {
            buf[o++] = to;
            i++;
        } else {
            buf[o++] = buf[i];
        }
    }
    return o;
}

PyObject *fw_cef_extension_wide(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "cef_extension_wide() takes a str");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *out = PyDict_New();
    if (out == NULL) return NULL;
    Py_UCS4 *buf = NULL;
    Py_ssize_t ks, ke, nks, nke;
    int more = cw_next_key(kind, data, n, 0, &ks, &ke);
    while (more) {
        more = cw_next_key(kind, data, n, ke, &nks, &nke);
        Py_ssize_t v0 = ke, v1 = more ? nks : n;
        while (v0 < v1 && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, v0))) v0++;
        while (v1 > v0 && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, v1 - 1))) v1--;
        PyObject *key = PyUnicode_Substring(text, ks, ke - 1);
        if (key == NULL) goto fail;
        int slash = 0;
        for (Py_ssize_t k = v0; k < v1 && !slash; k++) slash = PyUnicode_READ(kind, data, k) == '\\';
        PyObject *val;
        if (!slash) {
            val = PyUnicode_Substring(text, v0, v1);
        } else {
            Py_ssize_t m = v1 - v0;
            PyMem_Free(buf);
            buf = PyMem_Malloc(sizeof(Py_UCS4) * (size_t)(m > 0 ? m : 1));
            if (buf == NULL) {
                Py_DECREF(key);
                PyErr_NoMemory();
                goto fail;
            }
            for (Py_ssize_t k = 0; k < m; k++) buf[k] = PyUnicode_READ(kind, data, v0 + k);
            m = cw_replace(buf, m, '=', '=');
            m = cw_replace(buf, m, '|', '|');
            m = cw_replace(buf, m, 'n', '\n');
            m = cw_replace(buf, m, 'r', '\r');
            m = cw_replace(buf, m, '\\', '\\');
            val = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, m);
        }
        if (set_pair(out, key, val) < 0) goto fail;
        ks = nks;
        ke = nke;
    }
    PyMem_Free(buf);
    return out;
fail:
    PyMem_Free(buf);
    Py_DECREF(out);
    return NULL;
}

/* ============================================================================================
 * Check Point: checkpoint._syslog_kv (the `syslog[key:"value"; ...]` form) and _cef's mapping
 * after parse_cef, then checkpoint._finish. The maps and sets are checkpoint.py's, handed over
 * by checkpoint_setup.
 *
 * _SYSLOG_KV = (?<![\w:])(\w[\w:]*?):"((?:[^"\\]|\\.)*+)";?  walked as findall does, on
 * printable ASCII: a key starts where no [\w:] precedes; the lazy key is the shortest run of
 * [\w:] from there followed by `:"` (a longer one would have to hold that `"`); the value is
 * possessive (no other reading), and must end at a `"`; else the next start is tried. The key
 * loses its trailing colons (k.rstrip(":")).
 * _finish: values stripped (spaces: printable ASCII here; other text by str.strip), empty ones
 * dropped, _INTS read by to_int's rule; src/dst that are no addresses renamed to _host; proto's
 * first word by transport; a dst_port that is not an int renamed service_name; _FW_ACTIONS'
 * blocked; the user before ` (`; the service from the product.
 * ============================================================================================ */

static PyObject *CP_KV_MAP, *CP_CEF_MAP, *CP_INTS, *CP_BLOCKING, *CP_FW_ACTIONS;
static PyObject *S_CP_PREFIX, *S_CP_PRODUCT, *S_SRC_USER2, *S_SERVICE_NAME, *S_FIREWALL, *S_EVENT_TYPE, *S_CP_NAME;

/* checkpoint_fw1's names of the fw1 export's columns 3-11, then 13 (_fw1_export's) */
#define CP_FW1_N 10
static PyObject *CP_FW1[CP_FW1_N];
static const char *const CP_FW1_NAMES[CP_FW1_N] = {"interface", "origin", "event_type", "action", "dst_port",
                                                    "src_port", "src_ip", "dst_ip", "proto", "rule"};

PyObject *fw_checkpoint_setup(PyObject *self, PyObject *args) {
    PyObject *kv_map, *cef_map, *ints, *blocking, *fw_actions, *iana;
    if (!PyArg_ParseTuple(args, "O!O!OOOO!:checkpoint_setup", &PyDict_Type, &kv_map, &PyDict_Type, &cef_map, &ints,
                          &blocking, &fw_actions, &PyDict_Type, &iana))
        return NULL;
    if (fw_common_init() < 0 || fw_intern(&S_CP_PREFIX, "checkpoint.") < 0 ||
        fw_intern(&S_CP_PRODUCT, "checkpoint.product") < 0 || fw_intern(&S_SRC_USER2, "src_user") < 0 ||
        fw_intern(&S_SERVICE_NAME, "service_name") < 0 || fw_intern(&S_FIREWALL, "firewall") < 0 ||
        fw_intern(&S_EVENT_TYPE, "event_type") < 0 || fw_intern(&S_CP_NAME, "cp_name") < 0 ||
        fw_intern(&S_EMPTY_STR, "") < 0)
        return NULL;
    for (int k = 0; k < CP_FW1_N; k++)
        if (fw_intern(&CP_FW1[k], CP_FW1_NAMES[k]) < 0) return NULL;
    PyObject *objs[6] = {kv_map, cef_map, ints, blocking, fw_actions, iana};
    PyObject **slots[6] = {&CP_KV_MAP, &CP_CEF_MAP, &CP_INTS, &CP_BLOCKING, &CP_FW_ACTIONS, &IANA};
    for (int k = 0; k < 6; k++) {
        Py_INCREF(objs[k]);
        Py_XSETREF(*slots[k], objs[k]);
    }
    cef_names_clear(CP_CNAMES);
    pa_class_init(); /* (cef_pairs' character classes) */
    Py_RETURN_NONE;
}

/* `checkpoint.<k>` (new reference), kept by the key object: the keys of both forms are the
 * shared strings ascii_sub hands out (the same object line after line), so the name is made
 * and hashed once, not per pair (~60 pairs a CEF line, most of them unmapped). The slot holds
 * a reference to the key, so its address is not reused while it is there. */
#define CP_NAME_SLOTS 1024
static PyObject *CP_NKEY[CP_NAME_SLOTS], *CP_NAME[CP_NAME_SLOTS];

static PyObject *cp_prefixed(PyObject *k) {
    if (!PyUnicode_CheckExact(k)) return PyUnicode_Concat(S_CP_PREFIX, k);
    uintptr_t h = (uintptr_t)k >> 4;
    size_t i = (size_t)(h ^ (h >> 10)) & (CP_NAME_SLOTS - 1);
    if (CP_NKEY[i] == k) return Py_NewRef(CP_NAME[i]);
    PyObject *pk = PyUnicode_Concat(S_CP_PREFIX, k);
    if (pk == NULL) return NULL;
    Py_XSETREF(CP_NKEY[i], Py_NewRef(k));
    Py_XSETREF(CP_NAME[i], Py_NewRef(pk));
    return pk;
}

/* v.strip() (new reference): spaces for printable ASCII, else str.strip itself */
static PyObject *cp_strip(PyObject *v) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(v);
    if (PyUnicode_IS_ASCII(v) && n > 0) { /* (ends that are no whitespace: strip() keeps it whole) */
        unsigned char a = ((const unsigned char *)PyUnicode_DATA(v))[0], b = ((const unsigned char *)PyUnicode_DATA(v))[n - 1];
        if (a > ' ' && a < 0x7f && b > ' ' && b < 0x7f) return Py_NewRef(v);
    }
    const char *t = fw_ascii(v, &n);
    if (t == NULL || !fw_printable(t, n)) return PyObject_CallMethod(v, "strip", NULL);
    Py_ssize_t a = 0, b = n;
    while (a < b && t[a] == ' ') a++;
    while (b > a && t[b - 1] == ' ') b--;
    if (a == 0 && b == n) {
        Py_INCREF(v);
        return v;
    }
    return ascii_sub(t, a, b);
}

/* checkpoint._finish: (fields, services, categories), None (undecided) or NULL; consumes fields */
static PyObject *cp_finish(PyObject *fields, PyObject *product) {
    /* one walk of the dict, which only sets values of its keys (what PyDict_Next allows); the
     * keys of empty values are deleted after it, as Python's walk of list(fields) leaves them */
    PyObject *keys = NULL, *ret = NULL, *k, *v0; /* keys: those to delete, or NULL */
    Py_ssize_t ln, pos = 0;
    const char *txt;
    while (PyDict_Next(fields, &pos, &k, &v0)) {
        PyObject *v = Py_NewRef(v0);
        if (PyUnicode_Check(v)) {
            PyObject *st = cp_strip(v);
            int same = st == v; /* (already stripped: the dict holds it, not set again) */
            Py_DECREF(v);
            if (st == NULL) goto fail;
            v = st;
            if (!same && PyDict_SetItem(fields, k, v) < 0) {
                Py_DECREF(v);
                goto fail;
            }
        }
        int empty = v == Py_None || (PyUnicode_Check(v) && PyUnicode_GET_LENGTH(v) == 0);
        if (empty) {
            Py_DECREF(v);
            if ((keys == NULL && (keys = PyList_New(0)) == NULL) || PyList_Append(keys, k) < 0) goto fail;
            continue;
        }
        int isint = PySet_Contains(CP_INTS, k);
        if (isint < 0) {
            Py_DECREF(v);
            goto fail;
        }
        if (isint) {
            if (!PyUnicode_Check(v) || (txt = fw_ascii(v, &ln)) == NULL) { /* (int() of it: Python decides) */
                Py_DECREF(v);
                goto decline;
            }
            PyObject *num = NULL;
            int got = pa_int(txt, 0, ln, &num);
            if (got == -2 || got == -1) {
                Py_DECREF(v);
                if (got == -2) goto fail;
                goto decline;
            }
            if (got == 1 && fw_put(fields, k, num) < 0) {
                Py_DECREF(v);
                goto fail;
            }
        }
        Py_DECREF(v);
    }
    for (Py_ssize_t d = 0; keys != NULL && d < PyList_GET_SIZE(keys); d++)
        if (PyDict_DelItem(fields, PyList_GET_ITEM(keys, d)) < 0) goto fail;
    PyObject *ipkeys[2] = {S_SRC_IP, S_DST_IP}, *hostkeys[2] = {S_SRC_HOST, S_DST_HOST};
    for (int k = 0; k < 2; k++) {
        PyObject *v = PyDict_GetItemWithError(fields, ipkeys[k]);
        if (v == NULL) {
            if (PyErr_Occurred()) goto fail;
            continue;
        }
        int ip = 0;
        if (PyUnicode_Check(v)) {
            if (!pa_text(v, &txt, &ln)) goto decline;
            ip = fw_is_ip(txt, ln);
        }
        if (!ip && fw_rename(fields, ipkeys[k], hostkeys[k]) < 0) goto fail;
    }
    PyObject *proto = PyDict_GetItemWithError(fields, S_PROTO);
    if (proto == NULL && PyErr_Occurred()) goto fail;
    if (proto != NULL) { /* transport(str(proto).split()[0]): a stripped, non-empty str here */
        if (!PyUnicode_Check(proto) || !pa_text(proto, &txt, &ln)) goto decline;
        const char *sp = memchr(txt, ' ', (size_t)ln);
        if (fw_put(fields, S_NETWORK_PROTOCOL, fw_transport(txt, sp != NULL ? sp - txt : ln)) < 0) goto fail;
    }
    PyObject *dp = PyDict_GetItemWithError(fields, S_DST_PORT);
    if (dp == NULL && PyErr_Occurred()) goto fail;
    if (dp != NULL && !PyLong_Check(dp) && fw_rename(fields, S_DST_PORT, S_SERVICE_NAME) < 0) goto fail;
    PyObject *cats = S_EMPTY_T, *act = PyDict_GetItemWithError(fields, S_ACTION);
    if (act == NULL && PyErr_Occurred()) goto fail;
    if (act != NULL) {
        if (!PyUnicode_Check(act) || !pa_text(act, &txt, &ln)) goto decline;
        PyObject *low = pa_lower(txt, ln);
        if (low == NULL) goto fail;
        int fw = PySet_Contains(CP_FW_ACTIONS, low), blocked = fw > 0 ? PySet_Contains(CP_BLOCKING, low) : 0;
        Py_DECREF(low);
        if (fw < 0 || blocked < 0) goto fail;
        if (fw) {
            cats = S_FIREWALL_T;
            if (PyDict_SetItem(fields, S_BLOCKED, blocked ? S_TRUE : S_FALSE) < 0) goto fail;
        }
    }
    PyObject *user = PyDict_GetItemWithError(fields, S_SRC_USER2);
    if (user == NULL && PyErr_Occurred()) goto fail;
    if (user != NULL && PyUnicode_Check(user) && PyUnicode_GET_LENGTH(user) > 0) {
        if (!pa_text(user, &txt, &ln)) goto decline;
        Py_ssize_t b = ln;
        for (Py_ssize_t k = 0; k + 1 < ln; k++)
            if (txt[k] == ' ' && txt[k + 1] == '(') {
                b = k;
                break;
            }
        Py_ssize_t a = 0;
        while (a < b && txt[a] == ' ') a++;
        while (b > a && txt[b - 1] == ' ') b--;
        if (fw_put(fields, S_USER, ascii_sub(txt, a, b)) < 0) goto fail;
    }
    /* product.lower() with " " and "-" as "_", "&" as "and", else "firewall"; any "firewall" in it */
    if (!pa_text(product, &txt, &ln)) goto decline;
    char *buf = PyMem_Malloc((size_t)ln * 3 + 1);
    if (buf == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    Py_ssize_t m = 0;
    for (Py_ssize_t k = 0; k < ln; k++) {
        char c = txt[k];
        if (c == ' ' || c == '-') buf[m++] = '_';
        else if (c == '&') {
            memcpy(buf + m, "and", 3);
            m += 3;
        } else buf[m++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    PyObject *svc = (m == 0 || fw_has(buf, m, "firewall")) ? (Py_INCREF(S_FIREWALL), S_FIREWALL) : ascii_sub(buf, 0, m);
    PyMem_Free(buf);
    if (svc == NULL) goto fail;
    PyObject *services = PyTuple_Pack(1, svc);
    Py_DECREF(svc);
    if (services == NULL) goto fail;
    Py_XDECREF(keys);
    return Py_BuildValue("(NNO)", fields, services, cats);
decline:
    ret = Py_None;
    Py_INCREF(ret);
fail:
    Py_XDECREF(keys);
    Py_DECREF(fields);
    return ret;
}

/* _syslog_kv(text): every pair of _SYSLOG_KV, mapped by _KV_MAP else `checkpoint.<key>`, the
 * first of a name kept; then _finish with the product the pairs name */
/* The closing quote of a `"(?:[^"\\]|\\.)*"` match whose text starts at `from` (after its
 * opening quote): its index, or -1 where no match ends (printable text: `.` matches any
 * character there). The key:"value" form's values and the fw1 export's columns. */
static Py_ssize_t cp_quoted_end(const char *s, Py_ssize_t n, Py_ssize_t from) {
    Py_ssize_t v = from;
    while (v < n && s[v] != '"') {
        if (s[v] == '\\') {
            if (v + 1 >= n) break; /* (`\.` needs a character; printable: never a newline) */
            v += 2;
        } else {
            v++;
        }
    }
    return v < n && s[v] == '"' ? v : -1;
}

PyObject *fw_checkpoint_kv(PyObject *self, PyObject *text) {
    const char *s;
    Py_ssize_t n;
    int ascii = fw_text(text, "checkpoint_kv", &s, &n);
    if (ascii < 0) return NULL;
    if (ascii == 0 || CP_KV_MAP == NULL) Py_RETURN_NONE;
    if (!fw_printable(s, n)) Py_RETURN_NONE;
    PyObject *fields = dict_sized(count_char(s, n, ':') + 8);
    if (fields == NULL) return NULL;
    Py_ssize_t p = 0;
    while (p < n) {
        if (!fw_word(s[p]) || (p > 0 && (fw_word(s[p - 1]) || s[p - 1] == ':'))) {
            p++;
            continue;
        }
        Py_ssize_t q = p + 1, ke = -1;
        for (; q < n && (fw_word(s[q]) || s[q] == ':'); q++)
            if (s[q] == ':' && q + 1 < n && s[q + 1] == '"') {
                ke = q;
                break;
            }
        if (ke < 0) {
            p++;
            continue;
        }
        Py_ssize_t v0 = ke + 2, v = cp_quoted_end(s, n, v0);
        if (v < 0) {
            p++;
            continue;
        }
        Py_ssize_t k1 = ke;
        while (k1 > p && s[k1 - 1] == ':') k1--;
        PyObject *key = ascii_sub(s, p, k1);
        if (key == NULL) goto fail;
        PyObject *name = PyDict_GetItemWithError(CP_KV_MAP, key);
        if (name == NULL && PyErr_Occurred()) {
            Py_DECREF(key);
            goto fail;
        }
        if (name != NULL) {
            Py_INCREF(name);
        } else {
            name = cp_prefixed(key);
        }
        Py_DECREF(key);
        if (name == NULL) goto fail;
        PyObject *val = ascii_sub(s, v0, v);
        PyObject *got = val == NULL ? NULL : PyDict_SetDefault(fields, name, val);
        Py_DECREF(name);
        Py_XDECREF(val);
        if (got == NULL) goto fail;
        p = v + 1;
        if (p < n && s[p] == ';') p++;
    }
    PyObject *product = PyDict_GetItemWithError(fields, S_CP_PRODUCT);
    if (product == NULL && PyErr_Occurred()) goto fail;
    product = product != NULL ? product : S_EMPTY_STR;
    Py_INCREF(product);
    PyObject *ret = cp_finish(fields, product);
    Py_DECREF(product);
    return ret;
fail:
    return fw_fail(fields, NULL, NULL);
}

/* _fw1_export: the quoted fw1 export's columns (_QUOTED.findall: `"` then characters other than
 * `"` and `\`, or `\` and any character, up to a `"`; where no such match starts at a `"`, the
 * search goes on from the next character), columns 3-11 and 13 named, then _finish with no
 * product. Only the first 14 columns are looked for (_fw1_export reads no further). None: fewer
 * than 12 columns, or text that is not printable ASCII (Python reads it). Why: the regex's
 * findall over the whole line and _finish in Python were ~3/4 of a Check Point sample's cost
 * on the mix (3 lines of 17 made a third of the parser's time). */

PyObject *fw_checkpoint_fw1(PyObject *self, PyObject *text) {
    const char *s;
    Py_ssize_t n;
    int ascii = fw_text(text, "checkpoint_fw1", &s, &n);
    if (ascii < 0) return NULL;
    if (ascii == 0 || CP_KV_MAP == NULL || CP_FW1[0] == NULL || !fw_printable(s, n)) Py_RETURN_NONE;
    Py_ssize_t a[14], b[14], i = 0;
    int nc = 0;
    while (nc < 14 && i < n) {
        const char *q = memchr(s + i, '"', (size_t)(n - i));
        if (q == NULL) break;
        Py_ssize_t st = q - s, p = cp_quoted_end(s, n, st + 1);
        if (p >= 0) {
            a[nc] = st + 1;
            b[nc] = p;
            nc++;
            i = p + 1;
        } else {
            i = st + 1;
        }
    }
    if (nc < 12) Py_RETURN_NONE;
    PyObject *fields = _PyDict_NewPresized(CP_FW1_N);
    if (fields == NULL) return NULL;
    for (int k = 0; k < CP_FW1_N; k++) {
        int col = k < 9 ? 3 + k : 13;
        if (col >= nc) break;
        if (set_pair(fields, Py_NewRef(CP_FW1[k]), ascii_sub(s, a[col], b[col])) < 0) {
            Py_DECREF(fields);
            return NULL;
        }
    }
    return cp_finish(fields, S_EMPTY_STR);
}

/* _cef after parse_cef (vendor "Check Point"): event_type, cp_name, then _CEF_MAP's names else
 * `checkpoint.<key>`, the first of a name kept; then _finish with the CEF product */
PyObject *fw_checkpoint_cef(PyObject *self, PyObject *args) {
    PyObject *ext, *product, *signature, *name;
    if (!PyArg_ParseTuple(args, "O!UUU:checkpoint_cef", &PyDict_Type, &ext, &product, &signature, &name)) return NULL;
    if (CP_CEF_MAP == NULL) Py_RETURN_NONE;
    PyObject *fields = dict_sized(PyDict_GET_SIZE(ext) + 8);
    if (fields == NULL || PyDict_SetItem(fields, S_EVENT_TYPE, signature) < 0 || PyDict_SetItem(fields, S_CP_NAME, name) < 0)
        goto fail;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(ext, &pos, &k, &v)) {
        PyObject *mapped = PyDict_GetItemWithError(CP_CEF_MAP, k), *got;
        if (mapped == NULL && PyErr_Occurred()) goto fail;
        if (mapped != NULL) {
            got = PyDict_SetDefault(fields, mapped, v);
        } else {
            PyObject *pk = cp_prefixed(k);
            if (pk == NULL) goto fail;
            got = PyDict_SetDefault(fields, pk, v);
            Py_DECREF(pk);
        }
        if (got == NULL) goto fail;
    }
    Py_INCREF(product);
    PyObject *ret = cp_finish(fields, product);
    Py_DECREF(product);
    return ret;
fail:
    return fw_fail(fields, NULL, NULL);
}

/* a Check Point CEF key's field name (_cef's: _CEF_MAP's, else `checkpoint.<key>`), a new reference */
static PyObject *cp_cef_name(PyObject *k, int *slot) {
    PyObject *mapped = PyDict_GetItemWithError(CP_CEF_MAP, k);
    if (mapped != NULL) return Py_NewRef(mapped);
    return PyErr_Occurred() ? NULL : PyUnicode_Concat(S_CP_PREFIX, k);
}

/* fw_checkpoint_cef of cef_ext_core(s, n) in one walk (see cef_pairs); head: product, signature,
 * name; Py_NotImplemented: take the dict's path */
PyObject *fw_checkpoint_cef_span(const char *s, Py_ssize_t n, PyObject *const *head) {
    PyObject *product = head[0], *signature = head[1], *name = head[2];
    if (CP_CEF_MAP == NULL) Py_RETURN_NONE;
    cef_pair pr[CEF_PAIRS_MAX];
    int np = cef_pairs(s, n, pr);
    if (np < 0) Py_RETURN_NOTIMPLEMENTED;
    PyObject *fields = dict_sized(np + 8);
    if (fields == NULL || PyDict_SetItem(fields, S_EVENT_TYPE, signature) < 0 || PyDict_SetItem(fields, S_CP_NAME, name) < 0)
        goto fail;
    for (int i = 0; i < np; i++) {
        cef_name *e = cef_name_of(CP_CNAMES, s + pr[i].k0, pr[i].k1 - pr[i].k0, pr[i].h, cp_cef_name);
        PyObject *v = e != NULL ? pa_cef_value(s, pr[i].v0, pr[i].v1) : NULL;
        if (v == NULL) goto fail;
        PyObject *got = PyDict_SetDefault(fields, e->out, v);
        Py_DECREF(v);
        if (got == NULL) goto fail;
    }
    return cp_finish(fields, product);
fail:
    return fw_fail(fields, NULL, NULL);
}

/* ============================================================================================
 * Sophos: sophos.parse_sophos for printable ASCII text (SFOS/XG `log_type=`, UTM `sys="`, the
 * WAF's `id="0299"`): the pairs by kv_pairs, each kept as `sophos.<key>`, _KEYS' first value
 * that is not None, "", "-" or "N/A" (to_int's rule for _INTS), src/dst/NAT that are no
 * addresses dropped, then the WAF's or the firewall's own fields. The tables are sophos.py's,
 * handed over by sophos_setup. False: parse_sophos gives None (the pairs are not Sophos's).
 * ============================================================================================ */

static PyObject *SO_KEYS, *SO_INTS, *SO_BLOCKING, *SO_PREFIXED; /* _KEYS items, _INTS, _BLOCKING, (unused) */
enum { SO_LOG_TYPE, SO_SYS, SO_SUB, SO_ID, SO_QUERY, SO_PROTOCOL, SO_STATUS, SO_LOG_SUBTYPE, SO_CALLER, SO_NAME,
       SO_C_URI_QUERY, SO_C_IP, SO_NAT_SRC, SO_WAF, SO_WEBSERVER, SO_SYSLOG, SO_C_URI, SO_N };
static PyObject *SO[SO_N];
static const char *const SO_NAMES[SO_N] = {"log_type", "sys", "sub", "id", "query", "protocol", "status",
                                           "log_subtype", "caller", "name", "c-uri-query", "c-ip", "source.nat.ip",
                                           "waf", "webserver", "syslog", "c-uri"};

/* A key's text -> its `sophos.<key>` and, for a key fw_sophos_line looks up, that key (the one
 * object its lookups use): one hash of the key's bytes per pair instead of a key str, a pairs
 * dict and a lookup of the prefixed name. Why: kv_pairs' dict and the copy into `sophos.<key>`
 * were ~60% of a Sophos line (~40 pairs on SFOS lines). Open addressing, bounded (a line of
 * random keys cannot grow it: past SO_CACHE_MAX keys are made per pair). */
static PyObject *SO_KNOWN; /* key -> itself, for the keys looked up */
#define SO_CACHE 1024
#define SO_CACHE_MAX 700
typedef struct {
    unsigned int h;
    Py_ssize_t n;
    char *text;
    PyObject *prefixed, *known; /* known: NULL when not looked up */
} so_slot;
static so_slot SO_CACHE_T[SO_CACHE];
static int so_cache_n;

static void so_cache_clear(void) {
    for (int k = 0; k < SO_CACHE; k++) {
        so_slot *e = &SO_CACHE_T[k];
        if (e->text == NULL) continue;
        PyMem_Free(e->text);
        Py_XDECREF(e->prefixed);
        Py_XDECREF(e->known);
        memset(e, 0, sizeof *e);
    }
    so_cache_n = 0;
}

/* the prefixed key and known key of s[0:n] (new references in *prefixed, *known (NULL: not
 * looked up)); 0, or -1 with an error set */
static int so_key(const char *s, Py_ssize_t n, PyObject **prefixed, PyObject **known) {
    unsigned int h = 2166136261u ^ (unsigned int)n;
    for (Py_ssize_t k = 0; k < n; k++) h = (h ^ (unsigned char)s[k]) * 16777619u;
    unsigned int at = h & (SO_CACHE - 1);
    for (;;) {
        so_slot *e = &SO_CACHE_T[at];
        if (e->text == NULL) break;
        if (e->h == h && e->n == n && memcmp(e->text, s, (size_t)n) == 0) {
            *prefixed = Py_NewRef(e->prefixed);
            *known = Py_XNewRef(e->known);
            return 0;
        }
        at = (at + 1) & (SO_CACHE - 1);
    }
    PyObject *key = ascii_sub(s, 0, n);
    if (key == NULL) return -1;
    PyObject *kn = PyDict_GetItemWithError(SO_KNOWN, key);
    if (kn == NULL && PyErr_Occurred()) {
        Py_DECREF(key);
        return -1;
    }
    PyObject *pk = PyUnicode_FromFormat("sophos.%U", key);
    Py_DECREF(key);
    if (pk == NULL) return -1;
    *prefixed = pk;
    *known = Py_XNewRef(kn);
    if (so_cache_n < SO_CACHE_MAX) { /* (the slot found empty above) */
        char *copy = PyMem_Malloc(n > 0 ? (size_t)n : 1);
        if (copy == NULL) return 0; /* (not kept: made again next time) */
        memcpy(copy, s, (size_t)n);
        so_slot *e = &SO_CACHE_T[at];
        e->h = h, e->n = n, e->text = copy, e->prefixed = Py_NewRef(pk), e->known = Py_XNewRef(kn);
        so_cache_n++;
    }
    return 0;
}

PyObject *fw_sophos_setup(PyObject *self, PyObject *args) {
    PyObject *keys, *ints, *blocking;
    if (!PyArg_ParseTuple(args, "O!OO:sophos_setup", &PyDict_Type, &keys, &ints, &blocking)) return NULL;
    if (fw_common_init() < 0) return NULL;
    for (int k = 0; k < SO_N; k++)
        if (fw_intern(&SO[k], SO_NAMES[k]) < 0) return NULL;
    PyObject *items = PyDict_Items(keys);
    if (items == NULL) return NULL;
    Py_XSETREF(SO_KEYS, items);
    Py_INCREF(ints);
    Py_XSETREF(SO_INTS, ints);
    Py_INCREF(blocking);
    Py_XSETREF(SO_BLOCKING, blocking);
    if (SO_PREFIXED == NULL && (SO_PREFIXED = PyDict_New()) == NULL) return NULL;
    /* the keys fw_sophos_line looks up (so_key's `known`): _KEYS' own, and the ones it reads */
    PyObject *known = PyDict_New();
    if (known == NULL) return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *ks = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1);
        if (!PyTuple_Check(ks)) {
            Py_DECREF(known);
            PyErr_SetString(PyExc_TypeError, "sophos_setup: keys maps a name to a tuple of keys");
            return NULL;
        }
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(ks); j++)
            if (PyDict_SetItem(known, PyTuple_GET_ITEM(ks, j), PyTuple_GET_ITEM(ks, j)) < 0) {
                Py_DECREF(known);
                return NULL;
            }
    }
    PyObject *more[] = {SO[SO_LOG_TYPE], SO[SO_SYS], SO[SO_SUB], SO[SO_ID], SO[SO_QUERY], SO[SO_PROTOCOL], S_PROTO,
                        SO[SO_STATUS], S_ACTION, SO[SO_LOG_SUBTYPE], SO[SO_CALLER], SO[SO_NAME]};
    for (size_t j = 0; j < sizeof more / sizeof more[0]; j++)
        if (PyDict_SetItem(known, more[j], more[j]) < 0) {
            Py_DECREF(known);
            return NULL;
        }
    Py_XSETREF(SO_KNOWN, known);
    so_cache_clear();
    Py_RETURN_NONE;
}

/* kv.get(key) as printable ASCII text: 1 (*t, *n; NULL when absent), 0 undecided, -1 error */
static int so_get(PyObject *kv, PyObject *key, const char **t, Py_ssize_t *n) {
    PyObject *v = PyDict_GetItemWithError(kv, key);
    *t = NULL;
    *n = 0;
    if (v == NULL) return PyErr_Occurred() ? -1 : 1;
    return pa_text(v, t, n);
}

PyObject *fw_sophos_line(PyObject *self, PyObject *msg) {
    const char *s;
    Py_ssize_t n;
    int ascii = fw_text(msg, "sophos_line", &s, &n);
    if (ascii < 0) return NULL;
    if (ascii == 0 || SO_KEYS == NULL) Py_RETURN_NONE;
    if (!fw_printable(s, n)) Py_RETURN_NONE;
    if (!fw_has(s, n, "log_type=") && !fw_has(s, n, "sys=\"") && !fw_has(s, n, "id=\"0299\"")) Py_RETURN_FALSE;
    /* kv_pairs' walk: every pair into `fields` as `sophos.<key>` (kv_pairs' order and values: a
     * key seen again keeps its place, its last value), and the looked-up keys into `kv` */
    PyObject *kv = PyDict_New(), *fields = NULL, *ret = NULL;
    if (kv == NULL || (fields = dict_sized(count_char(s, n, '=') + 8)) == NULL) {
        Py_XDECREF(kv);
        return NULL;
    }
    const char *t;
    Py_ssize_t ln;
    int rc;
    Py_ssize_t i = 0, k0, k1, v0, v1;
    while (kv_next(s, n, 0, &i, &k0, &k1, &v0, &v1)) {
        PyObject *pk, *kn, *val;
        if (so_key(s + k0, k1 - k0, &pk, &kn) < 0) goto fail;
        if ((val = kv_value(s, v0, v1)) == NULL) {
            Py_DECREF(pk);
            Py_XDECREF(kn);
            goto fail;
        }
        rc = PyDict_SetItem(fields, pk, val);
        if (rc == 0 && kn != NULL) rc = PyDict_SetItem(kv, kn, val);
        Py_DECREF(pk);
        Py_XDECREF(kn);
        Py_DECREF(val);
        if (rc < 0) goto fail;
    }
    /* "log_type" in kv or ("sys" in kv and "sub" in kv) or kv.get("id") == "0299" */
    int lt = PyDict_Contains(kv, SO[SO_LOG_TYPE]), sy = PyDict_Contains(kv, SO[SO_SYS]),
        sb = PyDict_Contains(kv, SO[SO_SUB]);
    if (lt < 0 || sy < 0 || sb < 0 || (rc = so_get(kv, SO[SO_ID], &t, &ln)) < 0) goto fail;
    if (rc == 0) goto decline;
    int waf = t != NULL && fw_eq(t, ln, "0299");
    if (!(lt || (sy && sb) || waf)) {
        Py_DECREF(kv);
        Py_DECREF(fields);
        Py_RETURN_FALSE;
    }
    PyObject *v;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(SO_KEYS); i++) {
        PyObject *item = PyList_GET_ITEM(SO_KEYS, i), *name = PyTuple_GET_ITEM(item, 0), *keys = PyTuple_GET_ITEM(item, 1);
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(keys); j++) {
            v = PyDict_GetItemWithError(kv, PyTuple_GET_ITEM(keys, j));
            if (v == NULL) {
                if (PyErr_Occurred()) goto fail;
                continue;
            }
            if (!pa_text(v, &t, &ln)) goto decline;
            if (ln == 0 || fw_eq(t, ln, "-") || fw_eq(t, ln, "N/A")) continue;
            int isint = PySet_Contains(SO_INTS, name);
            if (isint < 0) goto fail;
            PyObject *val = NULL;
            if (isint) {
                int got = pa_int(t, 0, ln, &val);
                if (got == -2) goto fail;
                if (got == -1) goto decline;
            }
            if (val == NULL) {
                Py_INCREF(v);
                val = v;
            }
            if (fw_put(fields, name, val) < 0) goto fail;
            break;
        }
    }
    PyObject *ipkeys[3] = {S_SRC_IP, S_DST_IP, SO[SO_NAT_SRC]};
    for (int q = 0; q < 3; q++) {
        v = PyDict_GetItemWithError(fields, ipkeys[q]);
        if (v == NULL) {
            if (PyErr_Occurred()) goto fail;
            continue;
        }
        int ip = PyUnicode_Check(v) && (t = fw_ascii(v, &ln)) != NULL && fw_is_ip(t, ln); /* (printable here) */
        if (!ip && PyDict_DelItem(fields, ipkeys[q]) < 0) goto fail;
    }
    if (waf) { /* a web request through the reverse proxy */
        if ((rc = so_get(kv, SO[SO_QUERY], &t, &ln)) < 0) goto fail;
        int has_uri = PyDict_Contains(fields, SO[SO_C_URI]);
        if (has_uri < 0) goto fail;
        if (has_uri && t != NULL && ln > 0 && !fw_eq(t, ln, "-")) {
            Py_ssize_t a = 0;
            while (a < ln && t[a] == '?') a++;
            if (fw_put(fields, SO[SO_C_URI_QUERY], ascii_sub(t, a, ln)) < 0) goto fail;
        }
        v = PyDict_GetItemWithError(fields, S_SRC_IP);
        if (v == NULL && PyErr_Occurred()) goto fail;
        if (PyDict_SetItem(fields, SO[SO_C_IP], v != NULL ? v : Py_None) < 0) goto fail;
        PyObject *svc = PyTuple_Pack(1, SO[SO_WAF]), *cat = svc == NULL ? NULL : PyTuple_Pack(1, SO[SO_WEBSERVER]);
        if (cat == NULL) {
            Py_XDECREF(svc);
            goto fail;
        }
        ret = Py_BuildValue("(ONN)", fields, svc, cat);
        goto done;
    }
    /* proto = kv.get("protocol") or kv.get("proto") */
    const char *pt = NULL;
    Py_ssize_t pn = 0;
    if (so_get(kv, SO[SO_PROTOCOL], &pt, &pn) != 1 || (pn == 0 && so_get(kv, S_PROTO, &pt, &pn) != 1)) goto decline;
    if (pt != NULL && pn > 0 && fw_put(fields, S_NETWORK_PROTOCOL, fw_transport(pt, pn)) < 0) goto fail;
    /* action = (status or action or log_subtype or "").lower() */
    const char *at = NULL;
    Py_ssize_t an = 0;
    PyObject *akeys[3] = {SO[SO_STATUS], S_ACTION, SO[SO_LOG_SUBTYPE]};
    for (int q = 0; q < 3 && an == 0; q++)
        if (so_get(kv, akeys[q], &at, &an) != 1) goto decline;
    PyObject *action = NULL;
    if (an > 0) {
        if ((action = pa_lower(at, an)) == NULL) goto fail;
        rc = PyDict_SetItem(fields, S_ACTION, action);
        if (rc < 0) {
            Py_DECREF(action);
            goto fail;
        }
    }
    /* log_type = kv.get("log_type") or kv.get("sub") or "" */
    const char *lt_t = NULL;
    Py_ssize_t lt_n = 0;
    if (so_get(kv, SO[SO_LOG_TYPE], &lt_t, &lt_n) != 1 || (lt_n == 0 && so_get(kv, SO[SO_SUB], &lt_t, &lt_n) != 1)) {
        Py_XDECREF(action);
        goto decline;
    }
    PyObject *cats = S_EMPTY_T;
    PyObject *low = pa_lower(lt_t != NULL ? lt_t : "", lt_n);
    if (low == NULL) {
        Py_XDECREF(action);
        goto fail;
    }
    const char *lw = (const char *)PyUnicode_DATA(low);
    if (fw_eq(lw, lt_n, "firewall") || fw_eq(lw, lt_n, "packetfilter")) {
        cats = S_FIREWALL_T;
        int blocked = action != NULL ? PySet_Contains(SO_BLOCKING, action) : 0;
        const char *ls;
        Py_ssize_t lsn;
        if (blocked == 0 && so_get(kv, SO[SO_LOG_SUBTYPE], &ls, &lsn) == 1 && ls != NULL) blocked = fw_eq(ls, lsn, "Denied");
        if (blocked < 0 || PyDict_SetItem(fields, S_BLOCKED, blocked ? S_TRUE : S_FALSE) < 0) {
            Py_XDECREF(action);
            Py_DECREF(low);
            goto fail;
        }
    }
    Py_XDECREF(action);
    /* kv.get("sub") == "auth" or kv.get("caller"): outcome by "fail" in name.lower() */
    const char *st, *ct, *nt;
    Py_ssize_t sn, cn, nn;
    if (so_get(kv, SO[SO_SUB], &st, &sn) != 1 || so_get(kv, SO[SO_CALLER], &ct, &cn) != 1 ||
        so_get(kv, SO[SO_NAME], &nt, &nn) != 1) {
        Py_DECREF(low);
        goto decline;
    }
    if ((st != NULL && fw_eq(st, sn, "auth")) || cn > 0) {
        int fail = 0;
        for (Py_ssize_t q = 0; q + 4 <= nn && !fail; q++) {
            char c4[4];
            for (int r = 0; r < 4; r++) c4[r] = (nt[q + r] >= 'A' && nt[q + r] <= 'Z') ? nt[q + r] + 32 : nt[q + r];
            fail = memcmp(c4, "fail", 4) == 0;
        }
        if (PyDict_SetItem(fields, S_OUTCOME, fail ? S_FAILURE : S_SUCCESS) < 0) {
            Py_DECREF(low);
            goto fail;
        }
    }
    /* svc = log_type.lower().replace(" ", "_") or "syslog" */
    PyObject *svc;
    if (lt_n == 0) {
        Py_INCREF(SO[SO_SYSLOG]);
        svc = SO[SO_SYSLOG];
    } else {
        char *buf = PyMem_Malloc((size_t)lt_n);
        if (buf == NULL) {
            Py_DECREF(low);
            PyErr_NoMemory();
            goto fail;
        }
        for (Py_ssize_t q = 0; q < lt_n; q++) buf[q] = lw[q] == ' ' ? '_' : lw[q];
        svc = ascii_sub(buf, 0, lt_n);
        PyMem_Free(buf);
    }
    Py_DECREF(low);
    PyObject *services = svc == NULL ? NULL : PyTuple_Pack(1, svc);
    Py_XDECREF(svc);
    if (services == NULL) goto fail;
    ret = Py_BuildValue("(ONO)", fields, services, cats);
    goto done;
decline:
    ret = Py_None;
    Py_INCREF(ret);
    goto done;
fail:
    ret = NULL;
done:
    Py_XDECREF(fields);
    Py_DECREF(kv);
    return ret;
}

/* ============================================================================================
 * pf filterlog: pf.parse_filterlog for printable ASCII text: the CSV split on `,` (no quoting:
 * str.split), the header fields, the first two consecutive addresses after the IP version, the
 * protocol name before them, TCP/UDP ports and TCP flags after. An address with a `:` (IPv6,
 * which _addr rewrites in RFC 5952 form) goes through pf._addr itself (filterlog_setup; without
 * it, or where it raises, None); a dotted one is what _addr keeps (it is either valid and
 * canonical, or refused and kept as written).
 * ============================================================================================ */

static PyObject *PF[16];
static PyObject *PF_ADDR; /* pf._addr (memoised), or NULL: IPv6 lines are Python's */

PyObject *fw_filterlog_setup(PyObject *self, PyObject *addr) {
    if (!PyCallable_Check(addr)) {
        PyErr_SetString(PyExc_TypeError, "filterlog_setup(addr: callable)");
        return NULL;
    }
    Py_XSETREF(PF_ADDR, Py_NewRef(addr));
    Py_RETURN_NONE;
}

/* _addr(s[a:b]) for an address with a `:`, else the text itself: a new reference; NULL with no
 * error set where _addr raised (the caller declines: Python meets the same error) */
static PyObject *pf_addr(const char *s, Py_ssize_t a, Py_ssize_t b) {
    PyObject *v = ascii_sub(s, a, b);
    if (v == NULL || memchr(s + a, ':', (size_t)(b - a)) == NULL) return v;
    PyObject *got = PyObject_CallOneArg(PF_ADDR, v);
    Py_DECREF(v);
    if (got != NULL && !PyUnicode_Check(got)) Py_CLEAR(got);
    if (got == NULL) PyErr_Clear();
    return got;
}
enum { PF_RULE, PF_ANCHOR, PF_TRACKER, PF_INTERFACE, PF_IN_INTERFACE, PF_REASON, PF_DIRECTION, PF_IP_VERSION,
       PF_TCP_FLAGS, PF_SERVICES, PF_N };
static const char *const PF_NAMES[PF_N] = {"rule_number", "anchor", "tracker", "interface", "in_interface",
                                           "reason", "direction", "ip_version", "tcp_flags", "filterlog"};

static inline int pf_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

PyObject *fw_filterlog_body(PyObject *self, PyObject *msg) {
    const char *s;
    Py_ssize_t n;
    int ascii = fw_text(msg, "filterlog_body", &s, &n);
    if (ascii < 0) return NULL;
    if (ascii == 0) Py_RETURN_NONE;
    if (PF[0] == NULL) {
        if (fw_common_init() < 0) return NULL;
        for (int k = 0; k < PF_N; k++)
            if (fw_intern(&PF[k], PF_NAMES[k]) < 0) return NULL;
        PyObject *t = PyTuple_Pack(1, PF[PF_SERVICES]);
        if (t == NULL) return NULL;
        Py_SETREF(PF[PF_SERVICES], t);
    }
    if (!fw_printable(s, n)) Py_RETURN_NONE;
    Py_ssize_t a = 0, b = n; /* msg.strip() */
    while (a < b && s[a] == ' ') a++;
    while (b > a && s[b - 1] == ' ') b--;
    /* parts = ...split(","): their bounds (only the first PF_MAX are kept; more give None) */
#define PF_MAX 256
    Py_ssize_t p0[PF_MAX], p1[PF_MAX];
    int np = 0;
    for (Py_ssize_t i = a;;) {
        if (np == PF_MAX) Py_RETURN_NONE;
        const char *c = memchr(s + i, ',', (size_t)(b - i));
        Py_ssize_t e = c != NULL ? c - s : b;
        p0[np] = i;
        p1[np++] = e;
        if (c == NULL) break;
        i = e + 1;
    }
#define PART(k) (s + p0[k]), (p1[k] - p0[k])
    static const char *const ACTIONS[8] = {"pass", "block", "reject", "match", "scrub", "nat", "rdr", "binat"};
    int act = -1;
    if (np >= 12)
        for (int k = 0; k < 8 && act < 0; k++)
            if (fw_eq(PART(6), ACTIONS[k])) act = k;
    if (np < 12 || act < 0 || !(fw_eq(PART(8), "4") || fw_eq(PART(8), "6"))) Py_RETURN_FALSE;
    int i = 9;
    while (i + 1 < np && !(fw_is_ip(PART(i)) && fw_is_ip(PART(i + 1)))) i++;
    if (i + 1 >= np) Py_RETURN_FALSE;
    if (PF_ADDR == NULL &&
        (memchr(s + p0[i], ':', (size_t)(p1[i] - p0[i])) || memchr(s + p0[i + 1], ':', (size_t)(p1[i + 1] - p0[i + 1]))))
        Py_RETURN_NONE; /* (IPv6: _addr's compressed form) */
    PyObject *src = pf_addr(s, p0[i], p1[i]), *dst = src == NULL ? NULL : pf_addr(s, p0[i + 1], p1[i + 1]);
    if (dst == NULL) {
        Py_XDECREF(src);
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *f = fields_dict(18);
    if (f == NULL) {
        Py_DECREF(src);
        Py_DECREF(dst);
        return NULL;
    }
    static const int HEAD[8][2] = {{PF_RULE, 0}, {PF_ANCHOR, 2}, {PF_TRACKER, 3}, {PF_INTERFACE, 4},
                                   {PF_IN_INTERFACE, 4}, {PF_REASON, 5}, {-1, 6}, {PF_DIRECTION, 7}};
    for (int k = 0; k < 8; k++)
        if (fw_put(f, HEAD[k][0] >= 0 ? PF[HEAD[k][0]] : S_ACTION, ascii_sub(s, p0[HEAD[k][1]], p1[HEAD[k][1]])) < 0) {
            Py_DECREF(src);
            Py_DECREF(dst);
            goto fail;
        }
    if (fw_put(f, PF[PF_IP_VERSION], PyLong_FromLong(s[p0[8]] - '0')) < 0) {
        Py_DECREF(src);
        Py_DECREF(dst);
        goto fail;
    }
    if (fw_put(f, S_SRC_IP, src) < 0) {
        Py_DECREF(dst);
        goto fail;
    }
    if (fw_put(f, S_DST_IP, dst) < 0) goto fail;
    /* the protocol: the last of parts[9:i] all letters, or starting with one and holding a `-` */
    int pr = -1;
    for (int k = i - 1; k >= 9 && pr < 0; k--) {
        const char *h = s + p0[k];
        Py_ssize_t hn = p1[k] - p0[k];
        int all = hn > 0;
        for (Py_ssize_t q = 0; q < hn && all; q++) all = pf_alpha(h[q]);
        if (all || (hn > 0 && pf_alpha(h[0]) && memchr(h, '-', (size_t)hn) != NULL)) pr = k;
    }
    int tcp = 0, udp = 0;
    if (pr >= 0) {
        PyObject *low = pa_lower(PART(pr));
        if (low == NULL) goto fail;
        const char *lt = (const char *)PyUnicode_DATA(low);
        Py_ssize_t ln = PyUnicode_GET_LENGTH(low);
        tcp = fw_eq(lt, ln, "tcp");
        udp = fw_eq(lt, ln, "udp");
        int rc = fw_put(f, S_NETWORK_PROTOCOL, fw_transport(lt, ln));
        Py_DECREF(low);
        if (rc < 0) goto fail;
    }
    if (np - (i + 2) >= 2 && (tcp || udp)) {
        PyObject *sp = NULL, *dp = NULL;
        PyObject *sv = ascii_sub(s, p0[i + 2], p1[i + 2]), *dv = sv == NULL ? NULL : ascii_sub(s, p0[i + 3], p1[i + 3]);
        if (dv == NULL) {
            Py_XDECREF(sv);
            goto fail;
        }
        sp = fg_digits(sv);
        dp = sp == NULL && PyErr_Occurred() ? NULL : fg_digits(dv);
        Py_DECREF(sv);
        Py_DECREF(dv);
        if (PyErr_Occurred()) {
            Py_XDECREF(sp);
            Py_XDECREF(dp);
            goto fail;
        }
        if (sp != NULL && dp != NULL) {
            if (fw_put(f, S_SRC_PORT, sp) < 0) {
                Py_DECREF(dp);
                goto fail;
            }
            if (fw_put(f, S_DST_PORT, dp) < 0) goto fail;
            if (tcp && np - (i + 2) >= 4 && fw_put(f, PF[PF_TCP_FLAGS], ascii_sub(s, p0[i + 5], p1[i + 5])) < 0)
                goto fail;
        } else {
            Py_XDECREF(sp);
            Py_XDECREF(dp);
        }
    }
    if (PyDict_SetItem(f, S_BLOCKED, (act == 1 || act == 2) ? S_TRUE : S_FALSE) < 0) goto fail;
    return Py_BuildValue("(NOO)", f, PF[PF_SERVICES], S_FIREWALL_T);
fail:
    return fw_fail(f, NULL, NULL);
#undef PART
#undef PF_MAX
}

/* ============================================================================================
 * Cisco ASA / FTD: cisco_asa.parse_asa on printable ASCII text.
 *
 * The tag `%(ASA|FTD|NGIPS|PIX|FWSM)-[0-7]-\d{6}(?!\d):? ?(.*)` is read here (its leftmost match:
 * no alternative is a prefix of another and `.*` takes any rest, so the first `%` where the
 * fixed part fits is the match). The ~50 message-ID patterns are NOT walked in C: each is the
 * module's own compiled regex, called from here (search, then groups() by the indexes
 * asa_setup computed from each pattern's groupindex), so every field a pattern captures is the
 * one Python's reading captures, by construction. What C does is what cost most of a line in
 * Python (~6 of ~9 us): the tag, the dispatch by ID, the ~25 lookups and tests of the fields
 * after the match, the FTD `Key: value` pairs (findall of _FTD_KV walked here) and the
 * building of the dict. The rare paths go through the module's own Python helpers
 * (_assigned_nat for `... IPv4 Address <a> ... assigned`, _subject_user for certificates).
 * Any text with a non-ASCII or control character is left to parse_asa (None).
 * ============================================================================================ */

/* the group names asa_setup gives an index for, in this order */
enum { AG_SRC, AG_DST, AG_SPORT, AG_DPORT, AG_SIF, AG_DIF, AG_PROTO, AG_SNAT, AG_DNAT, AG_BYTES, AG_USER, AG_SUSER,
       AG_SUSER2, AG_DUSER, AG_GROUP, AG_ACL, AG_ACT, AG_SVC, AG_RES, AG_N };
/* a kind's flags (asa_setup computes them from the module's kind sets) */
enum { AK_LOGIN = 1, AK_FIREWALL = 2, AK_DENY = 4, AK_PERMIT = 8, AK_CONN = 16, AK_VPN = 32 };

/* the last index tuple asa_gd read, as C longs (an entry's tuple is held by the tables asa_setup
 * keeps, and asa_setup forgets it): ~20 PyLong_AsLong a line less */
static PyObject *ASA_IX_OF;
static long ASA_IX[AG_N];

static PyObject *ASA_BY_ID, *ASA_GROUP, *ASA_VPN, *ASA_FTD_IDS, *ASA_FTD_MAP, *ASA_OUTCOME_IDS, *ASA_SUCCESS_WORDS,
    *ASA_ASSIGNED_NAT, *ASA_SUBJECT_USER, *ASA_SVC_LOGIN, *ASA_SVC;
enum { AS_FACILITY, AS_SEVERITY, AS_EVENT_ID, AS_MESSAGE, AS_IN_IF, AS_OUT_IF, AS_SNAT, AS_DNAT, AS_BYTES, AS_GROUP,
       AS_ACL, AS_DST_SERVICE, AS_OUTCOME, AS_DENY, AS_PERMIT, AS_SUCCESS, AS_FAILURE, AS_SEARCH, AS_GROUPS,
       AS_SOURCE_BYTES, AS_DEST_BYTES, AS_PROTOCOL, AS_ASSIGNED, AS_SUBJECT, AS_N };
static PyObject *AS[AS_N];
static const char *const AS_NAMES[AS_N] = {
    "facility", "severity", "event_id", "message", "in_interface", "out_interface", "source.nat.ip",
    "destination.nat.ip", "network.bytes", "group", "acl", "dst_service", "outcome", "deny", "permit", "success",
    "failure", "search", "groups", "source.bytes", "destination.bytes", "Protocol", "assigned", "subject name: "};

/* an entry's program, when it has one, is well formed (else 0 with a ValueError set) */
static int asa_prog_ok(PyObject *entry) {
    return !(PyTuple_Check(entry) && PyTuple_GET_SIZE(entry) == 5 && PyTuple_GET_ITEM(entry, 4) != Py_None &&
             !asa_rx_valid(PyTuple_GET_ITEM(entry, 4)));
}

PyObject *fw_asa_setup(PyObject *self, PyObject *args) {
    PyObject *by_id, *group, *vpn, *ftd_ids, *ftd_map, *outcome_ids, *success_words, *iana, *assigned_nat,
        *subject_user;
    if (!PyArg_ParseTuple(args, "O!O!O!OO!O!OO!OO:asa_setup", &PyDict_Type, &by_id, &PyTuple_Type, &group,
                          &PyTuple_Type, &vpn, &ftd_ids, &PyDict_Type, &ftd_map, &PyDict_Type, &outcome_ids,
                          &success_words, &PyDict_Type, &iana, &assigned_nat, &subject_user))
        return NULL;
    if (fw_common_init() < 0) return NULL;
    for (int k = 0; k < AS_N; k++)
        if (fw_intern(&AS[k], AS_NAMES[k]) < 0) return NULL;
    {
        PyObject *numeric = Py_BuildValue("(ssss)", "src_port", "dst_port", "source.bytes", "destination.bytes");
        int rc = numeric == NULL ? -1 : asa_keys_reset(ftd_map, numeric, "Protocol");
        Py_XDECREF(numeric);
        if (rc < 0) return NULL;
    }
    if (ASA_SVC == NULL && (ASA_SVC = Py_BuildValue("(ss)", "asa", "syslog")) == NULL) return NULL;
    if (ASA_SVC_LOGIN == NULL && (ASA_SVC_LOGIN = Py_BuildValue("(sss)", "asa", "aaa", "syslog")) == NULL)
        return NULL;
    PyObject *objs[10] = {by_id, group, vpn, ftd_ids, ftd_map, outcome_ids, success_words, iana, assigned_nat,
                          subject_user};
    PyObject **slots[10] = {&ASA_BY_ID, &ASA_GROUP, &ASA_VPN, &ASA_FTD_IDS, &ASA_FTD_MAP, &ASA_OUTCOME_IDS,
                            &ASA_SUCCESS_WORDS, &IANA, &ASA_ASSIGNED_NAT, &ASA_SUBJECT_USER};
    /* (every program an entry carries is checked once here: asa_search walks it unchecked) */
    PyObject *key, *entry;
    Py_ssize_t pos = 0;
    while (PyDict_Next(by_id, &pos, &key, &entry))
        if (!asa_prog_ok(entry)) return NULL;
    if (!asa_prog_ok(group) || !asa_prog_ok(vpn)) return NULL;
    if (PyTuple_Check(assigned_nat)) { /* (prog, v4 group, v6 group, canonical, fallback) */
        PyObject *an = assigned_nat;
        if (PyTuple_GET_SIZE(an) != 5 || !asa_rx_valid(PyTuple_GET_ITEM(an, 0))) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "asa_setup: assigned_nat (prog, v4, v6, fn, fn)");
            return NULL;
        }
        int ng = ((const int32_t *)PyBytes_AS_STRING(PyTuple_GET_ITEM(an, 0)))[0];
        for (int k = 1; k <= 2; k++) {
            long g = PyLong_AsLong(PyTuple_GET_ITEM(an, k));
            if (g < 1 || g > ng) {
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "asa_setup: assigned_nat's groups");
                return NULL;
            }
        }
    }
    ASA_IX_OF = NULL;
    for (int k = 0; k < 10; k++) {
        Py_INCREF(objs[k]);
        Py_XSETREF(*slots[k], objs[k]);
    }
    Py_RETURN_NONE;
}

/* an entry (rx, flags, indexes[, needs[, prog]]) searched on text: 1 with *groups (a new
 * reference) the match's groups() and *idx the entry's index tuple; 0: no match (without the
 * search where the ASCII text lacks `needs`, a literal every match holds: cisco_asa._search's
 * guard); -1: error. With `prog` (rxprog's program of rx, checked by asa_setup) the search is
 * _logfast_asa.c's walk, and *groups holds only the groups the index tuple names (the others
 * None: asa_line reads no other); `re` decides where the walk gives up. */
static int asa_search(PyObject *entry, PyObject *text, PyObject **groups, PyObject **idx, long *flags) {
    Py_ssize_t size = PyTuple_Check(entry) ? PyTuple_GET_SIZE(entry) : 0;
    if (size < 3 || size > 5) {
        PyErr_SetString(PyExc_TypeError, "asa_setup: an entry is (regex, flags, indexes[, needs[, prog]])");
        return -1;
    }
    if (size >= 4) {
        PyObject *needs = PyTuple_GET_ITEM(entry, 3);
        Py_ssize_t tn = 0, nn = 0;
        const char *t = fw_ascii(text, &tn), *ns = fw_ascii(needs, &nn);
        if (t == NULL || ns == NULL) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "asa_setup: needs and the text are ASCII");
            return -1;
        }
        if (nn > 0 && (tn < nn || memmem(t, (size_t)tn, ns, (size_t)nn) == NULL)) return 0;
    }
    if (size == 5 && PyBytes_Check(PyTuple_GET_ITEM(entry, 4))) {
        PyObject *prog = PyTuple_GET_ITEM(entry, 4), *ix = PyTuple_GET_ITEM(entry, 2);
        Py_ssize_t tn = 0, slots[2 * (ASA_RX_MAX_GROUPS + 1)];
        const char *t = fw_ascii(text, &tn);
        if (t == NULL || !PyTuple_Check(ix) || PyTuple_GET_SIZE(ix) != AG_N) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "asa_setup: bad entry");
            return -1;
        }
        int got = asa_rx_search(prog, t, tn, slots);
        if (got == 0) return 0;
        if (got > 0) {
            int ng = ((const int32_t *)PyBytes_AS_STRING(prog))[0];
            long fl = PyLong_AsLong(PyTuple_GET_ITEM(entry, 1));
            if (fl == -1 && PyErr_Occurred()) return -1;
            PyObject *g = PyTuple_New(ng);
            if (g == NULL) return -1;
            for (int k = 0; k < ng; k++) PyTuple_SET_ITEM(g, k, Py_NewRef(Py_None));
            for (int k = 0; k < AG_N; k++) {
                long i = PyLong_AsLong(PyTuple_GET_ITEM(ix, k));
                if (i < 1 || i > ng || slots[2 * i] < 0 || slots[2 * i + 1] < slots[2 * i]) continue;
                if (PyTuple_GET_ITEM(g, i - 1) != Py_None) continue;
                PyObject *v = ascii_sub(t, slots[2 * i], slots[2 * i + 1]);
                if (v == NULL) {
                    Py_DECREF(g);
                    return -1;
                }
                Py_SETREF(((PyTupleObject *)g)->ob_item[i - 1], v);
            }
            *groups = g;
            *idx = ix;
            *flags = fl;
            return 1;
        }
    }
    PyObject *m = PyObject_CallMethodOneArg(PyTuple_GET_ITEM(entry, 0), AS[AS_SEARCH], text);
    if (m == NULL) return -1;
    if (m == Py_None) {
        Py_DECREF(m);
        return 0;
    }
    *groups = PyObject_CallMethodNoArgs(m, AS[AS_GROUPS]);
    Py_DECREF(m);
    if (*groups == NULL) return -1;
    *idx = PyTuple_GET_ITEM(entry, 2);
    *flags = PyLong_AsLong(PyTuple_GET_ITEM(entry, 1));
    if (!PyTuple_Check(*groups) || !PyTuple_Check(*idx) || PyTuple_GET_SIZE(*idx) != AG_N ||
        (*flags == -1 && PyErr_Occurred())) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "asa_setup: bad entry");
        Py_CLEAR(*groups);
        return -1;
    }
    return 1;
}

/* gd.get(name) of a match: a borrowed str, or NULL for None / a group the pattern lacks */
static PyObject *asa_gd(PyObject *groups, PyObject *idx, int name) {
    if (groups == NULL) return NULL;
    if (idx != ASA_IX_OF) {
        for (int k = 0; k < AG_N; k++) {
            long x = PyLong_AsLong(PyTuple_GET_ITEM(idx, k));
            if (x == -1 && PyErr_Occurred()) PyErr_Clear(); /* (asa_setup's tuples: ints) */
            ASA_IX[k] = x;
        }
        ASA_IX_OF = idx;
    }
    long i = ASA_IX[name];
    if (i < 1 || i > PyTuple_GET_SIZE(groups)) return NULL; /* (-1: not in the pattern) */
    PyObject *v = PyTuple_GET_ITEM(groups, i - 1);
    return v == Py_None ? NULL : v;
}

/* a truthy gd.get(name): a non-empty str, else NULL */
static PyObject *asa_truthy(PyObject *groups, PyObject *idx, int name) {
    PyObject *v = asa_gd(groups, idx, name);
    return v != NULL && PyUnicode_GET_LENGTH(v) > 0 ? v : NULL;
}

/* base.digits(v) for ASCII text: int when 1-18 decimal digits, else None (new reference) */
static PyObject *asa_digits(const char *t, Py_ssize_t n) {
    if (n < 1 || n > 18) Py_RETURN_NONE;
    long long x = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (!fw_digit(t[k])) Py_RETURN_NONE;
        x = x * 10 + (t[k] - '0');
    }
    return PyLong_FromLongLong(x);
}

/* cisco_asa._user(v): NULL (no user) or a new reference */
static PyObject *asa_user(PyObject *v) {
    Py_ssize_t n;
    const char *t = fw_ascii(v, &n);
    if (t == NULL || n == 0 || fw_eq(t, n, "*****") || fw_eq(t, n, "LOCAL") || fw_eq(t, n, "?")) return NULL;
    Py_ssize_t a = 0, b = n;
    const char *bs = NULL;
    for (Py_ssize_t k = n; k > 0; k--)
        if (t[k - 1] == '\\') {
            bs = t + k - 1;
            break;
        }
    if (bs != NULL) a = bs - t + 1;
    const char *at = memchr(t + a, '@', (size_t)(b - a));
    if (at != NULL) b = at - t;
    if (a == 0 && b == n) {
        Py_INCREF(v);
        return v;
    }
    return PyUnicode_FromStringAndSize(t + a, b - a);
}

/* _ftd_connection(text, fields) on printable ASCII text: findall of
 * (?:^|, )([A-Za-z_]\w*): ([^,]*) walked left to right (at 0 both `^` and `, ` are tried; the
 * key is the longest run of \w, since a shorter one is followed by a \w, not `:`), each value
 * stripped, then mapped. 0 or -1. */
static int asa_ftd(const char *s, Py_ssize_t n, PyObject *text_obj, Py_ssize_t off, PyObject *fields) {
    Py_ssize_t p = 0;
    while (p < n) {
        Py_ssize_t starts[2];
        int ns = 0;
        if (p == 0) starts[ns++] = 0;
        if (p + 1 < n && s[p] == ',' && s[p + 1] == ' ') starts[ns++] = p + 2;
        Py_ssize_t ks = -1, ke = 0;
        for (int k = 0; k < ns && ks < 0; k++) {
            Py_ssize_t q = starts[k];
            if (q >= n || !(fw_word(s[q]) && !fw_digit(s[q]))) continue;
            Py_ssize_t e = q + 1;
            while (e < n && fw_word(s[e])) e++;
            if (e + 1 < n && s[e] == ':' && s[e + 1] == ' ') {
                ks = q;
                ke = e;
            }
        }
        if (ks < 0) { /* (the next start can only follow a comma) */
            const char *q = p + 1 < n ? memchr(s + p + 1, ',', (size_t)(n - p - 1)) : NULL;
            p = q != NULL ? q - s : n;
            continue;
        }
        Py_ssize_t v0 = ke + 2, v1 = v0;
        const char *vq = v0 < n ? memchr(s + v0, ',', (size_t)(n - v0)) : NULL;
        v1 = vq != NULL ? vq - s : (v0 < n ? n : v0);
        p = v1;
        Py_ssize_t a = v0, b = v1; /* v.strip() (spaces: the only whitespace here) */
        while (a < b && s[a] == ' ') a++;
        while (b > a && s[b - 1] == ' ') b--;
        PyObject *name;
        int kind = asa_keys_get(s + ks, ke - ks, &name), rc;
        if (kind < 0) return -1;
        if (kind == ASA_KEY_PROTO) {
            if (fw_put(fields, S_NETWORK_PROTOCOL, fw_transport(s + a, b - a)) < 0) return -1;
            continue;
        }
        if (kind == ASA_KEY_OTHER) {
            rc = fw_put(fields, name, PyUnicode_Substring(text_obj, off + a, off + b));
            Py_DECREF(name);
            if (rc < 0) return -1;
            continue;
        }
        int is_num = kind == ASA_KEY_NUM;
        if (is_num) {
            PyObject *d = asa_digits(s + a, b - a);
            if (d == NULL || d == Py_None) {
                Py_XDECREF(d);
                Py_DECREF(name);
                if (d == NULL) return -1;
                continue;
            }
            rc = fw_put(fields, name, d);
        } else {
            /* v.replace("<br/>", "") */
            if (!fw_has(s + a, b - a, "<br/>")) {
                rc = fw_put(fields, name, PyUnicode_Substring(text_obj, off + a, off + b));
            } else {
                char *buf = PyMem_Malloc((size_t)(b - a) + 1);
                if (buf == NULL) {
                    Py_DECREF(name);
                    PyErr_NoMemory();
                    return -1;
                }
                Py_ssize_t o = 0;
                for (Py_ssize_t k = a; k < b;) {
                    if (k + 5 <= b && memcmp(s + k, "<br/>", 5) == 0) {
                        k += 5;
                    } else {
                        buf[o++] = s[k++];
                    }
                }
                rc = fw_put(fields, name, PyUnicode_FromStringAndSize(buf, o));
                PyMem_Free(buf);
            }
        }
        Py_DECREF(name);
        if (rc < 0) return -1;
    }
    /* action = str(fields.get("action", "")).lower(): `blocked` when it is not empty */
    PyObject *act = PyDict_GetItemWithError(fields, S_ACTION);
    if (act == NULL) return PyErr_Occurred() ? -1 : 0;
    Py_ssize_t an;
    const char *at = fw_ascii(act, &an);
    if (at == NULL || an == 0) return 0; /* (a value of this ASCII line: a str) */
    int blocked = 0;
    for (Py_ssize_t k = 0; k + 4 <= an && !blocked; k++) {
        char c[5];
        for (int j = 0; j < 5 && k + j < an; j++) c[j] = (char)(at[k + j] | ((at[k + j] >= 'A' && at[k + j] <= 'Z') ? 32 : 0));
        if (memcmp(c, "deny", 4) == 0 || (k + 5 <= an && memcmp(c, "block", 5) == 0)) blocked = 1;
    }
    return PyDict_SetItem(fields, S_BLOCKED, blocked ? S_TRUE : S_FALSE);
}

/* fields[key] = value (borrowed) when value is not NULL */
static int asa_set(PyObject *fields, PyObject *key, PyObject *value) {
    return value == NULL ? 0 : PyDict_SetItem(fields, key, value);
}

/* cisco_asa._assigned_nat(text, src) (a new reference, NULL on an error). With asa_setup's
 * (prog, v4 group, v6 group, _canonical, _assigned_nat) for it: _ASSIGNED walked here, the first
 * of v4/v6 other than "", 0.0.0.0 and ::, kept when it is an address (is_ip) other than src, as
 * _canonical gives it (a dotted quad: itself, as ipaddress compresses it or refuses it; IPv6:
 * _canonical's memoised reading); `re` (the Python helper) where the walk gives up. Why: the call
 * into Python was ~14k of a ~30k-instruction `... IPv4 Address <a> ... assigned` event. */
static PyObject *asa_assigned(PyObject *text, PyObject *src) {
    PyObject *h = ASA_ASSIGNED_NAT;
    if (!PyTuple_Check(h)) return PyObject_CallFunctionObjArgs(h, text, src != NULL ? src : Py_None, NULL);
    Py_ssize_t tn, slots[2 * (ASA_RX_MAX_GROUPS + 1)];
    const char *t = fw_ascii(text, &tn);
    int got = t == NULL ? -1 : asa_rx_search(PyTuple_GET_ITEM(h, 0), t, tn, slots);
    if (got < 0) return PyObject_CallFunctionObjArgs(PyTuple_GET_ITEM(h, 4), text, src != NULL ? src : Py_None, NULL);
    if (got == 0) Py_RETURN_NONE;
    for (int k = 1; k <= 2; k++) {
        long g = PyLong_AsLong(PyTuple_GET_ITEM(h, k));
        if (g == -1 && PyErr_Occurred()) return NULL;
        Py_ssize_t a = slots[2 * g], b = slots[2 * g + 1];
        if (a < 0 || b <= a || fw_eq(t + a, b - a, "0.0.0.0") || fw_eq(t + a, b - a, "::")) continue;
        Py_ssize_t sn;
        const char *st = src != NULL ? fw_ascii(src, &sn) : NULL;
        if ((st != NULL && sn == b - a && memcmp(st, t + a, (size_t)sn) == 0) || !fw_is_ip(t + a, b - a))
            Py_RETURN_NONE;
        PyObject *v = PyUnicode_Substring(text, a, b);
        if (v == NULL || memchr(t + a, ':', (size_t)(b - a)) == NULL) return v;
        PyObject *c = PyObject_CallOneArg(PyTuple_GET_ITEM(h, 3), v);
        Py_DECREF(v);
        return c;
    }
    Py_RETURN_NONE;
}

PyObject *fw_asa_line(PyObject *self, PyObject *msg) {
    const char *s;
    Py_ssize_t n;
    int ascii = fw_text(msg, "asa_line", &s, &n);
    if (ascii < 0) return NULL;
    if (ascii == 0 || ASA_BY_ID == NULL || !fw_printable(s, n)) Py_RETURN_NONE;
    /* the tag */
    static const char *const FAC[5] = {"ASA", "FTD", "NGIPS", "PIX", "FWSM"};
    Py_ssize_t tag = -1, fac_len = 0, t0 = 0;
    int fac = -1;
    for (const char *c = memchr(s, '%', (size_t)n); c != NULL && tag < 0;
         c = memchr(c + 1, '%', (size_t)(n - (c + 1 - s)))) {
        Py_ssize_t p = c - s + 1;
        for (int f = 0; f < 5; f++) {
            Py_ssize_t fl = (Py_ssize_t)strlen(FAC[f]);
            if (p + fl + 9 > n || memcmp(s + p, FAC[f], (size_t)fl) != 0) continue;
            Py_ssize_t q = p + fl;
            if (s[q] != '-' || s[q + 1] < '0' || s[q + 1] > '7' || s[q + 2] != '-') continue;
            int ok = q + 9 >= n || !fw_digit(s[q + 9]); /* (?!\d): a seventh digit is no ID */
            for (int d = 0; d < 6; d++) ok &= fw_digit(s[q + 3 + d]);
            if (!ok) continue;
            tag = c - s;
            fac = f;
            fac_len = fl;
            t0 = q + 9;
            break;
        }
    }
    PyObject *fields = fields_dict(12), *text = NULL, *groups = NULL, *idx = NULL, *msg_id = NULL, *ret = NULL;
    if (fields == NULL) return NULL;
    long flags = 0;
    int conn_ftd = 0;
    if (tag >= 0) {
        Py_ssize_t q = tag + 1 + fac_len;
        if (t0 < n && s[t0] == ':') t0++;
        if (t0 < n && s[t0] == ' ') t0++;
        text = PyUnicode_Substring(msg, t0, n);
        msg_id = PyUnicode_FromStringAndSize(s + q + 3, 6);
        PyObject *facility = PyUnicode_FromStringAndSize(FAC[fac], fac_len);
        if (text == NULL || msg_id == NULL || fw_put(fields, AS[AS_FACILITY], facility) < 0 ||
            fw_put(fields, AS[AS_SEVERITY], PyLong_FromLong(s[q + 1] - '0')) < 0 ||
            PyDict_SetItem(fields, AS[AS_EVENT_ID], msg_id) < 0 || PyDict_SetItem(fields, AS[AS_MESSAGE], text) < 0)
            goto fail;
        PyObject *entry = PyDict_GetItemWithError(ASA_BY_ID, msg_id);
        if (entry != NULL) {
            int got = asa_search(entry, text, &groups, &idx, &flags);
            if (got < 0) goto fail;
            if (got == 0) flags = 0;
        } else {
            if (PyErr_Occurred()) goto fail;
            int ftd = PySequence_Contains(ASA_FTD_IDS, msg_id);
            if (ftd < 0) goto fail;
            if (ftd) {
                if (asa_ftd(s + t0, n - t0, msg, t0, fields) < 0) goto fail;
                flags = AK_CONN | AK_FIREWALL | AK_PERMIT;
                conn_ftd = 1;
            }
        }
    } else {
        /* text = msg.strip(): a body relayed without the tag */
        Py_ssize_t a = 0, b = n;
        while (a < b && s[a] == ' ') a++;
        while (b > a && s[b - 1] == ' ') b--;
        if ((text = PyUnicode_Substring(msg, a, b)) == NULL) goto fail;
        int got = asa_search(ASA_GROUP, text, &groups, &idx, &flags);
        if (got < 0) goto fail;
        if (got == 0) {
            const char *t = s + a;
            Py_ssize_t tn = b - a;
            if (!((tn >= 8 && memcmp(t, "Group = ", 8) == 0) || (tn >= 12 && memcmp(t, "Task ran for", 12) == 0) ||
                  (tn >= 13 && memcmp(t, "Tunnel group ", 13) == 0))) {
                Py_DECREF(fields);
                Py_DECREF(text);
                Py_RETURN_FALSE;
            }
        }
        if (PyDict_SetItem(fields, AS[AS_MESSAGE], text) < 0) goto fail;
    }
    if (groups == NULL && !conn_ftd) {
        int got = asa_search(ASA_GROUP, text, &groups, &idx, &flags);
        if (got == 0) got = asa_search(ASA_VPN, text, &groups, &idx, &flags);
        if (got < 0) goto fail;
    }
    /* the fields of the match */
    PyObject *src = asa_truthy(groups, idx, AG_SRC), *dst = asa_truthy(groups, idx, AG_DST), *v;
    Py_ssize_t ln;
    const char *t;
    if (src != NULL && (t = fw_ascii(src, &ln)) != NULL &&
        PyDict_SetItem(fields, fw_is_ip(t, ln) ? S_SRC_IP : S_SRC_HOST, src) < 0)
        goto fail;
    if (dst != NULL && (t = fw_ascii(dst, &ln)) != NULL &&
        PyDict_SetItem(fields, fw_is_ip(t, ln) ? S_DST_IP : S_DST_HOST, dst) < 0)
        goto fail;
    for (int k = 0; k < 2; k++) {
        v = asa_gd(groups, idx, k == 0 ? AG_SPORT : AG_DPORT);
        if (v == NULL || (t = fw_ascii(v, &ln)) == NULL) continue;
        PyObject *d = asa_digits(t, ln);
        if (d == NULL) goto fail;
        if (d == Py_None) {
            Py_DECREF(d);
            continue;
        }
        if (fw_put(fields, k == 0 ? S_SRC_PORT : S_DST_PORT, d) < 0) goto fail;
    }
    if (asa_set(fields, AS[AS_IN_IF], asa_truthy(groups, idx, AG_SIF)) < 0 ||
        asa_set(fields, AS[AS_OUT_IF], asa_truthy(groups, idx, AG_DIF)) < 0)
        goto fail;
    if ((v = asa_truthy(groups, idx, AG_PROTO)) != NULL && (t = fw_ascii(v, &ln)) != NULL &&
        fw_put(fields, S_NETWORK_PROTOCOL, fw_transport(t, ln)) < 0)
        goto fail;
    if ((flags & AK_CONN) && tag >= 0 &&
        (PyUnicode_CompareWithASCIIString(msg_id, "302020") == 0 ||
         PyUnicode_CompareWithASCIIString(msg_id, "302021") == 0) &&
        fw_put(fields, S_DST_PORT, PyLong_FromLong(0)) < 0)
        goto fail;
    if (asa_set(fields, AS[AS_SNAT], asa_truthy(groups, idx, AG_SNAT)) < 0 ||
        asa_set(fields, AS[AS_DNAT], asa_truthy(groups, idx, AG_DNAT)) < 0)
        goto fail;
    if ((v = asa_truthy(groups, idx, AG_BYTES)) != NULL && (t = fw_ascii(v, &ln)) != NULL &&
        fw_put(fields, AS[AS_BYTES], asa_digits(t, ln)) < 0)
        goto fail;
    v = asa_truthy(groups, idx, AG_USER);
    if (v == NULL) v = asa_truthy(groups, idx, AG_SUSER);
    if (v == NULL) v = asa_truthy(groups, idx, AG_SUSER2);
    if (v == NULL) v = asa_truthy(groups, idx, AG_DUSER);
    PyObject *user = v != NULL ? asa_user(v) : NULL;
    if (user != NULL) {
        int rc = PyUnicode_GET_LENGTH(user) > 0 ? PyDict_SetItem(fields, S_USER, user) : 0;
        Py_DECREF(user);
        if (rc < 0) goto fail;
    } else if (PyErr_Occurred()) {
        goto fail;
    }
    if ((v = asa_truthy(groups, idx, AG_GROUP)) != NULL) {
        if (PyDict_SetItem(fields, AS[AS_GROUP], v) < 0) goto fail;
        int has = PyUnicode_Contains(text, AS[AS_ASSIGNED]);
        if (has < 0) goto fail;
        if ((flags & AK_VPN) && has) { /* _assigned_nat(text, src) */
            PyObject *nat = asa_assigned(text, src);
            if (nat == NULL) goto fail;
            int rc = nat == Py_None ? 0 : PyDict_SetItem(fields, AS[AS_SNAT], nat);
            Py_DECREF(nat);
            if (rc < 0) goto fail;
        }
    }
    int has_user = PyDict_Contains(fields, S_USER);
    if (has_user < 0) goto fail;
    if (!has_user) {
        int has = PyUnicode_Contains(text, AS[AS_SUBJECT]);
        if (has < 0) goto fail;
        if (has) { /* _subject_user(text) */
            PyObject *cn = PyObject_CallOneArg(ASA_SUBJECT_USER, text);
            if (cn == NULL) goto fail;
            int rc = cn == Py_None ? 0 : PyDict_SetItem(fields, S_USER, cn);
            Py_DECREF(cn);
            if (rc < 0) goto fail;
        }
    }
    if (asa_set(fields, AS[AS_ACL], asa_truthy(groups, idx, AG_ACL)) < 0) goto fail;
    v = asa_gd(groups, idx, AG_ACT);
    if ((flags & AK_DENY) || (v != NULL && PyUnicode_CompareWithASCIIString(v, "denied") == 0)) {
        if (PyDict_SetItem(fields, S_ACTION, AS[AS_DENY]) < 0 || PyDict_SetItem(fields, S_BLOCKED, S_TRUE) < 0)
            goto fail;
    } else if (flags & AK_PERMIT) {
        int has = PyDict_Contains(fields, S_ACTION);
        if (has < 0) goto fail;
        if (!has && (PyDict_SetItem(fields, S_ACTION, AS[AS_PERMIT]) < 0 ||
                     PyDict_SetItem(fields, S_BLOCKED, S_FALSE) < 0))
            goto fail;
    }
    if (asa_set(fields, AS[AS_DST_SERVICE], asa_truthy(groups, idx, AG_SVC)) < 0) goto fail;
    if ((v = asa_truthy(groups, idx, AG_RES)) != NULL && (t = fw_ascii(v, &ln)) != NULL) {
        PyObject *low = PyObject_CallMethod(v, "lower", NULL);
        if (low == NULL) goto fail;
        int ok = PySequence_Contains(ASA_SUCCESS_WORDS, low);
        Py_DECREF(low);
        if (ok < 0 || PyDict_SetItem(fields, AS[AS_OUTCOME], AS[ok ? AS_SUCCESS : AS_FAILURE]) < 0) goto fail;
    } else if (tag >= 0) {
        PyObject *o = PyDict_GetItemWithError(ASA_OUTCOME_IDS, msg_id);
        if (o == NULL && PyErr_Occurred()) goto fail;
        if (asa_set(fields, AS[AS_OUTCOME], o) < 0) goto fail;
    }
    ret = Py_BuildValue("(OOO)", fields, (flags & AK_LOGIN) ? ASA_SVC_LOGIN : ASA_SVC,
                        (flags & AK_FIREWALL) ? S_FIREWALL_T : S_EMPTY_T);
fail: /* (and the way out: ret is NULL on an error) */
    Py_XDECREF(groups);
    Py_XDECREF(text);
    Py_XDECREF(msg_id);
    Py_DECREF(fields);
    return ret;
}
