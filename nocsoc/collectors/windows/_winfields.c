/*
 * Fields: one EVTX record's flat fields, the mapping _winfast.record_fields_lazy gives and
 * _evtxfast.decode_events puts in its events, equal to record_fields' dict for every reader.
 *
 * Why: a record has ~28 fields and the engine reads ~6 of them (benign day: 5.9 an event), yet
 * the dict made every value: ~1.1 us a record of str objects made and freed (A/B on the benign
 * day, record_fields with its string values left out). Here each string value stays a span of
 * the record's JSON text (held by the object) until it is read; numbers, true/false/null and
 * the keys are made while scanning, as in the dict, so which records are declined and the keys'
 * order are record_fields' own.
 *
 * Reads (`get`, `[]`, `in`, `len`, truth) are served from the entries. Everything else (iteration,
 * keys/values/items, ==, repr, copy, pickling, any write, every other method of dict's) first
 * makes the real dict once, record_fields' dict exactly (same keys in the same order, same values), and
 * from then on every read and write goes to that dict: the object behaves as that dict does.
 * It is not a dict subclass on purpose: C code that reads a dict's storage directly (json's and
 * orjson's encoders, PyDict_*) would see an empty one. json.dumps refuses it (TypeError) unless
 * given `default`; LogEvent.to_dict and the places that store events give a real dict.
 *
 * No cyclic GC: what it holds (strs, numbers, the text; the dict of those) cannot lead back to
 * it, as for the events that hold it (see _evtxfast.c).
 */
#include "_winfast.h"

#include <stddef.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define WF_BUCKETED 64

typedef struct {
    PyObject_VAR_HEAD  /* ob_size: the entries */
    PyObject *text;
    PyObject *dict;    /* NULL until made: then the only store */
    const unsigned char *base;
    uint64_t bloom;    /* bit (hash & 63) of every key: most absent names end here */
    int latin1;
    /* hash & 63 of the first WF_BUCKETED keys: `find` compares only the keys of the bucket it
       looks for (a key's object read for each of ~28 entries was ~500 instructions a lookup) */
    uint8_t bucket[WF_BUCKETED];
    WfEnt e[1];
} Fields;

PyObject *wf_fields_new(PyObject *text, const unsigned char *base, int latin1, const WfEnt *ents,
                        int n, const Py_hash_t *hashes) {
    Fields *f = PyObject_NewVar(Fields, &WfFields_Type, n);
    if (f == NULL) return NULL;
    f->text = Py_NewRef(text);
    f->dict = NULL;
    f->base = base;
    f->latin1 = latin1;
    uint64_t bloom = 0;
    memset(f->bucket, 0xFF, sizeof f->bucket);
    for (int i = 0; i < n; i++) {
        bloom |= 1ULL << ((uint64_t)hashes[i] & 63);
        if (i < WF_BUCKETED) f->bucket[i] = (uint8_t)((uint64_t)hashes[i] & 63);
    }
    f->bloom = bloom;
    memcpy(f->e, ents, (size_t)n * sizeof(WfEnt));
    return (PyObject *)f;
}

static void fields_dealloc(Fields *f) {
    for (Py_ssize_t i = 0; i < Py_SIZE(f); i++) {
        WfEnt *e = &f->e[i];
        Py_DECREF(WF_KEY(e));
        if (!(e->k & WF_LAZY)) Py_DECREF(e->u.v);
    }
    Py_DECREF(f->text);
    Py_XDECREF(f->dict);
    Py_TYPE(f)->tp_free((PyObject *)f);
}

/* Whether entry i's key is `key` (hash h; `str`: key is an exact str): 1, 0, or -1 on error. */
static int key_is(Fields *f, Py_ssize_t i, PyObject *key, Py_hash_t h, int str) {
    PyObject *k = WF_KEY(&f->e[i]);
    if (k == key) return 1;
    if (str && PyUnicode_CheckExact(k)) {  /* (a key's hash was computed when it was put) */
        return ((PyASCIIObject *)k)->hash == h && PyUnicode_GET_LENGTH(k) == PyUnicode_GET_LENGTH(key)
            && PyUnicode_KIND(k) == PyUnicode_KIND(key)
            && memcmp(PyUnicode_DATA(k), PyUnicode_DATA(key),
                      (size_t)PyUnicode_GET_LENGTH(k) * PyUnicode_KIND(k)) == 0;
    }
    Py_hash_t kh = PyObject_Hash(k);
    if (kh == -1) return -1;
    if (kh != h) return 0;
    return PyObject_RichCompareBool(k, key, Py_EQ);
}

/* The entry of `key`: its index, -1 absent, -2 error (an unhashable key, as dict raises). As a
   dict looks: the same object, or an equal hash and an equal key; the first such entry. Of the
   first WF_BUCKETED entries only those of the key's bucket (hash & 63) are compared: equal keys
   have equal hashes. */
