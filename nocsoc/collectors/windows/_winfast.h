/* Shared by _winfast.c (the record JSON scanner) and _winfields.c (Fields, the flat fields of
   one record as a mapping whose string values are built when first read). */
#ifndef NOCSOC_WINFAST_H
#define NOCSOC_WINFAST_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* A JSON string's contents (escapes validated by the scanner) as a str; the text is UTF-8, or
   (`latin1`) a 1-byte-kind str's own code units. New reference. */
PyObject *wf_make_string(const unsigned char *s, Py_ssize_t n, int esc, int ascii, int latin1);
/* The same for a short ASCII value without escapes, shared through the value cache. */
PyObject *wf_cached_value(const unsigned char *s, Py_ssize_t n);
#define WF_VCACHE_MAXLEN 40

/* One field: its key (bit 0 set while the value is a string not built yet, `u.s` then its span
   in the text: offset, and length with the flags below), else `u.v` its value. */
typedef struct {
    uintptr_t k;
    union {
        PyObject *v;
        struct { uint32_t off, len; } s;
    } u;
} WfEnt;
#define WF_LAZY ((uintptr_t)1)
#define WF_ESC (1u << 31)
#define WF_ASCII (1u << 30)
#define WF_LEN ((1u << 30) - 1)
#define WF_KEY(e) ((PyObject *)((e)->k & ~WF_LAZY))

extern PyTypeObject WfFields_Type;
/* A Fields of `n` entries (their references stolen), reading lazy values from `base` (the
   text's 1-byte data or its UTF-8, kept alive by `text`). New reference. */
PyObject *wf_fields_new(PyObject *text, const unsigned char *base, int latin1, const WfEnt *ents,
                        int n, const Py_hash_t *hashes);
/* fields[key] (built if lazy), borrowed; NULL without an error when absent, with one on failure. */
PyObject *wf_fields_get(PyObject *f, PyObject *key);
/* The fields as a real dict, made once (every later read and write goes to it); borrowed. */
PyObject *wf_fields_dict(PyObject *f);

/* What _evtxfast reads through the capsule `_winfast._API`. */
typedef struct {
    PyTypeObject *type;
    PyObject *(*get)(PyObject *f, PyObject *key);
    PyObject *(*dict)(PyObject *f);
    PyObject *(*fields_new)(PyObject *text, const unsigned char *base, int latin1, const WfEnt *ents,
                            int n, const Py_hash_t *hashes);
} WfApi;
#endif
