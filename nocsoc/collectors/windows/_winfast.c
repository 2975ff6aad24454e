/*
 * _winfast: an EVTX record -> the flat Sigma fields, in C. Four functions:
 *   - record_fields: the record's JSON text straight to the flat fields (what EVTX files use);
 *   - record_fields_lazy: the same fields as a Fields (_winfields.c), string values made when read;
 *   - flatten_record: the record's decoded JSON (dicts) to the flat fields (this comment);
 *   - epoch: SystemTime's text to epoch seconds.
 * Each is the exact twin of its Python reference for the inputs it takes and declines (None:
 * the caller runs the reference) the rest; each is described where it is defined.
 *
 * Why C: on full chunks the Rust parser spends ~4 us on a record and the Python mapping after
 * it ~13 us, of which nocsoc.collectors.windows.fields.flatten_record took ~4.4 us: a Python
 * loop over System's ~13 children (four of them attribute elements) and EventData's ~18. This
 * walks the same dicts with the C API (~1 us).
 *
 * It is the exact twin of flatten_record for the documents evtx renders every day, and declines
 * (returns None, so the caller runs the Python reference) everything else:
 *   - doc, Event, System, an attribute element, its #attributes, EventData and UserData must be
 *     exact dicts (a dict subclass could override what `.get` does);
 *   - System's EventID must be an exact int (the reference converts or raises NotAnEvent);
 *   - every EventData / UserData child must have a name without a space and not starting with
 *     '#' (but `#attributes`, which both drop), and a value that is no dict and no list (the
 *     reference squeezes names, keeps `#text` as `Data`, descends into wrapper elements and
 *     joins lists).
 * Within those, it does what the reference does, in the same order, so the dicts are equal with
 * the same key order. tests/collectors/windows/test_winfast.py compares the two on every record
 * of SigmaHQ's regression data, on SigmaHQ's own JSON renderings and on random mutations.
 */
#include "_winfast.h"

static PyObject *s_event, *s_system, *s_eventdata, *s_userdata, *s_attributes, *s_text, *s_eventid;

/* 1: `key` is a plain name (no space, not starting with '#'); 0: it is not; -1: not a str. */
static int plain_name(PyObject *key) {
    if (!PyUnicode_CheckExact(key)) return -1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(key);
    if (n > 0 && PyUnicode_READ_CHAR(key, 0) == '#') return 0;
    Py_ssize_t at = PyUnicode_FindChar(key, ' ', 0, n, 1);
    if (at == -2) return -1;
    return at == -1;
}

/* EventData / UserData children into `out`: 1 done, 0 declined, -1 error. */
static int data_into(PyObject *out, PyObject *data) {
    if (!PyDict_CheckExact(data)) return 0;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(data, &pos, &k, &v)) {
        int plain = plain_name(k);
        if (plain < 0) {
            if (PyErr_Occurred()) return -1;
            return 0;
        }
        if (!plain) {  /* the element's own attributes (`<EventData Name=...>`) are dropped */
            int attrs = PyUnicode_Compare(k, s_attributes);
            if (attrs == -1 && PyErr_Occurred()) return -1;
            if (attrs == 0) continue;
            return 0;
        }
        if (PyDict_Check(v) || PyList_Check(v)) return 0;
        if (PyDict_SetItem(out, k, v) < 0) return -1;
    }
    return 1;
}

/* One System child that is an element with attributes (and maybe text): 1 done, -1 error. */
static int system_element(PyObject *out, PyObject *k, PyObject *v, PyObject *attrs_by_element) {
    PyObject *attrs = PyDict_GetItemWithError(v, s_attributes);
    if (attrs == NULL && PyErr_Occurred()) return -1;
    if (attrs != NULL) {
        PyObject *names = PyDict_GetItemWithError(attrs_by_element, k);
        if (names == NULL && PyErr_Occurred()) return -1;
        if (names != NULL && PyDict_Check(attrs)) {
            Py_ssize_t pos = 0;
            PyObject *a, *av;
            while (PyDict_Next(attrs, &pos, &a, &av)) {
                PyObject *name = PyDict_GetItemWithError(names, a);
                if (name == NULL) {
                    if (PyErr_Occurred()) return -1;
                    continue;
                }
                if (PyDict_SetItem(out, name, av) < 0) return -1;
            }
        }
    }
    PyObject *text = PyDict_GetItemWithError(v, s_text);
    if (text == NULL) return PyErr_Occurred() ? -1 : 1;
    return PyDict_SetItem(out, k, text) < 0 ? -1 : 1;
}

static PyObject *flatten_record(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyDict_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "flatten_record(doc, attrs_by_element: dict)");
        return NULL;
    }
    PyObject *doc = args[0], *attrs_by_element = args[1];
    if (!PyDict_CheckExact(doc)) Py_RETURN_NONE;
    PyObject *ev = PyDict_GetItemWithError(doc, s_event);
    if (ev == NULL || !PyDict_CheckExact(ev)) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *system = PyDict_GetItemWithError(ev, s_system);
    if (system == NULL || !PyDict_CheckExact(system)) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *out = PyDict_New();
    if (out == NULL) return NULL;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(system, &pos, &k, &v)) {
        if (v == Py_None) continue;
        if (!PyDict_Check(v)) {  /* EventID, Level, Channel, Computer...: most children */
            if (PyDict_SetItem(out, k, v) < 0) goto error;
            continue;
        }
        if (!PyDict_CheckExact(v)) goto decline;
        PyObject *attrs = PyDict_GetItemWithError(v, s_attributes);
        if (attrs != NULL && PyDict_Check(attrs) && !PyDict_CheckExact(attrs)) goto decline;
        if (attrs == NULL && PyErr_Occurred()) goto error;
        if (system_element(out, k, v, attrs_by_element) < 0) goto error;
    }
    PyObject *eid = PyDict_GetItemWithError(out, s_eventid);
    if (eid == NULL || !PyLong_CheckExact(eid)) {
        if (PyErr_Occurred()) goto error;
        goto decline;
    }
    PyObject *parts[2] = {s_eventdata, s_userdata};
    for (int i = 0; i < 2; i++) {
        PyObject *data = PyDict_GetItemWithError(ev, parts[i]);
        if (data == NULL) {
            if (PyErr_Occurred()) goto error;
            continue;
        }
        if (data == Py_None) continue;
        int done = data_into(out, data);
        if (done < 0) goto error;
        if (done == 0) goto decline;
    }
    return out;