static Py_ssize_t find(Fields *f, PyObject *key) {
    Py_hash_t h;
    int str = PyUnicode_CheckExact(key), r;
    if (!str || (h = ((PyASCIIObject *)key)->hash) == -1) {
        if ((h = PyObject_Hash(key)) == -1) return -2;
    }
    if (!(f->bloom & (1ULL << ((uint64_t)h & 63)))) return -1;
    Py_ssize_t n = Py_SIZE(f), lim = n < WF_BUCKETED ? n : WF_BUCKETED;
    uint8_t b = (uint8_t)((uint64_t)h & 63);
#if defined(__SSE2__)
    const __m128i bv = _mm_set1_epi8((char)b);
    for (Py_ssize_t base = 0; base < lim; base += 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(f->bucket + base)), bv));
        while (m) {  /* (entries past n hold 0xFF: no bucket) */
            Py_ssize_t i = base + __builtin_ctz(m);
            if ((r = key_is(f, i, key, h, str)) != 0) return r < 0 ? -2 : i;
            m &= m - 1;
        }
    }
#else
    for (Py_ssize_t i = 0; i < lim; i++) {
        if (f->bucket[i] != b) continue;
        if ((r = key_is(f, i, key, h, str)) != 0) return r < 0 ? -2 : i;
    }
#endif
    for (Py_ssize_t i = lim; i < n; i++) {
        if ((r = key_is(f, i, key, h, str)) != 0) return r < 0 ? -2 : i;
    }
    return -1;
}

/* Entry i's value, made now if it is still a span. Borrowed. */
static PyObject *value(Fields *f, Py_ssize_t i) {
    WfEnt *e = &f->e[i];
    if (!(e->k & WF_LAZY)) return e->u.v;
    const unsigned char *s = f->base + e->u.s.off;
    uint32_t len = e->u.s.len;
    Py_ssize_t n = (Py_ssize_t)(len & WF_LEN);
    int esc = (len & WF_ESC) != 0, ascii = (len & WF_ASCII) != 0;
    /* as record_fields' scalar() makes it */
    PyObject *v = (!esc && ascii && n <= WF_VCACHE_MAXLEN) ? wf_cached_value(s, n)
                                                          : wf_make_string(s, n, esc, ascii, f->latin1);
    if (v == NULL) return NULL;
    e->u.v = v;
    e->k &= ~WF_LAZY;
    return v;
}

PyObject *wf_fields_dict(PyObject *self) {
    Fields *f = (Fields *)self;
    if (f->dict != NULL) return f->dict;
    Py_ssize_t n = Py_SIZE(f);
#if PY_VERSION_HEX < 0x030D0000
    PyObject *d = _PyDict_NewPresized(n);
#else
    PyObject *d = PyDict_New();
#endif
    if (d == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = value(f, i);
        if (v == NULL || PyDict_SetItem(d, WF_KEY(&f->e[i]), v) < 0) {
            Py_DECREF(d);
            return NULL;
        }
    }
    f->dict = d;
    return d;
}

PyObject *wf_fields_get(PyObject *self, PyObject *key) {
    Fields *f = (Fields *)self;
    if (f->dict != NULL) return PyDict_GetItemWithError(f->dict, key);
    Py_ssize_t i = find(f, key);
    return i < 0 ? NULL : value(f, i);
}

static PyObject *fields_get(Fields *f, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "get expected 1 or 2 arguments, got %zd", nargs);
        return NULL;
    }
    PyObject *v = wf_fields_get((PyObject *)f, args[0]);
    if (v == NULL) {
        if (PyErr_Occurred()) return NULL;
        v = nargs == 2 ? args[1] : Py_None;
    }
    return Py_NewRef(v);
}

static Py_ssize_t fields_len(Fields *f) {
    return f->dict != NULL ? PyDict_GET_SIZE(f->dict) : Py_SIZE(f);
}

static PyObject *fields_subscript(Fields *f, PyObject *key) {
    PyObject *v = wf_fields_get((PyObject *)f, key);
    if (v != NULL) return Py_NewRef(v);
    if (!PyErr_Occurred()) {  /* as dict raises it: the key in a 1-tuple */
        PyObject *t = PyTuple_Pack(1, key);
        if (t != NULL) {
            PyErr_SetObject(PyExc_KeyError, t);
            Py_DECREF(t);
        }
    }
    return NULL;
}

static int fields_ass_subscript(Fields *f, PyObject *key, PyObject *v) {
    PyObject *d = wf_fields_dict((PyObject *)f);
    if (d == NULL) return -1;
    return v == NULL ? PyDict_DelItem(d, key) : PyDict_SetItem(d, key, v);
}

static int fields_contains(Fields *f, PyObject *key) {
    if (f->dict != NULL) return PyDict_Contains(f->dict, key);
    Py_ssize_t i = find(f, key);
    return i == -2 ? -1 : i >= 0;
}

static PyObject *fields_iter(Fields *f) {
    PyObject *d = wf_fields_dict((PyObject *)f);
    return d == NULL ? NULL : PyObject_GetIter(d);
}

