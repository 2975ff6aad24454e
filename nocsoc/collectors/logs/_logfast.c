/*
 * _logfast: the log parsers' key=value splitters (plain k=v and CEF extensions), the RFC 3164
 * header (bsd_header) and the common access-log line (access_common), in C. Each is the exact
 * twin of a Python reference that stays the fallback; tests/collectors/logs/test_logfast.py
 * compares them on the real samples and on random lines.
 *
 * Why C: measured on SEKOIA's real FortiGate lines (bench/bench_detections.py, the mix of the new
 * formats), `kv_pairs` took ~19 us of a ~49 us FortiGate line: ~13 us in the regex's findall
 * (its tuples and match objects, ~29 pairs a line) and ~6 us unquoting them in Python. This
 * walks the line once and builds the dict directly (~1-2 us).
 *
 * It is the exact twin of nocsoc.collectors.logs.parsers.base's regexes, for ASCII text only:
 *
 *   _KV       (?<![\w.-])([A-Za-z_][\w.-]*+)=("(?:[^"\\]|\\.)*+"|\S*)
 *   _KV_COMMA (?<![\w.-])([A-Za-z_][\w.-]*+)=("(?:[^"\\]|\\.)*+"|[^\s,]*)
 *
 * scanned as re.findall does (left to right, a failed attempt moves one character on, a match
 * resumes at its end), then each value unquoted as `_kv_unquoted` does (a value of two or more
 * characters between double quotes loses them, and its `\"` become `"`), the last value of a
 * key winning. A line with any non-ASCII character returns None and the caller runs the regex:
 * `re`'s \w and \s are Unicode-aware and this file does not try to be. For ASCII, \w is
 * [A-Za-z0-9_] and \s is what str.isspace() says: \t \n \v \f \r, \x1c-\x1f and the space.
 * The pure-Python path stays the reference: tests/collectors/logs/test_logfast.py compares the
 * two on every sample line and on random lines made of the characters that matter.
 *
 * cef_extension: the same for parse_cef's extension (`k=v with spaces k2=...`), which cost
 * ~45 of a ~48 us CEF line (FortiGate, Palo Alto, Check Point: ~50 keys found by a regex's
 * finditer, then sliced, stripped and unescaped one by one in Python).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_logfast_fw.h" /* the firewall twins (_logfast_fw.c) and the helpers they share */
#include "_logfast_lx.h" /* the PAM and Junos twins and their dispatch (_logfast_lx.c) */

/* (is_word, is_space, is_key_char: _logfast_fw.h) */

/* Short values recur line after line (host and program names, users, methods, protocols, the
 * keys and most values of an audit record): the last string made for each of SHARED_SLOTS
 * hashes of their text is kept and handed out again while the text is the same. Why: one
 * object instead of a new one per event (~60 ns made and freed, ~60 bytes kept per value) and
 * its hash computed once, so dict lookups of a shared key compare pointers. Strings are
 * immutable, and nothing here writes into a string it did not just make. */
#define SHARED_MAX 24
#define SHARED_SLOTS 2048
static PyObject *SHARED[SHARED_SLOTS];

/* s[a:b] of ASCII text as a str (without PyUnicode_FromStringAndSize's UTF-8 decoding) */
PyObject *ascii_sub(const char *s, Py_ssize_t a, Py_ssize_t b) {
    Py_ssize_t n = b - a;
    PyObject **slot = NULL;
    if (n > 0 && n <= SHARED_MAX) { /* FNV-1a */
        unsigned int h = 2166136261u ^ (unsigned int)n;
        for (Py_ssize_t k = a; k < b; k++) h = (h ^ (unsigned char)s[k]) * 16777619u;
        slot = &SHARED[h & (SHARED_SLOTS - 1)];
        PyObject *o = *slot;
        if (o != NULL && PyUnicode_GET_LENGTH(o) == n && memcmp(PyUnicode_DATA(o), s + a, (size_t)n) == 0)
            return Py_NewRef(o);
    }
    PyObject *u = PyUnicode_New(n, 127);
    if (u == NULL) return NULL;
    memcpy(PyUnicode_DATA(u), s + a, (size_t)n);
    if (slot != NULL) Py_XSETREF(*slot, Py_NewRef(u));
    return u;
}

/* s[0:n] of ASCII text as a new str (a value: not shared, not hashed) */
static inline PyObject *ascii_new(const char *s, Py_ssize_t n) {
    PyObject *u = PyUnicode_New(n, 127);
    if (u != NULL) memcpy(PyUnicode_DATA(u), s, (size_t)n);
    return u;
}

/* float(s[0:n]) for a decimal `digits[.digits]` of at most 15 significant digits: the integer of
 * its digits divided by a power of ten, both exact doubles, so the one rounding of the division
 * is the correctly rounded value float() gives (Clinger's fast path). 1 with *out set, 0 for any
 * other text (the caller uses PyOS_string_to_double). */
static int fast_decimal(const char *s, Py_ssize_t n, double *out) {
    static const double P10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    long long m = 0;
    int digits = 0, frac = -1;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (s[k] == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (s[k] < '0' || s[k] > '9' || ++digits > 15) return 0;
        m = m * 10 + (s[k] - '0');
        if (frac >= 0) frac++;
    }
    if (digits == 0) return 0;
    *out = frac > 0 ? (double)m / P10[frac] : (double)m;
    return 1;
}

/* One `str.replace(two, one)` pass over buf[0:n] in place (left to right, no overlap). */
static Py_ssize_t replace2(char *buf, Py_ssize_t n, char a, char b, char to) {
    Py_ssize_t o = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (buf[i] == a && i + 1 < n && buf[i + 1] == b) {
            buf[o++] = to;
            i++;
        } else {
            buf[o++] = buf[i];
        }
    }
    return o;
}

/* The value of a quoted match `"..."` of ASCII text (s points at the opening quote, n its length
 * >= 2): the quotes dropped and every `\"` turned into `"` (Python: v[1:-1].replace('\\"', '"')),
 * made as ascii_sub makes a string (no UTF-8 decoding; a short one shared). */
static PyObject *unquote(const char *s, Py_ssize_t n) {
    const char *in = s + 1;
    Py_ssize_t m = n - 2;
    if (memchr(in, '\\', (size_t)m) == NULL) return ascii_sub(in, 0, m);
    char *buf = PyMem_Malloc(m > 0 ? (size_t)m : 1);
    if (buf == NULL) return PyErr_NoMemory();
    memcpy(buf, in, (size_t)m);
    PyObject *r = ascii_sub(buf, 0, replace2(buf, m, '\\', '"', '"'));
    PyMem_Free(buf);
    return r;
}

PyObject *kv_value(const char *s, Py_ssize_t v0, Py_ssize_t v1) {
    Py_ssize_t vn = v1 - v0;
    return (vn >= 2 && s[v0] == '"' && s[v1 - 1] == '"') ? unquote(s + v0, vn) : ascii_sub(s, v0, v1);
}

/* out[key] = val, consuming both references; val may be NULL (its error already set).
 * 0, or -1 with an error set. */
int set_pair(PyObject *out, PyObject *key, PyObject *val) {
    if (val == NULL) {
        Py_DECREF(key);
        return -1;
    }
    int rc = PyDict_SetItem(out, key, val);
    Py_DECREF(key);
    Py_DECREF(val);
    return rc;
}

/* Every splitter's start: for ASCII text, its characters (*s, *n) and a new empty dict for the
 * pairs; for any other text, None (a new reference: the caller returns it, and its Python
 * function decides); NULL with an error set on failure. */
static PyObject *ascii_pairs_dict(PyObject *text, const char **s, Py_ssize_t *n) {
    if (!PyUnicode_IS_ASCII(text)) Py_RETURN_NONE;
    *s = (const char *)PyUnicode_DATA(text);
    *n = PyUnicode_GET_LENGTH(text);
    return dict_sized(count_char(*s, *n, '=') + 16); /* (+16: fortigate_line's fields added) */
}

