/* nocsoc._lineproto: assembles a batch of points' line-protocol lines (nocsoc/lineproto.py).
 *
 * Why hand-written C: the pure-Python batched encoder in nocsoc/lineproto.py tops out at ~300k
 * points/s on 15-field interface points (its series lookup, ~1.2 us of float repr and one large
 * f-string a point), far from issue #2's 800k/s; this code does ~980k/s (3.3x; 3.1-4.0x on the
 * other shapes of bench/bench_lineproto.py, see docs/benchmarks.md). No library
 * turns Python objects into InfluxDB line protocol faster: influxdb-client's Point (the reference
 * we must equal byte for byte) does ~40-70k/s, and orjson, which this module still uses for the
 * float digits, writes JSON only. This file does only the mechanical part; every rule (escaping,
 * refusals, the series prefix, which fields are unsigned) stays in Python, which compiles a `Plan`
 * per shape and a prefix per series and is the fallback for anything the plan does not cover.
 *
 * encode_many(points, div, series, new_series, dumps, cache=None) -> list[str] | None
 *   points      list of nocsoc.schema.Point (anything with measurement/tags/fields/time_ns)
 *   div         the precision divisor (int >= 1)
 *   series      lineproto._series: key -> hit tuple (encoder, prefix, batch, plan or None); the
 *               key is built exactly as lineproto.encode_many builds it
 *   new_series  lineproto._new_series, called as new_series(point, key, div, None) on a miss
 *   dumps       orjson.dumps (formats all floats of the batch in one call) or None (repr per float)
 *   cache       a SeriesCache (below): the same keys and hits, looked up without a key tuple
 * Per point: the series lookup; when the hit has a Plan and the values have the plan's types,
 * the line is assembled here (prefix, escaped keys in sorted order, floats as str() without a
 * trailing ".0" and left out when not finite, ints with i/u, bools, time // div); otherwise the
 * shape's per-point Python encoder `hit[0](point, hit[1])` writes it (and raises what it raises).
 * Returns None (the caller takes the pure-Python path) when a point's tags or fields is not a dict.
 *
 * Floats: orjson writes the same shortest round-trip digits as CPython's repr; its notation
 * differs only for tokens with an exponent and below 1e-4 ("0.00001"), so a token containing 'e'
 * or starting "0.0000"/"-0.0000" is rewritten with PyOS_double_to_string(v, 'r', 0, 0) (repr
 * without ".0": exact). tests/test_lineproto.py checks this on ~230,000 doubles of every exponent.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_FIELDS 64

/* ---------------------------------------------------------------------------------------- */
/* Plan: a shape's fields, compiled in Python                                                  */

typedef struct {
    PyObject_HEAD
    Py_ssize_t n;                      /* fields in the shape */
    char kinds[MAX_FIELDS];            /* per sorted position: 'f' float, 'i' int, 'u' uint, 'b' bool */
    Py_ssize_t order[MAX_FIELDS];      /* sorted position -> index in the point's field order */
    const char *keys[MAX_FIELDS];      /* per sorted position: escaped "key=", ASCII */
    Py_ssize_t key_lens[MAX_FIELDS];
    PyObject *key_objs;                /* the tuple of bytes that owns `keys` */
} PlanObject;

static PyTypeObject PlanType;

static int
Plan_init(PlanObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"kinds", "order", "keys", NULL};
    const char *kinds;
    Py_ssize_t nk;
    PyObject *order, *keys;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s#O!O!:Plan", kwlist, &kinds, &nk,
                                     &PyTuple_Type, &order, &PyTuple_Type, &keys))
        return -1;
    if (self->key_objs != NULL) {
        PyErr_SetString(PyExc_TypeError, "Plan is immutable");
        return -1;
    }
    if (nk < 1 || nk > MAX_FIELDS || PyTuple_GET_SIZE(order) != nk || PyTuple_GET_SIZE(keys) != nk) {
        PyErr_Format(PyExc_ValueError, "Plan: 1 to %d fields, kinds, order and keys of one length",
                     MAX_FIELDS);
        return -1;
    }
    char seen[MAX_FIELDS] = {0};
    for (Py_ssize_t j = 0; j < nk; j++) {
        char k = kinds[j];
        if (k != 'f' && k != 'i' && k != 'u' && k != 'b') {
            PyErr_Format(PyExc_ValueError, "Plan: unknown kind %c (f, i, u or b)", k ? k : '?');
            return -1;
        }
        Py_ssize_t idx = PyLong_AsSsize_t(PyTuple_GET_ITEM(order, j));
        if (idx == -1 && PyErr_Occurred())
            return -1;
        if (idx < 0 || idx >= nk || seen[idx]) {
            PyErr_SetString(PyExc_ValueError, "Plan: order is not a permutation of the fields");
            return -1;
        }
        seen[idx] = 1;
        PyObject *key = PyTuple_GET_ITEM(keys, j);
        if (!PyBytes_CheckExact(key)) {
            PyErr_SetString(PyExc_TypeError, "Plan: keys must be bytes");
            return -1;
        }
        const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(key);
        Py_ssize_t len = PyBytes_GET_SIZE(key);
        for (Py_ssize_t c = 0; c < len; c++) {
            if (s[c] > 127) {  /* the body of a line is written as ASCII */
                PyErr_SetString(PyExc_ValueError, "Plan: keys must be ASCII");
                return -1;
            }
        }
        self->kinds[j] = k;
        self->order[j] = idx;
        self->keys[j] = (const char *)s;
        self->key_lens[j] = len;
    }
    self->n = nk;
    Py_INCREF(keys);
    self->key_objs = keys;
    return 0;
}

