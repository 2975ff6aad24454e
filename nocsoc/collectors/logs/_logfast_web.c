/*
 * _logfast_web.c (included by _logfast.c, before access_fields): web.parse_access's every form
 * in C, not only the common line.
 *
 * Why: the common line (`ip - user [time] "GET /x HTTP/1.1" ...`) was read in C in ~0.8 us, but
 * its variants went to Python at 3-20 us a line: a leading virtual host (`rdp.acme.com 1.2.3.4 -
 * - [...]`, `- 1.2.3.4 ...`), ident `(-)`, a user of several words, nginx's `"-" ` before the
 * request, a request that is not `METHOD target VERSION` (`\x16\x03...`), and a percent-encoded
 * target (decode_uri). Those were a third of SEKOIA's access samples.
 *
 * What is read is exactly what web.access_groups reads (the common walk, then the vhost split and
 * the common walk of the rest, then _COMBINED's match walked with its three backtracking points:
 * the optional vhost, the lazy user words and the optional `"-" `, in the order re tries them)
 * and parse_access builds (the same keys in the same order). The variants are read only in a
 * printable ASCII line; anything not sure (a `\"` escape, a `%u` or a non-ASCII byte in the
 * decoding, a stamp access_epoch does not read, more than 16 places a user could end) gives None:
 * the Python path, the reference (tests/collectors/logs/test_logfast_lines.py compares both).
 */

/* where the access line's groups are (v0 < 0: no vhost; f0/a0 < 0: no referer and user agent) */
typedef struct {
    Py_ssize_t ip0, ip1, u0, u1, t0, t1, r0, r1, st0, b0, b1, f0, f1, a0, a1, v0, v1;
} web_acc;

static void web_from_common(const acc_t *a, Py_ssize_t off, web_acc *p) {
    p->ip0 = off, p->ip1 = a->ip1 + off, p->u0 = a->u0 + off, p->u1 = a->u1 + off, p->t0 = a->t0 + off;
    p->t1 = a->t1 + off, p->r0 = a->r0 + off, p->r1 = a->r1 + off, p->st0 = a->st0 + off, p->b0 = a->b0 + off;
    p->b1 = a->b1 + off;
    p->f0 = a->f0 >= 0 ? a->f0 + off : -1, p->f1 = a->f0 >= 0 ? a->f1 + off : -1;
    p->a0 = a->a0 >= 0 ? a->a0 + off : -1, p->a1 = a->a0 >= 0 ? a->a1 + off : -1;
    p->v0 = p->v1 = -1;
}

/* _COMBINED from the request's opening quote at i: `"req" status bytes( \d+)?( "ref" "ua")?`
 * (decided by one scan: nothing after the bytes can fail the match); 1, or 0 */
static int web_comb_req(const char *s, Py_ssize_t n, Py_ssize_t i, web_acc *p) {
    if (i >= n || s[i] != '"') return 0;
    p->r0 = i + 1;
    i = quoted_end(PyUnicode_1BYTE_KIND, s, n, i + 1);
    if (i >= n || s[i] != '"') return 0;
    p->r1 = i++;
    if (i >= n || s[i] != ' ') return 0;
    p->st0 = ++i;
    for (int k = 0; k < 3; k++, i++)
        if (i >= n || !is_digit(s[i])) return 0;
    if (i >= n || s[i] != ' ') return 0;
    p->b0 = ++i;
    if (i < n && is_digit(s[i])) {
        while (i < n && is_digit(s[i])) i++;
    } else if (i < n && s[i] == '-') {
        i++;
    } else {
        return 0;
    }
    p->b1 = i;
    if (i + 1 < n && s[i] == ' ' && is_digit(s[i + 1])) { /* (?: \d+)? */
        i++;
        while (i < n && is_digit(s[i])) i++;
    }
    p->f0 = p->f1 = p->a0 = p->a1 = -1;
    if (i + 1 < n && s[i] == ' ' && s[i + 1] == '"') { /* (?: "ref" "ua")? */
        Py_ssize_t j = quoted_end(PyUnicode_1BYTE_KIND, s, n, i + 2);
        if (j + 2 < n && s[j] == '"' && s[j + 1] == ' ' && s[j + 2] == '"') {
            Py_ssize_t k = quoted_end(PyUnicode_1BYTE_KIND, s, n, j + 3);
            if (k < n && s[k] == '"') p->f0 = i + 2, p->f1 = j, p->a0 = j + 3, p->a1 = k;
        }
    }
    return 1;
}

/* _COMBINED from its address at i (printable ASCII: \s is a space, \S anything else): 1 on a
 * match, 0 on none, 2 where it is not sure (too many places the lazy user could end) */
static int web_comb_rest(const char *s, Py_ssize_t n, Py_ssize_t i, web_acc *p) {
    Py_ssize_t i0 = i;
    while (i < n && is_hexdot((Py_UCS4)(unsigned char)s[i])) i++;
    if (i == i0 || i >= n || s[i] != ' ') return 0;
    p->ip0 = i0, p->ip1 = i++;
    Py_ssize_t j = i; /* ident: \S+ then a space */
    while (j < n && s[j] != ' ') j++;
    if (j == i || j >= n) return 0;
    p->u0 = i = j + 1;
    /* user: \S+(?: \S+)*? then ` [`: the fewest words first, one more on each failure */
    for (int tries = 0;;) {
        Py_ssize_t e = i;
        while (e < n && s[e] != ' ') e++;
        if (e == i || e >= n) return 0;
        if (e + 1 < n && s[e + 1] == '[') {
            if (++tries > 16) return 2;
            /* \[ts\] then a space: ts up to the first `]` */
            Py_ssize_t t = e + 2;
            while (t < n && s[t] != ']') t++;
            if (t > e + 2 && t + 1 < n && s[t + 1] == ' ') {
                p->u1 = e, p->t0 = e + 2, p->t1 = t;
                Py_ssize_t q = t + 2;
                /* (?:"-" )? taken first, then left */
                if (q + 4 <= n && memcmp(s + q, "\"-\" ", 4) == 0 && web_comb_req(s, n, q + 4, p)) return 1;
                if (web_comb_req(s, n, q, p)) return 1;
            }
        }
        i = e + 1;
    }
}

