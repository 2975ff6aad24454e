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
/* _logfast.c: the value of kv_pairs' pair s[v0:v1] (a quoted one unquoted), a new str or NULL */
PyObject *kv_value(const char *s, Py_ssize_t v0, Py_ssize_t v1);

/* re's \w, \s (for ASCII: what str.isspace() says) and kv_pairs' key characters [\w.-], and a key's
 * first character [A-Za-z_], as bits of one table (the walks below test every character of a
 * line: a load and a test instead of a chain of comparisons) */
enum { KC_WORD = 1, KC_SPACE = 2, KC_KEY = 4, KC_START = 8, KC_COMMA = 16 };
#define KC_W_ (KC_WORD | KC_KEY)
#define KC_A_ (KC_WORD | KC_KEY | KC_START)
static const unsigned char KV_CLASS[256] = {
    ['\t'] = KC_SPACE, ['\n'] = KC_SPACE, ['\v'] = KC_SPACE, ['\f'] = KC_SPACE, ['\r'] = KC_SPACE,
    [0x1c] = KC_SPACE, [0x1d] = KC_SPACE, [0x1e] = KC_SPACE, [0x1f] = KC_SPACE, [' '] = KC_SPACE,
    [','] = KC_COMMA, ['.'] = KC_KEY, ['-'] = KC_KEY, ['_'] = KC_A_,
    ['0'] = KC_W_, ['1'] = KC_W_, ['2'] = KC_W_, ['3'] = KC_W_, ['4'] = KC_W_, ['5'] = KC_W_, ['6'] = KC_W_,
    ['7'] = KC_W_, ['8'] = KC_W_, ['9'] = KC_W_,
    ['a'] = KC_A_, ['b'] = KC_A_, ['c'] = KC_A_, ['d'] = KC_A_, ['e'] = KC_A_, ['f'] = KC_A_, ['g'] = KC_A_,
    ['h'] = KC_A_, ['i'] = KC_A_, ['j'] = KC_A_, ['k'] = KC_A_, ['l'] = KC_A_, ['m'] = KC_A_, ['n'] = KC_A_,
    ['o'] = KC_A_, ['p'] = KC_A_, ['q'] = KC_A_, ['r'] = KC_A_, ['s'] = KC_A_, ['t'] = KC_A_, ['u'] = KC_A_,
    ['v'] = KC_A_, ['w'] = KC_A_, ['x'] = KC_A_, ['y'] = KC_A_, ['z'] = KC_A_,
    ['A'] = KC_A_, ['B'] = KC_A_, ['C'] = KC_A_, ['D'] = KC_A_, ['E'] = KC_A_, ['F'] = KC_A_, ['G'] = KC_A_,
    ['H'] = KC_A_, ['I'] = KC_A_, ['J'] = KC_A_, ['K'] = KC_A_, ['L'] = KC_A_, ['M'] = KC_A_, ['N'] = KC_A_,
    ['O'] = KC_A_, ['P'] = KC_A_, ['Q'] = KC_A_, ['R'] = KC_A_, ['S'] = KC_A_, ['T'] = KC_A_, ['U'] = KC_A_,
    ['V'] = KC_A_, ['W'] = KC_A_, ['X'] = KC_A_, ['Y'] = KC_A_, ['Z'] = KC_A_,
};
#undef KC_W_
#undef KC_A_
static inline int is_word(unsigned char c) { return KV_CLASS[c] & KC_WORD; }
static inline int is_space(unsigned char c) { return KV_CLASS[c] & KC_SPACE; }
static inline int is_key_char(unsigned char c) { return KV_CLASS[c] & KC_KEY; }

/* kv_pairs' walk (base._KV / _KV_COMMA's findall on ASCII s[0:n]): the next pair from *i, its key
 * s[*k0:*k1] and raw value s[*v0:*v1] (quotes kept), *i moved past it; 0 when there is none.
 * Shared so FortiGate's splitter (which maps each key as it goes) walks exactly as kv_pairs. */
