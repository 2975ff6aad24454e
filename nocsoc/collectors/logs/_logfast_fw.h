/*
 * What _logfast.c and _logfast_fw.c (the firewall parsers' C twins) share: a few helpers of
 * _logfast.c the twins call, and the twins' entries in the module's method table.
 */
#ifndef NOCSOC_LOGFAST_FW_H
#define NOCSOC_LOGFAST_FW_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* _logfast.c: s[a:b] of ASCII text as a str; base.kv_pairs / kv_pairs_comma (args: text, comma) */
PyObject *ascii_sub(const char *s, Py_ssize_t a, Py_ssize_t b);
PyObject *kv_pairs(PyObject *self, PyObject *args);
/* _logfast.c: out[key] = val, consuming both references (val NULL: its error set); 0 or -1 */
int set_pair(PyObject *out, PyObject *key, PyObject *val);

/* A new dict with room for `n` items, so the pairs a line is split into (tens, on firewall
 * lines) are inserted without the 8 -> 16 -> 32 -> 64 resizes of a PyDict_New() dict (each one
 * rehashing every key and freeing the old table: ~10% of a 40-pair line's split). `n` is an
 * upper bound counted cheaply (the line's `=`), capped so a line of `=` cannot ask for much; a
 * smaller dict is PyDict_New()'s. The dict is the same one (keys, values, order): only its table
 * is sized at once. */
static inline PyObject *dict_sized(Py_ssize_t n) {
    return n > 5 ? _PyDict_NewPresized(n < 256 ? n : 256) : PyDict_New();
}

/* how many `c` in s[0:n] (an upper bound of the pairs a splitter finds: one `=` each) */
static inline Py_ssize_t count_char(const char *s, Py_ssize_t n, char c) {
    Py_ssize_t k = 0;
    for (const char *p = s, *end = s + n; (p = memchr(p, c, (size_t)(end - p))) != NULL; p++) k++;
    return k;
}

/* _logfast_fw.c */
PyObject *fw_paloalto_setup(PyObject *self, PyObject *args);
PyObject *fw_paloalto_line(PyObject *self, PyObject *msg);
PyObject *fw_paloalto_cef(PyObject *self, PyObject *args);
PyObject *fw_paloalto_json(PyObject *self, PyObject *obj);
/* fw_paloalto_cef of cef_ext_core(s, n) in one walk; Py_NotImplemented: take that path */
PyObject *fw_paloalto_cef_span(const char *s, Py_ssize_t n, PyObject *signature, PyObject *name);
PyObject *fw_fortigate_line(PyObject *self, PyObject *msg);
PyObject *fw_cef_extension_wide(PyObject *self, PyObject *text);
PyObject *fw_fortigate_setup(PyObject *self, PyObject *cef_std);
PyObject *fw_checkpoint_setup(PyObject *self, PyObject *args);
PyObject *fw_sophos_setup(PyObject *self, PyObject *args);
PyObject *fw_filterlog_body(PyObject *self, PyObject *msg);
PyObject *fw_sophos_line(PyObject *self, PyObject *msg);
PyObject *fw_checkpoint_kv(PyObject *self, PyObject *text);
PyObject *fw_checkpoint_cef(PyObject *self, PyObject *args);
PyObject *fw_checkpoint_fw1(PyObject *self, PyObject *text);
PyObject *fw_fortigate_cef(PyObject *self, PyObject *args);
PyObject *fw_asa_setup(PyObject *self, PyObject *args);
PyObject *fw_asa_line(PyObject *self, PyObject *msg);

#define LOGFAST_FW_METHODS                                                                              \
    {"paloalto_setup", fw_paloalto_setup, METH_VARARGS,                                                 \
     "paloalto_setup(types, by_type, int_fields, blocking, iana, cef_map, json_map): paloalto.py's "  \
     "tables, read once."},                                                                             \
    {"paloalto_cef", fw_paloalto_cef, METH_VARARGS,                                                     \
     "paloalto_cef(ext, signature, name) -> tuple | None: _cef's fields after parse_cef, as "           \
     "paloalto_line gives them."},                                                                      \
    {"paloalto_json", fw_paloalto_json, METH_O,                                                         \
     "paloalto_json(obj) -> tuple | None: _json's fields of a decoded document, as paloalto_line "     \
     "gives them."},                                                                                    \
    {"paloalto_line", fw_paloalto_line, METH_O,                                                         \
     "paloalto_line(msg) -> tuple | None: parse_paloalto's reading of a PAN-OS CSV line as (fields, "  \
     "services, categories), or (kind, subtype, fields, False) for _finish to end; None: Python "       \
     "reads it."},                                                                                      \
    {"cef_extension_wide", fw_cef_extension_wide, METH_O,                                               \
     "cef_extension_wide(text) -> dict: base.cef_extension for any str (cef_extension: ASCII only)."},  \
    {"filterlog_body", fw_filterlog_body, METH_O,                                                       \
     "filterlog_body(msg) -> (fields, services, categories) | False | None: parse_filterlog's reading; " \
     "False: parse_filterlog gives None; None: Python reads it."},                                     \
    {"sophos_setup", fw_sophos_setup, METH_VARARGS,                                                     \
     "sophos_setup(keys, ints, blocking): sophos.py's tables, read once."},                              \
    {"sophos_line", fw_sophos_line, METH_O,                                                             \
     "sophos_line(msg) -> (fields, services, categories) | False | None: parse_sophos's reading; "     \
     "False: parse_sophos gives None; None: Python reads it."},                                         \
    {"checkpoint_setup", fw_checkpoint_setup, METH_VARARGS,                                             \
     "checkpoint_setup(kv_map, cef_map, ints, blocking, fw_actions, iana): checkpoint.py's tables."},   \
    {"checkpoint_kv", fw_checkpoint_kv, METH_O,                                                         \
     "checkpoint_kv(text) -> (fields, services, categories) | None: _syslog_kv's reading."},          \
    {"checkpoint_cef", fw_checkpoint_cef, METH_VARARGS,                                                 \
     "checkpoint_cef(ext, product, signature, name) -> tuple | None: _cef's reading after parse_cef."}, \
    {"checkpoint_fw1", fw_checkpoint_fw1, METH_O,                                                       \
     "checkpoint_fw1(text) -> tuple | None: _fw1_export's reading of the quoted fw1 export."},           \
    {"fortigate_setup", fw_fortigate_setup, METH_O,                                                     \
     "fortigate_setup(cef_std): fortigate._CEF_STD, read once."},                                       \
    {"fortigate_cef", fw_fortigate_cef, METH_VARARGS,                                                   \
     "fortigate_cef(ext, signature, name) -> tuple | None: parse_fortigate's reading of a CEF line "   \
     "after parse_cef, as fortigate_line gives it."},                                                   \
    {"asa_setup", fw_asa_setup, METH_VARARGS,                                                          \
     "asa_setup(by_id, group, vpn, ftd_ids, ftd_map, outcome_ids, success_words, iana, assigned_nat, "  \
     "subject_user): cisco_asa.py's patterns, tables and helpers, read once."},                        \
    {"asa_line", fw_asa_line, METH_O,                                                                   \
     "asa_line(msg) -> (fields, services, categories) | False | None: parse_asa's reading; False: "    \
     "parse_asa gives None; None: Python reads it."},                                                   \
    {"fortigate_line", fw_fortigate_line, METH_O,                                                       \
     "fortigate_line(msg) -> tuple | False | None: parse_fortigate's reading of a key=value line as "  \
     "(fields, services, categories, time, host); False: not FortiGate's (parse_fortigate gives "     \
     "None); None: Python reads it."},

#endif
