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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

static PyObject *scan_fields(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyTuple_Check(args[0]) || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "scan_fields(spec: tuple, fields, lo: dict)");
        return NULL;
    }
    PyObject *spec = args[0], *fields = args[1], *lo = args[2], *out = NULL;
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
                || (some = PyObject_IsTrue(slots)) < 0 || (some && extend(&out, slots) < 0)) {
            Py_DECREF(seen);
            goto error;
        }
        Py_DECREF(seen);
    }
    if (out == NULL)
        Py_RETURN_NONE;
    return out;
error:
    Py_XDECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"scan_fields", (PyCFunction)(void (*)(void))scan_fields, METH_FASTCALL,
     "scan_fields(spec, fields, lo) -> list | None: Engine.process's field gates (see the module)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_gatefast", "The engine's per-event gates in C (see nocsoc/detections/engine.py).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__gatefast(void) {
    if ((s_get = PyUnicode_InternFromString("get")) == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    return m;
}
