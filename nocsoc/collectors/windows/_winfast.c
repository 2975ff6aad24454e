/*
 * _winfast: an EVTX record's decoded JSON -> the flat Sigma fields, in C.
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
#define PY_SSIZE_T_CLEAN
#include <Python.h>

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

static PyMethodDef methods[] = {
    {"flatten_record", (PyCFunction)(void (*)(void))flatten_record, METH_FASTCALL,
     "flatten_record(doc, attrs_by_element) -> dict | None: fields.flatten_record for the "
     "documents it covers (see the file's comment); None for any other (run the reference)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_winfast", "EVTX record mapping in C.", -1,
                                    methods, NULL, NULL, NULL, NULL};

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
    return PyModule_Create(&module);
}