static void
Plan_dealloc(PlanObject *self)
{
    Py_XDECREF(self->key_objs);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Plan_repr(PlanObject *self)
{
    return PyUnicode_FromFormat("<lineproto Plan of %zd fields>", self->n);
}

static PyTypeObject PlanType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nocsoc._lineproto.Plan",
    .tp_basicsize = sizeof(PlanObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Plan(kinds, order, keys): the fields of one shape, in sorted order.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Plan_init,
    .tp_dealloc = (destructor)Plan_dealloc,
    .tp_repr = (reprfunc)Plan_repr,
};


/* ---------------------------------------------------------------------------------------- */
/* SeriesCache: the series lookup without building a key tuple a point                         */

/* A hash table (open addressing, no deletion) from a series key tuple, as lineproto builds it,
 * to its hit. A point is looked up from its strings directly: their cached hashes combined, then
 * the entry's key compared item by item; only a miss builds the tuple (and asks `series`, or
 * new_series). Building, hashing and comparing a 27-item tuple a point was ~20% of the time on
 * 15-field points. Cleared when it holds maxsize entries, like lineproto._series. */
typedef struct {
    Py_hash_t hash;
    PyObject *key;  /* strong; NULL: an empty slot */
    PyObject *hit;  /* strong */
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    size_t mask;
    Py_ssize_t used, maxsize;
} CacheObject;

static PyTypeObject CacheType;

static void
cache_clear_slots(CacheObject *c)
{
    if (c->slots == NULL)
        return;
    for (size_t i = 0; i <= c->mask; i++) {
        Py_CLEAR(c->slots[i].key);
        Py_CLEAR(c->slots[i].hit);
    }
    c->used = 0;
}

static int
Cache_init(CacheObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"maxsize", NULL};
    Py_ssize_t maxsize;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "n:SeriesCache", kwlist, &maxsize))
        return -1;
    if (self->slots != NULL) {
        PyErr_SetString(PyExc_TypeError, "SeriesCache is initialised once");
        return -1;
    }
    if (maxsize < 1 || maxsize > (1 << 26)) {
        PyErr_SetString(PyExc_ValueError, "SeriesCache: maxsize from 1 to 2**26");
        return -1;
    }
    size_t cap = 8;
    while (cap < (size_t)maxsize * 2)
        cap *= 2;
    self->slots = PyMem_Calloc(cap, sizeof(Slot));
    if (self->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->mask = cap - 1;
    self->maxsize = maxsize;
    self->used = 0;
    return 0;
}

static int
Cache_traverse(CacheObject *self, visitproc visit, void *arg)
{
    if (self->slots != NULL)
        for (size_t i = 0; i <= self->mask; i++) {
            Py_VISIT(self->slots[i].key);
            Py_VISIT(self->slots[i].hit);
        }
    return 0;
}

static int
Cache_tp_clear(CacheObject *self)
{
    cache_clear_slots(self);
    return 0;
}