static PyObject *fields_richcompare(Fields *f, PyObject *other, int op) {
    PyObject *d = wf_fields_dict((PyObject *)f);
    if (d == NULL) return NULL;
    if (Py_IS_TYPE(other, &WfFields_Type) && (other = wf_fields_dict(other)) == NULL) return NULL;
    return PyObject_RichCompare(d, other, op);
}

static PyObject *fields_repr(Fields *f) {
    PyObject *d = wf_fields_dict((PyObject *)f);
    return d == NULL ? NULL : PyObject_Repr(d);
}

/* The dict's other methods, called on the real dict. Explicit methods rather than a getattr
   hook: with the generic getattr, CPython's method-call fast path (LOAD_METHOD, then a call
   without a bound method object) serves `fields.get(name)`, the engine's most frequent call;
   a hook cost the engine ~1.3 us an event on the benign day. */
static PyObject *delegate(Fields *f, const char *name, PyObject *const *args, size_t nargsf,
                          PyObject *kwnames) {
    PyObject *d = wf_fields_dict((PyObject *)f);
    if (d == NULL) return NULL;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf), nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject *small[8], **all = nargs + nkw + 1 <= 8 ? small : PyMem_Malloc((size_t)(nargs + nkw + 1) * sizeof(PyObject *));
    if (all == NULL) return PyErr_NoMemory();
    all[0] = d;
    for (Py_ssize_t i = 0; i < nargs + nkw; i++) all[i + 1] = args[i];
    PyObject *meth = PyUnicode_InternFromString(name);
    PyObject *r = meth ? PyObject_VectorcallMethod(meth, all, (size_t)(nargs + 1), kwnames) : NULL;
    Py_XDECREF(meth);
    if (all != small) PyMem_Free(all);
    return r;
}

#define DELEGATE(fn, name) \
    static PyObject *fn(Fields *f, PyObject *const *args, size_t nargsf, PyObject *kwnames) { \
        return delegate(f, name, args, nargsf, kwnames); \
    }
DELEGATE(fields_keys, "keys")
DELEGATE(fields_values, "values")
DELEGATE(fields_items, "items")
DELEGATE(fields_copy, "copy")
DELEGATE(fields_pop, "pop")
DELEGATE(fields_popitem, "popitem")
DELEGATE(fields_setdefault, "setdefault")
DELEGATE(fields_update, "update")
DELEGATE(fields_clear, "clear")
DELEGATE(fields_reversed, "__reversed__")

/* Pickled (and copied) as the real dict: what a bus or a copy gets is a dict. */
static PyObject *fields_reduce(Fields *f, PyObject *unused) {
    PyObject *d = wf_fields_dict((PyObject *)f);
    return d == NULL ? NULL : Py_BuildValue("(O(O))", (PyObject *)&PyDict_Type, d);
}

static PyObject *fields_materialize(Fields *f, PyObject *unused) {
    return Py_XNewRef(wf_fields_dict((PyObject *)f));
}

static PyObject *fields_is_made(Fields *f, PyObject *unused) {
    return PyBool_FromLong(f->dict != NULL);
}

static PyMethodDef fields_methods[] = {
    {"get", (PyCFunction)(void (*)(void))fields_get, METH_FASTCALL,
     "get(key, default=None): as dict.get."},
    {"__reduce__", (PyCFunction)fields_reduce, METH_NOARGS, "pickled and copied as a dict"},
#define DM(name, fn) {name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL | METH_KEYWORDS, "as dict's"}
    DM("keys", fields_keys), DM("values", fields_values), DM("items", fields_items),
    DM("copy", fields_copy), DM("pop", fields_pop), DM("popitem", fields_popitem),
    DM("setdefault", fields_setdefault), DM("update", fields_update), DM("clear", fields_clear),
    DM("__reversed__", fields_reversed),
#undef DM
    {"materialize", (PyCFunction)fields_materialize, METH_NOARGS,
     "materialize() -> dict: the fields as the real dict (made once; kept as the store)."},
    {"materialized", (PyCFunction)fields_is_made, METH_NOARGS,
     "materialized() -> bool: whether the real dict has been made (tests)."},
    {NULL, NULL, 0, NULL},
};

static PyMappingMethods fields_as_mapping = {
    (lenfunc)fields_len, (binaryfunc)fields_subscript, (objobjargproc)fields_ass_subscript,
};

static PySequenceMethods fields_as_sequence = {
    .sq_contains = (objobjproc)fields_contains,
};

PyTypeObject WfFields_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nocsoc.collectors.windows._winfast.Fields",
    .tp_basicsize = offsetof(Fields, e),
    .tp_itemsize = sizeof(WfEnt),
    .tp_dealloc = (destructor)fields_dealloc,
    .tp_repr = (reprfunc)fields_repr,
    .tp_as_sequence = &fields_as_sequence,
    .tp_as_mapping = &fields_as_mapping,
    .tp_hash = PyObject_HashNotImplemented,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_MAPPING,
    .tp_doc = "An EVTX record's flat fields: record_fields' dict, its string values made when read.",
    .tp_richcompare = (richcmpfunc)fields_richcompare,
    .tp_iter = (getiterfunc)fields_iter,
    .tp_methods = fields_methods,
};