PyObject *kv_pairs(PyObject *self, PyObject *args) {
    PyObject *text;
    int comma;
    if (!PyArg_ParseTuple(args, "Up:kv_pairs", &text, &comma)) return NULL;
    const char *s;
    Py_ssize_t n;
    PyObject *out = ascii_pairs_dict(text, &s, &n);
    if (out == NULL || out == Py_None) return out;
    Py_ssize_t i = 0, k0, k1, v0, v1;
    while (kv_next(s, n, comma, &i, &k0, &k1, &v0, &v1)) {
        /* the keys recur line after line (~28 on a FortiGate line): the shared string of their
         * text (ascii_sub's cache), not a new one per pair (~0.13 us each) */
        PyObject *key = ascii_sub(s, k0, k1);
        if (key == NULL) goto fail;
        /* (the values as ascii_sub makes them: host names, actions, levels, policy ids recur) */
        if (set_pair(out, key, kv_value(s, v0, v1)) < 0) goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* kv_pairs for text that is not ASCII: the same walk over code points with the regex's Unicode
 * classes (re's \w: str.isalnum() or `_`; \s: str.isspace(); `.`: any but `\n`). Why: one
 * non-ASCII character (a Vietnamese user name in a FortiGate or Sophos line) sent the whole line
 * to the regex's findall, ~4x the ASCII walk's time, twice a line (FortiGate's refusal, Sophos). */
static inline int u_key_char(Py_UCS4 c) {
    return c < 128 ? is_key_char((unsigned char)c) : Py_UNICODE_ISALNUM(c);
}

PyObject *kv_pairs_wide(PyObject *self, PyObject *args) {
    PyObject *text;
    int comma;
    if (!PyArg_ParseTuple(args, "Up:kv_pairs_wide", &text, &comma)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *d = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), i = 0;
    PyObject *out = PyDict_New();
    if (out == NULL) return NULL;
#define AT(k) PyUnicode_READ(kind, d, (k))
    while (i < n) {
        Py_UCS4 c = AT(i);
        /* a key starts with [A-Za-z_] where no [\w.-] precedes it */
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') || (i > 0 && u_key_char(AT(i - 1)))) {
            i++;
            continue;
        }
        Py_ssize_t k0 = i, j = i + 1;
        while (j < n && u_key_char(AT(j))) j++; /* possessive */
        if (j >= n || AT(j) != '=') {
            i++;
            continue;
        }
        Py_ssize_t k1 = j, v0 = j + 1, v1 = -1;
        if (v0 < n && AT(v0) == '"') { /* "(?:[^"\\]|\\.)*+" */
            Py_ssize_t q = v0 + 1;
            while (q < n) {
                Py_UCS4 e = AT(q);
                if (e == '"') break;
                if (e == '\\') {
                    if (q + 1 < n && AT(q + 1) != '\n') {
                        q += 2;
                        continue;
                    }
                    break;
                }
                q++;
            }
            if (q < n && AT(q) == '"') v1 = q + 1;
        }
        if (v1 < 0) { /* \S* (or [^\s,]*) */
            Py_ssize_t q = v0;
            while (q < n && !Py_UNICODE_ISSPACE(AT(q)) && !(comma && AT(q) == ',')) q++;
            v1 = q;
        }
        PyObject *key = PyUnicode_Substring(text, k0, k1), *val;
        if (key == NULL) goto fail;
        if (v1 - v0 >= 2 && AT(v0) == '"' && AT(v1 - 1) == '"') { /* v[1:-1].replace('\\"', '"') */
            PyObject *inner = PyUnicode_Substring(text, v0 + 1, v1 - 1);
            val = NULL;
            if (inner != NULL) {
                if (PyUnicode_FindChar(inner, '\\', 0, v1 - v0 - 2, 1) == -1) {
                    val = inner;
                } else {
                    PyObject *from = PyUnicode_FromString("\\\""), *to = PyUnicode_FromString("\"");
                    if (from != NULL && to != NULL) val = PyUnicode_Replace(inner, from, to, -1);
                    Py_XDECREF(from), Py_XDECREF(to);
                    Py_DECREF(inner);
                }
            }
        } else {
            val = PyUnicode_Substring(text, v0, v1);
        }
        if (set_pair(out, key, val) < 0) goto fail;
        i = v1;
    }
#undef AT
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

static inline int is_cef_key_char(unsigned char c) {
    return is_word(c) || c == '.' || c == '[' || c == ']' || c == '-';
}

/* base.parse_cef's extension: keys are matches of `(?:^|(?<=\s))([A-Za-z0-9_.\[\]-]+)=` (re's
 * finditer), each value the text up to the next key, str.strip()ped, then _cef_unescape's five
 * str.replace passes in its order (\= \| \n \r \\). (Its skip of a key after a backslash
 * never applies: a key follows whitespace or starts the text.) */
static PyObject *cef_ext_core(const char *s, Py_ssize_t n) {
    PyObject *out = dict_sized(count_char(s, n, '='));
    if (out == NULL) return NULL;
    char *buf = NULL;
    Py_ssize_t cap = 0;
    /* find the first key from `from`: returns its start, sets *kend to the index after `=` */
    Py_ssize_t pos = 0, kstart = -1, kend = -1;
#define NEXT_KEY(from)                                                                     \
    do {                                                                                   \
        kstart = -1;                                                                       \
        for (Py_ssize_t p_ = (from); p_ < n; p_++) {                                       \
            if (p_ > 0 && !is_space((unsigned char)s[p_ - 1])) continue;                   \
            Py_ssize_t q_ = p_;                                                            \
            while (q_ < n && is_cef_key_char((unsigned char)s[q_])) q_++;                  \
            if (q_ > p_ && q_ < n && s[q_] == '=') {                                       \
                kstart = p_;                                                               \
                kend = q_ + 1;                                                             \
                break;                                                                     \
            }                                                                              \
        }                                                                                  \
    } while (0)
    NEXT_KEY(pos);
    while (kstart >= 0) {
        Py_ssize_t ks = kstart, ke = kend;
        NEXT_KEY(ke);
        Py_ssize_t v0 = ke, v1 = kstart >= 0 ? kstart : n;
        while (v0 < v1 && is_space((unsigned char)s[v0])) v0++;
        while (v1 > v0 && is_space((unsigned char)s[v1 - 1])) v1--;
        PyObject *key = ascii_sub(s, ks, ke - 1); /* (shared, as kv_pairs' keys) */
        if (key == NULL) goto fail;
        PyObject *val;
        if (memchr(s + v0, '\\', (size_t)(v1 - v0)) == NULL) {
            val = ascii_sub(s, v0, v1); /* (a short value shared: actions, types, zones recur) */
        } else {
            Py_ssize_t m = v1 - v0;
            if (m > cap) {
                char *nb = PyMem_Realloc(buf, (size_t)m);
                if (nb == NULL) {
                    Py_DECREF(key);
                    PyErr_NoMemory();
                    goto fail;
                }
                buf = nb;
                cap = m;
            }
            memcpy(buf, s + v0, (size_t)m);
            m = replace2(buf, m, '\\', '=', '=');
            m = replace2(buf, m, '\\', '|', '|');
            m = replace2(buf, m, '\\', 'n', '\n');
            m = replace2(buf, m, '\\', 'r', '\r');
            m = replace2(buf, m, '\\', '\\', '\\');
            val = ascii_new(buf, m); /* (\\n and \\r made control characters: still ASCII) */
        }
        if (set_pair(out, key, val) < 0) goto fail;
    }
#undef NEXT_KEY
    PyMem_Free(buf);
    return out;
fail:
    PyMem_Free(buf);
    Py_DECREF(out);
    return NULL;
}

static PyObject *cef_extension(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "cef_extension() takes a str");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(arg)) Py_RETURN_NONE;
    return cef_ext_core((const char *)PyUnicode_DATA(arg), PyUnicode_GET_LENGTH(arg));
}

/* base.parse_cef's header for ASCII s[0:n] starting `CEF:`, an optional space, a digit and `|`,
 * or a digit and `|` (where _CEF_START.search matches at once): the six fields (vendor, product, version,
 * signature, name, severity) and the extension's start, with `CEF:0||Vendor|...`'s empty field
 * dropped as there. 1, or 0 where the walk leaves the line to Python: another start, fewer than
 * six fields, or a `\` in the header (its escapes). */
typedef struct {
    Py_ssize_t a[6], b[6], ext;
} cef_t;

static int cef_head(const char *s, Py_ssize_t n, cef_t *c) {
    Py_ssize_t pos;
    if (n >= 6 && memcmp(s, "CEF:", 4) == 0)
        pos = s[4] == ' ' ? 5 : 4;
    else if (n >= 2 && s[0] >= '0' && s[0] <= '9' && s[1] == '|')
        pos = 0; /* `0|Vendor|...`: no label (_CEF_START's search matches at once, without it) */
    else
        return 0;
    if (pos + 1 >= n || s[pos] < '0' || s[pos] > '9' || s[pos + 1] != '|') return 0;
    Py_ssize_t i = pos + 2;
    for (int k = 0; k < 6; k++) { /* msg[pos:].split("|", 6) */
        const char *p = memchr(s + i, '|', (size_t)(n - i));
        if (p == NULL) return 0;
        c->a[k] = i, c->b[k] = p - s, i = p - s + 1;
    }
    if (memchr(s + pos + 2, '\\', (size_t)(i - pos - 2)) != NULL) return 0;
    c->ext = i;
    if (c->b[0] == c->a[0]) { /* one empty field too many, when the next `|` ends no pair */
        const char *p = memchr(s + i, '|', (size_t)(n - i));
        if (p != NULL && memchr(s + i, '=', (size_t)(p - s - i)) == NULL) {
            for (int k = 0; k < 5; k++) c->a[k] = c->a[k + 1], c->b[k] = c->b[k + 1];
            c->a[5] = i, c->b[5] = p - s, c->ext = p - s + 1;
        }
    }
    return 1;
}

/* firewall._pairs (mode 0) and auditd._audit_pairs (mode 1) for ASCII text: the line split on
 * whitespace as str.split() does, each token with a `=` a pair (mode 0: its key all of A-Z;
 * mode 1: any non-empty key, a value in double quotes loses them); later keys win. Any token
 * those functions leave to their regex, and any non-ASCII text, gives None: the caller runs its
 * Python function, which decides. */
/* split_pairs' walk over ASCII characters s[0:n]: the dict, None (undecided), or NULL (error). */
static PyObject *split_core(const char *s, Py_ssize_t n, int mode) {
    Py_ssize_t i = 0;
    PyObject *out = dict_sized(count_char(s, n, '='));
    if (out == NULL) return NULL;
    while (i < n) {
        while (i < n && is_space((unsigned char)s[i])) i++;
        if (i >= n) break;
        Py_ssize_t t0 = i;
        while (i < n && !is_space((unsigned char)s[i])) i++;
        Py_ssize_t t1 = i;
        const char *eq = memchr(s + t0, '=', (size_t)(t1 - t0));
        if (eq == NULL) {
            if (mode == 1) goto undecided;
            continue;
        }
        Py_ssize_t k1 = eq - s, v0 = k1 + 1, v1 = t1;
        if (k1 == t0) goto undecided;
        if (mode == 0) {
            for (Py_ssize_t k = t0; k < k1; k++)
                if (s[k] < 'A' || s[k] > 'Z') goto undecided;
        } else if (v0 < v1 && s[v0] == '"') {
            if (v1 - v0 < 2 || s[v1 - 1] != '"') goto undecided;
            v0++;
            v1--;
        }
        PyObject *key = ascii_sub(s, t0, k1);
        if (key == NULL) goto fail;
        PyObject *val = ascii_sub(s, v0, v1);
        if (set_pair(out, key, val) < 0) goto fail;
    }
    return out;
undecided:
    Py_DECREF(out);
    Py_RETURN_NONE;
fail:
    Py_DECREF(out);
    return NULL;
}

static PyObject *split_pairs(PyObject *self, PyObject *args) {
    PyObject *text;
    int mode;
    if (!PyArg_ParseTuple(args, "Ui:split_pairs", &text, &mode)) return NULL;
    if (!PyUnicode_IS_ASCII(text)) Py_RETURN_NONE;
    return split_core((const char *)PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text), mode);
}


/* syslog._FAST_3164.match(line, pos), the common RFC 3164 / file header
 *
 *   (?>(?P<mon>Jan|...|Dec) {1,2}(?P<day>\d{1,2}) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d) )
 *   (?![A-Z]{2,5} )(?>(?P<host>[A-Za-z0-9][A-Za-z0-9_.-]{0,254}) )
 *   (?>(?!%)(?P<app>[^\s\[\]:]{1,48})(?:\[(?P<pid>[^\]\s]{0,32})\])?: ?)
 *
 * walked once. Why: the regex match, its eight groups and their int() conversions were ~1.5 us
 * of a ~2.4 us header. Every quantifier here is decided by one scan (a shorter repeat is always
 * followed by a character of the repeat itself, which the next literal refuses, so backtracking
 * never finds another match). Returns (month 1-12, day, hour, minute, second, host, app, pid or
 * None, end) on a match, None where the regex does not match, and False where a non-ASCII
 * character is met after the month (re's \d and \s are Unicode-aware): the caller runs the regex. */
static const char MONTH_NAMES[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

static inline Py_UCS4 rd(int kind, const void *data, Py_ssize_t i, int *wide) {
    Py_UCS4 c = PyUnicode_READ(kind, data, i);
    if (c > 127) {
        *wide = 1;
        return 0x7f;
    }
    return c;
}

/* The header's parts found by walk_3164: positions in the line, and the numbers. */
typedef struct {
    long month, day, h, mi, s;
    Py_ssize_t h0, h1, a0, a1, p0, p1, end; /* host, app, pid (p0 < 0: none), the match's end */
} hdr_t;

/* The walk of _FAST_3164 at `pos`: 1 on a match (*out filled), 0 where the regex does not match;
 * *wide set where a non-ASCII character was read after the month (the regex decides then). */
static int walk_3164(int kind, const void *data, Py_ssize_t n, Py_ssize_t pos, hdr_t *out, int *wide_out) {
    int wide = 0; /* a non-ASCII character was read: the regex decides */
    /* the character at i (0 past the end); a non-ASCII one reads as 0x7f, which no literal and
     * no class here accepts except the app's, and sets `wide` */
#define CH(i) ((i) < n ? rd(kind, data, (i), &wide) : (Py_UCS4)0)
#define NOMATCH goto nomatch
    if (pos < 0 || pos + 16 > n) return 0; /* the shortest match is 19 characters */
    int month = 0;
    Py_UCS4 c0 = CH(pos), c1 = CH(pos + 1), c2 = CH(pos + 2);
    for (int k = 0; k < 12; k++) {
        if (c0 == (Py_UCS4)MONTH_NAMES[3 * k] && c1 == (Py_UCS4)MONTH_NAMES[3 * k + 1] &&
            c2 == (Py_UCS4)MONTH_NAMES[3 * k + 2]) {
            month = k + 1;
            break;
        }
    }
    if (month == 0) return 0; /* three ASCII letters: a non-ASCII one is no month either */
    Py_ssize_t i = pos + 3;
#define DIGIT(c) ((c) >= '0' && (c) <= '9')
    if (CH(i) != ' ') NOMATCH;
    i++;
    if (CH(i) == ' ') i++; /* ` {1,2}` */
    Py_UCS4 c = CH(i);
    if (!DIGIT(c)) NOMATCH;
    long day = (long)(c - '0');
    i++;
    c = CH(i);
    if (DIGIT(c)) {
        day = day * 10 + (long)(c - '0');
        i++;
    }
    if (CH(i) != ' ') NOMATCH;
    i++;
    long hms[3];
    for (int k = 0; k < 3; k++) {
        Py_UCS4 a = CH(i), b = CH(i + 1);
        if (!DIGIT(a) || !DIGIT(b)) NOMATCH;
        hms[k] = (long)(a - '0') * 10 + (long)(b - '0');
        i += 2;
        if (CH(i) != (Py_UCS4)(k < 2 ? ':' : ' ')) NOMATCH;
        i++;
    }
    /* (?![A-Z]{2,5} ): a run of 2-5 capitals then a space is a zone name, not a host */
    Py_ssize_t u = i;
    while (u - i < 6 && (c = CH(u)) >= 'A' && c <= 'Z') u++;
    if (u - i >= 2 && u - i <= 5 && CH(u) == ' ') NOMATCH;
    /* host: [A-Za-z0-9][A-Za-z0-9_.-]{0,254} then a space */
    Py_ssize_t h0 = i;
    c = CH(i);
    if (!(c < 128 && c != '_' && is_word((unsigned char)c))) NOMATCH;
    i++;
    while (i - h0 < 256 && (c = CH(i)) < 128 && (is_word((unsigned char)c) || c == '.' || c == '-')) i++;
    if (i - h0 > 255 || CH(i) != ' ') NOMATCH;
    Py_ssize_t h1 = i;
    i++;
    /* app: (?!%)[^\s\[\]:]{1,48} */
    Py_ssize_t a0 = i;
    if (CH(i) == '%') NOMATCH;
    while (i < n && i - a0 < 49) {
        c = CH(i);
        if ((c < 128 && is_space((unsigned char)c)) || c == '[' || c == ']' || c == ':') break;
        i++;
    }
    if (i == a0 || i - a0 > 48 || i >= n) NOMATCH;
    Py_ssize_t a1 = i, p0 = -1, p1 = -1;
    if (CH(i) == '[') { /* (?:\[(?P<pid>[^\]\s]{0,32})\])? */
        Py_ssize_t j = i + 1;
        while (j < n && j - (i + 1) < 33 && (c = CH(j)) != ']' && !(c < 128 && is_space((unsigned char)c))) j++;
        if (j < n && j - (i + 1) <= 32 && CH(j) == ']') {
            p0 = i + 1;
            p1 = j;
            i = j + 1;
        }
    }
    if (i >= n || CH(i) != ':') NOMATCH;
    i++;
    if (i < n && CH(i) == ' ') i++;
#undef DIGIT
#undef CH
#undef NOMATCH
    *wide_out = wide;
    out->month = month;
    out->day = day;
    out->h = hms[0];
    out->mi = hms[1];
    out->s = hms[2];
    out->h0 = h0;
    out->h1 = h1;
    out->a0 = a0;
    out->a1 = a1;
    out->p0 = p0;
    out->p1 = p1;
    out->end = i;
    return 1;
nomatch:
    *wide_out = wide;
    return 0;
}

static PyObject *bsd_header(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "bsd_header(line: str, pos: int)");
        return NULL;
    }
    PyObject *line = args[0];
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    if (pos == -1 && PyErr_Occurred()) return NULL;
    if (PyUnicode_READY(line) < 0) return NULL;
    hdr_t hd;
    int wide = 0;
    int got = walk_3164(PyUnicode_KIND(line), PyUnicode_DATA(line), PyUnicode_GET_LENGTH(line), pos, &hd, &wide);
    if (wide) Py_RETURN_FALSE;
    if (!got) Py_RETURN_NONE;
    PyObject *host = PyUnicode_Substring(line, hd.h0, hd.h1);
    PyObject *app = host ? PyUnicode_Substring(line, hd.a0, hd.a1) : NULL;
    PyObject *pid = NULL;
    if (app != NULL) {
        if (hd.p0 >= 0) {
            pid = PyUnicode_Substring(line, hd.p0, hd.p1);
        } else {
            pid = Py_None;
            Py_INCREF(pid);
        }
    }
    if (pid == NULL) {
        Py_XDECREF(host);
        Py_XDECREF(app);
        return NULL;
    }
    return Py_BuildValue("(lllllNNNn)", hd.month, hd.day, hd.h, hd.mi, hd.s, host, app, pid, hd.end);
}

/* web._COMMON.match(line), the NCSA common/combined access line
 *
 *   (?P<ip>[0-9A-Fa-f:.]+) (?P<ident>\S+) (?P<user>\S+) \[(?P<ts>[^\]]+)\] "(?P<req>(?:[^"\\]|\\.)*)"
 *   (?P<status>\d{3}) (?P<bytes>\d+|-)(?: \d+)?(?: "(?P<ref>(?:[^"\\]|\\.)*)" "(?P<ua>(?:[^"\\]|\\.)*)")?
 *
 * walked once. Why: the match and its groups were ~1.5 us of a ~10 us access line. Each part is
 * decided by one scan: a shorter repeat ends on a character of the repeat itself, which the next
 * literal refuses; a quoted part ends at its first `"` not escaped (an escape is `\` and any
 * character but a newline), and the optional tail takes its first reading (re does not backtrack
 * into the parts before it: the match succeeds without it). Returns (ip, user, status, bytes,
 * req, ua or None, vhost "", ts, ref or None) on a match, None where the regex does not match, and False
 * where a non-ASCII character is read by a \d, \s or \S (re's are Unicode-aware). */
static inline int is_hexdot(Py_UCS4 c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/* the end of a quoted part's body starting at i ((?:[^"\\]|\\.)*), at its closing `"` or not */
static Py_ssize_t quoted_end(int kind, const void *data, Py_ssize_t n, Py_ssize_t i) {
    while (i < n) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == '"') break;
        if (c == '\\') {
            if (i + 1 < n && PyUnicode_READ(kind, data, i + 1) != '\n') {
                i += 2;
                continue;
            }
            break;
        }
        i++;
    }
    return i;
}

/* where access_walk found _COMMON's groups (f0/a0 < 0: no referer and user agent) */
typedef struct {
    Py_ssize_t ip1, u0, u1, t0, t1, r0, r1, st0, b0, b1, f0, f1, a0, a1;
} acc_t;

/* _COMMON.match walked over the line: 1 on a match (*p filled), 0 where it does not match, 2
 * where a non-ASCII character decides (re's classes are Unicode-aware) */
static int access_walk(int kind, const void *data, Py_ssize_t n, acc_t *p) {
    int wide = 0;
#define RAW(i) ((i) < n ? PyUnicode_READ(kind, data, (i)) : (Py_UCS4)0)
#define CH(i) ((i) < n ? rd(kind, data, (i), &wide) : (Py_UCS4)0)
#define NOMATCH goto nomatch
#define DIGIT(c) ((c) >= '0' && (c) <= '9')
    Py_ssize_t i = 0;
    while (i < n && is_hexdot(RAW(i))) i++;
    if (i == 0 || RAW(i) != ' ') NOMATCH;
    p->ip1 = i;
    i++;
    Py_UCS4 c;
    for (int part = 0; part < 2; part++) { /* ident, user: \S+ then a space */
        Py_ssize_t s0 = i;
        while (i < n && !((c = CH(i)) < 128 && is_space((unsigned char)c))) i++;
        if (i == s0 || i >= n || RAW(i) != ' ') NOMATCH;
        if (part == 1) break;
        i++;
    }
    Py_ssize_t u0 = i - 1;
    while (u0 > 0 && RAW(u0 - 1) != ' ') u0--;
    p->u0 = u0, p->u1 = i;
    i++;
    if (RAW(i) != '[') NOMATCH;
    i++;
    p->t0 = i;
    while (i < n && RAW(i) != ']') i++;
    if (i == p->t0 || i >= n) NOMATCH;
    p->t1 = i;
    i++;
    if (RAW(i) != ' ' || RAW(i + 1) != '"') NOMATCH;
    i += 2;
    p->r0 = i;
    i = quoted_end(kind, data, n, i);
    if (i >= n || RAW(i) != '"') NOMATCH;
    p->r1 = i;
    i++;
    if (RAW(i) != ' ') NOMATCH;
    i++;
    p->st0 = i;
    for (int k = 0; k < 3; k++, i++) {
        c = CH(i);
        if (!DIGIT(c)) NOMATCH;
    }
    if (RAW(i) != ' ') NOMATCH;
    i++;
    p->b0 = i;
    if (RAW(i) == '-') {
        i++;
    } else {
        while (i < n && DIGIT(CH(i))) i++;
        if (i == p->b0) NOMATCH;
    }
    p->b1 = i;
    /* (?: \d+)? */
    if (RAW(i) == ' ' && i + 1 < n) {
        Py_ssize_t j = i + 1;
        while (j < n && DIGIT(CH(j))) j++;
        if (j > i + 1) i = j;
    }
    /* (?: "ref" "ua")? */
    p->f0 = p->f1 = p->a0 = p->a1 = -1;
    if (RAW(i) == ' ' && RAW(i + 1) == '"') {
        Py_ssize_t j = quoted_end(kind, data, n, i + 2);
        if (j < n && RAW(j) == '"' && RAW(j + 1) == ' ' && RAW(j + 2) == '"') {
            Py_ssize_t k = quoted_end(kind, data, n, j + 3);
            if (k < n && RAW(k) == '"') {
                p->f0 = i + 2;
                p->f1 = j;
                p->a0 = j + 3;
                p->a1 = k;
            }
        }
    }
    return wide ? 2 : 1;
#undef RAW
#undef CH
#undef NOMATCH
#undef DIGIT
nomatch:
    return wide ? 2 : 0;
}

