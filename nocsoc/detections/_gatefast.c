/* nocsoc.detections._gatefast: the loop over an event's gated fields, Engine.process's
 * first step on every event, in C.
 *
 * Why: on a benign day of Windows events with SigmaHQ's 2,444 Windows rules, this loop in
 * Python (per gated field, ~7 an event: the value read, the dict lookup of what it admitted when
 * seen before, its lowercase stored, its gate slots gathered) was ~6,000 of the engine's ~37,000
 * instructions an event (callgrind). engine.scan_fields_reference is the same loop in Python:
 * the reference (and the path where this is not built); tests/detections/test_gatefast.py proves
 * them equal.
 *
 * scan_fields(spec, fields, lo) -> list | None
 *   spec    tuple of (field name, memo dict, ints dict, admitted) per gated field (Route.gates)
 *   fields  the event's fields: a dict, or any mapping with get() (EVTX's lazy _winfast.Fields)
 *   lo      the event's lowercase cache (a dict), filled with each present field's lowercase
 *   Per field: value = fields.get(name), skipped when None; a str (exactly) is looked up in
 *   memo, an int (exactly) in ints; a value not found goes to admitted(value); either gives
 *   (lowercase, slots); lo[name] = lowercase, and the items of slots (when true) are appended to
 *   the result. None when no field admitted a slot.
 *
 * dispatch(spec, event, on_error) -> list | None
 *   The rest of Engine.process's per-event work before the matches are handed out: the field
 *   gates (as scan_fields), the raw line's keyword gates (spec's CaseFree gate, haystack, the
 *   automata, the short needles found as hay.find would), the candidate set remembered by the
 *   ids of the slot tuples (Route.candidates on a miss), and each candidate's predicate called
 *   fn(event, lo, fields). Returns the rules that matched, in order (None: none); a predicate
 *   raising an Exception calls on_error() and the others run. spec is Route.spec: (gates, raw,
 *   gate, haystack, every, first, short, pattern_rules, merged, plain, candidates).
 *   engine.dispatch_reference is the Python it replaces (~2,400 instructions an event of the
 *   bench's mix, ~3,000 of the Windows benign day: the interpreter's, not the work's).
 *
 * CaseFree([(needle, i, j), ...]) -> gate; gate(raw: str) -> bool
 *   Whether some needle (ASCII) may be in raw.lower(): Engine.process asks it before lowering
 *   and searching a raw line for keyword needles (SigmaHQ's Windows keyword rule, "Mimikatz
 *   Use", on every record's ~1.3 KB of JSON: a Latin-1 copy, its lowercase and an Aho-Corasick
 *   prefilter through pyo3 cost ~7,900 instructions a record, this ~1,500). For a str whose
 *   characters are all below U+0100 (CPython's one-byte kind) the answer is exact: such a
 *   character's lowercase is one character, ASCII only when it was, so a needle occurs in
 *   raw.lower() exactly where the bytes, A-Z folded to a-z, equal it. Any other str gets True
 *   (the caller then lowers and searches it as before). Each needle is found by two of its
 *   bytes, i and j (a "pair", chosen by engine.case_free_pairs: rare ones, shared by many
 *   needles), compared at 32 (AVX2) or 16 (SSE2) positions at once with 0x20 ORed in (A-Z to
 *   a-z, and a few control characters onto punctuation: more candidates, never fewer); each
 *   candidate is then compared in full. gate(b: bytes): whether a needle is in b, A-Z folded
 *   (exact): the raw line's lowered bytes searched for any keyword needle, as the leftmost-first
 *   automaton did before the overlapping search (without pyo3's call and release of the GIL,
 *   ~4,000 instructions a call on the new formats' lines).
 *
 * Routes(table)(event, on_error) -> list | None | False
 *   dispatch(table[event.route_key].spec, event, on_error), the routes of the last keys met
 *   remembered by the key object's identity; False when the table has no route for the key yet.
 *   engine.RoutesReference.
 *
 * firsts(fields, groups) -> tuple of str
 *   Engine._rule_detection's (and _firing_detection's) source, destination and user: per tuple
 *   of field names, str() of the first value none of None, "" and "-". engine.firsts_reference.
 *
 * raw_lower_bytes(event) -> bytes
 *   The bytes the raw line's ASCII keyword needles are searched in (Latin-1, lowered A-Z only;
 *   with U+0130 or KELVIN SIGN, event.raw_lower() in UTF-8). engine.raw_lower_bytes_reference.
 */
#define PY_SSIZE_T_CLEAN
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <Python.h>
#include <structmember.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GATE_X86 1
#endif

static PyObject *s_get;
/* the `get` of the last non-dict mapping type seen (EVTX's Fields): called unbound, without
   looking the method up on every field */
static PyTypeObject *get_type;
static PyObject *get_fn;