decline:
    Py_DECREF(out);
    Py_RETURN_NONE;
error:
    Py_DECREF(out);
    return NULL;
}


/* ------------------------------------------------------------------------------------------
 * record_fields: an EVTX record's JSON text (evtx's evtx_dump form) -> the flat Sigma fields,
 * in one pass over the text, without building the nested dicts first.
 *
 * Why: on full chunks orjson.loads of a record's ~1.5 KB of JSON took ~4 us and flatten_record
 * on the ~25 dicts it builds ~3 us more, for the ~30 values kept. This reads the JSON once and
 * puts each kept value straight into the flat dict: fields.flatten_record_py(orjson.loads(text))
 * for the records evtx writes, and None (run that reference) for anything else:
 *   - text that is not strict JSON as orjson reads it (control characters, bad escapes, lone
 *     surrogates, bad numbers, trailing data), integers outside int64/uint64 (orjson makes them
 *     floats), infinite floats, nesting deeper than MAX_DEPTH (MAX_DATA_DEPTH for elements
 *     inside EventData / UserData), more than MAX_KEYS names in one object;
 *   - a name repeated within one object (orjson keeps the last value: the stream would keep
 *     both), a name written with an escape (it could repeat another in disguise);
 *   - no Event, Event or System not an object, EventData or UserData before System, UserData
 *     before EventData (the reference reads System, then EventData, then UserData);
 *   - System's EventID missing or not an int once System is read (the reference converts or
 *     raises NotAnEvent);
 *   - a list in System, a non-scalar attribute value, a non-scalar `#text`;
 *   - EventData / UserData not an object or null; in them (at any depth) a list, or a name
 *     starting with '#' but `#attributes` (dropped, as the reference drops it).
 * Within those it sets the same keys in the same order as the reference: System's children and
 * their mapped attributes (an element's attributes before its `#text`), then EventData's and
 * UserData's values by name, names squeezed of spaces, wrapper elements descended into.
 * ------------------------------------------------------------------------------------------ */

#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 64       /* skipped values (no per-level state) */
#define MAX_DATA_DEPTH 10  /* EventData / UserData elements: each level keeps a Seen (~3 KB of
                              stack), and real records nest 1-2 deep */
#define MAX_KEYS 128       /* names tracked per object for the repeat check; more: decline */
#define KCACHE 2048       /* interned names (EventData's names repeat on every record) */
#define KCACHE_MAXLEN 64

enum { J_ERR = -1, J_DECLINE = 0, J_OK = 1 };

typedef struct {
    const unsigned char *p, *end;
    PyObject *out, *attrs_by_element;
    int latin1;  /* the text is a 1-byte-kind str's code units (Latin-1), not UTF-8 */
    /* record_fields_lazy: fields go to the entries below, not `out`; a string value is then
       `lazy_marker`, its span in soff/slen (see _winfields.c) */
    int lazy;
    const unsigned char *base;
    uint32_t soff, slen;
} JP;

/* The entries record_fields_lazy collects (the GIL guards them; `lz_busy` while in use, as
   making a str can run a collection, which can run Python code, which can scan a record). */
#define LZ_MAX 256
static WfEnt lz_ent[LZ_MAX];
static Py_hash_t lz_hash[LZ_MAX];
static int lz_n, lz_busy;
static uint64_t lz_bloom;
/* the entries of each bucket (hash & 63): lz_head[b] the last one added, lz_next[i] the one
   before i (-1: none): set_item compares a name with its bucket's keys alone, where it
   compared it with every key so far (~1,500 instructions a record) */
static int16_t lz_head[64], lz_next[LZ_MAX];
static PyObject *lazy_marker;  /* a string value whose str is not made yet */

typedef struct { const unsigned char *s; Py_ssize_t n; uint64_t h; } Span;

typedef struct {
    uint64_t mask;
    int n;
    Span keys[MAX_KEYS];
} Seen;

#define VCACHE 4096
#define VCACHE_MAXLEN 40

static struct { uint64_t h; PyObject *s; } kcache[KCACHE], vcache[VCACHE];

/* A name's hash, for the cache slot and the repeat check (both compare the bytes after it). */
static uint64_t fnv(const unsigned char *s, Py_ssize_t n) {
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
    } else if (n >= 4) {  /* two 4-byte reads that together cover every byte (no byte loop) */
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        a = (uint64_t)x | ((uint64_t)y << 32);
    } else {
        for (Py_ssize_t i = 0; i < n; i++) a = (a << 8) | s[i];
    }
    uint64_t h = (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL) ^ (uint64_t)n;
    return h ^ (h >> 31);
}

/* J_OK: `key` is new in this object; J_DECLINE: repeated (or too many to track). */
static int seen_add(Seen *seen, const unsigned char *s, Py_ssize_t n, uint64_t h) {
    uint64_t bit = 1ULL << (h & 63);
    if (seen->mask & bit) {
        for (int i = 0; i < seen->n; i++)
            if (seen->keys[i].h == h && seen->keys[i].n == n && memcmp(seen->keys[i].s, s, (size_t)n) == 0) return J_DECLINE;
    }
    if (seen->n >= MAX_KEYS) return J_DECLINE;
    seen->mask |= bit;
    seen->keys[seen->n].s = s;
    seen->keys[seen->n].n = n;
    seen->keys[seen->n].h = h;
    seen->n++;
    return J_OK;
}

