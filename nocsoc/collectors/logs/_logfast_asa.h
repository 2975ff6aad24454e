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

#endif
