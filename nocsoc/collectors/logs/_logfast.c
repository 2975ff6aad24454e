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

static inline int is_word(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static inline int is_space(unsigned char c) {
    return (c >= 9 && c <= 13) || (c >= 28 && c <= 32);
}

static inline int is_key_char(unsigned char c) { return is_word(c) || c == '.' || c == '-'; }

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

/* The value of a quoted match `"..."` (s points at the opening quote, n its length >= 2):
 * the quotes dropped and every `\"` turned into `"` (Python: v[1:-1].replace('\\"', '"')). */
static PyObject *unquote(const char *s, Py_ssize_t n) {
    const char *in = s + 1;
    Py_ssize_t m = n - 2;
    if (memchr(in, '\\', (size_t)m) == NULL) return PyUnicode_FromStringAndSize(in, m);
    char *buf = PyMem_Malloc(m > 0 ? (size_t)m : 1);
    if (buf == NULL) return PyErr_NoMemory();
    memcpy(buf, in, (size_t)m);
    PyObject *r = PyUnicode_FromStringAndSize(buf, replace2(buf, m, '\\', '"', '"'));
    PyMem_Free(buf);
    return r;
}

/* out[key] = val, consuming both references; val may be NULL (its error already set).
 * 0, or -1 with an error set. */
static int set_pair(PyObject *out, PyObject *key, PyObject *val) {
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
    return PyDict_New();
}

static PyObject *kv_pairs(PyObject *self, PyObject *args) {
    PyObject *text;
    int comma;
    if (!PyArg_ParseTuple(args, "Up:kv_pairs", &text, &comma)) return NULL;
    const char *s;
    Py_ssize_t n;
    PyObject *out = ascii_pairs_dict(text, &s, &n);
    if (out == NULL || out == Py_None) return out;
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        /* a key starts with [A-Za-z_] where no [\w.-] precedes it */
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') ||
            (i > 0 && is_key_char((unsigned char)s[i - 1]))) {
            i++;
            continue;
        }
        Py_ssize_t k0 = i, j = i + 1;
        while (j < n && is_key_char((unsigned char)s[j])) j++; /* possessive: never gives back */
        if (j >= n || s[j] != '=') {
            i++;
            continue;
        }
        Py_ssize_t k1 = j, v0 = j + 1, v1 = -1;
        if (v0 < n && s[v0] == '"') { /* "(?:[^"\\]|\\.)*+" */
            Py_ssize_t p = v0 + 1;
            for (;;) {
                if (p >= n) break;
                char d = s[p];
                if (d == '"') break;
                if (d == '\\') {
                    if (p + 1 < n && s[p + 1] != '\n') {
                        p += 2;
                        continue;
                    }
                    break; /* `\` alone or before a newline: neither branch matches */
                }
                p++;
            }
            if (p < n && s[p] == '"') v1 = p + 1;
        }
        if (v1 < 0) { /* \S* (or [^\s,]*) */
            Py_ssize_t p = v0;
            while (p < n && !is_space((unsigned char)s[p]) && !(comma && s[p] == ',')) p++;
            v1 = p;
        }
        PyObject *key = PyUnicode_FromStringAndSize(s + k0, k1 - k0);
        if (key == NULL) goto fail;
        Py_ssize_t vn = v1 - v0;
        PyObject *val = (vn >= 2 && s[v0] == '"' && s[v1 - 1] == '"') ? unquote(s + v0, vn)
                                                                      : PyUnicode_FromStringAndSize(s + v0, vn);
        if (set_pair(out, key, val) < 0) goto fail;
        i = v1;
    }
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
static PyObject *cef_extension(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "cef_extension() takes a str");
        return NULL;
    }
    const char *s;
    Py_ssize_t n;
    PyObject *out = ascii_pairs_dict(arg, &s, &n);
    if (out == NULL || out == Py_None) return out;
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
        PyObject *key = PyUnicode_FromStringAndSize(s + ks, ke - 1 - ks);
        if (key == NULL) goto fail;
        PyObject *val;
        if (memchr(s + v0, '\\', (size_t)(v1 - v0)) == NULL) {
            val = PyUnicode_FromStringAndSize(s + v0, v1 - v0);
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
            val = PyUnicode_FromStringAndSize(buf, m);
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

/* firewall._pairs (mode 0) and auditd._audit_pairs (mode 1) for ASCII text: the line split on
 * whitespace as str.split() does, each token with a `=` a pair (mode 0: its key all of A-Z;
 * mode 1: any non-empty key, a value in double quotes loses them); later keys win. Any token
 * those functions leave to their regex, and any non-ASCII text, gives None: the caller runs its
 * Python function, which decides. */
static PyObject *split_pairs(PyObject *self, PyObject *args) {
    PyObject *text;
    int mode;
    if (!PyArg_ParseTuple(args, "Ui:split_pairs", &text, &mode)) return NULL;
    const char *s;
    Py_ssize_t n, i = 0;
    PyObject *out = ascii_pairs_dict(text, &s, &n);
    if (out == NULL || out == Py_None) return out;
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
        PyObject *key = PyUnicode_FromStringAndSize(s + t0, k1 - t0);
        if (key == NULL) goto fail;
        PyObject *val = PyUnicode_FromStringAndSize(s + v0, v1 - v0);
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

static PyObject *bsd_header(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "bsd_header(line: str, pos: int)");
        return NULL;
    }
    PyObject *line = args[0];
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    if (pos == -1 && PyErr_Occurred()) return NULL;
    if (PyUnicode_READY(line) < 0) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(line);
    int kind = PyUnicode_KIND(line);
    const void *data = PyUnicode_DATA(line);
    int wide = 0; /* a non-ASCII character was read: the regex decides */
    /* the character at i (0 past the end); a non-ASCII one reads as 0x7f, which no literal and
     * no class here accepts except the app's, and sets `wide` */
#define CH(i) ((i) < n ? rd(kind, data, (i), &wide) : (Py_UCS4)0)
#define NOMATCH goto nomatch
    if (pos < 0 || pos + 16 > n) Py_RETURN_NONE; /* the shortest match is 19 characters */
    int month = 0;
    Py_UCS4 c0 = CH(pos), c1 = CH(pos + 1), c2 = CH(pos + 2);
    for (int k = 0; k < 12; k++) {
        if (c0 == (Py_UCS4)MONTH_NAMES[3 * k] && c1 == (Py_UCS4)MONTH_NAMES[3 * k + 1] &&
            c2 == (Py_UCS4)MONTH_NAMES[3 * k + 2]) {
            month = k + 1;
            break;
        }
    }
    if (month == 0) Py_RETURN_NONE; /* three ASCII letters: a non-ASCII one is no month either */
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
    if (wide) Py_RETURN_FALSE;
#undef DIGIT
#undef CH
#undef NOMATCH
    PyObject *host = PyUnicode_Substring(line, h0, h1);
    PyObject *app = host ? PyUnicode_Substring(line, a0, a1) : NULL;
    PyObject *pid = NULL;
    if (app != NULL) {
        if (p0 >= 0) {
            pid = PyUnicode_Substring(line, p0, p1);
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
    return Py_BuildValue("(lllllNNNn)", (long)month, day, hms[0], hms[1], hms[2], host, app, pid, i);
nomatch:
    if (wide) Py_RETURN_FALSE;
    Py_RETURN_NONE;
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

static PyObject *access_common(PyObject *self, PyObject *line) {
    if (!PyUnicode_Check(line)) {
        PyErr_SetString(PyExc_TypeError, "access_common(line: str)");
        return NULL;
    }
    if (PyUnicode_READY(line) < 0) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(line);
    int kind = PyUnicode_KIND(line);
    const void *data = PyUnicode_DATA(line);
    int wide = 0;
#define RAW(i) ((i) < n ? PyUnicode_READ(kind, data, (i)) : (Py_UCS4)0)
#define CH(i) ((i) < n ? rd(kind, data, (i), &wide) : (Py_UCS4)0)
#define NOMATCH goto nomatch
#define DIGIT(c) ((c) >= '0' && (c) <= '9')
    Py_ssize_t i = 0;
    while (i < n && is_hexdot(RAW(i))) i++;
    if (i == 0 || RAW(i) != ' ') NOMATCH;
    Py_ssize_t ip1 = i;
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
    Py_ssize_t u1 = i;
    i++;
    if (RAW(i) != '[') NOMATCH;
    i++;
    Py_ssize_t t0 = i;
    while (i < n && RAW(i) != ']') i++;
    if (i == t0 || i >= n) NOMATCH;
    Py_ssize_t t1 = i;
    i++;
    if (RAW(i) != ' ' || RAW(i + 1) != '"') NOMATCH;
    i += 2;
    Py_ssize_t r0 = i;
    i = quoted_end(kind, data, n, i);
    if (i >= n || RAW(i) != '"') NOMATCH;
    Py_ssize_t r1 = i;
    i++;
    if (RAW(i) != ' ') NOMATCH;
    i++;
    Py_ssize_t st0 = i;
    for (int k = 0; k < 3; k++, i++) {
        c = CH(i);
        if (!DIGIT(c)) NOMATCH;
    }
    if (RAW(i) != ' ') NOMATCH;
    i++;
    Py_ssize_t b0 = i;
    if (RAW(i) == '-') {
        i++;
    } else {
        while (i < n && DIGIT(CH(i))) i++;
        if (i == b0) NOMATCH;
    }
    Py_ssize_t b1 = i;
    /* (?: \d+)? */
    if (RAW(i) == ' ' && i + 1 < n) {
        Py_ssize_t j = i + 1;
        while (j < n && DIGIT(CH(j))) j++;
        if (j > i + 1) i = j;
    }
    /* (?: "ref" "ua")? */
    Py_ssize_t f0 = -1, f1 = -1, a0 = -1, a1 = -1;
    if (RAW(i) == ' ' && RAW(i + 1) == '"') {
        Py_ssize_t j = quoted_end(kind, data, n, i + 2);
        if (j < n && RAW(j) == '"' && RAW(j + 1) == ' ' && RAW(j + 2) == '"') {
            Py_ssize_t k = quoted_end(kind, data, n, j + 3);
            if (k < n && RAW(k) == '"') {
                f0 = i + 2;
                f1 = j;
                a0 = j + 3;
                a1 = k;
            }
        }
    }
    if (wide) Py_RETURN_FALSE;
#undef RAW
#undef CH
#undef NOMATCH
#undef DIGIT
    {
        PyObject *ref = f0 >= 0 ? PyUnicode_Substring(line, f0, f1) : (Py_INCREF(Py_None), Py_None);
        PyObject *ua = a0 >= 0 ? PyUnicode_Substring(line, a0, a1) : (Py_INCREF(Py_None), Py_None);
        return Py_BuildValue("(NNNNNNsNN)", PyUnicode_Substring(line, 0, ip1), PyUnicode_Substring(line, u0, u1),
                             PyUnicode_Substring(line, st0, st0 + 3), PyUnicode_Substring(line, b0, b1),
                             PyUnicode_Substring(line, r0, r1), ua, "", PyUnicode_Substring(line, t0, t1), ref);
    }
nomatch:
    if (wide) Py_RETURN_FALSE;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
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
    {"kv_pairs", kv_pairs, METH_VARARGS,
     "kv_pairs(text, comma) -> dict | None: base.kv_pairs (comma: kv_pairs_comma) for ASCII text; "
     "None for any other text (the caller runs the regex)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_logfast", "Log parsing helpers in C.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__logfast(void) { return PyModule_Create(&module); }