/* web.access_groups' reading of ASCII s[0:n]: 1 (*p filled), 0 (no access line), 2 (not sure) */
static int web_access_groups(const char *s, Py_ssize_t n, web_acc *p) {
    acc_t a;
    int got = access_walk(PyUnicode_1BYTE_KIND, s, n, &a);
    if (got == 1) {
        web_from_common(&a, 0, p);
        return 1;
    }
    if (got != 0 || !fw_printable(s, n)) return 2;
    /* vhost_split: a first word not all [0-9A-Fa-f:.], then _COMMON of the rest */
    const char *sp = n > 0 ? memchr(s, ' ', (size_t)n) : NULL;
    if (sp != NULL && sp > s) {
        Py_ssize_t h = sp - s, k = 0;
        while (k < h && is_hexdot((Py_UCS4)(unsigned char)s[k])) k++;
        if (k < h && access_walk(PyUnicode_1BYTE_KIND, s + h + 1, n - h - 1, &a) == 1) {
            web_from_common(&a, h + 1, p);
            p->v0 = 0, p->v1 = h;
            return 1;
        }
    }
    /* _COMBINED: `\s*`, then no vhost (lazy), then the first word as the vhost */
    Py_ssize_t i = 0;
    while (i < n && s[i] == ' ') i++;
    got = web_comb_rest(s, n, i, p);
    if (got != 0) {
        p->v0 = p->v1 = -1;
        return got;
    }
    Py_ssize_t j = i;
    while (j < n && s[j] != ' ') j++;
    if (j == i || j >= n) return 0;
    got = web_comb_rest(s, n, j + 1, p);
    if (got == 1) p->v0 = i, p->v1 = j;
    return got;
}