static inline void ws(JP *j) {
    if (j->p < j->end && *j->p > ' ') return;  /* evtx writes none: the usual case */
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(const unsigned char *s, const unsigned char *end, unsigned *out) {
    if (end - s < 4) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hexval(s[i]);
        if (d < 0) return 0;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 1;
}

/* At a '"': the string's contents [*s, *s + *n), validated as orjson does. J_OK / J_DECLINE. */
static int scan_string(JP *j, const unsigned char **s, Py_ssize_t *n, int *esc, int *ascii) {
    const unsigned char *p = j->p + 1, *end = j->end;
    int e = 0, a = 1;
    *s = p;
    for (;;) {
#ifdef __SSE2__
        /* sixteen plain bytes at a time: none a quote, a backslash, a control character or a
           non-ASCII byte (signed compare: those are negative, so below 0x20 too) */
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
        while (end - p >= 16) {
            __m128i w = _mm_loadu_si128((const __m128i *)p);
            __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, quote), _mm_cmpeq_epi8(w, bslash)),
                                       _mm_cmplt_epi8(w, space));
            int m = _mm_movemask_epi8(hit);
            if (m != 0) { p += __builtin_ctz((unsigned)m); break; }
            p += 16;
        }
#endif
        if (p >= end) return J_DECLINE;
        unsigned char c = *p;
        if (c == '"') break;
        if (c < 0x20) return J_DECLINE;
        if (c >= 0x80) { a = 0; p++; continue; }
        if (c != '\\') { p++; continue; }
        e = 1;
        if (p + 1 >= end) return J_DECLINE;
        c = p[1];
        if (c == 'u') {
            unsigned u;
            if (!hex4(p + 2, end, &u)) return J_DECLINE;
            p += 6;
            if (u >= 0xDC00 && u <= 0xDFFF) return J_DECLINE;      /* lone low surrogate */
            if (u >= 0xD800 && u <= 0xDBFF) {                      /* needs its low half */
                unsigned lo;
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, end, &lo)
                    || lo < 0xDC00 || lo > 0xDFFF) return J_DECLINE;
                p += 6;
            }
            continue;
        }
        if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' && c != 't')
            return J_DECLINE;
        p += 2;
    }
    *n = p - *s;
    *esc = e;
    *ascii = a;
    j->p = p + 1;
    return J_OK;
}

static void put_utf8(unsigned char **q, unsigned u) {
    unsigned char *o = *q;
    if (u < 0x80) { *o++ = (unsigned char)u; }
    else if (u < 0x800) { *o++ = (unsigned char)(0xC0 | (u >> 6)); *o++ = (unsigned char)(0x80 | (u & 0x3F)); }
    else if (u < 0x10000) {
        *o++ = (unsigned char)(0xE0 | (u >> 12)); *o++ = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
        *o++ = (unsigned char)(0x80 | (u & 0x3F));
    } else {
        *o++ = (unsigned char)(0xF0 | (u >> 18)); *o++ = (unsigned char)(0x80 | ((u >> 12) & 0x3F));
        *o++ = (unsigned char)(0x80 | ((u >> 6) & 0x3F)); *o++ = (unsigned char)(0x80 | (u & 0x3F));
    }
    *q = o;
}

/* The str of a scanned string (escapes already validated by scan_string). New reference. */
/* One JSON escape at *pp (a backslash): its code point, *pp moved past it (and past the low half
   of a surrogate pair). The text was validated by the scanner, so the escape is complete. */
static unsigned json_escape(const unsigned char **pp, const unsigned char *end) {
    const unsigned char *p = *pp;
    unsigned char c = p[1];
    if (c == 'u') {
        unsigned u = 0, lo = 0;
        hex4(p + 2, end, &u);
        p += 6;
        if (u >= 0xD800 && u <= 0xDBFF) {
            hex4(p + 2, end, &lo);
            p += 6;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        }
        *pp = p;
        return u;
    }
    *pp = p + 2;
    switch (c) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return c;  /* " \ / */
    }
}

/* The text is either UTF-8 or (`latin1`) a 1-byte-kind str's own code units: Latin-1. */
static PyObject *make_string_latin1_esc(const unsigned char *s, Py_ssize_t n);