static PyObject *access_common(PyObject *self, PyObject *line) {
    if (!PyUnicode_Check(line)) {
        PyErr_SetString(PyExc_TypeError, "access_common(line: str)");
        return NULL;
    }
    if (PyUnicode_READY(line) < 0) return NULL;
    acc_t p;
    int got = access_walk(PyUnicode_KIND(line), PyUnicode_DATA(line), PyUnicode_GET_LENGTH(line), &p);
    if (got == 2) Py_RETURN_FALSE;
    if (got == 0) Py_RETURN_NONE;
    PyObject *ref = p.f0 >= 0 ? PyUnicode_Substring(line, p.f0, p.f1) : (Py_INCREF(Py_None), Py_None);
    PyObject *ua = p.a0 >= 0 ? PyUnicode_Substring(line, p.a0, p.a1) : (Py_INCREF(Py_None), Py_None);
    return Py_BuildValue("(NNNNNNsNN)", PyUnicode_Substring(line, 0, p.ip1), PyUnicode_Substring(line, p.u0, p.u1),
                         PyUnicode_Substring(line, p.st0, p.st0 + 3), PyUnicode_Substring(line, p.b0, p.b1),
                         PyUnicode_Substring(line, p.r0, p.r1), ua, "", PyUnicode_Substring(line, p.t0, p.t1), ref);
}

/* ---------------------------------------------------------------------------------------------
 * syslog_line: a whole RFC 3164 line of a format whose body parser has a C twin, to its event's
 * parts in one call: the header as _fast_syslog reads it (<PRI>, _FAST_3164) and the body's
 * fields dict as the format's Python parser builds it (same keys, values and key order), with
 * `program` and `pid` added as _fast_syslog adds them.
 *
 * Why: with the header in C, an sshd line still cost ~7 us, ~4 of them the glue between header,
 * dispatch, the parser's regexes, Parsed and the dict; one call that returns the finished fields
 * leaves the caller only the event to build.
 *
 * It claims a line only where the result is certain to be the Python path's; any other line
 * gives None and the caller runs the Python path, which stays the reference:
 *   - the line must be printable ASCII (0x20-0x7e): no \r \n \t NUL, no non-ASCII character, so
 *     re's Unicode classes, str.strip()/rstrip() and `$` before a newline never come into it;
 *   - the body's form must be one walked here, and decided by this walk (a regex that could
 *     still match by backtracking into another reading gives None, see ipblock).
 * The body parsers are chosen by the caller: `programs` maps a syslog program name to the index
 * of its body parser in BODIES (the registry's Dispatcher builds it from the specs that name a
 * C twin and are the first parser of that program).
 * Returns (body index, host, month, day, hour, minute, second, fields) or None; False for a
 * printable-ASCII line without a `<PRI>` _fast_syslog reads or without the common header (what
 * _fast_syslog would refuse too: the caller goes straight to the general path).
 * ------------------------------------------------------------------------------------------- */

enum { K_EVENT_TYPE, K_OUTCOME, K_MESSAGE, K_USER, K_USER_DOMAIN, K_SRC_IP, K_SRC_HOST, K_SRC_PORT,
       K_AUTH_METHOD, K_INVALID_USER, K_PROGRAM, K_PID, K_DST_IP, K_NETWORK_PROTOCOL, K_ACTION,
       K_BLOCKED, K_LOG_PREFIX, K_IN_INTERFACE, K_OUT_INTERFACE, K_DST_PORT, K_LENGTH, K_TTL,
       K_UDP_LENGTH, K_SOURCE_BYTES, K_TCP_FLAGS, V_SUCCESS, V_FAILURE, V_INVALID_USER, V_TRUE,
       V_FALSE, V_DROP, V_REJECT, V_ACCEPT, V_LOG, V_EMPTY, W_C_IP, W_SC_STATUS, W_CS_METHOD, W_CS_VERSION,
       W_C_URI, W_CS_URI_QUERY, W_CS_URI, W_CS_URI_STEM, W_CS_URI_DECODED, W_C_URI_QUERY, W_CS_QUERY,
       W_C_URI_EXTENSION, W_CS_USERNAME, W_SC_BYTES, W_CS_USER_AGENT, W_C_USERAGENT, W_CS_REFERER,
       A_TYPE, A_SERIAL, A_ACCT, A_UID, A_RES, A_SUCCESS, A_ADDR, A_ARGC, A_USER, V_ROOT, V_PREAUTH_CLOSED, V_CLOSED,
       V_DISCONNECTED, V_DISCONNECT, V_RESET, V_UNKNOWN, V_KEY_FOUND, V_MAX_ATTEMPTS, V_SESSION_START,
       V_NEGOTIATION_FAILED, V_CONNECTION, V_CONNECTION_ERROR, V_NO_IDENT, V_BAD_PROTOCOL, V_TIMEOUT,
       V_NOT_ALLOWED, V_POSTPONED, V_PARTIAL, V_CHILD, V_OTHER, V_DISCONNECTING, K_KEY_TYPE,
       K_KEY_FINGERPRINT, K_KEY_FILE, K_REASON, A_TEXT0, N_NAMES = A_TEXT0 + 12 };
static const char *const NAMES[N_NAMES] = {
    "event_type", "outcome", "message", "user", "user_domain", "src_ip", "src_host", "src_port",
    "auth_method", "invalid_user", "program", "pid", "dst_ip", "network_protocol", "action",
    "blocked", "log_prefix", "in_interface", "out_interface", "dst_port", "length", "ttl",
    "udp_length", "source.bytes", "tcp_flags", "success", "failure", "invalid_user", "true",
    "false", "drop", "reject", "accept", "log", "", "c-ip", "sc-status", "cs-method", "cs-version",
    "c-uri", "cs-uri-query", "cs-uri", "cs-uri-stem", "cs-uri-decoded", "c-uri-query", "cs-query",
    "c-uri-extension", "cs-username", "sc-bytes", "cs-user-agent", "c-useragent", "cs-referer",
    "type", "serial", "acct", "uid", "res", "success", "addr", "argc", "User", "root",
    "preauth_closed", "closed", "disconnected", "disconnect", "reset", "unknown", "key_found", "max_attempts",
    "session_start", "negotiation_failed", "connection", "connection_error", "no_ident", "bad_protocol", "timeout",
    "not_allowed", "postponed", "partial", "child", "other", "disconnecting", "key_type", "key_fingerprint",
    "key_file", "reason",
    /* auditd._TEXT_KEYS, in its order (A_TEXT0 + k) */
    "exe", "comm", "cmd", "proctitle", "name", "cwd", "acct", "data", "old-data", "path", "hostname", "terminal"};
#define N_ARG_KEYS 64
static PyObject *ARG_KEYS[N_ARG_KEYS]; /* "a0".."a63", interned at import */
static PyObject *STR[N_NAMES]; /* interned at import */

/* d[STR[key]] = v (v consumed; NULL: its error is set). 0, or -1 with an error set. */
static int put(PyObject *d, int key, PyObject *v) {
    if (v == NULL) return -1;
    int rc = PyDict_SetItem(d, STR[key], v);
    Py_DECREF(v);
    return rc;
}

static int put_const(PyObject *d, int key, int value) { return PyDict_SetItem(d, STR[key], STR[value]); }


static int put_sub(PyObject *d, int key, const char *s, Py_ssize_t a, Py_ssize_t b) {
    return put(d, key, ascii_sub(s, a, b));
}

static inline int is_digit(char c) { return c >= '0' && c <= '9'; }

/* A run of ASCII digits as an int, as base.digits() gives it: None past 18 digits. */
static PyObject *digits_value(const char *s, Py_ssize_t a, Py_ssize_t b) {
    if (b - a > 18) Py_RETURN_NONE;
    long long v = 0;
    for (Py_ssize_t k = a; k < b; k++) v = v * 10 + (s[k] - '0');
    return PyLong_FromLongLong(v);
}

static Py_ssize_t find_from(const char *s, Py_ssize_t n, Py_ssize_t from, const char *what, Py_ssize_t wn) {
    if (from < 0 || from > n - wn) return -1;
    for (const char *p = s + from, *end = s + n - wn; p <= end; p++) {
        p = memchr(p, what[0], (size_t)(end - p + 1));
        if (p == NULL) return -1;
        if (memcmp(p, what, (size_t)wn) == 0) return p - s;
    }
    return -1;
}

/* `what in s[0:n]` (glibc's memmem costs more than the search itself on these short needles) */
static inline int has(const char *s, Py_ssize_t n, const char *what) {
    Py_ssize_t wn = (Py_ssize_t)strlen(what);
    for (const char *p = s, *end = s + n - wn; p <= end; p++) {
        p = memchr(p, what[0], (size_t)(end - p + 1));
        if (p == NULL) return 0;
        if (memcmp(p, what, (size_t)wn) == 0) return 1;
    }
    return 0;
}

/* sshd's `(?P<ip>[\w.:%-]+)(?: port (?P<port>\d+))?` then one of the alternatives `alts`
 * (1: ` ssh\d?`, 2: `$`, 4: `:`, 8: ` \[`, 16: `: `, 32: anything, the pattern's end) at s[j:n].
 * Each quantifier is decided by one scan: a shorter ip or port ends before a character of its own
 * class, which ` ssh`, `$`, ` [` and a space refuse, and without the port group the text goes on
 * with ` port`, which they refuse too. Only `:` and `: ` can match inside a shorter ip (an IPv6
 * address or `IP:` cut at one of its colons): re then takes the last such colon, and so does this.
 * 1: matched (ip [j, *ip1), port [*p0, *p1) or *p0 = -1); 0: no match at j. */
static int ipblock(const char *s, Py_ssize_t n, Py_ssize_t j, int alts, Py_ssize_t *ip1, Py_ssize_t *p0,
                   Py_ssize_t *p1) {
    Py_ssize_t i = j;
    while (i < n && (is_word((unsigned char)s[i]) || s[i] == '.' || s[i] == ':' || s[i] == '%' || s[i] == '-')) i++;
    if (i == j) return 0;
    *ip1 = i;
    *p0 = -1;
#define ALT_OK(k) (((alts & 1) && n - (k) >= 4 && memcmp(s + (k), " ssh", 4) == 0) || ((alts & 2) && (k) == n) || \
                   ((alts & 4) && (k) < n && s[k] == ':') || ((alts & 8) && n - (k) >= 2 && memcmp(s + (k), " [", 2) == 0) || \
                   ((alts & 16) && n - (k) >= 2 && memcmp(s + (k), ": ", 2) == 0) || (alts & 32))
    if (n - i > 6 && memcmp(s + i, " port ", 6) == 0 && is_digit(s[i + 6])) {
        Py_ssize_t d = i + 6;
        while (d < n && is_digit(s[d])) d++;
        if (ALT_OK(d)) {
            *p0 = i + 6;
            *p1 = d;
            return 1;
        }
    } else if (ALT_OK(i)) {
        return 1;
    }
    if (alts & (4 | 16)) { /* a shorter ip: the port group needs a space there, the alternative a `:` */
        for (Py_ssize_t k = i - 1; k > j; k--)
            if (s[k] == ':' && ALT_OK(k)) {
                *ip1 = k;
                return 1;
            }
    }
#undef ALT_OK
    return 0;
}

/* One sshd event's parts as ranges of the message m (a start < 0: no such group). */
typedef struct {
    Py_ssize_t u0, u1, ip0, ip1, p0, p1, d0, d1, dp0, dp1, m0, m1, kt0, kt1, kk0, kk1, kf0, kf1, r0, r1;
    int invalid, child;
} sshd_ev;

static void ev_init(sshd_ev *e) {
    memset(e, 0xff, sizeof(*e)); /* every range -1 */
    e->invalid = e->child = 0;
}

/* [a, b) without the spaces at either end (str.strip() of printable ASCII) */
static void strip_range(const char *m, Py_ssize_t *a, Py_ssize_t *b) {
    while (*a < *b && m[*a] == ' ') (*a)++;
    while (*b > *a && m[*b - 1] == ' ') (*b)--;
}

/* parse_sshd's fields of a matched form, in its order: event_type (et, consumed), outcome, message,
 * user (not "*****"; `u@d` split into user and user_domain; "child" for that form), src_ip
 * (`::ffff:` dropped from a mapped IPv4) or src_host, src_port, dst_ip and dst_port, auth_method,
 * invalid_user, key_type, key_fingerprint and key_file (stripped), reason (stripped, when the group
 * is not empty). An empty user is not set. The dict, or NULL with an error set. */
static PyObject *sshd_emit(PyObject *line, Py_ssize_t off, Py_ssize_t n, PyObject *et, int outcome,
                           const sshd_ev *e) {
    const char *m = (const char *)PyUnicode_DATA(line) + off;
    PyObject *f = et == NULL ? NULL : fields_dict(10);
    if (f == NULL) {
        Py_XDECREF(et);
        return NULL;
    }
    if (put(f, K_EVENT_TYPE, et) < 0) goto fail;
    if (put_const(f, K_OUTCOME, outcome) < 0) goto fail;
    if (put(f, K_MESSAGE, PyUnicode_Substring(line, off, n)) < 0) goto fail;
    Py_ssize_t u0 = e->u0, u1 = e->u1, ip0 = e->ip0, ip1 = e->ip1;
    if (u0 >= 0 && u1 > u0 && !(u1 - u0 == 5 && memcmp(m + u0, "*****", 5) == 0)) {
        const char *at = memchr(m + u0, '@', (size_t)(u1 - u0));
        if (at != NULL && at != m + u0) { /* user@domain */
            Py_ssize_t ai = at - m;
            if (put_sub(f, K_USER, m, u0, ai) < 0) goto fail;
            if (ai + 1 < u1 && put_sub(f, K_USER_DOMAIN, m, ai + 1, u1) < 0) goto fail;
        } else if (put_sub(f, K_USER, m, u0, u1) < 0) {
            goto fail;
        }
    } else if (e->child && put_const(f, K_USER, V_CHILD) < 0) {
        goto fail;
    }
    if (ip0 >= 0) { /* an address (a `:` in it, or digits and dots ending with a digit) or a host name */
        int colon = memchr(m + ip0, ':', (size_t)(ip1 - ip0)) != NULL, numeric = is_digit(m[ip1 - 1]);
        for (Py_ssize_t k = ip0; numeric && k < ip1; k++)
            if (!is_digit(m[k]) && m[k] != '.') numeric = 0;
        if (colon || numeric) {
            Py_ssize_t a = ip0;
            if (ip1 - ip0 >= 7 && memcmp(m + ip0, "::ffff:", 7) == 0 && memchr(m + ip0, '.', (size_t)(ip1 - ip0)))
                a += 7;
            if (put_sub(f, K_SRC_IP, m, a, ip1) < 0) goto fail;
        } else if (put_sub(f, K_SRC_HOST, m, ip0, ip1) < 0) {
            goto fail;
        }
    }
    if (e->p0 >= 0 && put(f, K_SRC_PORT, digits_value(m, e->p0, e->p1)) < 0) goto fail;
    if (e->d0 >= 0) {
        if (put_sub(f, K_DST_IP, m, e->d0, e->d1) < 0) goto fail;
        if (put(f, K_DST_PORT, digits_value(m, e->dp0, e->dp1)) < 0) goto fail;
    }
    if (e->m0 >= 0 && put_sub(f, K_AUTH_METHOD, m, e->m0, e->m1) < 0) goto fail;
    if (e->invalid && PyDict_SetItem(f, STR[K_INVALID_USER], Py_True) < 0) goto fail;
    if (e->kt0 >= 0) {
        Py_ssize_t a = e->kf0, b = e->kf1;
        strip_range(m, &a, &b);
        if (put_sub(f, K_KEY_TYPE, m, e->kt0, e->kt1) < 0 || put_sub(f, K_KEY_FINGERPRINT, m, e->kk0, e->kk1) < 0 ||
            put_sub(f, K_KEY_FILE, m, a, b) < 0)
            goto fail;
    }
    if (e->r0 >= 0 && e->r1 > e->r0) {
        Py_ssize_t a = e->r0, b = e->r1;
        strip_range(m, &a, &b);
        if (put_sub(f, K_REASON, m, a, b) < 0) goto fail;
    }
    return f;
fail:
    Py_DECREF(f);
    return NULL;
}

