/*
 * _logfast: the log parsers' key=value splitter, in C.
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

/* The value of a quoted match `"..."` (s points at the opening quote, n its length >= 2):
 * the quotes dropped and every `\"` turned into `"` (Python: v[1:-1].replace('\\"', '"')). */
static PyObject *unquote(const char *s, Py_ssize_t n) {
    const char *in = s + 1;
    Py_ssize_t m = n - 2, out = 0;
    int escapes = 0;
    for (Py_ssize_t i = 0; i + 1 < m; i++) {
        if (in[i] == '\\' && in[i + 1] == '"') {
            escapes = 1;
            break;
        }
    }
    if (!escapes) return PyUnicode_FromStringAndSize(in, m);
    char *buf = PyMem_Malloc(m > 0 ? (size_t)m : 1);
    if (buf == NULL) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < m; i++) {
        /* str.replace scans left to right without overlap: `\"` -> `"` */
        if (in[i] == '\\' && i + 1 < m && in[i + 1] == '"') {
            buf[out++] = '"';
            i++;
        } else {
            buf[out++] = in[i];
        }
    }
    PyObject *r = PyUnicode_FromStringAndSize(buf, out);
    PyMem_Free(buf);
    return r;
}

static PyObject *kv_pairs(PyObject *self, PyObject *args) {
    PyObject *text;
    int comma;
    if (!PyArg_ParseTuple(args, "Up:kv_pairs", &text, &comma)) return NULL;
    if (!PyUnicode_IS_ASCII(text)) Py_RETURN_NONE;
    const char *s = (const char *)PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *out = PyDict_New();
    if (out == NULL) return NULL;
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
        if (val == NULL) {
            Py_DECREF(key);
            goto fail;
        }
        int rc = PyDict_SetItem(out, key, val);
        Py_DECREF(key);
        Py_DECREF(val);
        if (rc < 0) goto fail;
        i = v1;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"kv_pairs", kv_pairs, METH_VARARGS,
     "kv_pairs(text, comma) -> dict | None: base.kv_pairs (comma: kv_pairs_comma) for ASCII text; "
     "None for any other text (the caller runs the regex)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_logfast", "Log parsing helpers in C.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__logfast(void) { return PyModule_Create(&module); }