static PyObject *make_string(const unsigned char *s, Py_ssize_t n, int esc, int ascii, int latin1) {
    if (!esc) {
        if (ascii) {
            PyObject *u = PyUnicode_New(n, 127);
            if (u != NULL) memcpy(PyUnicode_DATA(u), s, (size_t)n);
            return u;
        }
        return latin1 ? PyUnicode_DecodeLatin1((const char *)s, n, NULL)
                      : PyUnicode_DecodeUTF8((const char *)s, n, "strict");
    }
    if (latin1) return make_string_latin1_esc(s, n);
    /* an escape never makes the UTF-8 longer than its own text (\uXXXX: 6 bytes -> <= 3,
       a surrogate pair: 12 -> 4) */
    unsigned char stackbuf[512];
    unsigned char *buf = n <= (Py_ssize_t)sizeof stackbuf ? stackbuf : PyMem_Malloc((size_t)n);
    if (buf == NULL) return PyErr_NoMemory();
    unsigned char *q = buf;
    const unsigned char *p = s, *end = s + n;
    while (p < end) {
        if (*p != '\\') { *q++ = *p++; continue; }
        put_utf8(&q, json_escape(&p, end));
    }
    /* (gcc cannot see that the loop wrote buf[0, q - buf) before this reads it) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
    PyObject *u = PyUnicode_DecodeUTF8((const char *)buf, q - buf, "strict");
#pragma GCC diagnostic pop
    if (buf != stackbuf) PyMem_Free(buf);
    return u;
}

/* A string with escapes in Latin-1 text: decoded to code points, then the narrowest str. */
static PyObject *make_string_latin1_esc(const unsigned char *s, Py_ssize_t n) {
    Py_UCS4 stackbuf[256];
    Py_UCS4 *buf = n <= (Py_ssize_t)(sizeof stackbuf / sizeof stackbuf[0]) ? stackbuf
                   : PyMem_Malloc((size_t)n * sizeof(Py_UCS4));
    if (buf == NULL) return PyErr_NoMemory();
    Py_UCS4 *q = buf;
    const unsigned char *p = s, *end = s + n;
    while (p < end) {
        if (*p != '\\') { *q++ = *p++; continue; }
        *q++ = json_escape(&p, end);
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
    PyObject *u = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, q - buf);
#pragma GCC diagnostic pop
    if (buf != stackbuf) PyMem_Free(buf);
    return u;
}

/* A name (no escape: the caller declines those) as a str, interned through kcache. New ref. */
static PyObject *make_key(JP *j, const unsigned char *s, Py_ssize_t n, int ascii, uint64_t h) {
    if (!ascii || n > KCACHE_MAXLEN) return make_string(s, n, 0, ascii, j->latin1);
    size_t slot = (size_t)(h ^ (h >> 29)) & (KCACHE - 1);
    PyObject *c = kcache[slot].s;
    if (c != NULL && kcache[slot].h == h && PyUnicode_GET_LENGTH(c) == n
        && memcmp(PyUnicode_DATA(c), s, (size_t)n) == 0) {
        Py_INCREF(c);
        return c;
    }
    PyObject *u = make_string(s, n, 0, 1, 0);
    if (u == NULL) return NULL;
    /* interned, as the names in code are: a Fields finds a name by identity first */
    PyUnicode_InternInPlace(&u);
    Py_XSETREF(kcache[slot].s, u);
    Py_INCREF(u);
    kcache[slot].h = h;
    return u;
}

/* A short ASCII value (no escape) as a str, through vcache: "-", "0x0", "%%1833", channel and
   host names, provider GUIDs repeat from record to record; a str made once and shared (they are
   immutable) saves its allocation and the later free. New reference. */
/* A value goes into the cache the second time its hash is seen (`vseen`, hashes only): values
   that never repeat (GUIDs, times, record ids) then never evict a shared one, whose eviction
   touched its (by then cold) str to drop the cache's reference: half of this function's time
   on the benign day. */
static uint64_t vseen[VCACHE];

static PyObject *cached_value(const unsigned char *s, Py_ssize_t n) {
    uint64_t h = fnv(s, n);
    size_t slot = (size_t)(h ^ (h >> 23)) & (VCACHE - 1);
    PyObject *c = vcache[slot].s;
    if (c != NULL && vcache[slot].h == h && PyUnicode_GET_LENGTH(c) == n
        && memcmp(PyUnicode_DATA(c), s, (size_t)n) == 0) {
        Py_INCREF(c);
        return c;
    }
    PyObject *u = make_string(s, n, 0, 1, 0);
    if (u == NULL) return NULL;
    if (vseen[slot] != h) {  /* first sighting (or the slot's last one was another value) */
        vseen[slot] = h;
        return u;
    }
    Py_XSETREF(vcache[slot].s, u);
    Py_INCREF(u);
    vcache[slot].h = h;
    return u;
}

PyObject *wf_make_string(const unsigned char *s, Py_ssize_t n, int esc, int ascii, int latin1) {
    return make_string(s, n, esc, ascii, latin1);
}

PyObject *wf_cached_value(const unsigned char *s, Py_ssize_t n) {
    return cached_value(s, n);
}

/* A number (JSON grammar) -> int or float as orjson gives it; J_DECLINE where they could differ. */
static int parse_number(JP *j, PyObject **v) {
    const unsigned char *p = j->p, *end = j->end, *start = p;
    int neg = 0, isfloat = 0;
    if (p < end && *p == '-') { neg = 1; p++; }
    if (p >= end) return J_DECLINE;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') { while (p < end && *p >= '0' && *p <= '9') p++; }
    else return J_DECLINE;
    const unsigned char *int_end = p;
    if (p < end && *p == '.') {
        isfloat = 1; p++;
        if (p >= end || !(*p >= '0' && *p <= '9')) return J_DECLINE;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        isfloat = 1; p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || !(*p >= '0' && *p <= '9')) return J_DECLINE;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    j->p = p;
    if (v == NULL) return J_OK;  /* skipping */
    if (!isfloat) {
        uint64_t acc = 0;
        for (const unsigned char *d = start + neg; d < int_end; d++) {
            unsigned dig = (unsigned)(*d - '0');
            if (acc > (UINT64_MAX - dig) / 10) return J_DECLINE;
            acc = acc * 10 + dig;
        }
        if (neg) {
            if (acc > (uint64_t)INT64_MAX + 1) return J_DECLINE;
            *v = acc == (uint64_t)INT64_MAX + 1 ? PyLong_FromLongLong(INT64_MIN)
                                                : PyLong_FromLongLong(-(long long)acc);
        } else {
            *v = PyLong_FromUnsignedLongLong(acc);
        }
        return *v == NULL ? J_ERR : J_OK;
    }
    char buf[64];
    if (p - start >= (Py_ssize_t)sizeof buf) return J_DECLINE;
    memcpy(buf, start, (size_t)(p - start));
    buf[p - start] = 0;
    char *endp = NULL;
    double d = PyOS_string_to_double(buf, &endp, NULL);
    if (d == -1.0 && PyErr_Occurred()) return J_ERR;
    if (endp != buf + (p - start) || isinf(d) || isnan(d)) return J_DECLINE;
    *v = PyFloat_FromDouble(d);
    return *v == NULL ? J_ERR : J_OK;
}

static int literal(JP *j, const char *word, size_t n) {
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return J_DECLINE;
    j->p += n;
    return J_OK;
}

static int skip_value(JP *j, int depth);

/* At '{': calls back for nothing, just validates and skips (repeats are irrelevant here: the
   value is dropped whichever copy orjson keeps). */
static int skip_container(JP *j, int depth, unsigned char open) {
    unsigned char close = open == '{' ? '}' : ']';
    if (depth > MAX_DEPTH) return J_DECLINE;
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == close) { j->p++; return J_OK; }
    for (;;) {
        int r;
        if (open == '{') {
            const unsigned char *s; Py_ssize_t n; int e, a;
            if (j->p >= j->end || *j->p != '"') return J_DECLINE;
            if ((r = scan_string(j, &s, &n, &e, &a)) != J_OK) return r;
            ws(j);
            if (j->p >= j->end || *j->p != ':') return J_DECLINE;
            j->p++;
            ws(j);
        }
        if ((r = skip_value(j, depth + 1)) != J_OK) return r;
        ws(j);
        if (j->p >= j->end) return J_DECLINE;
        if (*j->p == ',') { j->p++; ws(j); continue; }
        if (*j->p == close) { j->p++; return J_OK; }
        return J_DECLINE;
    }
}