static PyObject *mapping_get(PyObject *fields, PyObject *name) {
    PyTypeObject *t = Py_TYPE(fields);
    if (t != get_type) {
        PyObject *fn = _PyType_Lookup(t, s_get);  /* borrowed */
        /* only a type nothing can change (a C type's, no instance dict): its `get` stays */
        if (fn == NULL || !PyType_HasFeature(Py_TYPE(fn), Py_TPFLAGS_METHOD_DESCRIPTOR)
                || !PyType_HasFeature(t, Py_TPFLAGS_IMMUTABLETYPE) || t->tp_dictoffset != 0) {
            PyObject *margs[2] = {fields, name};
            return PyObject_VectorcallMethod(s_get, margs, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
        }
        Py_INCREF(fn);
        Py_XSETREF(get_fn, fn);
        Py_INCREF(t);
        Py_XSETREF(get_type, t);
    }
    PyObject *args[2] = {fields, name};
    return PyObject_Vectorcall(get_fn, args, 2, NULL);
}

/* ---- scan_fields ---------------------------------------------------------------------------- */

static int extend(PyObject **out, PyObject *slots) {
    /* append the items of `slots` (a tuple, else any iterable) to *out, made on first use */
    if (*out == NULL && (*out = PyList_New(0)) == NULL)
        return -1;
    if (PyTuple_CheckExact(slots)) {
        Py_ssize_t n = PyTuple_GET_SIZE(slots);
        for (Py_ssize_t i = 0; i < n; i++)
            if (PyList_Append(*out, PyTuple_GET_ITEM(slots, i)) < 0)
                return -1;
        return 0;
    }
    Py_ssize_t n = PyList_GET_SIZE(*out);
    return PyList_SetSlice(*out, n, n, slots);
}

/* scan_fields's loop: the slots gathered into *out (made on first use, else left NULL) */
static int gather(PyObject *spec, PyObject *fields, PyObject *lo, PyObject **out) {
    int is_dict = PyDict_CheckExact(fields);
    Py_ssize_t n = PyTuple_GET_SIZE(spec);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *fs = PyTuple_GET_ITEM(spec, i);
        if (!PyTuple_CheckExact(fs) || PyTuple_GET_SIZE(fs) != 4 || !PyDict_Check(PyTuple_GET_ITEM(fs, 1))
                || !PyDict_Check(PyTuple_GET_ITEM(fs, 2))) {
            PyErr_SetString(PyExc_TypeError, "scan_fields: spec items are (name, memo, ints, admitted)");
            goto error;
        }
        PyObject *name = PyTuple_GET_ITEM(fs, 0), *v;
        if (is_dict) {
            v = PyDict_GetItemWithError(fields, name);
            if (v == NULL) {
                if (PyErr_Occurred())
                    goto error;
                continue;
            }
            Py_INCREF(v);
        } else {
            v = mapping_get(fields, name);
            if (v == NULL)
                goto error;
        }
        if (v == Py_None) {
            Py_DECREF(v);
            continue;
        }
        PyObject *memo = PyUnicode_CheckExact(v) ? PyTuple_GET_ITEM(fs, 1)
                         : PyLong_CheckExact(v) ? PyTuple_GET_ITEM(fs, 2) : NULL;
        PyObject *seen = NULL;
        if (memo != NULL) {
            seen = PyDict_GetItemWithError(memo, v);
            if (seen != NULL)
                Py_INCREF(seen);
            else if (PyErr_Occurred()) {
                Py_DECREF(v);
                goto error;
            }
        }
        if (seen == NULL) {
            seen = PyObject_CallOneArg(PyTuple_GET_ITEM(fs, 3), v);
            if (seen == NULL) {
                Py_DECREF(v);
                goto error;
            }
        }
        Py_DECREF(v);
        if (!PyTuple_Check(seen) || PyTuple_GET_SIZE(seen) != 2) {
            Py_DECREF(seen);
            PyErr_SetString(PyExc_TypeError, "scan_fields: a gate gave no (lowercase, slots) pair");
            goto error;
        }
        PyObject *slots = PyTuple_GET_ITEM(seen, 1);
        int some;
        if (PyDict_SetItem(lo, name, PyTuple_GET_ITEM(seen, 0)) < 0
                || (some = PyObject_IsTrue(slots)) < 0 || (some && extend(out, slots) < 0)) {
            Py_DECREF(seen);
            goto error;
        }
        Py_DECREF(seen);
    }
    return 0;
error:
    Py_CLEAR(*out);
    return -1;
}

static PyObject *scan_fields(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyTuple_Check(args[0]) || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "scan_fields(spec: tuple, fields, lo: dict)");
        return NULL;
    }
    PyObject *out = NULL;
    if (gather(args[0], args[1], args[2], &out) < 0)
        return NULL;
    if (out == NULL)
        Py_RETURN_NONE;
    return out;
}

/* ---- attributes of __slots__ classes (LogEvent) ------------------------------------------------ */

/* Where a __slots__ attribute of one type is stored, so that reading it is a load (as the
   interpreter's LOAD_ATTR_SLOT does) instead of PyObject_GetAttr's lookup through the type
   (~290 instructions: several an event). Valid while the object's type is `type` and that type
   is unchanged (its version tag); else looked up again, or the generic path is taken. */
typedef struct {
    PyObject **name;
    PyTypeObject *type;  /* borrowed: compared only (its version tag guards the offset) */
    unsigned int version;
    Py_ssize_t offset;   /* 0: not a plain slot of `type` */
} SlotCache;

static Py_ssize_t slot_offset(SlotCache *c, PyObject *obj) {
    PyTypeObject *t = Py_TYPE(obj);
    if (t == c->type && t->tp_version_tag == c->version && c->version != 0)
        return c->offset;
    PyObject *d = _PyType_Lookup(t, *c->name);  /* borrowed; gives the type a version tag */
    Py_ssize_t off = 0;
    if (d != NULL && Py_TYPE(d) == &PyMemberDescr_Type) {
        PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
        if (m->type == T_OBJECT_EX && !(m->flags & READONLY) && m->offset > 0)
            off = m->offset;
    }
    if (!PyType_HasFeature(t, Py_TPFLAGS_VALID_VERSION_TAG))
        return 0;
    c->type = t;
    c->version = t->tp_version_tag;
    c->offset = off;
    return off;
}

/* obj.<name>, a new reference (NULL and an exception set on error) */
static PyObject *slot_get(SlotCache *c, PyObject *obj) {
    Py_ssize_t off = slot_offset(c, obj);
    if (off > 0) {
        PyObject *v = *(PyObject **)((char *)obj + off);
        if (v != NULL)
            return Py_NewRef(v);
    }
    return PyObject_GetAttr(obj, *c->name);
}

/* obj.<name> = v */
static int slot_set(SlotCache *c, PyObject *obj, PyObject *v) {
    Py_ssize_t off = slot_offset(c, obj);
    if (off > 0) {
        PyObject **at = (PyObject **)((char *)obj + off);
        PyObject *old = *at;
        *at = Py_NewRef(v);
        Py_XDECREF(old);
        return 0;
    }
    return PyObject_SetAttr(obj, *c->name, v);
}

/* ---- dispatch ------------------------------------------------------------------------------- */

static PyObject *s_fields, *s_low, *s_raw;
static SlotCache c_fields = {&s_fields}, c_low = {&s_low}, c_raw = {&s_raw};

/* whether `needle` is in `hay` (hay.find(needle) != -1): bytes by memmem, str by PyUnicode_Find;
   -1 on error */
static int contains(PyObject *hay, PyObject *needle) {
    if (PyBytes_CheckExact(hay) && PyBytes_CheckExact(needle)) {
        Py_ssize_t nl = PyBytes_GET_SIZE(needle);
        if (nl == 0)
            return 1;
        return memmem(PyBytes_AS_STRING(hay), (size_t)PyBytes_GET_SIZE(hay), PyBytes_AS_STRING(needle),
                      (size_t)nl) != NULL;
    }
    if (PyUnicode_CheckExact(hay) && PyUnicode_CheckExact(needle)) {
        Py_ssize_t at = PyUnicode_Find(hay, needle, 0, PY_SSIZE_T_MAX, 1);
        return at == -2 ? -1 : at >= 0;
    }
    PyObject *at = PyObject_CallMethod(hay, "find", "O", needle);
    if (at == NULL)
        return -1;
    Py_ssize_t i = PyLong_AsSsize_t(at);
    Py_DECREF(at);
    return i == -1 && PyErr_Occurred() ? -1 : i != -1;
}

/* cand.append(slots) for each automaton hit h: pattern_rules[h[0]] */
static int add_hits(PyObject **cand, PyObject *found, PyObject *pr) {
    PyObject *seq = PySequence_Fast(found, "dispatch: an automaton gave no sequence");
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *h = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *k = PySequence_GetItem(h, 0);
        if (k == NULL)
            goto error;
        PyObject *slots = PyObject_GetItem(pr, k);
        Py_DECREF(k);
        if (slots == NULL)
            goto error;
        if (*cand == NULL && (*cand = PyList_New(0)) == NULL) {
            Py_DECREF(slots);
            goto error;
        }
        int bad = PyList_Append(*cand, slots);
        Py_DECREF(slots);
        if (bad < 0)
            goto error;
    }
    Py_DECREF(seq);
    return 0;