/* sshd_emit for the forms with at most a user, an address, a port, a method and `invalid` */
static PyObject *sshd_fields(PyObject *line, Py_ssize_t off, Py_ssize_t n, PyObject *et, int outcome,
                             Py_ssize_t u0, Py_ssize_t u1, Py_ssize_t ip0, Py_ssize_t ip1, Py_ssize_t p0,
                             Py_ssize_t p1, Py_ssize_t m0, Py_ssize_t m1, int invalid) {
    sshd_ev e;
    ev_init(&e);
    e.u0 = u0, e.u1 = u1, e.ip0 = ip0, e.ip1 = ip1, e.p0 = p0, e.p1 = p1, e.m0 = m0, e.m1 = m1, e.invalid = invalid;
    return sshd_emit(line, off, n, et, outcome, &e);
}

/* the end of sshd's `[\w.:%-]+` run from j (j itself: no address there) */
static Py_ssize_t ip_run(const char *m, Py_ssize_t len, Py_ssize_t j) {
    while (j < len && (is_word((unsigned char)m[j]) || m[j] == '.' || m[j] == ':' || m[j] == '%' || m[j] == '-')) j++;
    return j;
}

/* `(?: port (?P<port>\d+))?` at i, greedy: 1 with the digits [*p0, *p1), else 0 (*p0 = -1) */
static int port_at(const char *m, Py_ssize_t len, Py_ssize_t i, Py_ssize_t *p0, Py_ssize_t *p1) {
    *p0 = -1;
    if (len - i > 6 && memcmp(m + i, " port ", 6) == 0 && is_digit(m[i + 6])) {
        Py_ssize_t d = i + 6;
        while (d < len && is_digit(m[d])) d++;
        *p0 = i + 6;
        *p1 = d;
        return 1;
    }
    return 0;
}

/* `(?P<ip>[\w.:%-]+)(?: port (?P<port>\d+))?(?: \[preauth\])?$` at j (a body without trailing
 * whitespace, so `\s*$` is `$`). Decided by one reading: a shorter address or port leaves a
 * character of its class next, which ` port`, ` [preauth]` and the end all refuse, and without
 * the port the text goes on with ` port`. 1: matched (ip [j, *ip1), the port or *p0 = -1). */
static int ip_to_end(const char *m, Py_ssize_t len, Py_ssize_t j, Py_ssize_t *ip1, Py_ssize_t *p0, Py_ssize_t *p1) {
    Py_ssize_t i = ip_run(m, len, j);
    if (i == j) return 0;
    *ip1 = i;
#define AT_END(k) ((k) == len || (len - (k) == 10 && memcmp(m + (k), " [preauth]", 10) == 0))
    if (port_at(m, len, i, p0, p1) && AT_END(*p1)) return 1;
    *p0 = -1;
    return AT_END(i);
#undef AT_END
}

/* `(?:(?P<invalid>invalid|illegal) |authenticating )?user ` at i: its length (*invalid set), 0 */
static Py_ssize_t sshd_kind(const char *m, Py_ssize_t len, Py_ssize_t i, int *invalid) {
    *invalid = 0;
    if (len - i >= 13 && (memcmp(m + i, "invalid user ", 13) == 0 || memcmp(m + i, "illegal user ", 13) == 0)) {
        *invalid = 1;
        return 13;
    }
    if (len - i >= 20 && memcmp(m + i, "authenticating user ", 20) == 0) return 20;
    if (len - i >= 5 && memcmp(m + i, "user ", 5) == 0) return 5;
    return 0;
}

static PyObject *sshd_other(PyObject *line, Py_ssize_t off, Py_ssize_t n);

/* parse_sshd for the session-end forms, the first of their word's patterns that matches:
 *   Connection closed by KIND (?:(?P<user>\S+) )?? IP PORT (?: \[preauth\])?$   preauth_closed
 *   Connection closed by IP PORT (?: \[preauth\])?\s*$                          closed
 *   Disconnected from KIND USER IP PORT (unanchored)                              disconnected
 *   Disconnected from IP PORT (?: \[preauth\])?\s*$                               disconnected
 *   Received disconnect from IP PORT:                                             disconnect
 *   Connection reset by (?:KIND USER )?IP PORT (unanchored)                       reset
 * (KIND: sshd_kind's; USER `\S*`). Each reading is decided by one walk (see ip_to_end, ipblock),
 * and these are all their words' patterns: a body none of them reads is `other` (sshd_other).
 * Returns the fields dict, None (not these words), or NULL with an error set. */
static PyObject *sshd_ends(PyObject *line, const char *m, Py_ssize_t off, Py_ssize_t n) {
    Py_ssize_t len = n - off, ip1 = -1, p0 = -1, p1 = -1, u0 = -1, u1 = -1, j;
    int invalid = 0;
    if (len > 21 && memcmp(m, "Connection closed by ", 21) == 0) {
        j = 21;
        Py_ssize_t kl = sshd_kind(m, len, j, &invalid);
        if (kl > 0) {
            Py_ssize_t a = j + kl;
            if (ip_to_end(m, len, a, &ip1, &p0, &p1)) /* (the lazy user: without it first) */
                return sshd_fields(line, off, n, Py_NewRef(STR[V_PREAUTH_CLOSED]), V_FAILURE, -1, -1, a, ip1, p0, p1,
                                   -1, -1, invalid);
            Py_ssize_t e = a;
            while (e < len && m[e] != ' ') e++;
            if (e > a && e < len && ip_to_end(m, len, e + 1, &ip1, &p0, &p1))
                return sshd_fields(line, off, n, Py_NewRef(STR[V_PREAUTH_CLOSED]), V_FAILURE, a, e, e + 1, ip1, p0,
                                   p1, -1, -1, invalid);
        }
        if (ip_to_end(m, len, j, &ip1, &p0, &p1))
            return sshd_fields(line, off, n, Py_NewRef(STR[V_CLOSED]), V_UNKNOWN, -1, -1, j, ip1, p0, p1, -1, -1, 0);
        return sshd_other(line, off, n);
    }
    if (len > 18 && memcmp(m, "Disconnected from ", 18) == 0) {
        j = 18;
        Py_ssize_t kl = sshd_kind(m, len, j, &invalid);
        if (kl > 0) {
            u0 = j + kl;
            u1 = u0;
            while (u1 < len && m[u1] != ' ') u1++;
            if (u1 < len) {
                ip1 = ip_run(m, len, u1 + 1);
                if (ip1 > u1 + 1) {
                    port_at(m, len, ip1, &p0, &p1);
                    return sshd_fields(line, off, n, Py_NewRef(STR[V_DISCONNECTED]), V_UNKNOWN, u0, u1, u1 + 1, ip1,
                                       p0, p1, -1, -1, invalid);
                }
            }
        }
        if (ip_to_end(m, len, j, &ip1, &p0, &p1))
            return sshd_fields(line, off, n, Py_NewRef(STR[V_DISCONNECTED]), V_UNKNOWN, -1, -1, j, ip1, p0, p1, -1,
                               -1, 0);
        return sshd_other(line, off, n);
    }
    if (len > 25 && memcmp(m, "Received disconnect from ", 25) == 0) {
        j = 25;
        if (ipblock(m, len, j, 4, &ip1, &p0, &p1) != 1) return sshd_other(line, off, n);
        return sshd_fields(line, off, n, Py_NewRef(STR[V_DISCONNECT]), V_UNKNOWN, -1, -1, j, ip1, p0, p1, -1, -1, 0);
    }
    if (len > 20 && memcmp(m, "Connection reset by ", 20) == 0) {
        j = 20;
        Py_ssize_t kl = sshd_kind(m, len, j, &invalid);
        if (kl > 0) { /* the group, or without it: a KIND whose user and address do not follow */
            u0 = j + kl;
            u1 = u0;
            while (u1 < len && m[u1] != ' ') u1++;
            if (u1 < len && (ip1 = ip_run(m, len, u1 + 1)) > u1 + 1) {
                j = u1 + 1;
            } else {
                u0 = u1 = -1;
                invalid = 0;
            }
        }
        if (u0 < 0) {
            ip1 = ip_run(m, len, j);
            if (ip1 == j) return sshd_other(line, off, n);
        }
        port_at(m, len, ip1, &p0, &p1);
        return sshd_fields(line, off, n, Py_NewRef(STR[V_RESET]), V_UNKNOWN, u0, u1, j, ip1, p0, p1, -1, -1, invalid);
    }
    Py_RETURN_NONE;
}

/* sshd.parse_sshd for the forms `Accepted M for U from IP[ port N]`, `Failed M for [invalid
 * user ]U from IP[ port N]` and `Invalid|Illegal user U from IP[ port N]` (the first pattern of
 * their first word, whose match decides the event), and sshd_ends' session-end forms: the fields
 * dict, or None. */
static PyObject *sshd_accepted_more(PyObject *line, const char *m, Py_ssize_t off, Py_ssize_t n);
static PyObject *method_et(const char *m, Py_ssize_t m0, Py_ssize_t m1, const char *pre);

static PyObject *sshd_classic(PyObject *line, const char *s, Py_ssize_t off, Py_ssize_t n) {
    Py_ssize_t len = n - off;
    const char *m = s + off;
    enum { ACC, FAIL, INV } form;
    Py_ssize_t i, m0 = -1, m1 = -1, u0, u1 = -1, ip0 = -1, ip1 = -1, p0 = -1, p1 = -1;
    int invalid = 0;
    if (len > 9 && memcmp(m, "Accepted ", 9) == 0) {
        form = ACC;
        i = 9;
    } else if (len > 7 && memcmp(m, "Failed ", 7) == 0) {
        form = FAIL;
        i = 7;
    } else if (len > 13 && (memcmp(m, "Invalid user ", 13) == 0 || memcmp(m, "Illegal user ", 13) == 0)) {
        form = INV;
        i = 13;
    } else {
        return sshd_ends(line, m, off, n);
    }
    if (form != INV) { /* (?P<method>\S+) for */
        m0 = i;
        while (i < len && m[i] != ' ') i++;
        m1 = i;
        if (m1 == m0 || len - i < 5 || memcmp(m + i, " for ", 5) != 0)
            return form == ACC ? sshd_accepted_more(line, m, off, n) : (Py_INCREF(Py_None), Py_None);
        i += 5;
    }
    if (form == ACC) { /* (?P<user>\S*) from IP PORT (?: ssh\d?|$|:) */
        u0 = i;
        while (i < len && m[i] != ' ') i++;
        u1 = i;
        if (len - i < 6 || memcmp(m + i, " from ", 6) != 0) return sshd_accepted_more(line, m, off, n);
        ip0 = i + 6;
        if (ipblock(m, len, ip0, 1 | 2 | 4, &ip1, &p0, &p1) != 1) return sshd_accepted_more(line, m, off, n);
    } else { /* (?P<user>.*?) from IP PORT then (?: ssh\d?|$) (Failed) or \s*$ (Invalid) */
        if (form == FAIL && len - i >= 13 &&
            (memcmp(m + i, "invalid user ", 13) == 0 || memcmp(m + i, "illegal user ", 13) == 0)) {
            invalid = 1;
            i += 13;
        }
        u0 = i;
        for (Py_ssize_t q = find_from(m, len, u0, " from ", 6); q >= 0; q = find_from(m, len, q + 1, " from ", 6)) {
            int r = ipblock(m, len, q + 6, form == FAIL ? 1 | 2 : 2, &ip1, &p0, &p1);
            if (r < 0) Py_RETURN_NONE;
            if (r == 1) {
                u1 = q;
                ip0 = q + 6;
                break;
            }
        }
        if (u1 < 0) Py_RETURN_NONE; /* (with `invalid user ` taken, re would retry without it) */
        if (form == INV) invalid = 1;
    }
    /* event_type: the kind, or `accepted_`/`failed_` + the method's part before `/`, `-` -> `_` */
    PyObject *et;
    if (form == INV) {
        et = Py_NewRef(STR[V_INVALID_USER]);
    } else {
        et = method_et(m, m0, m1, form == ACC ? "accepted_" : "failed_");
        if (et == NULL) return NULL;
    }
    return sshd_fields(line, off, n, et, form == ACC ? V_SUCCESS : V_FAILURE, u0, u1, ip0, ip1, p0, p1,
                       form != INV ? m0 : -1, m1, invalid);
}

/* event_type `accepted_`/`failed_` + the method's part before `/`, `-` -> `_` (NULL: error set) */
static PyObject *method_et(const char *m, Py_ssize_t m0, Py_ssize_t m1, const char *pre) {
    Py_ssize_t me = m0;
    while (me < m1 && m[me] != '/') me++;
    Py_ssize_t pn = (Py_ssize_t)strlen(pre);
    char *buf = PyMem_Malloc((size_t)(pn + me - m0 + 1));
    if (buf == NULL) return PyErr_NoMemory();
    memcpy(buf, pre, (size_t)pn);
    for (Py_ssize_t k = m0; k < me; k++) buf[pn + k - m0] = m[k] == '-' ? '_' : m[k];
    PyObject *et = ascii_sub(buf, 0, pn + me - m0);
    PyMem_Free(buf);
    return et;
}

/* the end of the run of non-spaces from i */
static Py_ssize_t tok_end(const char *m, Py_ssize_t len, Py_ssize_t i) {
    while (i < len && m[i] != ' ') i++;
    return i;
}

/* the index past `lit` when m[i:] starts with it, else -1 */
static Py_ssize_t lit_at(const char *m, Py_ssize_t len, Py_ssize_t i, const char *lit) {
    Py_ssize_t ln = (Py_ssize_t)strlen(lit);
    return (i >= 0 && len - i >= ln && memcmp(m + i, lit, (size_t)ln) == 0) ? i + ln : -1;
}

/* parse_sshd's answer when no pattern of the word matches: {event_type: other, message} */
static PyObject *sshd_other(PyObject *line, Py_ssize_t off, Py_ssize_t n) {
    PyObject *f = fields_dict(2);
    if (f == NULL) return NULL;
    if (put_const(f, K_EVENT_TYPE, V_OTHER) < 0 || put(f, K_MESSAGE, PyUnicode_Substring(line, off, n)) < 0) {
        Py_DECREF(f);
        return NULL;
    }
    return f;
}

/* `Accepted` past its first pattern: `Accepted (\S+) for (\S*)\s*$`, then `Accepted key (\S+)
 * (\S+) found at (.*)`, else `other` (each decided: the tokens end at a space) */