static int skip_value(JP *j, int depth) {
    if (j->p >= j->end) return J_DECLINE;
    switch (*j->p) {
    case '{': case '[': return skip_container(j, depth, *j->p);
    case '"': {
        const unsigned char *s; Py_ssize_t n; int e, a;
        return scan_string(j, &s, &n, &e, &a);
    }
    case 't': return literal(j, "true", 4);
    case 'f': return literal(j, "false", 5);
    case 'n': return literal(j, "null", 4);
    default: return parse_number(j, NULL);
    }
}

/* A scalar value into *v (new reference; null -> Py_None). At '{' or '[': J_DECLINE unless
   `compound` is given, which is then set to that character with *v NULL. */
static int scalar(JP *j, PyObject **v, unsigned char *compound) {
    *v = NULL;
    if (j->p >= j->end) return J_DECLINE;
    unsigned char c = *j->p;
    int r;
    switch (c) {
    case '{': case '[':
        if (compound == NULL) return J_DECLINE;
        *compound = c;
        return J_OK;
    case '"': {
        const unsigned char *s; Py_ssize_t n; int e, a;
        if ((r = scan_string(j, &s, &n, &e, &a)) != J_OK) return r;
        if (j->lazy) {  /* made when read (the str could not fail to be made: see record_fields_lazy) */
            if ((uint64_t)n > WF_LEN) return J_DECLINE;
            j->soff = (uint32_t)(s - j->base);
            j->slen = (uint32_t)n | (e ? WF_ESC : 0) | (a ? WF_ASCII : 0);
            *v = Py_NewRef(lazy_marker);
            return J_OK;
        }
        *v = (!e && a && n <= VCACHE_MAXLEN) ? cached_value(s, n) : make_string(s, n, e, a, j->latin1);
        if (*v == NULL) {
            if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) { PyErr_Clear(); return J_DECLINE; }
            return J_ERR;
        }
        return J_OK;
    }
    case 't': if ((r = literal(j, "true", 4)) == J_OK) { *v = Py_True; Py_INCREF(*v); } return r;
    case 'f': if ((r = literal(j, "false", 5)) == J_OK) { *v = Py_False; Py_INCREF(*v); } return r;
    case 'n': if ((r = literal(j, "null", 4)) == J_OK) { *v = Py_None; Py_INCREF(*v); } return r;
    default: return parse_number(j, v);
    }
}

/* Object iteration: at '{' (consumed by obj_begin); obj_next reads the next name (no escapes,
   not repeated in this object) and the ':' after it. *done = 1 at the closing '}'. */
static int obj_begin(JP *j, int *done) {
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == '}') { j->p++; *done = 1; } else *done = 0;
    return J_OK;
}

static int obj_name(JP *j, Seen *seen, const unsigned char **s, Py_ssize_t *n, int *ascii, uint64_t *h) {
    int e, r;
    if (j->p >= j->end || *j->p != '"') return J_DECLINE;
    if ((r = scan_string(j, s, n, &e, ascii)) != J_OK) return r;
    if (e) return J_DECLINE;
    *h = fnv(*s, *n);
    if (seen_add(seen, *s, *n, *h) != J_OK) return J_DECLINE;
    ws(j);
    if (j->p >= j->end || *j->p != ':') return J_DECLINE;
    j->p++;
    ws(j);
    return J_OK;
}

/* After a member's value: ',' (more) or '}' (*done = 1). */
static int obj_after(JP *j, int *done) {
    ws(j);
    if (j->p >= j->end) return J_DECLINE;
    if (*j->p == ',') { j->p++; ws(j); *done = 0; return J_OK; }
    if (*j->p == '}') { j->p++; *done = 1; return J_OK; }
    return J_DECLINE;
}

static int name_is(const unsigned char *s, Py_ssize_t n, const char *lit) {
    size_t m = strlen(lit);
    return (size_t)n == m && memcmp(s, lit, m) == 0;
}

/* out[k] = v, stealing both: into the dict, or (lazy) the entries, where as in a dict a repeated
   key keeps its first place and its first key object and takes the new value. */
static int set_item(JP *j, PyObject *k, PyObject *v) {
    if (!j->lazy) {
        int r = PyDict_SetItem(j->out, k, v);
        Py_DECREF(k);
        Py_DECREF(v);
        return r < 0 ? J_ERR : J_OK;
    }
    Py_hash_t h = PyObject_Hash(k);
    if (h == -1) goto err;
    int i = lz_n;
    if (lz_bloom & (1ULL << ((uint64_t)h & 63))) {
        /* the keys so far are distinct (a repeat replaces its entry): at most one is equal */
        for (int c = lz_head[(uint64_t)h & 63]; c >= 0; c = lz_next[c]) {
            PyObject *key = WF_KEY(&lz_ent[c]);
            if (key == k) { i = c; break; }
            if (lz_hash[c] != h) continue;
            int eq = PyObject_RichCompareBool(key, k, Py_EQ);
            if (eq < 0) goto err;
            if (eq) { i = c; break; }
        }
    }
    WfEnt *e = &lz_ent[i];
    if (i < lz_n) {  /* a repeat: drop its key and the old value */
        Py_DECREF(k);
        if (!(e->k & WF_LAZY)) Py_DECREF(e->u.v);
    } else {
        if (lz_n >= LZ_MAX) {
            Py_DECREF(k);
            Py_DECREF(v);
            return J_DECLINE;
        }
        e->k = (uintptr_t)k;
        lz_hash[i] = h;
        if (!(lz_bloom & (1ULL << ((uint64_t)h & 63)))) lz_head[(uint64_t)h & 63] = -1;
        lz_next[i] = lz_head[(uint64_t)h & 63];
        lz_head[(uint64_t)h & 63] = (int16_t)i;
        lz_bloom |= 1ULL << ((uint64_t)h & 63);
        lz_n++;
    }
    if (v == lazy_marker) {
        Py_DECREF(v);
        e->k |= WF_LAZY;
        e->u.s.off = j->soff;
        e->u.s.len = j->slen;
    } else {
        e->k &= ~WF_LAZY;
        e->u.v = v;
    }
    return J_OK;
err:
    Py_DECREF(k);
    Py_DECREF(v);
    return J_ERR;
}