error:
    Py_DECREF(seq);
    return -1;
}

/* the call's truth: 1, 0, -1 on error */
static int truth_of_call(PyObject *fn, PyObject *arg) {
    PyObject *r = PyObject_CallOneArg(fn, arg);
    if (r == NULL)
        return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

/* the raw line's keyword gates (Route.raw): their slots appended to *cand */
static int raw_gates(PyObject *spec, PyObject *event, PyObject **cand) {
    PyObject *gate = PyTuple_GET_ITEM(spec, 2), *haystack = PyTuple_GET_ITEM(spec, 3);
    PyObject *every = PyTuple_GET_ITEM(spec, 4), *first = PyTuple_GET_ITEM(spec, 5);
    PyObject *shorts = PyTuple_GET_ITEM(spec, 6), *pr = PyTuple_GET_ITEM(spec, 7);
    if (gate != Py_None) {
        PyObject *raw = slot_get(&c_raw, event);
        if (raw == NULL)
            return -1;
        int go = truth_of_call(gate, raw);
        Py_DECREF(raw);
        if (go <= 0)
            return go;
    }
    PyObject *hay = PyObject_CallOneArg(haystack, event);
    if (hay == NULL)
        return -1;
    int some = PyObject_IsTrue(hay);
    if (some <= 0) {  /* b"": no needle can be in it */
        Py_DECREF(hay);
        return some;
    }
    if (every != Py_None) {
        int look = first == Py_None ? 1 : truth_of_call(first, hay);
        if (look < 0)
            goto error;
        if (look) {
            PyObject *a[2] = {hay, Py_True};
            PyObject *found = PyObject_Vectorcall(every, a, 2, NULL);
            if (found == NULL)
                goto error;
            int any = PyObject_IsTrue(found);
            int bad = any < 0 || (any && add_hits(cand, found, pr) < 0);
            Py_DECREF(found);
            if (bad)
                goto error;
        }
    }
    if (!PyTuple_CheckExact(shorts)) {
        PyErr_SetString(PyExc_TypeError, "dispatch: short needles are a tuple");
        goto error;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(shorts); i++) {
        PyObject *item = PyTuple_GET_ITEM(shorts, i);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_SetString(PyExc_TypeError, "dispatch: short needles are (needle, slots) pairs");
            goto error;
        }
        int in = contains(hay, PyTuple_GET_ITEM(item, 0));
        if (in < 0)
            goto error;
        if (in) {
            if (*cand == NULL && (*cand = PyList_New(0)) == NULL)
                goto error;
            if (PyList_Append(*cand, PyTuple_GET_ITEM(item, 1)) < 0)
                goto error;
        }
    }
    Py_DECREF(hay);
    return 0;
error:
    Py_DECREF(hay);
    return -1;
}

/* Route.candidates's key of `cand`: id(cand[0]) alone, else the tuple of their ids */
static PyObject *cand_key(PyObject *cand) {
    Py_ssize_t n = PyList_GET_SIZE(cand);
    if (n == 1)
        return PyLong_FromVoidPtr(PyList_GET_ITEM(cand, 0));
    PyObject *key = PyTuple_New(n);
    if (key == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *id = PyLong_FromVoidPtr(PyList_GET_ITEM(cand, i));
        if (id == NULL) {
            Py_DECREF(key);
            return NULL;
        }
        PyTuple_SET_ITEM(key, i, id);
    }
    return key;
}

static int spec_ok(PyObject *spec) {
    return PyTuple_CheckExact(spec) && PyTuple_GET_SIZE(spec) == 11 && PyTuple_Check(PyTuple_GET_ITEM(spec, 0))
           && PyDict_Check(PyTuple_GET_ITEM(spec, 8));
}

static PyObject *dispatch_spec(PyObject *spec, PyObject *event, PyObject *on_error);

static PyObject *dispatch(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !spec_ok(args[0])) {
        PyErr_SetString(PyExc_TypeError, "dispatch(spec: Route.spec, event, on_error)");
        return NULL;
    }
    return dispatch_spec(args[0], args[1], args[2]);
}

/* dispatch's work, on a checked spec */
static PyObject *dispatch_spec(PyObject *spec, PyObject *event, PyObject *on_error) {
    PyObject *fields = NULL, *lo = NULL, *cand = NULL, *rules = NULL, *hits = NULL;
    if ((fields = slot_get(&c_fields, event)) == NULL || (lo = slot_get(&c_low, event)) == NULL)
        goto error;
    if (lo == Py_None) {  /* the lowercase cache (LogEvent.lowered(), inlined) */
        Py_DECREF(lo);
        if ((lo = PyDict_New()) == NULL || slot_set(&c_low, event, lo) < 0)
            goto error;
    } else if (!PyDict_Check(lo)) {
        PyErr_SetString(PyExc_TypeError, "dispatch: the event's lowercase cache is no dict");
        goto error;
    }
    if (gather(PyTuple_GET_ITEM(spec, 0), fields, lo, &cand) < 0)
        goto error;
    int raw_on = PyObject_IsTrue(PyTuple_GET_ITEM(spec, 1));
    if (raw_on < 0 || (raw_on && raw_gates(spec, event, &cand) < 0))
        goto error;
    if (cand != NULL && PyList_GET_SIZE(cand) > 0) {
        PyObject *key = cand_key(cand);
        if (key == NULL)
            goto error;
        rules = PyDict_GetItemWithError(PyTuple_GET_ITEM(spec, 8), key);
        if (rules != NULL)
            Py_INCREF(rules);
        else if (!PyErr_Occurred()) {
            PyObject *a[2] = {cand, key};
            rules = PyObject_Vectorcall(PyTuple_GET_ITEM(spec, 10), a, 2, NULL);
        }
        Py_DECREF(key);
        if (rules == NULL)
            goto error;
    } else {
        rules = PyTuple_GET_ITEM(spec, 9);
        Py_INCREF(rules);
    }
    if (!PyList_Check(rules)) {
        PyErr_SetString(PyExc_TypeError, "dispatch: the rules to run are a list");
        goto error;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rules); i++) {
        PyObject *call = PyList_GET_ITEM(rules, i);
        if (!PyTuple_CheckExact(call) || PyTuple_GET_SIZE(call) != 2) {
            PyErr_SetString(PyExc_TypeError, "dispatch: a rule to run is (rule, fn)");
            goto error;
        }
        Py_INCREF(call);
        PyObject *a[3] = {event, lo, fields};
        PyObject *r = PyObject_Vectorcall(PyTuple_GET_ITEM(call, 1), a, 3, NULL);
        if (r == NULL) {
            /* a predicate bug on odd input must not stop the stream (Exception, as `except
               Exception` would: KeyboardInterrupt and SystemExit go through) */
            if (!PyErr_ExceptionMatches(PyExc_Exception)) {
                Py_DECREF(call);
                goto error;
            }
            PyErr_Clear();
            PyObject *e = PyObject_CallNoArgs(on_error);
            Py_DECREF(call);
            if (e == NULL)
                goto error;
            Py_DECREF(e);
            continue;
        }
        int hit = PyObject_IsTrue(r);
        Py_DECREF(r);
        if (hit > 0 && hits == NULL && (hits = PyList_New(0)) == NULL)
            hit = -1;
        if (hit > 0 && PyList_Append(hits, PyTuple_GET_ITEM(call, 0)) < 0)
            hit = -1;
        Py_DECREF(call);
        if (hit < 0)
            goto error;
    }
    Py_DECREF(fields);
    Py_DECREF(lo);
    Py_XDECREF(cand);
    Py_DECREF(rules);
    if (hits == NULL)
        Py_RETURN_NONE;
    return hits;