static inline int web_hex(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* web.decode_uri of ASCII t[0:n] (as a new str), when every byte it decodes to is ASCII and no
 * `%u` comes up (IIS's form, which the Python path reads); None where the Python path decides,
 * NULL on an error. unquote_to_bytes: `%` and two hex digits is a byte, any other `%` stays. */
static PyObject *web_decode(const char *t, Py_ssize_t n) {
    char small[512];
    char *buf = 2 * n + 2 <= (Py_ssize_t)sizeof small ? small : PyMem_Malloc((size_t)(2 * n + 2));
    if (buf == NULL) return PyErr_NoMemory();
    char *a = buf, *b = buf + n + 1;
    Py_ssize_t len = n, q = -1;
    memcpy(a, t, (size_t)n);
    for (Py_ssize_t k = 0; k < n; k++) { /* `+` is a space in the query, first round only */
        if (q < 0 && a[k] == '?') q = k;
        else if (q >= 0 && a[k] == '+') a[k] = ' ';
    }
    PyObject *out = NULL;
    for (int round = 0; round < 4; round++) {
        if (memchr(a, '%', (size_t)len) == NULL) break;
        Py_ssize_t m = 0;
        for (Py_ssize_t k = 0; k < len; k++) {
            int hi, lo;
            if (a[k] == '%' && k + 1 < len && (a[k + 1] == 'u' || a[k + 1] == 'U')) {
                out = Py_NewRef(Py_None);
                goto done;
            }
            if (a[k] == '%' && k + 2 < len && (hi = web_hex(a[k + 1])) >= 0 && (lo = web_hex(a[k + 2])) >= 0) {
                if (hi >= 8) { /* a byte past ASCII: UTF-8 decoding, overlong forms: Python's */
                    out = Py_NewRef(Py_None);
                    goto done;
                }
                b[m++] = (char)(hi * 16 + lo);
                k += 2;
            } else {
                b[m++] = a[k];
            }
        }
        if (m == len && memcmp(a, b, (size_t)m) == 0) break;
        char *x = a;
        a = b, b = x, len = m;
    }
    out = PyUnicode_DecodeASCII(a, len, NULL);
done:
    if (buf != small) PyMem_Free(buf);
    return out;
}

/* parse_access's request part (`access` 1: `METHOD target VERSION` inline, in its order; any other
 * request, and every one when `access` is 0, as web._request puts it: _target's fields, then the
 * method and version when not empty; 2: the whole text as _target's target) into f, for ASCII rq[0:rn]: 1, 0 where the Python path
 * decides (a decoding web_decode leaves), -1 on an error */
static int web_request(PyObject *f, const char *rq, Py_ssize_t rn, int access) {
    /* req.split(" "): parts [0, m1), [t0, t1), and the third [t1 + 1, v1) */
    const char *sp1 = access != 2 ? memchr(rq, ' ', (size_t)rn) : NULL; /* (2: the whole text is the target) */
    const char *sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(rq + rn - sp1 - 1)) : NULL;
    const char *sp3 = sp2 != NULL ? memchr(sp2 + 1, ' ', (size_t)(rq + rn - sp2 - 1)) : NULL;
    int inline_ = access == 1 && sp2 != NULL && sp3 == NULL; /* 3 parts */
    Py_ssize_t m1 = 0, t0 = 0, t1 = rn, v1 = rn; /* no space: method "", the whole request the target */
    if (sp1 != NULL) m1 = sp1 - rq, t0 = m1 + 1, t1 = sp2 != NULL ? sp2 - rq : rn;
    if (sp3 != NULL) v1 = sp3 - rq;
    PyObject *v = NULL, *target = NULL, *decoded = NULL;
    if (memchr(rq + t0, '%', (size_t)(t1 - t0)) || memchr(rq + t0, '+', (size_t)(t1 - t0))) {
        decoded = web_decode(rq + t0, t1 - t0);
        if (decoded == NULL) return -1;
        if (decoded == Py_None) {
            Py_DECREF(decoded);
            return 0;
        }
    }
#define SET(name, val)                                                   \
    do {                                                                 \
        v = (val);                                                       \
        if (v == NULL || PyDict_SetItem(f, STR[name], v) < 0) goto fail; \
        Py_CLEAR(v);                                                     \
    } while (0)
#define SET_SAME(name, obj) \
    if (PyDict_SetItem(f, STR[name], obj) < 0) goto fail;
    if (inline_) {
        SET(W_CS_METHOD, ascii_sub(rq, 0, m1));
        SET(W_CS_VERSION, ascii_sub(rq, t1 + 1, rn));
    }
    target = ascii_sub(rq, t0, t1);
    if (target == NULL) goto fail;
    SET_SAME(W_C_URI, target)
    SET_SAME(W_CS_URI_QUERY, target)
    Py_ssize_t q = t0;
    while (q < t1 && rq[q] != '?') q++; /* stem [t0, q), query (q + 1, t1) */
    if (inline_) SET_SAME(W_CS_URI, target)
    SET(W_CS_URI_STEM, q == t1 ? Py_NewRef(target) : ascii_sub(rq, t0, q));
    if (!inline_) SET_SAME(W_CS_URI, target)
    SET_SAME(W_CS_URI_DECODED, decoded != NULL ? decoded : target)
    if (q + 1 < t1) {
        v = ascii_sub(rq, q + 1, t1);
        if (v == NULL || PyDict_SetItem(f, STR[W_C_URI_QUERY], v) < 0 || PyDict_SetItem(f, STR[W_CS_QUERY], v) < 0)
            goto fail;
        Py_CLEAR(v);
    }
    Py_ssize_t dot = -1, slash = -1;
    for (Py_ssize_t k = t0; k < q; k++) {
        if (rq[k] == '.') dot = k;
        else if (rq[k] == '/') slash = k;
    }
    if (dot > slash) SET(W_C_URI_EXTENSION, ascii_sub(rq, dot + 1, q));
    if (!inline_ && m1 > 0) SET(W_CS_METHOD, ascii_sub(rq, 0, m1));
    if (!inline_ && sp2 != NULL && v1 > t1 + 1) SET(W_CS_VERSION, ascii_sub(rq, t1 + 1, v1));
#undef SET
#undef SET_SAME
    Py_DECREF(target);
    Py_XDECREF(decoded);
    return 1;
fail:
    Py_XDECREF(v);
    Py_XDECREF(target);
    Py_XDECREF(decoded);
    return -1;
}

static PyObject *S_CS_HOST;

/* parse_access's fields of ASCII s[0:n] (keys and order as it builds them), *t the line's time;
 * None for any line the Python path reads (see above), NULL on an error. *groups (when not NULL):
 * web_access_groups' answer (0: no access line at all, parse_access's None) */
static PyObject *web_access_fields(const char *s, Py_ssize_t n, double *t, int *groups) {
    web_acc p;
    int g = web_access_groups(s, n, &p);
    if (groups != NULL) *groups = g;
    if (g != 1) Py_RETURN_NONE;
    const char *rq = s + p.r0;
    Py_ssize_t rn = p.r1 - p.r0;
    *t = access_epoch(s + p.t0, p.t1 - p.t0);
    if (*t < 0 || (!memchr(s + p.ip0, '.', (size_t)(p.ip1 - p.ip0)) && !memchr(s + p.ip0, ':', (size_t)(p.ip1 - p.ip0))))
        Py_RETURN_NONE;
    /* `\"` in the request, user agent or referer: the Python path unescapes them */
    if (has(rq, rn, "\\\"") || (p.a0 >= 0 && has(s + p.a0, p.a1 - p.a0, "\\\"")) ||
        (p.f0 >= 0 && has(s + p.f0, p.f1 - p.f0, "\\\"")))
        Py_RETURN_NONE;
    if (S_CS_HOST == NULL && (S_CS_HOST = PyUnicode_InternFromString("cs-host")) == NULL) return NULL;
    PyObject *f = PyDict_New(), *v = NULL, *ip = NULL;
    if (f == NULL) return NULL;
#define SET(name, val)                                                   \
    do {                                                                 \
        v = (val);                                                       \
        if (v == NULL || PyDict_SetItem(f, STR[name], v) < 0) goto fail; \
        Py_CLEAR(v);                                                     \
    } while (0)
    ip = ascii_sub(s, p.ip0, p.ip1);
    if (ip == NULL || PyDict_SetItem(f, STR[W_C_IP], ip) < 0 || PyDict_SetItem(f, STR[K_SRC_IP], ip) < 0) goto fail;
    SET(W_SC_STATUS, PyLong_FromLong((s[p.st0] - '0') * 100 + (s[p.st0 + 1] - '0') * 10 + (s[p.st0 + 2] - '0')));
    int got = web_request(f, rq, rn, 1);
    if (got <= 0) {
        Py_DECREF(ip);
        Py_DECREF(f);
        if (got < 0) return NULL;
        Py_RETURN_NONE;
    }
    if (!(p.u1 - p.u0 == 1 && s[p.u0] == '-')) {
        v = ascii_sub(s, p.u0, p.u1);
        if (v == NULL || PyDict_SetItem(f, STR[W_CS_USERNAME], v) < 0 || PyDict_SetItem(f, STR[K_USER], v) < 0)
            goto fail;
        Py_CLEAR(v);
    }
    if (!(p.b1 - p.b0 == 1 && s[p.b0] == '-') && p.b1 - p.b0 <= 18) SET(W_SC_BYTES, digits_value(s, p.b0, p.b1));
    if (p.a0 >= 0) {
        v = ascii_sub(s, p.a0, p.a1);
        if (v == NULL || PyDict_SetItem(f, STR[W_CS_USER_AGENT], v) < 0 || PyDict_SetItem(f, STR[W_C_USERAGENT], v) < 0)
            goto fail;
        Py_CLEAR(v);
        SET(W_CS_REFERER, ascii_sub(s, p.f0, p.f1));
    }
    if (p.v0 >= 0 && !(p.v1 - p.v0 == 1 && s[p.v0] == '-')) { /* _vhost_fields: host[:port] */
        Py_ssize_t colon = -1, colons = 0;
        for (Py_ssize_t k = p.v0; k < p.v1; k++)
            if (s[k] == ':') colons++, colon = k;
        Py_ssize_t h1 = colons == 1 ? colon : p.v1;
        v = ascii_sub(s, p.v0, h1);
        if (v == NULL || PyDict_SetItem(f, S_CS_HOST, v) < 0) goto fail;
        Py_CLEAR(v);
        if (colons == 1 && p.v1 - colon - 1 >= 1 && p.v1 - colon - 1 <= 18) {
            Py_ssize_t k = colon + 1;
            while (k < p.v1 && is_digit(s[k])) k++;
            if (k == p.v1) SET(K_DST_PORT, digits_value(s, colon + 1, p.v1));
        }
    }
#undef SET
    Py_DECREF(ip);
    return f;
fail:
    Py_XDECREF(v);
    Py_XDECREF(ip);
    Py_DECREF(f);
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * nginx_json: web.parse_nginx_json's mapping of a decoded object (after its decoding and its
 * test that the object is an nginx access document), in C.
 *
 * Why: the mapping (a dict lookup per candidate key, ~30, the request's fields, then every scalar
 * again as `nginx.<key>`) was 10-15 of a 14-22 us line in Python, for a document orjson decodes
 * in ~2. Given web._JSON_ITEMS once (nginx_json_setup), it builds the same fields in the same
 * order; the time stays Python's (iso_epoch, _ts). Anything it is not sure of gives None: a
 * request, URI or query that is not ASCII text, a status, byte count or upstream port that is
 * text but not a plain run of digits, an address test on non-ASCII text.
 * ------------------------------------------------------------------------------------------- */

static PyObject *NJ_ITEMS;  /* web._JSON_ITEMS: ((name, (key, ...)), ...) */
/* the index in NJ_ITEMS of the names the mapping treats apart (-1: none) */
enum { NJ_REQUEST, NJ_URI, NJ_QUERY, NJ_STATUS, NJ_BYTES, NJ_SRC, NJ_DST, NJ_HOST, NJ_UA, NJ_USER, NJ_N };
static const char *const NJ_SPECIAL[NJ_N] = {"request", "uri", "query", "sc-status", "sc-bytes", "src_ip",
                                             "dst_ip", "cs-host", "c-useragent", "cs-username"};
static Py_ssize_t nj_at[NJ_N];
static PyObject *NJ_NAMES;  /* JSON key -> `nginx.<key>` (bounded) */
static PyObject *S_NGINX_DOT, *S_UPSTREAM;

PyObject *nginx_json_setup(PyObject *self, PyObject *items) {
    if (!PyTuple_Check(items)) {
        PyErr_SetString(PyExc_TypeError, "nginx_json_setup(items: tuple of (name, keys))");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(items); k++) {
        PyObject *it = PyTuple_GET_ITEM(items, k);
        if (!PyTuple_Check(it) || PyTuple_GET_SIZE(it) != 2 || !PyUnicode_CheckExact(PyTuple_GET_ITEM(it, 0)) ||
            !PyTuple_Check(PyTuple_GET_ITEM(it, 1))) {
            PyErr_SetString(PyExc_TypeError, "nginx_json_setup: an item is (name, (key, ...))");
            return NULL;
        }
    }
    if (PyTuple_GET_SIZE(items) > 32) {
        PyErr_SetString(PyExc_ValueError, "nginx_json_setup: at most 32 names");
        return NULL;
    }
    for (int j = 0; j < NJ_N; j++) {
        nj_at[j] = -1;
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(items); k++)
            if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(PyTuple_GET_ITEM(items, k), 0), NJ_SPECIAL[j]) == 0)
                nj_at[j] = k;
    }
    if (NJ_NAMES == NULL && (NJ_NAMES = PyDict_New()) == NULL) return NULL;
    static const char *const lits[] = {"nginx.", "upstream_addr"};
    PyObject **slots[] = {&S_NGINX_DOT, &S_UPSTREAM};
    for (int k = 0; k < 2; k++)
        if (*slots[k] == NULL && (*slots[k] = PyUnicode_InternFromString(lits[k])) == NULL) return NULL;
    Py_XSETREF(NJ_ITEMS, Py_NewRef(items));
    Py_RETURN_NONE;
}