static PyObject *sshd_accepted_more(PyObject *line, const char *m, Py_ssize_t off, Py_ssize_t n) {
    Py_ssize_t len = n - off, m1 = tok_end(m, len, 9), u0 = lit_at(m, len, m1, " for ");
    if (m1 > 9 && u0 >= 0 && tok_end(m, len, u0) == len) {
        PyObject *et = method_et(m, 9, m1, "accepted_");
        if (et == NULL) return NULL;
        return sshd_fields(line, off, n, et, V_SUCCESS, u0, len, -1, -1, -1, -1, 9, m1, 0);
    }
    sshd_ev e;
    ev_init(&e);
    e.kt0 = lit_at(m, len, 0, "Accepted key ");
    if (e.kt0 >= 0) {
        e.kt1 = tok_end(m, len, e.kt0);
        e.kk0 = e.kt1 + 1;
        e.kk1 = tok_end(m, len, e.kk0);
        e.kf0 = lit_at(m, len, e.kk1, " found at ");
        e.kf1 = len;
        if (e.kt1 > e.kt0 && e.kt1 < len && e.kk1 > e.kk0 && e.kf0 >= 0)
            return sshd_emit(line, off, n, Py_NewRef(STR[V_KEY_FOUND]), V_UNKNOWN, &e);
    }
    return sshd_other(line, off, n);
}

/* parse_sshd's first words (its _BY_WORD keys): the `word:` prefixes it does not skip */
static const char *const SSHD_WORDS[] = {"Accepted", "Address", "Bad", "Connection", "Did", "Disconnected",
                                         "Disconnecting", "Failed", "Illegal", "Invalid", "PAM", "Partial",
                                         "Postponed", "Received", "Starting", "Timeout", "Unable", "User",
                                         "input_userauth_request", "maximum", "reverse", NULL};

static int sshd_word(const char *w, Py_ssize_t wn) {
    for (const char *const *k = SSHD_WORDS; *k != NULL; k++)
        if ((Py_ssize_t)strlen(*k) == wn && memcmp(*k, w, (size_t)wn) == 0) return 1;
    return 0;
}

/* `(?P<method>\S+) for (?P<user>\S*) from IP PORT` at i (Partial, Postponed), unanchored */
static int method_for_from(const char *m, Py_ssize_t len, Py_ssize_t i, sshd_ev *e) {
    e->m0 = i;
    e->m1 = tok_end(m, len, i);
    e->u0 = lit_at(m, len, e->m1, " for ");
    if (e->m1 == i || e->u0 < 0) return 0;
    e->u1 = tok_end(m, len, e->u0);
    e->ip0 = lit_at(m, len, e->u1, " from ");
    return e->ip0 >= 0 && ipblock(m, len, e->ip0, 32, &e->ip1, &e->p0, &e->p1);
}

/* The forms of parse_sshd's words other than the classic ones (sshd_classic), at b (past
 * `error: `, `fatal: ` and the `word:` prefixes parse_sshd skips): the fields, `other` where
 * every pattern of the word is walked here and none matches, or None (Python decides). */
static PyObject *sshd_more(PyObject *line, const char *m, Py_ssize_t off, Py_ssize_t n, Py_ssize_t b) {
    Py_ssize_t len = n - off, i, k;
    sshd_ev e;
    ev_init(&e);
    if ((i = lit_at(m, len, b, "maximum authentication attempts exceeded for ")) >= 0) {
        if ((k = lit_at(m, len, i, "invalid user ")) >= 0 || (k = lit_at(m, len, i, "illegal user ")) >= 0) {
            e.invalid = 1;
            i = k;
        }
        e.u0 = i;
        e.u1 = tok_end(m, len, i);
        e.ip0 = lit_at(m, len, e.u1, " from ");
        if (e.ip0 >= 0 && ipblock(m, len, e.ip0, 1 | 2 | 8, &e.ip1, &e.p0, &e.p1))
            return sshd_emit(line, off, n, Py_NewRef(STR[V_MAX_ATTEMPTS]), V_FAILURE, &e);
        return sshd_other(line, off, n);
    }
    if ((i = lit_at(m, len, b, "Starting session: ")) >= 0) { /* `.* for (\S*) from IP PORT`: the last ` for ` */
        for (Py_ssize_t q = len - 5; q >= i; q--) {
            if (memcmp(m + q, " for ", 5) != 0) continue;
            e.u0 = q + 5;
            e.u1 = tok_end(m, len, e.u0);
            e.ip0 = lit_at(m, len, e.u1, " from ");
            if (e.ip0 >= 0 && ipblock(m, len, e.ip0, 32, &e.ip1, &e.p0, &e.p1))
                return sshd_emit(line, off, n, Py_NewRef(STR[V_SESSION_START]), V_SUCCESS, &e);
        }
        return sshd_other(line, off, n);
    }
    if ((e.ip0 = lit_at(m, len, b, "Unable to negotiate with ")) >= 0) {
        if (ipblock(m, len, e.ip0, 4, &e.ip1, &e.p0, &e.p1))
            return sshd_emit(line, off, n, Py_NewRef(STR[V_NEGOTIATION_FAILED]), V_FAILURE, &e);
        return sshd_other(line, off, n);
    }
    if ((e.ip0 = lit_at(m, len, b, "Did not receive identification string from ")) >= 0) {
        if (ipblock(m, len, e.ip0, 32, &e.ip1, &e.p0, &e.p1))
            return sshd_emit(line, off, n, Py_NewRef(STR[V_NO_IDENT]), V_FAILURE, &e);
        return sshd_other(line, off, n);
    }
    if ((e.ip0 = lit_at(m, len, b, "Timeout before authentication for ")) >= 0) {
        if ((k = lit_at(m, len, e.ip0, "connection from ")) >= 0 && ipblock(m, len, k, 32, &e.ip1, &e.p0, &e.p1)) {
            e.ip0 = k;
            return sshd_emit(line, off, n, Py_NewRef(STR[V_TIMEOUT]), V_FAILURE, &e);
        }
        if (ipblock(m, len, e.ip0, 32, &e.ip1, &e.p0, &e.p1))
            return sshd_emit(line, off, n, Py_NewRef(STR[V_TIMEOUT]), V_FAILURE, &e);
        return sshd_other(line, off, n);
    }
    if ((i = lit_at(m, len, b, "Bad protocol version identification ")) >= 0) {
        for (Py_ssize_t q = len - 6; q >= i; q--) { /* `.* from IP PORT\s*$`: the last ` from ` that reads */
            if (memcmp(m + q, " from ", 6) != 0) continue;
            e.ip0 = q + 6;
            e.ip1 = ip_run(m, len, e.ip0);
            if (e.ip1 == e.ip0) continue;
            if (!(port_at(m, len, e.ip1, &e.p0, &e.p1) && e.p1 == len)) e.p0 = -1;
            if (e.p0 >= 0 || e.ip1 == len)
                return sshd_emit(line, off, n, Py_NewRef(STR[V_BAD_PROTOCOL]), V_FAILURE, &e);
        }
        return sshd_other(line, off, n);
    }
    if ((i = lit_at(m, len, b, "Postponed ")) >= 0 || (k = lit_at(m, len, b, "Partial ")) >= 0) {
        int postponed = i >= 0;
        if (method_for_from(m, len, postponed ? i : k, &e))
            return sshd_emit(line, off, n, Py_NewRef(STR[postponed ? V_POSTPONED : V_PARTIAL]), V_UNKNOWN, &e);
        return sshd_other(line, off, n);
    }
    if ((i = lit_at(m, len, b, "input_userauth_request: ")) >= 0) {
        if ((e.u0 = lit_at(m, len, i, "invalid user ")) >= 0 || (e.u0 = lit_at(m, len, i, "illegal user ")) >= 0) {
            e.u1 = tok_end(m, len, e.u0);
            e.invalid = 1;
            return sshd_emit(line, off, n, Py_NewRef(STR[V_INVALID_USER]), V_FAILURE, &e);
        }
        return sshd_other(line, off, n);
    }
    if ((i = lit_at(m, len, b, "User ")) >= 0) {
        e.u0 = i;
        e.u1 = tok_end(m, len, i);
        e.ip0 = lit_at(m, len, e.u1, " from ");
        if (e.ip0 >= 0 && (e.ip1 = ip_run(m, len, e.ip0)) > e.ip0 &&
            lit_at(m, len, e.ip1, " not allowed because") >= 0)
            return sshd_emit(line, off, n, Py_NewRef(STR[V_NOT_ALLOWED]), V_FAILURE, &e);
        e.ip0 = -1;
        if (e.u1 > e.u0 && lit_at(m, len, e.u1, " not allowed because") >= 0)
            return sshd_emit(line, off, n, Py_NewRef(STR[V_NOT_ALLOWED]), V_FAILURE, &e);
        if ((k = lit_at(m, len, b, "User child is on pid ")) >= 0 && k < len && is_digit(m[k])) {
            ev_init(&e);
            e.child = 1;
            return sshd_emit(line, off, n, Py_NewRef(STR[V_CHILD]), V_UNKNOWN, &e);
        }
        return sshd_other(line, off, n);
    }
    if ((e.ip0 = lit_at(m, len, b, "Connection from ")) >= 0) {
        /* ` on (?P<dst>[0-9A-Fa-f:.]*[0-9A-Fa-f](?:%\w+)?) port (?P<dport>\d+)`: a shorter address
         * run leaves a character of its class, which ` port` and `%` refuse */
        if (ipblock(m, len, e.ip0, 32, &e.ip1, &e.p0, &e.p1)) {
            Py_ssize_t d0 = lit_at(m, len, e.p0 >= 0 ? e.p1 : e.ip1, " on "), d = d0;
            while (d >= 0 && d < len && (is_digit(m[d]) || (m[d] >= 'a' && m[d] <= 'f') || (m[d] >= 'A' && m[d] <= 'F') ||
                                         m[d] == ':' || m[d] == '.'))
                d++;
            if (d0 >= 0 && d > d0 && m[d - 1] != ':' && m[d - 1] != '.') {
                Py_ssize_t d1 = d;
                if (d1 < len && m[d1] == '%') {
                    Py_ssize_t w = d1 + 1;
                    while (w < len && is_word((unsigned char)m[w])) w++;
                    d1 = w > d1 + 1 ? w : -1;
                }
                Py_ssize_t q = d1 >= 0 ? lit_at(m, len, d1, " port ") : -1;
                if (q >= 0 && q < len && is_digit(m[q])) {
                    e.d0 = d0, e.d1 = d1, e.dp0 = q, e.dp1 = q;
                    while (e.dp1 < len && is_digit(m[e.dp1])) e.dp1++;
                    return sshd_emit(line, off, n, Py_NewRef(STR[V_CONNECTION]), V_UNKNOWN, &e);
                }
            }
        }
        if (ipblock(m, len, e.ip0, 16, &e.ip1, &e.p0, &e.p1)) {
            e.r0 = (e.p0 >= 0 ? e.p1 : e.ip1) + 2;
            e.r1 = len;
            return sshd_emit(line, off, n, Py_NewRef(STR[V_CONNECTION_ERROR]), V_FAILURE, &e);
        }
        return sshd_other(line, off, n); /* (its closed/reset patterns need other words) */
    }
    if ((i = lit_at(m, len, b, "Disconnecting ")) >= 0) {
        if ((k = lit_at(m, len, i, "invalid ")) >= 0 || (k = lit_at(m, len, i, "illegal ")) >= 0) {
            e.invalid = 1;
        } else {
            k = lit_at(m, len, i, "authenticating ");
        }
        if (k >= 0 && lit_at(m, len, k, "user ") < 0) { /* re retries without the optional group */
            e.invalid = 0;
            k = -1;
        }
        e.u0 = lit_at(m, len, k >= 0 ? k : i, "user ");
        if (e.u0 >= 0) {
            e.u1 = tok_end(m, len, e.u0);
            e.ip0 = e.u1 < len ? e.u1 + 1 : -1;
            if (e.ip0 >= 0 && ipblock(m, len, e.ip0, 16, &e.ip1, &e.p0, &e.p1)) {
                e.r0 = (e.p0 >= 0 ? e.p1 : e.ip1) + 2;
                e.r1 = e.r0;
                while (e.r1 < len && m[e.r1] != '[') e.r1++;
                return sshd_emit(line, off, n, Py_NewRef(STR[V_DISCONNECTING]), V_FAILURE, &e);
            }
        }
        return sshd_other(line, off, n);
    }
    Py_RETURN_NONE;
}

/* sshd.parse_sshd in C for the forms walked here (sshd_classic, sshd_more) and for the bodies
 * whose first word (past the prefixes it skips) has no pattern: the fields dict, or None. */
static PyObject *sshd_body(PyObject *line, const char *s, Py_ssize_t off, Py_ssize_t n) {
    Py_ssize_t len = n - off;
    const char *m = s + off;
#define LOWER(c) ((c) >= 'a' && (c) <= 'z')
    if (len < 2 || !(LOWER(m[0]) || (m[0] >= 'A' && m[0] <= 'Z')) || !(LOWER(m[0]) || LOWER(m[1])) ||
        m[len - 1] == ' ')
        Py_RETURN_NONE; /* msg[:2].isupper() (Junos' tags, `PAM `); or a body str.strip() would change */
#undef LOWER
    if (has(m, len < 40 ? len : 40, "pam_")) Py_RETURN_NONE; /* linux_auth's */
    Py_ssize_t b = (lit_at(m, len, 0, "error: ") >= 0 || lit_at(m, len, 0, "fatal: ") >= 0) ? 7 : 0, w;
    for (;;) { /* skip each `word:` whose word has no pattern */
        w = tok_end(m, len, b);
        if (!(w > b && m[w - 1] == ':' && !sshd_word(m + b, w - 1 - b))) break;
        b = w;
        while (b < len && m[b] == ' ') b++;
    }
    Py_ssize_t we = w;
    while (we > b && m[we - 1] == ':') we--; /* word.rstrip(":") */
    if (!sshd_word(m + b, we - b)) return sshd_other(line, off, n);
    if (lit_at(m, len, b, "Accepted ") >= 0 || lit_at(m, len, b, "Failed ") >= 0 ||
        lit_at(m, len, b, "Invalid user ") >= 0 || lit_at(m, len, b, "Illegal user ") >= 0 ||
        lit_at(m, len, b, "Connection closed by ") >= 0 || lit_at(m, len, b, "Disconnected from ") >= 0 ||
        lit_at(m, len, b, "Received disconnect from ") >= 0 || lit_at(m, len, b, "Connection reset by ") >= 0) {
        PyObject *f = sshd_classic(line, s, off + b, n); /* (its ranges and message: from the body) */
        if (b > 0 && f != NULL && f != Py_None && put(f, K_MESSAGE, PyUnicode_Substring(line, off, n)) < 0)
            Py_CLEAR(f);
        return f;
    }
    return sshd_more(line, m, off, n, b);
}

/* firewall.parse_netfilter for a body whose pairs split_pairs decides (mode 0: every token with
 * a `=` has an all-capitals key) and whose numbers (SPT, DPT, LEN, TTL) are plain runs of 1-18
 * digits (int() of anything else: the Python path). The pairs are not built: the walk keeps the
 * last value of each key the fields need (later keys win, as in the dict). */
enum { NF_SRC, NF_DST, NF_PROTO, NF_IN, NF_OUT, NF_SPT, NF_DPT, NF_LEN, NF_TTL, NF_N };
static const char *const NF_KEYS[NF_N] = {"SRC", "DST", "PROTO", "IN", "OUT", "SPT", "DPT", "LEN", "TTL"};
static const Py_ssize_t NF_LENS[NF_N] = {3, 3, 5, 2, 3, 3, 3, 3, 3};
static const char *const FLAGS[6] = {"SYN", "ACK", "FIN", "RST", "PSH", "URG"};