error:
    Py_XDECREF(fields);
    Py_XDECREF(lo);
    Py_XDECREF(cand);
    Py_XDECREF(rules);
    Py_XDECREF(hits);
    return NULL;
}

/* ---- Routes: the route of an event's key, by identity ------------------------------------------ */

/* Routes(table)(event, on_error) -> list | None | False: dispatch(route.spec, event, on_error)
   of the route table[event.route_key]; False when the table has no route for that key yet (the
   engine builds it, then calls dispatch). The routes of the last keys met are remembered by the
   key object's identity, the key held (so no other object can have its address while it is
   remembered): a direct-mapped cache of ROUTE_SLOTS entries. Each route's `spec` is read on
   every call (Route.refresh replaces it). engine.RoutesReference is the same in Python.
   Why: the parsers hand out one route key object per kind of event (the C reader's outputs),
   but a dict lookup hashes it every time (a tuple of tuples: its hash is not cached) and
   compares an equal key made anew item by item: ~550 instructions an event of the new
   formats' mix, where this is a pointer compare. */
#define ROUTE_SLOTS 64

typedef struct {
    PyObject *key;    /* a route key, held */
    PyObject *route;  /* its route, held */
} RouteSlot;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *table;  /* route key -> Route (Engine._routes) */
    RouteSlot slots[ROUTE_SLOTS];
} Routes;

static PyObject *s_route_key, *s_spec;
static SlotCache c_route_key = {&s_route_key}, c_spec = {&s_spec};

static PyObject *routes_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kw) {
    Routes *rs = (Routes *)self;
    if (PyVectorcall_NARGS(nargsf) != 2 || kw != NULL) {
        PyErr_SetString(PyExc_TypeError, "Routes(table)(event, on_error)");
        return NULL;
    }
    PyObject *event = args[0], *key = slot_get(&c_route_key, event), *route;
    if (key == NULL)
        return NULL;
    uintptr_t h = (uintptr_t)key >> 4;
    RouteSlot *at = &rs->slots[(h ^ (h >> 6)) & (ROUTE_SLOTS - 1)];
    if (at->key == key) {
        route = Py_NewRef(at->route);
    } else {
        route = PyDict_GetItemWithError(rs->table, key);  /* borrowed */
        if (route == NULL) {
            Py_DECREF(key);
            return PyErr_Occurred() ? NULL : Py_NewRef(Py_False);
        }
        Py_INCREF(route);
        /* the slot set before the old refs go: their release may run code that calls this */
        PyObject *old_key = at->key, *old_route = at->route;
        at->key = Py_NewRef(key);
        at->route = Py_NewRef(route);
        Py_XDECREF(old_key);
        Py_XDECREF(old_route);
    }
    Py_DECREF(key);
    PyObject *spec = slot_get(&c_spec, route);
    Py_DECREF(route);
    if (spec == NULL)
        return NULL;
    PyObject *out = NULL;
    if (!spec_ok(spec))
        PyErr_SetString(PyExc_TypeError, "Routes: a route's spec is no Route.spec");
    else
        out = dispatch_spec(spec, event, args[1]);
    Py_DECREF(spec);
    return out;
}

static PyObject *routes_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *table;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) > 0) {
        PyErr_SetString(PyExc_TypeError, "Routes(table) takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O!:Routes", &PyDict_Type, &table))
        return NULL;
    Routes *self = (Routes *)type->tp_alloc(type, 0);  /* zeroed: every slot empty */
    if (self == NULL)
        return NULL;
    self->vectorcall = routes_vectorcall;
    self->table = Py_NewRef(table);
    return (PyObject *)self;
}

static int routes_traverse(Routes *self, visitproc visit, void *arg) {
    Py_VISIT(self->table);
    for (int i = 0; i < ROUTE_SLOTS; i++) {
        Py_VISIT(self->slots[i].key);
        Py_VISIT(self->slots[i].route);
    }
    return 0;
}

static int routes_clear(Routes *self) {
    Py_CLEAR(self->table);
    for (int i = 0; i < ROUTE_SLOTS; i++) {
        Py_CLEAR(self->slots[i].key);
        Py_CLEAR(self->slots[i].route);
    }
    return 0;
}

static void routes_dealloc(Routes *self) {
    PyObject_GC_UnTrack(self);
    routes_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject RoutesType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nocsoc.detections._gatefast.Routes",
    .tp_basicsize = sizeof(Routes),
    .tp_dealloc = (destructor)routes_dealloc,
    .tp_vectorcall_offset = offsetof(Routes, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Routes(table)(event, on_error) -> dispatch of the event's route, or False: no route yet "
              "(see the module).",
    .tp_traverse = (traverseproc)routes_traverse,
    .tp_clear = (inquiry)routes_clear,
    .tp_new = routes_new,
};

/* ---- what a detection names (Engine._rule_detection) ------------------------------------------- */

/* firsts(fields, groups) -> tuple of str: per tuple of field names in `groups`, str() of the
   first value among those fields that is none of None, "" and "-" (compared as `v not in (None,
   "", "-")` compares), else "". engine.firsts_reference is the same in Python. Why: a rule's
   detection names its source, destination and user (13 field names looked up, most absent in
   any one format): ~1,500 instructions in Python, half the cost of building the detection. */
static PyObject *s_empty, *s_dash;

static int is_blank(PyObject *v) {
    /* 1 when v == None, "" or "-" (v not None: None compares by identity first, as `in` does) */
    if (v == Py_None)
        return 1;
    if (PyUnicode_CheckExact(v)) {
        Py_ssize_t n = PyUnicode_GET_LENGTH(v);
        return n == 0 || (n == 1 && PyUnicode_READ_CHAR(v, 0) == '-');
    }
    PyObject *blanks[3] = {Py_None, s_empty, s_dash};
    for (int i = 0; i < 3; i++) {
        int eq = PyObject_RichCompareBool(blanks[i], v, Py_EQ);
        if (eq != 0)
            return eq;
    }
    return 0;
}

static PyObject *firsts(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyTuple_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "firsts(fields, groups: tuple of tuples of str)");
        return NULL;
    }
    PyObject *fields = args[0], *groups = args[1];
    int is_dict = PyDict_CheckExact(fields);
    Py_ssize_t ng = PyTuple_GET_SIZE(groups);
    PyObject *out = PyTuple_New(ng);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t g = 0; g < ng; g++) {
        PyObject *names = PyTuple_GET_ITEM(groups, g), *found = NULL;
        if (!PyTuple_CheckExact(names)) {
            PyErr_SetString(PyExc_TypeError, "firsts: groups are tuples of field names");
            goto error;
        }
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names) && found == NULL; i++) {
            PyObject *v;
            if (is_dict) {
                v = PyDict_GetItemWithError(fields, PyTuple_GET_ITEM(names, i));
                if (v == NULL) {
                    if (PyErr_Occurred())
                        goto error;
                    continue;
                }
                Py_INCREF(v);
            } else if ((v = mapping_get(fields, PyTuple_GET_ITEM(names, i))) == NULL) {
                goto error;
            }
            int blank = is_blank(v);
            if (blank < 0) {
                Py_DECREF(v);
                goto error;
            }
            if (!blank) {
                found = PyObject_Str(v);
                Py_DECREF(v);
                if (found == NULL)
                    goto error;
            } else {
                Py_DECREF(v);
            }
        }
        PyTuple_SET_ITEM(out, g, found != NULL ? found : Py_NewRef(s_empty));
    }
    return out;
