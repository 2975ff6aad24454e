/*
 * _logfast_asa.c's matcher (rxprog.py's programs: a compiled `re` pattern walked as sre walks it,
 * for printable ASCII text), shared with _logfast_fw.c's Cisco ASA reading.
 */
#ifndef NOCSOC_LOGFAST_ASA_H
#define NOCSOC_LOGFAST_ASA_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* the most groups a program may have (slots: 2 per group and 2 for the whole match) */
#define ASA_RX_MAX_GROUPS 40

/* whether the bytes object `prog` is a well-formed program (every operand and target in range):
 * 1 yes, 0 no (with a ValueError set) */
int asa_rx_valid(PyObject *prog);

/* re.search of the (valid) program on t[0:n]: 1 with slots[2g], slots[2g+1] the span of group g
 * (-1 when it took no part), 0 no match, -1 when the walk gave up (too many steps: the caller asks
 * `re`). `slots` holds 2 * (ASA_RX_MAX_GROUPS + 1) entries. */
int asa_rx_search(PyObject *prog, const char *t, Py_ssize_t n, Py_ssize_t *slots);

/* _logfast.rx_search(prog, text) -> groups tuple | None | False: the match's groups() for a
 * printable ASCII text (None: no match; False: the walk gave up or the text is not printable
 * ASCII). For tests/collectors/logs/test_rxprog.py. */
PyObject *asa_rx_search_py(PyObject *self, PyObject *const *args, Py_ssize_t nargs);

/* --- FTD `Key: value` names (asa_line's reading of 430001-430005) ------------------------------
 * A key's field name and kind by its bytes, from a table filled by asa_keys_reset (cisco_asa's
 * _FTD_MAP) and, for the keys the map does not name, `ftd.<Key>` names kept as they are met (up
 * to a bound). Why: the reading made a str of every key to look it up in two dicts, then
 * compared the name with four numeric ones: ~1.5k instructions a pair, ~25 pairs a line. */
enum { ASA_KEY_STR, ASA_KEY_NUM, ASA_KEY_PROTO, ASA_KEY_OTHER };
/* map: {key: field name} (str -> str); numeric: the names whose values are read as digits;
 * proto: the key read as the protocol when the map does not name it. 0, or -1 with an error. */
int asa_keys_reset(PyObject *map, PyObject *numeric, const char *proto);
/* the kind of key k[0:kn] with *name its field name (a new reference); -1 on an error */
int asa_keys_get(const char *k, Py_ssize_t kn, PyObject **name);
#endif