static PyObject *netfilter_body(PyObject *line, const char *s, Py_ssize_t off, Py_ssize_t n) {
    const char *m = s + off;
    Py_ssize_t len = n - off;
    if (!has(m, len, "IN=") || !has(m, len, "SRC=")) Py_RETURN_NONE;
    Py_ssize_t v0[NF_N], v1[NF_N];
    int present[6] = {0, 0, 0, 0, 0, 0}; /* ` FLAG ` in msg + " ": a token FLAG after a space */
    for (int k = 0; k < NF_N; k++) v0[k] = -1;
    for (Py_ssize_t i = 0; i < len;) { /* split_pairs(msg, 0)'s walk (printable ASCII: ' ' only) */
        while (i < len && m[i] == ' ') i++;
        if (i >= len) break;
        Py_ssize_t t0 = i;
        while (i < len && m[i] != ' ') i++;
        const char *eq = memchr(m + t0, '=', (size_t)(i - t0));
        if (eq == NULL) {
            if (i - t0 == 3 && t0 > 0) {
                for (int k = 0; k < 6; k++)
                    if (memcmp(m + t0, FLAGS[k], 3) == 0) present[k] = 1;
            }
            continue;
        }
        Py_ssize_t k1 = eq - m;
        if (k1 == t0) Py_RETURN_NONE;
        for (Py_ssize_t k = t0; k < k1; k++)
            if (m[k] < 'A' || m[k] > 'Z') Py_RETURN_NONE;
        for (int k = 0; k < NF_N; k++) {
            if (NF_LENS[k] == k1 - t0 && memcmp(m + t0, NF_KEYS[k], (size_t)(k1 - t0)) == 0) {
                v0[k] = k1 + 1;
                v1[k] = i;
                break;
            }
        }
    }
    for (int k = NF_SPT; k <= NF_TTL; k++) {
        if (v0[k] < 0) continue;
        if (v1[k] - v0[k] < 1 || v1[k] - v0[k] > 18) Py_RETURN_NONE;
        for (Py_ssize_t q = v0[k]; q < v1[k]; q++)
            if (!is_digit(m[q])) Py_RETURN_NONE;
    }
    /* _PREFIX: `^(?:\[\s*\d+\.\d+\]\s*)?(?P<prefix>.*?)\s*IN=`, then .strip() */
    Py_ssize_t start = 0;
    if (len > 0 && m[0] == '[') {
        Py_ssize_t i = 1, d;
        while (i < len && m[i] == ' ') i++;
        for (d = i; i < len && is_digit(m[i]); i++);
        if (i > d && i < len && m[i] == '.') {
            i++;
            for (d = i; i < len && is_digit(m[i]); i++);
            if (i > d && i < len && m[i] == ']') {
                i++;
                while (i < len && m[i] == ' ') i++;
                start = i;
            }
        }
    }
    Py_ssize_t idx = find_from(m, len, start, "IN=", 3);
    if (idx < 0) Py_RETURN_NONE; /* (cannot be: `IN=` is in the body and not in the brackets) */
    Py_ssize_t e = idx;
    while (e > start && m[e - 1] == ' ') e--;
    Py_ssize_t b = start;
    while (b < e && m[b] == ' ') b++;
    char up[256];
    Py_ssize_t pn = e - b;
    int action;
    if (pn >= (Py_ssize_t)sizeof up) Py_RETURN_NONE; /* a long prefix: Python reads it */
    for (Py_ssize_t k = 0; k < pn; k++) up[k] = (m[b + k] >= 'a' && m[b + k] <= 'z') ? m[b + k] - 32 : m[b + k];
    if (has(up, pn, "DROP") || has(up, pn, "REJECT") || has(up, pn, "DENY") || has(up, pn, "BLOCK"))
        action = has(up, pn, "REJECT") ? V_REJECT : V_DROP;
    else if (has(up, pn, "ACCEPT") || has(up, pn, "ALLOW"))
        action = V_ACCEPT;
    else
        action = V_LOG;
    PyObject *f = fields_dict(18);
    if (f == NULL) return NULL;
    PyObject *len_v = NULL;
#define PUT_KV(key, k)                                                                                \
    if ((v0[k] < 0 ? PyDict_SetItem(f, STR[key], STR[V_EMPTY]) : put_sub(f, key, m, v0[k], v1[k])) < 0) \
        goto fail;
    PUT_KV(K_SRC_IP, NF_SRC)
    PUT_KV(K_DST_IP, NF_DST)
    if (v0[NF_PROTO] < 0) {
        if (PyDict_SetItem(f, STR[K_NETWORK_PROTOCOL], STR[V_EMPTY]) < 0) goto fail;
    } else {
        Py_ssize_t vn = v1[NF_PROTO] - v0[NF_PROTO];
        PyObject *low = PyUnicode_New(vn, 127);
        if (low == NULL) goto fail;
        char *ld = (char *)PyUnicode_DATA(low);
        for (Py_ssize_t k = 0; k < vn; k++) {
            char c = m[v0[NF_PROTO] + k];
            ld[k] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
        }
        if (put(f, K_NETWORK_PROTOCOL, low) < 0) goto fail;
    }
    if (put_const(f, K_ACTION, action) < 0) goto fail;
    if (put_const(f, K_BLOCKED, action == V_DROP || action == V_REJECT ? V_TRUE : V_FALSE) < 0) goto fail;
    if (put_sub(f, K_LOG_PREFIX, m, b, e) < 0) goto fail;
    PUT_KV(K_IN_INTERFACE, NF_IN)
    PUT_KV(K_OUT_INTERFACE, NF_OUT)
#undef PUT_KV
    if (v0[NF_SPT] >= 0 && put(f, K_SRC_PORT, digits_value(m, v0[NF_SPT], v1[NF_SPT])) < 0) goto fail;
    if (v0[NF_DPT] >= 0 && put(f, K_DST_PORT, digits_value(m, v0[NF_DPT], v1[NF_DPT])) < 0) goto fail;
    if (v0[NF_LEN] >= 0) {
        len_v = digits_value(m, v0[NF_LEN], v1[NF_LEN]);
        if (len_v == NULL || PyDict_SetItem(f, STR[K_LENGTH], len_v) < 0) goto fail;
    }
    if (v0[NF_TTL] >= 0 && put(f, K_TTL, digits_value(m, v0[NF_TTL], v1[NF_TTL])) < 0) goto fail;
    /* UDP: the packet's size is the first LEN (the IP header's), UDP's own the second */
    if (len_v != NULL && has(m, len, "PROTO=UDP")) {
        Py_ssize_t i = find_from(m, len, 0, " LEN=", 5);
        if (i >= 0) {
            Py_ssize_t j = i + 5, q = j;
            while (q < len && m[q] != ' ') q++;
            int ok = q > j && q - j < 7;
            for (Py_ssize_t k = j; ok && k < q; k++)
                if (!is_digit(m[k])) ok = 0;
            if (ok) {
                if (PyDict_SetItem(f, STR[K_UDP_LENGTH], len_v) < 0) goto fail;
                Py_DECREF(len_v);
                len_v = digits_value(m, j, q);
                if (len_v == NULL || PyDict_SetItem(f, STR[K_LENGTH], len_v) < 0) goto fail;
            }
        }
    }
    if (len_v != NULL && PyDict_SetItem(f, STR[K_SOURCE_BYTES], len_v) < 0) goto fail;
    /* tcp_flags: with ` SYN ` in the body (a space after its end counts), the flags present */
    {
        int any = 0;
        char buf[32];
        Py_ssize_t bn = 0;
        if (present[0]) {
            for (int k = 0; k < 6; k++) {
                if (!present[k]) continue;
                if (any) buf[bn++] = ' ';
                memcpy(buf + bn, FLAGS[k], 3);
                bn += 3;
                any = 1;
            }
            if (put(f, K_TCP_FLAGS, ascii_sub(buf, 0, bn)) < 0) goto fail;
        }
    }
    Py_XDECREF(len_v);
    return f;
fail:
    Py_XDECREF(len_v);
    Py_DECREF(f);
    return NULL;
}

/* The epoch of `dd/Mon/yyyy:hh:mm:ss +hhmm` exactly (web._ts_cached's reading of a valid stamp:
 * datetime(...).timestamp() of a proleptic Gregorian date and a fixed offset); -1: any other text,
 * an impossible date or offset, or a year far from now (the Python path decides those). */
static double access_epoch(const char *t, Py_ssize_t n) {
    if (n != 26 || t[2] != '/' || t[6] != '/' || t[11] != ':' || t[14] != ':' || t[17] != ':' || t[20] != ' ' ||
        (t[21] != '+' && t[21] != '-'))
        return -1;
    static const int POS[] = {0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 22, 23, 24, 25};
    for (int k = 0; k < 16; k++)
        if (!is_digit(t[POS[k]])) return -1;
#define D2(i) ((t[i] - '0') * 10 + (t[(i) + 1] - '0'))
    int day = D2(0), year = D2(7) * 100 + D2(9), h = D2(12), mi = D2(15), sec = D2(18);
    int off = D2(22) * 60 + D2(24);
#undef D2
    int month = 0;
    for (int k = 0; k < 12; k++)
        if (memcmp(t + 3, MONTH_NAMES + 3 * k, 3) == 0) month = k + 1;
    if (month == 0 || year < 1971 || year > 9000 || h > 23 || mi > 59 || sec > 59 || off >= 1440) return -1;
    static const int MDAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day < 1 || day > MDAYS[month - 1] + (month == 2 && leap)) return -1;
    /* days since 1970-01-01 (Howard Hinnant's days_from_civil) */
    long y = year - (month <= 2), era = y / 400, yoe = y - era * 400;
    long doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    long days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    long long epoch = (long long)days * 86400 + h * 3600 + mi * 60 + sec - (t[21] == '+' ? off : -off) * 60LL;
    return (double)epoch;
}

#include "_logfast_web.c" /* web.parse_access's every form (web_access_fields) */

/* web.parse_access's fields for an ASCII line s[0:n] and *t its time, or None for a line the Python
 * path reads (_logfast_web.c), NULL on an error. Why: building the ~15 fields in Python was ~2.4 of
 * a ~6 us access line; reading them from the walk's positions (no groups made first) ~0.5 us more. */
static PyObject *access_fields(const char *s, Py_ssize_t n, double *t, int *groups) {
    return web_access_fields(s, n, t, groups);
}

static PyObject *access_line(PyObject *self, PyObject *line) {
    if (!PyUnicode_Check(line) || !PyUnicode_IS_ASCII(line)) Py_RETURN_NONE;
    double t = 0;
    const char *s = (const char *)PyUnicode_DATA(line);
    Py_ssize_t n = PyUnicode_GET_LENGTH(line);
    int groups = 2;
    PyObject *f = access_fields(s, n, &t, &groups);
    if (f == Py_None && groups == 0) { /* no access line at all: parse_access's None */
        Py_DECREF(f);
        Py_RETURN_FALSE;
    }
    if (f == NULL || f == Py_None) return f;
    PyObject *tv = PyFloat_FromDouble(t);
    if (tv == NULL) {
        Py_DECREF(f);
        return NULL;
    }
    return Py_BuildValue("(NN)", f, tv);
}

/* auditd._unhex for ASCII value v[0:n]: the hex-decoded text (NULs as spaces, str.strip()ped) of
 * an even run of upper-case hex digits; the value itself otherwise; NULL with no error set when
 * the bytes are not all ASCII (utf-8 "replace" decoding: the Python path decides). */
static PyObject *audit_unhex(const char *v, Py_ssize_t n, PyObject *orig, int *undecided) {
    int hex = n >= 2 && n % 2 == 0;
    for (Py_ssize_t k = 0; hex && k < n; k++)
        if (!(is_digit(v[k]) || (v[k] >= 'A' && v[k] <= 'F'))) hex = 0;
    if (!hex) {
        Py_INCREF(orig);
        return orig;
    }
    char buf[512];
    Py_ssize_t bn = n / 2;
    if (bn > (Py_ssize_t)sizeof buf) {
        *undecided = 1;
        return NULL;
    }
    for (Py_ssize_t k = 0; k < bn; k++) {
        int hi = v[2 * k] <= '9' ? v[2 * k] - '0' : v[2 * k] - 'A' + 10;
        int lo = v[2 * k + 1] <= '9' ? v[2 * k + 1] - '0' : v[2 * k + 1] - 'A' + 10;
        int c = hi * 16 + lo;
        if (c >= 0x80) {
            *undecided = 1;
            return NULL;
        }
        buf[k] = c == 0 ? ' ' : (char)c;
    }
    Py_ssize_t b = 0, e = bn;
    while (b < e && is_space((unsigned char)buf[b])) b++;
    while (e > b && is_space((unsigned char)buf[e - 1])) e--;
    return ascii_sub(buf, b, e);
}

static const char *const AUDIT_TEXT_KEYS[] = {"exe", "comm", "cmd", "proctitle", "name", "cwd", "acct",
                                              "data", "old-data", "path", "hostname", "terminal"};

/* Whether `key="` occurs in s[0:n] (auditd._quoted). */
static int audit_quoted(const char *s, Py_ssize_t n, const char *key, Py_ssize_t kn) {
    char pat[64];
    if (kn + 2 >= (Py_ssize_t)sizeof pat) return -1;
    memcpy(pat, key, (size_t)kn);
    pat[kn] = '=';
    pat[kn + 1] = '"';
    pat[kn + 2] = 0;
    return has(s, n, pat);
}

/* auditd.parse_audit's reading of one record, all but its per-input state: for a printable-ASCII
 * line whose header _HEADER matches at its start, with no ENRICHED part, nested msg='...',
 * backslash or split argument (`aN[i]=`), and whose pairs split_pairs decides: (type, serial,
 * time, node or None, fields, kv, User or None, EXECVE's arguments or None), the fields as
 * parse_audit has them before it consults its state. None: the Python path reads the line. */