error:
    Py_DECREF(out);
    return NULL;
}

/* ---- the raw line's lowercase bytes (engine._raw_lower_bytes) --------------------------------- */

static PyObject *s_raw_lower;

static inline void lower_ascii(uint8_t *dst, const uint8_t *src, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        uint8_t c = src[i];
        dst[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
    }
}

/* raw_lower_bytes(event) -> bytes: what engine._raw_lower_bytes returns, the raw line encoded to
   Latin-1 (dropping what it cannot encode) and lowered as bytes.lower() lowers (A-Z only), or,
   when it holds U+0130 or KELVIN SIGN, event.raw_lower() encoded to UTF-8 (surrogatepass). Why:
   the Python function's call, its two searches, the copy and its lowercase were ~4 steps of the
   interpreter around ~1 byte of work a character; a str of CPython's one-byte kind (every
   character below U+0100: nearly every log line) is its own Latin-1 encoding, lowered here in
   one pass into the new bytes. */
static PyObject *raw_lower_bytes(PyObject *self, PyObject *event) {
    PyObject *raw = slot_get(&c_raw, event), *out = NULL;
    if (raw == NULL)
        return NULL;
    if (!PyUnicode_CheckExact(raw)) {
        PyErr_SetString(PyExc_TypeError, "raw_lower_bytes: the event's raw line is no str");
        goto done;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(raw);
    if (PyUnicode_KIND(raw) == PyUnicode_1BYTE_KIND) {
        if ((out = PyBytes_FromStringAndSize(NULL, n)) != NULL)
            lower_ascii((uint8_t *)PyBytes_AS_STRING(out), PyUnicode_1BYTE_DATA(raw), n);
        goto done;
    }
    if (PyUnicode_FindChar(raw, 0x130, 0, n, 1) >= 0 || PyUnicode_FindChar(raw, 0x212a, 0, n, 1) >= 0) {
        PyObject *low = PyObject_CallMethodNoArgs(event, s_raw_lower);
        if (low != NULL) {
            out = PyUnicode_AsEncodedString(low, "utf-8", "surrogatepass");
            Py_DECREF(low);
        }
        goto done;
    }
    PyObject *b = PyUnicode_AsEncodedString(raw, "latin-1", "ignore");
    if (b != NULL) {
        if ((out = PyBytes_FromStringAndSize(NULL, PyBytes_GET_SIZE(b))) != NULL)
            lower_ascii((uint8_t *)PyBytes_AS_STRING(out), (const uint8_t *)PyBytes_AS_STRING(b),
                        PyBytes_GET_SIZE(b));
        Py_DECREF(b);
    }
done:
    Py_DECREF(raw);
    return out;
}

/* ---- correlation groups ----------------------------------------------------------------------- */

static PyObject *s_time, *s_lower, *s_popitem, *s_move_to_end;
static SlotCache c_time = {&s_time}, c_time_idle = {&s_time}, c_fields_new = {&s_fields};

static int has_upper(const Py_UCS1 *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return 1;
    return 0;
}

/* new_group(groups, name, event, t, max_groups) -> None | False: CorrelationTracker.feed's most
   common case, a group's first event held as the event itself: the group-by value
   event.fields[name], a non-empty str, lowercased, is a key (value,) not in `groups` (an
   OrderedDict), which has room for it, and `t` is the event's time; then groups[(value,)] =
   event and None. Anything else: False, nothing done (feed's Python takes it). */
static PyObject *new_group(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5 || !PyDict_Check(args[0]) || !PyUnicode_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "new_group(groups: OrderedDict, name: str, event, t, max_groups)");
        return NULL;
    }
    PyObject *groups = args[0], *event = args[2], *t = args[3];
    Py_ssize_t max_groups = PyLong_AsSsize_t(args[4]);
    if (max_groups == -1 && PyErr_Occurred())
        return NULL;
    if (PyDict_GET_SIZE(groups) >= max_groups)
        Py_RETURN_FALSE;
    PyObject *fields = slot_get(&c_fields_new, event), *v;
    if (fields == NULL)
        return NULL;
    if (PyDict_CheckExact(fields)) {
        v = PyDict_GetItemWithError(fields, args[1]);
        Py_XINCREF(v);
    } else {
        v = mapping_get(fields, args[1]);
    }
    Py_DECREF(fields);
    if (v == NULL)
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_False);
    if (!PyUnicode_CheckExact(v) || PyUnicode_GET_LENGTH(v) == 0) {
        Py_DECREF(v);
        Py_RETURN_FALSE;
    }
    PyObject *when = slot_get(&c_time, event);
    if (when == NULL) {
        Py_DECREF(v);
        return NULL;
    }
    int same = PyObject_RichCompareBool(t, when, Py_EQ);
    Py_DECREF(when);
    if (same <= 0) {
        Py_DECREF(v);
        return same < 0 ? NULL : Py_NewRef(Py_False);
    }
    PyObject *low;
    if (PyUnicode_IS_ASCII(v) && !has_upper(PyUnicode_1BYTE_DATA(v), PyUnicode_GET_LENGTH(v))) {
        low = v;  /* its own lowercase (addresses, most names): equal as a key, its hash known */
    } else {
        low = PyObject_CallMethodNoArgs(v, s_lower);
        Py_DECREF(v);
        if (low == NULL)
            return NULL;
    }
    PyObject *gk = PyTuple_New(1);
    if (gk == NULL) {
        Py_DECREF(low);
        return NULL;
    }
    PyTuple_SET_ITEM(gk, 0, low);
    int have = PyDict_Contains(groups, gk);
    if (have != 0 || PyObject_SetItem(groups, gk, event) < 0) {
        Py_DECREF(gk);
        return have > 0 ? Py_NewRef(Py_False) : NULL;
    }
    Py_DECREF(gk);
    Py_RETURN_NONE;
}

