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
    if (got != 0) return 2;
    for (Py_ssize_t k = 0; k < n; k++)
        if ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] > 0x7e) return 2;
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

static PyObject *S_CS_HOST;

/* parse_access's fields of ASCII s[0:n] (keys and order as it builds them), *t the line's time;
 * None for any line the Python path reads (see above), NULL on an error */
static PyObject *web_access_fields(const char *s, Py_ssize_t n, double *t) {
    web_acc p;
    if (web_access_groups(s, n, &p) != 1) Py_RETURN_NONE;
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
    /* req.split(" "): parts [0, m1), [t0, t1), and the third from t1 + 1 (to its next space) */
    const char *sp1 = memchr(rq, ' ', (size_t)rn);
    const char *sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(rq + rn - sp1 - 1)) : NULL;
    int inline_ = sp2 != NULL && memchr(sp2 + 1, ' ', (size_t)(rq + rn - sp2 - 1)) == NULL; /* 3 parts */
    Py_ssize_t m1 = 0, t0 = 0, t1 = rn, v1 = rn; /* no space: method "", the whole request the target */
    if (sp1 != NULL) {
        m1 = sp1 - rq, t0 = m1 + 1, t1 = sp2 != NULL ? sp2 - rq : rn;
        if (sp2 != NULL) {
            const char *sp3 = memchr(sp2 + 1, ' ', (size_t)(rq + rn - sp2 - 1));
            v1 = sp3 != NULL ? sp3 - rq : rn;
        }
    }
    PyObject *f = PyDict_New(), *v = NULL, *ip = NULL, *target = NULL, *decoded = NULL;
    if (f == NULL) return NULL;
    if (memchr(rq + t0, '%', (size_t)(t1 - t0)) || memchr(rq + t0, '+', (size_t)(t1 - t0))) {
        decoded = web_decode(rq + t0, t1 - t0);
        if (decoded == NULL || decoded == Py_None) goto decline;
    }
#define SET(name, val)                                                   \
    do {                                                                 \
        v = (val);                                                       \
        if (v == NULL || PyDict_SetItem(f, STR[name], v) < 0) goto fail; \
        Py_CLEAR(v);                                                     \
    } while (0)
#define SET_SAME(name, obj) \
    if (PyDict_SetItem(f, STR[name], obj) < 0) goto fail;
    ip = ascii_sub(s, p.ip0, p.ip1);
    if (ip == NULL) goto fail;
    SET_SAME(W_C_IP, ip)
    SET_SAME(K_SRC_IP, ip)
    SET(W_SC_STATUS, PyLong_FromLong((s[p.st0] - '0') * 100 + (s[p.st0 + 1] - '0') * 10 + (s[p.st0 + 2] - '0')));
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
#undef SET_SAME
    Py_DECREF(ip);
    Py_DECREF(target);
    Py_XDECREF(decoded);
    return f;
decline:
    Py_XDECREF(decoded);
    Py_DECREF(f);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
fail:
    Py_XDECREF(v);
    Py_XDECREF(ip);
    Py_XDECREF(target);
    Py_XDECREF(decoded);
    Py_DECREF(f);
    return NULL;
}