/* out.get(k) as the scan has it so far: borrowed (lazy_marker for a lazy string), or NULL. */
static PyObject *out_get(JP *j, PyObject *k) {
    if (!j->lazy) return PyDict_GetItemWithError(j->out, k);
    for (int i = 0; i < lz_n; i++) {
        WfEnt *e = &lz_ent[i];
        PyObject *key = WF_KEY(e);
        if (key == k || (PyUnicode_CheckExact(key) && PyUnicode_Compare(key, k) == 0))
            return (e->k & WF_LAZY) ? lazy_marker : e->u.v;
    }
    return NULL;
}

/* One System child that is an element (`{"#attributes": {...}, "#text": ...}`). */
static int json_system_element(JP *j, PyObject *key) {
    PyObject *names = PyDict_GetItemWithError(j->attrs_by_element, key);
    if (names == NULL && PyErr_Occurred()) return J_ERR;
    PyObject *text = NULL;
    uint32_t toff = 0, tlen = 0;
    Seen seen;
    seen.mask = 0; seen.n = 0;
    int done, r;
    obj_begin(j, &done);
    while (!done) {
        const unsigned char *s; Py_ssize_t n; int a; uint64_t h;
        if ((r = obj_name(j, &seen, &s, &n, &a, &h)) != J_OK) goto fail;
        if (name_is(s, n, "#text")) {
            if ((r = scalar(j, &text, NULL)) != J_OK) goto fail;
            toff = j->soff;  /* (the attributes' values come between) */
            tlen = j->slen;
        } else if (name_is(s, n, "#attributes") && names != NULL && PyDict_Check(names)
                   && j->p < j->end && *j->p == '{') {
            Seen aseen;
            aseen.mask = 0; aseen.n = 0;
            int adone;
            obj_begin(j, &adone);
            while (!adone) {
                const unsigned char *as; Py_ssize_t an; int aa; uint64_t ah;
                if ((r = obj_name(j, &aseen, &as, &an, &aa, &ah)) != J_OK) goto fail;
                PyObject *ak = make_key(j, as, an, aa, ah);
                if (ak == NULL) { r = J_ERR; goto fail; }
                PyObject *name = PyDict_GetItemWithError(names, ak);
                Py_DECREF(ak);
                if (name == NULL) {
                    if (PyErr_Occurred()) { r = J_ERR; goto fail; }
                    if ((r = skip_value(j, 3)) != J_OK) goto fail;
                } else {
                    PyObject *av;
                    if ((r = scalar(j, &av, NULL)) != J_OK) goto fail;
                    Py_INCREF(name);
                    if ((r = set_item(j, name, av)) != J_OK) goto fail;
                }
                if ((r = obj_after(j, &adone)) != J_OK) goto fail;
            }
        } else {
            if ((r = skip_value(j, 3)) != J_OK) goto fail;
        }
        if ((r = obj_after(j, &done)) != J_OK) goto fail;
    }
    if (text != NULL) {
        Py_INCREF(key);
        j->soff = toff;
        j->slen = tlen;
        return set_item(j, key, text);
    }
    return J_OK;
fail:
    Py_XDECREF(text);
    return r;
}

static int parse_system(JP *j) {
    if (j->p >= j->end || *j->p != '{') return J_DECLINE;
    Seen seen;
    seen.mask = 0; seen.n = 0;
    int done, r;
    obj_begin(j, &done);
    while (!done) {
        const unsigned char *s; Py_ssize_t n; int a; uint64_t h;
        if ((r = obj_name(j, &seen, &s, &n, &a, &h)) != J_OK) return r;
        PyObject *v;
        unsigned char compound = 0;
        if ((r = scalar(j, &v, &compound)) != J_OK) return r;
        if (v == NULL) {
            if (compound == '[') return J_DECLINE;
            PyObject *k = make_key(j, s, n, a, h);
            if (k == NULL) return J_ERR;
            r = json_system_element(j, k);
            Py_DECREF(k);
            if (r != J_OK) return r;
        } else if (v == Py_None) {
            Py_DECREF(v);
        } else {
            PyObject *k = make_key(j, s, n, a, h);
            if (k == NULL) { Py_DECREF(v); return J_ERR; }
            if ((r = set_item(j, k, v)) != J_OK) return r;
        }
        if ((r = obj_after(j, &done)) != J_OK) return r;
    }
    return J_OK;
}