/* pop_idle(groups, cutoff, window_type) -> int: CorrelationTracker.sweep's most common case:
   the groups at the front of `groups` (least recently active first) held as their one event
   (anything but a window_type: the event, newest time .time, or a tuple, newest time [0]) whose
   newest time is before `cutoff`, deleted; stops at the first window or the first group still
   in use. The number deleted. */
static PyObject *pop_idle(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyDict_Check(args[0]) || !PyType_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "pop_idle(groups: OrderedDict, cutoff, window_type)");
        return NULL;
    }
    PyObject *groups = args[0], *cutoff = args[1];
    Py_ssize_t n = 0;
    /* popped before it is looked at (most groups looked at are idle): popitem(False) costs
       less than peeking at the first key through an iterator; the first one still in use goes
       back in its place */
    PyObject *popitem = PyObject_GetAttr(groups, s_popitem);
    if (popitem == NULL)
        return NULL;
    while (PyDict_GET_SIZE(groups) > 0) {
        PyObject *item = PyObject_CallOneArg(popitem, Py_False);
        if (item == NULL) {
            Py_DECREF(popitem);
            return NULL;
        }
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2) {
            Py_DECREF(item);
            Py_DECREF(popitem);
            PyErr_SetString(PyExc_TypeError, "pop_idle: popitem gave no (key, group)");
            return NULL;
        }
        PyObject *gk = PyTuple_GET_ITEM(item, 0), *g = PyTuple_GET_ITEM(item, 1);
        int idle = 0;
        if (Py_TYPE(g) != (PyTypeObject *)args[2]) {
            PyObject *newest;
            if (PyTuple_CheckExact(g) && PyTuple_GET_SIZE(g) > 0)
                newest = Py_NewRef(PyTuple_GET_ITEM(g, 0));
            else
                newest = slot_get(&c_time_idle, g);
            idle = newest == NULL ? -1 : PyObject_RichCompareBool(newest, cutoff, Py_LT);
            Py_XDECREF(newest);
        }
        if (idle > 0) {
            Py_DECREF(item);
            n++;
            continue;
        }
        /* in use (or an error): back in its place, first */
        PyObject *et = NULL, *ev = NULL, *etb = NULL;
        if (idle < 0)
            PyErr_Fetch(&et, &ev, &etb);
        int bad = PyObject_SetItem(groups, gk, g) < 0;
        if (!bad) {
            PyObject *r = PyObject_CallMethodObjArgs(groups, s_move_to_end, gk, Py_False, NULL);
            bad = r == NULL;
            Py_XDECREF(r);
        }
        Py_DECREF(item);
        Py_DECREF(popitem);
        if (idle < 0) {
            if (bad) {  /* the later error stands */
                Py_XDECREF(et);
                Py_XDECREF(ev);
                Py_XDECREF(etb);
            } else {
                PyErr_Restore(et, ev, etb);
            }
            return NULL;
        }
        if (bad)
            return NULL;
        return PyLong_FromSsize_t(n);
    }
    Py_DECREF(popitem);
    return PyLong_FromSsize_t(n);
}

/* ---- CaseFree ------------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *text; /* the needle (into `store`) */
    uint16_t len;
    uint16_t p1;         /* its pair's first byte's index in it */
} Needle;

typedef struct {
    uint8_t b1, b2;      /* the pair's bytes, 0x20 ORed in */
    uint16_t d;          /* b2's distance after b1 */
    Py_ssize_t first, count; /* its needles: needles[first:first + count] */
} Pair;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    Py_ssize_t n, npairs, shortest;
    Needle *needles;
    Pair *pairs;
    uint8_t *store;
    uint16_t maxd;
} CaseFree;

static int have_avx2;

static inline uint8_t fold(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c; }

/* a needle of `pr` around text position j (where its pair's first byte is)? */
static int match_at(const CaseFree *cf, const Pair *pr, const uint8_t *s, Py_ssize_t n, Py_ssize_t j) {
    for (Py_ssize_t k = pr->first; k < pr->first + pr->count; k++) {
        const Needle *nd = &cf->needles[k];
        Py_ssize_t start = j - nd->p1;
        if (start < 0 || start + nd->len > n)
            continue;
        uint16_t i = 0;
        while (i < nd->len && fold(s[start + i]) == nd->text[i])
            i++;
        if (i == nd->len)
            return 1;
    }
    return 0;
}

/* positions [j, n): one at a time */
static int search_tail(const CaseFree *cf, const uint8_t *s, Py_ssize_t n, Py_ssize_t j) {
    for (; j < n; j++) {
        uint8_t a = (uint8_t)(s[j] | 0x20);
        for (Py_ssize_t k = 0; k < cf->npairs; k++) {
            const Pair *pr = &cf->pairs[k];
            if (a == pr->b1 && j + pr->d < n && (uint8_t)(s[j + pr->d] | 0x20) == pr->b2
                    && match_at(cf, pr, s, n, j))
                return 1;
        }
    }
    return 0;
}

#define MAX_SIMD_PAIRS 48  /* more: one position at a time (engine.py then uses its own path) */

#ifdef GATE_X86
/* blocks of 16 positions j whose pair bytes (j, j + d) all lie in the text; *at: where it stopped */
static int search_sse2(const CaseFree *cf, const uint8_t *s, Py_ssize_t n, Py_ssize_t *at) {
    __m128i b1[MAX_SIMD_PAIRS], b2[MAX_SIMD_PAIRS];
    for (Py_ssize_t k = 0; k < cf->npairs; k++) {
        b1[k] = _mm_set1_epi8((char)cf->pairs[k].b1);
        b2[k] = _mm_set1_epi8((char)cf->pairs[k].b2);
    }
    const __m128i low = _mm_set1_epi8(0x20);
    Py_ssize_t j = *at;
    for (; j + 16 + (Py_ssize_t)cf->maxd <= n; j += 16) {
        __m128i a = _mm_or_si128(_mm_loadu_si128((const __m128i *)(s + j)), low);
        for (Py_ssize_t k = 0; k < cf->npairs; k++) {
            const Pair *pr = &cf->pairs[k];
            __m128i b = _mm_or_si128(_mm_loadu_si128((const __m128i *)(s + j + pr->d)), low);
            unsigned bits = (unsigned)_mm_movemask_epi8(
                _mm_and_si128(_mm_cmpeq_epi8(a, b1[k]), _mm_cmpeq_epi8(b, b2[k])));
            while (bits) {
                if (match_at(cf, pr, s, n, j + __builtin_ctz(bits)))
                    return 1;
                bits &= bits - 1;
            }
        }
    }
    *at = j;
    return 0;
}