static inline int kv_next(const char *s, Py_ssize_t n, int comma, Py_ssize_t *i, Py_ssize_t *k0, Py_ssize_t *k1,
                          Py_ssize_t *v0, Py_ssize_t *v1) {
    Py_ssize_t at = *i;
    while (at < n) {
        /* a key starts with [A-Za-z_] where no [\w.-] precedes it */
        if (!(KV_CLASS[(unsigned char)s[at]] & KC_START) || (at > 0 && is_key_char((unsigned char)s[at - 1]))) {
            at++;
            continue;
        }
        Py_ssize_t j = at + 1;
        while (j < n && is_key_char((unsigned char)s[j])) j++; /* possessive: never gives back */
        if (j >= n || s[j] != '=') {
            at++;
            continue;
        }
        Py_ssize_t a = j + 1, b = -1;
        if (a < n && s[a] == '"') { /* "(?:[^"\\]|\\.)*+" */
            Py_ssize_t p = a + 1;
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
            if (p < n && s[p] == '"') b = p + 1;
        }
        if (b < 0) { /* \S* (or [^\s,]*) */
            const unsigned char stop = comma ? KC_SPACE | KC_COMMA : KC_SPACE;
            Py_ssize_t p = a;
            while (p < n && !(KV_CLASS[(unsigned char)s[p]] & stop)) p++;
            b = p;
        }
        *k0 = at, *k1 = j, *v0 = a, *v1 = b, *i = b;
        return 1;
    }
    *i = at;
    return 0;
}

/* _logfast.c: out[key] = val, consuming both references (val NULL: its error set); 0 or -1 */
int set_pair(PyObject *out, PyObject *key, PyObject *val);
/* every character of ASCII s[0:n] printable (0x20-0x7e), eight at a time (_logfast_fw.c) */
int fw_printable(const char *s, Py_ssize_t n);

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
PyObject *fw_filterlog_setup(PyObject *self, PyObject *addr);
PyObject *fw_sophos_line(PyObject *self, PyObject *msg);
PyObject *fw_checkpoint_kv(PyObject *self, PyObject *text);
PyObject *fw_checkpoint_cef(PyObject *self, PyObject *args);
PyObject *fw_checkpoint_fw1(PyObject *self, PyObject *text);
PyObject *fw_fortigate_cef(PyObject *self, PyObject *args);
/* fw_fortigate_cef (head: signature, name) and fw_checkpoint_cef (head: product, signature, name)
 * of cef_ext_core(s, n) in one walk; Py_NotImplemented: take that path */
PyObject *fw_fortigate_cef_span(const char *s, Py_ssize_t n, PyObject *const *head);
PyObject *fw_checkpoint_cef_span(const char *s, Py_ssize_t n, PyObject *const *head);
PyObject *fw_asa_setup(PyObject *self, PyObject *args);
PyObject *fw_asa_line(PyObject *self, PyObject *msg);
#include "_logfast_asa.h" /* (rx_search) */

/* An empty fields dict with room for about `n` entries: what PyDict_New() gives, without the
 * rehash to a larger table when a parser's sixth field goes in (one per line: ~1k instructions
 * of a 15-field line). */
static inline PyObject *fields_dict(Py_ssize_t n) {
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030E0000
    return _PyDict_NewPresized(n);
#else
    return PyDict_New();
#endif
}

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
    {"filterlog_setup", fw_filterlog_setup, METH_O,                                                     \
     "filterlog_setup(addr): pf._addr, which filterlog_body calls for an IPv6 address."},               \
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
    {"rx_search", (PyCFunction)(void (*)(void))asa_rx_search_py, METH_FASTCALL,                          \
     "rx_search(prog, text) -> groups | None | False: rxprog's program searched in C (tests)."},        \
    {"fortigate_line", fw_fortigate_line, METH_O,                                                       \
     "fortigate_line(msg) -> tuple | False | None: parse_fortigate's reading of a key=value line as "  \
     "(fields, services, categories, time, host); False: not FortiGate's (parse_fortigate gives "     \
     "None); None: Python reads it."},

#endif