/* EventData / UserData (or an element nested in them) at '{', into the flat dict. */
static int parse_data(JP *j, int depth) {
    if (depth > MAX_DATA_DEPTH) return J_DECLINE;
    Seen seen;
    seen.mask = 0; seen.n = 0;
    int done, r;
    obj_begin(j, &done);
    while (!done) {
        const unsigned char *s; Py_ssize_t n; int a; uint64_t h;
        if ((r = obj_name(j, &seen, &s, &n, &a, &h)) != J_OK) return r;
        if (n > 0 && s[0] == '#') {
            if (!name_is(s, n, "#attributes")) return J_DECLINE;
            if ((r = skip_value(j, depth + 1)) != J_OK) return r;
        } else {
            PyObject *v;
            unsigned char compound = 0;
            if ((r = scalar(j, &v, &compound)) != J_OK) return r;
            if (v == NULL) {
                if (compound == '[') return J_DECLINE;
                if ((r = parse_data(j, depth + 1)) != J_OK) return r;
            } else {
                PyObject *k;
                if (memchr(s, ' ', (size_t)n) == NULL) {
                    k = make_key(j, s, n, a, h);
                } else {  /* Defender's "Threat Name": SigmaHQ's rules say ThreatName */
                    unsigned char stackbuf[256];
                    unsigned char *buf = n <= (Py_ssize_t)sizeof stackbuf ? stackbuf : PyMem_Malloc((size_t)n);
                    if (buf == NULL) { Py_DECREF(v); PyErr_NoMemory(); return J_ERR; }
                    Py_ssize_t m = 0;
                    for (Py_ssize_t i = 0; i < n; i++) if (s[i] != ' ') buf[m++] = s[i];
                    k = make_string(buf, m, 0, a, j->latin1);
                    if (buf != stackbuf) PyMem_Free(buf);
                }
                if (k == NULL) {
                    Py_DECREF(v);
                    if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) { PyErr_Clear(); return J_DECLINE; }
                    return J_ERR;
                }
                if ((r = set_item(j, k, v)) != J_OK) return r;
            }
        }
        if ((r = obj_after(j, &done)) != J_OK) return r;
    }
    return J_OK;
}

static int parse_event(JP *j) {
    if (j->p >= j->end || *j->p != '{') return J_DECLINE;
    Seen seen;
    seen.mask = 0; seen.n = 0;
    int done, r, system = 0, eventdata = 0, userdata = 0;
    obj_begin(j, &done);
    while (!done) {
        const unsigned char *s; Py_ssize_t n; int a; uint64_t h;
        if ((r = obj_name(j, &seen, &s, &n, &a, &h)) != J_OK) return r;
        if (name_is(s, n, "System")) {
            if (eventdata || userdata) return J_DECLINE;
            if ((r = parse_system(j)) != J_OK) return r;
            system = 1;
            PyObject *eid = out_get(j, s_eventid);
            if (eid == NULL || !PyLong_CheckExact(eid)) return PyErr_Occurred() ? J_ERR : J_DECLINE;
        } else if (name_is(s, n, "EventData") || name_is(s, n, "UserData")) {
            int ud = s[0] == 'U';
            if (!system || (!ud && userdata)) return J_DECLINE;
            if (ud) userdata = 1; else eventdata = 1;
            if (j->p < j->end && *j->p == 'n') {
                if ((r = literal(j, "null", 4)) != J_OK) return r;
            } else {
                if (j->p >= j->end || *j->p != '{') return J_DECLINE;
                if ((r = parse_data(j, 2)) != J_OK) return r;
            }
        } else {
            if ((r = skip_value(j, 2)) != J_OK) return r;
        }
        if ((r = obj_after(j, &done)) != J_OK) return r;
    }
    return system ? J_OK : J_DECLINE;
}