/* `np` pairs: with a constant np (search_avx2's cases) the loop is unrolled and the pairs'
   vectors stay in registers (~30 instructions a block of 32 positions for 4 pairs, ~57 not) */
__attribute__((target("avx2"), always_inline))
static inline int avx2_pairs(const CaseFree *cf, const uint8_t *s, Py_ssize_t n, Py_ssize_t *at, Py_ssize_t np) {
    __m256i b1[MAX_SIMD_PAIRS], b2[MAX_SIMD_PAIRS];
    Py_ssize_t d[MAX_SIMD_PAIRS];
#pragma GCC unroll 16
    for (Py_ssize_t k = 0; k < np; k++) {
        b1[k] = _mm256_set1_epi8((char)cf->pairs[k].b1);
        b2[k] = _mm256_set1_epi8((char)cf->pairs[k].b2);
        d[k] = cf->pairs[k].d;
    }
    const __m256i low = _mm256_set1_epi8(0x20);
    Py_ssize_t j = *at;
    for (; j + 32 + (Py_ssize_t)cf->maxd <= n; j += 32) {
        __m256i a = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(s + j)), low);
        __m256i any = _mm256_setzero_si256();
#pragma GCC unroll 16
        for (Py_ssize_t k = 0; k < np; k++) {
            __m256i b = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(s + j + d[k])), low);
            any = _mm256_or_si256(any, _mm256_and_si256(_mm256_cmpeq_epi8(a, b1[k]), _mm256_cmpeq_epi8(b, b2[k])));
        }
        if (_mm256_testz_si256(any, any))
            continue;
        for (Py_ssize_t k = 0; k < np; k++) {  /* rare: which pair, where */
            __m256i b = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(s + j + d[k])), low);
            unsigned bits = (unsigned)_mm256_movemask_epi8(
                _mm256_and_si256(_mm256_cmpeq_epi8(a, b1[k]), _mm256_cmpeq_epi8(b, b2[k])));
            while (bits) {
                if (match_at(cf, &cf->pairs[k], s, n, j + __builtin_ctz(bits)))
                    return 1;
                bits &= bits - 1;
            }
        }
    }
    *at = j;
    return 0;
}

/* many pairs (syslog routes' keywords: 15-40), some of them common in text: each pair's
   positions taken at once, where avx2_pairs' test of all of them first, then again pair by
   pair, ran twice over the blocks that held a candidate (most of them) */
__attribute__((target("avx2")))
static int avx2_many(const CaseFree *cf, const uint8_t *s, Py_ssize_t n, Py_ssize_t *at) {
    const __m256i low = _mm256_set1_epi8(0x20);
    Py_ssize_t j = *at;
    for (; j + 32 + (Py_ssize_t)cf->maxd <= n; j += 32) {
        __m256i a = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(s + j)), low);
        for (Py_ssize_t k = 0; k < cf->npairs; k++) {
            const Pair *pr = &cf->pairs[k];
            __m256i b = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(s + j + pr->d)), low);
            unsigned bits = (unsigned)_mm256_movemask_epi8(_mm256_and_si256(
                _mm256_cmpeq_epi8(a, _mm256_set1_epi8((char)pr->b1)),
                _mm256_cmpeq_epi8(b, _mm256_set1_epi8((char)pr->b2))));
            while (bits) {
                if (match_at(cf, pr, s, n, j + __builtin_ctz(bits)))
                    return 1;
                bits &= bits - 1;
            }
        }
    }
    *at = j;
    return 0;
}

/* blocks of 32 positions j whose pair bytes (j, j + d) all lie in the text; *at: where it stopped */
__attribute__((target("avx2")))
static int search_avx2(const CaseFree *cf, const uint8_t *s, Py_ssize_t n, Py_ssize_t *at) {
    switch (cf->npairs) {
    case 1: return avx2_pairs(cf, s, n, at, 1);
    case 2: return avx2_pairs(cf, s, n, at, 2);
    case 3: return avx2_pairs(cf, s, n, at, 3);
    case 4: return avx2_pairs(cf, s, n, at, 4);
    case 5: return avx2_pairs(cf, s, n, at, 5);
    case 6: return avx2_pairs(cf, s, n, at, 6);
    default: return cf->npairs > 12 ? avx2_many(cf, s, n, at) : avx2_pairs(cf, s, n, at, cf->npairs);
    }
}
#endif

static int casefree_search(const CaseFree *cf, const uint8_t *s, Py_ssize_t n) {
    if (cf->n == 0 || n < cf->shortest)
        return 0;
    Py_ssize_t j = 0;
#ifdef GATE_X86
    if (cf->npairs <= MAX_SIMD_PAIRS) {
        int avx2 = have_avx2 && n >= 32 + (Py_ssize_t)cf->maxd;
        Py_ssize_t w = avx2 ? 32 : 16;
        if (n >= w + (Py_ssize_t)cf->maxd) {
            if (avx2 ? search_avx2(cf, s, n, &j) : search_sse2(cf, s, n, &j))
                return 1;
            if (j < n - (Py_ssize_t)cf->maxd) {  /* the rest: one more block, overlapping the last */
                j = n - w - (Py_ssize_t)cf->maxd;
                if (avx2 ? search_avx2(cf, s, n, &j) : search_sse2(cf, s, n, &j))
                    return 1;
            }
        }
    }
#endif
    return search_tail(cf, s, n, j);  /* the last maxd positions (a pair's second byte may fit) */
}

static PyObject *casefree_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kw) {
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 1 || (kw != NULL && PyTuple_GET_SIZE(kw))
            || !(PyUnicode_Check(args[0]) || PyBytes_CheckExact(args[0]))) {
        PyErr_SetString(PyExc_TypeError, "CaseFree gate(raw: str | bytes) -> bool");
        return NULL;
    }
    PyObject *raw = args[0];
    if (PyBytes_CheckExact(raw)) {  /* bytes as they are, A-Z folded: whether a needle is in them */
        if (casefree_search((const CaseFree *)self, (const uint8_t *)PyBytes_AS_STRING(raw),
                            PyBytes_GET_SIZE(raw)))
            Py_RETURN_TRUE;
        Py_RETURN_FALSE;
    }
    if (PyUnicode_READY(raw) < 0)
        return NULL;
    if (PyUnicode_KIND(raw) != PyUnicode_1BYTE_KIND)
        Py_RETURN_TRUE;
    if (casefree_search((const CaseFree *)self, PyUnicode_1BYTE_DATA(raw), PyUnicode_GET_LENGTH(raw)))
        Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