/* web._IS_IP.match of str v: 1, 0, or -1 where it is not sure (not ASCII, a control character) */
static int web_is_ip(const char *s, Py_ssize_t n) {
    for (Py_ssize_t k = 0; k < n; k++)
        if ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] > 0x7e) return -1;
    /* \d{1,3}(?:\.\d{1,3}){3} */
    Py_ssize_t i = 0;
    int parts = 0;
    for (; parts < 4; parts++) {
        if (parts > 0) {
            if (i >= n || s[i] != '.') break;
            i++;
        }
        Py_ssize_t d = i;
        while (i < n && i - d < 3 && is_digit(s[i])) i++;
        if (i == d) break;
    }
    if (parts == 4 && i == n) return 1;
    /* [0-9A-Fa-f:]*:[0-9A-Fa-f:.]+ : the first `:` decides (see the walk's reasoning in the tests) */
    const char *c = memchr(s, ':', (size_t)n);
    if (c == NULL || c == s + n - 1) return 0;
    for (const char *p = s; p < c; p++)
        if (!is_hexdot((Py_UCS4)(unsigned char)*p) || *p == '.') return 0;
    for (const char *p = c + 1; p < s + n; p++)
        if (!is_hexdot((Py_UCS4)(unsigned char)*p)) return 0;
    return 1;
}

/* to_int of a str value (a status, a byte count, a port): a new int, the str itself when empty
 * (int("") fails: to_int keeps it), NULL without an error where it is not sure */
static PyObject *web_to_int(PyObject *v) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(v);
    if (n == 0) return Py_NewRef(v);
    if (!PyUnicode_IS_ASCII(v) || n > 18) return NULL;
    const char *s = (const char *)PyUnicode_DATA(v);
    for (Py_ssize_t k = 0; k < n; k++)
        if (!is_digit(s[k])) return NULL;
    return digits_value(s, 0, n);
}

static int nj_empty(PyObject *v) { /* v in (None, "", "-") */
    if (v == Py_None) return 1;
    if (!PyUnicode_CheckExact(v)) return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(v);
    return n == 0 || (n == 1 && PyUnicode_READ_CHAR(v, 0) == '-');
}