/* record_fields and record_fields_lazy: one scan, into a dict or into a Fields. */
static PyObject *scan_record(PyObject *const *args_in, Py_ssize_t nargs, int lazy) {
    /* (attrs_by_element, text): the table first, so functools.partial binds it */
    if (nargs != 2 || !PyDict_CheckExact(args_in[0]) || !PyUnicode_Check(args_in[1])) {
        PyErr_SetString(PyExc_TypeError, "record_fields(attrs_by_element: dict, text: str)");
        return NULL;
    }
    PyObject *args[2] = {args_in[1], args_in[0]};
    Py_ssize_t size;
    const char *text;
    JP j;
    j.latin1 = 0;
    if (PyUnicode_KIND(args[0]) == PyUnicode_1BYTE_KIND) {
        /* ASCII or Latin-1 (most records: the odd non-ASCII one is a `®`): read the code units
           themselves, rather than have the str encode and keep a UTF-8 copy (~1 us) */
        text = (const char *)PyUnicode_1BYTE_DATA(args[0]);
        size = PyUnicode_GET_LENGTH(args[0]);
        j.latin1 = !PyUnicode_IS_ASCII(args[0]);
    } else if ((text = PyUnicode_AsUTF8AndSize(args[0], &size)) == NULL) {
        /* a lone surrogate: orjson refuses it too; the reference says so */
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return NULL;
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    /* (lazy: the spans point into the str's own data or the UTF-8 copy it keeps, both alive
       as long as the str, which the Fields holds) */
    j.p = j.base = (const unsigned char *)text;
    j.end = j.p + size;
    j.attrs_by_element = args[1];
    j.lazy = lazy;
    j.out = NULL;
    if (lazy) {
        if (lz_busy || (uint64_t)size > WF_LEN) Py_RETURN_NONE;  /* the caller makes the dict */
        lz_busy = 1;
        lz_n = 0;
        lz_bloom = 0;
    } else {
#if PY_VERSION_HEX < 0x030D0000
        j.out = _PyDict_NewPresized(32);  /* a record's ~30 fields, without growing three times */
#else
        j.out = PyDict_New();  /* (3.13 moved the presized constructor out of the C API) */
#endif
        if (j.out == NULL) return NULL;
    }
    PyObject *result = NULL;
    int r, done, event = 0;
    Seen seen;
    seen.mask = 0; seen.n = 0;
    ws(&j);
    if (j.p >= j.end || *j.p != '{') goto decline;
    obj_begin(&j, &done);
    while (!done) {
        const unsigned char *s; Py_ssize_t n; int a; uint64_t h;
        if ((r = obj_name(&j, &seen, &s, &n, &a, &h)) != J_OK) goto fail;
        if (name_is(s, n, "Event")) {
            if ((r = parse_event(&j)) != J_OK) goto fail;
            event = 1;
        } else if ((r = skip_value(&j, 1)) != J_OK) goto fail;
        if ((r = obj_after(&j, &done)) != J_OK) goto fail;
    }
    ws(&j);
    if (!event || j.p != j.end) goto decline;
    if (!lazy) return j.out;
    result = wf_fields_new(args[0], j.base, j.latin1, lz_ent, lz_n, lz_hash);
    if (result != NULL) lz_n = 0;  /* the entries' references are the Fields' now */
    goto out;
fail:
    if (r != J_ERR) goto decline;
    goto out;  /* NULL, the error set */
decline:
    result = Py_NewRef(Py_None);
out:
    if (lazy) {
        for (int i = 0; i < lz_n; i++) {
            Py_DECREF(WF_KEY(&lz_ent[i]));
            if (!(lz_ent[i].k & WF_LAZY)) Py_DECREF(lz_ent[i].u.v);
        }
        lz_n = 0;
        lz_busy = 0;
    } else {
        Py_DECREF(j.out);
    }
    return result;
}

static PyObject *record_fields(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return scan_record(args, nargs, 0);
}

/* record_fields' fields as a Fields (_winfields.c), its string values made when first read;
   None where record_fields gives None. Deferring a string changes no decline: making it can
   only fail for want of memory (scan_string has validated its escapes, the text is a str's
   valid UTF-8 or Latin-1, and quotes are ASCII, so a span never cuts a character). */
static PyObject *record_fields_lazy(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return scan_record(args, nargs, 1);
}

/* ------------------------------------------------------------------------------------------
 * epoch(text): `SystemTime` as evtx writes it, "YYYY-MM-DDTHH:MM:SS[.f]Z" (1 to 9 fraction
 * digits), to epoch seconds: datetime.fromisoformat(text).timestamp() (which keeps microseconds,
 * dropping further digits, and divides the integer microseconds by 10**6, correctly rounded, as
 * the one double division here is while they stay below 2**53: years 1685 to 2255). None for any
 * other text, or a date it would refuse: the caller runs that reference.
 * ------------------------------------------------------------------------------------------ */
static int digits(const Py_UCS1 *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static PyObject *epoch(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg) || !PyUnicode_IS_ASCII(arg)) Py_RETURN_NONE;
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    const Py_UCS1 *s = PyUnicode_1BYTE_DATA(arg);
    if (n < 20 || n > 30 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':'
        || s[n - 1] != 'Z') Py_RETURN_NONE;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2),
        mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
        Py_RETURN_NONE;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap)) Py_RETURN_NONE;
    long long us = 0;
    Py_ssize_t fd = n - 21;  /* fraction digits, after the '.' at 19 */
    if (n == 20) {
        fd = 0;
    } else {
        if (s[19] != '.' || fd < 1 || fd > 9) Py_RETURN_NONE;
        int scale = 100000;
        for (Py_ssize_t i = 0; i < fd; i++) {
            Py_UCS1 c = s[20 + i];
            if (c < '0' || c > '9') Py_RETURN_NONE;
            if (i < 6) { us += (c - '0') * scale; scale /= 10; }
        }
    }
    /* days since 1970-01-01 (H. Hinnant's days_from_civil) */
    long long yy = y - (mo <= 2), era = (yy >= 0 ? yy : yy - 399) / 400;
    long long yoe = yy - era * 400, mp = (mo + 9) % 12;
    long long doy = (153 * mp + 2) / 5 + d - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long long days = era * 146097 + doe - 719468;
    long long total = ((days * 86400 + h * 3600 + mi * 60 + sec) * 1000000LL) + us;
    if (total >= (1LL << 53) || total <= -(1LL << 53)) Py_RETURN_NONE;
    return PyFloat_FromDouble((double)total / 1e6);
}

static PyMethodDef methods[] = {
    {"flatten_record", (PyCFunction)(void (*)(void))flatten_record, METH_FASTCALL,
     "flatten_record(doc, attrs_by_element) -> dict | None: fields.flatten_record for the "
     "documents it covers (see the file's comment); None for any other (run the reference)."},
    {"record_fields", (PyCFunction)(void (*)(void))record_fields, METH_FASTCALL,
     "record_fields(attrs_by_element, text) -> dict | None: "
     "fields.flatten_record_py(orjson.loads(text)) for the records it covers (see above); "
     "None for any other (run the reference)."},
    {"record_fields_lazy", (PyCFunction)(void (*)(void))record_fields_lazy, METH_FASTCALL,
     "record_fields_lazy(attrs_by_element, text) -> Fields | None: record_fields' fields as a "
     "mapping equal to its dict, whose string values are made when first read."},
    {"epoch", (PyCFunction)epoch, METH_O,
     "epoch(text) -> float | None: datetime.fromisoformat(text).timestamp() for evtx's "
     "SystemTime form; None for any other text (run that reference)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_winfast", "EVTX record mapping in C.", -1,
                                    methods, NULL, NULL, NULL, NULL};

static WfApi api = {&WfFields_Type, wf_fields_get, wf_fields_dict, wf_fields_new};

PyMODINIT_FUNC PyInit__winfast(void) {
    struct { PyObject **slot; const char *text; } names[] = {
        {&s_event, "Event"}, {&s_system, "System"}, {&s_eventdata, "EventData"},
        {&s_userdata, "UserData"}, {&s_attributes, "#attributes"}, {&s_text, "#text"},
        {&s_eventid, "EventID"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (*names[i].slot == NULL && (*names[i].slot = PyUnicode_InternFromString(names[i].text)) == NULL)
            return NULL;
    }
    if (lazy_marker == NULL && (lazy_marker = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type)) == NULL)
        return NULL;
    if (PyType_Ready(&WfFields_Type) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    PyObject *cap = PyCapsule_New(&api, "nocsoc.collectors.windows._winfast._API", NULL);
    if (cap == NULL || PyModule_AddObject(m, "_API", cap) < 0) {
        Py_XDECREF(cap);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&WfFields_Type);
    if (PyModule_AddObject(m, "Fields", (PyObject *)&WfFields_Type) < 0) {
        Py_DECREF(&WfFields_Type);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