static void casefree_dealloc(CaseFree *self) {
    PyMem_Free(self->needles);
    PyMem_Free(self->pairs);
    PyMem_Free(self->store);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* CaseFree(items): each (needle: ASCII str, i, j), i < j the indexes of its pair; the items
   sharing a pair (bytes with 0x20 ORed in, distance) next to one another make one pair */
static PyObject *casefree_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *items;
    if (kwds != NULL && PyDict_GET_SIZE(kwds)) {
        PyErr_SetString(PyExc_TypeError, "CaseFree(items) takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O!:CaseFree", &PyList_Type, &items))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(items), total = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *it = PyList_GET_ITEM(items, k);
        if (!PyTuple_Check(it) || PyTuple_GET_SIZE(it) != 3 || !PyUnicode_Check(PyTuple_GET_ITEM(it, 0))
                || !PyUnicode_IS_ASCII(PyTuple_GET_ITEM(it, 0))) {
            PyErr_SetString(PyExc_TypeError, "CaseFree: items are (ASCII needle, i, j)");
            return NULL;
        }
        total += PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(it, 0));
    }
    CaseFree *self = (CaseFree *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->vectorcall = casefree_vectorcall;
    self->needles = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Needle));
    self->pairs = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Pair));
    self->store = PyMem_Malloc((size_t)(total ? total : 1));
    if (self->needles == NULL || self->pairs == NULL || self->store == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->shortest = PY_SSIZE_T_MAX;
    uint8_t *at = self->store;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *it = PyList_GET_ITEM(items, k), *s = PyTuple_GET_ITEM(it, 0);
        Py_ssize_t len = PyUnicode_GET_LENGTH(s);
        Py_ssize_t i = PyLong_AsSsize_t(PyTuple_GET_ITEM(it, 1)), j = PyLong_AsSsize_t(PyTuple_GET_ITEM(it, 2));
        if ((i == -1 || j == -1) && PyErr_Occurred()) {
            Py_DECREF(self);
            return NULL;
        }
        if (len < 2 || len > 0xFFFF || i < 0 || j <= i || j >= len) {
            Py_DECREF(self);
            PyErr_SetString(PyExc_ValueError, "CaseFree: needles of 2 to 65535 characters, 0 <= i < j < len");
            return NULL;
        }
        memcpy(at, PyUnicode_1BYTE_DATA(s), (size_t)len);
        Needle *nd = &self->needles[k];
        nd->text = at;
        nd->len = (uint16_t)len;
        nd->p1 = (uint16_t)i;
        uint8_t b1 = (uint8_t)(at[i] | 0x20), b2 = (uint8_t)(at[j] | 0x20);
        uint16_t d = (uint16_t)(j - i);
        Pair *last = self->npairs ? &self->pairs[self->npairs - 1] : NULL;
        if (last != NULL && last->b1 == b1 && last->b2 == b2 && last->d == d) {
            last->count++;
        } else {
            Pair *pr = &self->pairs[self->npairs++];
            pr->b1 = b1;
            pr->b2 = b2;
            pr->d = d;
            pr->first = k;
            pr->count = 1;
        }
        if (d > self->maxd)
            self->maxd = d;
        at += len;
        self->n = k + 1;
        if (len < self->shortest)
            self->shortest = len;
    }
    return (PyObject *)self;
}

static PyTypeObject CaseFreeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nocsoc.detections._gatefast.CaseFree",
    .tp_basicsize = sizeof(CaseFree),
    .tp_dealloc = (destructor)casefree_dealloc,
    .tp_vectorcall_offset = offsetof(CaseFree, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "CaseFree([(needle, i, j), ...])(raw) -> whether a needle may be in raw.lower() (see the module).",
    .tp_new = casefree_new,
};

static PyObject *use_avx2(PyObject *self, PyObject *arg) {
    int on = PyObject_IsTrue(arg);
    if (on < 0)
        return NULL;
    int was = have_avx2;
#ifdef GATE_X86
    have_avx2 = on && __builtin_cpu_supports("avx2");
#endif
    return PyBool_FromLong(was);
}

static PyMethodDef methods[] = {
    {"use_avx2", use_avx2, METH_O,
     "use_avx2(on) -> bool: CaseFree's AVX2 blocks on (where the CPU has them) or off (SSE2 only;\n"
     "for the tests, which check both); returns the previous setting."},
    {"scan_fields", (PyCFunction)(void (*)(void))scan_fields, METH_FASTCALL,
     "scan_fields(spec, fields, lo) -> list | None: Engine.process's field gates (see the module)."},
    {"new_group", (PyCFunction)(void (*)(void))new_group, METH_FASTCALL,
     "new_group(groups, name, event, t, max_groups) -> None | False: a correlation group's first\n"
     "event held as the event (see the module)."},
    {"pop_idle", (PyCFunction)(void (*)(void))pop_idle, METH_FASTCALL,
     "pop_idle(groups, cutoff, window_type) -> int: idle one-event correlation groups freed\n"
     "(see the module)."},
    {"firsts", (PyCFunction)(void (*)(void))firsts, METH_FASTCALL,
     "firsts(fields, groups) -> tuple of str: per tuple of field names, the first value that is\n"
     "neither None, '' nor '-', as str, else '' (see the module)."},
    {"raw_lower_bytes", raw_lower_bytes, METH_O,
     "raw_lower_bytes(event) -> bytes: the raw line's Latin-1 bytes lowered, as\n"
     "engine._raw_lower_bytes gives them (see the module)."},
    {"dispatch", (PyCFunction)(void (*)(void))dispatch, METH_FASTCALL,
     "dispatch(spec, event, on_error) -> list | None: the rules of Route.spec that match the event\n"
     "(see the module)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_gatefast", "The engine's per-event gates in C (see nocsoc/detections/engine.py).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__gatefast(void) {
#ifdef GATE_X86
    have_avx2 = __builtin_cpu_supports("avx2");
#endif
    if (PyType_Ready(&CaseFreeType) < 0 || PyType_Ready(&RoutesType) < 0)
        return NULL;
    if ((s_get = PyUnicode_InternFromString("get")) == NULL
            || (s_fields = PyUnicode_InternFromString("fields")) == NULL
            || (s_low = PyUnicode_InternFromString("_low")) == NULL
            || (s_raw = PyUnicode_InternFromString("raw")) == NULL
            || (s_time = PyUnicode_InternFromString("time")) == NULL
            || (s_lower = PyUnicode_InternFromString("lower")) == NULL
            || (s_popitem = PyUnicode_InternFromString("popitem")) == NULL
            || (s_move_to_end = PyUnicode_InternFromString("move_to_end")) == NULL
            || (s_empty = PyUnicode_InternFromString("")) == NULL
            || (s_dash = PyUnicode_InternFromString("-")) == NULL
            || (s_raw_lower = PyUnicode_InternFromString("raw_lower")) == NULL
            || (s_route_key = PyUnicode_InternFromString("route_key")) == NULL
            || (s_spec = PyUnicode_InternFromString("spec")) == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    if (PyModule_AddType(m, &CaseFreeType) < 0 || PyModule_AddType(m, &RoutesType) < 0 || PyModule_AddIntConstant(m, "AVX2", have_avx2) < 0
            || PyModule_AddIntConstant(m, "MAX_PAIRS", MAX_SIMD_PAIRS) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