static PyObject *audit_record(PyObject *self, PyObject *line) {
    if (!PyUnicode_Check(line) || !PyUnicode_IS_ASCII(line)) Py_RETURN_NONE;
    const char *s = (const char *)PyUnicode_DATA(line);
    Py_ssize_t n = PyUnicode_GET_LENGTH(line), i = 0, node0 = -1, node1 = -1;
    if (!fw_printable(s, n)) Py_RETURN_NONE;
    if (n >= 5 && memcmp(s, "node=", 5) == 0) { /* (?:node=(?P<node>\S+) )? */
        node0 = i = 5;
        while (i < n && s[i] != ' ') i++;
        if (i == node0 || i >= n) Py_RETURN_NONE;
        node1 = i++;
    }
    if (n - i < 5 || memcmp(s + i, "type=", 5) != 0) Py_RETURN_NONE;
    Py_ssize_t ty0 = i += 5;
    while (i < n && is_word((unsigned char)s[i])) i++;
    Py_ssize_t ty1 = i;
    if (ty1 == ty0 || n - i < 11 || memcmp(s + i, " msg=audit(", 11) != 0) Py_RETURN_NONE;
    Py_ssize_t ts0 = i += 11;
    while (i < n && is_digit(s[i])) i++;
    if (i == ts0) Py_RETURN_NONE;
    if (i < n && s[i] == '.') {
        Py_ssize_t f0 = ++i;
        while (i < n && is_digit(s[i])) i++;
        if (i == f0) Py_RETURN_NONE;
    }
    Py_ssize_t ts1 = i;
    if (i >= n || s[i] != ':') Py_RETURN_NONE;
    Py_ssize_t se0 = ++i;
    while (i < n && is_digit(s[i])) i++;
    Py_ssize_t se1 = i;
    if (se1 == se0 || n - i < 2 || s[i] != ')' || s[i + 1] != ':') Py_RETURN_NONE;
    i += 2;
    while (i < n && s[i] == ' ') i++;
    const char *r = s + i; /* raw_kv */
    Py_ssize_t rn = n - i;
    if (memchr(r, '\'', (size_t)rn) || memchr(r, '\\', (size_t)rn) || memchr(r, '[', (size_t)rn)) Py_RETURN_NONE;
    PyObject *kv = split_core(r, rn, 1);
    if (kv == NULL || kv == Py_None) return kv;
    PyObject *f = NULL, *kind = NULL, *serial = NULL, *ts = NULL, *node = NULL, *user = NULL, *args = NULL,
             *v = NULL;
    int undecided = 0;
    kind = ascii_sub(s, ty0, ty1);
    serial = ascii_sub(s, se0, se1);
    {
        char tbuf[64];
        double t;
        if (!fast_decimal(s + ts0, ts1 - ts0, &t)) {
            if (ts1 - ts0 >= (Py_ssize_t)sizeof tbuf) goto undecided;
            memcpy(tbuf, s + ts0, (size_t)(ts1 - ts0));
            tbuf[ts1 - ts0] = 0;
            t = PyOS_string_to_double(tbuf, NULL, NULL);
            if (t == -1.0 && PyErr_Occurred()) goto fail;
        }
        ts = PyFloat_FromDouble(t);
    }
    node = node0 >= 0 ? ascii_sub(s, node0, node1) : (Py_INCREF(Py_None), Py_None);
    f = dict_sized(PyDict_GET_SIZE(kv) + 8);
    if (kind == NULL || serial == NULL || ts == NULL || node == NULL || f == NULL) goto fail;
    if (PyDict_SetItem(f, STR[A_TYPE], kind) < 0 || PyDict_SetItem(f, STR[A_SERIAL], serial) < 0 ||
        PyDict_Update(f, kv) < 0)
        goto fail;
    for (size_t k = 0; k < sizeof AUDIT_TEXT_KEYS / sizeof AUDIT_TEXT_KEYS[0]; k++) {
        PyObject *tv = PyDict_GetItem(kv, STR[A_TEXT0 + k]);
        if (tv == NULL) continue;
        int q = audit_quoted(r, rn, AUDIT_TEXT_KEYS[k], (Py_ssize_t)strlen(AUDIT_TEXT_KEYS[k]));
        if (q < 0) goto undecided;
        if (q) continue;
        v = audit_unhex((const char *)PyUnicode_DATA(tv), PyUnicode_GET_LENGTH(tv), tv, &undecided);
        if (v == NULL) goto maybe_undecided;
        if (PyDict_SetItem(f, STR[A_TEXT0 + k], v) < 0) goto fail;
        Py_CLEAR(v);
    }
    { /* _user(kv, {}): acct, else uid (0 as root) */
        PyObject *acct = PyDict_GetItem(kv, STR[A_ACCT]), *uid = PyDict_GetItem(kv, STR[A_UID]);
        if (acct != NULL && PyUnicode_GET_LENGTH(acct) > 0) {
            user = acct;
            Py_INCREF(user);
        } else if (uid != NULL) {
            if (PyUnicode_GET_LENGTH(uid) == 1 && PyUnicode_READ_CHAR(uid, 0) == '0') {
                user = STR[V_ROOT];
                Py_INCREF(user);
            } else {
                user = uid;
                Py_INCREF(user);
            }
            if (user == NULL) goto fail;
        } else {
            user = Py_None;
            Py_INCREF(user);
        }
        if (user != Py_None && PyDict_SetItem(f, STR[A_USER], user) < 0) goto fail;
    }
    { /* outcome: res, else success; src_ip: addr */
        PyObject *res = PyDict_GetItem(kv, STR[A_RES]);
        if (res == NULL || PyUnicode_GET_LENGTH(res) == 0) res = PyDict_GetItem(kv, STR[A_SUCCESS]);
        if (res != NULL) {
            const char *rs = (const char *)PyUnicode_DATA(res);
            Py_ssize_t rl = PyUnicode_GET_LENGTH(res);
            int ok = (rl == 7 && memcmp(rs, "success", 7) == 0) || (rl == 3 && memcmp(rs, "yes", 3) == 0) ||
                     (rl == 1 && rs[0] == '1');
            if (PyDict_SetItem(f, STR[K_OUTCOME], STR[ok ? V_SUCCESS : V_FAILURE]) < 0) goto fail;
        }
        PyObject *addr = PyDict_GetItem(kv, STR[A_ADDR]);
        if (addr != NULL && PyUnicode_GET_LENGTH(addr) > 0 && PyUnicode_CompareWithASCIIString(addr, "?") != 0 &&
            PyUnicode_CompareWithASCIIString(addr, "(none)") != 0 && PyDict_SetItem(f, STR[K_SRC_IP], addr) < 0)
            goto fail;
    }
    if (ty1 - ty0 == 6 && memcmp(s + ty0, "EXECVE", 6) == 0) { /* the arguments a0..a(argc-1) */
        long argc = 0;
        PyObject *av = PyDict_GetItem(kv, STR[A_ARGC]);
        if (av != NULL) {
            const char *as = (const char *)PyUnicode_DATA(av);
            Py_ssize_t al = PyUnicode_GET_LENGTH(av);
            if (al < 1 || al > 9) goto undecided;
            for (Py_ssize_t k = 0; k < al; k++) {
                if (!is_digit(as[k])) goto undecided;
                argc = argc * 10 + (as[k] - '0');
            }
        }
        args = PyList_New(0);
        if (args == NULL) goto fail;
        for (long k = 0; k < (argc < 4096 ? argc : 4096); k++) {
            char key[16];
            int kn = snprintf(key, sizeof key, "a%ld", k);
            PyObject *kobj = k < N_ARG_KEYS ? (Py_INCREF(ARG_KEYS[k]), ARG_KEYS[k]) : PyUnicode_FromString(key);
            if (kobj == NULL) goto fail;
            PyObject *a = PyDict_GetItem(kv, kobj);
            if (a == NULL) {
                Py_DECREF(kobj);
                break;
            }
            int q = audit_quoted(r, rn, key, kn);
            if (q < 0) {
                Py_DECREF(kobj);
                goto undecided;
            }
            if (q) {
                v = a;
                Py_INCREF(v);
            } else {
                v = audit_unhex((const char *)PyUnicode_DATA(a), PyUnicode_GET_LENGTH(a), a, &undecided);
                if (v == NULL) {
                    Py_DECREF(kobj);
                    goto maybe_undecided;
                }
            }
            int rc = PyDict_SetItem(f, kobj, v);
            Py_DECREF(kobj);
            if (rc < 0 || PyList_Append(args, v) < 0) goto fail;
            Py_CLEAR(v);
        }
    } else {
        args = Py_None;
        Py_INCREF(args);
    }
    return Py_BuildValue("(NNNNNNNN)", kind, serial, ts, node, f, kv, user, args);
maybe_undecided:
    if (!undecided) goto fail;
undecided:
    Py_XDECREF(kind);
    Py_XDECREF(serial);
    Py_XDECREF(ts);
    Py_XDECREF(node);
    Py_XDECREF(f);
    Py_XDECREF(user);
    Py_XDECREF(args);
    Py_XDECREF(v);
    Py_DECREF(kv);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(kind);
    Py_XDECREF(serial);
    Py_XDECREF(ts);
    Py_XDECREF(node);
    Py_XDECREF(f);
    Py_XDECREF(user);
    Py_XDECREF(args);
    Py_XDECREF(v);
    Py_DECREF(kv);
    return NULL;
}

/* pf.parse_filterlog's fields for the body s[off:n] (its twin, filterlog_body), when its reading
 * is the spec's one logsource (services `filterlog`, category `firewall`); None otherwise (False
 * from the twin: not a filterlog body, Python's candidates decide) */
static PyObject *filterlog_fields(PyObject *line, const char *s, Py_ssize_t off, Py_ssize_t n) {
    PyObject *msg = ascii_sub(s, off, n);
    if (msg == NULL) return NULL;
    PyObject *got = fw_filterlog_body(NULL, msg);
    Py_DECREF(msg);
    if (got == NULL) return NULL;
    PyObject *fields = NULL;
    if (PyTuple_Check(got) && PyTuple_GET_SIZE(got) == 3) {
        PyObject *svc = PyTuple_GET_ITEM(got, 1), *cat = PyTuple_GET_ITEM(got, 2);
        if (PyTuple_Check(svc) && PyTuple_GET_SIZE(svc) == 1 && PyTuple_Check(cat) && PyTuple_GET_SIZE(cat) == 1 &&
            PyUnicode_Check(PyTuple_GET_ITEM(svc, 0)) && PyUnicode_Check(PyTuple_GET_ITEM(cat, 0)) &&
            PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(svc, 0), "filterlog") == 0 &&
            PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(cat, 0), "firewall") == 0)
            fields = Py_NewRef(PyTuple_GET_ITEM(got, 0));
    }
    Py_DECREF(got);
    if (fields == NULL) Py_RETURN_NONE;
    return fields;
}

typedef PyObject *(*body_fn)(PyObject *line, const char *s, Py_ssize_t off, Py_ssize_t n);
static const body_fn BODY_FNS[] = {sshd_body, netfilter_body, filterlog_fields};
#define N_BODIES ((long)(sizeof BODY_FNS / sizeof BODY_FNS[0]))

/* syslog_line's reading: 1 when a twin reads the line (*hd, *body and *fields, a new reference,
 * set), 0 when Python reads it (None), 2 for a printable line without the common header (False),
 * 3 for a printable line with the common header (*hd set) whose body no twin reads (Python's
 * dispatch does: None for syslog_line, the reader's rd_body), -1 on an error (set). */
static int syslog_core(PyObject *line, PyObject *programs, hdr_t *hd, long *body, PyObject **fields) {
    if (!PyUnicode_IS_ASCII(line)) return 0;
    const char *s = (const char *)PyUnicode_DATA(line);
    Py_ssize_t n = PyUnicode_GET_LENGTH(line), pos = 0;
    /* the line is printable ASCII? (checked only where an answer depends on it) */
#define PRINTABLE_OR_NONE \
    if (!fw_printable(s, n)) return 0;
    /* False: _fast_syslog would return None too (no `<PRI>` it reads, RFC 5424, or no common
     * header), for a printable line: the caller goes straight to the general path */
#define NO_HEADER              \
    do {                       \
        PRINTABLE_OR_NONE      \
        return 2;              \
    } while (0)
    if (n > 0 && s[0] == '<') { /* <PRI>: 1-3 digits, then not RFC 5424's `1 ` */
        Py_ssize_t k = 1;
        while (k < 5 && k < n && s[k] != '>') k++;
        if (k >= 5 || k >= n || k < 2) NO_HEADER;
        for (Py_ssize_t q = 1; q < k; q++)
            if (!is_digit(s[q])) NO_HEADER;
        pos = k + 1;
        if (n - pos >= 2 && s[pos] == '1' && s[pos + 1] == ' ') NO_HEADER;
    }
    int wide = 0;
    if (!walk_3164(PyUnicode_1BYTE_KIND, s, n, pos, hd, &wide) || wide) NO_HEADER;
    /* a program without a C twin: Python's dispatch reads the body (3) */
    PyObject *app = ascii_sub(s, hd->a0, hd->a1);
    if (app == NULL) return -1;
    PyObject *which = PyDict_GetItemWithError(programs, app);
    long b = which != NULL ? PyLong_AsLong(which) : -1;
    Py_DECREF(app); /* (re-made below, after the checks: no reference held across the returns) */
    if (b < 0 || b >= N_BODIES) {
        if (PyErr_Occurred()) return -1;
        b = -1; /* no twin: the body is Python's (3), once the line is known printable */
    }
    PRINTABLE_OR_NONE
#undef NO_HEADER
#undef PRINTABLE_OR_NONE
    if (n - hd->end >= 17 && memcmp(s + hd->end, "message repeated ", 17) == 0) return 0;
    if (b < 0) return 3;
    app = ascii_sub(s, hd->a0, hd->a1);
    if (app == NULL) return -1;
    PyObject *f = BODY_FNS[b](line, s, hd->end, n);
    if (f == NULL || f == Py_None) {
        Py_DECREF(app);
        if (f == NULL) return -1;
        Py_DECREF(f);
        return 3;
    }
    if (put(f, K_PROGRAM, app) < 0 ||
        (hd->p1 > hd->p0 && hd->p0 >= 0 && put(f, K_PID, ascii_sub(s, hd->p0, hd->p1)) < 0)) {
        Py_DECREF(f);
        return -1;
    }
    *body = b;
    *fields = f;
    return 1;
}

static PyObject *syslog_line(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "syslog_line(line: str, programs: dict)");
        return NULL;
    }
    PyObject *line = args[0], *f = NULL;
    hdr_t hd;
    long body = 0;
    int got = syslog_core(line, args[1], &hd, &body, &f);
    if (got != 1) {
        if (got < 0) return NULL;
        if (got == 2) Py_RETURN_FALSE;
        Py_RETURN_NONE;
    }
    PyObject *host = PyUnicode_Substring(line, hd.h0, hd.h1);
    if (host == NULL) {
        Py_DECREF(f);
        return NULL;
    }
    PyObject *t = PyTuple_New(8);
    if (t == NULL) {
        Py_DECREF(host);
        Py_DECREF(f);
        return NULL;
    }
    long nums[6] = {hd.month, hd.day, hd.h, hd.mi, hd.s, body};
    PyTuple_SET_ITEM(t, 1, host);
    PyTuple_SET_ITEM(t, 7, f);
    for (int k = 0; k < 6; k++) {
        PyObject *v = PyLong_FromLong(nums[k]); /* (small ints: cached, cannot fail) */
        if (v == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, k == 5 ? 0 : k + 2, v);
    }
    return t;
}

/* The Cisco IOS / NX-OS header parse_syslog reads when no RFC 3164 header is there, and
 * parse_cisco's `%FACILITY-SEV-MNEMONIC:` at the message's start, in one walk of the line:
 *
 *   [<PRI>]Mmm {1,2}dd [yyyy ]hh:mm:ss[.frac]TAIL%FAC-S-MNEMONIC:[ ]text            (_BSD_TS at pos)
 *   [<PRI>][seq: ][host: ][seq: ][*][.]Mmm {1,2}dd [yyyy ]hh:mm:ss[.frac]TAIL%...   (_CISCO_PREFIX, _BSD_TS)
 *   [<PRI>][seq: ][host: ][seq: ][*][.]yyyy Mmm {1,2}dd hh:mm:ss[.frac]TAIL%...     (NX-OS: _NXOS_TS)
 *   [<PRI>]%FAC-S-MNEMONIC:[ ]text                                                   (no stamp: received now)
 *
 * with TAIL `: ` (no zone) or ` ZONE: ` (1-12 capitals): the reading of syslog._PRI, the
 * branches of parse_syslog after its common header failed (the caller knows it did), then
 * _header_zone and cisco_ios._CISCO. Why: those regexes and the Python between them were ~6 us
 * of a Cisco line with `<PRI>`, and all ~15 us of one without (a file's lines, a relay's bodies:
 * 19% of bench_detections' new-formats mix). Each quantifier is decided by one scan (a shorter
 * repeat is followed by a character of the repeat, which the next literal refuses; the optional
 * prefix parts cannot make a later part fail, so re takes each greedily); the prefix's host is
 * the sender's when it is all digits or an uptime stamp (`1d04h`), as there. The walk declines
 * (0) rather than follow what it does not walk: a line that is not printable ASCII (\s, \d and
 * \w are Unicode-aware; trailing \r \n \0 are stripped there), a `<PRI>` _PRI does not read or
 * RFC 5424's `1 `, a stamp read by _ISO_TS (4 digits and `-`), another tail (` ZONE ` without
 * `:`, a numeric or lower-case zone), a fraction of more than 30 digits, and a message whose
 * first `%` does not start the facility (re.search would look further). */