/* nginx_json(obj) -> fields | None: parse_nginx_json's fields of an object it has accepted */
PyObject *nginx_json(PyObject *self, PyObject *obj) {
    if (NJ_ITEMS == NULL || !PyDict_CheckExact(obj)) Py_RETURN_NONE;
    Py_ssize_t ni = PyTuple_GET_SIZE(NJ_ITEMS);
    if (ni > 32) Py_RETURN_NONE;
    PyObject *got[32]; /* borrowed: the value of each name, or NULL */
    for (Py_ssize_t k = 0; k < ni; k++) {
        PyObject *keys = PyTuple_GET_ITEM(PyTuple_GET_ITEM(NJ_ITEMS, k), 1);
        got[k] = NULL;
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(keys); j++) {
            PyObject *v = PyDict_GetItemWithError(obj, PyTuple_GET_ITEM(keys, j));
            if (v == NULL && PyErr_Occurred()) return NULL;
            if (v != NULL && !nj_empty(v)) {
                got[k] = v;
                break;
            }
        }
    }
    PyObject *f = PyDict_New(), *v = NULL;
    if (f == NULL) return NULL;
    int ok = 1;
    Py_ssize_t k_req = nj_at[NJ_REQUEST], k_uri = nj_at[NJ_URI], k_query = nj_at[NJ_QUERY];
    int has_req = k_req >= 0 && got[k_req] != NULL;
    if (has_req) { /* _request(fields, str(request)) */
        PyObject *r = got[k_req];
        if (!PyUnicode_CheckExact(r) || !PyUnicode_IS_ASCII(r)) goto decline;
        ok = web_request(f, (const char *)PyUnicode_DATA(r), PyUnicode_GET_LENGTH(r), 0);
    } else if (k_uri >= 0 && got[k_uri] != NULL) { /* _target(fields, target[?query]) */
        PyObject *u = got[k_uri], *q = k_query >= 0 ? got[k_query] : NULL;
        if (!PyUnicode_CheckExact(u) || !PyUnicode_IS_ASCII(u) ||
            (q != NULL && (!PyUnicode_CheckExact(q) || !PyUnicode_IS_ASCII(q))))
            goto decline;
        const char *us = (const char *)PyUnicode_DATA(u);
        Py_ssize_t un = PyUnicode_GET_LENGTH(u), qn = q != NULL ? PyUnicode_GET_LENGTH(q) : 0;
        if (qn > 0 && memchr(us, '?', (size_t)un) == NULL) {
            char *buf = PyMem_Malloc((size_t)(un + qn + 2));
            if (buf == NULL) {
                Py_DECREF(f);
                return PyErr_NoMemory();
            }
            memcpy(buf, us, (size_t)un);
            buf[un] = '?';
            memcpy(buf + un + 1, PyUnicode_DATA(q), (size_t)qn);
            ok = web_request(f, buf, un + 1 + qn, 2);
            PyMem_Free(buf);
        } else {
            ok = web_request(f, us, un, 2);
        }
    }
    if (ok <= 0) goto decline;
    /* the other names found, in order (request popped; the URI too when it was the target; the
     * query always) */
    for (Py_ssize_t k = 0; k < ni; k++) {
        if (got[k] == NULL || k == k_req || k == k_query || (k == k_uri && !has_req)) continue;
        PyObject *name = PyTuple_GET_ITEM(PyTuple_GET_ITEM(NJ_ITEMS, k), 0), *val = got[k];
        int conv = PyUnicode_CheckExact(val) && (k == nj_at[NJ_STATUS] || k == nj_at[NJ_BYTES]);
        if (conv && (v = web_to_int(val)) == NULL) goto decline_err;
        if (PyDict_SetItem(f, name, conv ? v : val) < 0) goto fail;
        Py_CLEAR(v);
    }
#define NJ_GOT(j) (nj_at[j] >= 0 ? got[nj_at[j]] : NULL)
    PyObject *src = NJ_GOT(NJ_SRC), *dst = NJ_GOT(NJ_DST), *host = NJ_GOT(NJ_HOST), *ua = NJ_GOT(NJ_UA),
             *user = NJ_GOT(NJ_USER);
#undef NJ_GOT
    if (src != NULL && PyDict_SetItem(f, STR[W_C_IP], src) < 0) goto fail;
    if (dst == NULL) {
        PyObject *up = PyDict_GetItemWithError(obj, S_UPSTREAM);
        if (up == NULL && PyErr_Occurred()) goto fail;
        int done = 0;
        if (up != NULL && PyUnicode_CheckExact(up)) {
            if (!PyUnicode_IS_ASCII(up)) goto decline;
            const char *us = (const char *)PyUnicode_DATA(up);
            Py_ssize_t un = PyUnicode_GET_LENGTH(up);
            const char *c = memchr(us, ':', (size_t)un);
            if (c != NULL && memchr(c + 1, ':', (size_t)(us + un - c - 1)) == NULL) { /* one `:` */
                int ip = web_is_ip(us, c - us);
                if (ip < 0) goto decline;
                if (ip) {
                    PyObject *port = ascii_sub(us, c + 1 - us, un);
                    if (port == NULL) goto fail;
                    v = web_to_int(port);
                    Py_DECREF(port);
                    if (v == NULL) goto decline_err;
                    if (put(f, K_DST_IP, ascii_sub(us, 0, c - us)) < 0 || PyDict_SetItem(f, STR[K_DST_PORT], v) < 0)
                        goto fail;
                    Py_CLEAR(v);
                    done = 1;
                }
            }
        }
        if (!done && host != NULL && PyUnicode_CheckExact(host)) {
            if (!PyUnicode_IS_ASCII(host)) goto decline;
            int ip = web_is_ip((const char *)PyUnicode_DATA(host), PyUnicode_GET_LENGTH(host));
            if (ip < 0) goto decline;
            if (ip && PyDict_SetItem(f, STR[K_DST_IP], host) < 0) goto fail;
        }
    }
    if (ua != NULL && PyDict_SetItem(f, STR[W_CS_USER_AGENT], ua) < 0) goto fail;
    if (user != NULL && PyDict_SetItem(f, STR[K_USER], user) < 0) goto fail;
    /* every scalar as `nginx.<key>` */
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    while (PyDict_Next(obj, &pos, &key, &val)) {
        if (!(PyUnicode_CheckExact(val) || PyLong_CheckExact(val) || PyFloat_CheckExact(val) || PyBool_Check(val)))
            continue;
        if (!PyUnicode_CheckExact(key)) goto decline;
        PyObject *nk = PyDict_GetItemWithError(NJ_NAMES, key);
        if (nk == NULL) {
            if (PyErr_Occurred()) goto fail;
            nk = PyUnicode_Concat(S_NGINX_DOT, key);
            if (nk == NULL) goto fail;
            if (PyDict_GET_SIZE(NJ_NAMES) < 4096 && PyDict_SetItem(NJ_NAMES, key, nk) < 0) {
                Py_DECREF(nk);
                goto fail;
            }
            int rc = PyDict_SetItem(f, nk, val);
            Py_DECREF(nk);
            if (rc < 0) goto fail;
        } else if (PyDict_SetItem(f, nk, val) < 0) {
            goto fail;
        }
    }
    return f;
