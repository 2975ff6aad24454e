/*
 * _logfast_lx.h: the Linux-auth and Junos twins (_logfast_lx.c) and the dispatch plan the C
 * reader follows to reach them (see _logfast_lx.c for why and what they claim).
 */
#ifndef NOCSOC_LOGFAST_LX_H
#define NOCSOC_LOGFAST_LX_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* a marker table: its non-empty ASCII words (a tuple), indexed by first character */
typedef struct {
    PyObject *words;      /* tuple of str, or NULL */
    unsigned short start[257], *idx;
} lx_words;

/* What the reader may read of a header line whose body no body twin read: the program's parsers
 * (`programs`: app -> tuple of entry codes whose refusals are repeated here, or None), then PAM's
 * twin where it leads the shape dispatch, else the generic fallback where no shape test passes. */
typedef struct {
    PyObject *programs;                     /* dict, or NULL: the plan is off */
    lx_words pam_ahead, pam_prefixes, pam_own, pam_own_prefixes;
    lx_words all_markers, all_prefixes;
    int pam, generic, junos;
    PyObject *cache_app, *cache_svc, *cache_key, *gen_app, *gen_svc, *gen_key; /* last app's services */
} lx_plan;

/* the entry codes of `programs` */
enum { LX_SSHD = 1, LX_JUNOS = 2 };

int lx_plan_init(lx_plan *p, PyObject *cfg);
void lx_plan_clear(lx_plan *p);
/* The event parts (fields, parser, product, services, categories, route_key) of the body s[off:n]
 * of `line` (printable ASCII) under program s[a0:a1], as LineParser._body gives them; None where
 * Python decides; NULL on an error. */
PyObject *lx_read(lx_plan *p, PyObject *line, const char *s, Py_ssize_t off, Py_ssize_t n, Py_ssize_t a0,
                  Py_ssize_t a1);

/* module functions (twin tests): pam_body(msg, app), junos_body(msg, app) -> (fields, services,
 * categories) | None (Python decides) | False (junos: the parser refuses) */
PyObject *lx_pam_body(PyObject *self, PyObject *args);
PyObject *lx_junos_body(PyObject *self, PyObject *args);
/* module constants: LX_PATTERNS (the regex texts the walks repeat), JUNOS_SD_FIELDS, LX_PROTOS */
int lx_module_init(PyObject *mod);

#endif