static inline int is_cisco_word(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* `FAC-S-MNEMONIC:` at s[i:] (after the `%`), then the spaces before the text: the text's start, or
 * -1. The facility is the fewest whole segments followed by `-[0-7]-MNEMONIC:` (cisco_ios._CISCO's
 * lazy `(?:-[A-Z0-9_]+)*?`). */
static Py_ssize_t cisco_tag(const char *s, Py_ssize_t n, Py_ssize_t i, Py_ssize_t *f1, long *sev, Py_ssize_t *mn0,
                            Py_ssize_t *mn1) {
    for (;;) {
        Py_ssize_t d = i;
        while (d < n && is_cisco_word(s[d])) d++;
        if (d == i || d >= n || s[d] != '-') return -1;
        if (d + 3 < n && s[d + 1] >= '0' && s[d + 1] <= '7' && s[d + 2] == '-') {
            Py_ssize_t e = d + 3;
            while (e < n && is_cisco_word(s[e])) e++;
            if (e > d + 3 && e < n && s[e] == ':') {
                *f1 = d, *sev = s[d + 1] - '0', *mn0 = d + 3, *mn1 = e;
                Py_ssize_t t0 = e + 1;
                while (t0 < n && s[t0] == ' ') t0++;
                return t0;
            }
        }
        i = d + 1;
    }
}

/* what cisco_core reads: host, zone (h0/z0 < 0: none), message, facility, mnemonic, text; the
 * stamp (dated 0: none, the receive time stands; year < 0: none) */
typedef struct {
    Py_ssize_t h0, h1, z0, z1, m0, f0, f1, mn0, mn1, t0;
    long month, day, hms[3], sev, year;
    int dated, pri;
    double frac;
} cisco_t;

/* the month named at s[i:] (1-12), or 0 */
static inline long month_at(const char *s, Py_ssize_t n, Py_ssize_t i) {
    if (i < 0 || n - i < 3) return 0;
    switch (s[i]) { /* (a month's initial first: most lines start with none) */
    case 'J': case 'F': case 'M': case 'A': case 'S': case 'O': case 'N': case 'D':
        break;
    default:
        return 0;
    }
    for (int k = 0; k < 12; k++)
        if (memcmp(s + i, MONTH_NAMES + 3 * k, 3) == 0) return k + 1;
    return 0;
}

/* four digits then `c` at s[i:]: their value, or -1 */
static inline long four_digits(const char *s, Py_ssize_t n, Py_ssize_t i, char c) {
    if (n - i < 5 || s[i + 4] != c) return -1;
    long v = 0;
    for (int k = 0; k < 4; k++) {
        if (!is_digit(s[i + k])) return -1;
        v = v * 10 + (s[i + k] - '0');
    }
    return v;
}

/* syslog._UPTIME.fullmatch(s[a:b]): `\d+[ywd]\d+[wdh]` */
static int is_uptime(const char *s, Py_ssize_t a, Py_ssize_t b) {
    Py_ssize_t i = a;
    while (i < b && is_digit(s[i])) i++;
    if (i == a || i >= b || (s[i] != 'y' && s[i] != 'w' && s[i] != 'd')) return 0;
    Py_ssize_t j = ++i;
    while (j < b && is_digit(s[j])) j++;
    return j > i && j == b - 1 && (s[j] == 'w' || s[j] == 'd' || s[j] == 'h');
}

/* syslog._BSD_TS (nx 0) or _NXOS_TS (nx 1) at s[i:], then its tail: the message's start (*c's
 * stamp and zone set), -1 where the regex does not match, -2 where it does but the walk leaves
 * the line to Python (another tail, a fraction too long) */
static Py_ssize_t cisco_stamp(const char *s, Py_ssize_t n, Py_ssize_t i, int nx, cisco_t *c) {
    c->year = -1;
    if (nx) {
        if ((c->year = four_digits(s, n, i, ' ')) < 0) return -1;
        i += 5;
    }
    long month = month_at(s, n, i);
    if (month == 0 || i + 3 >= n || s[i + 3] != ' ') return -1;
    i += 4;
    if (i < n && s[i] == ' ') i++; /* ` {1,2}` */
    if (i >= n || !is_digit(s[i])) return -1;
    long day = s[i++] - '0';
    if (i < n && is_digit(s[i])) day = day * 10 + (s[i++] - '0');
    if (i >= n || s[i] != ' ') return -1;
    i++;
    if (!nx) { /* (?:(?P<year>\d{4}) )?: taken when there (without it `\d\d:` meets a third digit) */
        long y = four_digits(s, n, i, ' ');
        if (y >= 0) c->year = y, i += 5;
    }
    for (int k = 0; k < 3; k++) {
        if (n - i < 2 || !is_digit(s[i]) || !is_digit(s[i + 1])) return -1;
        c->hms[k] = (s[i] - '0') * 10 + (s[i + 1] - '0');
        i += 2;
        if (k < 2) {
            if (i >= n || s[i] != ':') return -1;
            i++;
        }
    }
    c->frac = 0.0;
    if (i < n && s[i] == '.') { /* (?P<frac>\.\d+)?: all the digits (a `.` without any: no match) */
        Py_ssize_t d = i + 1;
        while (d < n && is_digit(s[d])) d++;
        if (d == i + 1) return -1;
        if (d - i > 31) return -2;
        if (!fast_decimal(s + i, d - i, &c->frac)) {
            char buf[40];
            memcpy(buf, s + i, (size_t)(d - i));
            buf[d - i] = 0;
            c->frac = PyOS_string_to_double(buf, NULL, NULL);
            if (c->frac == -1.0 && PyErr_Occurred()) return -3;
        }
        i = d;
    }
    c->month = month, c->day = day;
    c->z0 = c->z1 = -1;
    /* the tail `(?: (?P<tz>...)(?P<tzc>:)?(?= ))?:? `: `: `, or ` ZONE: ` (the lazy name stops at
     * the `:` before the space); a space starts some reading, any other character none */
    if (i < n && s[i] == ':') return i + 1 < n && s[i + 1] == ' ' ? i + 2 : -1;
    if (i >= n || s[i] != ' ') return -1;
    Py_ssize_t d = i + 1;
    while (d < n && s[d] >= 'A' && s[d] <= 'Z') d++;
    if (d == i + 1 || d - i - 1 > 12 || d + 1 >= n || s[d] != ':' || s[d + 1] != ' ') return -2;
    c->z0 = i + 1, c->z1 = d;
    return d + 2;
}

/* cisco_line's walk over ASCII s[0:n]: 1 when it reads the line (*c filled), 0 when it leaves it
 * to the general path, -1 on an error (set). The caller has seen the common header fail. */
static int cisco_core(const char *s, Py_ssize_t n, cisco_t *c) {
    if (n < 4) return 0;
    Py_ssize_t pos = 0;
    if (s[0] == '<') { /* _PRI: <(\d{1,3})>, then not RFC 5424's `1 ` */
        Py_ssize_t i = 1;
        while (i < n && i < 4 && is_digit(s[i])) i++;
        if (i == 1 || i >= n || s[i] != '>') return 0;
        pos = i + 1;
        if (n - pos >= 2 && s[pos] == '1' && s[pos + 1] == ' ') return 0;
    }
    c->pri = pos > 0;
    c->h0 = c->h1 = c->z0 = c->z1 = -1;
    c->dated = 1;
    Py_ssize_t m0 = month_at(s, n, pos) ? cisco_stamp(s, n, pos, 0, c) : -1; /* _BSD_TS at pos */
    if (m0 < -1) return m0 == -3 ? -1 : 0;
    if (m0 < 0) { /* no stamp at pos: _ISO_TS, else _CISCO_PREFIX and a stamp after it */
        char c0 = pos < n ? s[pos] : 0;
        if (four_digits(s, n, pos, '-') >= 0) return 0; /* (_ISO_TS may read it) */
        if (c0 == '%') {
            c->dated = 0, m0 = pos; /* the whole line is the message */
        } else if ((is_word((unsigned char)c0) && c0 != '_') || c0 == '*' || c0 == '.') {
            /* (?:\d+: )?(?:(?P<host>[A-Za-z0-9][\w.-]*): )?(?:\d+: )?\*?\.? */
            Py_ssize_t i = pos, d = pos;
            while (d < n && is_digit(s[d])) d++;
            if (d > i && d + 1 < n && s[d] == ':' && s[d + 1] == ' ') i = d + 2;
            if (i < n && is_word((unsigned char)s[i]) && s[i] != '_') {
                d = i + 1;
                while (d < n && is_key_char((unsigned char)s[d])) d++;
                if (d + 1 < n && s[d] == ':' && s[d + 1] == ' ') c->h0 = i, c->h1 = d, i = d + 2;
            }
            d = i;
            while (d < n && is_digit(s[d])) d++;
            if (d > i && d + 1 < n && s[d] == ':' && s[d + 1] == ' ') i = d + 2;
            if (i < n && s[i] == '*') i++;
            if (i < n && s[i] == '.') i++;
            if (c->h0 >= 0 && is_digit(s[c->h0])) { /* a number or an uptime stamp: the sender stands */
                d = c->h0;
                while (d < c->h1 && is_digit(s[d])) d++;
                if (d == c->h1 || is_uptime(s, c->h0, c->h1)) c->h0 = c->h1 = -1;
            }
            if (i > pos && month_at(s, n, i))
                m0 = cisco_stamp(s, n, i, 0, c);
            else if (i < n && is_digit(s[i]))
                m0 = cisco_stamp(s, n, i, 1, c);
            if (m0 == -3) return -1;
            if (m0 < 0) return 0; /* no stamp: the message is the line from pos, which is no `%` */
        } else {
            return 0;
        }
    }
    if (m0 >= n || s[m0] != '%') return 0; /* (a host or a tag after the stamp: Python reads them) */
    if (!fw_printable(s, n)) return 0;
    c->m0 = m0;
    c->f0 = m0 + 1;
    c->t0 = cisco_tag(s, n, m0 + 1, &c->f1, &c->sev, &c->mn0, &c->mn1);
    return c->t0 >= 0;
}

/* cisco_line: the forms LineParser._cisco_syslog reads (a `<PRI>` line, dated, without a year) */
static PyObject *cisco_line(PyObject *self, PyObject *line) {
    if (!PyUnicode_Check(line)) {
        PyErr_SetString(PyExc_TypeError, "cisco_line(line: str)");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(line)) Py_RETURN_NONE;
    const char *s = (const char *)PyUnicode_DATA(line);
    Py_ssize_t n = PyUnicode_GET_LENGTH(line);
    cisco_t c;
    int got = cisco_core(s, n, &c);
    if (got <= 0 || !c.pri || !c.dated || c.year >= 0) {
        if (got < 0) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *host = c.h0 < 0 ? Py_NewRef(Py_None) : ascii_sub(s, c.h0, c.h1);
    PyObject *zone = c.z0 < 0 ? Py_NewRef(Py_None) : ascii_sub(s, c.z0, c.z1);
    PyObject *msg = ascii_sub(s, c.m0, n), *fac = ascii_sub(s, c.f0, c.f1), *mn = ascii_sub(s, c.mn0, c.mn1);
    PyObject *text = ascii_sub(s, c.t0, n);
    if (host == NULL || zone == NULL || msg == NULL || fac == NULL || mn == NULL || text == NULL) {
        Py_XDECREF(host), Py_XDECREF(zone), Py_XDECREF(msg), Py_XDECREF(fac), Py_XDECREF(mn);
        Py_XDECREF(text);
        return NULL;
    }
    return Py_BuildValue("(NllllldNNNnNN)", host, c.month, c.day, c.hms[0], c.hms[1], c.hms[2], c.frac, zone, msg,
                         fac, (Py_ssize_t)c.sev, mn, text);
}

/* the Cisco text's fields (cisco_fields) and the whole-line reader (Reader) */
#include <structmember.h> /* (T_OBJECT_EX: the event's slots) */
#include "_logfast_cisco.c"
#include "_logfast_reader.c"

static PyMethodDef methods[] = {
    LOGFAST_FW_METHODS
    LOGFAST_WEB_METHODS
    {"cisco_fields", (PyCFunction)(void (*)(void))cisco_fields_py, METH_FASTCALL,
     "cisco_fields(message, protos) -> (fields, firewall) | None: cisco_ios.cisco_parsed's fields of a "
     "printable-ASCII `%FAC-S-MN: text` (protos: base.IANA_PROTO); None for any other message."},
    {"cisco_line", cisco_line, METH_O,
     "cisco_line(line) -> tuple | None: a Cisco IOS line `<PRI>seq: host: Mmm dd hh:mm:ss.fff ZONE: "
     "%FAC-S-MN: text` as (host, month, day, hour, minute, second, frac, zone, msg, facility, "
     "severity, mnemonic, text); None: the general path reads the line."},
    {"audit_record", audit_record, METH_O,
     "audit_record(line) -> tuple | None: auditd.parse_audit's stateless reading of a plain record "
     "(type, serial, time, node, fields, kv, User, EXECVE args); None: the Python path reads it."},
    {"access_line", access_line, METH_O,
     "access_line(line) -> (fields, time) | False | None: web.parse_access's fields and time "
     "(_logfast_web.c); False: it gives None (no access line); None: the Python path reads the line."},
    {"syslog_line", (PyCFunction)(void (*)(void))syslog_line, METH_FASTCALL,
     "syslog_line(line, programs) -> tuple | None | False: a whole RFC 3164 line of a program whose "
     "body parser has a C twin (programs: name -> index in BODIES) as (body, host, month, day, hour, "
     "minute, second, fields); None: the Python path reads the line; False: a printable-ASCII line "
     "without the common header (the general path reads it)."},
    {"access_common", access_common, METH_O,
     "access_common(line) -> tuple | None | False: web._COMMON.match(line)'s (ip, user, status, bytes, "
     "req, ua, vhost, ts, ref); False: non-ASCII where the regex's classes are Unicode-aware."},
    {"bsd_header", (PyCFunction)(void (*)(void))bsd_header, METH_FASTCALL,
     "bsd_header(line, pos) -> tuple | None | False: syslog._FAST_3164.match(line, pos) as (month, "
     "day, hour, minute, second, host, app, pid, end); False: non-ASCII, the caller runs the regex."},
    {"split_pairs", split_pairs, METH_VARARGS,
     "split_pairs(text, mode) -> dict | None: firewall._pairs (mode 0) / auditd._audit_pairs (mode "
     "1) for ASCII text whose every token they split themselves; None otherwise."},
    {"cef_extension", cef_extension, METH_O,
     "cef_extension(text) -> dict | None: base.parse_cef's extension pairs for ASCII text; None "
     "for any other text (the caller runs the regex)."},
    {"kv_pairs_wide", kv_pairs_wide, METH_VARARGS,
     "kv_pairs_wide(text, comma) -> dict: kv_pairs' split of text that is not ASCII (Unicode classes)."},
    {"kv_pairs", kv_pairs, METH_VARARGS,
     "kv_pairs(text, comma) -> dict | None: base.kv_pairs (comma: kv_pairs_comma) for ASCII text; "
     "None for any other text (the caller runs the regex)."},
    {"pam_body", lx_pam_body, METH_VARARGS,
     "pam_body(msg, app) -> (fields, services, categories) | None | False: linux_auth.parse_pam's "
     "reading of a printable-ASCII body; None: Python decides; False: parse_pam refuses it."},
    {"junos_body", lx_junos_body, METH_VARARGS,
     "junos_body(msg, app) -> (fields, services, categories) | None | False: juniper.parse_junos' "
     "reading of a printable-ASCII body; None: Python decides; False: parse_junos refuses it."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_logfast", "Log parsing helpers in C.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__logfast(void) {
    for (int k = 0; k < N_NAMES; k++) {
        if (STR[k] == NULL && (STR[k] = PyUnicode_InternFromString(NAMES[k])) == NULL) return NULL;
    }
    for (int k = 0; k < N_ARG_KEYS; k++) {
        char key[8];
        snprintf(key, sizeof key, "a%d", k);
        if (ARG_KEYS[k] == NULL && (ARG_KEYS[k] = PyUnicode_InternFromString(key)) == NULL) return NULL;
    }
    PyObject *mod = PyModule_Create(&module);
    if (mod == NULL) return NULL;
    if (reader_module_init(mod) < 0 || lx_module_init(mod) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    /* the body parsers syslog_line knows, by index (the names of the parsers they twin) */
    PyObject *bodies = Py_BuildValue("(sss)", "sshd", "netfilter", "filterlog");
    if (bodies == NULL || PyModule_AddObject(mod, "BODIES", bodies) < 0) {
        Py_XDECREF(bodies);
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