decline_err:
    if (PyErr_Occurred()) goto fail;
decline:
    Py_XDECREF(v);
    Py_DECREF(f);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(v);
    Py_DECREF(f);
    return NULL;
}

#define LOGFAST_WEB_METHODS                                                                            \
    {"nginx_json_setup", nginx_json_setup, METH_O, "nginx_json_setup(items): web._JSON_ITEMS, read once."}, \
    {"nginx_json", nginx_json, METH_O,                                                                 \
     "nginx_json(obj) -> fields | None: parse_nginx_json's fields of an object it accepted; None: "    \
     "Python reads it."},

/* ---------------------------------------------------------------------------------------------
 * apache_error / nginx_error: web.parse_apache_error's and parse_nginx_error's fields for a
 * printable ASCII message, their regexes walked here (each choice re could backtrack into tried
 * in its order). Why: their matches and findall were 3-7 us of a 4-9 us line. None for any other
 * message (non-ASCII, a control character, a decoding web_decode leaves): the Python path decides.
 * ------------------------------------------------------------------------------------------- */

static PyObject *S_LEVEL, *S_MODULE, *S_SRC_PORT_W, *S_MODSEC[4], *S_NGINX_KV[3];
static const char *const MODSEC_KEYS[6] = {"uri", "hostname", "id", "msg", "severity", "unique_id"};
static const char *const NGINX_KV_KEYS[8] = {"client", "server", "request", "upstream", "host", "referrer", "peer",
                                              "responder"};

static int web_err_init(void) {
    if (S_LEVEL != NULL) return 0;
    static const char *const lits[] = {"module", "src_port", "modsec_id", "modsec_msg", "modsec_severity",
                                       "modsec_unique_id", "nginx_upstream", "nginx_peer", "nginx_responder",
                                       "cs-host", "level"};
    PyObject **slots[] = {&S_MODULE, &S_SRC_PORT_W, &S_MODSEC[0], &S_MODSEC[1], &S_MODSEC[2], &S_MODSEC[3],
                          &S_NGINX_KV[0], &S_NGINX_KV[1], &S_NGINX_KV[2], &S_CS_HOST, &S_LEVEL};
    for (int k = 0; k < 11; k++)
        if (*slots[k] == NULL && (*slots[k] = PyUnicode_InternFromString(lits[k])) == NULL) return -1;
    return 0;
}

static inline int w_lower(char c) { return c >= 'a' && c <= 'z'; }
static inline int w_upper(char c) { return c >= 'A' && c <= 'Z'; }
static inline int w_word(char c) { return w_lower(c) || w_upper(c) || is_digit(c) || c == '_'; }
static inline int w_hex(char c) { return web_hex(c) >= 0; }

/* _APACHE_CLIENT's tail ` ?(?::(?P<port>\d+))?\]` at i: its end (past `]`), the port [*p0, *p1)
 * (p0 < 0: none); -1 where it does not match */
static Py_ssize_t ae_client_tail(const char *s, Py_ssize_t n, Py_ssize_t i, Py_ssize_t *p0, Py_ssize_t *p1) {
    *p0 = *p1 = -1;
    if (i < n && s[i] == ' ') i++;
    if (i + 1 < n && s[i] == ':' && is_digit(s[i + 1])) {
        Py_ssize_t j = i + 1;
        while (j < n && is_digit(s[j])) j++;
        if (j < n && s[j] == ']') {
            *p0 = i + 1, *p1 = j;
            return j + 1;
        }
    }
    return i < n && s[i] == ']' ? i + 1 : -1;
}

/* _APACHE_CLIENT's first alternative \d{1,3}(?:\.\d{1,3}){3} from i, then the tail, the part
 * lengths tried longest first (re's order): the address end, or -1 */
static Py_ssize_t ae_quad(const char *s, Py_ssize_t n, Py_ssize_t i, int part, Py_ssize_t *p0, Py_ssize_t *p1) {
    if (part > 0) {
        if (i >= n || s[i] != '.') return -1;
        i++;
    }
    Py_ssize_t d = 0;
    while (d < 3 && i + d < n && is_digit(s[i + d])) d++;
    for (; d >= 1; d--) {
        if (part == 3) {
            if (ae_client_tail(s, n, i + d, p0, p1) >= 0) return i + d;
        } else {
            Py_ssize_t e = ae_quad(s, n, i + d, part + 1, p0, p1);
            if (e >= 0) return e;
        }
    }
    return -1;
}

/* _APACHE_CLIENT.search(s[a:b]): 1 with the address [*i0, *i1) and port (*p0 < 0: none), 0 */
static int ae_client(const char *s, Py_ssize_t a, Py_ssize_t b, Py_ssize_t *i0, Py_ssize_t *i1, Py_ssize_t *p0,
                     Py_ssize_t *p1) {
    for (Py_ssize_t at = find_from(s, b, a, "[client ", 8); at >= 0; at = find_from(s, b, at + 1, "[client ", 8)) {
        Py_ssize_t i = at + 8, e = ae_quad(s, b, i, 0, p0, p1);
        if (e >= 0) {
            *i0 = i, *i1 = e;
            return 1;
        }
        /* [0-9A-Fa-f:.]*[0-9A-Fa-f]: the longest run first, then shorter, ending on a hex digit */
        Py_ssize_t r = i;
        while (r < b && (w_hex(s[r]) || s[r] == ':' || s[r] == '.')) r++;
        for (Py_ssize_t j = r; j > i; j--) {
            if (!w_hex(s[j - 1])) continue;
            if (ae_client_tail(s, b, j, p0, p1) >= 0) {
                *i0 = i, *i1 = j;
                return 1;
            }
        }
    }
    return 0;
}

static int w_set(PyObject *f, PyObject *key, PyObject *v) { /* f[key] = v (consumed): 0 or -1 */
    if (v == NULL) return -1;
    int rc = PyDict_SetItem(f, key, v);
    Py_DECREF(v);
    return rc;
}