static void
Cache_dealloc(CacheObject *self)
{
    PyObject_GC_UnTrack(self);
    cache_clear_slots(self);
    PyMem_Free(self->slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static Py_ssize_t
Cache_len(CacheObject *self)
{
    return self->used;
}

static PyObject *
Cache_clear(CacheObject *self, PyObject *unused)
{
    cache_clear_slots(self);
    Py_RETURN_NONE;
}

static PyMethodDef Cache_methods[] = {
    {"clear", (PyCFunction)Cache_clear, METH_NOARGS, "Forget every series."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Cache_as_sequence = {.sq_length = (lenfunc)Cache_len};

static PyTypeObject CacheType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nocsoc._lineproto.SeriesCache",
    .tp_basicsize = sizeof(CacheObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "SeriesCache(maxsize): series key -> hit, looked up by encode_many from a point's strings.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Cache_init,
    .tp_dealloc = (destructor)Cache_dealloc,
    .tp_traverse = (traverseproc)Cache_traverse,
    .tp_clear = (inquiry)Cache_tp_clear,
    .tp_methods = Cache_methods,
    .tp_as_sequence = &Cache_as_sequence,
};

#define MAX_TAGS 32
#define MAX_ITEMS (1 + 2 * MAX_TAGS + MAX_FIELDS)

/* a point's strings for the cache: measurement, tag keys, tag values, field keys */
typedef struct {
    PyObject *items[MAX_ITEMS];  /* borrowed */
    Py_ssize_t n, nt;
    Py_hash_t hash;
} Probe;

static inline Py_hash_t
str_hash(PyObject *s)
{
    Py_hash_t h = ((PyASCIIObject *)s)->hash;
    return h != -1 ? h : PyObject_Hash(s);  /* a str's hash cannot fail */
}

/* xxHash's round, as CPython's tuple hash */
#define XXPRIME_1 ((Py_uhash_t)11400714785074694791ULL)
#define XXPRIME_2 ((Py_uhash_t)14029467366897019727ULL)
#define XXPRIME_5 ((Py_uhash_t)2870177450012600261ULL)
#define XXROTATE(x) ((x << 31) | (x >> 33))

static inline Py_uhash_t
mix(Py_uhash_t acc, Py_uhash_t lane)
{
    acc += lane * XXPRIME_2;
    acc = XXROTATE(acc);
    return acc * XXPRIME_1;
}

/* Fill `pr` and `given` (the field values) from a point; 0 when the point is not for the cache
 * (a name or tag value that is not an exact str, too many tags or fields) */
static int
probe_fill(Probe *pr, long long div, PyObject *m, PyObject *tags, PyObject *fields, PyObject **given)
{
    Py_ssize_t nt = PyDict_GET_SIZE(tags), nf = PyDict_GET_SIZE(fields);
    if (nt > MAX_TAGS || nf > MAX_FIELDS || !PyUnicode_CheckExact(m))
        return 0;
    Py_uhash_t acc = mix(mix(XXPRIME_5, (Py_uhash_t)div), (Py_uhash_t)(nt * 131 + nf));
    pr->items[0] = m;
    acc = mix(acc, (Py_uhash_t)str_hash(m));
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *v;
    while (i < nt && PyDict_Next(tags, &pos, &k, &v)) {
        if (!PyUnicode_CheckExact(k) || !PyUnicode_CheckExact(v))
            return 0;
        pr->items[1 + i] = k;
        pr->items[1 + nt + i] = v;
        acc = mix(mix(acc, (Py_uhash_t)str_hash(k)), (Py_uhash_t)str_hash(v));
        i++;
    }
    if (i != nt)
        return 0;
    pos = 0, i = 0;
    while (i < nf && PyDict_Next(fields, &pos, &k, &v)) {
        if (!PyUnicode_CheckExact(k))
            return 0;
        pr->items[1 + 2 * nt + i] = k;
        given[i] = v;
        acc = mix(acc, (Py_uhash_t)str_hash(k));
        i++;
    }
    if (i != nf)
        return 0;
    pr->n = 1 + 2 * nt + nf;
    pr->nt = nt;
    pr->hash = (Py_hash_t)(acc == (Py_uhash_t)-1 ? 1546275796 : acc);
    return 1;
}

static inline int
str_eq(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    if (!PyUnicode_CheckExact(a) || !PyUnicode_CheckExact(b))
        return 0;
    Py_ssize_t len = PyUnicode_GET_LENGTH(a);
    if (len != PyUnicode_GET_LENGTH(b) || PyUnicode_KIND(a) != PyUnicode_KIND(b))
        return 0;
    Py_hash_t ha = ((PyASCIIObject *)a)->hash, hb = ((PyASCIIObject *)b)->hash;
    if (ha != -1 && hb != -1 && ha != hb)
        return 0;
    return memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)len * PyUnicode_KIND(a)) == 0;
}

/* whether `key` (div, None, m, *tag keys, *tag values, None, *field keys) is the probe's */
static int
key_matches(PyObject *key, long long div, const Probe *pr)
{
    if (PyTuple_GET_SIZE(key) != pr->n + 3 || PyTuple_GET_ITEM(key, 3 + 2 * pr->nt) != Py_None)
        return 0;
    PyObject *d = PyTuple_GET_ITEM(key, 0);
    if (!PyLong_CheckExact(d))
        return 0;
    int overflow;
    if (PyLong_AsLongLongAndOverflow(d, &overflow) != div || overflow)
        return 0;
    Py_ssize_t split = 2 * pr->nt;
    for (Py_ssize_t i = 0; i < pr->n; i++)
        if (!str_eq(PyTuple_GET_ITEM(key, i <= split ? 2 + i : 3 + i), pr->items[i]))
            return 0;
    return 1;
}

/* the probe's hit (borrowed) or NULL; sets no error */
static PyObject *
cache_find(CacheObject *c, long long div, const Probe *pr)
{
    for (size_t i = (size_t)pr->hash & c->mask;; i = (i + 1) & c->mask) {
        Slot *s = &c->slots[i];
        if (s->key == NULL)
            return NULL;
        if (s->hash == pr->hash && key_matches(s->key, div, pr))
            return s->hit;
    }
}

static void
cache_insert(CacheObject *c, Py_hash_t hash, PyObject *key, PyObject *hit)
{
    if (c->used >= c->maxsize)
        cache_clear_slots(c);
    size_t i = (size_t)hash & c->mask;
    while (c->slots[i].key != NULL)  /* at most half full: a slot is free */
        i = (i + 1) & c->mask;
    Py_INCREF(key);
    Py_INCREF(hit);
    c->slots[i] = (Slot){hash, key, hit};
    c->used++;
}

/* ---------------------------------------------------------------------------------------- */
/* a growable byte buffer                                                                      */

typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buf;

static int
buf_grow(Buf *b, Py_ssize_t more)
{
    if (more > PY_SSIZE_T_MAX / 2 - b->len) {
        PyErr_NoMemory();
        return -1;
    }
    if (b->len + more <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more)
        cap *= 2;
    char *d = PyMem_Realloc(b->data, (size_t)cap);
    if (d == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

static inline int
buf_reserve(Buf *b, Py_ssize_t more)
{
    return more <= b->cap - b->len ? 0 : buf_grow(b, more);
}

static inline int
buf_put(Buf *b, const char *s, Py_ssize_t n)
{
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}

/* decimal digits of an unsigned 64-bit value, with a leading '-' when neg (at most 21 bytes) */
static inline int
buf_u64(Buf *b, uint64_t v, int neg)
{
    char tmp[24];
    char *e = tmp + sizeof(tmp), *p = e;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg)
        *--p = '-';
    return buf_put(b, p, e - p);
}

static inline int
buf_i64(Buf *b, long long v)
{
    if (v < 0)
        return buf_u64(b, (uint64_t)0 - (uint64_t)v, 1);
    return buf_u64(b, (uint64_t)v, 0);
}

/* str(o) of an int, whatever its size (the rare int beyond 64 bits) */
static int
buf_str(Buf *b, PyObject *o)
{
    PyObject *s = PyObject_Str(o);
    if (s == NULL)
        return -1;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    int rc = u == NULL ? -1 : buf_put(b, u, n);
    Py_DECREF(s);
    return rc;
}

static int
buf_int(Buf *b, PyObject *v)
{
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (x == -1 && PyErr_Occurred())
        return -1;
    if (!overflow)
        return buf_i64(b, x);
    if (overflow > 0) {
        unsigned long long u = PyLong_AsUnsignedLongLong(v);
        if (!(u == (unsigned long long)-1 && PyErr_Occurred()))
            return buf_u64(b, u, 0);
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear();
    }
    return buf_str(b, v);
}

/* CPython's repr of a finite double without a trailing ".0": what Point writes */
static int
buf_repr(Buf *b, double d)
{
    char *s = PyOS_double_to_string(d, 'r', 0, 0, NULL);
    if (s == NULL)
        return -1;
    int rc = buf_put(b, s, (Py_ssize_t)strlen(s));
    PyMem_Free(s);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* lines                                                                                       */

/* prefix (any str) + body (ASCII) as one new str */
static PyObject *
make_line(PyObject *prefix, const char *body, Py_ssize_t blen)
{
    Py_ssize_t plen = PyUnicode_GET_LENGTH(prefix);
    if (plen > PY_SSIZE_T_MAX - blen)
        return PyErr_NoMemory();
    if (PyUnicode_IS_ASCII(prefix)) {
        PyObject *s = PyUnicode_New(plen + blen, 127);
        if (s == NULL)
            return NULL;
        char *d = (char *)PyUnicode_DATA(s);
        memcpy(d, PyUnicode_DATA(prefix), (size_t)plen);
        memcpy(d + plen, body, (size_t)blen);
        return s;
    }
    PyObject *s = PyUnicode_New(plen + blen, PyUnicode_MAX_CHAR_VALUE(prefix));
    if (s == NULL)
        return NULL;
    if (PyUnicode_CopyCharacters(s, 0, prefix, 0, plen) < 0) {
        Py_DECREF(s);
        return NULL;
    }
    int kind = PyUnicode_KIND(s);
    void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < blen; i++)
        PyUnicode_WRITE(kind, data, plen + i, (Py_UCS4)(unsigned char)body[i]);
    return s;
}

typedef struct {
    PyObject *point;     /* borrowed from the tuple copy of the batch */
    PyObject *hit;       /* strong: the series' (encoder, prefix, batch, plan) */
    PyObject *time;      /* strong: time_ns */
    Py_ssize_t vstart;   /* first of its values in `vals`, or -1: the per-point Python encoder */
} Rec;

static PyObject *s_measurement, *s_tags, *s_fields, *s_time_ns;
static PyObject **attr_names[4] = {&s_measurement, &s_tags, &s_fields, &s_time_ns};

/* Point is a dataclass with __slots__: its four attributes are member descriptors, and reading
 * the slots directly saves most of four getattr calls a point. Valid for one type as long as its
 * version tag (changed by any change to the type or its bases) is the one they were read at. */
static PyTypeObject *slots_type;       /* strong */
static unsigned int slots_version;
static Py_ssize_t slots_offset[4];

static void
resolve_slots(PyTypeObject *type)
{
    Py_CLEAR(slots_type);
    Py_ssize_t offs[4];
    for (int i = 0; i < 4; i++) {
        PyObject *d = _PyType_Lookup(type, *attr_names[i]);  /* borrowed; sets no error */
        if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type))
            return;
        PyMemberDef *md = ((PyMemberDescrObject *)d)->d_member;
        if (md->type != T_OBJECT_EX || md->offset <= 0)
            return;
        offs[i] = md->offset;
    }
    if (!PyType_HasFeature(type, Py_TPFLAGS_VALID_VERSION_TAG))
        return;
    memcpy(slots_offset, offs, sizeof(offs));
    slots_version = type->tp_version_tag;
    Py_INCREF(type);
    slots_type = type;
}

/* a new reference to attribute i of p (measurement, tags, fields, time_ns) */
static inline PyObject *
get_attr(PyObject *p, int i)
{
    PyTypeObject *type = Py_TYPE(p);
    if (type == slots_type && type->tp_version_tag == slots_version &&
        PyType_HasFeature(type, Py_TPFLAGS_VALID_VERSION_TAG)) {
        PyObject *v = *(PyObject **)((char *)p + slots_offset[i]);
        if (v != NULL) {
            Py_INCREF(v);
            return v;
        }
    }
    return PyObject_GetAttr(p, *attr_names[i]);  /* raises AttributeError for an unset slot */
}

/* the series key, exactly as lineproto.encode_many builds it:
 * (div, None, measurement, *tag keys, *tag values, None, *field keys) */
static PyObject *
series_key(PyObject *div, PyObject *m, PyObject *tags, PyObject *fields, PyObject **values)
{
    Py_ssize_t nt = PyDict_GET_SIZE(tags), nf = PyDict_GET_SIZE(fields);
    PyObject *key = PyTuple_New(4 + 2 * nt + nf);
    if (key == NULL)
        return NULL;
    Py_INCREF(div);
    PyTuple_SET_ITEM(key, 0, div);
    Py_INCREF(Py_None);
    PyTuple_SET_ITEM(key, 1, Py_None);
    Py_INCREF(m);
    PyTuple_SET_ITEM(key, 2, m);
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *v;
    while (PyDict_Next(tags, &pos, &k, &v)) {
        if (i >= nt)
            goto changed;
        Py_INCREF(k);
        PyTuple_SET_ITEM(key, 3 + i, k);
        Py_INCREF(v);
        PyTuple_SET_ITEM(key, 3 + nt + i, v);
        i++;
    }
    if (i != nt)
        goto changed;
    Py_INCREF(Py_None);
    PyTuple_SET_ITEM(key, 3 + 2 * nt, Py_None);
    pos = 0, i = 0;
    while (PyDict_Next(fields, &pos, &k, &v)) {
        if (i >= nf)
            goto changed;
        Py_INCREF(k);
        PyTuple_SET_ITEM(key, 4 + 2 * nt + i, k);
        if (i < MAX_FIELDS)
            values[i] = v;  /* borrowed: fields holds them while the point is collected */
        i++;
    }
    if (i != nf)
        goto changed;
    return key;
changed:  /* cannot happen without threads mutating the dict; the tuple must be full to free */
    Py_DECREF(key);
    PyErr_SetString(PyExc_RuntimeError, "a point's tags or fields changed while encoding");
    return NULL;
}

typedef struct {
    PyObject *items;     /* tuple copy of the batch */
    Rec *recs;
    Py_ssize_t n_recs;
    PyObject **vals;     /* strong refs to the values of fast points, in sorted field order */
    Py_ssize_t n_vals, cap_vals;
    Py_ssize_t n_floats; /* finite floats among vals */
    PyObject *column;    /* dumps(floats) */
    Buf buf;
} Batch;

static void
batch_free(Batch *bt)
{
    for (Py_ssize_t i = 0; i < bt->n_recs; i++) {
        Py_XDECREF(bt->recs[i].hit);
        Py_XDECREF(bt->recs[i].time);
    }
    PyMem_Free(bt->recs);
    for (Py_ssize_t i = 0; i < bt->n_vals; i++)
        Py_DECREF(bt->vals[i]);
    PyMem_Free(bt->vals);
    Py_XDECREF(bt->column);
    Py_XDECREF(bt->items);
    PyMem_Free(bt->buf.data);
}

static int
push_val(Batch *bt, PyObject *v)
{
    if (bt->n_vals == bt->cap_vals) {
        Py_ssize_t cap = bt->cap_vals ? bt->cap_vals * 2 : 1024;
        if (cap > PY_SSIZE_T_MAX / (Py_ssize_t)sizeof(PyObject *)) {
            PyErr_NoMemory();
            return -1;
        }
        PyObject **d = PyMem_Realloc(bt->vals, (size_t)cap * sizeof(PyObject *));
        if (d == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        bt->vals = d;
        bt->cap_vals = cap;
    }
    Py_INCREF(v);
    bt->vals[bt->n_vals++] = v;
    return 0;
}

/* Pass 1 for one point: look up its series; keep its values when its plan can write it.
 * Returns 1 when the caller must give up (tags/fields not dicts), 0 done, -1 error. */
static int
collect(Batch *bt, Rec *rec, PyObject *div, long long div_ll, PyObject *series,
        PyObject *new_series, CacheObject *cache)
{
    PyObject *p = rec->point;
    PyObject *m = NULL, *tags = NULL, *fields = NULL, *key = NULL;
    int rc = -1;
    if ((m = get_attr(p, 0)) == NULL || (tags = get_attr(p, 1)) == NULL ||
        (fields = get_attr(p, 2)) == NULL || (rec->time = get_attr(p, 3)) == NULL)
        goto done;
    if (!PyDict_CheckExact(tags) || !PyDict_CheckExact(fields)) {
        rc = 1;
        goto done;
    }
    PyObject *given[MAX_FIELDS];
    Probe pr;
    int cacheable = cache != NULL && probe_fill(&pr, div_ll, m, tags, fields, given);
    PyObject *hit = cacheable ? cache_find(cache, div_ll, &pr) : NULL;
    if (hit != NULL) {
        Py_INCREF(hit);
        goto found;
    }
    key = series_key(div, m, tags, fields, given);
    if (key == NULL)
        goto done;
    hit = PyDict_GetItemWithError(series, key);
    if (hit != NULL) {
        Py_INCREF(hit);
    } else {
        if (PyErr_Occurred())
            goto done;
        hit = PyObject_CallFunctionObjArgs(new_series, p, key, div, Py_None, NULL);
        if (hit == NULL)
            goto done;
        /* Python code ran: take the values again (borrowed from a dict it could have changed;
         * the plan below reads only as many as the dict now holds) */
        Py_ssize_t pos = 0, i = 0;
        PyObject *k, *v;
        while (i < MAX_FIELDS && PyDict_Next(fields, &pos, &k, &v))
            given[i++] = v;
    }
    if (!PyTuple_CheckExact(hit) || PyTuple_GET_SIZE(hit) < 4 ||
        !PyUnicode_CheckExact(PyTuple_GET_ITEM(hit, 1))) {
        rec->hit = hit;
        PyErr_SetString(PyExc_TypeError, "lineproto series cache: bad entry");
        goto done;
    }
    if (cacheable)
        cache_insert(cache, pr.hash, key, hit);
found:
    rec->hit = hit;
    rc = 0;
    rec->vstart = -1;
    PyObject *plan_obj = PyTuple_GET_ITEM(hit, 3);
    if (!Py_IS_TYPE(plan_obj, &PlanType) || !PyLong_CheckExact(rec->time))
        goto done;
    PlanObject *plan = (PlanObject *)plan_obj;
    if (plan->key_objs == NULL || PyDict_GET_SIZE(fields) != plan->n)
        goto done;
    PyObject *v;
    for (Py_ssize_t j = 0; j < plan->n; j++) {
        v = given[plan->order[j]];
        char kind = plan->kinds[j];
        int ok = kind == 'f' ? PyFloat_CheckExact(v) : kind == 'b' ? PyBool_Check(v)
                                                                   : PyLong_CheckExact(v);
        if (!ok)  /* another type than the shape was compiled for: the Python encoder */
            goto done;
    }
    Py_ssize_t vstart = bt->n_vals;
    for (Py_ssize_t j = 0; j < plan->n; j++) {
        v = given[plan->order[j]];
        if (push_val(bt, v) < 0) {
            rc = -1;
            goto done;
        }
        bt->n_floats += plan->kinds[j] == 'f' && isfinite(PyFloat_AS_DOUBLE(v));
    }
    rec->vstart = vstart;
done:
    Py_XDECREF(m);
    Py_XDECREF(tags);
    Py_XDECREF(fields);
    Py_XDECREF(key);
    return rc;
}

/* The next token of dumps' column: [*start, *start + *len); 0 when there is none. *plain
 * tells whether orjson's notation of it is repr's: no exponent ('e'), no "null" ('n'), and not
 * below 1e-4 (orjson "0.00001", repr "1e-05"): exactly the tokens starting "0.0000"/"-0.0000". */
static inline int
next_token(const char **cur, const char *stop, const char **start, Py_ssize_t *len, int *plain)
{
    const char *c = *cur;
    if (c >= stop)
        return 0;
    const char *e = c;
    int odd = 0;
    while (e < stop && *e != ',') {
        odd |= *e == 'e' || *e == 'n';
        e++;
    }
    const char *digits = c < e && *c == '-' ? c + 1 : c;
    if (e - digits >= 6 && memcmp(digits, "0.0000", 6) == 0)
        odd = 1;
    *start = c;
    *len = e - c;
    *plain = !odd && e > c;
    *cur = e + 1;
    return 1;
}

/* a float as Point writes it: orjson's token where its notation is repr's, else repr */
static inline int
put_float(Buf *b, double d, const char *tok, Py_ssize_t tlen, int plain)
{
    if (!plain)
        return buf_repr(b, d);
    if (tlen >= 2 && tok[tlen - 2] == '.' && tok[tlen - 1] == '0')
        tlen -= 2;
    return buf_put(b, tok, tlen);
}

/* Pass 2 for one fast point: its body (fields and time) into bt->buf; 0 when it has no field */
static int
write_body(Batch *bt, Rec *rec, long long div, PyObject *div_obj, const char **cur, const char *stop)
{
    PlanObject *plan = (PlanObject *)PyTuple_GET_ITEM(rec->hit, 3);
    Buf *b = &bt->buf;
    b->len = 0;
    int written = 0;
    for (Py_ssize_t j = 0; j < plan->n; j++) {
        PyObject *v = bt->vals[rec->vstart + j];
        char kind = plan->kinds[j];
        const char *tok = NULL;
        Py_ssize_t tlen = 0;
        int plain = 0;
        if (kind == 'f') {
            double d = PyFloat_AS_DOUBLE(v);
            if (!isfinite(d))
                continue;  /* Point leaves the field out */
            if (bt->column != NULL && !next_token(cur, stop, &tok, &tlen, &plain)) {
                PyErr_SetString(PyExc_RuntimeError, "lineproto: float column out of step");
                return -1;
            }
        }
        if (written && buf_put(b, ",", 1) < 0)
            return -1;
        if (buf_put(b, plan->keys[j], plan->key_lens[j]) < 0)
            return -1;
        int rc;
        switch (kind) {
        case 'f':
            rc = put_float(b, PyFloat_AS_DOUBLE(v), tok, tlen, plain);
            break;
        case 'b':
            rc = v == Py_True ? buf_put(b, "true", 4) : buf_put(b, "false", 5);
            break;
        default:
            rc = buf_int(b, v);
            if (rc == 0)
                rc = buf_put(b, kind == 'u' ? "u" : "i", 1);
        }
        if (rc < 0)
            return -1;
        written = 1;
    }
    if (!written)
        return 0;
    if (buf_put(b, " ", 1) < 0)
        return -1;
    int overflow;
    long long t = PyLong_AsLongLongAndOverflow(rec->time, &overflow);
    if (t == -1 && PyErr_Occurred())
        return -1;
    if (!overflow) {
        long long q = t / div;
        if (t % div != 0 && t < 0)  /* Python's floor division (div > 0) */
            q -= 1;
        return buf_i64(b, q) < 0 ? -1 : 1;
    }
    PyObject *q = PyNumber_FloorDivide(rec->time, div_obj);
    if (q == NULL)
        return -1;
    int rc = buf_str(b, q);
    Py_DECREF(q);
    return rc < 0 ? -1 : 1;
}

static PyObject *
encode_many(PyObject *module, PyObject *args)
{
    PyObject *points, *div_obj, *series, *new_series, *dumps;
    PyObject *cache = Py_None;
    if (!PyArg_ParseTuple(args, "O!O!O!OO|O:encode_many", &PyList_Type, &points, &PyLong_Type,
                          &div_obj, &PyDict_Type, &series, &new_series, &dumps, &cache))
        return NULL;
    if (cache != Py_None &&
        (!Py_IS_TYPE(cache, &CacheType) || ((CacheObject *)cache)->slots == NULL)) {
        PyErr_SetString(PyExc_TypeError, "encode_many: cache must be an initialised SeriesCache or None");
        return NULL;
    }
    long long div = PyLong_AsLongLong(div_obj);
    if (div == -1 && PyErr_Occurred())
        return NULL;
    if (div < 1) {
        PyErr_SetString(PyExc_ValueError, "encode_many: div must be >= 1");
        return NULL;
    }
    Batch bt = {0};
    PyObject *out = NULL;
    bt.items = PyList_AsTuple(points);  /* our own references: callbacks may change the list */
    if (bt.items == NULL)
        goto error;
    Py_ssize_t n = PyTuple_GET_SIZE(bt.items);
    bt.recs = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Rec));
    if (bt.recs == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    if (n > 0) {
        PyTypeObject *type = Py_TYPE(PyTuple_GET_ITEM(bt.items, 0));
        if (type != slots_type || type->tp_version_tag != slots_version ||
            !PyType_HasFeature(type, Py_TPFLAGS_VALID_VERSION_TAG))
            resolve_slots(type);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        bt.recs[i].point = PyTuple_GET_ITEM(bt.items, i);
        bt.n_recs = i + 1;
        int rc = collect(&bt, &bt.recs[i], div_obj, div, series, new_series,
                         cache == Py_None ? NULL : (CacheObject *)cache);
        if (rc < 0)
            goto error;
        if (rc > 0) {  /* not a Point as nocsoc makes them: the pure-Python path */
            batch_free(&bt);
            Py_RETURN_NONE;
        }
    }
    const char *cur = NULL, *stop = NULL;
    if (dumps != Py_None && bt.n_floats > 0) {
        /* all finite floats of the batch, in the order pass 2 writes them, in one dumps call */
        PyObject *floats = PyList_New(bt.n_floats);
        if (floats == NULL)
            goto error;
        Py_ssize_t f = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            Rec *rec = &bt.recs[i];
            if (rec->vstart < 0)
                continue;
            PlanObject *plan = (PlanObject *)PyTuple_GET_ITEM(rec->hit, 3);
            for (Py_ssize_t j = 0; j < plan->n; j++) {
                PyObject *v = bt.vals[rec->vstart + j];
                if (plan->kinds[j] == 'f' && isfinite(PyFloat_AS_DOUBLE(v)) && f < bt.n_floats) {
                    Py_INCREF(v);
                    PyList_SET_ITEM(floats, f++, v);
                }
            }
        }
        if (f != bt.n_floats) {  /* cannot happen: the same test counted them */
            Py_DECREF(floats);
            PyErr_SetString(PyExc_RuntimeError, "lineproto: float count out of step");
            goto error;
        }
        bt.column = PyObject_CallOneArg(dumps, floats);
        Py_DECREF(floats);
        if (bt.column == NULL)
            goto error;
        if (!PyBytes_Check(bt.column)) {
            PyErr_SetString(PyExc_TypeError, "lineproto: dumps did not return bytes");
            goto error;
        }
        const char *s = PyBytes_AS_STRING(bt.column);
        Py_ssize_t len = PyBytes_GET_SIZE(bt.column);
        if (len < 2 || s[0] != '[' || s[len - 1] != ']') {
            PyErr_SetString(PyExc_ValueError, "lineproto: dumps did not write a JSON list");
            goto error;
        }
        cur = s + 1;
        stop = s + len - 1;
    }
    if ((out = PyList_New(0)) == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < n; i++) {
        Rec *rec = &bt.recs[i];
        PyObject *line;
        if (rec->vstart < 0) {
            line = PyObject_CallFunctionObjArgs(PyTuple_GET_ITEM(rec->hit, 0), rec->point,
                                                PyTuple_GET_ITEM(rec->hit, 1), NULL);
            if (line == NULL)
                goto error;
            if (!PyUnicode_Check(line)) {
                Py_DECREF(line);
                PyErr_SetString(PyExc_TypeError, "lineproto: an encoder returned no str");
                goto error;
            }
            if (PyUnicode_GET_LENGTH(line) == 0) {
                Py_DECREF(line);
                continue;
            }
        } else {
            int rc = write_body(&bt, rec, div, div_obj, &cur, stop);
            if (rc < 0)
                goto error;
            if (rc == 0)
                continue;  /* no writable field: no line (as Point) */
            line = make_line(PyTuple_GET_ITEM(rec->hit, 1), bt.buf.data, bt.buf.len);
            if (line == NULL)
                goto error;
        }
        int rc = PyList_Append(out, line);
        Py_DECREF(line);
        if (rc < 0)
            goto error;
    }
    if (cur != NULL && cur < stop) {
        PyErr_SetString(PyExc_RuntimeError, "lineproto: float column out of step");
        goto error;
    }
    batch_free(&bt);
    return out;
error:
    Py_XDECREF(out);
    batch_free(&bt);
    return NULL;
}

static PyMethodDef methods[] = {
    {"encode_many", encode_many, METH_VARARGS,
     "encode_many(points, div, series, new_series, dumps) -> list[str] | None\n\n"
     "The lines of a batch of points (see nocsoc/lineproto.py); None when the batch holds\n"
     "something else than nocsoc Points."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_lineproto",
    "C assembly of line-protocol lines for nocsoc.lineproto (see its docstring).", -1, methods,
};

PyMODINIT_FUNC
PyInit__lineproto(void)
{
    if (PyType_Ready(&PlanType) < 0 || PyType_Ready(&CacheType) < 0)
        return NULL;
    s_measurement = PyUnicode_InternFromString("measurement");
    s_tags = PyUnicode_InternFromString("tags");
    s_fields = PyUnicode_InternFromString("fields");
    s_time_ns = PyUnicode_InternFromString("time_ns");
    if (!s_measurement || !s_tags || !s_fields || !s_time_ns)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    if (PyModule_AddType(m, &PlanType) < 0 || PyModule_AddType(m, &CacheType) < 0 ||
        PyModule_AddIntConstant(m, "MAX_FIELDS", MAX_FIELDS) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