/* an error-log message the twins read: printable ASCII text (*s, *n): 1; 0 for any other (the
 * Python path), -1 on an error */
static int web_err_text(PyObject *msg, const char **s, Py_ssize_t *n) {
    if (web_err_init() < 0) return -1;
    if (!PyUnicode_Check(msg) || !PyUnicode_IS_ASCII(msg)) return 0;
    *s = (const char *)PyUnicode_DATA(msg);
    *n = PyUnicode_GET_LENGTH(msg);
    return fw_printable(*s, *n);
}

/* apache_error(msg) -> fields | None */
PyObject *apache_error(PyObject *self, PyObject *msg) {
    const char *s;
    Py_ssize_t n;
    int ok = web_err_text(msg, &s, &n);
    if (ok <= 0) {
        if (ok < 0) return NULL;
        Py_RETURN_NONE;
    }
    Py_ssize_t i = 0;
    while (i < n && s[i] == ' ') i++;
    /* (?:\[ts\] )? : `[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d [\d:.]+ \d{4}` */
    if (i + 1 < n && s[i] == '[' && w_upper(s[i + 1])) {
        Py_ssize_t j = i + 1;
        int ok = j + 8 <= n && w_upper(s[j]) && w_lower(s[j + 1]) && w_lower(s[j + 2]) && s[j + 3] == ' ' &&
                 w_upper(s[j + 4]) && w_lower(s[j + 5]) && w_lower(s[j + 6]) && s[j + 7] == ' ';
        if (ok) {
            j += 8;
            ok = j + 3 <= n && (s[j] == ' ' || is_digit(s[j])) && is_digit(s[j + 1]) && s[j + 2] == ' ';
            j += 3;
        }
        Py_ssize_t r = j;
        while (ok && j < n && (is_digit(s[j]) || s[j] == ':' || s[j] == '.')) j++;
        ok = ok && j > r && j + 7 <= n && s[j] == ' ' && is_digit(s[j + 1]) && is_digit(s[j + 2]) &&
             is_digit(s[j + 3]) && is_digit(s[j + 4]) && s[j + 5] == ']' && s[j + 6] == ' ';
        if (!ok) Py_RETURN_NONE; /* (without the stamp, `[` then an upper-case letter: no level) */
        i = j + 7;
    }
    /* \[(?:([\w-]*):)?([a-z]+\d?)\] */
    if (i >= n || s[i] != '[') Py_RETURN_NONE;
    i++;
    Py_ssize_t m0 = i, m1 = -1;
    Py_ssize_t r = i;
    while (r < n && (w_word(s[r]) || s[r] == '-')) r++;
    if (r < n && s[r] == ':') m1 = r, i = r + 1;
    Py_ssize_t l0 = i;
    while (i < n && w_lower(s[i])) i++;
    if (i == l0) Py_RETURN_NONE;
    if (i < n && is_digit(s[i])) i++;
    if (i >= n || s[i] != ']') Py_RETURN_NONE;
    Py_ssize_t l1 = i, rest = i + 1;
    PyObject *f = PyDict_New();
    if (f == NULL) return NULL;
    Py_ssize_t a = rest, b = n; /* rest.strip() */
    while (a < b && s[a] == ' ') a++;
    while (b > a && s[b - 1] == ' ') b--;
    if (w_set(f, S_LEVEL, ascii_sub(s, l0, l1)) < 0 || w_set(f, STR[K_MESSAGE], ascii_sub(s, a, b)) < 0) goto fail;
    if (m1 > m0 && w_set(f, S_MODULE, ascii_sub(s, m0, m1)) < 0) goto fail;
    /* _APACHE_PID.search(rest): `[pid \d+(?::tid \d+)?]` */
    for (Py_ssize_t at = find_from(s, n, rest, "[pid ", 5); at >= 0; at = find_from(s, n, at + 1, "[pid ", 5)) {
        Py_ssize_t d0 = at + 5, d = d0;
        while (d < n && is_digit(s[d])) d++;
        if (d == d0) continue;
        Py_ssize_t e = d;
        if (e + 5 < n && memcmp(s + e, ":tid ", 5) == 0 && is_digit(s[e + 5])) {
            Py_ssize_t t = e + 5;
            while (t < n && is_digit(s[t])) t++;
            if (t < n && s[t] == ']') e = t;
        }
        if (e >= n || s[e] != ']') continue;
        if (d - d0 <= 18 && w_set(f, STR[K_PID], digits_value(s, d0, d)) < 0) goto fail;
        break;
    }
    Py_ssize_t i0, i1, p0, p1;
    if (ae_client(s, rest, n, &i0, &i1, &p0, &p1)) {
        PyObject *ip = ascii_sub(s, i0, i1);
        if (ip == NULL || PyDict_SetItem(f, STR[K_SRC_IP], ip) < 0 || PyDict_SetItem(f, STR[W_C_IP], ip) < 0) {
            Py_XDECREF(ip);
            goto fail;
        }
        Py_DECREF(ip);
        if (p0 >= 0 && p1 - p0 <= 18 && w_set(f, S_SRC_PORT_W, digits_value(s, p0, p1)) < 0) goto fail;
    }
    if (find_from(s, n, rest, "ModSecurity", 11) >= 0) { /* _MODSEC.findall(rest) */
        Py_ssize_t at = rest;
        while ((at = find_from(s, n, at, "[", 1)) >= 0) {
            int k = -1;
            Py_ssize_t kn = 0;
            for (int q = 0; q < 6 && k < 0; q++) {
                kn = (Py_ssize_t)strlen(MODSEC_KEYS[q]);
                if (at + 1 + kn <= n && memcmp(s + at + 1, MODSEC_KEYS[q], (size_t)kn) == 0) k = q;
            }
            Py_ssize_t j = at + 1 + kn, v0, v1;
            if (k < 0 || j >= n || s[j] != ' ') {
                at++;
                continue;
            }
            while (j < n && s[j] == ' ') j++;
            if (j >= n || s[j] != '"') {
                at++;
                continue;
            }
            v0 = j + 1;
            v1 = v0;
            while (v1 < n && s[v1] != '"') v1++;
            if (v1 + 1 >= n || s[v1 + 1] != ']') {
                at++;
                continue;
            }
            if (k == 0) {
                int got = web_request(f, s + v0, v1 - v0, 2);
                if (got < 0) goto fail;
                if (got == 0) goto decline;
            } else if (k == 1) {
                if (w_set(f, S_CS_HOST, ascii_sub(s, v0, v1)) < 0) goto fail;
            } else if (w_set(f, S_MODSEC[k - 2], ascii_sub(s, v0, v1)) < 0) {
                goto fail;
            }
            at = v1 + 2;
        }
    }
    return f;
decline:
    Py_DECREF(f);
    Py_RETURN_NONE;
fail:
    Py_DECREF(f);
    return NULL;
}

/* nginx_error(msg) -> fields | None */
PyObject *nginx_error(PyObject *self, PyObject *msg) {
    const char *s;
    Py_ssize_t n;
    int ok = web_err_text(msg, &s, &n);
    if (ok <= 0) {
        if (ok < 0) return NULL;
        Py_RETURN_NONE;
    }
    /* \d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\] (\d+)#(\d+): (?:\*(\d+) )?(.*) */
    static const char shape[] = "dddd/dd/dd dd:dd:dd [";
    if (n < 21) Py_RETURN_NONE;
    for (int k = 0; k < 21; k++)
        if (shape[k] == 'd' ? !is_digit(s[k]) : s[k] != shape[k]) Py_RETURN_NONE;
    Py_ssize_t i = 21, l0 = 21;
    while (i < n && w_word(s[i])) i++;
    if (i == l0 || i + 1 >= n || s[i] != ']' || s[i + 1] != ' ') Py_RETURN_NONE;
    Py_ssize_t l1 = i, d0 = i + 2, d1;
    i = d0;
    while (i < n && is_digit(s[i])) i++;
    if (i == d0 || i >= n || s[i] != '#') Py_RETURN_NONE;
    d1 = i++;
    Py_ssize_t t0 = i;
    while (i < n && is_digit(s[i])) i++;
    if (i == t0 || i + 1 >= n || s[i] != ':' || s[i + 1] != ' ') Py_RETURN_NONE;
    i += 2;
    if (i + 1 < n && s[i] == '*' && is_digit(s[i + 1])) {
        Py_ssize_t j = i + 1;
        while (j < n && is_digit(s[j])) j++;
        if (j < n && s[j] == ' ') i = j + 1;
    }
    Py_ssize_t x0 = i; /* the text */
    PyObject *f = PyDict_New();
    if (f == NULL) return NULL;
    if (w_set(f, S_LEVEL, ascii_sub(s, l0, l1)) < 0 ||
        w_set(f, STR[K_PID], d1 - d0 <= 18 ? digits_value(s, d0, d1) : Py_NewRef(Py_None)) < 0 ||
        w_set(f, STR[K_MESSAGE], ascii_sub(s, x0, n)) < 0)
        goto fail;
    /* _NGINX_KV.findall(text): `, (key): ("QUOTED"|[^,]*)` */
    Py_ssize_t at = x0;
    while ((at = find_from(s, n, at, ", ", 2)) >= 0) {
        int k = -1;
        Py_ssize_t kn = 0;
        for (int q = 0; q < 8 && k < 0; q++) {
            kn = (Py_ssize_t)strlen(NGINX_KV_KEYS[q]);
            if (at + 2 + kn + 2 <= n && memcmp(s + at + 2, NGINX_KV_KEYS[q], (size_t)kn) == 0 &&
                s[at + 2 + kn] == ':' && s[at + 3 + kn] == ' ')
                k = q;
        }
        if (k < 0) {
            at++;
            continue;
        }
        Py_ssize_t v0 = at + 4 + kn, v1 = -1, end;
        if (v0 < n && s[v0] == '"') {
            Py_ssize_t q = quoted_end(PyUnicode_1BYTE_KIND, s, n, v0 + 1);
            if (q < n && s[q] == '"') v1 = q + 1;
        }
        if (v1 < 0) {
            v1 = v0;
            while (v1 < n && s[v1] != ',') v1++;
        }
        end = v1;
        if (v1 > v0 && s[v0] == '"') { /* v[1:-1] */
            v0++, v1--;
            if (v1 < v0) v1 = v0;
        }
        switch (k) {
        case 0: { /* client */
            PyObject *ip = ascii_sub(s, v0, v1);
            if (ip == NULL || PyDict_SetItem(f, STR[K_SRC_IP], ip) < 0 || PyDict_SetItem(f, STR[W_C_IP], ip) < 0) {
                Py_XDECREF(ip);
                goto fail;
            }
            Py_DECREF(ip);
            break;
        }
        case 2: { /* request */
            int got = web_request(f, s + v0, v1 - v0, 0);
            if (got < 0) goto fail;
            if (got == 0) goto decline;
            break;
        }
        case 1:
        case 4: { /* server, host: setdefault */
            int has_host = PyDict_Contains(f, S_CS_HOST);
            if (has_host < 0 || (!has_host && w_set(f, S_CS_HOST, ascii_sub(s, v0, v1)) < 0)) goto fail;
            break;
        }
        case 5:
            if (w_set(f, STR[W_CS_REFERER], ascii_sub(s, v0, v1)) < 0) goto fail;
            break;
        default: /* upstream, peer, responder */
            if (w_set(f, S_NGINX_KV[k == 3 ? 0 : k == 6 ? 1 : 2], ascii_sub(s, v0, v1)) < 0) goto fail;
        }
        at = end;
    }
    return f;
decline:
    Py_DECREF(f);
    Py_RETURN_NONE;
fail:
    Py_DECREF(f);
    return NULL;
}

#undef LOGFAST_WEB_METHODS
#define LOGFAST_WEB_METHODS                                                                            \
    {"nginx_json_setup", nginx_json_setup, METH_O, "nginx_json_setup(items): web._JSON_ITEMS, read once."}, \
    {"nginx_json", nginx_json, METH_O,                                                                 \
     "nginx_json(obj) -> fields | None: parse_nginx_json's fields of an object it accepted; None: "    \
     "Python reads it."},                                                                              \
    {"apache_error", apache_error, METH_O,                                                             \
     "apache_error(msg) -> fields | None: parse_apache_error's fields; None: Python reads it."},       \
    {"nginx_error", nginx_error, METH_O,                                                               \
     "nginx_error(msg) -> fields | None: parse_nginx_error's fields; None: Python reads it."},
